"""`tf.feature_column`: how raw features (a dict of arrays) become model inputs (TF 2.15).

    >>> import numpyflow as tf
    >>> fc = tf.feature_column
    >>> columns = [fc.numeric_column("age"),
    ...            fc.indicator_column(fc.categorical_column_with_vocabulary_list(
    ...                "color", ["red", "green"]))]
    >>> tf.keras.layers.DenseFeatures(columns)(
    ...     {"age": [[30.], [40.]], "color": [["green"], ["red"]]}).numpy()
    array([[30.,  0.,  1.],
           [40.,  1.,  0.]], dtype=float32)

Features are dicts of Tensors, NumPy arrays or lists: `[batch]` or `[batch, k]` (several
values per example for categorical columns; `b''`/`""` and `-1` mark missing values, as
in TF's dense-to-sparse conversion). Strings may be `str` or `bytes`. Categorical features
may also be sparse: the `tf.SparseTensor` that `tf.io.parse_example` gives for a
`tf.io.VarLenFeature` (see `make_parse_example_spec`).

API for the layers and estimators built on columns (stable; used by `tf.estimator`):

  * `tf.keras.layers.DenseFeatures(columns, name=...)`: a Keras layer, dict → float32
    `[batch, width]`, columns concatenated in name order; embedding tables are its weights
    (`<layer>/<column>_embedding/embedding_weights`). What DNN estimators feed their
    hidden layers (TF names it "input_layer" there).
  * `tf.feature_column.LinearModel(columns, units=1, sparse_combiner="sum",
    name="linear_model")`: a Keras layer, dict → `[batch, units]`, the weighted sum of the
    columns plus a bias: weights `<name>/<column>/weights` (`[num_buckets, units]` for
    categorical, bucketized and crossed columns; `[num_elements, units]` for dense ones)
    and `<name>/bias_weights` `[units]`, all zeros at first, as TF's LinearModel.
    `model.column_weights(column)` gives one column's Variable; `model.bias` the bias.
  * Column objects: `column.name`, `column.num_buckets` (categorical),
    `column.variable_shape` / `num_elements` (dense);
    `serialize_feature_column`/`deserialize_feature_column` for configs.

Hashing (`categorical_column_with_hash_bucket`, `crossed_column`, OOV buckets) gives TF's
ids and needs `pip install numpyflow[hashing]`.
"""

from numpyflow.feature_column.categorical import (  # noqa: F401
    categorical_column_with_hash_bucket, categorical_column_with_identity,
    categorical_column_with_vocabulary_file, categorical_column_with_vocabulary_list,
    weighted_categorical_column)
from numpyflow.feature_column.crossed import crossed_column  # noqa: F401
from numpyflow.feature_column.embedding import (  # noqa: F401
    embedding_column, indicator_column, shared_embeddings)
from numpyflow.feature_column.numeric import bucketized_column, numeric_column  # noqa: F401
from numpyflow.feature_column.parse_spec import make_parse_example_spec  # noqa: F401
from numpyflow.feature_column.serialization import (  # noqa: F401
    deserialize_feature_column, serialize_feature_column)


def __getattr__(name):
    # LinearModel is a Keras layer: Keras loads only when it is used.
    if name == "LinearModel":
        from numpyflow.feature_column.linear_model import LinearModel
        return LinearModel
    raise AttributeError(f"module 'numpyflow.feature_column' has no attribute {name!r}")
