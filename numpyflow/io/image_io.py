"""Reading, writing, decoding and encoding image files (`tf.io`).

`read_file`, `encode_png` and `encode_jpeg` return scalar `tf.string` Tensors, as TF does;
the decoders take those, Python bytes, or anything with a `.numpy()` returning bytes.
Decoding and encoding go through Pillow, imported only when an image is decoded or encoded
(`pip install numpyflow[image]`); common PNGs are decoded by libpng instead when imagecodecs
is installed (`numpyflow[fastpng]`, see `png_fast.py`), with the same results. A file that
is not a valid image raises `tf.errors.InvalidArgumentError` naming what was received, and
so does an image declaring more pixels than Pillow's decompression-bomb limit
(`PIL.Image.MAX_IMAGE_PIXELS`, twice it); decoding never runs code from the file.
"""

import io
import os

import numpy as np

from numpyflow.framework import dtypes
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.framework.file_safety import atomic_path
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor, constant, convert_to_tensor
from numpyflow.io import png_fast


def _pil():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("Decoding and encoding images needs Pillow: "
                          "pip install numpyflow[image]") from error
    return Image


def read_file(filename, name=None):
    """Returns the contents of `filename` as a scalar `tf.string` Tensor.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> write_file(path, b"abc")
    >>> read_file(path).numpy()
    b'abc'
    """
    return ReadFile(_string_operand(filename, "read_file", _as_path))


def _read_file_forward(filename):
    path = _as_path(filename, "read_file")
    try:
        return np.array(_read_all(path), dtype=object)
    except FileNotFoundError as error:
        from numpyflow.framework.errors import NotFoundError
        raise NotFoundError(None, None, f"{path}; No such file or directory "
                                        f"[Op:ReadFile]") from error
    except IsADirectoryError as error:
        from numpyflow.framework.errors import FailedPreconditionError
        raise FailedPreconditionError(None, None, f"{path}; Is a directory "
                                                  f"[Op:ReadFile]") from error


# A primitive, so that a traced map function (`Dataset.map`, `tf.function`) reads the file
# on every call; stateful: the trace never keeps one file's contents as a constant.
ReadFile = Primitive("ReadFile", _read_file_forward, stateful=True)


def _string_operand(value, op_name, check):
    """`value` as the scalar tf.string Tensor a file primitive takes. A scalar string
    Tensor passes as it is (its value is read by the primitive, not here, so a traced
    function stays traceable); anything else is checked by `check` now."""
    if isinstance(value, Tensor) and value.dtype == dtypes.string and value.shape.rank == 0:
        return value
    return _string_scalar(check(value, op_name))


def _read_all(filename):
    """The bytes of `filename`, read with raw system calls: an input pipeline reads many
    small files, and Python's buffered file objects cost more than the read itself."""
    fd = os.open(filename, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        part = os.read(fd, size + 1)  # One byte more than expected, to see the end.
        if len(part) == size and size:
            # A regular file read short of what was asked only at its end: the file as
            # stat'ed, without a second system call to see the end again (a fifth of it).
            return part
        parts = []
        while part:
            parts.append(part)
            part = os.read(fd, 1 << 16)  # The file grew, or reports no size (/proc).
        return b"".join(parts)
    finally:
        os.close(fd)


def write_file(filename, contents, name=None):
    """Writes `contents` (bytes or str) to `filename` atomically, replacing any old file.

    A write killed at any moment leaves the old complete file or the new one.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> write_file(path, b"abc")
    >>> open(path, "rb").read()
    b'abc'
    """
    filename = _as_path(filename, "write_file")
    data = _as_bytes(contents, "write_file")
    with atomic_path(filename) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def _as_path(filename, op_name):
    if isinstance(filename, Tensor):
        if filename.dtype != dtypes.string:
            raise TypeError(f"tf.io.{op_name}: `filename` must be a str, bytes or path; "
                            f"received a {filename.dtype.name} tensor")
        filename = np.asarray(filename.numpy(), dtype=object)
    if isinstance(filename, np.ndarray):
        if filename.dtype.kind not in "OSU":
            raise TypeError(f"tf.io.{op_name}: `filename` must be a str, bytes or path; "
                            f"received a {dtypes.as_dtype(filename.dtype).name} tensor")
        if filename.ndim != 0:
            raise TypeError(f"tf.io.{op_name}: `filename` must be one file name (a scalar); "
                            f"received a string tensor of shape {list(filename.shape)}")
        filename = filename.item()
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"tf.io.{op_name}: `filename` must be a str, bytes or path; received "
                        f"{type(filename).__name__}")
    return os.fspath(filename)


