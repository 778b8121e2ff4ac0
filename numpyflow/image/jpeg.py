"""JPEG helpers of `tf.image`: compression artefacts as an augmentation (`adjust_jpeg_quality`
and its random variants), and the header/crop decoders `extract_jpeg_shape` and
`decode_and_crop_jpeg`, which are `tf.io`'s (defined in io/image_io.py, as TF exports the
same functions under both names).

Encoding and decoding go through `tf.io` (Pillow, imported when first used; `pip install
numpyflow[image]`). Pillow's libjpeg is not TF's libjpeg-turbo build, so re-encoded pixels
may differ from TF's by a few levels; shapes and dtypes are TF's. None has a gradient (TF's
encoders have none either).
"""

import numpy as np

import numpyflow as tf
from numpyflow.image.conversions import convert_image_dtype
from numpyflow.io.image_io import decode_and_crop_jpeg, extract_jpeg_shape  # noqa: F401


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
