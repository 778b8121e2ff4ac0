"""Flipping, cropping and padding images: slicing and padding, so gradients come free."""

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
