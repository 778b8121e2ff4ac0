"""JPEG helpers of `tf.image`: compression artefacts as an augmentation (`adjust_jpeg_quality`
and its random variants) and the header/crop decoders `extract_jpeg_shape` and
`decode_and_crop_jpeg`.

Encoding and decoding go through `tf.io` (Pillow, imported when first used; `pip install
numpyflow[image]`). Pillow's libjpeg is not TF's libjpeg-turbo build, so re-encoded pixels
may differ from TF's by a few levels; shapes and dtypes are TF's. None has a gradient (TF's
encoders have none either).
"""

import io

import numpy as np

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.image.conversions import convert_image_dtype
from numpyflow.io import image_io


def _round_trip(image, quality, channels):
    encoded = tf.io.encode_jpeg(image, quality=quality)
    return tf.io.decode_jpeg(encoded, channels=channels)


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None):
    """Encodes `image` as JPEG at `jpeg_quality` (0-100) and decodes it again, returning
    the result in the input's dtype.

    Args:
      image: (height, width, channels) or a batch (batch, height, width, channels), with
        1 or 3 channels; floats are taken in [0, 1].
      jpeg_quality: int in [0, 100].
      dct_method: only TF's default "" is supported.

    >>> import numpyflow as tf
    >>> adjust_jpeg_quality(tf.fill((8, 8, 3), 0.5), 75).shape
    TensorShape([8, 8, 3])
    """
    image = tf.convert_to_tensor(image)
    if image.shape.rank not in (3, 4) or image.shape[-1] not in (1, 3):
        raise ValueError(f"tf.image.adjust_jpeg_quality: `image` must be (height, width, "
                         f"channels) or a batch of them, with 1 or 3 channels; received "
                         f"shape {image.shape}")
    if dct_method != "":
        raise NotImplementedError(f"tf.image.adjust_jpeg_quality: dct_method={dct_method!r} "
                                  f"is not implemented in numpyflow (only '').")
    quality = int(np.asarray(jpeg_quality.numpy() if hasattr(jpeg_quality, "numpy")
                             else jpeg_quality))
    if not 0 <= quality <= 100:
        raise ValueError(f"tf.image.adjust_jpeg_quality: `jpeg_quality` must be in [0, 100]; "
                         f"received {quality}")
    channels = image.shape[-1]
    pixels = convert_image_dtype(image, tf.uint8, saturate=True)
    if image.shape.rank == 3:
        decoded = _round_trip(pixels, quality, channels)
    else:
        decoded = tf.stack([_round_trip(pixels[i], quality, channels)
                            for i in range(pixels.shape[0])])
    return convert_image_dtype(decoded, image.dtype, saturate=True)


def _quality_range(low, high, op_name):
    if not (0 <= low <= 100 and 0 <= high <= 100):
        raise ValueError(f"tf.image.{op_name}: jpeg encoding range must be between 0 and 100; "
                         f"received ({low}, {high})")
    if low >= high:
        raise ValueError(f"tf.image.{op_name}: `min_jpeg_quality` must be less than "
                         f"`max_jpeg_quality`; received ({low}, {high})")


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """`adjust_jpeg_quality` at a quality drawn uniformly from [min, max).

    >>> import numpyflow as tf
    >>> random_jpeg_quality(tf.fill((8, 8, 3), 0.5), 60, 90).shape
    TensorShape([8, 8, 3])
    """
    _quality_range(min_jpeg_quality, max_jpeg_quality, "random_jpeg_quality")
    quality = tf.random.uniform([], min_jpeg_quality, max_jpeg_quality, dtype=tf.int32,
                                seed=seed)
    return adjust_jpeg_quality(image, quality)


def stateless_random_jpeg_quality(image, jpeg_quality_range, seed):
    """`adjust_jpeg_quality` at a quality drawn from [low, high), deterministic in `seed`.

    >>> import numpyflow as tf
    >>> stateless_random_jpeg_quality(tf.fill((8, 8, 3), 0.5), (60, 90), (1, 2)).shape
    TensorShape([8, 8, 3])
    """
    low, high = jpeg_quality_range
    _quality_range(low, high, "stateless_random_jpeg_quality")
    quality = tf.random.stateless_uniform([], seed, low, high, dtype=tf.int32)
    return adjust_jpeg_quality(image, quality)


def _jpeg_header(contents, op_name):
    data = image_io._as_bytes(contents, op_name)
    if not image_io.is_jpeg(data):
        raise InvalidArgumentError(None, None, f"tf.image.{op_name}: the contents are not a "
                                   f"JPEG image (they start {data[:8]!r})")
    pil = image_io._pil()
    try:
        with pil.open(io.BytesIO(data)) as opened:  # Reads the header only.
            width, height = opened.size
            channels = len(opened.getbands())
    except Exception as error:
        raise InvalidArgumentError(None, None, f"tf.image.{op_name}: invalid JPEG data "
                                   f"({error})") from None
    return height, width, channels


def extract_jpeg_shape(contents, output_type=tf.int32, name=None):
    """[height, width, channels] of a JPEG image, read from its header without decoding.

    >>> import numpy as np, numpyflow as tf
    >>> extract_jpeg_shape(tf.io.encode_jpeg(np.zeros((5, 7, 3), np.uint8))).numpy()
    array([5, 7, 3], dtype=int32)
    """
    if output_type not in (tf.int32, tf.int64):
        raise TypeError(f"tf.image.extract_jpeg_shape: `output_type` must be int32 or int64; "
                        f"received {output_type}")
    return tf.constant(_jpeg_header(contents, "extract_jpeg_shape"), output_type)


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                         try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                         name=None):
    """Decodes a JPEG and returns the `crop_window` [y, x, height, width] of it (uint8).

    >>> import numpy as np, numpyflow as tf
    >>> jpeg = tf.io.encode_jpeg(np.zeros((8, 9, 3), np.uint8))
    >>> decode_and_crop_jpeg(jpeg, [1, 2, 4, 5]).shape
    TensorShape([4, 5, 3])
    """
    window = [int(v) for v in np.asarray(
        crop_window.numpy() if hasattr(crop_window, "numpy") else crop_window).reshape(-1)]
    if len(window) != 4:
        raise ValueError(f"tf.image.decode_and_crop_jpeg: `crop_window` must be 4 integers "
                         f"[y, x, height, width]; received {window}")
    height, width, _ = _jpeg_header(contents, "decode_and_crop_jpeg")
    y, x, crop_h, crop_w = window
    if y < 0 or x < 0 or crop_h <= 0 or crop_w <= 0 or y + crop_h > height or x + crop_w > width:
        raise InvalidArgumentError(None, None, f"tf.image.decode_and_crop_jpeg: the crop "
                                   f"window {window} does not fit in the {height}x{width} "
                                   f"image")
    image = tf.io.decode_jpeg(contents, channels=channels, ratio=ratio,
                              fancy_upscaling=fancy_upscaling,
                              try_recover_truncated=try_recover_truncated,
                              acceptable_fraction=acceptable_fraction, dct_method=dct_method)
    return image[y:y + crop_h, x:x + crop_w, :]
