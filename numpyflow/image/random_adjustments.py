"""Random image augmentations: `random_*` (TF's seeding rules, via `tf.random`) and
`stateless_random_*` (a function of `seed=(a, b)` alone).

The stateless variants draw with `tf.random.stateless_uniform`, so for the same seed they
make TF's own choices (flips, deltas, factors, crop offsets).
"""

import numpy as np

import numpyflow as tf
from numpyflow.image.color import (
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation)
from numpyflow.image.geometry import _image_tensor, flip_left_right, flip_up_down
from numpyflow.ops import image_ops

# -- drawing: stateful (TF's seeding rules) or stateless (from a seed pair) -------------------


def _check_seed_pair(seed, op_name):
    seed_array = np.asarray(seed.numpy() if isinstance(seed, tf.Tensor) else seed)
    if seed_array.shape != (2,) or seed_array.dtype.kind not in "iu":
        raise ValueError(f"tf.image.{op_name}: `seed` must be a pair of integers (shape [2]); "
                         f"received seed={seed!r}")
    return seed


class _Draw:
    """Uniform draws, from `tf.random.uniform(seed=...)` or from a stateless seed pair."""

    def __init__(self, seed, stateless, op_name):
        self._stateless = stateless
        self._seed = _check_seed_pair(seed, op_name) if stateless else seed

    def uniform(self, shape, low, high):
        if self._stateless:
            return tf.random.stateless_uniform(shape, self._seed, low, high)
        return tf.random.uniform(shape, low, high, seed=self._seed)

    def offsets(self, limits):
        """An offset in [0, limit) for each of `limits` (as TF's `random_crop`)."""
        high = np.iinfo(np.int32).max
        if self._stateless:
            draws = tf.random.stateless_uniform((len(limits),), self._seed, 0, high, tf.int32)
        else:
            draws = tf.random.uniform((len(limits),), 0, high, tf.int32, seed=self._seed)
        return [int(d) % int(limit) for d, limit in zip(draws.numpy(), limits)]


def _check_range(op_name, lower, upper):
    if upper <= lower:
        raise ValueError(f"tf.image.{op_name}: upper must be > lower; received lower={lower}, "
                         f"upper={upper}")
    if lower < 0:
        raise ValueError(f"tf.image.{op_name}: lower must be non-negative; received "
                         f"lower={lower}")


# -- the augmentations, each written once for both kinds of draw ------------------------------

def _flip(image, flip, draw):
    if image.shape.rank == 3:
        # A select rather than a Python branch, so a traced map function stays traceable.
        return tf.where(draw.uniform((), 0., 1.) < 0.5, flip(image), image)
    # TF rounds each batch draw: an image flips when its draw is above 1/2.
    mask = draw.uniform((image.shape[0],), 0., 1.) > 0.5
    return tf.where(tf.reshape(mask, (-1, 1, 1, 1)), flip(image), image)


def _brightness(image, max_delta, draw, op_name):
    if max_delta < 0:
        raise ValueError(f"tf.image.{op_name}: max_delta must be non-negative; received "
                         f"max_delta={max_delta}")
    return adjust_brightness(image, draw.uniform((), -max_delta, max_delta))


def _hue(image, max_delta, draw, op_name):
    if not 0 <= max_delta <= 0.5:
        raise ValueError(f"tf.image.{op_name}: max_delta must be in [0, 0.5]; received "
                         f"max_delta={max_delta}")
    return adjust_hue(image, draw.uniform((), -max_delta, max_delta))


def _crop(value, size, draw, op_name):
    value = tf.convert_to_tensor(value)
    size = [int(s) for s in (size.numpy() if isinstance(size, tf.Tensor) else size)]
    shape = list(value.shape)
    if len(size) != len(shape) or any(s > d or s < 0 for s, d in zip(size, shape)):
        raise tf.errors.InvalidArgumentError(
            None, None, f"tf.image.{op_name}: need value.shape >= size, with one size per "
                        f"dimension; received value.shape={shape}, size={size}")
    offsets = draw.offsets([d - s + 1 for d, s in zip(shape, size)])
    return value[tuple(slice(o, o + s) for o, s in zip(offsets, size))]


