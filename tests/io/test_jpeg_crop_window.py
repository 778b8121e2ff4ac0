"""Review of tf.io.decode_and_crop_jpeg against TF 2.21: the crop window is converted as
TF converts it to its int32 input (1.5 is a TypeError and a float tensor a ValueError, not
silently truncated) and must be a vector of four."""

import numpy as np
import pytest

import numpyflow as tf

pytest.importorskip("PIL")


def _jpeg():
    image = (np.arange(16 * 20 * 3).reshape(16, 20, 3) % 251).astype(np.uint8)
    return tf.io.encode_jpeg(image, quality=100)


def test_a_fractional_window_is_a_type_error():
    with pytest.raises(TypeError, match=r"1\.5"):
        tf.io.decode_and_crop_jpeg(_jpeg(), [1.5, 2, 4, 5])


@pytest.mark.parametrize("window", [tf.constant([1., 2., 4., 5.]),
                                    tf.constant([1, 2, 4, 5], tf.int64)])
def test_a_tensor_of_another_dtype_than_int32_is_a_value_error(window):
    with pytest.raises(ValueError, match="int32"):
        tf.io.decode_and_crop_jpeg(_jpeg(), window)


def test_a_window_that_is_not_a_vector_is_refused():
    with pytest.raises(tf.errors.InvalidArgumentError, match="crop_window.*1-D"):
        tf.io.decode_and_crop_jpeg(_jpeg(), [[1, 2], [4, 5]])


@pytest.mark.parametrize("window", [[1, 2, 4, 5], np.array([1, 2, 4, 5], np.int64),
                                    np.array([1., 2., 4., 5.]), tf.constant([1, 2, 4, 5])])
def test_windows_that_convert_to_int32_crop(window):
    # As in TF: NumPy arrays and Python values convert when no value changes.
    jpeg = _jpeg()
    np.testing.assert_array_equal(tf.io.decode_and_crop_jpeg(jpeg, window).numpy(),
                                  tf.io.decode_jpeg(jpeg).numpy()[1:5, 2:7])
