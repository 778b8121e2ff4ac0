"""tf.io.extract_jpeg_shape and tf.io.decode_and_crop_jpeg: the same functions as
tf.image's, as in TF 2.21 (`tf.io.decode_and_crop_jpeg is tf.image.decode_and_crop_jpeg`)."""

import numpy as np
import pytest

import numpyflow as tf

pytest.importorskip("PIL")


def _jpeg(height=8, width=9):
    pixels = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)
    return tf.io.encode_jpeg(pixels)


def test_tf_io_and_tf_image_share_the_functions():
    assert tf.io.extract_jpeg_shape is tf.image.extract_jpeg_shape
    assert tf.io.decode_and_crop_jpeg is tf.image.decode_and_crop_jpeg


def test_extract_jpeg_shape():
    out = tf.io.extract_jpeg_shape(_jpeg(5, 7))
    assert out.dtype == tf.int32 and out.numpy().tolist() == [5, 7, 3]
    assert tf.io.extract_jpeg_shape(_jpeg(5, 7), tf.int64).dtype == tf.int64
    gray = tf.io.encode_jpeg(np.zeros((4, 3, 1), np.uint8))
    assert tf.io.extract_jpeg_shape(gray).numpy().tolist() == [4, 3, 1]


def test_decode_and_crop_jpeg_is_the_crop_of_the_decoded_image():
    jpeg = _jpeg()
    crop = tf.io.decode_and_crop_jpeg(jpeg, [1, 2, 4, 5])
    assert crop.dtype == tf.uint8 and crop.shape == (4, 5, 3)
    np.testing.assert_array_equal(crop, tf.io.decode_jpeg(jpeg).numpy()[1:5, 2:7])
    whole = tf.io.decode_and_crop_jpeg(jpeg, tf.constant([0, 0, 8, 9]), channels=1)
    np.testing.assert_array_equal(whole, tf.io.decode_jpeg(jpeg, channels=1))


def test_bad_input_raises_invalid_argument_as_tf():
    jpeg = _jpeg()
    with pytest.raises(tf.errors.InvalidArgumentError, match="decode_and_crop_jpeg.*does not "
                                                             "fit in the 8x9"):
        tf.io.decode_and_crop_jpeg(jpeg, [1, 2, 10, 5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="four elements"):
        tf.io.decode_and_crop_jpeg(jpeg, [1, 2, 3])
    png = tf.io.encode_png(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="decode_and_crop_jpeg.*not a JPEG"):
        tf.io.decode_and_crop_jpeg(png, [0, 0, 1, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="extract_jpeg_shape.*not a JPEG"):
        tf.io.extract_jpeg_shape(b"abc")
    with pytest.raises(tf.errors.InvalidArgumentError, match="extract_jpeg_shape.*invalid JPEG"):
        tf.io.extract_jpeg_shape(b"\xff\xd8\xff\x00junk")
    with pytest.raises(tf.errors.InvalidArgumentError, match="output_type.*float32"):
        tf.io.extract_jpeg_shape(jpeg, tf.float32)
