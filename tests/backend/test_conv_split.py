"""Convolutions split by batch across cores (backend/threads.py) compute what the whole
batch does: forward, both gradients, grouped/strided/dilated/padded, eager and compiled."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.backend import threads
from numpyflow.backend.numpy import conv
from tests.ops.cases_conv import run_conv_kernels


CONFIGS = [  # (x shape, filter shape, strides, dilations, padding)
    ((6, 9, 8, 1), (5, 5, 1, 6), (1, 1), (1, 1), "SAME"),      # LeNet conv1-like
    ((4, 7, 7, 6), (3, 3, 6, 4), (2, 1), (1, 1), "VALID"),
    ((2, 8, 9, 4), (3, 2, 2, 6), (1, 2), (2, 1), "SAME"),      # grouped (2 groups)
    ((6, 6, 6, 3), (3, 3, 1, 3), (1, 1), (1, 1), [[0, 0], [1, 0], [2, 1], [0, 0]]),  # depthwise
]


@pytest.fixture
def split(monkeypatch):
    """Every kernel split across (at least) two threads, whatever the machine."""
    monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
    monkeypatch.setattr(threads, "cores", lambda: 2)


@pytest.fixture
def whole(monkeypatch):
    monkeypatch.setattr(threads, "SPLIT_ABOVE", float("inf"))


@pytest.mark.parametrize("config", CONFIGS)
def test_split_kernels_match_whole_batch(config, monkeypatch):
    monkeypatch.setattr(threads, "SPLIT_ABOVE", float("inf"))
    whole_columns, expected = run_conv_kernels(*config, np.float64)
    monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    columns, got = run_conv_kernels(*config, np.float64)
    # Split: the two halves' column matrices, stacked on a new axis.
    assert columns.shape[0] == 2 and columns.ndim == whole_columns.ndim + 1
    for want, have in zip(expected, got):
        assert have.shape == want.shape and have.flags.c_contiguous
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-12)


def test_split_forward_matches_direct_loops(split):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 5, 2)).astype(np.float32)
    f = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    y, columns = conv.conv2d(x, f, (1, 1), (1, 1), ((0, 0), (0, 0)))
    assert columns.ndim == 3
    want = np.zeros((4, 4, 3, 4), np.float32)
    for i in range(4):
        for j in range(3):
            want[:, i, j] = np.einsum("nhwc,hwco->no", x[:, i:i + 3, j:j + 3], f)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch", [1, 5])
def test_batches_that_do_not_halve_evenly_run_whole(split, batch):
    x = np.ones((batch, 4, 4, 1), np.float32)
    _, columns = conv.conv2d(x, np.ones((2, 2, 1, 1), np.float32), (1, 1), (1, 1),
                             ((0, 0), (0, 0)))
    assert columns.ndim == 2


def _train_steps(compiled):
    """Two SGD steps of conv -> relu -> maxpool -> sum of squares; the final filters."""
    rng = np.random.default_rng(2)
    x = tf.constant(rng.standard_normal((6, 10, 10, 2)))
    w = tf.Variable(rng.standard_normal((3, 3, 2, 4)) * 0.3)

    def step():
        with tf.GradientTape() as tape:
            y = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME")), 2, 2, "VALID")
            loss = tf.reduce_sum(y * y)
        w.assign_sub(0.01 * tape.gradient(loss, w))
        return loss
    run = tf.function(step) if compiled else step
    losses = [float(run()) for _ in range(3)]
    if compiled:  # The split forward's saved columns must not keep the step from compiling.
        assert [s.plan is not None for s in run._signatures.values()] == [True]
    return losses, w.numpy()


@pytest.mark.parametrize("compiled", [False, True])
def test_training_steps_match_whole_batch(compiled, monkeypatch):
    monkeypatch.setattr(threads, "SPLIT_ABOVE", float("inf"))
    want_losses, want_w = _train_steps(compiled)
    monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    losses, w = _train_steps(compiled)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-10)
    np.testing.assert_allclose(w, want_w, rtol=1e-10, atol=1e-12)


def test_second_order_gradient_through_split_conv(split):
    # d/dx of <dy, dConv/dx> path: a nested tape differentiates the backprop primitives.
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((4, 5, 5, 2)))
    w = tf.constant(rng.standard_normal((3, 3, 2, 3)))
    with tf.GradientTape() as outer:
        outer.watch(w)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.nn.conv2d(x, w, 1, "SAME") ** 2)
        g = tf.reduce_sum(inner.gradient(y, x) ** 2)
    got = outer.gradient(g, w).numpy()
    # The same with float64 central differences in w.
    eps, want = 1e-6, np.zeros(w.shape)

    def g_at(wv):
        with tf.GradientTape() as t:
            t.watch(x)
            yy = tf.reduce_sum(tf.nn.conv2d(x, tf.constant(wv), 1, "SAME") ** 2)
        return float(tf.reduce_sum(t.gradient(yy, x) ** 2))
    base = w.numpy()
    for index in np.ndindex(*w.shape):
        up, down = base.copy(), base.copy()
        up[index] += eps
        down[index] -= eps
        want[index] = (g_at(up) - g_at(down)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _reference_conv(x, f, pads):
    (top, bottom), (left, right) = pads
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw = f.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((x.shape[0], oh, ow, f.shape[3]))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = np.einsum("nhwc,hwco->no", x[:, i:i + kh, j:j + kw], f)
    return out


def test_reused_buffers_do_not_leak_between_convolutions(split):
    # Split kernels reuse per-thread buffers. Both convolutions' halves pad into planes of
    # one shape (1, 5, 1, 4), with other pads: the first writes its interior where the
    # second's padding lies. Likewise their gradient rows share a shape (3, 1, 4, 1) with
    # other output widths (3 vs 2 real columns).
    rng = np.random.default_rng(4)
    for x_shape, f_shape, pads in [((2, 4, 4, 1), (2, 2, 1, 1), ((0, 0), (0, 0))),
                                   ((2, 2, 2, 1), (2, 3, 1, 1), ((1, 1), (1, 1))),
                                   ((2, 4, 4, 1), (2, 2, 1, 1), ((0, 0), (0, 0)))]:
        x, f = rng.standard_normal(x_shape), rng.standard_normal(f_shape)
        y, columns = conv.conv2d(x, f, (1, 1), (1, 1), pads)
        np.testing.assert_allclose(y, _reference_conv(x, f, pads), atol=1e-12)
        dy = rng.standard_normal(y.shape)
        df = conv.conv2d_backprop_filter(x, dy, f.shape, (1, 1), (1, 1), pads, columns=columns)
        # d(sum(dy * y))/df, exactly: the reference convolution of x with each unit filter.
        grad = np.zeros_like(f)
        for index in np.ndindex(*f.shape):
            unit = np.zeros_like(f)
            unit[index] = 1
            grad[index] = np.sum(dy * _reference_conv(x, unit, pads))
        np.testing.assert_allclose(df, grad, atol=1e-10)
