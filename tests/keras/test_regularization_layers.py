"""Tests of the regularization layers: spatial, Gaussian and alpha dropout, noise, penalties."""

import math

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import (
    ActivityRegularization, AlphaDropout, Dense, Dropout, GaussianDropout, GaussianNoise,
    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from tests.keras.layer_test import run_layer_test

keras = tf.keras

def data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# -- the standard checks, one configuration per line --------------------------------------

@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_spatial_dropout_1d(call_kwargs):
    run_layer_test(SpatialDropout1D, {"rate": 0.5, "seed": 1}, (2, 5, 3), (2, 5, 3), 0,
                   call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_spatial_dropout_2d(call_kwargs):
    run_layer_test(SpatialDropout2D, {"rate": 0.5, "seed": 1}, (2, 4, 4, 3), (2, 4, 4, 3), 0,
                   call_kwargs=call_kwargs)


def test_spatial_dropout_2d_channels_first():
    run_layer_test(SpatialDropout2D, {"rate": 0.3, "data_format": "channels_first"},
                   (2, 3, 4, 4), (2, 3, 4, 4), 0, call_kwargs={"training": True})


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_spatial_dropout_3d(call_kwargs):
    run_layer_test(SpatialDropout3D, {"rate": 0.5}, (2, 3, 3, 3, 2), (2, 3, 3, 3, 2), 0,
                   call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_gaussian_noise(call_kwargs):
    run_layer_test(GaussianNoise, {"stddev": 0.5, "seed": 3}, (3, 4), (3, 4), 0,
                   call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_gaussian_dropout(call_kwargs):
    run_layer_test(GaussianDropout, {"rate": 0.3, "seed": 3}, (2, 3, 4), (2, 3, 4), 0,
                   call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_alpha_dropout(call_kwargs):
    run_layer_test(AlphaDropout, {"rate": 0.2, "seed": 3}, (3, 4), (3, 4), 0,
                   call_kwargs=call_kwargs)


def test_alpha_dropout_noise_shape():
    run_layer_test(AlphaDropout, {"rate": 0.2, "noise_shape": (None, 1, 4)}, (3, 2, 4),
                   (3, 2, 4), 0, call_kwargs={"training": True})


def test_activity_regularization():
    run_layer_test(ActivityRegularization, {"l1": 0.01, "l2": 0.02}, (3, 4), (3, 4), 0)


# -- identity outside training ------------------------------------------------------------

@pytest.mark.parametrize("layer", [
    SpatialDropout1D(0.5), SpatialDropout2D(0.5), SpatialDropout3D(0.5), GaussianNoise(0.5),
    GaussianDropout(0.5), AlphaDropout(0.5)], ids=lambda layer: type(layer).__name__)
def test_identity_unless_training(layer):
    x = data(*{SpatialDropout1D: (2, 3, 4), SpatialDropout3D: (2, 2, 2, 2, 3)}.get(
        type(layer), (2, 3, 3, 4)))
    for kwargs in ({}, {"training": False}, {"training": None}):
        np.testing.assert_array_equal(layer(x, **kwargs).numpy(), x)
    assert not np.array_equal(layer(x, training=True).numpy(), x)


# -- SpatialDropout -------------------------------------------------------------------------

def test_spatial_dropout_2d_drops_whole_channels():
    x = np.ones((50, 4, 4, 20), np.float32)
    outputs = SpatialDropout2D(0.4, seed=2)(x, training=True).numpy()
    assert (outputs == outputs[:, :1, :1, :]).all()  # one decision per (sample, channel)
    assert set(np.unique(outputs)) <= {0., np.float32(1 / 0.6)}
    assert abs((outputs[:, 0, 0, :] == 0).mean() - 0.4) < 0.05


def test_spatial_dropout_channels_first_masks():
    x = np.ones((10, 6, 3, 3), np.float32)
    outputs = SpatialDropout2D(0.5, data_format="channels_first")(x, training=True).numpy()
    assert (outputs == outputs[:, :, :1, :1]).all()
    x = np.ones((10, 6, 2, 2, 2), np.float32)
    outputs = SpatialDropout3D(0.5, data_format="channels_first")(x, training=True).numpy()
    assert (outputs == outputs[:, :, :1, :1, :1]).all()


def test_spatial_dropout_1d_and_3d_masks():
    outputs = SpatialDropout1D(0.5)(np.ones((10, 7, 6), np.float32), training=True).numpy()
    assert (outputs == outputs[:, :1, :]).all()
    outputs = SpatialDropout3D(0.5)(np.ones((6, 2, 3, 2, 5), np.float32),
                                    training=True).numpy()
    assert (outputs == outputs[:, :1, :1, :1, :]).all()


def test_spatial_dropout_is_reproducible_with_a_seed_and_fresh_per_call():
    x = np.ones((8, 2, 2, 16), np.float32)
    tf.random.set_seed(5)
    layer = SpatialDropout2D(0.5, seed=7)
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.array_equal(first, second)
    tf.random.set_seed(5)
    np.testing.assert_array_equal(SpatialDropout2D(0.5, seed=7)(x, training=True).numpy(),
                                  first)


def test_spatial_dropout_rates_zero_and_one():
    x = np.ones((2, 3, 3, 2), np.float32)
    np.testing.assert_array_equal(SpatialDropout2D(0.)(x, training=True).numpy(), x)
    np.testing.assert_array_equal(SpatialDropout2D(1.)(x, training=True).numpy(), 0 * x)


def test_spatial_dropout_config_and_errors():
    layer = SpatialDropout2D(0.2, seed=3, name="sd")
    config = layer.get_config()
    assert config["rate"] == 0.2 and config["seed"] == 3
    assert config["data_format"] == "channels_last" and "noise_shape" not in config
    assert "data_format" not in SpatialDropout1D(0.2).get_config()
    assert isinstance(layer, Dropout)
    with pytest.raises(ValueError, match="rate=1.5"):
        SpatialDropout2D(1.5)
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.5, data_format="channels_middle")
    with pytest.raises(ValueError, match='"sd".*expected ndim=4'):
        layer(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="'sd'.*rank 4"):
        layer.compute_output_shape((None, 3, 4))
    with pytest.raises(TypeError, match="noise_shape"):
        SpatialDropout2D(0.5, noise_shape=(1, 1, 1, 1))


def test_spatial_dropout_in_a_conv_model_fits():
    tf.random.set_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3),
                              SpatialDropout2D(0.25), keras.layers.Flatten(), Dense(2)])
    model.compile("sgd", "mse")
    history = model.fit(data(16, 6, 6, 1), data(16, 2), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# -- GaussianNoise, GaussianDropout ---------------------------------------------------------

def test_gaussian_noise_statistics():
    x = np.full((400, 250), 3., np.float32)
    noise = GaussianNoise(0.5, seed=1)(x, training=True).numpy() - 3.
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01


def test_gaussian_dropout_statistics():
    x = np.full((400, 250), 2., np.float32)
    factor = GaussianDropout(0.2, seed=1)(x, training=True).numpy() / 2.
    assert abs(factor.mean() - 1.) < 0.01
    assert abs(factor.std() - math.sqrt(0.2 / 0.8)) < 0.01


def test_gaussian_layers_gradients_and_dtypes():
    x = tf.constant(data(3, 4).astype(np.float64))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = GaussianDropout(0.5, dtype="float64", seed=1)(x, training=True)
        total = tf.reduce_sum(y)
    assert y.dtype == tf.float64
    factor = y.numpy() / x.numpy()
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), factor, rtol=1e-6)
    assert GaussianNoise(0.1, dtype="float64")(x, training=True).dtype == tf.float64


