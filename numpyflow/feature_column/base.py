"""The column base classes, the per-call feature cache and the sparse-ids value.

A feature column describes how one raw feature (or several) of a features dict becomes
model input. Two kinds exist, as in TF:

  * `DenseColumn`: gives a float Tensor `[batch, num_elements]` (`get_dense_tensor`).
  * `CategoricalColumn`: gives integer ids in `[0, num_buckets)`, any number per example
    (`get_sparse_ids` → `SparseIds`), for an indicator, an embedding or a linear model.

The ids are plain NumPy bookkeeping (no gradient flows through an id); what is learned
(embedding tables, linear weights) is combined from them with numpyflow ops.
"""

import numpy as np

import numpyflow as tf
from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor


STRING = dtypes.string


def is_string_dtype(dtype):
    return dtype is STRING or getattr(dtype, "name", dtype) == "string"


class FeatureColumn:
    """Base class of every feature column. `name` identifies it (and orders DenseFeatures)."""

    @property
    def name(self):
        raise NotImplementedError

    @property
    def parents(self):
        """The columns (or raw feature keys) this column is computed from."""
        return []

    def _transform(self, cache):
        """The column's value for the features in `cache` (computed once per call)."""
        raise NotImplementedError

    def _make_state(self, add_weight):
        """Creates the column's variables with `add_weight(name, shape, initializer,
        trainable)`; returns a dict of them (empty for stateless columns)."""
        return {}

    def __repr__(self):
        fields = ", ".join(f"{k}={_repr(v)}" for k, v in self._fields())
        return f"{type(self).__name__}({fields})"

    def _fields(self):
        """(name, value) pairs of the constructor arguments, for repr and get_config."""
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and _comparable(self._fields()) == _comparable(
            other._fields())

    def __hash__(self):
        return hash((type(self).__name__, self.name))


def _repr(value):
    if isinstance(value, tf.DType):
        return f"tf.{value.name}"
    return repr(value)


def _comparable(fields):
    return [(k, v if not callable(v) or isinstance(v, FeatureColumn) else id(v))
            for k, v in fields]


class DenseColumn(FeatureColumn):
    """A column whose value is a float Tensor `[batch, num_elements]`."""

    @property
    def variable_shape(self):
        """The shape of one example's value (without the batch dimension)."""
        raise NotImplementedError

    @property
    def num_elements(self):
        return int(np.prod(self.variable_shape))

    def get_dense_tensor(self, cache, state):
        """The float32 Tensor `[batch, num_elements]` for the features in `cache`."""
        raise NotImplementedError


class CategoricalColumn(FeatureColumn):
    """A column whose value is integer ids in `[0, num_buckets)`, any number per example."""

    @property
    def num_buckets(self):
        raise NotImplementedError

    def get_sparse_ids(self, cache):
        """The `SparseIds` of the features in `cache`."""
        return cache.get(self)


