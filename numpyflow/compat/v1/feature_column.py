"""`tf.compat.v1.feature_column`: `input_layer`, and the columns of `tf.feature_column`.

    >>> import numpyflow as tf
    >>> column = tf.compat.v1.feature_column.numeric_column("x")
    >>> tf.compat.v1.feature_column.input_layer({"x": [[1.], [2.]]}, [column]).shape
    TensorShape([2, 1])
"""


def input_layer(features, feature_columns, weight_collections=None, trainable=True,
                cols_to_vars=None, cols_to_output_tensors=None):
    """The dense input a DNN reads: `DenseFeatures(feature_columns)(features)`."""
    for name, value in (("weight_collections", weight_collections),
                        ("cols_to_vars", cols_to_vars),
                        ("cols_to_output_tensors", cols_to_output_tensors)):
        if value is not None:
            raise NotImplementedError(f"tf.compat.v1.feature_column.input_layer: `{name}` is "
                                      f"not supported.")
    from numpyflow.keras.layers import DenseFeatures
    return DenseFeatures(feature_columns, trainable=trainable, name="input_layer")(features)


def __getattr__(name):
    import numpyflow.feature_column as feature_column
    return getattr(feature_column, name)
