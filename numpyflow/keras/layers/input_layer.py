"""`InputLayer` and `keras.Input`: declare the shape a model is fed with."""

import numpyflow as tf
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.graph.node import Node
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
                 shape=None, batch_shape=None, **kwargs):
        if shape is not None and input_shape is None:
            input_shape = shape
        if batch_shape is not None and batch_input_shape is None:
            batch_input_shape = batch_shape  # Keras 3's name.
        if input_shape is None and batch_input_shape is None:
            raise ValueError("InputLayer needs `input_shape` (the shape of one sample, without "
                             "the batch dimension) or `batch_input_shape`.")
        for argument, value in (("sparse", sparse), ("ragged", ragged),
                                ("input_tensor", input_tensor), ("type_spec", type_spec)):
            if value:
                raise NotImplementedError(f"InputLayer: `{argument}` is not supported by "
                                          f"numpyflow. Received: {argument}={value!r}")
        super().__init__(name=name, dtype=dtype, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, batch_size=batch_size, **kwargs)
        self.built = True
        self.supports_masking = True  # Called in a Sequential's stack: passes masks on.
        # Its one node makes the KerasTensor that models built on this input start from.
        Node(self, (), {}, KerasTensor(self._batch_input_shape, dtype=self._dtype,
                                       name=self.name))

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        # Keras 3's keys.
        return {"batch_shape": list(self._batch_input_shape), "dtype": self.dtype,
                "sparse": False, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, ragged=None, type_spec=None, **kwargs):  # noqa: N802 - Keras's name
    """A symbolic model input: a `KerasTensor` of `shape` (one sample, without the batch
    dimension) that layers are called on to define a functional model.

    Args:
      shape: The shape of one sample, e.g. `(28, 28, 1)`; None for unknown dimensions.
      batch_size: Optional fixed batch size.
      dtype: The input's dtype (`float32` by default).
      batch_shape: The full shape, batch included, instead of `shape` and `batch_size`.
      name: Name of the input (and of its `InputLayer`).

    >>> import numpyflow as tf
    >>> tf.keras.Input((28, 28), name="image").shape
    TensorShape([None, 28, 28])
    """
    for argument, value in (("sparse", sparse), ("ragged", ragged), ("tensor", tensor),
                            ("type_spec", type_spec)):
        if value:
            raise NotImplementedError(f"keras.Input: `{argument}` is not supported by "
                                      f"numpyflow. Received: {argument}={value!r}")
    if kwargs:
        raise TypeError(f"keras.Input: unexpected keyword arguments {sorted(kwargs)}.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_input_shape=batch_shape)
    return layer.output
