"""`numeric_column` and `bucketized_column`."""

import numpy as np

import numpyflow as tf
from numpyflow.feature_column.base import (
    CategoricalColumn, DenseColumn, SparseIds, check_key)
from numpyflow.framework.tensor import Tensor


class NumericColumn(DenseColumn):
    """A real-valued feature; made by `numeric_column`."""

    def __init__(self, key, shape, default_value, dtype, normalizer_fn):
        self.key = key
        self.shape = shape
        self.default_value = default_value
        self.dtype = dtype
        self.normalizer_fn = normalizer_fn

    def _fields(self):
        return [("key", self.key), ("shape", self.shape), ("default_value", self.default_value),
                ("dtype", self.dtype), ("normalizer_fn", self.normalizer_fn)]

    @property
    def name(self):
        return self.key

    @property
    def parents(self):
        return [self.key]

    @property
    def variable_shape(self):
        return self.shape

    def _transform(self, cache):
        """The feature as float32 `[batch, *shape]`, normalized by `normalizer_fn`."""
        value = cache.raw_tensor(self.key)
        if not (value.dtype.is_floating or value.dtype.is_integer or value.dtype.is_bool):
            raise ValueError(f"numeric_column '{self.key}': the feature must be numeric, "
                             f"but its dtype is {value.dtype.name}.")
        if value.shape.rank == 1:
            value = tf.expand_dims(value, -1)
        batch = value.shape[0]
        got = int(np.prod(value.shape[1:]))
        if got != self.num_elements:
            raise ValueError(
                f"numeric_column '{self.key}': each example must have {self.num_elements} "
                f"value(s) (shape={self.shape}), but the feature has shape "
                f"{tuple(value.shape)}.")
        value = tf.reshape(tf.cast(value, tf.float32), (batch,) + self.shape)
        if self.normalizer_fn is not None:
            value = self.normalizer_fn(value)
        return value

    def get_dense_tensor(self, cache, state):
        value = cache.get(self)
        return tf.reshape(value, (value.shape[0], self.num_elements))


def numeric_column(key, shape=(1,), default_value=None, dtype=tf.float32, normalizer_fn=None):
    """A column for real-valued (or integer) features.

    Args:
      key: The feature's key in the features dict; also the column's name.
      shape: The shape of one example's value (an int or a tuple of positive ints).
      default_value: Used by TF when parsing examples with missing values; kept in the
        column's config (numpyflow features are dicts of arrays: nothing is missing).
      dtype: The feature's dtype (float or integer); values are given to the model as
        float32, as in TF.
      normalizer_fn: Optional function applied to the float32 value (e.g. `lambda x:
        (x - 3.) / 4.2`); use numpyflow ops.

    Returns:
      A `NumericColumn`.

    Example:
    >>> import numpyflow as tf
    >>> price = tf.feature_column.numeric_column("price")
    >>> tf.keras.layers.DenseFeatures([price])({"price": [[1.], [5.]]}).numpy()
    array([[1.],
           [5.]], dtype=float32)
    """
    key = check_key(key)
    shape = _check_shape(shape, key)
    dtype = tf.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype!r}, key: {key}")
    if default_value is not None:
        default_value = _check_default(default_value, shape, dtype, key)
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return NumericColumn(key, shape, default_value, dtype, normalizer_fn)


def _check_shape(shape, key):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    for dim in shape:
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"shape dimensions must be integer. shape: {shape}, key: {key}")
        if dim < 1:
            raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, "
                             f"key: {key}")
    return tuple(int(d) for d in shape)


def _check_default(default_value, shape, dtype, key):
    try:
        array = np.asarray(default_value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or (dtype.is_integer and np.any(array != np.round(array))):
        raise TypeError(f"default_value must be compatible with dtype. default_value: "
                        f"{default_value}, dtype: {dtype!r}, key: {key}")
    if array.ndim == 0:
        return default_value
    if array.shape != shape and array.size != int(np.prod(shape)):
        raise ValueError(f"The shape of default_value must be equal to given shape. "
                         f"default_value: {default_value}, shape: {shape}, key: {key}")
    return tuple(array.ravel().astype(dtype._np).tolist())


class BucketizedColumn(DenseColumn, CategoricalColumn):
    """A numeric feature split into ranges; made by `bucketized_column`."""

    def __init__(self, source_column, boundaries):
        self.source_column = source_column
        self.boundaries = boundaries

    def _fields(self):
        return [("source_column", self.source_column), ("boundaries", self.boundaries)]

    @property
    def name(self):
        return f"{self.source_column.name}_bucketized"

    @property
    def parents(self):
        return [self.source_column]

    @property
    def variable_shape(self):
        return self.source_column.shape + (len(self.boundaries) + 1,)

    @property
    def num_buckets(self):
        return self.source_column.num_elements * (len(self.boundaries) + 1)

    def _transform(self, cache):
        """int64 bucket indices `[batch, source elements]`."""
        value = cache.get(self.source_column)
        array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        array = array.reshape(array.shape[0], self.source_column.num_elements).astype(np.float32)
        # Bucket i holds boundaries[i-1] <= x < boundaries[i] (TF's Bucketize).
        return np.searchsorted(np.asarray(self.boundaries, np.float32), array,
                               side="right").astype(np.int64)

    def get_dense_tensor(self, cache, state):
        buckets = cache.get(self)
        one_hot = tf.one_hot(tf.constant(buckets), len(self.boundaries) + 1, dtype=tf.float32)
        return tf.reshape(one_hot, (buckets.shape[0], self.num_buckets))

    def get_sparse_ids(self, cache):
        buckets = cache.get(self)
        batch, elements = buckets.shape
        offsets = np.arange(elements, dtype=np.int64) * (len(self.boundaries) + 1)
        rows = np.repeat(np.arange(batch, dtype=np.int64), elements)
        return SparseIds(rows, (buckets + offsets).ravel(), batch)


def bucketized_column(source_column, boundaries):
    """Splits a numeric column into buckets by `boundaries`.

    Bucket `i` holds values in `[boundaries[i-1], boundaries[i])`: with `boundaries=[0.,
    10.]` the buckets are `(-inf, 0)`, `[0, 10)`, `[10, inf)`. As a dense column it is
    the one-hot bucket (per element of the source); as a categorical column the bucket
    ids (`num_buckets = source elements * (len(boundaries) + 1)`).

    Args:
      source_column: A `numeric_column`.
      boundaries: A sorted list (or tuple) of floats, strictly increasing.

    Returns:
      A `BucketizedColumn`.

    Example:
    >>> import numpyflow as tf
    >>> age = tf.feature_column.numeric_column("age")
    >>> ages = tf.feature_column.bucketized_column(age, [18., 65.])
    >>> tf.keras.layers.DenseFeatures([ages])({"age": [[10.], [30.]]}).numpy()
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    if not isinstance(source_column, NumericColumn):
        raise ValueError(f"source_column must be a column generated with numeric_column(). "
                         f"Given: {source_column}")
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. "
                         f"Given: {source_column}")
    if not boundaries:
        raise ValueError("boundaries must not be empty.")
    if not isinstance(boundaries, (list, tuple)) or any(
            boundaries[i] >= boundaries[i + 1] for i in range(len(boundaries) - 1)):
        raise ValueError(f"boundaries must be a sorted list. Received: "
                         f"boundaries={boundaries!r}")
    return BucketizedColumn(source_column, tuple(float(b) for b in boundaries))
