"""The tf.image gap fill: quality measures, patches and crops, colour matrices, suppression,
boxes and JPEG helpers, against values TF 2.21 gave, plus gradients, errors, tracing and
Keras symbolic inputs."""

import doctest
import importlib

import numpy as np
import pytest

import numpyflow as tf

# Deterministic images (the same arrays the TF 2.21 probes used).
_A = (np.arange(2 * 12 * 14).reshape(2, 12, 14, 1) * 7 % 23 / 22.).astype(np.float32)
_B = (np.arange(2 * 12 * 14).reshape(2, 12, 14, 1) * 5 % 19 / 18.).astype(np.float32)
_BOXES = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11],
                   [0, 10.1, 1, 11.1], [0, 100, 1, 101]], np.float32)
_SCORES = np.array([.9, .75, .6, .95, .5, .3], np.float32)


def _numeric_gradient(fn, x, weights, step=1e-6):
    """d sum(fn(x) * weights) / dx by central differences (float64)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += step
        minus[index] -= step
        grad[index] = (np.sum(fn(tf.constant(plus)).numpy() * weights)
                       - np.sum(fn(tf.constant(minus)).numpy() * weights)) / (2 * step)
    return grad


def _tape_gradient(fn, x, weights):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x, output_gradients=tf.constant(weights, y.dtype)).numpy()


# -- values against TF 2.21 -------------------------------------------------------------------

def test_ssim_psnr_and_multiscale_match_tf():
    np.testing.assert_allclose(tf.image.ssim(_A, _B, 1.0, filter_size=3).numpy(),
                               [0.0295336079, 0.0035204371], rtol=1e-4, atol=1e-6)
    assert tf.image.ssim(_A, _B, 1.0, filter_size=3, return_index_map=True).shape == (2, 10, 12)
    # Width 13 is odd: the second scale pads by repeating the last column, as TF.
    np.testing.assert_allclose(
        tf.image.ssim_multiscale(_A[:, :, :13], _B[:, :, :13], 1.0, power_factors=(0.3, 0.7),
                                 filter_size=3).numpy(), [0.1904092729, 0.], rtol=1e-4)
    np.testing.assert_allclose(tf.image.psnr(_A, _B, 1.0).numpy(), [7.5241995, 7.2964821],
                               rtol=1e-5)
    # uint8 and max_val 255 score as floats in [0, 1] do.
    a8, b8 = (_A * 255).astype(np.uint8), (_B * 255).astype(np.uint8)
    np.testing.assert_allclose(tf.image.psnr(a8, b8, 255).numpy(),
                               tf.image.psnr(a8 / 255., b8 / 255., 1.0).numpy(), rtol=1e-5)
    assert tf.image.psnr(a8, b8, 255).dtype == tf.float32


def test_gradients_sobel_and_total_variation_match_tf():
    squares = np.arange(12., dtype=np.float32).reshape(1, 3, 4, 1) ** 2
    edges = tf.image.sobel_edges(squares).numpy()
    np.testing.assert_array_equal(edges[0, ..., 0, 0], [[0] * 4, [288, 320, 384, 416], [0] * 4])
    np.testing.assert_array_equal(edges[0, ..., 0, 1],
                                  [[0, 48, 64, 0], [0, 80, 96, 0], [0, 112, 128, 0]])
    total = tf.image.total_variation(np.arange(12, dtype=np.int32).reshape(1, 2, 3, 2) ** 2)
    assert total.dtype == tf.int32 and total.numpy().tolist() == [572]
    assert tf.image.total_variation(squares[0]).shape == ()
    dy, dx = tf.image.image_gradients(squares)
    np.testing.assert_array_equal(dy.numpy()[0, -1], 0.)
    np.testing.assert_array_equal(dx.numpy()[0, :, -1], 0.)
    np.testing.assert_array_equal(dx.numpy()[0, 0, :3, 0], [1., 3., 5.])


def test_extract_patches_same_padding_with_rates_matches_tf():
    x = np.arange(40, dtype=np.float32).reshape(1, 5, 4, 2)
    got = tf.image.extract_patches(x, [1, 2, 2, 1], [1, 3, 2, 1], [1, 2, 1, 1], "SAME")
    np.testing.assert_array_equal(got.numpy(), [[[[0, 1, 2, 3, 16, 17, 18, 19],
                                                   [4, 5, 6, 7, 20, 21, 22, 23]],
                                                  [[24, 25, 26, 27, 0, 0, 0, 0],
                                                   [28, 29, 30, 31, 0, 0, 0, 0]]]])
    ints = tf.image.extract_patches(np.arange(16).reshape(1, 4, 4, 1), [1, 2, 2, 1],
                                    [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    assert ints.dtype == tf.int64 and ints.shape == (1, 2, 2, 4)
    wide = tf.image.extract_patches(np.arange(42.).reshape(1, 7, 6, 1), [1, 2, 2, 1],
                                    [1, 5, 4, 1], [1, 1, 1, 1], "SAME")
    np.testing.assert_array_equal(wide.numpy()[0], [[[0, 1, 6, 7], [4, 5, 10, 11]],
                                                    [[30, 31, 36, 37], [34, 35, 40, 41]]])
    empty = tf.image.extract_patches(np.zeros((0, 4, 4, 1)), [1, 2, 2, 1], [1, 1, 1, 1],
                                     [1, 1, 1, 1], "VALID")
    assert empty.shape == (0, 3, 3, 4)


def test_crop_and_resize_flipped_and_outside_boxes_match_tf_with_box_gradients():
    image = tf.constant(np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1))
    boxes = tf.constant([[0.8, 0.1, 0.2, 0.9], [-0.5, 0.25, 0.5, 1.5]])
    with tf.GradientTape() as tape:
        tape.watch(boxes)
        crops = tf.image.crop_and_resize(image, boxes, [0, 0], [3, 2], extrapolation_value=-1.)
        loss = tf.reduce_sum(crops * np.arange(12.).reshape(2, 3, 2, 1).astype(np.float32))
    np.testing.assert_allclose(crops.numpy()[..., 0],
                               [[[12.4, 15.6], [7.9, 11.1], [3.4, 6.6]],
                                [[-1., -1.], [1., -1.], [8.5, -1.]]], rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, boxes).numpy(),
                               [[52.5, 24., 172.5, 36.], [0., 0., 150., 0.]], rtol=1e-5)
    # TF gives "nearest" the bilinear box gradient (its CropAndResizeGradBoxes has no other).
    weights = np.arange(18.).reshape(3, 3, 2, 1).astype(np.float32)
    three = tf.constant([[0.8, 0.1, 0.2, 0.9], [-0.5, 0.25, 0.5, 1.5], [0.3, 0.3, 0.6, 0.6]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([image, three])
        loss = tf.reduce_sum(tf.image.crop_and_resize(image, three, [0, 0, 0], [3, 2],
                                                      "nearest") * weights)
        single = tf.reduce_sum(tf.image.crop_and_resize(image, three, [0, 0, 0], [1, 1])
                               * np.array([1., 2., 3.], np.float32).reshape(3, 1, 1, 1))
    np.testing.assert_allclose(tape.gradient(loss, three).numpy(),
                               [[52.5, 24., 172.5, 36.], [0., 0., 150., 0.],
                                [592.5, 168., 712.5, 180.]], rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(loss, image).numpy()[0, ..., 0],
                               [[0, 8, 0, 0, 0], [4, 26, 28, 0, 5], [2, 26, 17, 0, 4],
                                [0, 0, 0, 0, 0]])
    np.testing.assert_allclose(tape.gradient(single, three).numpy(),
                               [[7.5, 0., 7.5, 0.], [0., 4., 0., 4.], [22.5, 6., 22.5, 6.]],
                               rtol=1e-5)
    nearest = tf.image.crop_and_resize(image, [[0., 0., 1., 1.]], [0], [2, 2], "nearest")
    assert nearest.numpy()[0, ..., 0].tolist() == [[0., 4.], [15., 19.]]
    assert tf.image.crop_and_resize(tf.cast(image, tf.uint8), [[0., 0., 1., 1.]], [0],
                                    [1, 1]).dtype == tf.float32


def test_colour_matrices_match_tf_and_invert():
    rgb = np.array([[0.2, 0.5, 0.9]], np.float32)
    np.testing.assert_allclose(tf.image.rgb_to_yuv(rgb).numpy(),
                               [[0.4559, 0.21854648, -0.2244967]], rtol=1e-5)
    np.testing.assert_allclose(tf.image.rgb_to_yiq(rgb).numpy(),
                               [[0.4559, -0.30730775, 0.06101149]], rtol=1e-5)
    # TF's matrices are inverses to about 1e-5 (they are rounded to 8 digits).
    np.testing.assert_allclose(tf.image.yuv_to_rgb(tf.image.rgb_to_yuv(rgb)).numpy(), rgb,
                               atol=5e-5)
    np.testing.assert_allclose(tf.image.yiq_to_rgb(tf.image.rgb_to_yiq(rgb)).numpy(), rgb,
                               atol=5e-5)
    assert tf.image.rgb_to_yuv(rgb.astype(np.float64)).dtype == tf.float64
    assert tf.image.transpose(np.zeros((2, 3, 4, 1))).shape == (2, 4, 3, 1)


def test_suppression_matches_tf():
    assert tf.image.non_max_suppression(_BOXES, _SCORES, 3, 0.5).numpy().tolist() == [3, 0, 5]
    index, kept = tf.image.non_max_suppression_with_scores(_BOXES, _SCORES, 6, 0.5,
                                                           soft_nms_sigma=0.5)
    assert index.numpy().tolist() == [3, 0, 1, 5, 4, 2]
    np.testing.assert_allclose(kept.numpy(), [0.95, 0.9, 0.38400355, 0.3, 0.2560026,
                                              0.19697244], rtol=1e-5)
    scores = np.stack([_SCORES, _SCORES[::-1]], -1)[None]
    boxes, best, classes, valid = tf.image.combined_non_max_suppression(
        _BOXES[None, :, None], scores, 2, 3, 0.5)
    np.testing.assert_allclose(boxes.numpy(), [[[0, 1, 1, 1], [0, 0, 1, 0.9], [0, 0, 1, 1]]])
    np.testing.assert_allclose(best.numpy(), [[0.95, 0.95, 0.9]])
    assert classes.numpy().tolist() == [[0., 1., 0.]] and valid.numpy().tolist() == [3]
    padded = tf.image.combined_non_max_suppression(_BOXES[None, :, None], scores, 1, 9, 0.5,
                                                   pad_per_class=True)
    assert padded[0].shape == (1, 2, 4)


def test_padded_suppression_batches_and_pads():
    index, valid = tf.image.non_max_suppression_padded(_BOXES, _SCORES, 5, 0.5)
    assert index.numpy().tolist() == [3, 0, 5] and int(valid) == 3
    batch = np.stack([_BOXES, _BOXES[::-1]])
    index, valid = tf.image.non_max_suppression_padded(
        batch, np.stack([_SCORES, _SCORES[::-1]]), 5, 0.5, pad_to_max_output_size=True)
    assert index.numpy().tolist() == [[3, 0, 5, 0, 0], [2, 5, 0, 0, 0]]
    assert valid.numpy().tolist() == [3, 3]


def test_draw_bounding_boxes_default_colours_for_one_channel():
    out = tf.image.draw_bounding_boxes(np.zeros((1, 4, 5, 1), np.float32),
                                       [[[0., 0., 1., 1.], [2., 2., 3., 3.]]], None)
    expected = np.zeros((4, 5))
    expected[[0, -1]] = 1.
    expected[:, [0, -1]] = 1.
    np.testing.assert_array_equal(out.numpy()[0, ..., 0], expected)  # The box outside: skipped.


def test_sample_distorted_bounding_box_satisfies_its_constraints():
    for seed in range(5):
        begin, size, box = tf.image.stateless_sample_distorted_bounding_box(
            [60, 80, 3], [[[0.2, 0.2, 0.6, 0.7]]], seed=[seed, 1], min_object_covered=0.5,
            area_range=(0.1, 0.8))
        y, x, _ = begin.numpy()
        h, w, channels = size.numpy()
        assert channels == -1 and 0 <= y and y + h <= 60 and 0 <= x and x + w <= 80
        assert 0.1 * 4800 <= h * w <= 0.8 * 4800
        covered = (max(min(36, y + h) - max(12, y), 0) * max(min(56, x + w) - max(16, x), 0))
        assert covered >= 0.5 * 24 * 40
        np.testing.assert_allclose(box.numpy(), [[[y / 60, x / 80, (y + h) / 60, (x + w) / 80]]])
    again = tf.image.stateless_sample_distorted_bounding_box(
        [60, 80, 3], [[[0.2, 0.2, 0.6, 0.7]]], seed=[4, 1], min_object_covered=0.5,
        area_range=(0.1, 0.8))
    assert again[0].numpy().tolist() == begin.numpy().tolist()
    with pytest.raises(tf.errors.InvalidArgumentError, match="no bounding boxes"):
        tf.image.sample_distorted_bounding_box([10, 10, 3], np.zeros((1, 0, 4), np.float32))
    whole = tf.image.sample_distorted_bounding_box([10, 10, 3], np.zeros((1, 0, 4)),
                                                   use_image_if_no_bounding_boxes=True)
    assert whole[1].shape == (3,)


def test_jpeg_helpers():
    image = (_A[0].repeat(3, -1) * 255).astype(np.uint8)
    jpeg = tf.image.encode_jpeg(image)
    assert tf.image.is_jpeg(jpeg)
    assert tf.image.extract_jpeg_shape(jpeg, tf.int64).numpy().tolist() == [12, 14, 3]
    crop = tf.image.decode_and_crop_jpeg(jpeg, [2, 3, 5, 6])
    np.testing.assert_array_equal(crop.numpy(), tf.image.decode_jpeg(jpeg).numpy()[2:7, 3:9])
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not fit"):
        tf.image.decode_and_crop_jpeg(jpeg, [10, 3, 5, 6])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a JPEG"):
        tf.image.extract_jpeg_shape(tf.image.encode_png(image))
    floats = tf.image.adjust_jpeg_quality(_A[0].repeat(3, -1), 90)
    assert floats.dtype == tf.float32 and floats.shape == (12, 14, 3)
    assert np.abs(floats.numpy() - _A[0]).mean() < 0.05  # Lossy, but close at quality 90.
    assert tf.image.adjust_jpeg_quality(_A, 50).shape == _A.shape  # Batches too.
    same = [tf.image.stateless_random_jpeg_quality(image, (20, 80), (3, 4)) for _ in range(2)]
    np.testing.assert_array_equal(same[0].numpy(), same[1].numpy())
    assert tf.image.random_jpeg_quality(image, 20, 80).dtype == tf.uint8
    with pytest.raises(ValueError, match="less than"):
        tf.image.random_jpeg_quality(image, 80, 20)
    with pytest.raises(ValueError, match="between 0 and 100"):
        tf.image.stateless_random_jpeg_quality(image, (20, 120), (1, 2))


# -- gradients --------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    tf.image.total_variation, tf.image.sobel_edges, lambda x: tf.image.image_gradients(x)[1],
    tf.image.rgb_to_yuv, tf.image.yiq_to_rgb, tf.image.transpose,
    lambda x: tf.image.extract_patches(x, [1, 2, 3, 1], [1, 2, 1, 1], [1, 1, 2, 1], "SAME"),
], ids=["total_variation", "sobel_edges", "image_gradients", "rgb_to_yuv", "yiq_to_rgb",
        "transpose", "extract_patches"])
def test_float64_gradients_match_finite_differences(fn):
    x = np.random.default_rng(0).uniform(0.1, 0.9, (2, 4, 5, 3))
    weights = np.random.default_rng(1).normal(size=fn(tf.constant(x)).shape)
    np.testing.assert_allclose(_tape_gradient(fn, x, weights),
                               _numeric_gradient(fn, x, weights), rtol=1e-5, atol=1e-6)


def test_ssim_psnr_and_crop_gradients_match_finite_differences_in_float32_units():
    # These compute in float32 (as TF), so the differences use a larger step.
    x = _A[:1, :8, :9].astype(np.float64)
    for fn in (lambda t: tf.image.ssim(t, _B[:1, :8, :9].astype(np.float64), 1.0, filter_size=3),
               lambda t: tf.image.psnr(t, _B[:1, :8, :9].astype(np.float64), 1.0),
               lambda t: tf.image.crop_and_resize(t, [[0.1, 0.2, 0.9, 0.7]], [0], [3, 4])):
        weights = np.ones(fn(tf.constant(x)).shape)
        np.testing.assert_allclose(_tape_gradient(fn, x, weights),
                                   _numeric_gradient(fn, x, weights, step=1e-3),
                                   rtol=2e-2, atol=2e-3)


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda: tf.image.rgb_to_yuv(np.zeros((3, 4))), ValueError, "last dimension must be 3"),
    (lambda: tf.image.rgb_to_yuv(np.zeros((1, 3), np.int32)), TypeError, "floating-point"),
    (lambda: tf.image.total_variation(np.zeros((3, 4))), ValueError, "3-D or 4-D"),
    (lambda: tf.image.sobel_edges(np.zeros((3, 4, 1))), ValueError, "4-D"),
    (lambda: tf.image.sobel_edges(np.zeros((1, 3, 4, 1), np.int32)), TypeError, "floating"),
    (lambda: tf.image.image_gradients(np.zeros((3, 4, 1))), ValueError, "4-D"),
    (lambda: tf.image.psnr(_A, _B[..., :0], 1.0), ValueError, "must match"),
    (lambda: tf.image.ssim(_A, _B.astype(np.float64), 1.0), TypeError, "same dtype"),
    (lambda: tf.image.ssim(_A[:, :5, :5], _B[:, :5, :5], 1.0), tf.errors.InvalidArgumentError,
     "filter_size=11"),
    (lambda: tf.image.extract_patches(_A, [1, 3, 2], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
     ValueError, "sizes"),
    (lambda: tf.image.extract_patches(_A, [1, 3, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FULL"),
     ValueError, "padding"),
    (lambda: tf.image.extract_patches(_A, [1, 7, 1, 1], [1, 1, 1, 1], [1, 2, 1, 1], "VALID"),
     tf.errors.InvalidArgumentError, "no VALID patch fits"),
    (lambda: tf.image.crop_and_resize(_A, [[0., 0., 1., 1.]], [0], [2, 2], "bicubic"),
     ValueError, "method"),
    (lambda: tf.image.crop_and_resize(_A, [[0., 0., 1., 1.]], [2], [2, 2]),
     tf.errors.InvalidArgumentError, "outside"),
    (lambda: tf.image.crop_and_resize(_A, [[0., 0., 1.]], [0], [2, 2]), ValueError, "boxes"),
    (lambda: tf.image.crop_and_resize(_A, [[0., 0., 1., 1.]], [0], [0, 2]), ValueError,
     "crop_size"),
    (lambda: tf.image.non_max_suppression(_BOXES[:, :3], _SCORES, 3), ValueError, "boxes"),
    (lambda: tf.image.non_max_suppression(_BOXES, _SCORES[:2], 3), ValueError, "scores"),
    (lambda: tf.image.non_max_suppression(_BOXES, _SCORES, 3, 1.5), ValueError, "iou"),
    (lambda: tf.image.non_max_suppression_padded(np.stack([_BOXES] * 2),
                                                 np.stack([_SCORES] * 2), 3), ValueError,
     "pad_to_max_output_size"),
    (lambda: tf.image.combined_non_max_suppression(_BOXES[None], _SCORES[None], 2, 3),
     ValueError, "boxes"),
    (lambda: tf.image.draw_bounding_boxes(np.zeros((4, 5, 3), np.float32), _BOXES[None], None),
     ValueError, "4-D"),
    (lambda: tf.image.draw_bounding_boxes(np.zeros((1, 4, 5, 3), np.uint8), _BOXES[None], None),
     TypeError, "float32"),
    (lambda: tf.image.transpose(np.zeros((3, 4))), ValueError, "3-D"),
])
def test_bad_input_raises_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- tracing and Keras ------------------------------------------------------------------------

def test_differentiable_ops_compile_into_a_plan():
    @tf.function
    def score(a, b, which):
        crops = tf.image.crop_and_resize(a, [[0.1, 0.1, 0.9, 0.8]], which, [6, 6])
        patches = tf.image.extract_patches(a, [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
        return (tf.reduce_sum(tf.image.ssim(a, b, 1.0, filter_size=3))
                + tf.reduce_sum(tf.image.sobel_edges(crops)) + tf.reduce_mean(patches)
                + tf.reduce_sum(tf.image.total_variation(tf.image.transpose(a))))

    for k in range(3):
        a, b, which = tf.constant(np.roll(_A, k, 1)), tf.constant(_B), tf.constant([k % 2])
        np.testing.assert_allclose(score(a, b, which).numpy(),
                                   score.__wrapped__(a, b, which).numpy(), rtol=1e-5)
    assert score.eager_reasons() == []  # Tensor box indices are not read while tracing.


def test_suppression_inside_tf_function():
    @tf.function
    def select(boxes, scores):
        return tf.image.non_max_suppression(boxes, scores, 3, 0.5)

    for scores in (_SCORES, _SCORES[::-1].copy(), _SCORES):
        expected = tf.image.non_max_suppression(_BOXES, scores, 3, 0.5).numpy()
        np.testing.assert_array_equal(select(_BOXES, scores).numpy(), expected)


def test_keras_symbolic_inputs_build_a_model():
    inputs = tf.keras.Input((6, 7, 3))
    edges = tf.image.sobel_edges(tf.image.rgb_to_yuv(inputs))
    outputs = tf.reduce_sum(edges, axis=[1, 2, 3, 4]) + tf.image.total_variation(inputs)
    model = tf.keras.Model(inputs, outputs)
    data = np.random.default_rng(0).uniform(size=(2, 6, 7, 3)).astype(np.float32)
    expected = (tf.reduce_sum(tf.image.sobel_edges(tf.image.rgb_to_yuv(data)), [1, 2, 3, 4])
                + tf.image.total_variation(data))
    np.testing.assert_allclose(model(data).numpy(), expected.numpy(), rtol=1e-5)


@pytest.mark.parametrize("module", ["numpyflow.image.quality", "numpyflow.image.patches",
                                    "numpyflow.image.yuv", "numpyflow.image.detection",
                                    "numpyflow.image.jpeg"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
