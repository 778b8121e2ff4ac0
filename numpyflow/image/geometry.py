"""Flipping, rotating, cropping and padding images (slicing and padding: gradients come free)."""

import numpy as np

import numpyflow as tf


def _image_tensor(image, op_name):
    image = tf.convert_to_tensor(image)
    if image.shape.rank not in (3, 4):
        raise ValueError(f"tf.image.{op_name}: `image` must be 3-D (height, width, channels) "
                         f"or 4-D (batch, height, width, channels); received shape "
                         f"{image.shape}")
    return image


def flip_left_right(image):
    """Reverses the width axis.

    >>> import numpyflow as tf
    >>> flip_left_right(tf.reshape(tf.range(3.), (1, 3, 1))).numpy().ravel()
    array([2., 1., 0.], dtype=float32)
    """
    return _image_tensor(image, "flip_left_right")[..., ::-1, :]


def flip_up_down(image):
    """Reverses the height axis.

    >>> import numpyflow as tf
    >>> flip_up_down(tf.reshape(tf.range(3.), (3, 1, 1))).numpy().ravel()
    array([2., 1., 0.], dtype=float32)
    """
    return _image_tensor(image, "flip_up_down")[..., ::-1, :, :]


def _height_width(image):
    return image.shape[-3], image.shape[-2]


def _non_negative_ints(op_name, **values):
    for name, value in values.items():
        if int(value) != value or value < 0:
            raise ValueError(f"tf.image.{op_name}: `{name}` must be a non-negative integer; "
                             f"received {name}={value!r}")
    return [int(v) for v in values.values()]


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The `target_height` x `target_width` window whose top-left corner is at
    (`offset_height`, `offset_width`).

    >>> import numpyflow as tf
    >>> crop_to_bounding_box(tf.zeros((5, 6, 3)), 1, 2, 3, 3).shape
    TensorShape([3, 3, 3])
    """
    image = _image_tensor(image, "crop_to_bounding_box")
    top, left, height, width = _non_negative_ints(
        "crop_to_bounding_box", offset_height=offset_height, offset_width=offset_width,
        target_height=target_height, target_width=target_width)
    image_height, image_width = _height_width(image)
    if height == 0 or width == 0:
        raise ValueError(f"tf.image.crop_to_bounding_box: the target size must be positive; "
                         f"received target_height={height}, target_width={width}")
    if top + height > image_height or left + width > image_width:
        raise ValueError(f"tf.image.crop_to_bounding_box: the box (offset {top}, {left}, size "
                         f"{height}x{width}) does not fit in the {image_height}x{image_width} "
                         f"image")
    return image[..., top:top + height, left:left + width, :]


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Zero-pads `image` to `target_height` x `target_width`, placing it at
    (`offset_height`, `offset_width`).

    >>> import numpyflow as tf
    >>> pad_to_bounding_box(tf.ones((1, 1, 1)), 1, 0, 2, 2).numpy()[..., 0]
    array([[0., 0.],
           [1., 0.]], dtype=float32)
    """
    image = _image_tensor(image, "pad_to_bounding_box")
    top, left, height, width = _non_negative_ints(
        "pad_to_bounding_box", offset_height=offset_height, offset_width=offset_width,
        target_height=target_height, target_width=target_width)
    image_height, image_width = _height_width(image)
    bottom, right = height - top - image_height, width - left - image_width
    if bottom < 0 or right < 0:
        raise ValueError(f"tf.image.pad_to_bounding_box: the {image_height}x{image_width} "
                         f"image at offset ({top}, {left}) does not fit in the target size "
                         f"{height}x{width}")
    paddings = [[0, 0]] * (image.shape.rank - 3) + [[top, bottom], [left, right], [0, 0]]
    return tf.pad(image, paddings)


