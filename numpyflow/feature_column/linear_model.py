"""`LinearModel`: the weighted sum of feature columns (what linear estimators train)."""

import numpyflow as tf
from numpyflow.feature_column import layer_utils
from numpyflow.feature_column.base import CategoricalColumn, FeatureCache, lookup_combined
from numpyflow.keras.layers.base_layer import Layer


class LinearModel(Layer):
    """A linear model of feature columns: `sum over columns + bias`, `[batch, units]`.

    Each categorical column (including bucketized and crossed columns) has a weight
    matrix `[num_buckets, units]`, `<name>/<column>/weights`, whose rows for an example's
    ids are combined by `sparse_combiner` (weighted by a `weighted_categorical_column`'s
    weights); each dense column has `[num_elements, units]` multiplied with its value.
    The bias is `<name>/bias_weights` `[units]`. All start at zero, as in TF.

    Args:
      feature_columns: Categorical and dense columns (an embedding column adds its own
        table as a weight of this layer).
      units: Number of outputs (1 for regression or binary logits, n_classes otherwise).
      sparse_combiner: "sum" (default), "mean" or "sqrtn", for several ids per example.
      trainable: Whether the weights are trained.
      name: Layer name ("linear_model" in TF's estimators).

    Example:
    >>> import numpyflow as tf
    >>> fc = tf.feature_column
    >>> model = tf.feature_column.LinearModel(
    ...     [fc.numeric_column("x"), fc.categorical_column_with_identity("c", 3)],
    ...     name="linear_model")
    >>> model({"x": [[1.], [2.]], "c": [[0], [2]]}).shape
    TensorShape([2, 1])
    >>> sorted(v.name for v in model.weights)
    ['linear_model/bias_weights:0', 'linear_model/c/weights:0', 'linear_model/x/weights:0']
    """

    def __init__(self, feature_columns, units=1, sparse_combiner="sum", trainable=True,
                 name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if sparse_combiner not in ("mean", "sqrtn", "sum"):
            raise ValueError(f"sparse_combiner must be one of 'mean', 'sqrtn' or 'sum'. "
                             f"Received: sparse_combiner={sparse_combiner!r}")
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        self._feature_columns = layer_utils.categorical_or_dense(feature_columns)
        self.units = units
        self.sparse_combiner = sparse_combiner
        self._state = {}
        self._column_weights = {}

    @property
    def feature_columns(self):
        return list(self._feature_columns)

    def _convert_inputs(self, inputs):
        return inputs

    def build(self, input_shape):
        self._state = layer_utils.make_state(self, self._feature_columns)
        for column in self._feature_columns:
            rows = column.num_buckets if isinstance(column, CategoricalColumn) \
                else column.num_elements
            self._column_weights[column.name] = self.add_weight(
                name=f"{column.name}/weights", shape=(rows, self.units), initializer="zeros")
        self.bias = self.add_weight(name="bias_weights", shape=(self.units,),
                                    initializer="zeros")
        self.built = True

    def call(self, features):
        if not isinstance(features, dict):
            raise ValueError(f"We expected a dictionary here. Instead we got: {features!r} "
                             f"(layer '{self.name}').")
        cache = FeatureCache(features)
        terms = []
        for column in self._feature_columns:
            weights = self._column_weights[column.name]
            if isinstance(column, CategoricalColumn):
                term = lookup_combined(weights, column.get_sparse_ids(cache),
                                       self.sparse_combiner)
            else:
                term = tf.matmul(column.get_dense_tensor(cache, self._state[column.name]),
                                 weights)
            terms.append(term)
        layer_utils.check_batch_sizes(self._feature_columns, terms)  # No broadcasting.
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total + self.bias

    def compute_output_shape(self, input_shape):
        batch = layer_utils.dense_output_shape([], input_shape)[0]
        return tf.TensorShape((batch, self.units))

    def column_weights(self, column):
        """The weight Variable of `column` (or of the column named `column`)."""
        name = column if isinstance(column, str) else column.name
        return self._column_weights[name]

    def get_config(self):
        from numpyflow.feature_column import serialization
        config = super().get_config()
        config.update(feature_columns=[serialization.serialize_feature_column(c)
                                       for c in self._feature_columns],
                      units=self.units, sparse_combiner=self.sparse_combiner)
        return config

    @classmethod
    def from_config(cls, config):
        from numpyflow.feature_column import serialization
        config = dict(config)
        config["feature_columns"] = [serialization.deserialize_feature_column(c)
                                     for c in config["feature_columns"]]
        return super().from_config(config)
