"""Tests of the preprocessing layers: rescaling, normalization, resizing and cropping, and
the random augmentation layers (random only with training=True)."""

import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import (
    CenterCrop, Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
    RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing)
from tests.keras.layer_test import run_layer_test
from tests.ops.cases_image import np_resize_bilinear, np_transform

pytestmark = pytest.mark.usefixtures("fresh_names")

TRAINING = {"training": True}


def _images(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, size=shape).astype(np.float32)


# -- the standard checks, one configuration per line --------------------------------------

def test_rescaling():
    run_layer_test(Rescaling, {"scale": 1 / 255}, (2, 4, 4, 3), (2, 4, 4, 3), 0)


def test_rescaling_per_channel_with_offset():
    run_layer_test(Rescaling, {"scale": [1., 2., 3.], "offset": -1.}, (2, 5, 3), (2, 5, 3), 0)


def test_normalization_given_statistics():
    run_layer_test(Normalization, {"mean": [1., 2., 3.], "variance": [1., 4., 9.]},
                   (2, 4, 3), (2, 4, 3), 0)


def test_normalization_scalar_statistics_inverted():
    run_layer_test(Normalization, {"axis": None, "mean": 2., "variance": 4., "invert": True},
                   (3, 2), (3, 2), 0)


def test_resizing():
    run_layer_test(Resizing, {"height": 4, "width": 6}, (2, 8, 8, 3), (2, 4, 6, 3), 0)


def test_resizing_nearest_crop_to_aspect_ratio():
    run_layer_test(Resizing, {"height": 3, "width": 3, "interpolation": "nearest",
                              "crop_to_aspect_ratio": True}, (2, 4, 8, 1), (2, 3, 3, 1), 0)


def test_resizing_pad_to_aspect_ratio():
    run_layer_test(Resizing, {"height": 4, "width": 4, "pad_to_aspect_ratio": True},
                   (1, 4, 8, 2), (1, 4, 4, 2), 0)


def test_center_crop():
    run_layer_test(CenterCrop, {"height": 3, "width": 4}, (2, 5, 6, 1), (2, 3, 4, 1), 0)


def test_center_crop_of_smaller_images_resizes():
    run_layer_test(CenterCrop, {"height": 5, "width": 4}, (2, 3, 3, 2), (2, 5, 4, 2), 0)


def test_random_flip_training():
    run_layer_test(RandomFlip, {"seed": 1}, (4, 5, 6, 2), (4, 5, 6, 2), 0,
                   call_kwargs=TRAINING)


def test_random_flip_horizontal():
    run_layer_test(RandomFlip, {"mode": "horizontal", "seed": 2}, (3, 5, 6, 2), (3, 5, 6, 2),
                   0, call_kwargs=TRAINING)


def test_random_rotation_training():
    run_layer_test(RandomRotation, {"factor": 0.2, "seed": 1}, (2, 6, 5, 3), (2, 6, 5, 3), 0,
                   call_kwargs=TRAINING)


def test_random_rotation_constant_fill_nearest_interpolation():
    run_layer_test(RandomRotation, {"factor": (-0.1, 0.3), "fill_mode": "constant",
                                    "fill_value": 1., "interpolation": "nearest"},
                   (2, 6, 6, 1), (2, 6, 6, 1), 0, call_kwargs=TRAINING)


def test_random_rotation_inference():
    run_layer_test(RandomRotation, {"factor": 0.5}, (2, 4, 4, 1), (2, 4, 4, 1), 0)


def test_random_zoom_training():
    run_layer_test(RandomZoom, {"height_factor": 0.3, "seed": 1}, (2, 6, 6, 2),
                   (2, 6, 6, 2), 0, call_kwargs=TRAINING)


def test_random_zoom_separate_width_wrap():
    run_layer_test(RandomZoom, {"height_factor": (-0.4, -0.1), "width_factor": (0.1, 0.5),
                                "fill_mode": "wrap"}, (2, 6, 5, 1), (2, 6, 5, 1), 0,
                   call_kwargs=TRAINING)


