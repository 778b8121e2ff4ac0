"""Tests of keras.activations: values, lookup, and the logits that softmax/sigmoid remember."""

import gc
import math
import weakref

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import activations

X = np.array([[-3., -1., -0.2, 0., 0.5, 2., 7.]], np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _elu(x, alpha=1.):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))


_erf = np.vectorize(math.erf)

REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "linear": lambda x: x,
    "elu": _elu,
    "selu": lambda x: 1.0507009873554805 * _elu(x, 1.6732632423543772),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (np.abs(x) + 1),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
    "exponential": np.exp,
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_match_numpy(name):
    result = activations.get(name)(tf.constant(X))
    assert result.dtype == tf.float32
    np.testing.assert_allclose(result.numpy(), REFERENCES[name](X.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "elu", "softplus", "swish",
                                  "softmax", "gelu", "selu"])
def test_gradients_are_finite(name):
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(activations.get(name)(x) * tf.constant(X))
    grad = tape.gradient(y, x)
    assert grad is not None and np.isfinite(grad.numpy()).all()


def test_relu_options():
    x = tf.constant([-2., -0.5, 0.5, 1.5, 9.])
    np.testing.assert_allclose(activations.relu(x, alpha=0.1).numpy(),
                               [-0.2, -0.05, 0.5, 1.5, 9.])
    np.testing.assert_allclose(activations.relu(x, max_value=6.).numpy(),
                               [0., 0., 0.5, 1.5, 6.])
    np.testing.assert_allclose(activations.relu(x, threshold=1.).numpy(),
                               [0., 0., 0., 1.5, 9.])
    np.testing.assert_allclose(activations.relu(x, alpha=0.5, threshold=1.).numpy(),
                               [-1.5, -0.75, -0.25, 1.5, 9.])


def test_elu_alpha_and_gelu_approximate():
    x = tf.constant(X)
    np.testing.assert_allclose(activations.elu(x, alpha=0.5).numpy(), _elu(X, 0.5),
                               rtol=1e-5, atol=1e-6)
    approx = 0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X ** 3)))
    np.testing.assert_allclose(activations.gelu(x, approximate=True).numpy(), approx,
                               rtol=1e-5, atol=1e-6)


def test_softmax_axis():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    result = activations.softmax(tf.constant(x), axis=1).numpy()
    np.testing.assert_allclose(result.sum(axis=1), 1., rtol=1e-6)


# -- lookup ---------------------------------------------------------------------------------

def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    custom = lambda x: x * 2  # noqa: E731
    assert activations.get(custom) is custom
    for name in ["relu", "softmax", "sigmoid", "tanh", "linear", "elu", "swish"]:
        assert activations.serialize(activations.get(name)) == name
    assert activations.serialize(activations.silu) == "swish"
    assert activations.serialize(tf.nn.relu) == "relu"
    assert activations.deserialize("tanh") is activations.tanh


def test_low_level_softmax_maps_to_keras_softmax():
    assert activations.get(tf.nn.softmax) is activations.softmax
    assert activations.serialize(activations.get(tf.nn.softmax)) == "softmax"


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation function: 'sigmod'.*'sigmoid'"):
        activations.get("sigmod")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get(3)


# -- remembered logits ----------------------------------------------------------------------

def test_logits_from_softmax():
    logits = tf.constant([[1., 2., 3.]])
    probs = activations.softmax(logits)
    assert activations.logits_from_softmax(probs) is logits
    assert activations.logits_from_softmax(logits) is None
    assert activations.logits_from_softmax(tf.constant([[0.2, 0.8]])) is None
    assert activations.logits_from_sigmoid(probs) is None
    # A softmax over another axis is not what losses expect: nothing is remembered.
    assert activations.logits_from_softmax(activations.softmax(tf.ones((2, 3)), axis=0)) is None


def test_logits_from_sigmoid():
    logits = tf.constant([[-1.], [2.]])
    probs = activations.sigmoid(logits)
    assert activations.logits_from_sigmoid(probs) is logits
    assert activations.logits_from_softmax(probs) is None


def test_dense_softmax_output_remembers_its_logits():
    layer = tf.keras.layers.Dense(3, activation="softmax", bias_initializer="ones")
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    probs = layer(x)
    logits = activations.logits_from_softmax(probs)
    np.testing.assert_allclose(logits.numpy(), x @ layer.kernel.numpy() + 1, rtol=1e-5)


def test_logits_live_on_the_output_and_die_with_it():
    logits = tf.constant([[1., 2.]])
    probs = activations.softmax(logits)
    assert probs._keras_logits[1] is logits  # Keras's place for them: the output tensor.
    logits_ref = weakref.ref(logits)
    del logits
    assert logits_ref() is not None  # Kept alive by the output...
    del probs
    gc.collect()
    assert logits_ref() is None  # ...and freed with it: no table outlives the tensors.


def test_fresh_tensors_have_no_logits():
    for _ in range(50):
        activations.softmax(tf.constant([[1., 2.]]))
    gc.collect()
    fresh = [tf.constant([[0.5, 0.5]]) for _ in range(50)]
    assert all(activations.logits_from_softmax(t) is None for t in fresh)
    assert all(activations.logits_from_sigmoid(t) is None for t in fresh)


def test_remember_logits():
    output, logits = tf.constant([[0.3, 0.7]]), tf.constant([[0., 1.]])
    assert activations.remember_logits(output, softmax_logits=logits) is output
    assert activations.logits_from_softmax(output) is logits
    assert activations.logits_from_sigmoid(output) is None
    activations.remember_logits(output, sigmoid_logits=logits)
    assert activations.logits_from_sigmoid(output) is logits
    assert activations.logits_from_softmax(output) is None
    with pytest.raises(ValueError, match="received both"):
        activations.remember_logits(output, logits, logits)
