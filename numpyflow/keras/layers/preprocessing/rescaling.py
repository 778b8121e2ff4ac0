"""`Rescaling`: multiplies inputs by a scale and adds an offset (e.g. pixels to [0, 1])."""

import numbers

import numpy as np

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer


def _constant_config(value):
    """A scale/offset as a JSON value: a float, or nested lists for per-channel values."""
    if isinstance(value, numbers.Real):
        return float(value)
    return np.asarray(value, dtype=np.float64).tolist()


class Rescaling(Layer):
    """Computes `inputs * scale + offset`.

    Args:
      scale: The scale (a float, or per-channel values broadcast against the inputs).
      offset: The offset added after scaling (same forms), 0 by default.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Rescaling(1 / 255)(tf.constant([0., 255.])).numpy()
    array([0., 1.], dtype=float32)
    """

    def __init__(self, scale, offset=0., **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # Keras 3: element-wise, masks pass through.
        for arg_name, value in (("scale", scale), ("offset", offset)):
            try:
                np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"Rescaling layer '{self.name}': `{arg_name}` must be a number "
                                 f"or an array of numbers. Received: {arg_name}={value!r}"
                                 ) from None
        self.scale = _constant_config(scale)
        self.offset = _constant_config(offset)

    def call(self, inputs):
        if not inputs.dtype.is_floating or inputs.dtype.name != self.compute_dtype:
            inputs = tf.cast(inputs, self.compute_dtype)
        scale = tf.constant(self.scale, dtype=inputs.dtype)
        offset = tf.constant(self.offset, dtype=inputs.dtype)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config