class SparseIds:
    """Ids of a batch, several per example: TF's `IdWeightPair` of SparseTensors.

    Attributes:
      rows: int64 array `[n]`, the example (batch row) of each id.
      ids: int64 array `[n]`; negative ids mean "no id" and are dropped by every consumer
        (TF's `-1` for a missing value or a vocabulary miss without OOV buckets).
      weights: float32 array `[n]` or None (one per id; `weighted_categorical_column`).
      batch_size: Number of examples.
      positions: int64 array `[n]` or None: where each id's value was among all the
        feature's values (so a weights feature of the same shape lines up).
    """

    def __init__(self, rows, ids, batch_size, weights=None, positions=None):
        self.rows = np.asarray(rows, np.int64)
        self.ids = np.asarray(ids, np.int64)
        self.batch_size = int(batch_size)
        self.weights = None if weights is None else np.asarray(weights, np.float32)
        self.positions = positions

    def valid(self):
        """The ids TF's safe lookups keep: ids >= 0 and, when weighted, weights > 0."""
        keep = self.ids >= 0
        if self.weights is not None:
            keep &= self.weights > 0
        return SparseIds(self.rows[keep], self.ids[keep], self.batch_size,
                         None if self.weights is None else self.weights[keep])

    def padded(self, combiner):
        """The ids laid out `[batch, max ids per example]` with their combining scales:
        `sum` the weights, `mean` weights / the example's sum of weights, `sqrtn` weights /
        sqrt(the example's sum of squared weights). Padding has id 0 and scale 0, so an
        example without ids combines to zeros."""
        n = self.ids.size
        weights = np.ones(n, np.float32) if self.weights is None else self.weights
        if combiner == "sum":
            scale = weights
        elif combiner in ("mean", "sqrtn"):
            per_id = weights if combiner == "mean" else weights * weights
            totals = np.bincount(self.rows, per_id, minlength=self.batch_size)
            totals = totals if combiner == "mean" else np.sqrt(totals)
            scale = (weights / totals[self.rows]).astype(np.float32) if n else weights
        else:
            raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum'. "
                             f"Received: combiner={combiner!r}")
        order = np.argsort(self.rows, kind="stable")
        rows = self.rows[order]
        slot = np.arange(n) - np.searchsorted(rows, rows, side="left")  # Rank within its row.
        width = int(slot.max()) + 1 if n else 0
        ids = np.zeros((self.batch_size, width), np.int64)
        scales = np.zeros((self.batch_size, width), np.float32)
        ids[rows, slot] = self.ids[order]
        scales[rows, slot] = scale[order]
        return ids, scales

    def counts(self, depth):
        """The float32 `[batch, depth]` sum of one-hot vectors (weights when weighted);
        ids outside `[0, depth)` add nothing (TF's `one_hot` of -1)."""
        out = np.zeros((self.batch_size, depth), np.float32)
        keep = (self.ids >= 0) & (self.ids < depth)
        weights = np.ones(self.ids.size, np.float32) if self.weights is None else self.weights
        np.add.at(out, (self.rows[keep], self.ids[keep]), weights[keep])
        return out


def lookup_combined(table, sparse_ids, combiner, max_norm=None):
    """Embedding lookup of `sparse_ids` in `table` (a Variable `[num_buckets, dim]`),
    combined per example: `[batch, dim]`, differentiable in `table`. Examples without
    valid ids give zeros (TF's `safe_embedding_lookup_sparse`). With `max_norm`, each
    looked-up vector is first scaled to an L2 norm of at most `max_norm`."""
    ids, scales = sparse_ids.valid().padded(combiner)
    vectors = tf.gather(table, tf.constant(ids))                         # [batch, k, dim]
    if max_norm is not None:
        # max_norm / max(norm, max_norm), with the square root kept away from 0 (where
        # its gradient is infinite: zero vectors, padding).
        squares = tf.reduce_sum(tf.square(vectors), axis=-1, keepdims=True)
        vectors = vectors * (max_norm / tf.sqrt(tf.maximum(squares, max_norm * max_norm)))
    scales = tf.constant(scales[:, :, None], dtype=table.dtype)
    return tf.reduce_sum(vectors * scales, axis=1)


