"""`keras.utils.load_img`, `img_to_array`, `array_to_img` and `save_img` (Pillow images).

Pillow is imported only when one of these runs (`pip install numpyflow[image]`). Images are
channels-last unless `data_format="channels_first"`; `save_img` writes atomically.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> save_img(path, np.zeros((4, 5, 3)))
    >>> img_to_array(load_img(path)).shape
    (4, 5, 3)
"""

import io
import os
import pathlib
import warnings

import numpy as np

from numpyflow.framework.file_safety import atomic_path
from numpyflow.io.image_io import _pil
from numpyflow.keras import backend

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _data_format(data_format):
    data_format = "channels_last" if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format}")
    return data_format


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array as a Pillow image (1 channel: "L", 3: "RGB", 4: "RGBA").

    Args:
      x: (height, width, channels) (or channels first with `data_format`).
      scale: Rescale the values to [0, 255] (min -> 0, max -> 255) first.
      dtype: The float type to compute in (default `keras.backend.floatx()`).

    >>> import numpy as np
    >>> array_to_img(np.zeros((2, 3, 1))).size
    (3, 2)
    """
    data_format = _data_format(data_format)
    x = np.array(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    image_module = _pil()
    channels = x.shape[2]
    if channels in (3, 4):
        return image_module.fromarray(x.astype("uint8"))
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale (Pillow mode "I")
            return image_module.fromarray(x[:, :, 0].astype("int32"))
        return image_module.fromarray(x[:, :, 0].astype("uint8"))
    raise ValueError(f"array_to_img: unsupported number of channels: {channels} (expected 1, "
                     f"3 or 4; shape {x.shape})")


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image as a 3-D NumPy array of `dtype` (default `keras.backend.floatx()`).

    >>> import numpy as np
    >>> img_to_array(array_to_img(np.zeros((2, 3, 1)))).shape
    (2, 3, 1)
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves a 3-D array as an image file, atomically.

    Args:
      path: A path or a writable binary file object.
      x: The image array (see `array_to_img`).
      file_format: "png", "jpeg", ... (default: from the file name's extension).
      scale: Rescale the values to [0, 255] first.
      **kwargs: Passed to Pillow's `Image.save` (e.g. `quality=90`).

    >>> import os, tempfile, numpy as np
    >>> save_img(os.path.join(tempfile.mkdtemp(), "a.jpg"), np.ones((8, 8, 3)))
    """
    if file_format is None and isinstance(path, (str, os.PathLike)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format is None:
        raise ValueError(f"save_img: cannot tell the image format from path={path!r}; pass "
                         f"file_format (e.g. 'png').")
    file_format = "jpeg" if file_format.lower() == "jpg" else file_format.lower()
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        image = image.convert("RGB")
    if not isinstance(path, (str, os.PathLike)):
        image.save(path, format=file_format, **kwargs)
        return
    buffer = io.BytesIO()
    image.save(buffer, format=file_format, **kwargs)  # Fails before the file is touched.
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(buffer.getvalue())


def _crop_box(size, target_size):
    """The centred (left, top, right, bottom) box with the target's aspect ratio."""
    width, height = size
    target_height, target_width = target_size
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return left, top, left + crop_width, top + crop_height


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Loads an image file as a Pillow image.

    Args:
      path: A path or a binary file object (`io.BytesIO`).
      color_mode: "grayscale", "rgb" or "rgba".
      target_size: None (the file's size) or (height, width) to resize to.
      interpolation: Pillow's resampling: "nearest", "bilinear", "bicubic", "hamming",
        "box" or "lanczos".
      keep_aspect_ratio: Centre-crop to the target's aspect ratio before resizing.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> save_img(path, np.zeros((4, 6, 3)))
    >>> load_img(path, color_mode="grayscale", target_size=(2, 3)).size
    (3, 2)
    """
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(f'color_mode must be "grayscale", "rgb", or "rgba"; received '
                         f"color_mode={color_mode!r}")
    if target_size is not None and interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation!r} specified. Supported "
                         f"methods are {', '.join(INTERPOLATIONS)}")
    image_module = _pil()
    if isinstance(path, io.IOBase):
        image = image_module.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            image = image_module.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if image.mode not in ("L", "I;16", "I"):  # 8, 16 or 32-bit grayscale already
            image = image.convert("L")
    elif image.mode != color_mode.upper():
        image = image.convert(color_mode.upper())
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if image.size != size:
            resample = getattr(image_module.Resampling, interpolation.upper())
            if keep_aspect_ratio:
                image = image.crop(_crop_box(image.size, target_size))
            image = image.resize(size, resample)
    return image
