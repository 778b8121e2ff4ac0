"""`png_fast`: PNGs decoded by libpng (imagecodecs) give exactly what Pillow gives, and every
file it does not take (or that libpng refuses) goes to Pillow."""

import io
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

import numpyflow as tf
from numpyflow.io import png_fast

pytest.importorskip("imagecodecs")  # Installed with numpyflow[fastpng] (and [test]).


def _png(image, **save_args):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **save_args)
    return buffer.getvalue()


def _with_chunk(png, kind, payload):
    """`png` with one more ancillary chunk right after IHDR."""
    chunk = (len(payload).to_bytes(4, "big") + kind + payload
             + zlib.crc32(kind + payload).to_bytes(4, "big"))
    return png[:33] + chunk + png[33:]


def _pixels(shape, seed, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype)


def _files():
    """name -> (PNG bytes, whether libpng decodes it here)."""
    rgb = _pixels((9, 13, 3), 3)
    return {
        "L": (_png(Image.fromarray(_pixels((9, 13), 1), "L")), True),
        "LA": (_png(Image.fromarray(_pixels((9, 13, 2), 2), "LA")), True),
        "RGB": (_png(Image.fromarray(rgb, "RGB")), True),
        "RGBA": (_png(Image.fromarray(_pixels((9, 13, 4), 4), "RGBA")), True),
        "RGB interlaced": (_png(Image.fromarray(rgb, "RGB"), interlace=1), True),
        # Neither decoder applies a gamma (gAMA) or significant-bits (sBIT) chunk.
        "RGB with gAMA and sBIT": (_with_chunk(_with_chunk(
            _png(Image.fromarray(rgb, "RGB")), b"gAMA", (100000).to_bytes(4, "big")),
            b"sBIT", bytes([5, 6, 5])), True),
        "L with tRNS": (_png(Image.fromarray(_pixels((9, 13), 5), "L"), transparency=7), False),
        "RGB with tRNS": (_png(Image.fromarray(rgb, "RGB"), transparency=(1, 2, 3)), False),
        "palette": (_png(Image.fromarray(rgb).quantize(16)), False),
        "palette with tRNS": (_png(Image.fromarray(rgb).quantize(16), transparency=2), False),
        "16-bit gray": (_png(Image.fromarray(_pixels((9, 13), 6, np.uint16))), False),
        "1-bit": (_png(Image.fromarray(_pixels((9, 13), 7) > 127)), False),
    }


@pytest.fixture
def decoder_calls(monkeypatch):
    calls = []
    real = png_fast._png_decode()
    assert real, "imagecodecs is importable, so the fast path is on"

    def counting(data):
        calls.append(len(data))
        return real(data)
    monkeypatch.setattr(png_fast, "_decoder", counting)
    return calls


def _through_pillow(monkeypatch, decode):
    with monkeypatch.context() as patch:
        patch.setattr(png_fast, "_decoder", False)
        return decode()


@pytest.mark.parametrize("name", list(_files()))
def test_every_file_decodes_as_pillow_decodes_it(name, decoder_calls, monkeypatch):
    data, fast = _files()[name]
    for channels in (0, 1, 3, 4):  # TF's choices (2 is refused)
        for dtype in (tf.uint8, tf.uint16):
            def decode():
                return tf.io.decode_png(data, channels=channels, dtype=dtype)
            try:
                expected = _through_pillow(monkeypatch, decode).numpy()
            except NotImplementedError:  # A 16-bit colour PNG above 8 bits: both refuse.
                continue
            got = decode()
            assert got.dtype == dtype
            np.testing.assert_array_equal(got.numpy(), expected)
        expected = _through_pillow(
            monkeypatch, lambda: tf.io.decode_image(data, channels, tf.float32)).numpy()
        np.testing.assert_array_equal(
            tf.io.decode_image(data, channels, tf.float32).numpy(), expected)
    assert bool(decoder_calls) == fast


def test_own_channel_count_only(decoder_calls):
    data = _files()["RGB"][0]
    assert tf.io.decode_png(data, channels=3).shape == (9, 13, 3)
    assert len(decoder_calls) == 1
    assert tf.io.decode_png(data, channels=1).shape == (9, 13, 1)  # Pillow converts.
    assert len(decoder_calls) == 1


def test_refused_and_corrupt_files_get_pillow_s_errors(decoder_calls):
    good = bytearray(_files()["L"][0])
    first_data = good.find(b"IDAT")
    corrupt = bytes(good[:first_data + 8]) + b"\x00" * 20  # Broken compressed pixels.
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot decode the PNG image"):
        tf.io.decode_png(corrupt)
    assert len(decoder_calls) == 1  # libpng tried and refused; Pillow then said why.
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected PNG data"):
        tf.io.decode_png(b"GIF89a" + b"\x00" * 40)
    assert len(decoder_calls) == 1


def test_decompression_bomb_limit_still_applies(decoder_calls, monkeypatch):
    data = _files()["L"][0]  # 9 x 13 = 117 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow refuses above twice that.
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot decode the PNG image"):
        tf.io.decode_png(data)
    assert decoder_calls == []


def test_import_numpyflow_loads_no_imagecodecs():
    code = ("import sys, numpyflow; "
            "print([m for m in sys.modules if m.split('.')[0] == 'imagecodecs'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
