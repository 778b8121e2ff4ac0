"""Turning fit/evaluate/predict arguments into arrays and batches.

This is non-differentiable bookkeeping, so it works on NumPy arrays directly; batches
become Tensors when the model is called on them.
"""

import math

import numpy as np

import numpyflow as tf


def to_array(data, argument):
    """NumPy view of `x`/`y` (arrays, Tensors, nested lists); None stays None."""
    if data is None:
        return None
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (dict,)) or (isinstance(data, (list, tuple)) and data and
                                      isinstance(data[0], (np.ndarray, tf.Tensor))):
        raise NotImplementedError(f"`{argument}`: models with several inputs or outputs are not "
                                  f"supported yet; pass a single array.")
    if hasattr(data, "__next__") or type(data).__name__ == "Dataset":
        raise NotImplementedError(f"`{argument}`: datasets and generators are not supported yet; "
                                  f"pass NumPy arrays or Tensors.")
    array = np.asarray(data)
    if array.dtype == object:
        raise ValueError(f"`{argument}` could not be converted to a numeric array; received "
                         f"{type(data).__name__}.")
    return array


def check_cardinality(x, y):
    """Raises ValueError, as Keras, when x and y hold different numbers of samples."""
    if y is not None and len(x) != len(y):
        raise ValueError(f"Data cardinality is ambiguous:\n  x sizes: {len(x)}\n  y sizes: "
                         f"{len(y)}\nMake sure all arrays contain the same number of samples.")


def labelled_arrays(x, y, method):
    """`x` and `y` as arrays of the same length, for fit/evaluate."""
    x, y = to_array(x, "x"), to_array(y, "y")
    if x is None or y is None:
        raise ValueError(f"{method}() needs both `x` and `y`.")
    check_cardinality(x, y)
    return x, y


def check_batch_size(batch_size):
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer; received "
                         f"batch_size={batch_size!r}.")
    return int(batch_size)


def split_validation(x, y, validation_split):
    """The last `validation_split` fraction of the data, before shuffling, as Keras takes it."""
    if not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be in [0, 1); received "
                         f"validation_split={validation_split}.")
    split_at = int(len(x) * (1. - validation_split))
    if split_at == 0 or split_at == len(x):
        raise ValueError(f"Training data has {len(x)} samples, too few to set aside "
                         f"validation_split={validation_split}.")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def unpack_validation_data(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"val_sample_weight); received {type(validation_data).__name__}.")
    if len(validation_data) == 3 and validation_data[2] is not None:
        raise NotImplementedError("Validation sample weights are not supported yet.")
    x_val = to_array(validation_data[0], "validation_data[0]")
    y_val = to_array(validation_data[1], "validation_data[1]")
    check_cardinality(x_val, y_val)
    return x_val, y_val


def batch_slices(num_samples, batch_size, shuffle):
    """Index arrays (or slices) selecting each batch of one epoch, in order."""
    steps = math.ceil(num_samples / batch_size)
    if not shuffle:
        return [slice(i * batch_size, (i + 1) * batch_size) for i in range(steps)]
    if shuffle == "batch":
        order = tf.random.shuffle(tf.range(steps)).numpy()
        return [slice(i * batch_size, (i + 1) * batch_size) for i in order]
    # Sorted within a batch: gathering rows in increasing order is cache-friendlier.
    permutation = tf.random.shuffle(tf.range(num_samples)).numpy()
    return [np.sort(permutation[i * batch_size:(i + 1) * batch_size]) for i in range(steps)]
