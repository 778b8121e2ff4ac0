"""Colour adjustments: brightness and contrast (differentiable compositions of ops)."""

import numpyflow as tf


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