def _string_scalar(data):
    """`data` (bytes) as a scalar tf.string Tensor."""
    return Tensor(np.array(data, dtype=object))


def _as_bytes(contents, op_name):
    if type(contents) is np.ndarray and contents.dtype.kind == "O" and contents.ndim == 0:
        item = contents.item()  # A scalar tf.string's array: how a plan passes file contents.
        if type(item) is bytes:
            return item
    if hasattr(contents, "numpy") and not isinstance(contents, (bytes, str)):
        contents = contents.numpy()
    if isinstance(contents, np.ndarray) and contents.ndim == 0:
        contents = contents.item()
    if isinstance(contents, str):
        contents = contents.encode("utf-8")
    if isinstance(contents, (bytearray, memoryview)):
        contents = bytes(contents)
    if not isinstance(contents, bytes):
        raise TypeError(f"tf.io.{op_name}: `contents` must be bytes (an encoded image); "
                        f"received {type(contents).__name__}")
    return contents


def _describe(data):
    head = data[:8]
    return f"{len(data)} bytes starting with {head!r}"


def _format_of(data):
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _op_tag(op_name):
    return "".join(part.capitalize() for part in op_name.split("_"))  # decode_png -> DecodePng


def _open(data, op_name, formats):
    """The Pillow image for `data`, fully decoded, or InvalidArgumentError."""
    image_module = _pil()
    found = _format_of(data)
    if found not in formats:
        raise InvalidArgumentError(
            None, None, f"tf.io.{op_name}: expected {' or '.join(formats)} data; received "
                        f"{_describe(data)} (format: {found or 'unknown'}) [Op:{_op_tag(op_name)}]")
    try:
        image = image_module.open(io.BytesIO(data), formats=[found])
        image.load()
    except Exception as error:  # Pillow raises many types for corrupt data.
        raise InvalidArgumentError(
            None, None, f"tf.io.{op_name}: cannot decode the {found} image ({_describe(data)}): "
                        f"{type(error).__name__} [Op:{_op_tag(op_name)}]") from error
    return image


