"""`tf.keras`: models, layers, training, optimizers, losses, metrics, callbacks, datasets.

Built only on numpyflow's public low-level API, as tf.keras is built on TensorFlow's.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse")
"""

from numpyflow.keras import (  # noqa: F401
    activations, backend, callbacks, constraints, datasets, initializers, layers, losses,
    metrics, models, optimizers, regularizers, saving, utils)
from numpyflow.keras.graph.keras_tensor import KerasTensor  # noqa: F401
from numpyflow.keras.layers import Input  # noqa: F401
from numpyflow.keras.models import Model, Sequential  # noqa: F401
