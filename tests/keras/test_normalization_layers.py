"""Tests of BatchNormalization, LayerNormalization and GroupNormalization (Keras 3 behaviour)."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import (
    BatchNormalization, Dense, GroupNormalization, LayerNormalization)
from tests.keras.layer_test import run_layer_test

keras = tf.keras


def data(*shape, seed=0, loc=0., scale=1.):
    return np.random.default_rng(seed).normal(loc, scale, size=shape).astype(np.float32)


def np_normalize(x, axes, epsilon, gamma=1., beta=0.):
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


# -- the standard checks, one configuration per line --------------------------------------

@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_batch_norm_2d(call_kwargs):
    run_layer_test(BatchNormalization, {}, (4, 3), (4, 3), 2, 2, call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_batch_norm_3d(call_kwargs):
    run_layer_test(BatchNormalization, {"momentum": 0.9}, (3, 5, 4), (3, 5, 4), 2, 2,
                   call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_batch_norm_4d_channels_first(call_kwargs):
    run_layer_test(BatchNormalization, {"axis": 1, "epsilon": 1e-5}, (2, 3, 4, 4),
                   (2, 3, 4, 4), 2, 2, call_kwargs=call_kwargs)


@pytest.mark.parametrize("call_kwargs", [{}, {"training": True}])
def test_batch_norm_axis_list(call_kwargs):
    run_layer_test(BatchNormalization, {"axis": [1, 3]}, (3, 2, 4, 5), (3, 2, 4, 5), 2, 2,
                   call_kwargs=call_kwargs)


def test_batch_norm_no_center_no_scale():
    run_layer_test(BatchNormalization, {"center": False, "scale": False}, (4, 3), (4, 3), 0,
                   2, call_kwargs={"training": True})


def test_batch_norm_scale_only_with_initializers():
    run_layer_test(BatchNormalization, {"center": False, "gamma_initializer": "random_normal",
                                        "moving_variance_initializer": "ones"},
                   (4, 6), (4, 6), 1, 2, call_kwargs={"training": True})


def test_layer_norm_last_axis():
    run_layer_test(LayerNormalization, {}, (3, 4), (3, 4), 2)


def test_layer_norm_axis_list():
    run_layer_test(LayerNormalization, {"axis": [1, 2]}, (2, 3, 4, 5), (2, 3, 4, 5), 2)


def test_layer_norm_middle_axis_no_center():
    run_layer_test(LayerNormalization, {"axis": 1, "center": False, "epsilon": 1e-5},
                   (2, 3, 4), (2, 3, 4), 1)


def test_layer_norm_rms_scaling():
    run_layer_test(LayerNormalization, {"rms_scaling": True}, (3, 4), (3, 4), 1)


def test_group_norm_2d():
    run_layer_test(GroupNormalization, {"groups": 2}, (3, 4), (3, 4), 2)


def test_group_norm_images():
    run_layer_test(GroupNormalization, {"groups": 3}, (2, 4, 4, 6), (2, 4, 4, 6), 2)


def test_group_norm_channels_first_instance_norm():
    run_layer_test(GroupNormalization, {"groups": -1, "axis": 1, "center": False},
                   (2, 4, 3, 3), (2, 4, 3, 3), 1)


# -- BatchNormalization: values -------------------------------------------------------------

def test_batch_norm_training_uses_biased_batch_statistics():
    x = data(8, 3, loc=2., scale=3.)
    layer = BatchNormalization(beta_initializer="ones", gamma_initializer=keras.initializers.
                               Constant(2.))
    outputs = layer(x, training=True).numpy()
    np.testing.assert_allclose(outputs, np_normalize(x, (0,), 1e-3, 2., 1.), rtol=1e-5,
                               atol=1e-5)


def test_batch_norm_inference_uses_moving_statistics():
    x = data(5, 4)
    layer = BatchNormalization(epsilon=0.01)
    layer.build(x.shape)
    mean, variance = np.arange(4.), np.arange(1., 5.)
    layer.set_weights([np.full(4, 2.), np.full(4, -1.), mean, variance])
    expected = (x - mean) / np.sqrt(variance + 0.01) * 2. - 1.
    for kwargs in ({}, {"training": False}):
        np.testing.assert_allclose(layer(x, **kwargs).numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mean.astype(np.float32))


def test_batch_norm_moving_statistics_after_one_training_call():
    x = data(16, 3, loc=5., scale=2.)
    layer = BatchNormalization(momentum=0.9)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * x.var(0), rtol=1e-5)
    layer(x)  # Inference leaves them alone.
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean(0), rtol=1e-5)


def test_batch_norm_axis_list_statistics_per_position():
    x = data(6, 2, 5, 3)
    layer = BatchNormalization(axis=[1, 3], momentum=0.)
    outputs = layer(x, training=True).numpy()
    np.testing.assert_allclose(outputs, np_normalize(x, (0, 2), 1e-3), rtol=1e-4, atol=1e-5)
    assert layer.moving_mean.shape == (2, 3)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.var((0, 2)), rtol=1e-5)


def test_batch_norm_gradient_through_batch_statistics():
    # d/dx of sum(w * BN(x)) against float64 finite differences (Keras computes the same
    # function, so this also checks the batch statistics are differentiated).
    rng = np.random.default_rng(3)
    x0, w = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    layer = BatchNormalization(dtype="float64", epsilon=0.1)
    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x, training=True) * w)
    grad = tape.gradient(loss, x).numpy()

    def f(v):
        return (np_normalize(v, (0,), 0.1) * w).sum()
    numeric = np.zeros_like(x0)
    for index in np.ndindex(x0.shape):
        step = np.zeros_like(x0)
        step[index] = 1e-6
        numeric[index] = (f(x0 + step) - f(x0 - step)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_batch_norm_float16_inputs_keep_their_dtype():
    layer = BatchNormalization(dtype="float16")
    outputs = layer(data(4, 3).astype(np.float16), training=True)
    assert outputs.dtype == tf.float16
    assert layer.moving_mean.dtype == tf.float16


# -- BatchNormalization: frozen, weights, config, errors ----------------------------------

def test_frozen_batch_norm_runs_in_inference_mode():
    x = data(8, 3, loc=4.)
    layer = BatchNormalization()
    layer(x, training=True)
    before = [w.numpy() for w in layer.weights]
    layer.trainable = False
    outputs = layer(x, training=True).numpy()
    np.testing.assert_allclose(outputs, layer(x, training=False).numpy())
    for old, new in zip(before, layer.weights):
        np.testing.assert_array_equal(old, new.numpy())
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_norm_weight_order_and_names():
    layer = BatchNormalization(name="bn")
    layer.build((None, 5))
    assert [w.name for w in layer.weights] == ["bn/gamma:0", "bn/beta:0", "bn/moving_mean:0",
                                               "bn/moving_variance:0"]
    assert [w.trainable for w in layer.weights] == [True, True, False, False]
    assert layer.count_params() == 20


def test_batch_norm_config_has_keras_keys():
    config = BatchNormalization(axis=[1, 2]).get_config()
    assert {k: config[k] for k in ("axis", "momentum", "epsilon", "center", "scale",
                                   "synchronized")} == {
        "axis": [1, 2], "momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True,
        "synchronized": False}
    assert {"beta_initializer", "gamma_initializer", "moving_mean_initializer",
            "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
            "beta_constraint", "gamma_constraint"} <= set(config)


def test_batch_norm_errors_name_the_layer():
    with pytest.raises(TypeError, match="'bn'.*synchronized='yes'"):
        BatchNormalization(synchronized="yes", name="bn")
    with pytest.raises(TypeError, match="axis"):
        BatchNormalization(axis="channels")
    with pytest.raises(ValueError, match="epsilon=-1"):
        BatchNormalization(epsilon=-1)
    with pytest.raises(ValueError, match="'bn'.*axis 3 is out of bounds"):
        BatchNormalization(axis=3, name="bn").build((None, 4))
    with pytest.raises(ValueError, match="'bn2'.*defined size"):
        BatchNormalization(name="bn2").build((None, None))
    layer = BatchNormalization(name="bn3")
    layer(data(2, 4))
    with pytest.raises(ValueError, match="bn3"):
        layer(data(2, 5))
    with pytest.raises(TypeError, match="fused"):
        BatchNormalization(fused=True)


def test_batch_norm_compute_output_shape_without_data():
    assert BatchNormalization().compute_output_shape((None, 7, 7, 8)) == (None, 7, 7, 8)
    assert BatchNormalization(axis=1).compute_output_shape((None, 3, None)) == (None, 3, None)


# -- BatchNormalization in models: compiled plans and eager steps agree --------------------

def _bn_model():
    tf.random.set_seed(1)
    model = keras.Sequential([keras.Input((4,)), Dense(8, activation="relu"),
                              BatchNormalization(momentum=0.8), Dense(3, activation="softmax")])
    return model


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_batch_norm_in_fit_updates_moving_statistics(run_eagerly):
    x = data(64, 4, seed=1, loc=1.)
    y = np.random.default_rng(2).integers(0, 3, size=64)
    model = _bn_model()
    model.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
    before = model.layers[1].moving_mean.numpy().copy()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()
    assert not np.allclose(model.layers[1].moving_mean.numpy(), before)


def test_batch_norm_fit_compiled_and_eager_give_the_same_moving_statistics():
    x = data(96, 4, seed=1, loc=1.)
    y = np.random.default_rng(2).integers(0, 3, size=96)
    results = []
    for run_eagerly in (False, True):
        model = _bn_model()
        model.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=run_eagerly)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        results.append([w.numpy() for w in model.weights])
        results[-1].append(model.predict(x, verbose=0))
    for compiled, eager in zip(*results):
        np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


def test_batch_norm_moving_statistics_converge_to_data_statistics():
    x = data(256, 2, seed=4, loc=3., scale=2.)
    layer = BatchNormalization(momentum=0.5)
    for _ in range(30):
        layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.var(0), rtol=1e-4)


def test_frozen_batch_norm_in_fit_keeps_its_statistics():
    x = data(32, 4, seed=1, loc=1.)
    y = np.random.default_rng(2).integers(0, 3, size=32)
    model = _bn_model()
    bn = model.layers[1]
    bn.trainable = False
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = [w.numpy() for w in bn.weights]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for old, new in zip(before, bn.weights):
        np.testing.assert_array_equal(old, new.numpy())


# -- LayerNormalization ---------------------------------------------------------------------

def test_layer_norm_values():
    x = data(3, 5, loc=2.)
    layer = LayerNormalization(gamma_initializer=keras.initializers.Constant(3.),
                               beta_initializer="ones")
    np.testing.assert_allclose(layer(x).numpy(), np_normalize(x, (1,), 1e-3, 3., 1.),
                               rtol=1e-5, atol=1e-5)


def test_layer_norm_axis_list_values_and_weight_shapes():
    x = data(2, 3, 4, 5)
    layer = LayerNormalization(axis=[1, 3])
    np.testing.assert_allclose(layer(x).numpy(), np_normalize(x, (1, 3), 1e-3), rtol=1e-5,
                               atol=1e-5)
    assert layer.gamma.shape == (3, 5) and layer.beta.shape == (3, 5)
    assert layer.get_config()["axis"] == [1, 3]


def test_layer_norm_rms_scaling_values():
    x = data(3, 4)
    layer = LayerNormalization(rms_scaling=True, epsilon=0.)
    expected = x / np.sqrt(x.var(-1, keepdims=True))  # Keras 3.15: the variance, not RMS.
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma:0"]


def test_layer_norm_is_the_same_in_training():
    x = data(3, 4)
    layer = LayerNormalization()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x, training=True).numpy())


def test_layer_norm_errors():
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis=1.5)
    with pytest.raises(ValueError, match="'ln'.*axis 2 is out of bounds"):
        LayerNormalization(axis=2, name="ln").compute_output_shape((None, 3))


# -- GroupNormalization ---------------------------------------------------------------------

def test_group_norm_values_channels_last():
    x = data(2, 3, 3, 6)
    layer = GroupNormalization(groups=3, beta_initializer="ones")
    grouped = x.reshape(2, 3, 3, 3, 2)
    expected = np_normalize(grouped, (1, 2, 4), 1e-3).reshape(x.shape) + 1.
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_group_norm_values_channels_first():
    x = data(2, 4, 5)
    layer = GroupNormalization(groups=2, axis=1)
    expected = np_normalize(x.reshape(2, 2, 2, 5), (2, 3), 1e-3).reshape(x.shape)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_group_norm_one_group_per_channel_is_instance_norm():
    x = data(2, 3, 3, 4)
    np.testing.assert_allclose(GroupNormalization(groups=-1)(x).numpy(),
                               np_normalize(x, (1, 2), 1e-3), rtol=1e-5, atol=1e-5)


def test_group_norm_errors_name_the_layer():
    with pytest.raises(ValueError, match="'gn'.*number of channels \\(6\\) must be a multiple "
                                         "of the number of groups \\(4\\)"):
        GroupNormalization(groups=4, name="gn").build((None, 6))
    with pytest.raises(ValueError, match="'gn2'.*cannot be more than the number of channels"):
        GroupNormalization(name="gn2")(data(2, 8))  # the default is 32 groups
    with pytest.raises(ValueError, match="'gn3'.*multiple"):
        GroupNormalization(groups=4, name="gn3").compute_output_shape((None, 6))
    with pytest.raises(ValueError, match="groups=0"):
        GroupNormalization(groups=0)
    with pytest.raises(TypeError, match="axis"):
        GroupNormalization(axis=[1, 2])


def test_normalization_layers_in_a_sequential_summary():
    model = keras.Sequential([keras.Input((6,)), LayerNormalization(), BatchNormalization(),
                              GroupNormalization(groups=3)])
    assert model.count_params() == 12 + 24 + 12
    lines = []
    model.summary(print_fn=lines.append)
    assert any("Non-trainable params: 12" in line for line in lines)


def test_batch_norm_model_call_with_training_updates_on_every_compiled_call():
    # A Sequential's __call__ runs a compiled plan after its first traces: the moving-stat
    # assignments must be part of it, so each call moves the statistics once more.
    x = data(8, 3, loc=2.)
    bn = BatchNormalization(momentum=0.5)
    model = keras.Sequential([keras.Input((3,)), bn])
    expected = np.zeros(3)
    for _ in range(5):
        model(x, training=True)
        expected = expected * 0.5 + x.mean(0) * 0.5
        np.testing.assert_allclose(bn.moving_mean.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(model(x).numpy(), bn(x).numpy())


def test_gamma_and_beta_regularizers_and_constraints_are_applied():
    layer = BatchNormalization(gamma_regularizer=keras.regularizers.L2(0.5),
                               beta_regularizer="l1", gamma_constraint="non_neg")
    layer.build((None, 3))
    np.testing.assert_allclose([float(loss) for loss in layer.losses], [1.5, 0.])
    assert layer.get_config()["gamma_regularizer"]["class_name"] == "L2"
    assert layer.gamma.constraint is not None
    clone = BatchNormalization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    norm = LayerNormalization(gamma_regularizer="l2")
    norm.build((None, 4))
    assert len(norm.losses) == 1
