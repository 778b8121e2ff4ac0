"""`DatasetAdapter`: batches from a `tf.data.Dataset`, as `fit(dataset)` takes them.

A dataset given to fit/evaluate/predict is already batched, as in Keras: each element is
one batch, `(x, y)`, `(x, y, sample_weight)`, or `x` alone (for predict; `(x,)` and
`(x, y)` work there too, the targets being ignored). The dataset is iterated anew each
epoch, so a `shuffle(reshuffle_each_iteration=True)` in it reshuffles each epoch.
"""

import numpy as np

from numpyflow.keras.trainers.data_adapters import data_adapter_utils


class DatasetAdapter:
    """Yields the batches of a `tf.data.Dataset`.

    Args:
      dataset: The dataset; its elements are batches.
      class_weight: Optional dict class index -> weight, turned into each batch's sample
        weights from its labels (as Keras does).

    >>> import numpy as np, numpyflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices((np.zeros((5, 2)), np.ones(5))).batch(2)
    >>> adapter = DatasetAdapter(ds)
    >>> adapter.num_batches, [len(batch[0]) for batch in adapter.get_numpy_iterator()]
    (3, [2, 2, 1])
    """

    def __init__(self, dataset, class_weight=None):
        self._dataset = dataset
        self._class_weight = class_weight
        cardinality = int(dataset.cardinality())
        # Negative cardinalities are TF's INFINITE (-1) and UNKNOWN (-2).
        self.num_batches = cardinality if cardinality >= 0 else None
        self.num_samples = 0 if cardinality == 0 else None  # Unknown until iterated.

    def get_numpy_iterator(self):
        for element in self._dataset:
            batch = element if isinstance(element, tuple) else (element,)
            if self._class_weight is not None:
                if len(batch) != 2:
                    raise ValueError("`class_weight` needs dataset elements `(x, y)`, without "
                                     "sample weights of their own.")
                x, y = batch
                weights = data_adapter_utils.class_weight_to_sample_weights(
                    np.asarray(y), self._class_weight)
                batch = (x, y, weights)
            yield batch


def reject_arguments_given_with_a_dataset(y=None, sample_weight=None, batch_size=None):
    """Keras's errors for arguments a dataset carries itself."""
    for name, value, what in (("y", y, "the targets should be included in the dataset"),
                              ("sample_weight", sample_weight,
                               "the sample weights should be included in the dataset"),
                              ("batch_size", batch_size,
                               "the batch size is set by the dataset's own `batch()`")):
        if value is not None:
            raise ValueError(f"When providing `x` as a tf.data.Dataset, `{name}` should not be "
                             f"passed: {what}. Received: {name}={_short(value)}")


def _short(value):
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
