"""Standard layer checks (`run_layer_test`) of DenseFeatures, registered in
tests/keras/layer_cases.py. DenseFeatures takes a dict of features, so each case passes
`input_data` (every feature `[2, 1]`, the `input_shape` given) and skips the generic
training step, which feeds one tensor; tests/feature_column/test_dense_features.py trains
it in models instead."""

import numpy as np

import numpyflow as tf
from numpyflow.keras.layers import DenseFeatures
from tests.keras.layer_cases import LayerCase

fc = tf.feature_column
_FEATURES = {"price": np.array([[1.5], [-2.]], np.float32),
             "age": np.array([[17.], [70.]], np.float32),
             "item": np.array([[3], [-1]], np.int64)}
_ITEM = fc.categorical_column_with_identity("item", 5)

DENSE_FEATURES_CASES = [
    LayerCase(DenseFeatures, {"feature_columns": [fc.numeric_column("price")]}, (2, 1), (2, 1),
              0, input_data=_FEATURES, training_step=False, label="numeric"),
    LayerCase(DenseFeatures, {"feature_columns": [
        fc.numeric_column("price"), fc.bucketized_column(fc.numeric_column("age"), [18., 65.]),
        fc.indicator_column(_ITEM), fc.embedding_column(_ITEM, 3)]},
        (2, 1), (2, 1 + 3 + 5 + 3), 1, input_data=_FEATURES, training_step=False,
        label="mixed"),
    LayerCase(DenseFeatures, {"feature_columns": [fc.embedding_column(_ITEM, 2,
                                                                      trainable=False)]},
              (2, 1), (2, 2), 0, 1, input_data=_FEATURES, training_step=False,
              label="frozen_embedding"),
]