def _to_array(image, channels, op_name):
    """An (H, W, C) array with `channels` (0 or None: as stored) in uint8 or uint16."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image)
        array = array.astype(np.uint16)[..., None]
        if channels in (3, 4):
            array = np.repeat(array, 3, axis=-1)
            if channels == 4:
                alpha = np.full(array.shape[:2] + (1,), 65535, np.uint16)
                array = np.concatenate([array, alpha], axis=-1)
        return array
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if mode in ("PA", "RGBa") else "RGB"
                              if mode != "1" else "L")
    target = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(channels)
    if channels not in (0, None) and target is None:
        raise ValueError(f"tf.io.{op_name}: `channels` must be 0, 1, 2, 3 or 4; received "
                         f"channels={channels!r}")
    if target is not None and image.mode != target:
        image = image.convert(target)
    # The packed bytes, one uint8 per channel (quicker than `np.asarray(image)`).
    width, height = image.size
    return np.frombuffer(image.tobytes(), np.uint8).reshape(height, width, -1)


def _check_png_depth(data, dtype, op_name):
    """Refuses what Pillow would decode at 8 bits: a 16-bit colour PNG wanted above 8 bits."""
    bit_depth, colour_type = (data[24], data[25]) if len(data) > 25 else (8, 0)
    if bit_depth == 16 and colour_type != 0 and dtypes.as_dtype(dtype).name != "uint8":
        raise NotImplementedError(f"tf.io.{op_name}: decoding a 16-bit colour PNG to "
                                  f"{dtypes.as_dtype(dtype).name} is not implemented in "
                                  f"numpyflow (Pillow reads it at 8 bits); use dtype=tf.uint8, "
                                  f"or a 16-bit grayscale PNG.")


def _check_channels(channels, allowed, op_name):
    if channels is not None and channels not in allowed:
        raise ValueError(f"tf.io.{op_name}: `channels` must be one of {sorted(allowed)}; "
                         f"received channels={channels!r}")


def _checked_dtype(dtype, allowed, op_name):
    """`dtype` as a NumPy dtype, if it is one of `allowed` (names)."""
    name = dtypes.as_dtype(dtype).name
    if name not in allowed:
        raise ValueError(f"tf.io.{op_name}: `dtype` must be one of {list(allowed)}; received "
                         f"dtype={name}")
    return np.dtype(name)


def _convert_dtype(array, dtype, allowed, op_name):
    """`array` (uint8 or uint16) in `dtype`, rescaled as TF's decoders do (uint8 -> uint16
    multiplies by 257, uint16 -> uint8 keeps the high byte, floats are in [0, 1])."""
    dtype = dtypes.as_dtype(dtype)
    if dtype.name not in allowed:
        raise ValueError(f"tf.io.{op_name}: `dtype` must be one of {list(allowed)}; received "
                         f"dtype={dtype.name}")
    target = np.dtype(dtype.name)
    if array.dtype == target:
        return array
    if target.kind == "f":
        return (array.astype(np.float32) * np.float32(1.0 / np.iinfo(array.dtype).max)).astype(
            target)
    if target == np.uint16:  # uint8 -> uint16: 255 -> 65535
        return array.astype(np.uint16) * np.uint16(257)
    return (array >> np.uint16(8)).astype(np.uint8)  # uint16 -> uint8


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None):
    """Decodes a PNG image into a (height, width, channels) uint8 or uint16 tensor.

    Args:
      contents: The PNG file's bytes.
      channels: 0 (as stored, which may be grayscale + alpha), 1 (grayscale), 3 (RGB) or 4
        (RGBA); TF refuses 2.
      dtype: `tf.uint8` or `tf.uint16`.

    >>> import numpy as np, numpyflow as tf
    >>> png = tf.io.encode_png(np.zeros((2, 3, 1), np.uint8))
    >>> tf.io.decode_png(png, channels=3).shape
    TensorShape([2, 3, 3])
    """
    _check_channels(channels, (0, 1, 3, 4), "decode_png")
    dtype = _checked_dtype(dtype, ("uint8", "uint16"), "decode_png")
    return DecodePng(_string_operand(contents, "decode_png", _as_bytes), channels=channels,
                     dtype=dtype)


def _decode_png_forward(contents, channels, dtype):
    data = _as_bytes(contents, "decode_png")
    array = png_fast.decode(data, channels, _pil().MAX_IMAGE_PIXELS)
    if array is None:
        image = _open(data, "decode_png", ("PNG",))
        _check_png_depth(data, dtype, "decode_png")
        array = _to_array(image, channels, "decode_png")
    elif array.dtype == dtype:  # The usual uint8 image, as asked: once per pipeline image.
        return array
    return _convert_dtype(array, dtype, ("uint8", "uint16"), "decode_png")


# The decoders are primitives so that a map function decoding images can be traced; an
# image's size comes from the file (output_shape_from_data): a plan checks it.
DecodePng = Primitive("DecodePng", _decode_png_forward, output_shape_from_data=True)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="", name=None):
    """Decodes a JPEG image into a (height, width, channels) uint8 tensor.

    Args:
      contents: The JPEG file's bytes.
      channels: 0 (as stored), 1 (grayscale) or 3 (RGB).
      ratio, fancy_upscaling, try_recover_truncated, acceptable_fraction, dct_method: only
        TF's defaults are supported (others raise NotImplementedError).

    >>> import numpy as np, numpyflow as tf
    >>> jpeg = tf.io.encode_jpeg(np.zeros((8, 8, 3), np.uint8))
    >>> tf.io.decode_jpeg(jpeg).shape
    TensorShape([8, 8, 3])
    """
    for arg, value, default in (("ratio", ratio, 1), ("fancy_upscaling", fancy_upscaling, True),
                                ("try_recover_truncated", try_recover_truncated, False),
                                ("acceptable_fraction", acceptable_fraction, 1),
                                ("dct_method", dct_method, "")):
        if value != default:
            raise NotImplementedError(f"tf.io.decode_jpeg: {arg}={value!r} is not implemented "
                                      f"in numpyflow (only {arg}={default!r}).")
    _check_channels(channels, (0, 1, 3), "decode_jpeg")
    return DecodeJpeg(_string_operand(contents, "decode_jpeg", _as_bytes), channels=channels)


def _decode_jpeg_forward(contents, channels):
    image = _open(_as_bytes(contents, "decode_jpeg"), "decode_jpeg", ("JPEG",))
    return _to_array(image, channels, "decode_jpeg")


DecodeJpeg = Primitive("DecodeJpeg", _decode_jpeg_forward, output_shape_from_data=True)


def _jpeg_header(contents, op_name):
    """(height, width, channels) from a JPEG's header, without decoding the pixels."""
    data = _as_bytes(contents, op_name)
    tag = f"[Op:{_op_tag(op_name)}]"
    if not is_jpeg(data):
        raise InvalidArgumentError(None, None, f"tf.io.{op_name}: the contents are not a JPEG "
                                   f"image ({_describe(data)}) {tag}")
    try:
        with _pil().open(io.BytesIO(data), formats=["JPEG"]) as opened:  # Header only.
            width, height = opened.size
            channels = len(opened.getbands())
    except Exception as error:  # Pillow raises many types for corrupt data.
        raise InvalidArgumentError(None, None, f"tf.io.{op_name}: invalid JPEG data "
                                   f"({_describe(data)}): {error} {tag}") from None
    return height, width, channels


