"""Dense columns made from categorical ones: `indicator_column`, `embedding_column` and
`shared_embeddings`."""

import math

import numpyflow as tf
from numpyflow.feature_column.base import CategoricalColumn, DenseColumn, lookup_combined

_COMBINERS = ("mean", "sqrtn", "sum")


class IndicatorColumn(DenseColumn):
    """Multi-hot counts of a categorical column's ids; made by `indicator_column`."""

    def __init__(self, categorical_column):
        self.categorical_column = categorical_column

    def _fields(self):
        return [("categorical_column", self.categorical_column)]

    @property
    def name(self):
        return f"{self.categorical_column.name}_indicator"

    @property
    def parents(self):
        return [self.categorical_column]

    @property
    def variable_shape(self):
        return (self.categorical_column.num_buckets,)

    def get_dense_tensor(self, cache, state):
        ids = self.categorical_column.get_sparse_ids(cache)
        return tf.constant(ids.counts(self.categorical_column.num_buckets))


def indicator_column(categorical_column):
    """Represents a categorical column as multi-hot vectors of length `num_buckets`.

    Each id adds 1 (its weight, for a `weighted_categorical_column`) at its position;
    examples without ids give zeros.

    Args:
      categorical_column: A categorical column (from `categorical_column_with_*`,
        `bucketized_column`, `crossed_column` or `weighted_categorical_column`).

    Returns:
      An `IndicatorColumn`.

    Example:
    >>> import numpyflow as tf
    >>> ids = tf.feature_column.categorical_column_with_identity("ids", 4)
    >>> tf.keras.layers.DenseFeatures([tf.feature_column.indicator_column(ids)])(
    ...     {"ids": [[1, 3], [2, -1]]}).numpy()
    array([[0., 1., 0., 1.],
           [0., 0., 1., 0.]], dtype=float32)
    """
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"Unsupported input type. Input must be a CategoricalColumn. "
                         f"Given: {categorical_column}")
    return IndicatorColumn(categorical_column)


class EmbeddingColumn(DenseColumn):
    """Learned vectors for a categorical column's ids; made by `embedding_column`."""

    def __init__(self, categorical_column, dimension, combiner, initializer, ckpt_to_load_from,
                 tensor_name_in_ckpt, max_norm, trainable, use_safe_embedding_lookup):
        self.categorical_column = categorical_column
        self.dimension = dimension
        self.combiner = combiner
        self.initializer = initializer
        self.ckpt_to_load_from = ckpt_to_load_from
        self.tensor_name_in_ckpt = tensor_name_in_ckpt
        self.max_norm = max_norm
        self.trainable = trainable
        self.use_safe_embedding_lookup = use_safe_embedding_lookup

    def _fields(self):
        return [("categorical_column", self.categorical_column), ("dimension", self.dimension),
                ("combiner", self.combiner), ("initializer", self.initializer),
                ("ckpt_to_load_from", self.ckpt_to_load_from),
                ("tensor_name_in_ckpt", self.tensor_name_in_ckpt), ("max_norm", self.max_norm),
                ("trainable", self.trainable),
                ("use_safe_embedding_lookup", self.use_safe_embedding_lookup)]

    @property
    def name(self):
        return f"{self.categorical_column.name}_embedding"

    @property
    def parents(self):
        return [self.categorical_column]

    @property
    def variable_shape(self):
        return (self.dimension,)

    def _make_state(self, add_weight):
        return {"embedding_weights": add_weight(
            "embedding_weights", (self.categorical_column.num_buckets, self.dimension),
            self.initializer, self.trainable)}

    def get_dense_tensor(self, cache, state):
        ids = self.categorical_column.get_sparse_ids(cache)
        return lookup_combined(state["embedding_weights"], ids, self.combiner, self.max_norm)


def _check_embedding_args(dimension, combiner, initializer, ckpt_to_load_from,
                          tensor_name_in_ckpt, what):
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if combiner not in _COMBINERS:
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum'. Received: "
                         f"combiner={combiner!r} ({what})")
    if initializer is not None and not callable(initializer):
        raise ValueError(f"initializer must be callable if specified. Embedding of "
                         f"{what}")
    if ckpt_to_load_from is not None or tensor_name_in_ckpt is not None:
        raise NotImplementedError(
            f"{what}: ckpt_to_load_from/tensor_name_in_ckpt are not supported by numpyflow "
            f"(TF 1 checkpoints); load the table with layer.set_weights instead.")
    if initializer is None:
        from numpyflow.keras import initializers
        initializer = initializers.TruncatedNormal(mean=0.0, stddev=1 / math.sqrt(dimension))
    return initializer


