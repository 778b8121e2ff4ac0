"""Softmax, ReLU, LeakyReLU and ELU layers."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import ELU, LeakyReLU, ReLU, Softmax
from tests.keras.layer_test import run_layer_test

x = np.array([[-2.0, -0.5, 0.5, 3.0, 8.0]], dtype=np.float32)


def test_softmax_layer():
    e = np.exp(x - x.max(-1, keepdims=True))
    run_layer_test(Softmax, {}, (3, 5), (3, 5), 0, input_data=x.repeat(3, 0),
                   expected_output=(e / e.sum(-1, keepdims=True)).repeat(3, 0))
    run_layer_test(Softmax, {"axis": 1}, (2, 3, 4), (2, 3, 4), 0)


def test_softmax_over_several_axes_in_call_predict_and_a_saved_model(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2, 3, 4)), Softmax(axis=[1, 2])])
    x = np.random.default_rng(0).normal(size=(5, 2, 3, 4)).astype("float32")
    expected = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    expected /= expected.sum(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-7)
    model.save(tmp_path / "spatial.keras")
    loaded = tf.keras.models.load_model(tmp_path / "spatial.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-7)
    one = Softmax(axis=[-1])(tf.constant([[0.0, 0.0]])).numpy()  # a one-axis list
    np.testing.assert_allclose(one, [[0.5, 0.5]])


def test_relu_layer_variants():
    run_layer_test(ReLU, {}, (1, 5), (1, 5), 0, input_data=x,
                   expected_output=np.maximum(x, 0))
    run_layer_test(ReLU, {"max_value": 6.0}, (1, 5), (1, 5), 0, input_data=x,
                   expected_output=np.clip(x, 0, 6))
    run_layer_test(ReLU, {"negative_slope": 0.1, "threshold": 1.0}, (1, 5), (1, 5), 0,
                   input_data=x, expected_output=np.where(x >= 1.0, x, 0.1 * (x - 1.0)))
    with pytest.raises(ValueError, match="max_value"):
        ReLU(max_value=-1.0)


def test_leaky_relu_and_elu_layers():
    run_layer_test(LeakyReLU, {}, (1, 5), (1, 5), 0, input_data=x,
                   expected_output=np.where(x > 0, x, 0.3 * x))
    run_layer_test(LeakyReLU, {"negative_slope": 0.1}, (1, 5), (1, 5), 0, input_data=x,
                   expected_output=np.where(x > 0, x, 0.1 * x))
    assert LeakyReLU(alpha=0.2).get_config()["negative_slope"] == 0.2  # tf.keras 2.x's name
    run_layer_test(ELU, {"alpha": 0.5}, (1, 5), (1, 5), 0, input_data=x,
                   expected_output=np.where(x > 0, x, 0.5 * (np.exp(x) - 1)))


def test_probability_model_from_the_tf_quickstart():
    """`Sequential([model, Softmax()])`: a trained logits model wrapped for probabilities."""
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(4, 4)),
                                 tf.keras.layers.Dense(3)])
    probability_model = tf.keras.Sequential([model, Softmax()])
    inputs = np.random.default_rng(0).random((2, 4, 4))
    probabilities = probability_model(inputs).numpy()
    np.testing.assert_allclose(probabilities.sum(-1), [1.0, 1.0], rtol=1e-6)
    assert probability_model.count_params() == model.count_params() == 51
