"""The max pool's fast path split by batch across threads (`pooling._pool_parts`,
`threads.SPLIT_ABOVE_FEW_CALLS`) computes what it does whole, whichever way the forward and
the gradient ran."""

import numpy as np
import pytest

from numpyflow.backend import threads
from numpyflow.backend.numpy import pooling

KSIZE, STRIDES, NO_PADS = (2, 2), (2, 2), ((0, 0), (0, 0))


def _set_split(monkeypatch, split):
    monkeypatch.setattr(threads, "SPLIT_ABOVE_FEW_CALLS", 0 if split else float("inf"))
    monkeypatch.setattr(threads, "cores", lambda: 2)


# Odd batches split unevenly; batch 1 cannot split; W >= 255 has wider routing codes.
SHAPES = [(8, 28, 28, 6), (5, 10, 10, 16), (1, 4, 6, 3), (3, 2, 256, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forward_split, gradient_split",
                         [(True, True), (True, False), (False, True)])
def test_split_pool_matches_whole(monkeypatch, shape, dtype, forward_split, gradient_split):
    rng = np.random.default_rng(sum(shape))
    # After a ReLU, with ties: windows with several equal maxima route to the first.
    x = np.maximum(rng.integers(-2, 3, size=shape), 0).astype(dtype)
    _set_split(monkeypatch, False)
    y_want, routing_want = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    dy = rng.standard_normal(y_want.shape).astype(dtype)
    dx_want = pooling.max_pool_grad(x, y_want, dy, KSIZE, STRIDES, NO_PADS, routing_want)

    _set_split(monkeypatch, forward_split)
    if forward_split and shape[0] > 1:
        assert len(pooling._pool_parts(shape)) == 2
    y, routing = pooling.max_pool(x, KSIZE, STRIDES, NO_PADS)
    assert y.dtype == x.dtype and y.flags.c_contiguous
    np.testing.assert_array_equal(y, y_want)
    _set_split(monkeypatch, gradient_split)
    dx = pooling.max_pool_grad(x, y, dy, KSIZE, STRIDES, NO_PADS, routing)
    assert dx.dtype == dy.dtype and dx.shape == x.shape
    np.testing.assert_array_equal(dx, dx_want)
    # The gradient's gradient reads the same routing.
    ddx = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(
        pooling.max_pool_grad_grad(x, y, ddx, KSIZE, STRIDES, NO_PADS, routing),
        pooling.max_pool_grad_grad(x, y, ddx, KSIZE, STRIDES, NO_PADS, routing_want))


def test_lenet_sized_pools_split_only_when_large():
    # The policy's estimate: LeNet-5's first pool splits at batch 128, not at 64; its
    # second never at these batches (see `threads.SPLIT_ABOVE_FEW_CALLS`).
    def work(shape):
        return int(np.prod(shape)) * pooling.POOL_WORK_PER_ELEMENT
    assert work((128, 28, 28, 6)) >= threads.SPLIT_ABOVE_FEW_CALLS
    assert work((64, 28, 28, 6)) < threads.SPLIT_ABOVE_FEW_CALLS
    assert work((128, 10, 10, 16)) < threads.SPLIT_ABOVE_FEW_CALLS
