"""`Resizing`: resizes images to a fixed size, optionally keeping their aspect ratio."""

import numpyflow as tf
from numpyflow.keras.layers.preprocessing.image_layer import (
    ImageLayer, check_choice, describe, positive_size, sized_output_shape, smart_resize)

_INTERPOLATIONS = ("bilinear", "nearest", "area")  # Keras's others (bicubic, lanczos) raise.


class Resizing(ImageLayer):
    """Resizes images to `height` x `width`.

    Args:
      height, width: The output size.
      interpolation: "bilinear" (default), "nearest" or "area".
      crop_to_aspect_ratio: First crop the largest centred window with the target's aspect
        ratio, so the image is not distorted.
      pad_to_aspect_ratio: First pad the image (centred, with `fill_value`) to the target's
        aspect ratio, so the image is not distorted.
      fill_mode: Only "constant" (Keras's only mode for padding).
      fill_value: The padding value with `pad_to_aspect_ratio`.
      antialias: With "bilinear", widen the filter when downsampling (as
        `tf.image.resize(..., antialias=True)`).
      data_format: Only "channels_last".

    >>> import numpyflow as tf
    >>> tf.keras.layers.Resizing(4, 6)(tf.zeros((2, 8, 8, 3))).shape
    TensorShape([2, 4, 6, 3])
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = positive_size(self, height, "height")
        self.width = positive_size(self, width, "width")
        self.interpolation = check_choice(self, "interpolation", interpolation, _INTERPOLATIONS)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{describe(self)}: only one of `crop_to_aspect_ratio` and "
                             f"`pad_to_aspect_ratio` can be True.")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = check_choice(self, "fill_mode", fill_mode, ("constant",))
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)

    def transform(self, images, training):
        if self.crop_to_aspect_ratio:
            return smart_resize(images, self.height, self.width, self.interpolation,
                                self.antialias)
        if self.pad_to_aspect_ratio:
            images = self._pad_to_aspect_ratio(images)
        if tuple(images.shape[1:3]) == (self.height, self.width):
            return images
        return tf.cast(tf.image.resize(images, (self.height, self.width),
                                       method=self.interpolation, antialias=self.antialias),
                       images.dtype)

    def _pad_to_aspect_ratio(self, images):
        height, width = images.shape[1], images.shape[2]
        padded_height = max(height, int(float(width * self.height) / self.width))
        padded_width = max(width, int(float(height * self.width) / self.height))
        top = int(float(padded_height - height) / 2)
        left = int(float(padded_width - width) / 2)
        paddings = [[0, 0], [top, padded_height - height - top],
                    [left, padded_width - width - left], [0, 0]]
        return tf.pad(images, paddings, constant_values=self.fill_value)

    def compute_output_shape(self, input_shape):
        return sized_output_shape(self, input_shape, self.height, self.width)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "antialias": self.antialias})
        return config