def central_crop(image, central_fraction):
    """Keeps the central `central_fraction` (in (0, 1]) of the height and width.

    >>> import numpyflow as tf
    >>> central_crop(tf.zeros((10, 10, 3)), 0.5).shape
    TensorShape([6, 6, 3])
    """
    image = _image_tensor(image, "central_crop")
    if not 0 < central_fraction <= 1:
        raise ValueError(f"tf.image.central_crop: `central_fraction` must be in (0, 1]; "
                         f"received central_fraction={central_fraction!r}")
    if central_fraction == 1:
        return image
    height, width = _height_width(image)
    # TF truncates the start offset and keeps what lies between the two offsets.
    top = int((height - height * central_fraction) / 2)
    left = int((width - width * central_fraction) / 2)
    return image[..., top:height - top, left:width - left, :]


def resize_with_crop_or_pad(image, target_height, target_width):
    """Centre-crops and/or zero-pads `image` to `target_height` x `target_width`.

    >>> import numpyflow as tf
    >>> resize_with_crop_or_pad(tf.zeros((4, 6, 1)), 6, 4).shape
    TensorShape([6, 4, 1])
    """
    image = _image_tensor(image, "resize_with_crop_or_pad")
    target_height, target_width = _non_negative_ints(
        "resize_with_crop_or_pad", target_height=target_height, target_width=target_width)
    if target_height == 0 or target_width == 0:
        raise ValueError(f"tf.image.resize_with_crop_or_pad: the target size must be "
                         f"positive; received {target_height}x{target_width}")
    height, width = _height_width(image)
    height_diff, width_diff = target_height - height, target_width - width
    cropped = crop_to_bounding_box(image, max(-height_diff // 2, 0), max(-width_diff // 2, 0),
                                   min(target_height, height), min(target_width, width))
    return pad_to_bounding_box(cropped, max(height_diff // 2, 0), max(width_diff // 2, 0),
                               target_height, target_width)


def rot90(image, k=1, name=None):
    """Rotates `image` counter-clockwise by `k` quarter turns.

    >>> import numpyflow as tf
    >>> rot90(tf.reshape(tf.range(4.), (2, 2, 1))).numpy()[..., 0]
    array([[1., 3.],
           [0., 2.]], dtype=float32)
    """
    image = _image_tensor(image, "rot90")
    if int(k) != k:
        raise ValueError(f"tf.image.rot90: `k` must be an integer; received k={k!r}")
    k = int(k) % 4
    height_axis = image.shape.rank - 3
    perm = list(range(image.shape.rank))
    perm[height_axis], perm[height_axis + 1] = perm[height_axis + 1], perm[height_axis]
    if k == 1:
        return tf.transpose(flip_left_right(image), perm)
    if k == 2:
        return flip_up_down(flip_left_right(image))
    if k == 3:
        return flip_left_right(tf.transpose(image, perm))
    return tf.identity(image)


def resize_with_pad(image, target_height, target_width, method="bilinear", antialias=False):
    """Resizes `image` to fit in `target_height` x `target_width` keeping its aspect ratio,
    then zero-pads it (centred) to exactly that size.

    >>> import numpyflow as tf
    >>> resize_with_pad(tf.ones((2, 4, 1)), 4, 4).numpy()[..., 0]
    array([[0., 0., 0., 0.],
           [1., 1., 1., 1.],
           [1., 1., 1., 1.],
           [0., 0., 0., 0.]], dtype=float32)
    """
    image = _image_tensor(image, "resize_with_pad")
    target_height, target_width = _non_negative_ints(
        "resize_with_pad", target_height=target_height, target_width=target_width)
    if target_height == 0 or target_width == 0:
        raise ValueError(f"tf.image.resize_with_pad: the target size must be positive; "
                         f"received {target_height}x{target_width}")
    height, width = _height_width(image)
    # TF's arithmetic, in float32: the ratio that fits, floors for size and offsets.
    f32 = np.float32
    ratio = max(f32(width) / f32(target_width), f32(height) / f32(target_height))
    resized_height_f, resized_width_f = f32(height) / ratio, f32(width) / ratio
    resized = tf.image.resize(image, (int(np.floor(resized_height_f)),
                                      int(np.floor(resized_width_f))),
                              method=method, antialias=antialias)
    pad_top = max(0, int(np.floor((f32(target_height) - resized_height_f) / 2)))
    pad_left = max(0, int(np.floor((f32(target_width) - resized_width_f) / 2)))
    return pad_to_bounding_box(resized, pad_top, pad_left, target_height, target_width)
