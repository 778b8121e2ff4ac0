"""Behaviour of the nn ops beyond the one-line op cases: LeNet-sized convolutions against
the direct-loop references, max-pool tie routing, second derivatives, erf accuracy."""

import math

import numpy as np
import pytest

import numpyflow as tf
from tests.ops.cases_conv import (
    np_conv2d, np_conv2d_backprop_filter, np_conv2d_backprop_input, np_max_pool_grad, np_pool)

rng = np.random.default_rng(7)


@pytest.mark.parametrize("x_shape, filter_shape, padding", [
    ((4, 28, 28, 1), (5, 5, 1, 6), "SAME"),    # LeNet-5, first layer
    ((4, 14, 14, 6), (5, 5, 6, 16), "VALID"),  # LeNet-5, second layer
])
def test_lenet_convolutions_match_direct_loops(x_shape, filter_shape, padding):
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(filter_shape).astype(np.float32)
    x_t, w_t = tf.constant(x), tf.constant(w)
    with tf.GradientTape() as tape:
        tape.watch([x_t, w_t])
        y = tf.nn.conv2d(x_t, w_t, 1, padding)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw = tape.gradient(y, [x_t, w_t], output_gradients=tf.constant(dy))
    x64, w64, dy64 = x.astype(np.float64), w.astype(np.float64), dy.astype(np.float64)
    assert y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), np_conv2d(x64, w64, padding=padding),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx.numpy(), np_conv2d_backprop_input(
        x_shape, w64, dy64, padding=padding), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw.numpy(), np_conv2d_backprop_filter(
        x64, filter_shape, dy64, padding=padding), rtol=1e-4, atol=2e-3)


def test_first_layer_skips_the_input_gradient():
    ran = []
    from numpyflow.framework import primitive
    x = tf.constant(rng.standard_normal((2, 8, 8, 1)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 1, 2)).astype(np.float32))
    with tf.GradientTape() as tape:
        y = tf.nn.conv2d(x, w, 1, "SAME")
    primitive.trace_hook = ran.append
    try:
        tape.gradient(y, w)
    finally:
        primitive.trace_hook = None
    assert "Conv2DBackpropFilter" in ran and "Conv2DBackpropInput" not in ran


def test_conv2d_second_derivative_matches_finite_differences():
    # d/dx of sum(d/dw sum(conv(x, w)^2)): goes through Conv2D's gradient primitives' own
    # gradient rules.
    x0 = rng.standard_normal((1, 4, 4, 2))
    w = tf.constant(rng.standard_normal((2, 2, 2, 2)))

    def inner(x_value):
        x = tf.constant(x_value)
        with tf.GradientTape() as tape:
            tape.watch(w)
            loss = tf.reduce_sum(tf.square(tf.nn.conv2d(x, w, 1, "SAME")))
        return tf.reduce_sum(tape.gradient(loss, w))

    x = tf.constant(x0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as tape:
            tape.watch(w)
            loss = tf.reduce_sum(tf.square(tf.nn.conv2d(x, w, 1, "SAME")))
        total = tf.reduce_sum(tape.gradient(loss, w))
    analytic = outer.gradient(total, x).numpy()
    numeric = np.zeros_like(x0)
    for index in np.ndindex(x0.shape):
        step = np.zeros_like(x0)
        step[index] = 1e-6
        numeric[index] = (float(inner(x0 + step)) - float(inner(x0 - step))) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_max_pool_gradient_goes_to_the_first_max_in_row_major_order():
    # Ties at (0, 1) and (1, 0): row-major order picks (0, 1).
    x = np.array([[1., 5.], [5., 2.]], np.float32).reshape(1, 2, 2, 1)
    x_t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = tf.nn.max_pool2d(x_t, 2, 2, "VALID")
    grad = tape.gradient(y, x_t).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(grad, [[0., 1.], [0., 0.]])


@pytest.mark.parametrize("ksize, strides, padding", [(2, 2, "VALID"), (3, 2, "SAME"),
                                                     (3, 1, "SAME"), ((2, 3), (2, 1), "VALID")])
def test_max_pool_with_ties_matches_reference(ksize, strides, padding):
    x = rng.integers(0, 3, size=(2, 7, 6, 3)).astype(np.float32)  # many ties (and all-zero)
    x_t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = tf.nn.max_pool2d(x_t, ksize, strides, padding)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    k = (ksize, ksize) if isinstance(ksize, int) else ksize
    s = (strides, strides) if isinstance(strides, int) else strides
    np.testing.assert_array_equal(y.numpy(), np_pool(x, k, s, padding, np.max))
    np.testing.assert_allclose(tape.gradient(y, x_t, output_gradients=tf.constant(dy)).numpy(),
                               np_max_pool_grad(x, dy, k, s, padding), rtol=1e-6, atol=1e-6)


def test_avg_pool_same_divides_by_real_cells():
    x = np.ones((1, 3, 3, 1), np.float32)
    # Every window averages ones only, padding excluded: all outputs are exactly 1.
    np.testing.assert_array_equal(tf.nn.avg_pool2d(x, 2, 2, "SAME").numpy(), np.ones((1, 2, 2, 1)))


def test_max_pool_keeps_integer_dtypes():
    x = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1)
    y = tf.nn.max_pool2d(x, 2, 2, "SAME")
    assert y.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy()[0, :, :, 0], [[5, 7], [13, 15]])


