"""Convolutions run by chunks of images (`conv.FORWARD_CHUNK_BYTES`,
`conv.INPUT_GRADIENT_CHUNK_BYTES`), whole or split across threads, compute what the whole
batch in one piece does; and the chunk counts follow the budgets."""

import numpy as np
import pytest

from numpyflow.backend import threads
from numpyflow.backend.numpy import conv
from tests.ops.cases_conv import run_conv_kernels


CONFIGS = [  # (x shape, filter shape, strides, dilations, padding)
    ((12, 9, 8, 1), (5, 5, 1, 6), (1, 1), (1, 1), "SAME"),     # LeNet conv1-like
    ((8, 7, 7, 6), (5, 5, 6, 16), (1, 1), (1, 1), "VALID"),    # LeNet conv2-like
    ((6, 8, 9, 4), (3, 2, 2, 6), (1, 2), (2, 1), "SAME"),      # grouped, strided
    ((4, 6, 6, 3), (3, 3, 1, 3), (1, 1), (1, 1), [[0, 0], [1, 0], [2, 1], [0, 0]]),  # depthwise
]


def _mode(monkeypatch, chunks, split):
    # Small GEMM blocks: these small convolutions build their columns by blocks too.
    monkeypatch.setattr(conv, "GEMM_BLOCK_BYTES", 1024)
    monkeypatch.setattr(conv, "SPLIT_GEMM_BLOCK_BYTES", 2048)
    monkeypatch.setattr(conv, "FORWARD_CHUNK_BYTES", 1 if chunks else None)
    monkeypatch.setattr(conv, "INPUT_GRADIENT_CHUNK_BYTES", 1 if chunks else None)
    monkeypatch.setattr(threads, "SPLIT_ABOVE", 0 if split else float("inf"))
    monkeypatch.setattr(threads, "cores", lambda: 2)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("split", [False, True])
def test_chunked_kernels_match_one_piece(monkeypatch, config, dtype, split):
    _mode(monkeypatch, chunks=False, split=False)
    _, want = run_conv_kernels(*config, dtype)
    _mode(monkeypatch, chunks=True, split=split)
    saved, got = run_conv_kernels(*config, dtype)
    if tuple(config[2]) == (1, 1) and config[0][3] == config[1][2]:
        # Unit-stride plain convolutions save their chunks' planes: one image per chunk.
        assert saved.ndim == 5 and saved.shape[0] == config[0][0]
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for have, expected in zip(got, want):
        assert have.shape == expected.shape and have.dtype == expected.dtype
        assert have.flags.c_contiguous
        np.testing.assert_allclose(have, expected, rtol=tolerance, atol=tolerance)


def test_filter_gradient_follows_the_saved_chunks_when_policy_differs(monkeypatch):
    # Planes saved in 4 chunks by a whole forward, the gradient split across 2 threads
    # (and 3 chunks, which 2 threads cannot share evenly: run on one).
    rng = np.random.default_rng(5)
    x = rng.standard_normal((12, 9, 8, 1))
    f = rng.standard_normal((5, 5, 1, 6))
    pads = ((2, 2), (2, 2))
    _mode(monkeypatch, chunks=False, split=False)
    y, planes = conv.conv2d(x, f, (1, 1), (1, 1), pads)
    dy = rng.standard_normal(y.shape)
    want = conv.conv2d_backprop_filter(x, dy, f.shape, (1, 1), (1, 1), pads, columns=planes)
    for chunks in (4, 3):
        monkeypatch.setattr(conv, "FORWARD_CHUNK_BYTES", None)
        monkeypatch.setattr(threads, "SPLIT_ABOVE", float("inf"))
        monkeypatch.setattr(conv, "_chunks_per_part", lambda *_: chunks)
        _, saved = conv.conv2d(x, f, (1, 1), (1, 1), pads)
        assert saved.shape[0] == chunks
        monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
        got = conv.conv2d_backprop_filter(x, dy, f.shape, (1, 1), (1, 1), pads, columns=saved)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("images, image_bytes, budget, want", [
    (128, 84_000, 6 * 2 ** 20, 2),      # LeNet conv2's input gradient at batch 128
    (64, 84_000, 6 * 2 ** 20, 1),       # ... at batch 64 (or half of 128): whole
    (128, 21_504, 2 * 2 ** 20, 2),      # LeNet conv1's forward rows at batch 128
    (32, 21_504, 2 * 2 ** 20, 1),
    (96, 84_000, 2 * 2 ** 20, 4),       # wants 4: divides 96
    (97, 84_000, 2 * 2 ** 20, 1),       # prime: no divisor from 4 to 8, whole
    (100, 84_000, 2 * 2 ** 20, 5),      # wants 4, which does not divide 100: the next, 5
    (10, 84_000, None, 1),              # no budget
    (1, 10 ** 9, 1, 1),                 # one image cannot be chunked
])
def test_chunk_counts(images, image_bytes, budget, want):
    assert conv._chunks_per_part(images, image_bytes, budget) == want
