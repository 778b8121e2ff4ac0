"""Convolution and pooling layers beyond the basic Conv2D/pooling of test_layers.py:
Conv1D, grouped/dilated Conv2D, Conv1DTranspose/Conv2DTranspose, DepthwiseConv1D/2D,
SeparableConv1D/2D and the 1-D (global) poolings."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import (
    AveragePooling1D, AvgPool1D, Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose,
    Convolution1D, Convolution1DTranspose, Convolution2DTranspose, DepthwiseConv1D,
    DepthwiseConv2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
    GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D, MaxPooling1D, SeparableConv1D,
    SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)
from tests.keras.layer_test import run_layer_test
from tests.ops.cases_conv import (
    np_conv1d, np_conv2d, np_conv2d_backprop_input, np_depthwise_conv2d, np_grouped_conv2d,
    np_pool)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# -- run_layer_test: one line per configuration --------------------------------------------

@pytest.mark.parametrize("kwargs, input_shape, output_shape, weights", [
    ({"filters": 4, "kernel_size": 3}, (2, 9, 3), (2, 7, 4), 2),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3), (2, 5, 4),
     2),
    ({"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 3),
     (2, 8, 2), 2),
    ({"filters": 4, "kernel_size": 2, "groups": 2, "use_bias": False}, (2, 6, 4), (2, 5, 4),
     1),
    ({"filters": 6, "kernel_size": (3,), "groups": 3, "dilation_rate": (2,),
      "padding": "same", "activation": "relu"}, (1, 7, 3), (1, 7, 6), 2),
])
def test_conv1d_layer(kwargs, input_shape, output_shape, weights):
    run_layer_test(Conv1D, kwargs, input_shape, output_shape, weights)


@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    ({"filters": 6, "kernel_size": 3, "groups": 3, "dilation_rate": 2, "padding": "same"},
     (2, 7, 7, 3), (2, 7, 7, 6)),
    ({"filters": 4, "kernel_size": (2, 3), "groups": 4, "strides": (1, 2)}, (1, 6, 7, 4),
     (1, 5, 3, 4)),
])
def test_conv2d_grouped_dilated_layer(kwargs, input_shape, output_shape):
    run_layer_test(Conv2D, kwargs, input_shape, output_shape, 2)


@pytest.mark.parametrize("kwargs, input_shape, output_shape, weights", [
    ({"filters": 3, "kernel_size": 3}, (2, 4, 5, 2), (2, 6, 7, 3), 2),
    ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 4, 5, 2),
     (2, 8, 10, 3), 2),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1}, (1, 3, 4, 2),
     (1, 8, 10, 2), 2),
    ({"filters": 2, "kernel_size": 2, "strides": (3, 2), "padding": "same",
      "output_padding": (2, 1), "use_bias": False}, (1, 3, 4, 2), (1, 8, 7, 2), 1),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": 2}, (1, 4, 4, 3), (1, 8, 8, 2), 2),
])
def test_conv2d_transpose_layer(kwargs, input_shape, output_shape, weights):
    run_layer_test(Conv2DTranspose, kwargs, input_shape, output_shape, weights)


@pytest.mark.parametrize("kwargs, input_shape, output_shape, weights", [
    ({"kernel_size": 3}, (2, 6, 6, 3), (2, 4, 4, 3), 2),
    ({"kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2},
     (2, 6, 5, 3), (2, 3, 3, 6), 2),
    ({"kernel_size": (2, 3), "dilation_rate": 2, "use_bias": False}, (1, 7, 7, 2),
     (1, 5, 3, 2), 1),
])
def test_depthwise_conv2d_layer(kwargs, input_shape, output_shape, weights):
    run_layer_test(DepthwiseConv2D, kwargs, input_shape, output_shape, weights)


@pytest.mark.parametrize("kwargs, input_shape, output_shape, weights", [
    ({"filters": 4, "kernel_size": 3}, (2, 6, 6, 3), (2, 4, 4, 4), 3),
    ({"filters": 5, "kernel_size": 3, "depth_multiplier": 2, "padding": "same",
      "strides": 2, "activation": "relu"}, (2, 6, 5, 3), (2, 3, 3, 5), 3),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": 2, "use_bias": False}, (1, 5, 5, 2),
     (1, 3, 3, 2), 2),
])
def test_separable_conv2d_layer(kwargs, input_shape, output_shape, weights):
    run_layer_test(SeparableConv2D, kwargs, input_shape, output_shape, weights)


@pytest.mark.parametrize("layer_cls, kwargs, input_shape, output_shape, weights", [
    (Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 2), (2, 11, 3),
     2),
    (Conv1DTranspose, {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same",
                       "output_padding": 1, "use_bias": False}, (1, 4, 3), (1, 10, 2), 1),
    (DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2, "strides": 2,
                       "padding": "same"}, (2, 7, 3), (2, 4, 6), 2),
    (DepthwiseConv1D, {"kernel_size": 2, "dilation_rate": 3}, (1, 8, 2), (1, 5, 2), 2),
    (SeparableConv1D, {"filters": 4, "kernel_size": 3}, (2, 7, 3), (2, 5, 4), 3),
    (SeparableConv1D, {"filters": 2, "kernel_size": 3, "depth_multiplier": 2,
                       "padding": "same", "strides": 2, "use_bias": False}, (1, 7, 3),
     (1, 4, 2), 2),
])
def test_1d_transpose_depthwise_separable_layer(layer_cls, kwargs, input_shape, output_shape,
                                                weights):
    run_layer_test(layer_cls, kwargs, input_shape, output_shape, weights)


@pytest.mark.parametrize("layer_cls, kwargs, input_shape, output_shape", [
    (MaxPooling1D, {}, (2, 7, 3), (2, 3, 3)),
    (MaxPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3), (2, 4, 3)),
    (AveragePooling1D, {"pool_size": 2, "strides": 1}, (2, 5, 2), (2, 4, 2)),
    (AveragePooling1D, {"pool_size": (3,), "padding": "same"}, (1, 7, 2), (1, 3, 2)),
    (GlobalMaxPooling1D, {}, (2, 5, 3), (2, 3)),
    (GlobalAveragePooling1D, {"keepdims": True}, (2, 5, 3), (2, 1, 3)),
    (GlobalAveragePooling2D, {"keepdims": True}, (2, 4, 5, 3), (2, 1, 1, 3)),
])
def test_pooling_layer(layer_cls, kwargs, input_shape, output_shape):
    run_layer_test(layer_cls, kwargs, input_shape, output_shape, 0)


# -- values against NumPy references -------------------------------------------------------

def test_conv1d_causal_matches_left_padded_reference():
    x = _x(2, 9, 3)
    layer = Conv1D(4, 3, padding="causal", dilation_rate=2, bias_initializer="ones")
    outputs = layer(x).numpy()
    padded = np.pad(x, ((0, 0), (4, 0), (0, 0)))
    expected = np_conv1d(padded, layer.kernel.numpy(), dilation=2) + 1
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_conv1d_causal_output_does_not_see_the_future():
    x = tf.constant(_x(1, 8, 2))
    layer = Conv1D(3, 3, padding="causal")
    with tf.GradientTape() as tape:
        tape.watch(x)
        step_4 = tf.reduce_sum(layer(x)[:, 4])
    grad = np.abs(tape.gradient(step_4, x).numpy()).sum(axis=-1)[0]
    assert (grad[5:] == 0).all() and (grad[2:5] > 0).all()


def test_conv1d_grouped_strided_matches_reference():
    x = _x(2, 10, 4, seed=1)
    layer = Conv1D(6, 3, strides=2, padding="same", groups=2, use_bias=False)
    outputs = layer(x).numpy()
    expected = np_grouped_conv2d(x[:, None], layer.kernel.numpy()[None], 2, (1, 2),
                                 "SAME")[:, 0]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_grouped_dilated_matches_reference():
    x = _x(2, 8, 7, 6, seed=2)
    layer = Conv2D(4, 3, groups=2, dilation_rate=(2, 1), padding="same", use_bias=False)
    outputs = layer(x).numpy()
    expected = np_grouped_conv2d(x, layer.kernel.numpy(), 2, padding="SAME",
                                 dilations=(2, 1))
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs, input_hw, output_hw", [
    ({"kernel_size": 3}, (4, 5), (6, 7)),
    ({"kernel_size": 3, "strides": 2, "padding": "same"}, (4, 5), (8, 10)),
    ({"kernel_size": 3, "strides": 2, "output_padding": 1}, (3, 4), (8, 10)),
    ({"kernel_size": (2, 3), "strides": (3, 2), "padding": "same", "output_padding": (1, 0)},
     (3, 4), (7, 7)),
    ({"kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (4, 5), (4, 5)),
])
def test_conv2d_transpose_matches_reference(kwargs, input_hw, output_hw):
    x = _x(2, *input_hw, 3, seed=3)
    layer = Conv2DTranspose(2, bias_initializer="ones", **kwargs)
    outputs = layer(x).numpy()
    assert outputs.shape == (2,) + output_hw + (2,)
    strides = layer.strides
    padding = layer.padding.upper()
    expected = np_conv2d_backprop_input((2,) + output_hw + (2,), layer.kernel.numpy(), x,
                                        strides, padding, layer.dilation_rate) + 1
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_inverts_conv2d_shapes():
    # The transpose maps a Conv2D's output shape back to its input shape.
    for size, padding in [(9, "same"), (10, "same"), (9, "valid"), (10, "valid")]:
        conv_out = Conv2D(2, 3, strides=2, padding=padding).compute_output_shape(
            (None, size, size, 2))
        output_padding = (size - 1) % 2 if padding == "valid" else (size + 1) % 2
        back = Conv2DTranspose(2, 3, strides=2, padding=padding,
                               output_padding=output_padding).compute_output_shape(conv_out)
        assert tuple(back) == (None, size, size, 2), (size, padding)


def test_conv1d_transpose_matches_reference():
    x = _x(2, 4, 3, seed=11)
    layer = Conv1DTranspose(2, 3, strides=2, padding="same", output_padding=1, use_bias=False)
    outputs = layer(x).numpy()
    assert outputs.shape == (2, 8, 2)
    expected = np_conv2d_backprop_input((2, 1, 8, 2), layer.kernel.numpy()[None], x[:, None],
                                        (1, 2), "SAME")[:, 0]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_depthwise_and_separable_conv1d_match_reference():
    x = _x(2, 9, 3, seed=12)
    depthwise = DepthwiseConv1D(3, depth_multiplier=2, dilation_rate=2, use_bias=False)
    outputs = depthwise(x).numpy()
    expected = np_depthwise_conv2d(x[:, None], depthwise.kernel.numpy()[None],
                                   dilations=(1, 2))[:, 0]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)
    separable = SeparableConv1D(4, 3, strides=2, padding="same", use_bias=False)
    outputs = separable(x).numpy()
    expected = np_depthwise_conv2d(x[:, None], separable.depthwise_kernel.numpy()[None],
                                   (1, 2), "SAME")[:, 0] @ separable.pointwise_kernel.numpy()[0]
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_depthwise_conv2d_matches_reference():
    x = _x(2, 7, 6, 3, seed=4)
    layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same", strides=2,
                            bias_initializer="ones")
    outputs = layer(x).numpy()
    expected = np_depthwise_conv2d(x, layer.kernel.numpy(), (2, 2), "SAME") + 1
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)
    assert layer.kernel.shape == (3, 3, 3, 2) and layer.bias.shape == (6,)


def test_separable_conv2d_is_depthwise_then_pointwise():
    x = _x(2, 6, 6, 3, seed=5)
    layer = SeparableConv2D(4, 3, depth_multiplier=2, dilation_rate=2, use_bias=False)
    outputs = layer(x).numpy()
    depthwise = np_depthwise_conv2d(x, layer.depthwise_kernel.numpy(), dilations=(2, 2))
    expected = np_conv2d(depthwise, layer.pointwise_kernel.numpy())
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)
    assert [w.name for w in layer.weights] == [
        f"{layer.name}/depthwise_kernel:0", f"{layer.name}/pointwise_kernel:0"]


def test_pooling_1d_values():
    x = _x(2, 7, 3, seed=6)
    np.testing.assert_allclose(MaxPooling1D(3, strides=2, padding="same")(x).numpy(),
                               np_pool(x[:, None], (1, 3), (1, 2), "SAME", np.max)[:, 0])
    np.testing.assert_allclose(AveragePooling1D(2)(x).numpy(),
                               np_pool(x[:, None], (1, 2), (1, 2), "VALID", np.mean)[:, 0],
                               rtol=1e-6)
    np.testing.assert_allclose(GlobalMaxPooling1D()(x).numpy(), x.max(axis=1))
    np.testing.assert_allclose(GlobalAveragePooling1D(keepdims=True)(x).numpy(),
                               x.mean(axis=1, keepdims=True), rtol=1e-6)


# -- shapes without data, aliases, config --------------------------------------------------

def test_compute_output_shape_with_unknown_dims():
    assert Conv1D(4, 3, padding="causal").compute_output_shape((None, None, 2)) == \
        (None, None, 4)
    assert Conv2DTranspose(4, 3, strides=2).compute_output_shape((None, None, 5, 2)) == \
        (None, None, 11, 4)
    assert DepthwiseConv2D(3, depth_multiplier=3).compute_output_shape((None, 8, 8, 2)) == \
        (None, 6, 6, 6)
    assert SeparableConv2D(5, 3, strides=2, padding="same").compute_output_shape(
        (None, 9, None, 2)) == (None, 5, None, 5)
    assert MaxPooling1D(padding="same").compute_output_shape((None, 7, 3)) == (None, 4, 3)


def test_aliases():
    assert Convolution1D is Conv1D and Convolution2DTranspose is Conv2DTranspose
    assert SeparableConvolution2D is SeparableConv2D
    assert SeparableConvolution1D is SeparableConv1D
    assert Convolution1DTranspose is Conv1DTranspose
    assert MaxPool1D is MaxPooling1D and AvgPool1D is AveragePooling1D
    assert GlobalMaxPool1D is GlobalMaxPooling1D and GlobalAvgPool1D is GlobalAveragePooling1D


def test_config_keys_match_keras():
    assert {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
            "groups", "activation", "use_bias", "kernel_initializer", "kernel_regularizer",
            "kernel_constraint"} <= set(Conv1D(2, 3).get_config())
    assert {"output_padding", "kernel_initializer", "bias_constraint"} <= set(
        Conv2DTranspose(2, 3).get_config())
    depthwise = DepthwiseConv2D(3).get_config()
    assert {"depth_multiplier", "depthwise_initializer", "depthwise_regularizer",
            "depthwise_constraint", "bias_initializer", "activity_regularizer"} <= set(depthwise)
    assert "kernel_initializer" not in depthwise
    assert {"filters", "depth_multiplier", "pointwise_initializer", "pointwise_regularizer",
            "pointwise_constraint"} <= set(SeparableConv2D(2, 3).get_config())
    assert MaxPooling1D().get_config()["pool_size"] == (2,)
    assert Conv2DTranspose(2, 3, 2, output_padding=1).get_config()["output_padding"] == (1, 1)


def test_depthwise_and_separable_weights_take_their_initializers():
    layer = SeparableConv2D(2, 3, depthwise_initializer="ones", pointwise_initializer="zeros",
                            bias_initializer="ones")
    layer(np.zeros((1, 4, 4, 2), np.float32))
    assert (layer.depthwise_kernel.numpy() == 1).all()
    assert (layer.pointwise_kernel.numpy() == 0).all() and (layer.bias.numpy() == 1).all()


def test_fit_compiles_a_model_of_the_new_layers():
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 4)),
        Conv2D(4, 3, groups=2, padding="same", activation="relu"),
        DepthwiseConv2D(3, depth_multiplier=2),
        SeparableConv2D(4, 3, padding="same"),
        Conv2DTranspose(2, 3, strides=2, padding="same"),
        GlobalAveragePooling2D(),
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    x, y = _x(16, 8, 8, 4, seed=7), _x(16, 1, seed=8)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_fit_compiles_a_1d_model():
    model = tf.keras.Sequential([
        tf.keras.Input((12, 3)),
        Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
        MaxPooling1D(),
        Conv1D(4, 2, groups=2),
        AveragePooling1D(padding="same"),
        GlobalMaxPooling1D(),
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _x(8, 12, 3, seed=9), _x(8, 1, seed=10)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


# -- bad input ------------------------------------------------------------------------------

def test_groups_must_divide_input_channels_naming_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'grouped'.*groups=2.*3 channels"):
        Conv1D(4, 3, groups=2, name="grouped")(np.zeros((1, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"Conv1D layer 'g'.*filters.*groups=2, filters=3"):
        Conv1D(3, 3, groups=2, name="g")
    with pytest.raises(ValueError, match=r"groups=0"):
        Conv2D(3, 3, groups=0)


def test_padding_choices():
    Conv1D(2, 3, padding="CAUSAL")
    with pytest.raises(ValueError, match=r"'causal'.*\['valid', 'same'\]"):
        Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"\['valid', 'same', 'causal'\]"):
        Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match=r"\['valid', 'same'\]"):
        MaxPooling1D(padding="causal")


def test_conv2d_transpose_rejects_bad_output_padding():
    with pytest.raises(ValueError, match=r"'up'.*output_padding.*< `strides`.*"
                                         r"output_padding=\(2, 2\), strides=\(2, 2\)"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2, name="up")
    with pytest.raises(ValueError, match=r"even.*output_padding >= 1"):
        Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=0)
    with pytest.raises(ValueError, match="output_padding=-1"):
        Conv2DTranspose(2, 3, strides=2, output_padding=-1)
    with pytest.raises(ValueError, match="dilation_rate"):
        Conv2DTranspose(2, 3, strides=2, dilation_rate=2)


def test_depthwise_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"DepthwiseConv2D layer 'dw'.*depth_multiplier=0"):
        DepthwiseConv2D(3, depth_multiplier=0, name="dw")
    with pytest.raises(ValueError, match="filters=-1"):
        SeparableConv2D(-1, 3)
    with pytest.raises(ValueError, match="channels_first"):
        SeparableConv2D(2, 3, data_format="channels_first")
    with pytest.raises(TypeError, match="lora_rank"):
        Conv1D(2, 3, lora_rank=4)


def test_wrong_rank_names_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'c1'.*3-D inputs.*\(batch, steps, channels\)"):
        Conv1D(2, 3, name="c1").compute_output_shape((None, 8, 8, 3))
    with pytest.raises(ValueError, match="ndim=4"):
        DepthwiseConv2D(3)(np.zeros((1, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"Layer 'gp'.*3-D inputs"):
        GlobalMaxPooling1D(name="gp").compute_output_shape((None, 4, 4, 3))
    with pytest.raises(ValueError, match="<= 0"):
        DepthwiseConv2D(5)(np.zeros((1, 3, 3, 1), np.float32))