def test_random_translation_training():
    run_layer_test(RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2, "seed": 1},
                   (3, 7, 7, 1), (3, 7, 7, 1), 0, call_kwargs=TRAINING)


def test_random_translation_nearest_fill():
    run_layer_test(RandomTranslation, {"height_factor": (-0.3, 0.1), "width_factor": 0.,
                                       "fill_mode": "nearest"}, (2, 5, 5, 3), (2, 5, 5, 3), 0,
                   call_kwargs=TRAINING)


def test_random_contrast_training():
    run_layer_test(RandomContrast, {"factor": 0.5, "seed": 1}, (2, 4, 4, 3), (2, 4, 4, 3), 0,
                   call_kwargs=TRAINING)


def test_random_brightness_training():
    run_layer_test(RandomBrightness, {"factor": (-0.2, 0.3), "value_range": (-5, 5)},
                   (2, 4, 4, 3), (2, 4, 4, 3), 0, call_kwargs=TRAINING)


def test_random_crop_training():
    run_layer_test(RandomCrop, {"height": 3, "width": 4, "seed": 1}, (2, 6, 6, 1),
                   (2, 3, 4, 1), 0, call_kwargs=TRAINING)


def test_random_crop_inference():
    run_layer_test(RandomCrop, {"height": 3, "width": 4}, (2, 6, 6, 1), (2, 3, 4, 1), 0)


# -- Rescaling and Normalization ------------------------------------------------------------

def test_rescaling_values_and_integer_inputs():
    out = Rescaling(1 / 127.5, offset=-1)(np.array([[0, 255]], np.uint8))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [[-1., 1.]], rtol=1e-6)
    with pytest.raises(ValueError, match="Rescaling layer .* scale='big'"):
        Rescaling("big")


def test_normalization_adapt_computes_statistics_over_other_axes():
    data = np.random.default_rng(0).normal(3., 2., size=(50, 4, 3)).astype(np.float32)
    layer = Normalization()
    layer.adapt(data)
    assert len(layer.weights) == 3 and not layer.trainable_weights  # mean, variance, count
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(axis=(0, 1)), rtol=1e-5)
    out = layer(data).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0., atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1)), 1., rtol=1e-4)


def test_normalization_axis_none_invert_and_given_values():
    data = np.array([[1., 2.], [3., 6.]], np.float32)
    layer = Normalization(axis=None)
    layer.adapt(data)
    assert layer.adapt_mean.shape == ()
    np.testing.assert_allclose(layer(data).numpy(), (data - 3.) / np.sqrt(3.5), rtol=1e-6)
    inverse = Normalization(mean=[1., 2.], variance=[4., 9.], invert=True)
    np.testing.assert_allclose(inverse(np.ones((1, 2), np.float32)).numpy(), [[3., 5.]])


def test_normalization_requires_adapt_or_statistics():
    layer = Normalization()
    with pytest.raises(ValueError, match="Normalization layer .* call `adapt\\(data\\)`"):
        layer(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="both must be set"):
        Normalization(mean=1.)
    with pytest.raises(ValueError, match="cannot adapt"):
        Normalization(mean=0., variance=1.).adapt(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"axis=\(2,\)"):
        Normalization(axis=2).adapt(np.ones((4, 3)))


def test_normalization_weights_restore_statistics():
    source = Normalization()
    source.adapt(np.array([[0., 10.], [2., 30.]], np.float32))
    clone = Normalization.from_config(source.get_config())
    clone.build((None, 2))
    clone.set_weights(source.get_weights())
    np.testing.assert_allclose(clone(np.array([[1., 20.]], np.float32)).numpy(), [[0., 0.]])


# -- Resizing and cropping ------------------------------------------------------------------

