"""Behaviour of `tf.image`: values against NumPy, fill modes, shapes and error messages.

Forward-vs-reference and finite-difference gradient checks of the primitives are in
cases_image.py (run by test_ops.py).
"""

import math

import numpy as np
import pytest

import numpyflow as tf
from tests.ops.cases_image import np_resize_bilinear, np_resize_nearest, np_transform


def _image(h, w, c=1, n=None):
    shape = (h, w, c) if n is None else (n, h, w, c)
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


# -- resize ----------------------------------------------------------------------------------

def test_resize_bilinear_uses_half_pixel_centres_as_tf2():
    x = np.array([[0., 1.], [2., 3.]], np.float32).reshape(1, 2, 2, 1)
    # The values TF 2's tf.image.resize gives for this input.
    expected = [[0., .25, .75, 1.], [.5, .75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5],
                [2., 2.25, 2.75, 3.]]
    np.testing.assert_allclose(tf.image.resize(x, (4, 4)).numpy()[0, :, :, 0], expected)


def test_resize_matches_references_down_and_up():
    x = np.random.default_rng(0).normal(size=(2, 7, 5, 3)).astype(np.float32)
    for size in [(3, 2), (14, 11), (7, 5), (1, 1)]:
        np.testing.assert_allclose(tf.image.resize(x, size).numpy(),
                                   np_resize_bilinear(x, size), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(tf.image.resize(x, size, "nearest").numpy(),
                                      np_resize_nearest(x, size))


def test_resize_nearest_by_integer_factor_repeats_pixels():
    x = _image(3, 4, 2, n=2)
    expected = np.repeat(np.repeat(x, 2, axis=1), 3, axis=2)
    np.testing.assert_array_equal(tf.image.resize(x, (6, 12), method="nearest").numpy(),
                                  expected)


def test_resize_single_image_integer_input_and_aspect_ratio():
    image = np.ones((4, 8, 3), np.uint8)
    out = tf.image.resize(image, (6, 6))
    assert out.shape == (6, 6, 3) and out.dtype == tf.float32
    assert tf.image.resize(image, (6, 6), preserve_aspect_ratio=True).shape == (3, 6, 3)
    assert tf.image.resize(_image(4, 4), (4, 4)).shape == (4, 4, 1)
    assert tf.image.resize(np.ones((1, 2, 2, 1)), (3, 3)).dtype == tf.float64


def test_resize_gradient_sums_to_the_upstream_total():
    # Each output pixel's weights sum to 1, so d sum(resize(x)) / dx sums to the output size.
    x = tf.constant(np.random.default_rng(1).normal(size=(2, 5, 3, 2)))
    for method in ("bilinear", "nearest"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.image.resize(x, (7, 4), method=method))
        assert float(tf.reduce_sum(tape.gradient(y, x))) == pytest.approx(2 * 7 * 4 * 2)


def test_resize_errors():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(NotImplementedError, match="bicubic"):
        tf.image.resize(x, (2, 2), method="bicubic")
    with pytest.raises(NotImplementedError, match="lanczos3"):  # area, antialias: test_image_more
        tf.image.resize(x, (2, 2), method=tf.image.ResizeMethod.LANCZOS3)
    with pytest.raises(ValueError, match="unknown method 'cubic'"):
        tf.image.resize(x, (2, 2), method="cubic")
    with pytest.raises(ValueError, match=r"size=\(2, 0\)"):
        tf.image.resize(x, (2, 0))
    with pytest.raises(ValueError, match=r"3-D .* or 4-D .* received shape \[4, 4\]"):
        tf.image.resize(np.zeros((4, 4)), (2, 2))


# -- flips, crops, pads ----------------------------------------------------------------------

def test_flips_match_numpy_for_images_and_batches():
    for x in (_image(3, 4, 2), _image(3, 4, 2, n=2)):
        np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), np.flip(x, -2))
        np.testing.assert_array_equal(tf.image.flip_up_down(x).numpy(), np.flip(x, -3))
    with pytest.raises(ValueError, match="flip_left_right.*received shape"):
        tf.image.flip_left_right(np.zeros((3, 4)))


def test_crop_and_pad_to_bounding_box():
    x = _image(5, 6, 2)
    np.testing.assert_array_equal(tf.image.crop_to_bounding_box(x, 1, 2, 3, 4).numpy(),
                                  x[1:4, 2:6])
    padded = tf.image.pad_to_bounding_box(x, 1, 2, 8, 9).numpy()
    expected = np.zeros((8, 9, 2), np.float32)
    expected[1:6, 2:8] = x
    np.testing.assert_array_equal(padded, expected)
    with pytest.raises(ValueError, match="does not fit"):
        tf.image.crop_to_bounding_box(x, 3, 0, 3, 6)
    with pytest.raises(ValueError, match="does not fit"):
        tf.image.pad_to_bounding_box(x, 1, 0, 5, 6)
    with pytest.raises(ValueError, match="offset_height=-1"):
        tf.image.crop_to_bounding_box(x, -1, 0, 3, 3)


