"""`tf.io` image files: read/write, PNG/JPEG/GIF/BMP decoding and PNG/JPEG encoding,
checked against Pillow and against what TF 2.21 gives (numbers in the tests)."""

import io
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

import numpyflow as tf


def _pillow_bytes(array, fmt, **kwargs):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _random_image(shape, seed=0, dtype=np.uint8):
    high = np.iinfo(dtype).max + 1
    return np.random.default_rng(seed).integers(0, high, size=shape).astype(dtype)


def test_read_and_write_file(tmp_path):
    path = tmp_path / "data.bin"
    tf.io.write_file(str(path), b"\x00\x01binary")
    assert tf.io.read_file(str(path)) == b"\x00\x01binary"
    tf.io.write_file(path, "text")  # str contents are written as UTF-8, replacing the file
    assert tf.io.read_file(path) == b"text"
    assert os.listdir(tmp_path) == ["data.bin"]  # no temporary file left behind
    with pytest.raises(tf.errors.NotFoundError, match="missing.bin"):
        tf.io.read_file(str(tmp_path / "missing.bin"))
    with pytest.raises(TypeError, match="must be bytes .* received int"):
        tf.io.write_file(str(path), 3)


def test_write_file_is_atomic(tmp_path):
    path = tmp_path / "keep.bin"
    tf.io.write_file(path, b"old")
    with pytest.raises(FileNotFoundError):
        tf.io.write_file(tmp_path / "missing_dir" / "x.bin", b"new")
    assert path.read_bytes() == b"old"


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trips_through_pillow(channels):
    image = _random_image((5, 7, channels), seed=channels)
    encoded = tf.io.encode_png(image)
    assert encoded.dtype == tf.string and encoded.shape == ()
    decoded_by_pillow = np.asarray(Image.open(io.BytesIO(encoded.numpy())))
    np.testing.assert_array_equal(decoded_by_pillow.reshape(image.shape), image)
    pillow_png = _pillow_bytes(image[..., 0] if channels == 1 else image, "PNG")
    decoded = tf.io.decode_png(pillow_png)
    assert decoded.dtype == tf.uint8
    np.testing.assert_array_equal(decoded.numpy(), image)
    np.testing.assert_array_equal(tf.io.decode_image(encoded).numpy(), image)


def test_png_channel_conversions_as_tf():
    gray_alpha = np.array([[[142, 214]]], np.uint8)
    png = tf.io.encode_png(gray_alpha)
    # TF 2.21: channels=3 drops the alpha, channels=4 keeps it.
    assert tf.io.decode_png(png, channels=3).numpy().ravel().tolist() == [142, 142, 142]
    assert tf.io.decode_png(png, channels=4).numpy().ravel().tolist() == [142, 142, 142, 214]
    rgb = _random_image((3, 4, 3))
    gray = tf.io.decode_png(tf.io.encode_png(rgb), channels=1).numpy()
    expected = np.asarray(Image.fromarray(rgb).convert("L"))[..., None]
    np.testing.assert_array_equal(gray, expected)
    palette = Image.fromarray(rgb[..., 0]).convert("P")
    buffer = io.BytesIO()
    palette.save(buffer, "PNG")
    np.testing.assert_array_equal(tf.io.decode_png(buffer.getvalue()).numpy(),
                                  np.asarray(palette.convert("RGB")))


def test_sixteen_bit_png_as_tf():
    values = np.array([[55746, 41743, 33497, 17680]], np.uint16)
    png = _pillow_bytes(values, "PNG")
    decoded = tf.io.decode_png(png, dtype=tf.uint16)
    assert decoded.dtype == tf.uint16
    np.testing.assert_array_equal(decoded.numpy()[..., 0], values)
    # TF 2.21 keeps the high byte for uint8, and multiplies 8-bit values by 257 for uint16.
    assert tf.io.decode_png(png).numpy().ravel().tolist() == [217, 163, 130, 69]
    eight_bit = tf.io.encode_png(np.array([[[0], [1], [128], [255]]], np.uint8))
    assert tf.io.decode_png(eight_bit, dtype=tf.uint16).numpy().ravel().tolist() == [
        0, 257, 32896, 65535]
    as_float = tf.io.decode_image(png, dtype=tf.float32).numpy().ravel()
    np.testing.assert_allclose(as_float, values.ravel() / 65535, rtol=1e-6)
    np.testing.assert_array_equal(tf.io.decode_png(tf.io.encode_png(values[..., None]),
                                                   dtype=tf.uint16).numpy()[..., 0], values)


def test_jpeg_round_trip_and_arguments():
    image = np.tile(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (16, 1, 3))
    encoded = tf.io.encode_jpeg(image, quality=90)
    assert tf.io.is_jpeg(encoded)
    decoded = tf.io.decode_jpeg(encoded)
    np.testing.assert_array_equal(decoded.numpy(),
                                  np.asarray(Image.open(io.BytesIO(encoded.numpy()))))
    assert np.abs(decoded.numpy().astype(int) - image).max() <= 8  # lossy, but close
    assert tf.io.decode_jpeg(encoded, channels=1).shape == (16, 16, 1)
    assert tf.io.decode_image(encoded, channels=3).shape == (16, 16, 3)
    gray = tf.io.encode_jpeg(image[..., :1], format="grayscale")
    assert tf.io.decode_jpeg(gray).shape == (16, 16, 1)
    with pytest.raises(NotImplementedError, match="ratio=2"):
        tf.io.decode_jpeg(encoded, ratio=2)
    with pytest.raises(ValueError, match="quality"):
        tf.io.encode_jpeg(image, quality=101)
    with pytest.raises(ValueError, match=r"format='rgb' needs 3 channel\(s\)"):
        tf.io.encode_jpeg(image[..., :1], format="rgb")
    with pytest.raises(ValueError, match="channels"):
        tf.io.decode_jpeg(encoded, channels=4)