def test_resizing_values_match_tf2_bilinear():
    x = _images(2, 5, 7, 3)
    np.testing.assert_allclose(Resizing(3, 4)(x).numpy(), np_resize_bilinear(x, (3, 4)),
                               rtol=1e-5)


def test_resizing_crop_and_pad_to_aspect_ratio():
    x = _images(1, 4, 8, 1)
    cropped = Resizing(2, 2, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_allclose(cropped, np_resize_bilinear(x[:, :, 2:6], (2, 2)), rtol=1e-5)
    padded = Resizing(8, 8, pad_to_aspect_ratio=True, fill_value=-1.)(x).numpy()
    expected = np.full((1, 8, 8, 1), -1., np.float32)
    expected[:, 2:6] = x
    np.testing.assert_array_equal(padded, expected)
    with pytest.raises(ValueError, match="only one of"):
        Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(NotImplementedError, match="interpolation"):
        Resizing(2, 2, interpolation="bicubic")
    with pytest.raises(ValueError, match="height=0"):
        Resizing(0, 2)


def test_center_crop_values():
    x = _images(2, 6, 7, 1)
    np.testing.assert_array_equal(CenterCrop(2, 3)(x).numpy(), x[:, 2:4, 2:5])
    small = _images(1, 2, 4, 1)
    np.testing.assert_allclose(CenterCrop(4, 4)(small).numpy(),
                               np_resize_bilinear(small[:, :, 1:3], (4, 4)), rtol=1e-5)
    assert CenterCrop(3, 3).compute_output_shape((None, None, None, 2)) == (None, 3, 3, 2)


def test_random_crop_takes_one_window_of_the_batch_while_training():
    x = _images(3, 6, 7, 2)
    out = RandomCrop(4, 3, seed=3)(x, training=True).numpy()
    windows = [(top, left) for top in range(3) for left in range(5)
               if np.array_equal(out, x[:, top:top + 4, left:left + 3])]
    assert len(windows) == 1
    # At inference, the largest centred window of the target's aspect ratio (6 x 4 here),
    # resized to the target.
    np.testing.assert_allclose(RandomCrop(4, 3)(x).numpy(),
                               np_resize_bilinear(x[:, :, 1:5], (4, 3)), rtol=1e-5)


def test_random_crop_gradient_reaches_the_window():
    x = tf.constant(_images(1, 5, 5, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(RandomCrop(2, 2, seed=1)(x, training=True))
    grad = tape.gradient(y, x).numpy()
    assert grad.sum() == 4. and set(np.unique(grad)) == {0., 1.}


def test_single_images_keep_their_rank():
    image = _images(6, 8, 3)
    assert Resizing(4, 4, pad_to_aspect_ratio=True)(image).shape == (4, 4, 3)
    assert CenterCrop(2, 3)(image).shape == (2, 3, 3)
    assert Resizing(4, 4).compute_output_shape((None, None, 3)) == (4, 4, 3)
    for layer in (RandomFlip(), RandomRotation(0.2), RandomZoom(0.2),
                  RandomTranslation(0.2, 0.2), RandomContrast(0.2), RandomBrightness(0.2),
                  RandomCrop(4, 5)):
        out = layer(image, training=True)
        assert out.shape == layer.compute_output_shape(image.shape), type(layer).__name__


# -- random layers: values ------------------------------------------------------------------

def test_random_flip_picks_flips_per_image():
    x = _images(64, 3, 4, 1)
    out = RandomFlip(seed=0)(x, training=True).numpy()
    variants = {"none": x, "lr": x[:, :, ::-1], "ud": x[:, ::-1], "both": x[:, ::-1, ::-1]}
    seen = set()
    for i in range(64):
        matches = [k for k, v in variants.items() if np.array_equal(out[i], v[i])]
        assert matches, f"image {i} is not a flip of its input"
        seen.add(matches[0])
    assert seen == set(variants)
    horizontal = RandomFlip("horizontal", seed=0)(x, training=True).numpy()
    assert all(np.array_equal(horizontal[i], x[i]) or np.array_equal(horizontal[i],
                                                                     x[i, :, ::-1])
               for i in range(64))


def test_random_rotation_by_a_quarter_turn_is_rot90():
    x = _images(2, 5, 5, 3)
    out = RandomRotation((0.25, 0.25))(x, training=True).numpy()
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), atol=1e-3)


def test_random_translation_by_whole_pixels():
    x = _images(2, 4, 4, 1)
    layer = RandomTranslation((0.25, 0.25), (-0.5, -0.5), fill_mode="constant")
    out = layer(x, training=True).numpy()
    expected = np.zeros_like(x)
    expected[:, 1:, :2] = x[:, :3, 2:]  # down by 1, left by 2
    np.testing.assert_array_equal(out, expected)


def test_random_zoom_scales_about_the_centre():
    x = _images(1, 5, 7, 1)
    out = RandomZoom((-0.5, -0.5), fill_mode="constant")(x, training=True).numpy()
    transform = [0.5, 0., 3 * 0.5, 0., 0.5, 2 * 0.5, 0., 0.]  # zoom in 2x
    np.testing.assert_allclose(out, np_transform(x.astype(np.float64), transform),
                               rtol=1e-5, atol=1e-4)


def test_random_contrast_formula_and_clipping():
    x = _images(8, 3, 4, 2)
    out = RandomContrast((0.5, 0.5), value_range=(0, 255), seed=1)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    factors = []
    for i in range(8):
        # Find the factor in [0.5, 1.5] that explains the image best, then check all pixels.
        candidates = np.linspace(0.5, 1.5, 20001)
        expected = np.clip((x[i] - mean[i])[None] * candidates[:, None, None, None]
                           + mean[i][None], 0, 255)
        best = np.argmin(np.abs(expected - out[i][None]).max(axis=(1, 2, 3)))
        np.testing.assert_allclose(out[i], expected[best], atol=0.05)
        factors.append(candidates[best])
    assert 0.5 <= min(factors) and max(factors) <= 1.5 and np.ptp(factors) > 0.05


def test_random_brightness_adds_one_clipped_offset_per_image():
    x = _images(16, 3, 3, 3)
    out = RandomBrightness((-0.1, 0.2), seed=2)(x, training=True).numpy()
    for i in range(16):
        unclipped = (out[i] > 0) & (out[i] < 255)
        offsets = (out[i] - x[i])[unclipped]
        assert np.ptp(offsets) < 1e-3
        assert -25.5 - 1e-3 <= offsets[0] <= 51 + 1e-3
    assert out.min() >= 0 and out.max() <= 255


# -- random layers: inference, seeds, compiled plans ----------------------------------------

RANDOM_LAYERS = [
    (RandomFlip, {}), (RandomRotation, {"factor": 0.3}),
    (RandomZoom, {"height_factor": 0.3}),
    (RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2}),
    (RandomContrast, {"factor": 0.5}), (RandomBrightness, {"factor": 0.3}),
]


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=lambda v: getattr(v, "__name__", ""))
def test_identity_at_inference(cls, kwargs):
    x = _images(4, 6, 6, 3)
    layer = cls(**kwargs)
    for training in (None, False):
        np.testing.assert_array_equal(layer(x, training=training).numpy(), x)
    np.testing.assert_array_equal(layer(x).numpy(), x)


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=lambda v: getattr(v, "__name__", ""))
def test_seeded_draws_repeat_after_set_seed_and_differ_between_calls(cls, kwargs):
    x = _images(8, 6, 6, 3)
    tf.random.set_seed(7)
    layer = cls(seed=5, **kwargs)
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    tf.random.set_seed(7)
    again = cls(seed=5, **kwargs)(x, training=True).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


