"""Convolution GEMMs run by row blocks (conv.GEMM_BLOCK_BYTES), with the column matrix whole
or built block by block (conv.COLUMNS_BY_BLOCKS), compute what whole GEMMs do: forward,
filter gradient, input gradient, with a ragged last block, batch 1, float64, dilated, split
across cores."""

import numpy as np
import pytest

from numpyflow.backend import threads
from numpyflow.backend.numpy import conv

CONFIGS = [  # (x shape, filter shape, strides, pads)
    ((4, 9, 8, 1), (5, 5, 1, 6), (1, 1), ((2, 2), (2, 2))),   # LeNet conv1-like
    ((3, 7, 7, 6), (3, 3, 6, 16), (1, 1), ((0, 0), (0, 0))),
    ((1, 6, 5, 2), (2, 3, 2, 3), (2, 1), ((1, 0), (0, 1))),   # Batch 1, strided, padded
    ((2, 7, 9, 3), (2, 3, 3, 5), (1, 1), ((1, 0), (0, 2))),   # Padded, dilated (below)
]


def _dilations(filter_shape):
    return (2, 1) if filter_shape == (2, 3, 3, 5) else (1, 1)


def _run(x, filters, strides, pads, dy):
    dilations = _dilations(filters.shape)
    y, columns = conv.conv2d(x, filters, strides, dilations, pads)
    dfilters = conv.conv2d_backprop_filter(x, dy, filters.shape, strides, dilations, pads,
                                           columns=columns)
    recomputed = conv.conv2d_backprop_filter(x, dy, filters.shape, strides, dilations, pads)
    dx = conv.conv2d_backprop_input(filters, dy, x.shape, strides, dilations, pads)
    return y, dfilters, recomputed, dx


@pytest.mark.parametrize("x_shape, filter_shape, strides, pads", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("block_rows", [2, 5])  # Tiny blocks: many, (mostly) a ragged last one.
@pytest.mark.parametrize("by_blocks", [True, False])
def test_row_blocks_equal_whole_products(monkeypatch, x_shape, filter_shape, strides, pads,
                                         dtype, block_rows, by_blocks):
    monkeypatch.setattr(conv, "COLUMNS_BY_BLOCKS", by_blocks)
    rng = np.random.default_rng(sum(x_shape))
    x = rng.standard_normal(x_shape).astype(dtype)
    filters = rng.standard_normal(filter_shape).astype(dtype)
    layout = conv._Layout(x_shape, filter_shape, strides, _dilations(filter_shape), pads)
    dy = rng.standard_normal((x_shape[0], layout.oh, layout.ow, filter_shape[3])).astype(dtype)

    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", None)
    whole = _run(x, filters, strides, pads, dy)
    inner, rows = layout.column_shape()
    itemsize = np.dtype(dtype).itemsize
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", block_rows * inner * itemsize)
    spans = conv._row_blocks(inner, rows, filter_shape[3], itemsize)
    assert spans[0][2] >= 2 and spans[-1][1] == rows  # The products do run by blocks.
    blocked = _run(x, filters, strides, pads, dy)
    saved = conv.conv2d(x, filters, strides, _dilations(filter_shape), pads)[1]
    # Unit strides build the columns by blocks when asked, saving the (C, Hp + 1, N, Wp)
    # planes instead of the (KH*KW*C, rows) columns; others never do.
    assert saved.ndim == (4 if by_blocks and strides == (1, 1) else 2)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for got, expected in zip(blocked, whole):
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_row_blocks_cover_every_row_once(monkeypatch):
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", 1000)  # 10 rows of 25 float32 values.
    assert conv._row_blocks(25, 1005, 6, 4) == [(0, 1000, 100), (1000, 1005, 1)]
    assert conv._row_blocks(25, 1000, 6, 4) == [(0, 1000, 100)]
    assert conv._row_blocks(25, 15, 6, 4) is None  # A single block: run whole.
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", None)
    assert conv._row_blocks(25, 1005, 6, 4) is None


def test_wide_products_run_whole(monkeypatch):
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", 1000)
    # 64 filters or more: BLAS may thread the whole product; blocks would run on one thread.
    assert conv._row_blocks(25, 100_000, 64, 4) is None
    assert conv._row_blocks(25, 100_000, 63, 4) is not None


@pytest.mark.parametrize("by_blocks", [True, False])
def test_split_kernels_with_row_blocks(monkeypatch, by_blocks):
    """Batch split across threads, each part's GEMMs by row blocks."""
    monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
    monkeypatch.setattr(conv, "COLUMNS_BY_BLOCKS", by_blocks)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 9, 8, 1)).astype(np.float32)
    filters = rng.standard_normal((5, 5, 1, 6)).astype(np.float32)
    pads = ((2, 2), (2, 2))
    dy = rng.standard_normal((6, 9, 8, 6)).astype(np.float32)
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", None)
    whole = _run(x, filters, (1, 1), pads, dy)
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", 1000)
    blocked = _run(x, filters, (1, 1), pads, dy)
    for got, expected in zip(blocked, whole):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Split: the parts' planes (parts, C, Hp + 1, N / parts, Wp), or columns (parts, K, rows).
    saved = conv.conv2d(x, filters, (1, 1), (1, 1), pads)[1]
    assert saved.ndim == (5 if by_blocks else 3) and saved.shape[0] >= 2


def test_planes_saved_by_blocks_serve_a_whole_filter_gradient(monkeypatch):
    """A forward that saved planes, then a gradient with blocking switched off: one block."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 9, 8, 1)).astype(np.float32)
    filters = rng.standard_normal((5, 5, 1, 6)).astype(np.float32)
    pads = ((2, 2), (2, 2))
    dy = rng.standard_normal((2, 9, 8, 6)).astype(np.float32)
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", 1000)
    _, planes = conv.conv2d(x, filters, (1, 1), (1, 1), pads)
    assert planes.ndim == 4
    expected = conv.conv2d_backprop_filter(x, dy, filters.shape, (1, 1), (1, 1), pads)
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", None)
    got = conv.conv2d_backprop_filter(x, dy, filters.shape, (1, 1), (1, 1), pads,
                                      columns=planes)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
