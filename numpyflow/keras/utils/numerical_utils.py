"""Numerical helpers from `tf.keras.utils`."""

import numpy as np


def _as_class_indices(x):
    """Converts `x` to an int64 array, rejecting non-integral values."""
    values = np.asarray(x)
    if values.dtype == object:
        raise ValueError(
            "to_categorical expects integer class indices; received an array "
            f"of Python objects: {values!r}."
        )
    if np.issubdtype(values.dtype, np.floating):
        # Labels often arrive as floats (e.g. 3.0); Keras silently truncates
        # 2.7 to 2, which hides bugs, so only exact integers are accepted.
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            bad = values[~np.isfinite(values) | (values != np.round(values))]
            raise ValueError(
                "to_categorical expects integer class indices; received "
                f"non-integer values such as {bad.flat[0]!r}."
            )
    elif not (np.issubdtype(values.dtype, np.integer) or values.dtype == bool):
        raise ValueError(
            "to_categorical expects integer class indices; received dtype "
            f"{values.dtype}."
        )
    return values.astype(np.int64)


def to_categorical(x, num_classes=None, dtype="float32"):
    """Converts a class vector (integers) to a one-hot (binary) class matrix.

    Args:
        x: Class indices from 0 to `num_classes - 1`: a list, an array, a
            tensor or anything `np.asarray` accepts. A trailing axis of size 1
            (a column of labels, shape `(..., 1)`) is dropped, as in Keras.
        num_classes: Total number of classes. `None` means `max(x) + 1`.
        dtype: Dtype of the result; Keras' tf2 default `"float32"`.

    Returns:
        A NumPy array of shape `x.shape + (num_classes,)` (after dropping a
        trailing size-1 axis) with a single 1 per row.

    Raises:
        ValueError: A label is negative, not an integer, or not below
            `num_classes`, or `num_classes` is not a positive integer.

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    labels = _as_class_indices(x)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)

    if labels.size and labels.min() < 0:
        raise ValueError(
            "to_categorical expects class indices >= 0; received "
            f"{int(labels.min())}."
        )
    if num_classes is None:
        if labels.size == 0:
            raise ValueError(
                "to_categorical cannot infer num_classes from empty input; "
                "pass num_classes."
            )
        num_classes = int(labels.max()) + 1
    elif isinstance(num_classes, (bool, np.bool_)) or not isinstance(
        num_classes, (int, np.integer)
    ) or num_classes < 1:
        raise ValueError(
            "num_classes must be a positive integer; received "
            f"num_classes={num_classes!r}."
        )
    num_classes = int(num_classes)
    if labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"to_categorical received class index {int(labels.max())}, but "
            f"num_classes={num_classes} allows only 0..{num_classes - 1}."
        )

    one_hot = np.zeros((labels.size, num_classes), dtype=dtype)
    one_hot[np.arange(labels.size), labels] = 1
    return one_hot.reshape(shape + (num_classes,))