def test_compiled_plans_draw_fresh_augmentations():
    x = tf.constant(_images(8, 6, 6, 1))
    flip = RandomFlip(seed=1)
    shift = RandomTranslation(0.3, 0.3, seed=2)
    augment = tf.function(lambda images: shift(flip(images, training=True), training=True))
    outputs = [augment(x).numpy() for _ in range(5)]
    assert augment.plan_sources(), augment.eager_reasons()
    assert not np.array_equal(outputs[-1], outputs[-2])


def test_sequential_model_trains_with_augmentation():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(32, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=32)
    model = tf.keras.Sequential([
        tf.keras.layers.InputLayer(input_shape=(8, 8, 1)),
        RandomFlip("horizontal", seed=1),
        RandomTranslation(0.1, 0.1, seed=2),
        tf.keras.layers.Conv2D(4, 3, activation="relu"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(3),
    ])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # Inference is deterministic: the augmentation is off.
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


# -- errors ---------------------------------------------------------------------------------

def test_argument_errors_name_the_layer_and_argument():
    with pytest.raises(ValueError, match="RandomRotation layer .* factor=1.5"):
        RandomRotation(1.5)
    with pytest.raises(ValueError, match="factor=\\[0.1, 0.2, 0.3\\]"):
        RandomRotation([0.1, 0.2, 0.3])
    with pytest.raises(NotImplementedError, match="fill_mode='mirror'"):
        RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'"):
        RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="width_factor=2"):
        RandomTranslation(0.1, 2)
    with pytest.raises(ValueError, match="mode='diagonal'"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="RandomContrast layer .* factor=-0.5"):
        RandomContrast(-0.5)
    with pytest.raises(ValueError, match="value_range=\\(1, 1\\)"):
        RandomBrightness(0.1, value_range=(1, 1))
    with pytest.raises(ValueError, match="seed='abc'"):
        RandomFlip(seed="abc")
    with pytest.raises(ValueError, match="channels_first"):
        RandomFlip(data_format="channels_first")


