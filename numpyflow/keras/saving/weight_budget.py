"""A bound on the weights a model built from a file may create.

Building a model from a config allocates every weight the config declares (`Dense(units=
10**9)` asks for gigabytes) before the weights file is read. A file's config can claim
anything, so while `load_model` builds a model it sets a budget: the weights file's size,
plus a little. A weight is a dense array stored in full in that file, so a legitimate
config never needs more; a hostile one is refused before the allocation.

    >>> import numpyflow as tf
    >>> with weight_budget(1000, "model.keras"):
    ...     tf.keras.layers.Dense(10**6).build((None, 10**3))
    Traceback (most recent call last):
    ...
    ValueError: model.keras: layer 'dense' declares a weight 'kernel' of shape (1000, 1000000) (4000000000 bytes), more than the weights the file holds (1000 bytes left); refusing to allocate it.
"""

import contextlib
import math
import threading

# Slack over the weights file's size: layer state that is not in the file (none in Keras 3's
# formats, but a margin costs nothing).
SLACK_BYTES = 16 * 2**20

_state = threading.local()


@contextlib.contextmanager
def weight_budget(max_bytes, source):
    """Within this block (in this thread), layers may create weights of at most `max_bytes`
    in total; `source` names the file in the error."""
    previous = getattr(_state, "budget", None)
    _state.budget = [int(max_bytes), source]
    try:
        yield
    finally:
        _state.budget = previous


def charge(layer_name, weight_name, shape, dtype):
    """Counts a new weight against the active budget, if any; raises ValueError past it."""
    budget = getattr(_state, "budget", None)
    if budget is None:
        return
    nbytes = math.prod(int(d) for d in shape) * dtype.size
    if nbytes > budget[0]:
        raise ValueError(f"{budget[1]}: layer '{layer_name}' declares a weight "
                         f"'{weight_name}' of shape {tuple(shape)} ({nbytes} bytes), more than "
                         f"the weights the file holds ({budget[0]} bytes left); refusing to "
                         f"allocate it.")
    budget[0] -= nbytes
