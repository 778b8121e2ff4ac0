"""Colour adjustments: brightness, contrast, saturation, hue, gamma and per-image
standardization (differentiable compositions of ops)."""

import numpy as np

import numpyflow as tf
from numpyflow.image.conversions import convert_image_dtype, hsv_to_rgb, rgb_to_hsv, to_float


def _float_images(images, op_name):
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:
        raise NotImplementedError(f"tf.image.{op_name}: only float images are supported by "
                                  f"numpyflow; received dtype {images.dtype.name}. Cast them "
                                  f"first, e.g. tf.cast(images, tf.float32).")
    if images.shape.rank is not None and images.shape.rank < 3:
        raise ValueError(f"tf.image.{op_name}: `images` must have rank >= 3 (..., height, "
                         f"width, channels); received shape {images.shape}")
    return images


def adjust_brightness(image, delta):
    """Adds `delta` to every pixel value.

    >>> import numpyflow as tf
    >>> adjust_brightness(tf.zeros((1, 1, 1)), 0.25).numpy().ravel()
    array([0.25], dtype=float32)
    """
    image = _float_images(image, "adjust_brightness")
    return image + tf.cast(delta, image.dtype)


def adjust_contrast(images, contrast_factor):
    """Scales each channel's deviation from its mean: (x - mean) * factor + mean.

    The mean is taken over height and width, per image and per channel, as in TF.

    >>> import numpyflow as tf
    >>> x = tf.constant([[[0.], [2.]]])  # one 1x2 image, one channel
    >>> adjust_contrast(x, 2.).numpy().ravel()
    array([-1.,  3.], dtype=float32)
    """
    images = _float_images(images, "adjust_contrast")
    mean = tf.reduce_mean(images, axis=(-3, -2), keepdims=True)
    return (images - mean) * tf.cast(contrast_factor, images.dtype) + mean


def _adjust_hsv(image, op_name, adjust):
    """Applies `adjust(hue, saturation, value)` in HSV space, converting dtypes as TF does."""
    image = tf.convert_to_tensor(image)
    if image.shape.rank is None or image.shape.rank < 3 or image.shape[-1] != 3:
        raise ValueError(f"tf.image.{op_name}: `image` must be (..., height, width, 3) RGB; "
                         f"received shape {image.shape}")
    flt, orig_dtype = to_float(image)
    hue, saturation, value = tf.unstack(rgb_to_hsv(flt), axis=-1)
    adjusted = hsv_to_rgb(tf.stack(adjust(hue, saturation, value), axis=-1))
    return convert_image_dtype(adjusted, orig_dtype)


def adjust_saturation(image, saturation_factor, name=None):
    """Multiplies the saturation (in HSV space) by `saturation_factor`, clipped to [0, 1].

    Integer images are converted to float32 and back, as in TF.

    >>> import numpyflow as tf
    >>> adjust_saturation(tf.constant([[[1., 0.5, 0.5]]]), 0.).numpy()
    array([[[1., 1., 1.]]], dtype=float32)
    """
    factor = tf.cast(saturation_factor, tf.float32)

    def adjust(hue, saturation, value):
        return hue, tf.clip_by_value(saturation * tf.cast(factor, saturation.dtype), 0., 1.), value
    return _adjust_hsv(image, "adjust_saturation", adjust)


def adjust_hue(image, delta, name=None):
    """Rotates the hue (in HSV space) by `delta`, a fraction of a full turn in [-1, 1].

    >>> import numpyflow as tf
    >>> adjust_hue(tf.constant([[[1., 0., 0.]]]), 1. / 3.).numpy().round(6)
    array([[[0., 1., 0.]]], dtype=float32)
    """
    def adjust(hue, saturation, value):
        return tf.math.floormod(hue + tf.cast(delta, hue.dtype), 1.), saturation, value
    return _adjust_hsv(image, "adjust_hue", adjust)


def adjust_gamma(image, gamma=1, gain=1):
    """Gamma correction: `gain * image ** gamma` on the image scaled to [0, 1].

    Integer images are converted to float32 and back (saturating), as in TF.

    >>> import numpyflow as tf
    >>> adjust_gamma(tf.constant([[[0.25]]]), gamma=0.5).numpy()
    array([[[0.5]]], dtype=float32)
    """
    image = tf.convert_to_tensor(image)
    if tf.reduce_any(tf.convert_to_tensor(gamma) < 0):
        raise ValueError(f"tf.image.adjust_gamma: gamma must be a non-negative real number; "
                         f"received gamma={gamma!r}")
    flt, orig_dtype = to_float(image)
    adjusted = tf.cast(gain, flt.dtype) * flt ** tf.cast(gamma, flt.dtype)
    return convert_image_dtype(adjusted, orig_dtype, saturate=True)


def per_image_standardization(image):
    """Scales each image to zero mean and unit variance: (x - mean) / max(stddev,
    1 / sqrt(number of values)), over height, width and channels.

    Any image is cast to float32 first, as TF does (integers are not rescaled to [0, 1]), so
    the result is float32.

    >>> import numpyflow as tf
    >>> per_image_standardization(tf.constant([[[0.], [2.]]])).numpy().ravel()
    array([-1.,  1.], dtype=float32)
    """
    image = tf.convert_to_tensor(image)
    if image.shape.rank is None or image.shape.rank < 3:
        raise ValueError(f"tf.image.per_image_standardization: `image` must have rank >= 3 "
                         f"(..., height, width, channels); received shape {image.shape}")
    image = tf.cast(image, tf.float32)
    axes = (-3, -2, -1)
    count = image.shape[-3] * image.shape[-2] * image.shape[-1]
    mean = tf.reduce_mean(image, axis=axes, keepdims=True)
    stddev = tf.math.reduce_std(image, axis=axes, keepdims=True)
    min_stddev = tf.cast(1. / np.sqrt(count), image.dtype)
    return (image - mean) / tf.maximum(stddev, min_stddev)