def extract_jpeg_shape(contents, output_type=dtypes.int32, name=None):
    """[height, width, channels] of a JPEG image, read from its header without decoding
    (also `tf.image.extract_jpeg_shape`).

    Args:
      contents: The JPEG file's bytes.
      output_type: tf.int32 or tf.int64.

    Raises:
      InvalidArgumentError: for data that is not a JPEG, or another `output_type`.

    >>> import numpy as np, numpyflow as tf
    >>> tf.io.extract_jpeg_shape(tf.io.encode_jpeg(np.zeros((5, 7, 3), np.uint8))).numpy()
    array([5, 7, 3], dtype=int32)
    """
    output_type = dtypes.as_dtype(output_type)
    if output_type not in (dtypes.int32, dtypes.int64):
        raise InvalidArgumentError(None, None, f"tf.io.extract_jpeg_shape: `output_type` must "
                                   f"be int32 or int64; received {output_type.name} "
                                   f"[Op:ExtractJpegShape]")
    return constant(_jpeg_header(contents, "extract_jpeg_shape"), output_type)


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                         try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                         name=None):
    """Decodes a JPEG and returns its `crop_window` [y, x, height, width] (uint8; also
    `tf.image.decode_and_crop_jpeg`).

    Args:
      contents: The JPEG file's bytes.
      crop_window: 4 integers [y, x, height, width] that lie inside the image.
      channels, ratio, ...: as `decode_jpeg`.

    Raises:
      InvalidArgumentError: for data that is not a JPEG, or a window that is not a vector
        of 4 or does not fit in the image.
      TypeError, ValueError: for a window that does not convert to int32 (1.5; a float
        or int64 tensor), as in TF.

    >>> import numpy as np, numpyflow as tf
    >>> jpeg = tf.io.encode_jpeg(np.zeros((8, 9, 3), np.uint8))
    >>> tf.io.decode_and_crop_jpeg(jpeg, [1, 2, 4, 5]).shape
    TensorShape([4, 5, 3])
    """
    # TF converts the window to its int32 input: 1.5 or a float tensor is an error there,
    # not a window truncated to integers.
    window = convert_to_tensor(crop_window, dtype=dtypes.int32).numpy()
    if window.shape != (4,):
        raise InvalidArgumentError(None, None, f"tf.io.decode_and_crop_jpeg: `crop_window` "
                                   f"must be 1-D with four elements [y, x, height, width]; "
                                   f"received shape {list(window.shape)} [Op:DecodeAndCropJpeg]")
    window = [int(v) for v in window]
    height, width, _ = _jpeg_header(contents, "decode_and_crop_jpeg")
    y, x, crop_h, crop_w = window
    if y < 0 or x < 0 or crop_h <= 0 or crop_w <= 0 or y + crop_h > height or x + crop_w > width:
        raise InvalidArgumentError(None, None, f"tf.io.decode_and_crop_jpeg: the crop window "
                                   f"{window} does not fit in the {height}x{width} image "
                                   f"[Op:DecodeAndCropJpeg]")
    image = decode_jpeg(contents, channels=channels, ratio=ratio,
                        fancy_upscaling=fancy_upscaling,
                        try_recover_truncated=try_recover_truncated,
                        acceptable_fraction=acceptable_fraction, dct_method=dct_method)
    return image[y:y + crop_h, x:x + crop_w, :]


