"""Categorical columns of one raw feature: identity, vocabulary (list or file), hash
bucket, and `weighted_categorical_column`.

Dense inputs `[batch]` or `[batch, k]` give up to `k` ids per example (sparse inputs, from
`tf.io.parse_example`, one per value). As in TF, the dense missing-value markers `b''`
(strings) and `-1` (integers) give no id, and a vocabulary miss without OOV buckets maps
to `default_value` (-1 unless set): no id either — a zero indicator, skipped by embeddings
and linear models. numpyflow logs a warning the first time a column sees such a miss, so
it does not go unnoticed.
"""

import logging
import os

import numpy as np

import numpyflow as tf
from numpyflow.feature_column import hashing
from numpyflow.feature_column.base import (
    STRING, CategoricalColumn, SparseIds, check_key, integer_values, is_string_dtype)

_log = logging.getLogger("numpyflow")


def _input_values(cache, key, dtype):
    """(rows, values, positions, batch) of feature `key` (see `FeatureCache.entries`),
    checked against the column's `dtype` (tf.string or an integer dtype)."""
    rows, values, positions, batch = cache.entries(key)
    is_string = values.dtype == object
    if not is_string:
        integers = integer_values(values)
        if integers is None:
            raise ValueError(f"column_name: {key} input_tensor dtype must be string or "
                             f"integer. dtype: {tf.as_dtype(values.dtype).name}.")
        values = integers
    if is_string != is_string_dtype(dtype):
        got = "string" if is_string else tf.as_dtype(cache.entries(key)[1].dtype).name
        raise ValueError(f"Column dtype and SparseTensors dtype must be compatible. key: {key}, "
                         f"column dtype: {dtype.name}, tensor dtype: {got}")
    return rows, values, positions, batch


class _SingleKeyColumn(CategoricalColumn):
    """A categorical column computed from the one raw feature `key`."""

    @property
    def name(self):
        return self.key

    @property
    def parents(self):
        return [self.key]

    def _transform(self, cache):
        rows, values, positions, batch = _input_values(cache, self.key, self._input_dtype)
        return SparseIds(rows, self._ids(values), batch, positions=positions)