def embedding_column(categorical_column, dimension, combiner="mean", initializer=None,
                     ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                     trainable=True, use_safe_embedding_lookup=True):
    """Represents a categorical column as learned `dimension`-long vectors.

    The table `[num_buckets, dimension]` is a weight of the layer using the column
    (`<layer>/<column>_embedding/embedding_weights`); an example's vectors are combined
    by `combiner`. Invalid ids (negative, e.g. vocabulary misses) are skipped, and an
    example without ids gives zeros, as TF's safe lookup does (numpyflow's lookup is always
    the safe one, so `use_safe_embedding_lookup` changes nothing for valid ids).

    Args:
      categorical_column: A categorical column.
      dimension: Length of each vector.
      combiner: "mean" (default), "sqrtn" or "sum": how several ids of one example combine
        (weighted by a `weighted_categorical_column`'s weights).
      initializer: Initializer of the table; TruncatedNormal(0, 1/sqrt(dimension)) when None.
      ckpt_to_load_from, tensor_name_in_ckpt: Not supported (raise NotImplementedError).
      max_norm: If set, each vector is scaled down to an L2 norm of at most this before
        combining.
      trainable: Whether the table is trained.
      use_safe_embedding_lookup: Accepted; see above.

    Returns:
      An `EmbeddingColumn`.

    Example:
    >>> import numpyflow as tf
    >>> ids = tf.feature_column.categorical_column_with_identity("ids", 10)
    >>> layer = tf.keras.layers.DenseFeatures([tf.feature_column.embedding_column(ids, 3)])
    >>> layer({"ids": [[1], [4]]}).shape
    TensorShape([2, 3])
    """
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"categorical_column must be a CategoricalColumn. "
                         f"Given: {categorical_column}")
    initializer = _check_embedding_args(dimension, combiner, initializer, ckpt_to_load_from,
                                        tensor_name_in_ckpt,
                                        f"column_name: {categorical_column.name}")
    return EmbeddingColumn(categorical_column, int(dimension), combiner, initializer, None,
                           None, max_norm, bool(trainable), bool(use_safe_embedding_lookup))


class _SharedTable:
    """The one table of a group of shared embedding columns, created by the first layer
    that builds one of them (the others' layers then hold the same Variable)."""

    def __init__(self, name, num_buckets, dimension, initializer, trainable):
        self.name = name
        self.num_buckets = num_buckets
        self.dimension = dimension
        self.initializer = initializer
        self.trainable = trainable
        self.variable = None


class SharedEmbeddingColumn(DenseColumn):
    """One of several columns that share an embedding table; made by `shared_embeddings`."""

    def __init__(self, categorical_column, table, combiner, max_norm, use_safe_embedding_lookup):
        self.categorical_column = categorical_column
        self._table = table
        self.combiner = combiner
        self.max_norm = max_norm
        self.use_safe_embedding_lookup = use_safe_embedding_lookup

    def _fields(self):
        return [("categorical_column", self.categorical_column),
                ("shared_embedding_collection_name", self._table.name),
                ("dimension", self._table.dimension), ("combiner", self.combiner),
                ("max_norm", self.max_norm)]

    @property
    def name(self):
        return f"{self.categorical_column.name}_shared_embedding"

    @property
    def parents(self):
        return [self.categorical_column]

    @property
    def variable_shape(self):
        return (self._table.dimension,)

    def _make_state(self, add_weight):
        table = self._table
        if table.variable is None:
            table.variable = add_weight(table.name, (table.num_buckets, table.dimension),
                                        table.initializer, table.trainable, scoped=False)
        return {"embedding_weights": table.variable}

    def get_dense_tensor(self, cache, state):
        ids = self.categorical_column.get_sparse_ids(cache)
        return lookup_combined(state["embedding_weights"], ids, self.combiner, self.max_norm)


def shared_embeddings(categorical_columns, dimension, combiner="mean", initializer=None,
                      shared_embedding_collection_name=None, ckpt_to_load_from=None,
                      tensor_name_in_ckpt=None, max_norm=None, trainable=True,
                      use_safe_embedding_lookup=True):
    """Embedding columns for several categorical columns that share one table.

    The columns must have the same `num_buckets`. The table is named
    `shared_embedding_collection_name` (by default the sorted column names joined with
    `_`, then `_shared_embedding`) and belongs to the first layer built with one of the
    columns; other layers using the columns hold the same Variable.

    Args:
      categorical_columns: A list of categorical columns.
      dimension, combiner, initializer, max_norm, trainable, use_safe_embedding_lookup: As
        in `embedding_column`.
      shared_embedding_collection_name: Optional name of the table.
      ckpt_to_load_from, tensor_name_in_ckpt: Not supported.

    Returns:
      A list of `SharedEmbeddingColumn`, in the order of `categorical_columns`.

    Example:
    >>> import numpyflow as tf
    >>> a = tf.feature_column.categorical_column_with_identity("a", 5)
    >>> b = tf.feature_column.categorical_column_with_identity("b", 5)
    >>> [c.name for c in tf.feature_column.shared_embeddings([a, b], 2)]
    ['a_shared_embedding', 'b_shared_embedding']
    """
    categorical_columns = list(categorical_columns)
    if not categorical_columns:
        raise ValueError("categorical_columns must not be empty.")
    for column in categorical_columns:
        if not isinstance(column, CategoricalColumn):
            raise ValueError(f"All categorical_columns must be subclasses of "
                             f"CategoricalColumn. Given: {column}")
    sizes = {c.num_buckets for c in categorical_columns}
    if len(sizes) > 1:
        raise ValueError(f"To use shared_embedding_column, all categorical_columns must have "
                         f"the same number of buckets. Given column: {categorical_columns[0]} "
                         f"with buckets: {categorical_columns[0].num_buckets}. Received: "
                         f"{[(c.name, c.num_buckets) for c in categorical_columns]}")
    name = shared_embedding_collection_name or "_".join(
        sorted(c.name for c in categorical_columns)) + "_shared_embedding"
    initializer = _check_embedding_args(dimension, combiner, initializer, ckpt_to_load_from,
                                        tensor_name_in_ckpt, f"shared embedding {name}")
    table = _SharedTable(name, sizes.pop(), int(dimension), initializer, bool(trainable))
    return [SharedEmbeddingColumn(c, table, combiner, max_norm, use_safe_embedding_lookup)
            for c in categorical_columns]
