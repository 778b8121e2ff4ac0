"""Random colour augmentation: `RandomContrast` and `RandomBrightness`."""

import numbers

import numpyflow as tf
from numpyflow.keras.layers.preprocessing.image_layer import (
    RandomImageLayer, describe, parse_factor)


def _value_range(layer, value_range):
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not low < high:
        raise ValueError(f"{describe(layer)}: `value_range` must be a pair (low, high) with "
                         f"low < high. Received: value_range={value_range!r}")
    return low, high


class RandomContrast(RandomImageLayer):
    """Scales each image's contrast by a random factor while training.

    Each channel of each image becomes (x - mean) * c + mean (mean over height and width),
    c uniform in [1 - lower, 1 + upper], clipped to `value_range`.

    Args:
      factor: A number f in [0, 1] (lower = upper = f) or a pair (lower, upper).
      value_range: The (low, high) range of the pixel values; outputs are clipped to it.
      seed: Optional int for reproducible draws.

    >>> import numpyflow as tf
    >>> tf.keras.layers.RandomContrast(0.5, seed=1)(tf.ones((2, 3, 3, 1)), training=True).shape
    TensorShape([2, 3, 3, 1])
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        message = (f"{describe(self)}: the `factor` argument should be a number (or a list "
                   f"of two numbers) in the range [0, 1]. Received: factor={factor!r}")
        if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
            self.lower = self.upper = float(factor)
        elif isinstance(factor, (tuple, list)) and len(factor) == 2:
            self.lower, self.upper = parse_factor(self, factor, "factor", low=0., high=1.)
        else:
            raise ValueError(message)
        if not 0 <= self.lower <= 1 or not 0 <= self.upper <= 1:
            raise ValueError(message)
        # The parsed range, as Keras keeps it. (Keras 3 itself parses a number f as (0, f),
        # i.e. factors in [1, 1 + f], unlike its documentation and tf.keras 2; numpyflow
        # follows the documentation: (f, f), factors in [1 - f, 1 + f].)
        self.factor = (self.lower, self.upper)
        self.value_range = tuple(value_range) if isinstance(value_range, list) else value_range
        self._low, self._high = _value_range(self, value_range)

    def transform(self, images, training):
        if not training:
            return images
        factors = self.uniform((images.shape[0], 1, 1, 1), 1. - self.lower, 1. + self.upper)
        adjusted = tf.image.adjust_contrast(images, factors)
        return tf.clip_by_value(adjusted, self._low, self._high)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


class RandomBrightness(RandomImageLayer):
    """Adds a random brightness offset to each image while training.

    The offset is uniform in [lower, upper] * (high - low) of `value_range`; outputs are
    clipped to `value_range`.

    Args:
      factor: A number f in [-1, 1] (offsets in [-|f|, |f|]) or a pair (lower, upper).
      value_range: The (low, high) range of the pixel values; (0, 255) by default.
      seed: Optional int for reproducible draws.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.RandomBrightness(0.2, value_range=(0, 1), seed=1)
    >>> layer(tf.zeros((2, 3, 3, 1)), training=True).shape
    TensorShape([2, 3, 3, 1])
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.lower, self.upper = parse_factor(self, factor, "factor")
        self.factor = (self.lower, self.upper)  # Keras keeps the parsed range in the config.
        self.value_range = tuple(value_range) if isinstance(value_range, list) else value_range
        self._low, self._high = _value_range(self, value_range)

    def transform(self, images, training):
        if not training:
            return images
        deltas = self.uniform((images.shape[0], 1, 1, 1), self.lower, self.upper)
        adjusted = tf.image.adjust_brightness(images, deltas * (self._high - self._low))
        return tf.clip_by_value(adjusted, self._low, self._high)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config
