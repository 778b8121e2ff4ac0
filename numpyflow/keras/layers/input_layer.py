"""`InputLayer` and `keras.Input`: declare the shape a model is fed with."""

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer


class InputLayer(Layer):
    """The entry point of a model: passes its input through, and fixes the input shape.

    Args:
      input_shape: Shape of one sample, without the batch dimension, e.g. `(28, 28)`.
      batch_size: Optional fixed batch size.
      dtype: Input dtype (`float32` by default).
      name: Layer name.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.layers.InputLayer(input_shape=(4,)),
    ...                              tf.keras.layers.Dense(2)])
    >>> model.output_shape
    (None, 2)
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None,
                 sparse=None, name=None, ragged=None, type_spec=None, batch_input_shape=None,
                 shape=None, **kwargs):
        if shape is not None and input_shape is None:
            input_shape = shape
        if input_shape is None and batch_input_shape is None:
            raise ValueError("InputLayer needs `input_shape` (the shape of one sample, without "
                             "the batch dimension) or `batch_input_shape`.")
        super().__init__(name=name, dtype=dtype, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, batch_size=batch_size, **kwargs)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "name": self.name}


class KerasInput:
    """What `keras.Input(...)` returns: a symbolic placeholder that carries a batch shape.

    numpyflow has no symbolic graph yet; this placeholder is enough to start a Sequential
    model (`Sequential([keras.Input((28, 28)), ...])`). Functional models built by calling
    layers on it are not supported yet.
    """

    def __init__(self, input_layer):
        self._input_layer = input_layer
        self.shape = tf.TensorShape(input_layer._batch_input_shape)
        self.dtype = input_layer._dtype
        self.name = input_layer.name

    def __repr__(self):
        return (f"<KerasTensor shape={tuple(self.shape)}, dtype={self.dtype.name}, "
                f"name={self.name}>")


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,
          ragged=None, type_spec=None, batch_shape=None, **kwargs):  # noqa: N802 - Keras's name
    """Declares a model input of `shape` (one sample, without the batch dimension)."""
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       batch_input_shape=batch_shape)
    return KerasInput(layer)
