"""How tensors read as text in `tf.print`, `tf.strings.format` and assertion messages.

TF prints values without NumPy's padding: `[1 2 3]`, floats with the fewest digits that
round-trip at their precision (`0.333333343`), booleans as 1/0, strings in double quotes,
and only the first and last `summarize` items of each long dimension (`-1`: all).

    >>> import numpy as np
    >>> summary(np.arange(10), 3)
    '[0 1 2 ... 7 8 9]'
"""

from numpyflow.backend import host


def scalar_text(value):
    """One element as TF writes it."""
    if isinstance(value, bytes):
        return '"' + value.decode("utf-8", "replace") + '"'
    if isinstance(value, (bool, host.bool_)):
        return "1" if value else "0"
    if isinstance(value, host.floating):
        digits = 6 if value.dtype.itemsize <= 4 else 15
        text = f"{value:.{digits}g}"
        if type(value)(text) != value:  # Six (fifteen) digits do not round-trip: use more.
            text = f"{value:.{digits + 3}g}"
        return text
    return str(value)


def summary(array, summarize=3, indent=0):
    """`array` (a NumPy array) as TF prints it, eliding long dimensions to `summarize`
    items at each end."""
    if array.ndim == 0:
        return scalar_text(array[()])
    count = array.shape[0]
    if 0 <= summarize and count > 2 * summarize:
        indices = list(range(summarize)) + [None] + list(range(count - summarize, count))
    else:
        indices = list(range(count))
    parts = ["..." if i is None else summary(array[i, ...], summarize, indent + 1)
             for i in indices]
    joiner = " " if array.ndim == 1 else "\n" + " " * (indent + 1)
    return "[" + joiner.join(parts) + "]"
