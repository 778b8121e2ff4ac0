"""Random affine augmentation: `RandomRotation`, `RandomZoom` and `RandomTranslation`.

Each draws one transform per image (output pixel -> input point, see
`tf.image.affine_transform`) and resamples the whole batch in one vectorized op; points
that fall outside the image are filled by `fill_mode`.
"""

import math

import numpyflow as tf
from numpyflow.keras.layers.preprocessing.image_layer import (
    FILL_MODES, INTERPOLATIONS, RandomImageLayer, check_choice, parse_factor)


class _RandomAffine(RandomImageLayer):
    """Shared by the three layers: fill and interpolation arguments, and the resampling."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = check_choice(self, "fill_mode", fill_mode, FILL_MODES)
        self.interpolation = check_choice(self, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def transform(self, images, training):
        if not training:
            return images
        batch, height, width = images.shape[0], images.shape[1], images.shape[2]
        transforms = self.random_transforms(batch, height, width)
        return tf.image.affine_transform(images, transforms, interpolation=self.interpolation,
                                         fill_mode=self.fill_mode, fill_value=self.fill_value)

    def random_transforms(self, batch, height, width):
        """(batch, 8) transforms drawn at random."""
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


class RandomRotation(_RandomAffine):
    """Rotates each image about its centre by a random angle while training.

    Args:
      factor: A fraction of a full turn: a number f (angles in [-f, f] * 2 pi) or a pair
        (lower, upper). Positive angles rotate counter-clockwise.
      fill_mode: "reflect" (default), "wrap", "constant" or "nearest".
      interpolation: "bilinear" (default) or "nearest".
      seed: Optional int for reproducible rotations.
      fill_value: The value outside the image with fill_mode="constant".
      data_format: Only "channels_last".

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.RandomRotation(0.1, seed=1)
    >>> layer(tf.ones((2, 5, 5, 1)), training=True).shape
    TensorShape([2, 5, 5, 1])
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0., data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.lower, self.upper = parse_factor(self, factor, "factor")
        self.factor = (self.lower, self.upper)  # Keras keeps the parsed range in the config.

    def random_transforms(self, batch, height, width):
        angles = self.uniform((batch,), self.lower * 2 * math.pi, self.upper * 2 * math.pi)
        return tf.image.angles_to_projective_transforms(angles, height, width)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_RandomAffine):
    """Zooms each image in or out about its centre by a random amount while training.

    Args:
      height_factor: A fraction: a number f (zoom in [-f, f]) or a pair (lower, upper).
        The image is scaled vertically by 1 / (1 + zoom): positive values zoom out,
        negative values zoom in.
      width_factor: The same horizontally; None (default) zooms both axes alike.
      fill_mode, interpolation, seed, fill_value, data_format: as `RandomRotation`.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.RandomZoom(0.2, seed=1)
    >>> layer(tf.ones((2, 5, 5, 1)), training=True).shape
    TensorShape([2, 5, 5, 1])
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0., data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_lower, self.height_upper = parse_factor(self, height_factor,
                                                            "height_factor")
        self.height_factor = height_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = parse_factor(self, width_factor,
                                                              "width_factor")
        self.width_factor = width_factor

    def random_transforms(self, batch, height, width):
        zoom_y = 1. + self.uniform((batch, 1), self.height_lower, self.height_upper)
        if self.width_factor is None:
            zoom_x = zoom_y
        else:
            zoom_x = 1. + self.uniform((batch, 1), self.width_lower, self.width_upper)
        # Scale about the centre: input = centre + zoom * (output - centre).
        x_offset = (width - 1) / 2 * (1. - zoom_x)
        y_offset = (height - 1) / 2 * (1. - zoom_y)
        zeros = tf.zeros((batch, 1), dtype=zoom_x.dtype)
        return tf.concat([zoom_x, zeros, x_offset, zeros, zoom_y, y_offset, zeros, zeros],
                         axis=1)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config


class RandomTranslation(_RandomAffine):
    """Shifts each image by a random fraction of its size while training.

    Args:
      height_factor: A fraction of the height: a number f (shift in [-f, f] * height) or a
        pair (lower, upper). Positive values shift the image down.
      width_factor: The same for the width; positive values shift the image right.
      fill_mode, interpolation, seed, fill_value, data_format: as `RandomRotation`.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.RandomTranslation(0.1, 0.1, seed=1)
    >>> layer(tf.ones((2, 28, 28, 1)), training=True).shape
    TensorShape([2, 28, 28, 1])
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0., data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_lower, self.height_upper = parse_factor(self, height_factor,
                                                            "height_factor")
        self.width_lower, self.width_upper = parse_factor(self, width_factor, "width_factor")
        self.height_factor = height_factor
        self.width_factor = width_factor

    def random_transforms(self, batch, height, width):
        shift_y = self.uniform((batch, 1), self.height_lower, self.height_upper) * height
        shift_x = self.uniform((batch, 1), self.width_lower, self.width_upper) * width
        ones = tf.ones((batch, 1), dtype=shift_x.dtype)
        zeros = tf.zeros((batch, 1), dtype=shift_x.dtype)
        # Output pixel (x, y) reads input (x - shift_x, y - shift_y).
        return tf.concat([ones, zeros, -shift_x, zeros, ones, -shift_y, zeros, zeros], axis=1)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config