class FeatureCache:
    """The features dict of one call, and each column's value computed from it once
    (TF's `FeatureTransformationCache`).

    Args:
      features: dict mapping feature keys to Tensors, NumPy arrays or lists.
    """

    def __init__(self, features):
        if not isinstance(features, dict):
            raise ValueError(f"We expected a dictionary here. Instead we got: "
                             f"{type(features).__name__}")
        self._features = features
        self._values = {}

    def _value(self, key):
        if key not in self._features:
            raise ValueError(f"Feature {key} is not in features dictionary. "
                             f"Received features: {sorted(map(str, self._features))}")
        return self._features[key]

    def raw(self, key):
        """The raw dense feature `key` as a NumPy array of rank >= 1 (strings as bytes)."""
        value = self._value(key)
        if is_sparse(value):
            raise ValueError(f"Feature {key}: a sparse value (SparseTensor) is not "
                             f"supported here; give a dense [batch, ...] value.")
        return as_array(value, key)

    def raw_tensor(self, key):
        """The raw feature `key` as given, converted to a Tensor (numeric features)."""
        value = self._value(key)
        if isinstance(value, Tensor):
            return value
        if is_sparse(value):
            raise ValueError(f"The corresponding Tensor of numerical column must be a Tensor. "
                             f"SparseTensor is not supported. key: {key}")
        array = as_array(value, key)
        if array.dtype == object:
            raise TypeError(f"Feature {key}: expected numbers, but got strings "
                            f"(e.g. {array.ravel()[:1].tolist()}).")
        return tf.convert_to_tensor(array)

    def entries(self, key, drop_missing=True):
        """(rows, values, positions, batch) of categorical feature `key`.

        A dense `[batch]` or `[batch, k]` value gives its values row by row, TF's missing
        markers (b'' for strings, -1 for integers) dropped when `drop_missing`; a sparse
        value (the `SparseTensor` of a `tf.io.VarLenFeature`) gives its values as they
        are. `positions` index the values kept among all the feature's values.
        """
        value = self._value(key)
        if is_sparse(value):
            indices = np.asarray(_numpy(value.indices), np.int64).reshape(-1, 2)
            values = as_array(_numpy(value.values), key).reshape(-1)
            batch = int(np.asarray(_numpy(value.dense_shape))[0])
            return indices[:, 0], values, np.arange(values.size, dtype=np.int64), batch
        array = as_array(value, key)
        batch = array.shape[0]
        values = array.reshape(batch, int(np.prod(array.shape[1:])))  # (0, -1) fails
        rows = np.repeat(np.arange(batch, dtype=np.int64), values.shape[1])
        values = values.ravel()
        positions = np.arange(values.size, dtype=np.int64)
        if drop_missing:
            if values.dtype == object:
                keep = np.array([v != b"" for v in values], dtype=bool)
            else:
                keep = values != -1
            rows, values, positions = rows[keep], values[keep], positions[keep]
        return rows, values, positions, batch

    def get(self, column):
        """The value of `column` (its `_transform`), computed at most once per cache."""
        key = id(column)
        if key not in self._values:
            self._values[key] = (column, column._transform(self))
        return self._values[key][1]


def as_array(value, key):
    """`value` as a NumPy array of rank >= 1; str/bytes become an object array of bytes."""
    if isinstance(value, Tensor) or hasattr(value, "numpy"):
        array = np.asarray(value.numpy())
    elif isinstance(value, (str, bytes)):
        array = np.asarray([value], dtype=object)
    else:
        array = np.asarray(value)
    if array.dtype.kind in "USO":
        flat = [_to_bytes(v, key) for v in array.ravel()]
        array = np.array(flat + [None], dtype=object)[:-1].reshape(array.shape)
    if array.ndim == 0:
        array = array.reshape(1)
    return array


def _to_bytes(value, key):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value)
    raise TypeError(f"Feature {key}: expected strings, but got a {type(value).__name__} "
                    f"({value!r}) among its values.")


def integer_values(array):
    """`array` as int64 if it holds integers, or floats that are all whole numbers (Keras
    models cast integer inputs to their float dtype; ids survive that up to 2**24). None
    for strings and fractional floats."""
    if array.dtype.kind in "iub":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        return array.astype(np.int64)
    return None


def is_sparse(value):
    """Whether `value` is sparse: TF's SparseTensor fields (indices, values, dense_shape)."""
    return all(hasattr(value, field) for field in ("indices", "values", "dense_shape"))


def _numpy(value):
    return value.numpy() if hasattr(value, "numpy") else value


def check_key(key):
    if not isinstance(key, str):
        raise ValueError(f"key must be a string. Got: type {type(key)}. Given key: {key}.")
    return key