def test_gaussian_layers_reproducible_with_seed():
    x = np.ones((3, 4), np.float32)
    tf.random.set_seed(2)
    first = GaussianNoise(0.3, seed=4)(x, training=True).numpy()
    tf.random.set_seed(2)
    np.testing.assert_array_equal(GaussianNoise(0.3, seed=4)(x, training=True).numpy(), first)


def test_gaussian_layers_config_and_errors():
    assert GaussianNoise(0.3, seed=1).get_config()["stddev"] == 0.3
    assert GaussianDropout(0.4).get_config()["rate"] == 0.4
    with pytest.raises(ValueError, match="GaussianNoise layer .*stddev=-0.1"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="GaussianDropout layer .*rate=2"):
        GaussianDropout(2)
    np.testing.assert_array_equal(GaussianDropout(1.)(np.ones((2, 2), np.float32),
                                                      training=True).numpy(), 0.)
    assert GaussianNoise(0.1).compute_output_shape((None, 3)) == (None, 3)


def test_noise_layers_in_fit_draw_fresh_noise_each_compiled_step():
    tf.random.set_seed(0)
    model = keras.Sequential([keras.Input((3,)), GaussianNoise(0.2, seed=1),
                              GaussianDropout(0.2, seed=2), Dense(1)])
    model.compile("sgd", "mse")
    x, y = data(32, 3), data(32, 1)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # Inference is deterministic: the noise layers are off.
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