def random_flip_left_right(image, seed=None):
    """Flips each image left-right with probability 1/2 (a 3-D image: one coin).

    One op (`image_ops.RandomFlip`) with the draws of `tf.random.uniform`: an input
    pipeline flips every image, and TF's four ops cost more than the rest of a small
    image's augmentation.

    >>> import numpyflow as tf
    >>> random_flip_left_right(tf.zeros((2, 4, 4, 3)), seed=1).shape
    TensorShape([2, 4, 4, 3])
    """
    image = _image_tensor(image, "random_flip_left_right")
    return image_ops.random_flip(image, axis=-2, seed=seed)


def random_flip_up_down(image, seed=None):
    """Flips each image upside down with probability 1/2 (a 3-D image: one coin)."""
    image = _image_tensor(image, "random_flip_up_down")
    return image_ops.random_flip(image, axis=-3, seed=seed)


def random_brightness(image, max_delta, seed=None):
    """Adds one delta drawn uniformly from [-max_delta, max_delta).

    >>> import numpyflow as tf
    >>> float(tf.reduce_max(tf.abs(random_brightness(tf.zeros((2, 2, 3)), 0.1)))) <= 0.1
    True
    """
    return _brightness(image, max_delta, _Draw(seed, False, "random_brightness"),
                       "random_brightness")


def random_contrast(image, lower, upper, seed=None):
    """`adjust_contrast` with a factor drawn uniformly from [lower, upper)."""
    _check_range("random_contrast", lower, upper)
    return adjust_contrast(image, _Draw(seed, False, "").uniform((), lower, upper))


def random_saturation(image, lower, upper, seed=None):
    """`adjust_saturation` with a factor drawn uniformly from [lower, upper)."""
    _check_range("random_saturation", lower, upper)
    return adjust_saturation(image, _Draw(seed, False, "").uniform((), lower, upper))


def random_hue(image, max_delta, seed=None):
    """`adjust_hue` with a delta drawn uniformly from [-max_delta, max_delta) (<= 0.5)."""
    return _hue(image, max_delta, _Draw(seed, False, ""), "random_hue")


def random_crop(value, size, seed=None, name=None):
    """A window of shape `size` at a random offset (every dimension, batch included).

    >>> import numpyflow as tf
    >>> random_crop(tf.zeros((5, 6, 3)), (3, 3, 3), seed=2).shape
    TensorShape([3, 3, 3])
    """
    return _crop(value, size, _Draw(seed, False, ""), "random_crop")


def stateless_random_flip_left_right(image, seed):
    """`random_flip_left_right` decided by `seed=(a, b)` alone.

    >>> import numpyflow as tf
    >>> x = tf.reshape(tf.range(8.), (2, 2, 2, 1))
    >>> bool(tf.reduce_all(stateless_random_flip_left_right(x, (1, 2)) ==
    ...                    stateless_random_flip_left_right(x, (1, 2))))
    True
    """
    image = _image_tensor(image, "stateless_random_flip_left_right")
    return _flip(image, flip_left_right, _Draw(seed, True, "stateless_random_flip_left_right"))


def stateless_random_flip_up_down(image, seed):
    """`random_flip_up_down` decided by `seed=(a, b)` alone."""
    image = _image_tensor(image, "stateless_random_flip_up_down")
    return _flip(image, flip_up_down, _Draw(seed, True, "stateless_random_flip_up_down"))


def stateless_random_brightness(image, max_delta, seed):
    """`random_brightness` with the delta decided by `seed=(a, b)` alone."""
    return _brightness(image, max_delta, _Draw(seed, True, "stateless_random_brightness"),
                       "stateless_random_brightness")


def stateless_random_contrast(image, lower, upper, seed):
    """`random_contrast` with the factor decided by `seed=(a, b)` alone."""
    _check_range("stateless_random_contrast", lower, upper)
    draw = _Draw(seed, True, "stateless_random_contrast")
    return adjust_contrast(image, draw.uniform((), lower, upper))


def stateless_random_saturation(image, lower, upper, seed):
    """`random_saturation` with the factor decided by `seed=(a, b)` alone."""
    _check_range("stateless_random_saturation", lower, upper)
    draw = _Draw(seed, True, "stateless_random_saturation")
    return adjust_saturation(image, draw.uniform((), lower, upper))


def stateless_random_hue(image, max_delta, seed):
    """`random_hue` with the delta decided by `seed=(a, b)` alone."""
    return _hue(image, max_delta, _Draw(seed, True, "stateless_random_hue"),
                "stateless_random_hue")


def stateless_random_crop(value, size, seed, name=None):
    """`random_crop` with the offset decided by `seed=(a, b)` alone."""
    return _crop(value, size, _Draw(seed, True, "stateless_random_crop"),
                 "stateless_random_crop")