class IdentityCategoricalColumn(_SingleKeyColumn):
    """Integer features that are their own ids; made by `categorical_column_with_identity`."""

    def __init__(self, key, number_buckets, default_value):
        self.key = key
        self.number_buckets = number_buckets
        self.default_value = default_value

    def _fields(self):
        return [("key", self.key), ("number_buckets", self.number_buckets),
                ("default_value", self.default_value)]

    @property
    def num_buckets(self):
        return self.number_buckets

    @property
    def _input_dtype(self):
        return tf.int64

    def _transform(self, cache):
        values = cache.entries(self.key)[1]
        if values.dtype == object or integer_values(values) is None:
            got = "string" if values.dtype == object else tf.as_dtype(values.dtype).name
            raise ValueError(f"Invalid input, not integer. key: {self.key} dtype: {got}")
        return super()._transform(cache)

    def _ids(self, values):
        values = values.astype(np.int64)
        outside = (values < 0) | (values >= self.number_buckets)
        if self.default_value is not None:
            return np.where(outside, self.default_value, values)
        too_big = values >= self.number_buckets
        if too_big.any():
            raise tf.errors.InvalidArgumentError(
                None, None,
                f"Bucket index for categorical column {self.key} exceeds number of buckets: "
                f"received {values[too_big][:5].tolist()}, expected ids in "
                f"[0, {self.number_buckets}) (or set default_value).")
        return values  # Negative ids are dropped by every consumer, as in TF.


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """Integer features used as ids directly, in `[0, num_buckets)`.

    Values `>= num_buckets` raise `InvalidArgumentError` unless `default_value` is set
    (then every value outside the range becomes `default_value`); negative values give no
    id. That is TF's documented behaviour (TF 2.15's DenseFeatures with an indicator column
    lets too-large ids through as zero vectors; numpyflow raises rather than hide them).

    Args:
      key: The feature's key; also the column's name.
      num_buckets: Number of ids (>= 1).
      default_value: Optional id in `[0, num_buckets)` for values outside the range.

    Returns:
      An `IdentityCategoricalColumn`.

    Example:
    >>> import numpyflow as tf
    >>> digit = tf.feature_column.categorical_column_with_identity("digit", 3)
    >>> tf.keras.layers.DenseFeatures([tf.feature_column.indicator_column(digit)])(
    ...     {"digit": [[2], [0]]}).numpy()
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    key = check_key(key)
    if not isinstance(num_buckets, (int, np.integer)) or num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(f"default_value {default_value} not in range [0, {num_buckets}), "
                         f"column_name {key}")
    return IdentityCategoricalColumn(key, int(num_buckets), default_value)


class HashedCategoricalColumn(_SingleKeyColumn):
    """Features hashed to ids; made by `categorical_column_with_hash_bucket`."""

    def __init__(self, key, hash_bucket_size, dtype):
        self.key = key
        self.hash_bucket_size = hash_bucket_size
        self.dtype = dtype

    def _fields(self):
        return [("key", self.key), ("hash_bucket_size", self.hash_bucket_size),
                ("dtype", self.dtype)]

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    @property
    def _input_dtype(self):
        return self.dtype

    def _ids(self, values):
        return hashing.hash_buckets(values, self.hash_bucket_size)


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=STRING):
    """Strings (or integers) hashed into `hash_bucket_size` ids, with TF's hash.

    The id is `Fingerprint64(value) % hash_bucket_size` (FarmHash, as
    `tf.strings.to_hash_bucket_fast`); integers are hashed as their decimal strings, so
    ids equal TF's. Needs `pip install numpyflow[hashing]`.

    Args:
      key: The feature's key; also the column's name.
      hash_bucket_size: Number of ids (>= 1).
      dtype: tf.string or an integer dtype: the feature's type.

    Returns:
      A `HashedCategoricalColumn`.

    Example:
    >>> import numpyflow as tf
    >>> city = tf.feature_column.categorical_column_with_hash_bucket("city", 10)
    >>> city.num_buckets
    10
    """
    key = check_key(key)
    if hash_bucket_size is None:
        raise ValueError(f"hash_bucket_size must be set. key: {key}")
    if hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be at least 1. hash_bucket_size: "
                         f"{hash_bucket_size}, key: {key}")
    dtype = _categorical_dtype(dtype, key)
    return HashedCategoricalColumn(key, int(hash_bucket_size), dtype)


def _categorical_dtype(dtype, key):
    if is_string_dtype(dtype):
        return STRING
    dtype = tf.as_dtype(dtype)
    if not dtype.is_integer:
        raise ValueError(f"column_name: {key} dtype must be string or integer. "
                         f"dtype: {dtype!r}.")
    return dtype


class VocabularyListCategoricalColumn(_SingleKeyColumn):
    """Features looked up in an in-memory vocabulary; made by
    `categorical_column_with_vocabulary_list`."""

    def __init__(self, key, vocabulary_list, dtype, default_value, num_oov_buckets):
        self.key = key
        self.vocabulary_list = vocabulary_list
        self.dtype = dtype
        self.default_value = default_value
        self.num_oov_buckets = num_oov_buckets
        self._index = {_vocab_key(v): i for i, v in enumerate(vocabulary_list)}
        self._warned = False

    def _fields(self):
        return [("key", self.key), ("vocabulary_list", self.vocabulary_list),
                ("dtype", self.dtype), ("default_value", self.default_value),
                ("num_oov_buckets", self.num_oov_buckets)]

    @property
    def num_buckets(self):
        return len(self.vocabulary_list) + self.num_oov_buckets

    @property
    def _input_dtype(self):
        return self.dtype

    def _ids(self, values):
        return _lookup(self, self._index, len(self.vocabulary_list), values)


class VocabularyFileCategoricalColumn(_SingleKeyColumn):
    """Features looked up in a vocabulary file (read when the column is made); made by
    `categorical_column_with_vocabulary_file`."""

    def __init__(self, key, vocabulary_file, vocabulary_size, num_oov_buckets, default_value,
                 dtype, tokens):
        self.key = key
        self.vocabulary_file = vocabulary_file
        self.vocabulary_size = vocabulary_size
        self.num_oov_buckets = num_oov_buckets
        self.default_value = default_value
        self.dtype = dtype
        self._index = {_vocab_key(v): i for i, v in enumerate(tokens)}
        self._warned = False

    def _fields(self):
        return [("key", self.key), ("vocabulary_file", self.vocabulary_file),
                ("vocabulary_size", self.vocabulary_size),
                ("num_oov_buckets", self.num_oov_buckets),
                ("default_value", self.default_value), ("dtype", self.dtype)]

    @property
    def num_buckets(self):
        return self.vocabulary_size + self.num_oov_buckets

    @property
    def _input_dtype(self):
        return self.dtype

    def _ids(self, values):
        return _lookup(self, self._index, self.vocabulary_size, values)


def _vocab_key(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    return int(value)


def _lookup(column, index, size, values):
    """Vocabulary ids of `values`; misses go to an OOV bucket (TF's hash of the value) or
    to `default_value`."""
    keys = [_vocab_key(v) for v in values]
    ids = np.array([index.get(k, -2) for k in keys], dtype=np.int64)
    miss = ids == -2
    if not miss.any():
        return ids
    if column.num_oov_buckets:
        ids[miss] = size + hashing.hash_buckets(
            [k for k, m in zip(keys, miss) if m], column.num_oov_buckets)
        return ids
    default = -1 if column.default_value is None else column.default_value
    ids[miss] = default
    if default < 0 and not column._warned:
        column._warned = True
        examples = list(dict.fromkeys(k for k, m in zip(keys, miss) if m))[:3]
        _log.warning(f"Feature column '{column.key}': values not in its vocabulary (e.g. "
                     f"{examples}) have no id (default_value=-1): their indicator is zero "
                     f"and embeddings skip them, as in TF. Set num_oov_buckets or "
                     f"default_value to give them one.")
    return ids


def _check_vocab_options(key, default_value, num_oov_buckets):
    if num_oov_buckets:
        if default_value is not None and default_value != -1:
            raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
    if num_oov_buckets is None or num_oov_buckets < 0:
        raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")


def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None, default_value=-1,
                                            num_oov_buckets=0):
    """Features looked up in `vocabulary_list`: the id of a value is its index.

    A value not in the list gets id `len(vocabulary_list) + hash(value) % num_oov_buckets`
    (TF's Fingerprint64 hash) when `num_oov_buckets > 0`; else `default_value` — by default
    -1, which gives no id (a zero indicator; skipped by embeddings), as in TF.

    Args:
      key: The feature's key; also the column's name.
      vocabulary_list: The distinct values (strings or integers).
      dtype: tf.string or an integer dtype; inferred from the list when None.
      default_value: Id of values not in the list (no OOV buckets).
      num_oov_buckets: Number of hash buckets for values not in the list.

    Returns:
      A `VocabularyListCategoricalColumn`.

    Example:
    >>> import numpyflow as tf
    >>> color = tf.feature_column.categorical_column_with_vocabulary_list(
    ...     "color", ["red", "green"])
    >>> tf.keras.layers.DenseFeatures([tf.feature_column.indicator_column(color)])(
    ...     {"color": [["green"], ["red"]]}).numpy()
    array([[0., 1.],
           [1., 0.]], dtype=float32)
    """
    key = check_key(key)
    vocabulary_list = list(vocabulary_list) if vocabulary_list is not None else []
    if not vocabulary_list:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, "
                         f"column_name: {key}")
    keys = [_vocab_key(v) for v in vocabulary_list]
    if len(set(keys)) != len(keys):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocabulary_list}, "
                         f"column_name: {key}")
    is_string = all(isinstance(v, (str, bytes)) for v in vocabulary_list)
    if not is_string and not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in vocabulary_list):
        raise ValueError(f"vocabulary_list must be all strings or all integers, "
                         f"column_name: {key}. Received: {vocabulary_list}")
    vocab_dtype = "string" if is_string else "int64"
    if dtype is not None:
        dtype = _categorical_dtype(dtype, key)
        if is_string_dtype(dtype) != is_string:
            raise ValueError(f"dtype {dtype!r} and vocabulary dtype <dtype: '{vocab_dtype}'> "
                             f"do not match, column_name: {key}")
    else:
        dtype = STRING if is_string else tf.int64
    _check_vocab_options(key, default_value, num_oov_buckets)
    vocabulary_list = tuple(v.decode() if isinstance(v, bytes) else v for v in vocabulary_list)
    return VocabularyListCategoricalColumn(key, vocabulary_list, dtype, default_value,
                                           int(num_oov_buckets))


def categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
                                            dtype=STRING, default_value=None,
                                            num_oov_buckets=0, file_format=None):
    """Features looked up in a vocabulary file, one value per line.

    The file is read when this function is called (never when a model is loaded). Misses
    are handled as in `categorical_column_with_vocabulary_list`.

    Args:
      key: The feature's key; also the column's name.
      vocabulary_file: Path of a text file with one value per line (UTF-8).
      vocabulary_size: Number of lines to use (all lines when None).
      dtype: tf.string, or an integer dtype (each line is then an integer).
      default_value: Id of values not in the vocabulary (no OOV buckets); -1 when None.
      num_oov_buckets: Number of hash buckets for values not in the vocabulary.
      file_format: None (text); other formats are not supported.

    Returns:
      A `VocabularyFileCategoricalColumn`.

    Example:
    >>> import numpyflow as tf, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "colors.txt")
    >>> _ = open(path, "w").write("red\\ngreen\\n")
    >>> tf.feature_column.categorical_column_with_vocabulary_file("color", path).num_buckets
    2
    """
    key = check_key(key)
    if not vocabulary_file:
        raise ValueError(f"Missing vocabulary_file in {key}.")
    if file_format not in (None, "text"):
        raise NotImplementedError(f"categorical_column_with_vocabulary_file '{key}': "
                                  f"file_format={file_format!r} is not supported by numpyflow "
                                  f"(text files only).")
    dtype = _categorical_dtype(dtype, key)
    _check_vocab_options(key, default_value, num_oov_buckets)
    with open(os.fspath(vocabulary_file), "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if vocabulary_size is None:
        vocabulary_size = len(lines)
        if vocabulary_size < 1:
            raise ValueError(f"Invalid vocabulary_size in {key}: the file "
                             f"{vocabulary_file} is empty.")
    elif vocabulary_size < 1 or vocabulary_size > len(lines):
        raise ValueError(f"Invalid vocabulary_size in {key}: {vocabulary_size}, but the file "
                         f"{vocabulary_file} has {len(lines)} lines.")
    tokens = lines[:vocabulary_size]
    if not is_string_dtype(dtype):
        try:
            tokens = [int(t) for t in tokens]
        except ValueError as error:
            raise ValueError(f"categorical_column_with_vocabulary_file '{key}': dtype "
                             f"{dtype.name} needs an integer on each line of "
                             f"{vocabulary_file}: {error}") from None
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"Duplicate keys in vocabulary_file {vocabulary_file}, "
                         f"column_name: {key}")
    return VocabularyFileCategoricalColumn(key, os.fspath(vocabulary_file), int(vocabulary_size),
                                           int(num_oov_buckets), default_value, dtype, tokens)


class WeightedCategoricalColumn(CategoricalColumn):
    """A categorical column with a weight per id; made by `weighted_categorical_column`."""

    def __init__(self, categorical_column, weight_feature_key, dtype):
        self.categorical_column = categorical_column
        self.weight_feature_key = weight_feature_key
        self.dtype = dtype

    def _fields(self):
        return [("categorical_column", self.categorical_column),
                ("weight_feature_key", self.weight_feature_key), ("dtype", self.dtype)]

    @property
    def name(self):
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def parents(self):
        return [self.categorical_column, self.weight_feature_key]

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    def _transform(self, cache):
        ids = self.categorical_column.get_sparse_ids(cache)
        weights = cache.entries(self.weight_feature_key, drop_missing=False)[1]
        if weights.dtype == object or weights.dtype.kind not in "iuf":
            raise ValueError(f"weighted_categorical_column '{self.name}': the weights feature "
                             f"'{self.weight_feature_key}' must be numeric.")
        count = cache.entries(self.categorical_column.key, drop_missing=False)[1].size
        if weights.size != count:
            raise ValueError(f"weighted_categorical_column '{self.name}': the weights feature "
                             f"'{self.weight_feature_key}' has {weights.size} values, but the "
                             f"ids feature '{self.categorical_column.key}' has {count}; they "
                             f"must have the same shape (or sparse indices).")
        flat = weights.astype(np.float32)
        return SparseIds(ids.rows, ids.ids, ids.batch_size, flat[ids.positions])


def weighted_categorical_column(categorical_column, weight_feature_key, dtype=tf.float32):
    """Gives each id of `categorical_column` the weight in feature `weight_feature_key`
    (same shape as the ids feature): indicators hold the weights, embeddings and linear
    models combine with them.

    Args:
      categorical_column: A column from a `categorical_column_with_*` function.
      weight_feature_key: Key of the weights feature.
      dtype: The weights' dtype (numeric).

    Returns:
      A `WeightedCategoricalColumn`.

    Example:
    >>> import numpyflow as tf
    >>> word = tf.feature_column.categorical_column_with_identity("word", 3)
    >>> tf.feature_column.weighted_categorical_column(word, "count").name
    'word_weighted_by_count'
    """
    if not isinstance(categorical_column, _SingleKeyColumn):
        raise ValueError(f"categorical_column must be a column made by a "
                         f"categorical_column_with_* function. Given: {categorical_column}")
    weight_feature_key = check_key(weight_feature_key)
    dtype = tf.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise ValueError(f"dtype {dtype!r} is not convertible to float.")
    return WeightedCategoricalColumn(categorical_column, weight_feature_key, dtype)