def test_rank_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"RandomFlip layer .* Received: input shape \(4, 4\)"):
        RandomFlip()(np.zeros((4, 4), np.float32), training=True)
    with pytest.raises(ValueError, match="CenterCrop layer"):
        CenterCrop(2, 2).compute_output_shape((None, 4, 4, 4, 1))


def test_configs_use_keras_keys():
    assert set(RandomRotation(0.1).get_config()) >= {
        "factor", "fill_mode", "interpolation", "seed", "fill_value", "data_format"}
    assert set(RandomZoom(0.1).get_config()) >= {
        "height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"}
    assert set(RandomContrast(0.1).get_config()) >= {"factor", "value_range", "seed"}
    assert set(Normalization().get_config()) >= {"axis", "mean", "variance", "invert"}
    assert set(Resizing(2, 2).get_config()) >= {
        "height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio"}


_RESIZING_CASES = {  # As tests/fixtures/make_resizing_fixtures.py builds them.
    "area_down": (5, 3, "area", False, False),
    "area_up": (13, 11, "area", False, False),
    "antialias_down": (4, 6, "bilinear", True, False),
    "antialias_up": (12, 20, "bilinear", True, False),
    "area_crop": (4, 4, "area", False, True),
    "antialias_crop": (3, 5, "bilinear", True, True),
}


@pytest.mark.parametrize("name", sorted(_RESIZING_CASES))
def test_resizing_area_and_antialias_equal_keras3(name):
    fixture = os.path.join(os.path.dirname(__file__), "..", "fixtures", "resizing",
                           "keras3_resizing.npz")
    expected = np.load(fixture)
    height, width, interpolation, antialias, crop = _RESIZING_CASES[name]
    layer = Resizing(height, width, interpolation=interpolation, antialias=antialias,
                     crop_to_aspect_ratio=crop)
    np.testing.assert_allclose(layer(expected["images"]).numpy(), expected[name],
                               rtol=1e-5, atol=1e-3)
    assert Resizing.from_config(layer.get_config()).antialias is antialias
