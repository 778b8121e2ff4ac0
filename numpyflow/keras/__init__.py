"""`tf.keras`: models, layers, training, optimizers, losses, metrics, callbacks, datasets.

Built only on numpyflow's public low-level API, as tf.keras is built on TensorFlow's.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse")
"""

from numpyflow.keras import (  # noqa: F401
    activations, backend, callbacks, constraints, datasets, initializers, layers, losses,
    metrics, models, optimizers, preprocessing, regularizers, saving, utils)
from numpyflow.keras.graph.keras_tensor import KerasTensor  # noqa: F401
from numpyflow.keras.layers import Input  # noqa: F401
from numpyflow.keras.models import Model, Sequential  # noqa: F401


def __getattr__(name):
    # `tf.keras.estimator.model_to_estimator` lives with the Estimator, loaded on first use.
    if name == "estimator":
        from numpyflow.estimator import keras_lib
        return keras_lib.namespace
    raise AttributeError(f"module 'numpyflow.keras' has no attribute {name!r}")