def test_erf_is_accurate_to_a_few_ulp():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 1, 200),
                        -np.geomspace(1e-300, 1, 200)])
    expected = np.array([math.erf(v) for v in x])
    actual = tf.math.erf(x).numpy()
    ulps = np.abs(actual - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 4


def test_gelu_exact_float32_and_tails():
    x = np.array([-10., -3., -0.5, 0., 0.5, 3., 10.], np.float32)
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)]
    np.testing.assert_allclose(tf.nn.gelu(x).numpy(), expected, rtol=1e-6, atol=1e-7)


def test_xent_gradient_is_softmax_minus_labels_for_distributions():
    labels = np.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    logits = tf.constant(rng.standard_normal((2, 3)))
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels, logits)
    probs = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(-1, keepdims=True)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), probs - labels, atol=1e-12)


def test_xent_second_derivative_runs_through_ops():
    labels = tf.constant([[0.3, 0.7]])
    logits = tf.constant([[0.5, -0.5]])
    with tf.GradientTape() as outer:
        outer.watch(logits)
        with tf.GradientTape() as inner:
            inner.watch(logits)
            loss = tf.nn.softmax_cross_entropy_with_logits(labels, logits)
        grad = inner.gradient(loss, logits)
        first = grad[0, 0]
    hessian_row = outer.gradient(first, logits).numpy()
    p = 1 / (1 + math.exp(-1.0))  # softmax([0.5, -0.5])[0]
    np.testing.assert_allclose(hessian_row, [[p * (1 - p), -p * (1 - p)]], rtol=1e-5)


def test_dropout_rate_zero_returns_the_input():
    x = tf.constant([1., 2.])
    assert tf.nn.dropout(x, 0.0) is x


def test_dropout_noise_shape_broadcasts_the_mask():
    y = tf.nn.dropout(tf.ones([6, 50]), 0.5, noise_shape=[None, 1], seed=2).numpy()
    assert all(len(set(row.tolist())) == 1 for row in y), "one decision per row"


def test_dropout_gradient_is_the_mask():
    x = tf.constant(np.ones((4, 5), np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, 0.5, seed=3)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), y.numpy())


def test_moments_float16_and_keepdims():
    x = np.arange(12, dtype=np.float16).reshape(3, 4)
    mean, variance = tf.nn.moments(x, axes=[1])
    assert mean.dtype == tf.float16 and mean.shape == (3,)
    np.testing.assert_allclose(variance.numpy(), x.astype(np.float64).var(1), rtol=1e-3)
    mean, variance = tf.nn.moments(tf.constant(x.astype(np.float32)), axes=0, keepdims=True)
    assert mean.shape == (1, 4) and variance.shape == (1, 4)


def test_l2_loss_keeps_dtype():
    assert tf.nn.l2_loss(np.ones(3, np.float64)).dtype == tf.float64
    assert float(tf.nn.l2_loss(tf.ones([2, 2]))) == 2.0


def test_public_names():
    assert tf.sigmoid is tf.math.sigmoid is tf.nn.sigmoid
    assert tf.tanh is tf.math.tanh is tf.nn.tanh
    assert tf.nn.swish is tf.nn.silu
    for name in ("relu6", "leaky_relu", "elu", "selu", "gelu", "softplus", "softsign",
                 "conv2d", "max_pool2d", "avg_pool2d", "max_pool", "avg_pool", "dropout",
                 "moments", "softmax_cross_entropy_with_logits", "l2_loss"):
        assert callable(getattr(tf.nn, name)), name
