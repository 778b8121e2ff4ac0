"""`crossed_column`: hashed combinations of several categorical features, with TF's ids."""

import itertools

import numpy as np

from numpyflow.feature_column import hashing
from numpyflow.feature_column.base import (
    CategoricalColumn, SparseIds, integer_values, is_sparse)
from numpyflow.feature_column.categorical import HashedCategoricalColumn


class CrossedColumn(CategoricalColumn):
    """The cross of several features, hashed; made by `crossed_column`."""

    def __init__(self, keys, hash_bucket_size, hash_key):
        self.keys = keys
        self.hash_bucket_size = hash_bucket_size
        self.hash_key = hash_key

    def _fields(self):
        return [("keys", self.keys), ("hash_bucket_size", self.hash_bucket_size),
                ("hash_key", self.hash_key)]

    @property
    def name(self):
        return "_X_".join(sorted(k if isinstance(k, str) else k.name for k in self.keys))

    @property
    def parents(self):
        return list(self.keys)

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    def _leaf_keys(self):
        """The keys crossed, nested crossed columns flattened into theirs (as TF's
        `_collect_leaf_level_keys`: a nested cross is not hashed twice)."""
        leaves = []
        for key in self.keys:
            leaves.extend(key._leaf_keys() if isinstance(key, CrossedColumn) else [key])
        return leaves

    def _transform(self, cache):
        # TF's SparseCross takes its sparse inputs (columns' ids, sparse raw features)
        # before its dense ones (dense raw features), whatever the keys' order.
        leaves = self._leaf_keys()
        keys = ([k for k in leaves if not isinstance(k, str) or is_sparse(cache._value(k))] +
                [k for k in leaves if isinstance(k, str) and not is_sparse(cache._value(k))])
        per_key = [self._key_hashes(cache, key) for key in keys]
        batch = per_key[0][1]
        for key, (_, size) in zip(keys, per_key):
            if size != batch:
                key_name = key if isinstance(key, str) else key.name
                raise ValueError(f"crossed_column '{self.name}': all crossed features must "
                                 f"have the same batch size; {key_name} has {size}, the "
                                 f"first has {batch}.")
        hash_key = hashing.SPARSE_CROSS_DEFAULT_HASH_KEY if self.hash_key is None \
            else self.hash_key
        rows, ids = [], []
        for row in range(batch):
            for combination in itertools.product(*(hashes[0][row] for hashes in per_key)):
                value = hash_key
                for feature_hash in combination:
                    value = hashing.fingerprint_cat64(value, feature_hash)
                rows.append(row)
                ids.append(value % self.hash_bucket_size)
        return SparseIds(rows, ids, batch)

    def _key_hashes(self, cache, key):
        """(per-row lists of the uint64 hash of each value, batch size) of one key: a raw
        feature's strings are fingerprinted, integers (raw or a column's ids) are their
        own hash, as in TF's SparseCross."""
        if isinstance(key, str):
            # A raw feature is crossed as given: TF keeps even "" and -1 here.
            rows, values, _, batch = cache.entries(key, drop_missing=False)
            if values.dtype != object:
                integers = integer_values(values)
                if integers is None:
                    raise ValueError(f"crossed_column '{self.name}': feature '{key}' must be "
                                     f"strings or integers, but its dtype is {values.dtype}.")
                values = integers
            if values.dtype == object:
                hashes = [int(h) for h in hashing.fingerprint64(values)]
            else:
                hashes = [int(v) & hashing._MASK for v in values]
        else:
            sparse = key.get_sparse_ids(cache)
            rows, batch = sparse.rows, sparse.batch_size
            hashes = [int(v) & hashing._MASK for v in sparse.ids]
        per_row = [[] for _ in range(batch)]
        for row, value in zip(rows, hashes):
            per_row[row].append(value)
        return per_row, batch


def crossed_column(keys, hash_bucket_size, hash_key=None):
    """Hashed crosses of categorical features: one id per combination of their values.

    Each combination's id is TF's `FingerprintCat64` chain of the values' hashes (strings:
    `Fingerprint64`; integers and column ids: the integer) modulo `hash_bucket_size`, so ids
    equal TF's. Needs `pip install numpyflow[hashing]` for string features.

    Args:
      keys: Two or more raw feature keys (strings) or categorical columns (not
        `categorical_column_with_hash_bucket`: cross the raw feature instead).
      hash_bucket_size: Number of ids (> 1).
      hash_key: Optional integer key of the hash (TF's default when None).

    Returns:
      A `CrossedColumn`; its name joins the sorted key names with `_X_`.

    Example:
    >>> import numpyflow as tf
    >>> tf.feature_column.crossed_column(["state", "city"], 100).name
    'city_X_state'
    """
    keys = tuple(keys) if isinstance(keys, (list, tuple)) else keys
    if not isinstance(keys, tuple) or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    if hash_bucket_size is None or hash_bucket_size <= 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}")
    for key in keys:
        if isinstance(key, HashedCategoricalColumn):
            raise ValueError(f"categorical_column_with_hash_bucket is not supported for "
                             f"crossing. Hashing before crossing will increase probability of "
                             f"collision. Instead, use the feature name as a string. "
                             f"Given: {key}")
        if not isinstance(key, (str, CategoricalColumn)):
            raise ValueError(f"Unsupported key type. All keys must be either string, or "
                             f"categorical column except HashedCategoricalColumn. Given: {key}")
    if hash_key is not None and not isinstance(hash_key, (int, np.integer)):
        raise TypeError(f"hash_key must be an integer. Received: hash_key={hash_key!r}")
    return CrossedColumn(keys, int(hash_bucket_size), hash_key)