def decode_gif(contents, name=None):
    """Decodes every frame of a GIF into a (frames, height, width, 3) uint8 tensor.

    >>> import numpy as np, numpyflow as tf
    >>> from PIL import Image; import io
    >>> buffer = io.BytesIO(); Image.new("RGB", (4, 2)).save(buffer, "GIF")
    >>> tf.io.decode_gif(buffer.getvalue()).shape
    TensorShape([1, 2, 4, 3])
    """
    data = _as_bytes(contents, "decode_gif")
    return constant(_gif_frames(_open(data, "decode_gif", ("GIF",)), data))


def _gif_frames(image, data):
    frames = []
    try:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    except Exception as error:
        raise InvalidArgumentError(None, None, f"tf.io.decode_gif: cannot decode frame "
                                               f"{len(frames)} of the GIF ({_describe(data)}): "
                                               f"{error} [Op:DecodeGif]") from error
    return np.stack(frames)


def decode_bmp(contents, channels=0, name=None):
    """Decodes a BMP image into a (height, width, channels) uint8 tensor."""
    _check_channels(channels, (0, 1, 3, 4), "decode_bmp")
    data = _as_bytes(contents, "decode_bmp")
    return constant(_to_array(_open(data, "decode_bmp", ("BMP",)), channels, "decode_bmp"))


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None,
                 expand_animations=True):
    """Decodes a PNG, JPEG, GIF, BMP or WebP image, detecting the format from its bytes.

    Args:
      contents: The file's bytes.
      channels: None or 0 (as stored), 1, 3 or 4.
      dtype: `tf.uint8`, `tf.uint16` or `tf.float32` (floats are scaled to [0, 1]).
      expand_animations: If True a GIF gives (frames, height, width, 3); if False its first
        frame only, (height, width, 3).

    >>> import numpy as np, numpyflow as tf
    >>> png = tf.io.encode_png(np.full((2, 2, 3), 255, np.uint8))
    >>> float(tf.io.decode_image(png, dtype=tf.float32).numpy().max())
    1.0
    """
    _check_channels(channels, (0, 1, 3, 4), "decode_image")
    dtype = _checked_dtype(dtype, ("uint8", "uint16", "float32"), "decode_image")
    return DecodeImage(_string_operand(contents, "decode_image", _as_bytes), channels=channels,
                       dtype=dtype, expand_animations=bool(expand_animations))


def _decode_image_forward(contents, channels, dtype, expand_animations):
    data = _as_bytes(contents, "decode_image")
    array = png_fast.decode(data, channels, _pil().MAX_IMAGE_PIXELS)
    if array is not None:
        return _convert_dtype(array, dtype, ("uint8", "uint16", "float32"), "decode_image")
    image = _open(data, "decode_image", ("PNG", "JPEG", "GIF", "BMP", "WEBP"))
    if image.format == "PNG":
        _check_png_depth(data, dtype, "decode_image")
    if image.format == "GIF" and expand_animations:
        array = _gif_frames(image, data)
        if channels not in (None, 0, 3):
            raise ValueError(f"tf.io.decode_image: a GIF decodes to 3 channels; received "
                             f"channels={channels}")
    else:
        array = _to_array(image, channels, "decode_image")
    return _convert_dtype(array, dtype, ("uint8", "uint16", "float32"), "decode_image")


DecodeImage = Primitive("DecodeImage", _decode_image_forward, output_shape_from_data=True)