def test_central_crop_and_resize_with_crop_or_pad_follow_tf():
    x = _image(10, 7, 1, n=2)
    # TF: start = int((size - size * fraction) / 2), and the window keeps what is between.
    np.testing.assert_array_equal(tf.image.central_crop(x, 0.5).numpy(), x[:, 2:8, 1:6])
    assert tf.image.central_crop(x, 1.0).shape == x.shape
    with pytest.raises(ValueError, match="central_fraction=0"):
        tf.image.central_crop(x, 0)
    out = tf.image.resize_with_crop_or_pad(x, 6, 11).numpy()
    expected = np.zeros((2, 6, 11, 1), np.float32)
    expected[:, :, 2:9] = x[:, 2:8]
    np.testing.assert_array_equal(out, expected)


# -- colour ----------------------------------------------------------------------------------

def test_adjust_contrast_and_brightness_formulas():
    x = np.random.default_rng(2).uniform(0, 1, size=(2, 3, 4, 3)).astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(tf.image.adjust_contrast(x, 1.7).numpy(),
                               (x - mean) * 1.7 + mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(tf.image.adjust_brightness(x, -0.2).numpy(), x - 0.2,
                               rtol=1e-6)
    with pytest.raises(NotImplementedError, match="uint8"):
        tf.image.adjust_contrast(np.zeros((2, 2, 1), np.uint8), 2.)


# -- affine transforms -----------------------------------------------------------------------

def test_rotation_by_90_degrees_is_rot90_counter_clockwise():
    x = _image(5, 5, 2, n=2)
    transforms = tf.image.angles_to_projective_transforms([math.pi / 2] * 2, 5, 5)
    out = tf.image.affine_transform(x, transforms).numpy()
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), atol=1e-4)


@pytest.mark.parametrize("fill_mode, expected", [
    ("reflect", "baab"), ("wrap", "cdab"), ("nearest", "aaab"), ("constant", "99ab")])
def test_fill_modes_shifting_a_row_right_by_two(fill_mode, expected):
    row = np.array([1., 2., 3., 4.], np.float32).reshape(1, 1, 4, 1)  # a b c d
    shift = [1., 0., -2., 0., 1., 0., 0., 0.]
    out = tf.image.affine_transform(row, shift, fill_mode=fill_mode, fill_value=9.)
    values = {"a": 1., "b": 2., "c": 3., "d": 4., "9": 9.}
    np.testing.assert_array_equal(out.numpy().ravel(), [values[k] for k in expected])


def test_translation_by_whole_pixels_both_interpolations():
    x = _image(4, 5, 1, n=1)
    transform = [1., 0., -2., 0., 1., 1., 0., 0.]  # right by 2, up by 1
    expected = np.zeros_like(x)
    expected[:, :3, 2:] = x[:, 1:, :3]
    for interpolation in ("bilinear", "nearest"):
        out = tf.image.affine_transform(x, transform, interpolation=interpolation)
        np.testing.assert_array_equal(out.numpy(), expected)


def test_batch_transforms_and_reference_agree():
    x = np.random.default_rng(3).normal(size=(3, 6, 5, 2)).astype(np.float32)
    transforms = np.random.default_rng(4).uniform(-0.3, 0.3, size=(3, 8)).astype(np.float32)
    transforms[:, [0, 4]] += 1.
    transforms[:, 6:] *= 0.1
    for mode in ("reflect", "wrap", "nearest", "constant"):
        out = tf.image.affine_transform(x, transforms, fill_mode=mode).numpy()
        np.testing.assert_allclose(out, np_transform(x, transforms, fill_mode=mode),
                                   rtol=1e-4, atol=1e-4)


def test_affine_transform_errors():
    x = np.zeros((2, 3, 3, 1), np.float32)
    with pytest.raises(NotImplementedError, match="fill_mode='mirror'"):
        tf.image.affine_transform(x, np.eye(3).ravel()[:8], fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'"):
        tf.image.affine_transform(x, np.eye(3).ravel()[:8], interpolation="bicubic")
    with pytest.raises(ValueError, match=r"received shape \[3, 8\]"):
        tf.image.affine_transform(x, np.zeros((3, 8)))


def test_affine_transform_of_a_fashion_mnist_batch_is_fast():
    import time
    x = np.random.default_rng(5).uniform(size=(64, 28, 28, 1)).astype(np.float32)
    transforms = np.tile([1., 0., -1.5, 0., 1., 2.25, 0., 0.], (64, 1)).astype(np.float32)
    tf.image.affine_transform(x, transforms, fill_mode="reflect")
    start = time.perf_counter()
    for _ in range(5):
        tf.image.affine_transform(x, transforms, fill_mode="reflect")
    # Vectorized over the batch: a few ms per call (a per-pixel loop would take seconds).
    assert (time.perf_counter() - start) / 5 < 0.1
