"""`ArrayDataAdapter`: batches of in-memory arrays (NumPy arrays, Tensors, nested lists)."""

import math

import numpy as np

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras.trainers.data_adapters import data_adapter_utils


class ArrayDataAdapter:
    """Cuts `(x, y)` (each an array, a list/tuple or a dict of arrays) into batches.

    Args:
      x: The inputs; converted to NumPy arrays leaf by leaf.
      y: The targets, or None (predict).
      sample_weight: Weights of each sample's loss: an array of shape (N,) (or (N, T) for
        losses per time step), or one per output like `y`. Batches then hold it third.
      class_weight: A dict class index -> weight, turned into sample weights from `y`'s
        labels (integer labels or one-hot), as Keras does; one output only.
      batch_size: Samples per batch. None: 32, or as many as `steps` batches need.
      steps: Batches per epoch wanted by the caller (only used to choose the batch size).
      shuffle: True to draw a new order of the samples each epoch, "batch" to shuffle
        the order of the batches only, False to keep the order.
      shuffle_seed: Optional int: the orders come from a NumPy generator of this seed
        instead of `tf.random` (replicas of `tf.distribute` agree on one this way).

    >>> import numpy as np
    >>> adapter = ArrayDataAdapter(np.zeros((5, 2)), np.ones(5), batch_size=2)
    >>> [tuple(len(part) for part in batch) for batch in adapter.get_numpy_iterator()]
    [(2, 2), (2, 2), (1, 1)]
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None,
                 shuffle=False, class_weight=None, shuffle_seed=None):
        x = data_adapter_utils.to_arrays(x, "x")
        y = data_adapter_utils.to_arrays(y, "y")
        sample_weight = data_adapter_utils.to_arrays(sample_weight, "sample_weight")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same "
                                 "time.")
            if y is None:
                raise ValueError("`class_weight` weighs samples by their label, but no `y` "
                                 "was given.")
            data_adapter_utils.check_class_weight(class_weight, y)
            sample_weight = data_adapter_utils.class_weight_to_sample_weights(y, class_weight)
        if sample_weight is not None and y is None:
            raise ValueError("`sample_weight` weighs each sample's loss, but no `y` was given.")
        # As Keras packs them: `(x,)` without targets, `(x, y)` with, `(x, y, sample_weight)`.
        if y is None:
            self._data = (x,)
        elif sample_weight is None:
            self._data = (x, y)
        else:
            self._data = (x, y, sample_weight)
        self._num_samples = data_adapter_utils.check_data_cardinality(self._data)
        batch_size = data_adapter_utils.check_batch_size(batch_size)
        if batch_size is None:
            batch_size = math.ceil(self._num_samples / steps) if steps else 32
        self._batch_size = max(batch_size, 1)
        self._num_batches = math.ceil(self._num_samples / self._batch_size)
        self._shuffle = shuffle
        self._rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        self._take = _batch_taker(self._data)

    @property
    def num_batches(self):
        return self._num_batches

    @property
    def num_samples(self):
        return self._num_samples

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def has_partial_batch(self):
        return self._num_samples % self._batch_size > 0

    @property
    def partial_batch_size(self):
        return self._num_samples % self._batch_size or None

    def get_numpy_iterator(self):
        """One epoch of batches, each a tuple `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

        Called once per pass over the data (each epoch, unless `steps_per_epoch` spreads
        a pass over several); with `shuffle`, each call draws a new order.
        """
        return map(self._take, self._batch_indices())

    def _batch_indices(self):
        """Index arrays (or slices) selecting each batch of one epoch, in order."""
        batch_size, steps = self._batch_size, self._num_batches
        if not self._shuffle:
            if steps == 1:
                return (slice(None),)
            return [slice(i * batch_size, (i + 1) * batch_size) for i in range(steps)]
        if self._shuffle == "batch":
            order = (self._rng.permutation(steps) if self._rng is not None
                     else tf.random.shuffle(tf.range(steps)).numpy())
            return [slice(i * batch_size, (i + 1) * batch_size) for i in order]
        # Sorted within a batch: gathering rows in increasing order is cache-friendlier.
        permutation = (self._rng.permutation(self._num_samples) if self._rng is not None
                       else tf.random.shuffle(tf.range(self._num_samples)).numpy())
        # The full batches sorted in one call (one np.sort per batch costs ~2 us of Python).
        full = self._num_samples // batch_size
        batches = list(np.sort(permutation[:full * batch_size].reshape(full, batch_size), axis=1))
        if full < steps:
            batches.append(np.sort(permutation[full * batch_size:]))
        return batches


def _batch_taker(data):
    """A function from a batch index to the batch: plain indexing for the common cases.

    The one-, two- and three-array cases skip the generic structure walk: fit runs this on every
    step, and it must not add to the per-step cost of small models. Rows picked by an index
    array are gathered with `take` (the same rows as `array[index]`, ~10% faster for small
    batches); slices stay views.
    """
    if len(data) == 1 and type(data[0]) is np.ndarray:
        x, = data
        return lambda index: (x[index] if type(index) is slice else x.take(index, 0),)
    if len(data) == 2 and type(data[0]) is np.ndarray and type(data[1]) is np.ndarray:
        x, y = data
        return lambda index: ((x[index], y[index]) if type(index) is slice
                              else (x.take(index, 0), y.take(index, 0)))
    if len(data) == 3 and all(type(part) is np.ndarray for part in data):
        x, y, sample_weight = data
        return lambda index: ((x[index], y[index], sample_weight[index]) if type(index) is slice
                              else (x.take(index, 0), y.take(index, 0),
                                    sample_weight.take(index, 0)))
    return lambda index: nest.map_structure(lambda array: array[index], data)