# -- AlphaDropout ---------------------------------------------------------------------------

SELU_SATURATION = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def test_alpha_dropout_keeps_mean_and_variance():
    x = np.random.default_rng(0).normal(size=(500, 400)).astype(np.float32)
    outputs = AlphaDropout(0.3, seed=1)(x, training=True).numpy()
    assert abs(outputs.mean()) < 0.01 and abs(outputs.std() - 1.) < 0.01


def test_alpha_dropout_values_and_gradient():
    x = tf.constant(np.random.default_rng(1).normal(size=(50, 40)))
    rate = 0.4
    a = ((1 - rate) * (1 + rate * SELU_SATURATION ** 2)) ** -0.5
    b = -a * SELU_SATURATION * rate
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = AlphaDropout(rate, dtype="float64")(x, training=True)
        total = tf.reduce_sum(y)
    kept = np.isclose(y.numpy(), a * x.numpy() + b)
    dropped = np.isclose(y.numpy(), a * SELU_SATURATION + b)
    assert (kept | dropped).all() and abs(dropped.mean() - rate) < 0.05
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), np.where(kept, a, 0.))


def test_alpha_dropout_noise_shape_shares_the_mask_and_config():
    x = np.ones((6, 5, 8), np.float32)
    layer = AlphaDropout(0.5, noise_shape=(None, 1, None), seed=4)
    outputs = layer(x, training=True).numpy()
    assert len(np.unique(outputs)) == 2  # kept ones and dropped ones, each mapped alike
    assert (outputs == outputs[:, :1, :]).all()
    assert layer.get_config()["noise_shape"] == (None, 1, None)
    with pytest.raises(ValueError, match="noise_shape"):
        AlphaDropout(0.5, noise_shape=(None, 1))(x, training=True)
    with pytest.raises(ValueError, match="rate=-0.5"):
        AlphaDropout(-0.5)
    np.testing.assert_array_equal(AlphaDropout(1.)(x, training=True).numpy(), 0.)


# -- ActivityRegularization -----------------------------------------------------------------

def test_activity_regularization_config_and_errors():
    layer = ActivityRegularization(l1=0.1, l2=0.2)
    config = layer.get_config()
    assert config["l1"] == 0.1 and config["l2"] == 0.2
    assert "activity_regularizer" not in config
    assert ActivityRegularization.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    with pytest.raises(ValueError, match="l1=-1"):
        ActivityRegularization(l1=-1)
    with pytest.raises(ValueError, match="l2='x'"):
        ActivityRegularization(l2="x")


def test_activity_regularization_adds_the_penalty_per_sample():
    x = np.array([[1., -2.], [3., 0.5]], np.float32)
    layer = ActivityRegularization(l1=0.1, l2=0.01)
    outputs = layer(x)
    np.testing.assert_array_equal(outputs.numpy(), x)
    # Keras 3 divides the activity penalty by the batch size.
    expected = (0.1 * np.abs(x).sum() + 0.01 * (x ** 2).sum()) / 2
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-6)
    layer(x[:1])  # Each call replaces the previous call's losses.
    assert len(layer.losses) == 1


def test_activity_regularization_refuses_a_second_regularizer():
    with pytest.raises(TypeError, match="activity_regularizer"):
        ActivityRegularization(l1=0.1, activity_regularizer="l2")


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_activity_regularization_penalty_enters_the_training_loss(run_eagerly):
    x, y = data(16, 3), data(16, 2)
    results = []
    for l2 in (0., 1.):
        model = keras.Sequential([keras.Input((3,)), Dense(2, kernel_initializer="ones"),
                                  ActivityRegularization(l2=l2)])
        model.compile("sgd", "mse", run_eagerly=run_eagerly)
        outputs = model.predict(x, verbose=0)
        results.append((model.evaluate(x, y, verbose=0), (outputs ** 2).sum(-1).mean()))
    (plain, _), (regularized, penalty) = results
    np.testing.assert_allclose(regularized, plain + penalty, rtol=1e-5)
