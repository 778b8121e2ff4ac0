"""Op cases for the file and image-decoding primitives of numpyflow.io (no gradients).

References read the same bytes with Python's own file API and decode them with Pillow
directly; the images are made here.
"""

import io
import os
import tempfile

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case


def _encoded(array, format):
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format)
    return buffer.getvalue()


def _decoded(data, mode=None):
    from PIL import Image
    image = Image.open(io.BytesIO(data))
    return np.asarray(image.convert(mode) if mode else image)


_rng = np.random.default_rng(7)
_gray = _rng.integers(0, 256, (5, 4), dtype=np.uint8)
_rgb = _rng.integers(0, 256, (3, 6, 3), dtype=np.uint8)
_png_gray, _png_rgb = _encoded(_gray, "PNG"), _encoded(_rgb, "PNG")
_jpeg = _encoded(_rgb, "JPEG")
_path = os.path.join(tempfile.mkdtemp(prefix="numpyflow-opcase-"), "bytes.bin")
with open(_path, "wb") as _file:
    _file.write(b"\x00numpyflow\xff")


def _scalar(value):
    return np.array(value, dtype=object)


def _read(filename):
    with open(filename.item(), "rb") as f:
        contents = np.empty(1, dtype=object)
        contents[0] = f.read()
        return contents


CASES = [
    # As a 1-element vector: `.numpy()` of a scalar string is plain bytes.
    case("ReadFile", lambda t: tf.reshape(tf.io.read_file(t), [1]), _read,
         _scalar(_path.encode())),
    case("DecodePng", lambda t: tf.io.decode_png(t, channels=1),
         lambda a: _decoded(a.item())[..., None], _scalar(_png_gray)),
    case("DecodePng", lambda t: tf.io.decode_png(t, channels=3), lambda a: _decoded(a.item()),
         _scalar(_png_rgb), id="decode_png_rgb"),
    case("DecodeJpeg", tf.io.decode_jpeg, lambda a: _decoded(a.item(), "RGB"), _scalar(_jpeg)),
    case("DecodeImage", lambda t: tf.io.decode_image(t, dtype=tf.float32),
         lambda a: _decoded(a.item()).astype(np.float32) / np.float32(255), _scalar(_png_rgb)),
]
