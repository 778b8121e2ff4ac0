"""Max pooling's fast path (2x2 windows, stride 2, even sizes: `pooling.tiles_2x2`) computes
exactly what the separable path and a direct loop do: forward, gradient and the gradient's
gradient, with ties routed to the first max in row-major order, as TF."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.backend.numpy import pooling
from tests.ops.cases_conv import np_max_pool_grad, np_max_pool_grad_grad, np_pool

KSIZE, STRIDES, NO_PADS = (2, 2), (2, 2), ((0, 0), (0, 0))


def _separable(monkeypatch, fn, *args):
    """`fn(*args)` with the fast path switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(pooling, "tiles_2x2", lambda *_: False)
        return fn(*args)


def _ties(shape, dtype, rng):
    """Values from a few levels: most windows hold several equal maxima."""
    return rng.integers(-2, 2, size=shape).astype(dtype)


SHAPES = [(32, 28, 28, 6), (32, 10, 10, 16), (1, 2, 2, 1), (3, 4, 6, 5), (2, 6, 4, 3),
          (1, 2, 256, 2)]  # The last one's W >= 255: wider routing codes.


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("values", ["relu", "ties", "distinct"])
def test_fast_path_equals_separable_path(monkeypatch, shape, dtype, values):
    rng = np.random.default_rng(sum(shape))
    if values == "relu":  # Pool after ReLU: all-zero windows, the common tie.
        x = np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    elif values == "ties":
        x = _ties(shape, dtype, rng)
    else:
        x = rng.permutation(np.prod(shape)).reshape(shape).astype(dtype)
    assert pooling.tiles_2x2(shape, KSIZE, STRIDES, NO_PADS)
    y, routing = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    y_old, row_max = _separable(monkeypatch, pooling.max_pool, x, KSIZE, STRIDES, NO_PADS)
    assert y.dtype == x.dtype and y.flags.c_contiguous
    np.testing.assert_array_equal(y, y_old)

    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = pooling.max_pool_grad(x, y, dy, KSIZE, STRIDES, NO_PADS, routing)
    dx_old = _separable(monkeypatch, pooling.max_pool_grad, x, y, dy, KSIZE, STRIDES, NO_PADS,
                        row_max)
    assert dx.dtype == dy.dtype and dx.shape == x.shape
    np.testing.assert_array_equal(dx, dx_old)
    # Without the forward's routing, the gradient recomputes it.
    np.testing.assert_array_equal(pooling.max_pool_grad(x, y, dy, KSIZE, STRIDES, NO_PADS),
                                  dx)

    ddx = rng.standard_normal(shape).astype(dtype)
    ddy = pooling.max_pool_grad_grad(x, y, ddx, KSIZE, STRIDES, NO_PADS, routing)
    ddy_old = _separable(monkeypatch, pooling.max_pool_grad_grad, x, y, ddx, KSIZE, STRIDES,
                         NO_PADS, row_max)
    np.testing.assert_array_equal(ddy, ddy_old)


@pytest.mark.parametrize("shape", [(2, 4, 6, 3), (1, 2, 2, 1)])
def test_fast_path_against_direct_loops(shape):
    rng = np.random.default_rng(7)
    x = _ties(shape, np.float64, rng)
    y, routing = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    np.testing.assert_array_equal(y, np_pool(x, KSIZE, STRIDES, "VALID", np.max))
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(
        pooling.max_pool_grad(x, y, dy, KSIZE, STRIDES, NO_PADS, routing),
        np_max_pool_grad(x, dy, KSIZE, STRIDES, "VALID"))
    ddx = rng.standard_normal(shape)
    np.testing.assert_array_equal(
        pooling.max_pool_grad_grad(x, y, ddx, KSIZE, STRIDES, NO_PADS, routing),
        np_max_pool_grad_grad(x, ddx, KSIZE, STRIDES, "VALID"))


