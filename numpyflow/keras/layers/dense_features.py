"""`DenseFeatures`: a dict of raw features → one dense Tensor, by feature columns (tf.keras 2)."""

from numpyflow.feature_column import layer_utils
from numpyflow.keras.layers.base_layer import Layer


class DenseFeatures(Layer):
    """Turns a dict of features into a dense Tensor with `tf.feature_column` columns.

    The columns' values are concatenated in the order of the columns' names (as TF does),
    each flattened to `[batch, num_elements]`. Embedding tables are weights of this layer
    (`<layer>/<column>_embedding/embedding_weights`), trained with the model.

    Args:
      feature_columns: Dense columns (`numeric_column`, `bucketized_column`,
        `indicator_column`, `embedding_column`, shared embeddings); a single column is
        accepted too.
      trainable: Whether the embedding tables are trained.
      name: Layer name.
      partitioner: Not supported (TF 1 variable partitioning); must be None.

    Example:
    >>> import numpyflow as tf
    >>> fc = tf.feature_column
    >>> layer = tf.keras.layers.DenseFeatures([
    ...     fc.numeric_column("a"),
    ...     fc.indicator_column(fc.categorical_column_with_identity("b", 3))])
    >>> layer({"a": [[0.5], [2.]], "b": [[2], [0]]}).numpy()
    array([[0.5, 0. , 0. , 1. ],
           [2. , 1. , 0. , 0. ]], dtype=float32)

    In a functional model, give each feature its own `keras.Input`:

    >>> inputs = {"a": tf.keras.Input((1,), name="a"),
    ...           "b": tf.keras.Input((1,), name="b", dtype="int64")}
    >>> model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(layer(inputs)))
    """

    def __init__(self, feature_columns, trainable=True, name=None, partitioner=None, **kwargs):
        if partitioner is not None:
            raise NotImplementedError(f"DenseFeatures: `partitioner` is not supported by "
                                      f"numpyflow. Received: partitioner={partitioner!r}")
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._feature_columns = layer_utils.dense_columns(feature_columns)
        self._state = {}

    @property
    def feature_columns(self):
        """The columns, in the order of their names."""
        return list(self._feature_columns)

    def _convert_inputs(self, inputs):
        return inputs  # Each column converts (and checks) its own features.

    def build(self, input_shape):
        self._state = layer_utils.make_state(self, self._feature_columns)
        self.built = True

    def call(self, features, cols_to_output_tensors=None, training=None):
        """Args:
          features: dict of feature key → Tensor / array.
          cols_to_output_tensors: Optional dict, filled with column → its output Tensor.
          training: Unused (no column behaves differently in training).
        """
        return layer_utils.dense_output(self._feature_columns, features, self._state,
                                        cols_to_output_tensors, self.name)

    def compute_output_shape(self, input_shape):
        return layer_utils.dense_output_shape(self._feature_columns, input_shape)

    def get_config(self):
        from numpyflow.feature_column import serialization
        config = super().get_config()
        config["feature_columns"] = [serialization.serialize_feature_column(c)
                                     for c in self._feature_columns]
        config["partitioner"] = None
        return config

    @classmethod
    def from_config(cls, config):
        from numpyflow.feature_column import serialization
        config = dict(config)
        config["feature_columns"] = [serialization.deserialize_feature_column(c)
                                     for c in config["feature_columns"]]
        return super().from_config(config)
