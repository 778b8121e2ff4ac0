"""`UpSampling2D`: repeats (or interpolates) the rows and columns of images."""

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.conv import normalize_tuple
from numpyflow.keras.layers.core import normalize_data_format
from numpyflow.keras.layers.input_spec import InputSpec

_INTERPOLATIONS = ("nearest", "bilinear")
_KERAS_ONLY = ("bicubic", "lanczos3", "lanczos5", "area")


class UpSampling2D(Layer):
    """Upsampling for 2-D inputs: each row repeated `size[0]` times, each column `size[1]`.

    Args:
      size: An int or (rows, cols): the upsampling factors.
      data_format: Only "channels_last" (the default) is supported.
      interpolation: "nearest" (repeat pixels) or "bilinear" (TF2's half-pixel resize).

    >>> import numpyflow as tf
    >>> x = tf.reshape(tf.range(4.), (1, 2, 2, 1))
    >>> tf.keras.layers.UpSampling2D()(x).numpy()[0, :, :, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]], dtype=float32)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        who = f"UpSampling2D layer '{self.name}'"
        self.size = normalize_tuple(size, 2, "size", who)
        self.data_format = normalize_data_format(data_format, who)
        interpolation = str(interpolation).lower()
        if interpolation in _KERAS_ONLY:
            raise NotImplementedError(f"{who}: interpolation={interpolation!r} is not "
                                      f"implemented in numpyflow; use one of "
                                      f"{list(_INTERPOLATIONS)}.")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"{who}: invalid `interpolation` argument. Expected one of "
                             f"{list(_INTERPOLATIONS + _KERAS_ONLY)}. Received: "
                             f"interpolation={interpolation!r}")
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        # Nearest-neighbour resizing by an integer factor repeats each pixel exactly.
        return tf.image.resize(inputs, (height * self.size[0], width * self.size[1]),
                               method=self.interpolation)

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != 4:
            raise ValueError(f"Layer '{self.name}' (UpSampling2D) expects 4-D inputs (batch, "
                             f"height, width, channels); received input_shape={input_shape}")
        batch, height, width, channels = input_shape.as_list()
        return tf.TensorShape((
            batch, None if height is None else height * self.size[0],
            None if width is None else width * self.size[1], channels))

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config