def _image_array(image, op_name, dtypes_allowed, channels_allowed):
    array = image.numpy() if isinstance(image, Tensor) else np.asarray(image)
    if array.ndim != 3:
        raise ValueError(f"tf.io.{op_name}: `image` must be 3-D (height, width, channels); "
                         f"received shape {list(array.shape)}")
    if array.dtype.name not in dtypes_allowed:
        raise ValueError(f"tf.io.{op_name}: `image` must have dtype {' or '.join(dtypes_allowed)}"
                         f"; received {array.dtype.name}")
    if array.shape[-1] not in channels_allowed:
        raise ValueError(f"tf.io.{op_name}: `image` must have {channels_allowed} channels; "
                         f"received shape {list(array.shape)}")
    if 0 in array.shape[:2]:
        raise ValueError(f"tf.io.{op_name}: `image` is empty; received shape "
                         f"{list(array.shape)}")
    return np.ascontiguousarray(array)


def encode_png(image, compression=-1, name=None):
    """Encodes a (height, width, channels) uint8 or uint16 image as PNG (a tf.string scalar).

    Args:
      image: 1 to 4 channels.
      compression: -1 (default) or a zlib level 0-9.

    >>> import numpy as np, numpyflow as tf
    >>> tf.io.encode_png(np.zeros((1, 1, 3), np.uint8)).numpy()[:4]
    b'\\x89PNG'
    """
    if not -1 <= int(compression) <= 9:
        raise ValueError(f"tf.io.encode_png: `compression` must be in [-1, 9]; received "
                         f"compression={compression!r}")
    array = _image_array(image, "encode_png", ("uint8", "uint16"), (1, 2, 3, 4))
    image_module = _pil()
    channels = array.shape[-1]
    if array.dtype == np.uint16:
        if channels != 1:
            # Pillow writes 16-bit PNGs for one channel only.
            raise NotImplementedError("tf.io.encode_png: uint16 images with "
                                      f"{channels} channels are not implemented in numpyflow "
                                      "(1 channel is).")
        pil = image_module.fromarray(array[..., 0])
    else:
        pil = image_module.fromarray(array[..., 0] if channels == 1 else array)
    buffer = io.BytesIO()
    level = 6 if int(compression) == -1 else int(compression)
    pil.save(buffer, format="PNG", compress_level=level)
    return _string_scalar(buffer.getvalue())


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300,
                xmp_metadata="", name=None):
    """Encodes a (height, width, 1 or 3) uint8 image as JPEG (a tf.string scalar).

    Args:
      quality: 0-100.
      format: "" (from the channels), "grayscale" or "rgb".
      progressive, optimize_size, chroma_downsampling, density_unit, x_density, y_density:
        as TF. `xmp_metadata` must stay "" (anything else raises NotImplementedError).

    >>> import numpy as np, numpyflow as tf
    >>> tf.io.encode_jpeg(np.zeros((8, 8, 3), np.uint8)).numpy()[:3]
    b'\\xff\\xd8\\xff'
    """
    if xmp_metadata:
        raise NotImplementedError("tf.io.encode_jpeg: xmp_metadata is not implemented in "
                                  "numpyflow.")
    if not 0 <= int(quality) <= 100:
        raise ValueError(f"tf.io.encode_jpeg: `quality` must be in [0, 100]; received "
                         f"quality={quality!r}")
    if density_unit not in ("in", "cm"):
        raise ValueError(f"tf.io.encode_jpeg: `density_unit` must be 'in' or 'cm'; received "
                         f"{density_unit!r}")
    array = _image_array(image, "encode_jpeg", ("uint8",), (1, 3))
    wanted = {"": array.shape[-1], "grayscale": 1, "rgb": 3}.get(format)
    if wanted is None:
        raise ValueError(f"tf.io.encode_jpeg: `format` must be '', 'grayscale' or 'rgb'; "
                         f"received {format!r}")
    if wanted != array.shape[-1]:
        raise ValueError(f"tf.io.encode_jpeg: format={format!r} needs {wanted} channel(s); "
                         f"received shape {list(array.shape)}")
    image_module = _pil()
    pil = image_module.fromarray(array[..., 0] if wanted == 1 else array)
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=int(quality), progressive=bool(progressive),
             optimize=bool(optimize_size), subsampling=2 if chroma_downsampling else 0,
             dpi=(x_density, y_density) if density_unit == "in" else
             (x_density * 2.54, y_density * 2.54))
    return _string_scalar(buffer.getvalue())


def is_jpeg(contents, name=None):
    """Whether `contents` starts like a JPEG file."""
    return _format_of(_as_bytes(contents, "is_jpeg")) == "JPEG"