def test_gif_frames_and_expand_animations():
    frames = [Image.fromarray(np.full((4, 5, 3), v, np.uint8)) for v in (0, 128, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    gif = buffer.getvalue()
    # TF 2.21: (3, 4, 5, 3) and (4, 5, 3), frames 0, 128, 255.
    animation = tf.io.decode_image(gif)
    assert animation.shape == (3, 4, 5, 3)
    assert animation.numpy()[:, 0, 0, 0].tolist() == [0, 128, 255]
    assert tf.io.decode_image(gif, expand_animations=False).shape == (4, 5, 3)
    assert tf.io.decode_gif(gif).shape == (3, 4, 5, 3)


def test_bmp():
    image = _random_image((3, 4, 3))
    np.testing.assert_array_equal(tf.io.decode_bmp(_pillow_bytes(image, "BMP")).numpy(), image)
    np.testing.assert_array_equal(tf.io.decode_image(_pillow_bytes(image, "BMP")).numpy(), image)


@pytest.mark.parametrize("data, op, message", [
    (b"hello", "decode_image", r"expected PNG or JPEG .* received 5 bytes .* unknown"),
    (b"\x89PNG\r\n\x1a\nxxxx", "decode_png", r"cannot decode the PNG image \(12 bytes"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "decode_jpeg", "cannot decode the JPEG image"),
    (b"GIF89a\x01", "decode_gif", "cannot decode the GIF image"),
    (b"", "decode_png", r"expected PNG data; received 0 bytes"),
])
def test_corrupt_data_raises_invalid_argument(data, op, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        getattr(tf.io, op)(data)


def test_truncated_files_raise_invalid_argument():
    image = _random_image((32, 32, 3))
    for encoded, op in ((tf.io.encode_png(image).numpy(), tf.io.decode_png),
                        (tf.io.encode_jpeg(image).numpy(), tf.io.decode_jpeg)):
        for cut in (len(encoded) // 2, len(encoded) - 40):  # PNG: into the pixel data
            with pytest.raises(tf.errors.InvalidArgumentError, match="cannot decode"):
                op(encoded[:cut])


def test_decompression_bomb_is_refused():
    # A PNG declaring 2**15 x 2**15 pixels (4 GB of RGBA) with almost no data.
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (2 ** 15).to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    with pytest.raises(tf.errors.InvalidArgumentError, match="DecompressionBombError"):
        tf.io.decode_png(bytes(data))


def test_encode_errors():
    with pytest.raises(ValueError, match=r"3-D .* received shape \[2, 2\]"):
        tf.io.encode_png(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="dtype uint8 or uint16; received float32"):
        tf.io.encode_png(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(NotImplementedError, match="uint16 images with 3 channels"):
        tf.io.encode_png(np.zeros((2, 2, 3), np.uint16))


def test_import_numpyflow_loads_no_pillow():
    code = ("import sys, numpyflow; "
            "print([m for m in sys.modules if m.split('.')[0] in ('PIL', 'h5py')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__)))))
    assert out.stdout.strip() == "[]"


def test_missing_pillow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install numpyflow\[image\]"):
        tf.io.decode_png(b"\x89PNG\r\n\x1a\n")


def _png_16bit_rgb(values):
    """A 16-bit RGB PNG, written chunk by chunk (Pillow cannot write one)."""
    height, width, _ = values.shape

    def chunk(kind, body):
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([16, 2, 0, 0, 0])
    rows = b"".join(b"\x00" + values[r].astype(">u2").tobytes() for r in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def test_sixteen_bit_colour_png():
    values = np.array([[[55746, 41743, 33497], [17680, 20173, 2685]]], np.uint16)
    png = _png_16bit_rgb(values)
    # uint8 keeps the high byte, as TF does; more bits are refused rather than made up.
    np.testing.assert_array_equal(tf.io.decode_png(png).numpy(), values >> 8)
    with pytest.raises(NotImplementedError, match="16-bit colour PNG to uint16"):
        tf.io.decode_png(png, dtype=tf.uint16)
    with pytest.raises(NotImplementedError, match="16-bit colour PNG to float32"):
        tf.io.decode_image(png, dtype=tf.float32)


def test_decode_png_refuses_two_channels_as_tf():
    # TF 2.21: "`channels` must be 0, 1, 3 or 4 but got 2" for any PNG (decode_image too);
    # numpyflow once took 2 and gave a 16-bit grayscale PNG 1 channel for it.
    for image in (np.zeros((2, 3, 2), np.uint8), np.zeros((2, 3, 1), np.uint16)):
        with pytest.raises(ValueError, match=r"`channels` must be one of \[0, 1, 3, 4\]; "
                                             r"received channels=2"):
            tf.io.decode_png(tf.io.encode_png(image), channels=2)
