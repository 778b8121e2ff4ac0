"""Data adapters: what turns the `x`/`y` given to fit/evaluate/predict into batches.

`get_data_adapter` picks the adapter for the kind of data; each adapter yields one epoch
of batches from `get_numpy_iterator()` and says how many batches it holds (`num_batches`,
None when unknown): arrays, and `tf.data` datasets; generators would plug in here as a
further adapter.
"""

import numpy as np

from numpyflow.keras.trainers.data_adapters import data_adapter_utils, dataset_adapter
from numpyflow.keras.trainers.data_adapters.array_data_adapter import ArrayDataAdapter


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                     shuffle=False, class_weight=None, shuffle_seed=None):
    """The adapter that batches `x` (and `y`) for one kind of data."""
    if type(x) is not np.ndarray and data_adapter_utils.is_tf_dataset(x):
        # `shuffle` does not apply: a dataset shuffles itself (Keras ignores it too).
        dataset_adapter.reject_arguments_given_with_a_dataset(y, sample_weight, batch_size)
        return dataset_adapter.DatasetAdapter(x, class_weight=class_weight)
    if type(x) is not np.ndarray and data_adapter_utils.is_dataset_like(x):
        raise NotImplementedError("`x`: datasets and generators are not supported yet; pass "
                                  "NumPy arrays or Tensors.")
    return ArrayDataAdapter(x, y, sample_weight=sample_weight, batch_size=batch_size,
                            steps=steps_per_epoch, shuffle=shuffle, class_weight=class_weight,
                            shuffle_seed=shuffle_seed)
