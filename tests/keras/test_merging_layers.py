"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""

import re

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers
from numpyflow.keras.layers import (
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract)
from tests.keras.layer_test import run_layer_test

rng = np.random.default_rng(0)
a, b, c = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3))

ELEMENTWISE = [  # (layer, function form, NumPy reference of three inputs)
    (Add, layers.add, lambda xs: xs[0] + xs[1] + xs[2]),
    (Multiply, layers.multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (Average, layers.average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
    (Maximum, layers.maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (Minimum, layers.minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
]


@pytest.mark.parametrize("layer_cls, function, reference", ELEMENTWISE)
def test_elementwise_merge_layers(layer_cls, function, reference):
    run_layer_test(layer_cls, {}, [(2, 3), (2, 3), (2, 3)], (2, 3), 0, input_data=[a, b, c],
                   expected_output=reference([a, b, c]))
    run_layer_test(layer_cls, {}, [(2, 4, 3), (2, 4, 3)], (2, 4, 3), 0)
    np.testing.assert_allclose(function([a, b, c]).numpy(), reference([a, b, c]), rtol=1e-6)


@pytest.mark.parametrize("layer_cls, function, reference", ELEMENTWISE)
def test_elementwise_merges_broadcast_samples(layer_cls, function, reference):
    """A lower-rank input is aligned on the last axes of each sample, batch axis kept."""
    x = rng.standard_normal((2, 3)).astype(np.float32)
    y = rng.standard_normal((2, 4, 3)).astype(np.float32)
    z = rng.standard_normal((2, 4, 1)).astype(np.float32)
    expected = reference([x[:, None, :], y, z])
    run_layer_test(layer_cls, {}, [(2, 3), (2, 4, 3), (2, 4, 1)], (2, 4, 3), 0,
                   input_data=[x, y, z], expected_output=expected)
    assert layer_cls().compute_output_shape([(None, 1), (None, None, 5)]) == (None, None, 5)
    assert layer_cls().compute_output_shape([(None, None), (None, 5)]) == (None, 5)
    assert layer_cls().compute_output_shape([(8, 3), (None, 3)]) == (8, 3)


def test_subtract_layer():
    run_layer_test(Subtract, {}, [(2, 3), (2, 3)], (2, 3), 0, input_data=[a, b],
                   expected_output=a - b)
    run_layer_test(Subtract, {}, [(2, 3), (2, 4, 3)], (2, 4, 3), 0)
    np.testing.assert_allclose(layers.subtract([a, b]).numpy(), a - b)


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match=r"`Subtract` layer \('sub'\) should be called on "
                                         r"exactly 2 inputs. Received 3 inputs"):
        Subtract(name="sub")([a, b, c])
    with pytest.raises(ValueError, match="exactly 2 inputs. Received 1 inputs"):
        Subtract().compute_output_shape([(None, 3)])


@pytest.mark.parametrize("layer_cls", [Add, Multiply, Average, Maximum, Minimum, Subtract])
def test_elementwise_merge_errors(layer_cls):
    name = layer_cls.__name__
    with pytest.raises(ValueError, match=rf"Layer '{name.lower()}.*' \({name}\): inputs have "
                                         r"incompatible shapes. Received: input_shape="
                                         r"\[\(None, 3\), \(None, 4\)\]"):
        layer_cls().compute_output_shape([(None, 3), (None, 4)])
    with pytest.raises(ValueError, match="incompatible shapes"):
        layer_cls()([np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"at least 2 inputs|exactly 2 inputs"):
        layer_cls()([a])
    with pytest.raises(ValueError, match=r"should be called on a list of inputs"):
        layer_cls()(a)
    with pytest.raises(ValueError, match=r"different batch sizes"):
        layer_cls().compute_output_shape([(2, 3), (4, 3)])


# -- Concatenate ------------------------------------------------------------------------------

def test_concatenate_layer():
    run_layer_test(Concatenate, {}, [(2, 3), (2, 3), (2, 3)], (2, 9), 0, input_data=[a, b, c],
                   expected_output=np.concatenate([a, b, c], axis=-1))
    x = rng.standard_normal((2, 2, 5)).astype(np.float32)
    y = rng.standard_normal((2, 1, 5)).astype(np.float32)
    run_layer_test(Concatenate, {"axis": 1}, [(2, 2, 5), (2, 1, 5)], (2, 3, 5), 0,
                   input_data=[x, y], expected_output=np.concatenate([x, y], axis=1))
    run_layer_test(Concatenate, {"axis": -2}, [(2, 2, 5), (2, 1, 5)], (2, 3, 5), 0)
    np.testing.assert_allclose(layers.concatenate([x, y], axis=1).numpy(),
                               np.concatenate([x, y], axis=1))


def test_concatenate_output_shape_with_unknown_sizes():
    layer = Concatenate()
    assert layer.compute_output_shape([(None, 3), (None, 4)]) == (None, 7)
    assert layer.compute_output_shape([(None, 2, 3), (None, None, 4)]) == (None, 2, 7)
    assert layer.compute_output_shape([(None, 3), (None, None)]) == (None, None)
    assert layer.compute_output_shape([(None, 3)]) == (None, 3)  # One input, as in Keras 3.


def test_concatenate_errors():
    with pytest.raises(ValueError, match=r"A `Concatenate` layer requires inputs with matching "
                                         r"shapes except for the concatenation axis. Received: "
                                         r"input_shape=\[\(None, 2, 3\), \(None, 4, 3\)\]"):
        Concatenate().compute_output_shape([(None, 2, 3), (None, 4, 3)])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        Concatenate()([np.zeros((2, 2, 3), np.float32), np.zeros((2, 4, 3), np.float32)])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        Concatenate().compute_output_shape([(None, 3), (None, 2, 3)])
    with pytest.raises(ValueError, match=r"axis=2 is out of range for inputs of rank 2"):
        Concatenate(axis=2).compute_output_shape([(None, 3), (None, 3)])
    with pytest.raises(ValueError, match="batch axis"):
        Concatenate(axis=0).compute_output_shape([(None, 3), (None, 3)])
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        Concatenate()(a)
    with pytest.raises(ValueError, match=r"`axis` must be an integer. Received: axis='x'"):
        Concatenate(axis="x")


# -- Dot --------------------------------------------------------------------------------------

def _batched(reference, xs, ys):
    return np.stack([reference(x, y) for x, y in zip(xs, ys)])


def test_dot_layer_values():
    run_layer_test(Dot, {"axes": 1}, [(2, 3), (2, 3)], (2, 1), 0, input_data=[a, b],
                   expected_output=(a * b).sum(-1, keepdims=True))
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y = rng.standard_normal((2, 4, 5)).astype(np.float32)
    run_layer_test(Dot, {"axes": (2, 1)}, [(2, 3, 4), (2, 4, 5)], (2, 3, 5), 0,
                   input_data=[x, y], expected_output=x @ y)
    z = rng.standard_normal((2, 5, 3)).astype(np.float32)
    run_layer_test(Dot, {"axes": (1, -1)}, [(2, 3, 4), (2, 5, 3)], (2, 4, 5), 0,
                   input_data=[x, z], expected_output=_batched(lambda p, q: p.T @ q.T, x, z))
    run_layer_test(Dot, {"axes": [1, 2]}, [(2, 3), (2, 5, 3)], (2, 5), 0,
                   input_data=[a, z], expected_output=_batched(lambda p, q: q @ p, a, z))
    w = rng.standard_normal((2, 3, 2, 6)).astype(np.float32)
    run_layer_test(Dot, {"axes": 1}, [(2, 3, 4), (2, 3, 2, 6)], (2, 4, 2, 6), 0,
                   input_data=[x, w],
                   expected_output=np.einsum("bkm,bkpq->bmpq", x, w))


def test_dot_normalize_gives_cosine_similarity():
    expected = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    run_layer_test(Dot, {"axes": -1, "normalize": True}, [(2, 3), (2, 3)], (2, 1), 0,
                   input_data=[a, b], expected_output=expected[:, None])
    np.testing.assert_allclose(layers.dot([a, b], axes=1, normalize=True).numpy()[:, 0],
                               expected, rtol=1e-5)
    assert Dot(1, normalize=True).get_config()["normalize"] is True


def test_dot_output_shapes():
    assert Dot(1).compute_output_shape([(None, 3), (None, 3)]) == (None, 1)
    assert Dot((2, 1)).compute_output_shape([(None, None, 4), (None, 4, 5)]) == (None, None, 5)
    assert Dot(2).compute_output_shape([(None, 3, None), (None, 5, 8)]) == (None, 3, 5)


def test_dot_errors():
    with pytest.raises(ValueError, match=r"Dot layer 'dot_x': incompatible input shapes: axis "
                                         r"size 3 \(at axis 1\) != 4 \(at axis 1\)"):
        Dot(1, name="dot_x").compute_output_shape([(None, 3), (None, 4)])
    with pytest.raises(ValueError, match="incompatible input shapes"):
        Dot(1)([a, np.zeros((2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"`Dot` layer .* exactly 2 inputs. Received 3"):
        Dot(1).compute_output_shape([(None, 3)] * 3)
    with pytest.raises(ValueError, match="non-batch axis"):
        Dot(0).compute_output_shape([(None, 3), (None, 3)])
    with pytest.raises(ValueError, match="non-batch axis"):
        Dot((1, 3)).compute_output_shape([(None, 3), (None, 3)])
    with pytest.raises(ValueError, match="rank >= 2"):
        Dot(-1).compute_output_shape([(None,), (None,)])
    for axes in ((1, 2, 3), "1", 1.0, (1, None)):
        with pytest.raises(ValueError, match=r"`axes` must be an integer or a tuple of 2 "
                                             r"integers. Received: axes=" + re.escape(repr(axes))):
            Dot(axes)


# -- in models ------------------------------------------------------------------------------

def test_merge_layers_train_inside_a_subclassed_model(fresh_names):
    class TwoTowers(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.left = tf.keras.layers.Dense(4)
            self.right = tf.keras.layers.Dense(4)
            self.out = tf.keras.layers.Dense(1)

        def call(self, inputs):
            x, y = self.left(inputs), self.right(inputs)
            merged = layers.concatenate([layers.add([x, y]), layers.multiply([x, y]),
                                         layers.dot([x, y], axes=1)])
            return self.out(merged)

    model = TwoTowers()
    model.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = x.sum(-1, keepdims=True)
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model(x).shape == (32, 1)


def test_a_built_merge_layer_still_checks_the_number_of_inputs():
    layer = Add(name="adder")
    layer([a, b])
    with pytest.raises(ValueError, match=r"`Add` layer \('adder'\) .* at least 2 inputs. "
                                         r"Received 1"):
        layer([a])
    subtract = Subtract()
    subtract([a, b])
    with pytest.raises(ValueError, match="exactly 2 inputs. Received 3"):
        subtract([a, b, c])


def test_merge_layers_in_a_functional_model(fresh_names):
    """Applied to KerasTensors, merges infer shapes without data and train in a Model."""
    image = tf.keras.Input((4, 4, 1))
    vector = tf.keras.Input((3,))
    features = tf.keras.layers.Flatten()(tf.keras.layers.ZeroPadding2D(1)(image))
    assert tuple(features.shape) == (None, 36)
    left, right = tf.keras.layers.Dense(3)(features), tf.keras.layers.Dense(3)(vector)
    merged = layers.concatenate([layers.add([left, right]), layers.subtract([left, right]),
                                 layers.maximum([left, vector]), layers.dot([left, right], 1)])
    assert tuple(merged.shape) == (None, 10)
    outputs = tf.keras.layers.Dense(1)(merged)
    model = tf.keras.Model([image, vector], outputs)
    model.compile(optimizer="adam", loss="mse")
    xs = [rng.standard_normal((32, 4, 4, 1)).astype(np.float32),
          rng.standard_normal((32, 3)).astype(np.float32)]
    y = xs[1].sum(-1, keepdims=True)
    history = model.fit(xs, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(xs, verbose=0).shape == (32, 1)
