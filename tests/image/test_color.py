"""tf.image colour adjustments at the edges, against values TF 2.21 gave."""

import numpy as np

import numpyflow as tf


def test_per_image_standardization_casts_to_float32_as_tf():
    # TF 2.21 casts any input to float32 (no rescaling to [0, 1]): the 1/sqrt(N) floor on
    # the stddev then applies to the raw values, and integer images keep their contrast.
    low_contrast = np.array([[[100], [101]], [[100], [101]]], np.uint8)
    out = tf.image.per_image_standardization(low_contrast)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy().ravel(), [-1.0, 1.0, -1.0, 1.0])
    ints = np.array([[[5], [-7]], [[1000], [3]]], np.int32)
    np.testing.assert_allclose(tf.image.per_image_standardization(ints).numpy().ravel(),
                               [-0.566538, -0.594259, 1.731955, -0.571158], rtol=1e-5)
    for dtype in (np.float16, np.float64):
        image = np.array([[[0.5], [0.25]], [[0.0], [1.0]]], dtype)
        out = tf.image.per_image_standardization(image)
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy().ravel(), [0.125, -0.375, -0.875, 1.125])


def test_convert_image_dtype_scales_in_the_wider_float_as_tf():
    # The scale is a Python float taken in the float dtype itself, as TF's multiply takes
    # it; going through float32 made 2**31 - 0.5 round to 2**31 and 1.0 wrap to int32's min.
    out = tf.image.convert_image_dtype(np.array([0.37254902720451355, 1.0], np.float64),
                                       tf.int32)
    assert out.numpy().tolist() == [800042943, 2147483647]
    out = tf.image.convert_image_dtype(np.array([2 ** 31 - 2, 3], np.int32), tf.float64)
    assert out.numpy().tolist() == [0.9999999995343387, 1.396983862573739e-09]
