"""Colour-space conversions that are a fixed 3x3 matrix per pixel (RGB <-> YUV, RGB <-> YIQ),
and `transpose` (swapping the height and width axes).

Each is a `tensordot`/`transpose`, so gradients come free. The matrices are TF's (BT.601
luma weights), so values match TF to float rounding.
"""

import numpyflow as tf

_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538],
               [0.587, -0.28886916, -0.51496512],
               [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1],
               [0, -0.394642334, 2.03206185],
               [1.13988303, -0.58062185, 0]]
_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115],
               [0.587, -0.27455667, -0.52273617],
               [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1],
               [0.95598634, -0.27201283, -1.10674021],
               [0.6208248, -0.64720424, 1.70423049]]


def _convert(images, matrix, op_name):
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:
        # TF fails converting the float matrix to an integer dtype; say why instead.
        raise TypeError(f"tf.image.{op_name}: `images` must be a floating-point tensor; "
                        f"received dtype {images.dtype.name}")
    if images.shape.rank is not None and (images.shape.rank < 1 or images.shape[-1] != 3):
        raise ValueError(f"tf.image.{op_name}: the last dimension must be 3 (the channels); "
                         f"received shape {images.shape}")
    return tf.tensordot(images, tf.constant(matrix, images.dtype), axes=[[-1], [0]])


def rgb_to_yuv(images):
    """RGB in [0, 1] to YUV: Y in [0, 1], U in [-0.436, 0.436], V in [-0.615, 0.615].

    >>> import numpyflow as tf
    >>> rgb_to_yuv(tf.constant([[1., 1., 1.]])).numpy().round(4)
    array([[1., 0., 0.]], dtype=float32)
    """
    return _convert(images, _RGB_TO_YUV, "rgb_to_yuv")


def yuv_to_rgb(images):
    """YUV to RGB (the inverse of `rgb_to_yuv`).

    >>> import numpyflow as tf
    >>> yuv_to_rgb(tf.constant([[1., 0., 0.]])).numpy()
    array([[1., 1., 1.]], dtype=float32)
    """
    return _convert(images, _YUV_TO_RGB, "yuv_to_rgb")


def rgb_to_yiq(images):
    """RGB in [0, 1] to YIQ: Y in [0, 1], I in [-0.5957, 0.5957], Q in [-0.5226, 0.5226].

    >>> import numpyflow as tf
    >>> rgb_to_yiq(tf.constant([[1., 0., 0.]])).numpy()
    array([[0.299    , 0.5959006, 0.2115   ]], dtype=float32)
    """
    return _convert(images, _RGB_TO_YIQ, "rgb_to_yiq")


def yiq_to_rgb(images):
    """YIQ to RGB (the inverse of `rgb_to_yiq`).

    >>> import numpyflow as tf
    >>> yiq_to_rgb(tf.constant([[1., 0., 0.]])).numpy()
    array([[1., 1., 1.]], dtype=float32)
    """
    return _convert(images, _YIQ_TO_RGB, "yiq_to_rgb")


def transpose(image, name=None):
    """Swaps the height and width axes of a 3-D or 4-D image.

    >>> import numpyflow as tf
    >>> transpose(tf.zeros((2, 5, 3))).shape
    TensorShape([5, 2, 3])
    """
    image = tf.convert_to_tensor(image)
    rank = image.shape.rank
    if rank == 3:
        return tf.transpose(image, [1, 0, 2])
    if rank == 4:
        return tf.transpose(image, [0, 2, 1, 3])
    raise ValueError(f"tf.image.transpose: `image` must be 3-D (height, width, channels) or "
                     f"4-D (batch, height, width, channels); received shape {image.shape}")
