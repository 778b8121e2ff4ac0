"""`tf.io.read_file` and the PNG decoder's array path, as an input pipeline uses them."""

import io
import os
import sys

import numpy as np
import pytest
from PIL import Image

import numpyflow as tf


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 300_001])
def test_read_file_returns_every_byte(tmp_path, size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    contents = tf.io.read_file(str(path))
    assert contents.dtype == tf.string and contents.shape == ()
    assert contents.numpy() == data
    assert tf.io.read_file(tf.constant(os.fsencode(path))).numpy() == data  # bytes path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_read_file_reads_files_that_report_no_size():
    assert os.stat("/proc/self/status").st_size == 0
    assert b"Name:" in tf.io.read_file("/proc/self/status").numpy()


def test_read_file_refuses_tensors_that_are_not_one_string():
    with pytest.raises(TypeError, match="received a float32 tensor"):
        tf.io.read_file(tf.constant(1.0))
    with pytest.raises(TypeError, match=r"one file name.*received a string tensor of shape "
                                        r"\[2\]"):
        tf.io.read_file(tf.constant(["a", "b"]))


def test_read_file_errors_name_the_file_as_tf(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="missing.png; No such file"):
        tf.io.read_file(str(tmp_path / "missing.png"))
    # TF 2.21: FailedPreconditionError "<path>; Is a directory [Op:ReadFile]".
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        tf.io.read_file(str(tmp_path))


@pytest.mark.parametrize("mode, channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
@pytest.mark.parametrize("height, width", [(1, 1), (3, 5), (28, 28), (7, 130)])
def test_decoded_pixels_match_pillow_for_each_mode(mode, channels, height, width):
    values = np.random.default_rng(height * width).integers(
        0, 256, (height, width, channels), dtype=np.uint8)
    image = Image.fromarray(values[..., 0] if channels == 1 else values, mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    for wanted in (0, channels) if channels != 2 else (0,):  # TF refuses channels=2
        decoded = tf.io.decode_png(buffer.getvalue(), channels=wanted)
        assert decoded.shape == (height, width, channels)
        np.testing.assert_array_equal(decoded.numpy(), values)
    as_rgb = tf.io.decode_png(buffer.getvalue(), channels=3).numpy()
    np.testing.assert_array_equal(as_rgb, np.asarray(image.convert("RGB")))


def test_decoded_image_is_a_tensor_of_its_own():
    values = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
    png = tf.io.encode_png(values)
    decoded = tf.io.decode_png(png)
    copy = np.array(decoded)  # A writable copy, as np.array(tf.Tensor) gives in TF.
    copy[0, 0, 0] = 99
    assert int(decoded[0, 0, 0]) == 0
    np.testing.assert_array_equal(tf.io.decode_png(png).numpy(), values)
