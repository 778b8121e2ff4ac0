"""`tf.compat.v1.estimator.inputs.numpy_input_fn`: an input_fn over NumPy arrays."""

import numpy as np


def numpy_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000,
                   num_threads=1):
    """Returns an input_fn that yields batches of `(x, y)` (or of `x` alone).

    Args:
      x: A dict of NumPy arrays (same first dimension), or one array.
      y: Labels: an array, a dict of arrays, or None.
      batch_size: Rows per batch.
      num_epochs: Passes over the data; None repeats forever.
      shuffle: Whether to shuffle each epoch (required, as in TF).
      queue_capacity: The size of the shuffle buffer.
      num_threads: Kept for compatibility (reading is in-process).

    >>> import numpy as np
    >>> import numpyflow as tf
    >>> fn = tf.compat.v1.estimator.inputs.numpy_input_fn(
    ...     {"a": np.arange(5.)}, np.arange(5), batch_size=2, shuffle=False)
    >>> [labels.numpy().tolist() for _, labels in fn()]
    [[0, 1], [2, 3], [4]]
    """
    if not isinstance(shuffle, bool):
        raise ValueError(f"shuffle must be provided and explicitly set as boolean (it is "
                         f"recommended to set it as True for training); got {shuffle}")
    if batch_size is None or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    if num_epochs is not None and num_epochs <= 0:
        raise ValueError(f"num_epochs must be positive or None; got {num_epochs}.")
    features = dict(x) if isinstance(x, dict) else np.asarray(x)
    if isinstance(features, dict):
        if not features:
            raise ValueError("x cannot be an empty dict.")
        if isinstance(y, dict) and set(y) & set(features):
            raise ValueError(f"{sorted(set(y) & set(features))} duplicate keys are found in "
                             f"both x and y: {sorted(features)}, {sorted(y)}")
    arrays = list(features.values()) if isinstance(features, dict) else [features]
    if y is not None:
        arrays += list(y.values()) if isinstance(y, dict) else [y]
    lengths = {len(np.asarray(a, dtype=object) if not hasattr(a, "__len__") else a)
               for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"numpy_input_fn: x and y must have the same first dimension; "
                         f"received lengths {sorted(lengths)}.")

    def input_fn():
        from numpyflow import data
        element = (features, y) if y is not None else features
        dataset = data.Dataset.from_tensor_slices(element)
        if shuffle:
            dataset = dataset.shuffle(queue_capacity)
        dataset = dataset.repeat(num_epochs)
        return dataset.batch(batch_size)

    return input_fn
