"""Tests of the core, convolution and pooling layers (tf.keras behaviour)."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import (
    Activation, AveragePooling2D, AvgPool2D, Conv2D, Convolution2D, Dense, Dropout, Flatten,
    GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, MaxPool2D, MaxPooling2D, Reshape)
from tests.keras.layer_test import run_layer_test


# -- the standard checks, one configuration per line --------------------------------------

def test_dense_2d():
    run_layer_test(Dense, {"units": 3}, (2, 4), (2, 3), 2)


def test_dense_3d_applies_to_last_axis():
    run_layer_test(Dense, {"units": 3}, (2, 5, 4), (2, 5, 3), 2)


def test_dense_no_bias_with_activation():
    run_layer_test(Dense, {"units": 3, "use_bias": False, "activation": "relu"}, (4, 6),
                   (4, 3), 1)


def test_dense_softmax_and_initializer_objects():
    run_layer_test(Dense, {"units": 5, "activation": "softmax",
                           "kernel_initializer": tf.keras.initializers.HeNormal(seed=1),
                           "bias_initializer": "ones"}, (3, 4), (3, 5), 2)


def test_conv2d_valid():
    run_layer_test(Conv2D, {"filters": 4, "kernel_size": 3}, (2, 7, 7, 3), (2, 5, 5, 4), 2)


def test_conv2d_same_with_strides():
    run_layer_test(Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
                   (2, 7, 7, 3), (2, 4, 4, 4), 2)


def test_conv2d_rectangular_kernel_and_strides():
    run_layer_test(Conv2D, {"filters": 2, "kernel_size": (2, 3), "strides": (2, 1)},
                   (2, 6, 6, 1), (2, 3, 4, 2), 2)


def test_conv2d_dilation():
    run_layer_test(Conv2D, {"filters": 2, "kernel_size": 3, "dilation_rate": 2},
                   (1, 8, 8, 2), (1, 4, 4, 2), 2)


def test_conv2d_no_bias_relu():
    run_layer_test(Conv2D, {"filters": 3, "kernel_size": 1, "use_bias": False,
                            "activation": "relu"}, (2, 4, 4, 2), (2, 4, 4, 3), 1)


def test_conv2d_groups():
    run_layer_test(Conv2D, {"filters": 4, "kernel_size": 3, "groups": 2}, (2, 6, 6, 4),
                   (2, 4, 4, 4), 2)


def test_max_pooling_valid():
    run_layer_test(MaxPooling2D, {}, (2, 6, 6, 3), (2, 3, 3, 3), 0)


def test_max_pooling_same_overlapping():
    run_layer_test(MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"},
                   (2, 7, 7, 2), (2, 4, 4, 2), 0)


def test_average_pooling_valid():
    run_layer_test(AveragePooling2D, {"pool_size": (2, 3)}, (2, 6, 6, 1), (2, 3, 2, 1), 0)


def test_average_pooling_same():
    run_layer_test(AveragePooling2D, {"pool_size": 2, "padding": "same"}, (1, 5, 5, 2),
                   (1, 3, 3, 2), 0)


def test_global_average_pooling():
    run_layer_test(GlobalAveragePooling2D, {}, (2, 4, 5, 3), (2, 3), 0)


def test_global_max_pooling_keepdims():
    run_layer_test(GlobalMaxPooling2D, {"keepdims": True}, (2, 4, 5, 3), (2, 1, 1, 3), 0)


def test_flatten():
    run_layer_test(Flatten, {}, (2, 3, 4), (2, 12), 0)


def test_flatten_rank_2_is_unchanged():
    run_layer_test(Flatten, {}, (2, 3), (2, 3), 0)


def test_reshape():
    run_layer_test(Reshape, {"target_shape": (3, 4)}, (2, 12), (2, 3, 4), 0)


def test_reshape_infers_minus_one():
    run_layer_test(Reshape, {"target_shape": (-1, 2)}, (2, 3, 4), (2, 6, 2), 0)


def test_activation():
    run_layer_test(Activation, {"activation": "tanh"}, (2, 3), (2, 3), 0)


def test_dropout_inference_is_identity():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    run_layer_test(Dropout, {"rate": 0.5}, (4, 5), (4, 5), 0, input_data=x,
                   expected_output=x)


def test_dropout_training():
    run_layer_test(Dropout, {"rate": 0.5, "seed": 1}, (4, 5), (4, 5), 0,
                   call_kwargs={"training": True})


def test_input_layer():
    run_layer_test(InputLayer, {"input_shape": (3,)}, (2, 3), (2, 3), 0)


# -- values ---------------------------------------------------------------------------------

def test_dense_computes_affine_map():
    layer = Dense(2, activation="relu", kernel_initializer="ones", bias_initializer="ones")
    x = np.array([[1., -2., 0.5], [-3., 0., 1.]], np.float32)
    np.testing.assert_allclose(layer(x).numpy(), np.maximum(x.sum(1, keepdims=True) + 1, 0)
                               * np.ones((1, 2)))


def _numpy_conv2d(x, kernel, stride, dilation):
    """Valid cross-correlation, the reference for Conv2D."""
    kh, kw, _, filters = kernel.shape
    dkh, dkw = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
    out_h = (x.shape[1] - dkh) // stride + 1
    out_w = (x.shape[2] - dkw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, filters))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride:i * stride + dkh:dilation, j * stride:j * stride + dkw:dilation]
            out[:, i, j] = np.tensordot(patch, kernel, axes=3)
    return out


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2)])
def test_conv2d_matches_numpy(stride, dilation):
    x = np.random.default_rng(1).standard_normal((2, 7, 7, 3)).astype("float32")
    layer = Conv2D(4, 3, strides=stride, dilation_rate=dilation, bias_initializer="ones")
    outputs = layer(x).numpy()
    expected = _numpy_conv2d(x, layer.kernel.numpy(), stride, dilation) + 1
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_conv2d_groups_see_only_their_channels():
    x = np.random.default_rng(4).standard_normal((2, 5, 5, 6)).astype("float32")
    layer = Conv2D(4, 3, groups=2, use_bias=False)
    outputs = layer(x).numpy()
    kernel = layer.kernel.numpy()  # (3, 3, 3, 4): input channels per group, all filters
    assert kernel.shape == (3, 3, 3, 4)
    expected = np.concatenate([_numpy_conv2d(x[..., :3], kernel[..., :2], 1, 1),
                               _numpy_conv2d(x[..., 3:], kernel[..., 2:], 1, 1)], axis=-1)
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


def test_max_pooling_matches_numpy():
    x = np.random.default_rng(2).standard_normal((2, 4, 6, 3)).astype("float32")
    expected = x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))
    np.testing.assert_allclose(MaxPooling2D()(x).numpy(), expected)


def test_average_pooling_same_averages_only_real_values():
    x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    outputs = AveragePooling2D(2, padding="same")(x).numpy()[0, :, :, 0]
    np.testing.assert_allclose(outputs, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8]])


def test_global_pooling_values():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype("float32")
    np.testing.assert_allclose(GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)),
                               rtol=1e-5)
    np.testing.assert_allclose(GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))


def test_dropout_training_drops_about_rate_and_scales():
    x = np.ones((200, 100), np.float32)
    outputs = Dropout(0.3, seed=5)(x, training=True).numpy()
    dropped = (outputs == 0).mean()
    assert abs(dropped - 0.3) < 0.02
    np.testing.assert_allclose(outputs[outputs != 0], 1 / 0.7, rtol=1e-6)


def test_dropout_noise_shape_shares_mask():
    x = np.ones((4, 3, 50), np.float32)
    outputs = Dropout(0.5, noise_shape=(None, 1, None))(x, training=True).numpy()
    assert (outputs == outputs[:, :1, :]).all()


def test_dropout_rate_zero_and_one():
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(Dropout(0.)(x, training=True).numpy(), x)
    np.testing.assert_array_equal(Dropout(1.)(x, training=True).numpy(), 0 * x)


def test_compute_output_shape_without_building():
    assert Dense(3).compute_output_shape((None, 7, 5)) == (None, 7, 3)
    assert Conv2D(8, 5).compute_output_shape((None, 28, 28, 1)) == (None, 24, 24, 8)
    assert MaxPool2D().compute_output_shape((None, 24, 24, 8)) == (None, 12, 12, 8)
    assert Flatten().compute_output_shape((None, 12, 12, 8)) == (None, 1152)
    assert Flatten().compute_output_shape((None, None, 8)) == (None, None)
    assert Reshape((-1, 4)).compute_output_shape((None, 8)) == (None, 2, 4)
    assert Reshape((-1, 4)).compute_output_shape((None, None)) == (None, None, 4)


def test_aliases():
    assert Convolution2D is Conv2D and MaxPool2D is MaxPooling2D
    assert AvgPool2D is AveragePooling2D


def test_default_names_and_weight_names():
    tf.keras.backend.clear_session()
    first, second = Dense(2), Dense(2)
    assert (first.name, second.name) == ("dense", "dense_1")
    first(np.zeros((1, 3), np.float32))
    assert [w.name for w in first.weights] == ["dense/kernel:0", "dense/bias:0"]


def test_config_keys_match_keras():
    config = Conv2D(4, 3, activation="relu").get_config()
    assert config["activation"] == "relu" and config["kernel_size"] == (3, 3)
    assert config["kernel_initializer"] == {"module": "keras.initializers",
                                            "class_name": "GlorotUniform",
                                            "config": {"seed": None}, "registered_name": None}
    assert {"filters", "strides", "padding", "data_format", "dilation_rate", "groups",
            "use_bias", "bias_initializer"} <= set(config)


# -- bad input ------------------------------------------------------------------------------

def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match=r"Received an invalid value for `units`, expected a "
                                         r"positive integer. Received: units=-3"):
        Dense(-3)


def test_dense_rejects_wrong_last_dim_after_build():
    layer = Dense(2, name="classifier")
    layer(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match=r'"classifier".*axis -1.*4.*\(1, 5\)'):
        layer(np.zeros((1, 5), np.float32))


def test_dense_rejects_rank_1_input():
    with pytest.raises(ValueError, match="min_ndim=2"):
        Dense(2)(np.zeros(3, np.float32))


def test_conv2d_rejects_bad_padding():
    with pytest.raises(ValueError, match=r"padding.*'full'.*\['valid', 'same'\]"):
        Conv2D(2, 3, padding="full")


def test_conv2d_rejects_channels_first_and_bad_arguments():
    with pytest.raises(ValueError, match="channels_first"):
        Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="filters"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="dilation_rate"):
        Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="groups"):
        Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="groups=2.*3 channels"):
        Conv2D(2, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))


def test_conv2d_rejects_input_too_small_and_wrong_rank():
    with pytest.raises(ValueError, match="<= 0"):
        Conv2D(2, 5)(np.zeros((1, 3, 3, 1), np.float32))
    with pytest.raises(ValueError, match="ndim=4"):
        Conv2D(2, 3)(np.zeros((1, 8, 8), np.float32))


def test_pooling_rejects_bad_padding():
    with pytest.raises(ValueError, match=r"\['valid', 'same'\]"):
        MaxPooling2D(padding="causal")


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation function: 'rleu'.*'relu'"):
        Dense(2, activation="rleu")


def test_reshape_to_impossible_shape():
    with pytest.raises(ValueError, match=r"Reshape layer 'reshape_bad'.*\(5, 2\)"):
        Reshape((5, 2), name="reshape_bad")(np.zeros((2, 12), np.float32))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))


def test_dropout_rejects_bad_rate():
    with pytest.raises(ValueError, match="rate=1.5"):
        Dropout(1.5)


@pytest.mark.parametrize("argument,value", [("dynamic", True), ("weights", [np.ones((3, 2))]),
                                            ("autocast", False)])
def test_layer_arguments_numpyflow_cannot_honour_raise(argument, value):
    with pytest.raises(NotImplementedError, match=argument):
        Dense(2, **{argument: value})
