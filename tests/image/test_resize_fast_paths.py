"""`tf.image.resize` on the input-pipeline path: one-channel images (a single product per
axis) and the resampling weights built once per size pair."""

import warnings

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.ops import image_ops
from tests.ops.cases_image import np_resize_bilinear, np_resize_nearest


@pytest.mark.parametrize("shape, size", [((1, 28, 28, 1), (32, 32)), ((5, 7, 4, 1), (3, 9)),
                                         ((2, 6, 6, 1), (6, 13))])
def test_one_channel_resize_matches_the_reference(shape, size):
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    np.testing.assert_allclose(tf.image.resize(x, size).numpy(), np_resize_bilinear(x, size),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tf.image.resize(x, size, "nearest").numpy(),
                                  np_resize_nearest(x, size))
    # A 3-D image (no batch axis) gives the batch's first image.
    np.testing.assert_allclose(tf.image.resize(x[0], size).numpy(),
                               np_resize_bilinear(x[:1], size)[0], rtol=1e-5, atol=1e-5)


def test_one_channel_resize_equals_each_channel_of_a_colour_resize():
    x = np.random.default_rng(2).normal(size=(3, 9, 11, 3))
    colour = tf.image.resize(x, (5, 17)).numpy()
    for channel in range(3):
        alone = tf.image.resize(x[..., channel:channel + 1], (5, 17)).numpy()
        np.testing.assert_allclose(alone[..., 0], colour[..., channel], rtol=1e-12)
    assert colour.dtype == np.float64


def test_one_channel_gradient_is_the_adjoint_of_the_resize():
    # <resize(x), dy> == <x, gradient(dy)> for every x and dy: the gradient is the adjoint.
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(2, 6, 5, 1)))
    dy = rng.normal(size=(2, 9, 4, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.image.resize(x, (9, 4))
        inner = tf.reduce_sum(y * dy)
    dx = tape.gradient(inner, x).numpy()
    np.testing.assert_allclose(np.sum(x.numpy() * dx), float(inner), rtol=1e-10)


def test_weights_are_built_once_per_size_pair_and_cannot_be_changed():
    image_ops._bilinear_matrix.cache_clear()
    image_ops._weights.cache_clear()
    for _ in range(3):
        tf.image.resize(np.zeros((28, 28, 1), np.uint8), (32, 32))
    info = image_ops._bilinear_matrix.cache_info()
    assert (info.misses, info.hits) == (1, 1)  # (28 -> 32) for rows, then for columns.
    info = image_ops._weights.cache_info()
    assert (info.misses, info.hits) == (2, 4)  # Rows and transposed columns, in float32.
    for weights in (image_ops._bilinear_matrix(28, 32),
                    image_ops._weights(image_ops._bilinear_matrix, 28, 32, np.dtype(np.float32),
                                       True)):
        with pytest.raises(ValueError, match="read-only"):
            weights[0, 0] = 5.
    # Other size pairs get their own weights: each row sums to 1 and has its own shape.
    for in_size, out_size in [(28, 32), (32, 28), (5, 1), (1, 5)]:
        matrix = image_ops._bilinear_matrix(in_size, out_size)
        assert matrix.shape == (out_size, in_size)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape, size", [((1, 28, 28, 1), (32, 32)), ((1, 5, 7, 3), (4, 9)),
                                         ((3, 5, 7, 1), (9, 4)), ((2, 6, 5, 2), (6, 11))])
def test_every_product_path_matches_the_reference_in_the_images_dtype(dtype, shape, size):
    # One image of one channel takes two 2-D products; batches and colours take matmul.
    x = np.random.default_rng(4).normal(size=shape).astype(dtype)
    y = tf.image.resize(x, size).numpy()
    assert y.dtype == dtype
    tolerance = 2e-2 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(y, np_resize_bilinear(x.astype(np.float64), size),
                               rtol=tolerance, atol=tolerance)


def test_inf_and_nan_pixels_resize_without_warnings():
    x = np.ones((1, 4, 4, 1), np.float32)
    x[0, 1, 1, 0], x[0, 2, 2, 0] = np.inf, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = tf.image.resize(x, (8, 8)).numpy()
    assert y.shape == (1, 8, 8, 1) and np.isnan(y).any()
