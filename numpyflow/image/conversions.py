"""Converting images between dtypes and colour spaces (RGB, HSV, grayscale).

All are compositions of differentiable ops, so float images get gradients. Integer images
are converted to float32 in [0, 1] first and back afterwards, as TF does.
"""

import numpy as np

import numpyflow as tf
from numpyflow.framework import dtypes


def _image(images, op_name, min_rank=1):
    images = tf.convert_to_tensor(images)
    if images.shape.rank is not None and images.shape.rank < min_rank:
        raise ValueError(f"tf.image.{op_name}: `images` must have rank >= {min_rank}; "
                         f"received shape {images.shape}")
    return images


def _saturate_cast(x, dtype):
    """Clips `x` to `dtype`'s range, then casts (TF's `saturate_cast`)."""
    info = np.iinfo(dtype.name)
    low, high = max(info.min, np.finfo(np.float32).min), info.max
    if x.dtype.is_floating and int(np.asarray(high, x.dtype.name)) > high:
        # int32/int64 limits round up in floats: take the float just below, so the cast
        # cannot overflow.
        high = np.nextafter(np.asarray(high, x.dtype.name), np.asarray(0, x.dtype.name))
    return tf.cast(tf.clip_by_value(x, tf.cast(low, x.dtype), tf.cast(high, x.dtype)), dtype)


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts `image` to `dtype`, rescaling its values: floats lie in [0, 1], integers in
    [0, MAX] of their type (uint8: 0-255).

    Args:
      image: An image tensor of any shape.
      dtype: The target dtype (integer or floating).
      saturate: Clip to the target's range before casting (float -> integer, and integer ->
        a narrower integer).

    >>> import numpyflow as tf
    >>> convert_image_dtype(tf.constant([0, 255], tf.uint8), tf.float32).numpy()
    array([0., 1.], dtype=float32)
    >>> convert_image_dtype(tf.constant([0., 1.]), tf.uint8).numpy()
    array([  0, 255], dtype=uint8)
    """
    image = tf.convert_to_tensor(image)
    source, dtype = image.dtype, dtypes.as_dtype(dtype)
    for which, kind in (("image", source), ("dtype", dtype)):
        if not (kind.is_floating or kind.is_integer):
            raise AttributeError(f"tf.image.convert_image_dtype: {which} must be a floating "
                                 f"or integer type; received {kind.name}")
    if source == dtype:
        return tf.identity(image)
    if source.is_integer and dtype.is_integer:
        scale_in, scale_out = np.iinfo(source.name).max, np.iinfo(dtype.name).max
        if scale_in > scale_out:
            scaled = tf.math.floordiv(image, tf.cast((scale_in + 1) // (scale_out + 1), source))
            return _saturate_cast(scaled, dtype) if saturate else tf.cast(scaled, dtype)
        cast = _saturate_cast(image, dtype) if saturate else tf.cast(image, dtype)
        return cast * tf.cast((scale_out + 1) // (scale_in + 1), dtype)
    if source.is_floating and dtype.is_floating:
        return tf.cast(image, dtype)
    if source.is_integer:
        # Scales as Python floats taken in the float dtype itself (as TF's multiply takes
        # them), not through float32: 2**31 - 0.5 would round up to 2**31 there.
        return tf.cast(image, dtype) * tf.constant(1.0 / np.iinfo(source.name).max, dtype)
    scaled = image * tf.constant(np.iinfo(dtype.name).max + 0.5, source)
    return _saturate_cast(scaled, dtype) if saturate else tf.cast(scaled, dtype)


def to_float(images):
    """(float images, original dtype): float16/float32 as they are, others as float32."""
    if images.dtype in (dtypes.float16, dtypes.float32):
        return images, images.dtype
    return convert_image_dtype(images, dtypes.float32), images.dtype


def _channels(images, op_name, expected):
    images = _image(images, op_name)
    if images.shape[-1] != expected:
        raise ValueError(f"tf.image.{op_name}: the last dimension must be {expected} (the "
                         f"channels); received shape {images.shape}")
    return images


def rgb_to_grayscale(images, name=None):
    """Weighted sum 0.2989 R + 0.5870 G + 0.1140 B, keeping a channels axis of size 1.

    >>> import numpyflow as tf
    >>> rgb_to_grayscale(tf.constant([[[1., 1., 1.]]])).shape
    TensorShape([1, 1, 1])
    """
    images = _channels(images, "rgb_to_grayscale", 3)
    flt, orig_dtype = to_float(images)
    weights = tf.constant([0.2989, 0.5870, 0.1140], flt.dtype)
    gray = tf.reduce_sum(flt * weights, axis=-1, keepdims=True)
    return convert_image_dtype(gray, orig_dtype)


def grayscale_to_rgb(images, name=None):
    """Repeats the single channel three times.

    >>> import numpyflow as tf
    >>> grayscale_to_rgb(tf.zeros((2, 2, 1))).shape
    TensorShape([2, 2, 3])
    """
    images = _channels(images, "grayscale_to_rgb", 1)
    if images.shape.rank < 2:
        raise ValueError(f"tf.image.grayscale_to_rgb: `images` must have rank >= 2; received "
                         f"shape {images.shape}")
    return tf.concat([images, images, images], axis=-1)


def _float_only(images, op_name):
    if not images.dtype.is_floating:
        raise TypeError(f"tf.image.{op_name}: `images` must be a floating-point tensor; "
                        f"received dtype {images.dtype.name}")
    return images


def rgb_to_hsv(images, name=None):
    """Converts RGB in [0, 1] to hue, saturation and value, each in [0, 1].

    >>> import numpyflow as tf
    >>> rgb_to_hsv(tf.constant([[1., 0., 0.], [0., 0., 1.]])).numpy()
    array([[0.       , 1.       , 1.       ],
           [0.6666667, 1.       , 1.       ]], dtype=float32)
    """
    images = _float_only(_channels(images, "rgb_to_hsv", 3), "rgb_to_hsv")
    red, green, blue = tf.unstack(images, axis=-1)
    value = tf.reduce_max(images, axis=-1)
    spread = value - tf.reduce_min(images, axis=-1)
    zero = tf.zeros_like(value)
    saturation = tf.where(value > 0, spread / tf.where(value > 0, value, 1.), zero)
    norm = 1. / (6. * tf.where(spread > 0, spread, 1.))
    hue = tf.where(tf.equal(red, value), (green - blue) * norm,
                   tf.where(tf.equal(green, value), (blue - red) * norm + 2. / 6.,
                            (red - green) * norm + 4. / 6.))
    hue = tf.where(spread > 0, hue, zero)
    hue = tf.where(hue < 0, hue + 1., hue)
    return tf.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images, name=None):
    """Converts hue, saturation and value in [0, 1] to RGB.

    >>> import numpyflow as tf
    >>> hsv_to_rgb(tf.constant([[0., 1., 1.]])).numpy()
    array([[1., 0., 0.]], dtype=float32)
    """
    images = _float_only(_channels(images, "hsv_to_rgb", 3), "hsv_to_rgb")
    hue, saturation, value = tf.unstack(images, axis=-1)
    sector = hue * 6.
    red = tf.clip_by_value(tf.abs(sector - 3.) - 1., 0., 1.)
    green = tf.clip_by_value(2. - tf.abs(sector - 2.), 0., 1.)
    blue = tf.clip_by_value(2. - tf.abs(sector - 4.), 0., 1.)
    rgb = tf.stack([red, green, blue], axis=-1)
    saturation = tf.expand_dims(saturation, -1)
    return (1. - saturation + saturation * rgb) * tf.expand_dims(value, -1)
