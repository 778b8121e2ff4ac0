"""Feature columns to and from plain configs (`{"class_name": ..., "config": {...}}`), as
`DenseFeatures.get_config` writes them (TF's layout). Loading never runs code: a
`normalizer_fn` cannot be serialized, and only the column classes below are known."""

import numpyflow as tf
from numpyflow.feature_column import categorical, crossed, embedding, numeric
from numpyflow.feature_column.base import STRING, FeatureColumn, is_string_dtype

_CLASSES = {cls.__name__: cls for cls in (
    numeric.NumericColumn, numeric.BucketizedColumn,
    categorical.IdentityCategoricalColumn, categorical.HashedCategoricalColumn,
    categorical.VocabularyListCategoricalColumn, categorical.VocabularyFileCategoricalColumn,
    categorical.WeightedCategoricalColumn, crossed.CrossedColumn,
    embedding.IndicatorColumn, embedding.EmbeddingColumn)}


def serialize_feature_column(column):
    """The config dict of `column` (nested columns serialized too).

    Example:
    >>> import numpyflow as tf
    >>> config = tf.feature_column.serialize_feature_column(
    ...     tf.feature_column.numeric_column("a"))
    >>> config["class_name"], config["config"]["shape"], config["config"]["dtype"]
    ('NumericColumn', (1,), 'float32')
    """
    name = type(column).__name__
    if name not in _CLASSES:
        raise NotImplementedError(f"serialize_feature_column: {name} ({column.name}) cannot be "
                                  f"serialized by numpyflow.")
    config = {}
    for field, value in column._fields():
        if field == "normalizer_fn" and value is not None:
            raise ValueError(f"numeric_column '{column.name}': a normalizer_fn cannot be "
                             f"serialized (loading would have to run code). Normalize the "
                             f"feature in the input pipeline, or with a Keras layer.")
        config[field] = _serialize_value(field, value)
    return {"class_name": name, "config": config}


def _serialize_value(field, value):
    if isinstance(value, FeatureColumn):
        return serialize_feature_column(value)
    if field == "keys":
        return [_serialize_value("key", k) for k in value]
    if field == "dtype":
        return "string" if is_string_dtype(value) else value.name
    if field == "initializer":
        from numpyflow.keras import initializers
        return initializers.serialize(value)
    return value


def deserialize_feature_column(config):
    """The column a `serialize_feature_column` config describes.

    Example:
    >>> import numpyflow as tf
    >>> fc = tf.feature_column
    >>> column = fc.bucketized_column(fc.numeric_column("a"), [0., 1.])
    >>> fc.deserialize_feature_column(fc.serialize_feature_column(column)) == column
    True
    """
    if isinstance(config, FeatureColumn):
        return config
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"deserialize_feature_column: unknown feature column config "
                         f"{config!r}; expected one of {sorted(_CLASSES)}.")
    cls = _CLASSES[config["class_name"]]
    kwargs = {field: _deserialize_value(field, value)
              for field, value in config.get("config", {}).items()}
    if cls is categorical.VocabularyFileCategoricalColumn:  # Reads its file again.
        return categorical.categorical_column_with_vocabulary_file(**kwargs)
    return cls(**kwargs)


def _deserialize_value(field, value):
    if isinstance(value, dict) and "class_name" in value and field != "initializer":
        return deserialize_feature_column(value)
    if field == "keys":
        return tuple(_deserialize_value("key", k) for k in value)
    if field == "dtype":
        return STRING if value == "string" else tf.as_dtype(value)
    if field == "initializer":
        from numpyflow.keras import initializers
        return initializers.deserialize(value)
    if field in ("shape", "boundaries", "vocabulary_list", "default_value") and \
            isinstance(value, list):
        return tuple(value)
    return value