def test_special_values_route_as_the_separable_path(monkeypatch):
    x = np.array([[[[np.nan], [1.0], [-np.inf], [-np.inf]],
                   [[2.0], [np.nan], [-np.inf], [-np.inf]],
                   [[0.0], [-0.0], [np.inf], [1.0]],
                   [[-0.0], [0.0], [np.inf], [np.inf]]]], np.float32)
    y, routing = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    y_old, row_max = _separable(monkeypatch, pooling.max_pool, x, KSIZE, STRIDES, NO_PADS)
    np.testing.assert_array_equal(y, y_old)
    dy = np.arange(1, 5, dtype=np.float32).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(
        pooling.max_pool_grad(x, y, dy, KSIZE, STRIDES, NO_PADS, routing),
        _separable(monkeypatch, pooling.max_pool_grad, x, y, dy, KSIZE, STRIDES, NO_PADS,
                   row_max))


def test_integer_and_non_contiguous_inputs(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, size=(2, 6, 4, 3)).astype(np.int32)
    y, _ = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, np_pool(x, KSIZE, STRIDES, "VALID", np.max))
    view = np.asarray(rng.standard_normal((3, 4, 6, 2)), np.float32).transpose(0, 2, 1, 3)
    y, routing = pooling.max_pool(view, KSIZE, STRIDES, NO_PADS)
    dy = np.ones(y.shape, np.float32)
    np.testing.assert_array_equal(
        pooling.max_pool_grad(view, y, dy, KSIZE, STRIDES, NO_PADS, routing),
        np_max_pool_grad(np.ascontiguousarray(view), dy, KSIZE, STRIDES, "VALID"))


@pytest.mark.parametrize("shape, ksize, strides, pads, fast", [
    ((32, 28, 28, 6), (2, 2), (2, 2), ((0, 0), (0, 0)), True),
    ((1, 5, 6, 1), (2, 2), (2, 2), ((0, 0), (0, 0)), False),    # Odd height.
    ((1, 4, 4, 1), (2, 2), (2, 2), ((0, 1), (0, 1)), False),    # Padded.
    ((1, 4, 4, 1), (2, 2), (1, 1), ((0, 0), (0, 0)), False),    # Overlapping windows.
    ((1, 6, 6, 1), (3, 3), (3, 3), ((0, 0), (0, 0)), False),
    ((0, 4, 4, 1), (2, 2), (2, 2), ((0, 0), (0, 0)), False),    # Empty batch.
])
def test_which_pools_take_the_fast_path(shape, ksize, strides, pads, fast):
    assert pooling.tiles_2x2(shape, ksize, strides, pads) == fast


def test_layer_gradients_through_the_fast_path(monkeypatch):
    """Keras' MaxPooling2D (SAME on even sizes: no padding) under a tape, both paths."""
    rng = np.random.default_rng(5)
    x = tf.constant(np.maximum(rng.standard_normal((3, 8, 6, 4)), 0).astype(np.float32))
    layer = tf.keras.layers.MaxPooling2D(2, padding="same")

    def grads():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * y)
        return y.numpy(), tape.gradient(loss, x).numpy()

    y, dx = grads()
    y_old, dx_old = _separable(monkeypatch, grads)
    np.testing.assert_array_equal(y, y_old)
    np.testing.assert_array_equal(dx, dx_old)


def test_large_pools_build_their_window_starts_each_time(monkeypatch):
    monkeypatch.setattr(pooling, "_CACHED_STARTS_UP_TO", 10)
    shape = (1, 4, 6, 4)  # 24 pooled elements: over the limit, not cached.
    starts = pooling._window_starts(shape)
    assert starts.flags.writeable and starts is not pooling._window_starts(shape)
    np.testing.assert_array_equal(starts, pooling._cached_window_starts(shape))
    rng = np.random.default_rng(4)
    x = _ties(shape, np.float32, rng)
    y, routing = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(
        pooling.max_pool_grad(x, y, dy, KSIZE, STRIDES, NO_PADS, routing),
        np_max_pool_grad(x, dy, KSIZE, STRIDES, "VALID"))
