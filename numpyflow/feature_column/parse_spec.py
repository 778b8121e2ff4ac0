"""`make_parse_example_spec`: the `tf.io.parse_example` features that columns read."""

import numpyflow as tf
from numpyflow.feature_column import categorical, crossed, embedding, numeric
from numpyflow.feature_column.base import STRING, FeatureColumn


def _specs(column):
    """(key, spec) pairs of the raw features `column` reads."""
    from numpyflow.io import FixedLenFeature, VarLenFeature
    if isinstance(column, numeric.NumericColumn):
        return [(column.key, FixedLenFeature(list(column.shape), column.dtype,
                                             column.default_value))]
    if isinstance(column, numeric.BucketizedColumn):
        return _specs(column.source_column)
    if isinstance(column, categorical.IdentityCategoricalColumn):
        return [(column.key, VarLenFeature(tf.int64))]
    if isinstance(column, categorical._SingleKeyColumn):
        return [(column.key, VarLenFeature(column.dtype))]
    if isinstance(column, categorical.WeightedCategoricalColumn):
        return _specs(column.categorical_column) + [
            (column.weight_feature_key, VarLenFeature(column.dtype))]
    if isinstance(column, crossed.CrossedColumn):
        pairs = []
        for key in column.keys:
            pairs += [(key, VarLenFeature(STRING))] if isinstance(key, str) else _specs(key)
        return pairs
    if isinstance(column, (embedding.IndicatorColumn, embedding.EmbeddingColumn,
                           embedding.SharedEmbeddingColumn)):
        return _specs(column.categorical_column)
    raise ValueError(f"make_parse_example_spec: unsupported column {column}")


def make_parse_example_spec(feature_columns):
    """The dict of `tf.io.FixedLenFeature`/`VarLenFeature` that `tf.io.parse_example` needs
    to read the features of `feature_columns` from `tf.train.Example` records.

    Numeric columns read fixed-length features; categorical ones variable-length
    features, which `parse_example` returns as `tf.SparseTensor`s that the columns take
    as they are.

    Args:
      feature_columns: An iterable of feature columns.

    Returns:
      A dict from feature key to its `FixedLenFeature` or `VarLenFeature`.

    Example:
    >>> import numpyflow as tf
    >>> fc = tf.feature_column
    >>> spec = fc.make_parse_example_spec(
    ...     [fc.numeric_column("age"), fc.categorical_column_with_identity("id", 10)])
    >>> spec["age"]
    FixedLenFeature(shape=[1], dtype=tf.float32, default_value=None)
    >>> spec["id"]
    VarLenFeature(dtype=tf.int64)
    """
    result = {}
    for column in feature_columns:
        if not isinstance(column, FeatureColumn):
            raise ValueError(f"All feature_columns must be FeatureColumn instances. "
                             f"Given: {column}")
        for key, spec in _specs(column):
            if key in result and result[key] != spec:
                raise ValueError(f"feature_columns contain different parse_spec for key "
                                 f"{key}. Given {result[key]} and {spec}")
            result[key] = spec
    return result
