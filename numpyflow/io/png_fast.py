"""Decoding common PNG files with libpng (through imagecodecs), when it is installed.

An input pipeline decodes many small images. Pillow parses a PNG's chunks in Python (about
25 us for a 28x28 image, holding the GIL); libpng does all of it in C, several times
faster, without the GIL. `pip install numpyflow[fastpng]` installs imagecodecs, which
wraps libpng; without it every PNG goes to Pillow.

Only files that both decoders turn into the same pixels take this path: 8-bit grayscale,
grayscale + alpha, RGB or RGBA images without a tRNS chunk (libpng would add an alpha
channel for it; Pillow keeps it aside), decoded to their own number of channels, within
Pillow's decompression-bomb limit. Any other file, and any file libpng refuses, goes to
Pillow, so results and error messages stay as `image_io` documents them.
"""

import struct

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The signature, then the IHDR chunk's length, type, width, height, bit depth, colour type.
_HEADER = struct.Struct(">8sI4sIIBB")
_CHANNELS = {0: 1, 4: 2, 2: 3, 6: 4}  # PNG colour type -> channels
_UINT8 = np.dtype(np.uint8)
_decoder = None  # imagecodecs.png_decode; False when imagecodecs is not installed.


def _png_decode():
    global _decoder
    if _decoder is None:
        try:
            from imagecodecs import png_decode
        except ImportError:
            png_decode = False
        _decoder = png_decode
    return _decoder


def decode(data, channels, max_pixels):
    """The (height, width, channels) uint8 pixels of PNG `data`, or None: use Pillow.

    Args:
      data: The file's bytes.
      channels: The channels asked for (0 or None: as stored).
      max_pixels: Pillow's decompression-bomb threshold (`PIL.Image.MAX_IMAGE_PIXELS`);
        larger images go to Pillow, which warns or refuses.

    Example:
        >>> import numpyflow as tf
        >>> png = tf.io.encode_png(np.zeros((2, 3, 1), np.uint8)).numpy()
        >>> pixels = decode(png, 0, 10**6)
        >>> pixels is None or pixels.shape == (2, 3, 1)
        True
    """
    if len(data) < 33:
        return None
    # One unpack of the header: this runs once per image of an input pipeline.
    signature, _, chunk_type, width, height, depth, colour_type = _HEADER.unpack_from(data)
    native = _CHANNELS.get(colour_type)
    if (signature != _SIGNATURE or chunk_type != b"IHDR" or depth != 8 or native is None
            or channels not in (0, None, native)):
        return None
    if max_pixels is not None and width * height > max_pixels:
        return None
    first_data = data.find(b"IDAT", 33)
    if first_data < 0 or data.find(b"tRNS", 33, first_data) >= 0:
        return None
    png_decode = _png_decode()
    if not png_decode:
        return None
    try:
        pixels = png_decode(data)
    except Exception:  # noqa: BLE001 - libpng refused it: Pillow decodes it or says why.
        return None
    if pixels.dtype != _UINT8 or pixels.shape[:2] != (height, width):
        return None
    pixels = pixels.reshape(height, width, -1)
    return pixels if pixels.shape[2] == native else None
