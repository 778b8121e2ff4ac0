"""The recurrences split across cores (backend/numpy/recurrence.py) compute what they
compute whole.

A split runs the time loop as one run of batch rows per core and the weight-gradient GEMMs
as one block of columns per core; per-step products may also run in blocks of rows (for
OpenBLAS's small-matrix kernel). Each test runs an op once forced whole and unblocked and
once forced split (two cores, thresholds at zero) or blocked (blocks of 2 rows), on odd and
even batches, with and without mask, bias and go_backwards, in float32 and float64, and
compares outputs and all gradients. The op checks in cases_rnn.py pin the whole path to
NumPy references and finite differences.
"""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.backend import threads
from numpyflow.backend.numpy import recurrence
from numpyflow.ops import rnn_ops

T, F, U = 5, 3, 4


@pytest.fixture
def split_mode(monkeypatch):
    """set(split, blocked=False): forces every recurrence and weight-gradient GEMM whole or
    split, and per-step products in one piece or in blocks of 2 rows (for U = 4 units)."""
    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(recurrence.blas, "is_controlled", lambda: True)

    def set_mode(split, blocked=False):
        monkeypatch.setattr(recurrence, "SPLIT_STEP_ABOVE", 0 if split else 10 ** 18)
        monkeypatch.setattr(recurrence, "MIN_SPLIT_ROWS", 1 if split else 10 ** 9)
        monkeypatch.setattr(threads, "SPLIT_ABOVE", 0 if split else 10 ** 18)
        monkeypatch.setattr(recurrence, "SMALL_GEMM_ROWS", 2)
        monkeypatch.setattr(recurrence, "SMALL_GEMM", 2 * U * 4 * U if blocked else 10 ** 18)
    return set_mode


def _inputs(kind, batch, dtype, use_bias, reset_after, seed=0):
    rng = np.random.default_rng(seed)
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]

    def r(*shape):
        return tf.constant(rng.uniform(-1, 1, shape).astype(dtype))
    states = [r(batch, U)] * (2 if kind == "LSTM" else 1)
    args = [r(batch, T, F)] + states + [r(F, gates * U), r(U, gates * U)]
    if use_bias:
        args.append(r(2, 3 * U) if (kind == "GRU" and reset_after) else r(gates * U))
    else:
        args.append(None)
    mask = rng.uniform(size=(batch, T)) > 0.3
    return args, tf.constant(mask)


def _run(kind, args, mask, **kw):
    """The op's output and the gradients of a weighted sum of it for every float input."""
    sources = [a for a in args if a is not None]
    upstream = None
    with tf.GradientTape() as tape:
        for a in sources:
            tape.watch(a)
        if kind == "LSTM":
            out = rnn_ops.lstm_sequence(*args, mask=mask, **kw)
        elif kind == "GRU":
            out = rnn_ops.gru_sequence(*args, mask=mask, **kw)
        else:
            out = rnn_ops.simple_rnn_sequence(*args, mask=mask, **kw)
        upstream = np.random.default_rng(3).uniform(-1, 1, out.shape).astype(out.dtype.name)
        loss = tf.reduce_sum(out * tf.constant(upstream))
    return [out.numpy()] + [g.numpy() for g in tape.gradient(loss, sources)]


CONFIGS = [
    ("LSTM", {}), ("LSTM", {"go_backwards": True}),
    ("GRU", {"reset_after": True}), ("GRU", {"reset_after": False, "go_backwards": True}),
    ("SimpleRNN", {"activation": "tanh"}), ("SimpleRNN", {"activation": "relu"}),
]


@pytest.mark.parametrize("kind,kw", CONFIGS)
@pytest.mark.parametrize("batch", [1, 5, 32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("split,blocked", [(True, False), (False, True), (True, True)])
def test_split_equals_whole(split_mode, kind, kw, batch, masked, use_bias, dtype, split,
                            blocked):
    args, mask = _inputs(kind, batch, dtype, use_bias, kw.get("reset_after", True))
    mask = mask if masked else None
    split_mode(False)
    whole = _run(kind, args, mask, **kw)
    split_mode(split, blocked)
    other = _run(kind, args, mask, **kw)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(whole, other):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)


def test_split_lstm_kernels_without_input_gradient(split_mode):
    """need_x=False (x is the model's data) leaves dx out of the flat gradient, split too."""
    args, mask = _inputs("LSTM", 7, "float32", True, True)
    x, h0, c0, kernel, rec, bias = [a.numpy() for a in args]
    results = []
    for split in (False, True):
        split_mode(split)
        out, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, None,
                                              go_backwards=False)
        dy = np.ones_like(out)
        flat = recurrence.lstm_backward(dy, *saved, kernel, rec, use_bias=True,
                                      go_backwards=False, need_x=False)
        results.append((out.copy(), flat))
    assert results[0][1].size == h0.size + c0.size + kernel.size + rec.size + bias.size
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)


def test_split_policy(monkeypatch):
    """Small batches never split; the benchmark's LSTM (batch 32, 128 units) runs whole,
    batch 128 splits on 2 cores, each run on one BLAS thread; one core never splits."""
    monkeypatch.setattr(threads, "cores", lambda: 2)
    for batch in (1, 2, 3, 4):
        assert recurrence._recurrence_parts(batch, 1024, 4) == [(0, batch)]
    assert recurrence._recurrence_parts(32, 8, 4) == [(0, 32)]  # Too little work per step.
    assert recurrence._recurrence_parts(32, 128, 4) == [(0, 32)]  # Measured: whole is faster.
    assert recurrence._recurrence_parts(128, 128, 4) == [(0, 64), (64, 128)]
    assert recurrence._recurrence_parts(129, 128, 4) == [(0, 64), (64, 129)]
    monkeypatch.setattr(threads, "cores", lambda: 1)
    assert recurrence._recurrence_parts(128, 128, 4) == [(0, 128)]


def test_row_blocks_policy(monkeypatch):
    """Blocks of 8 rows only where the whole product is above OpenBLAS's small-matrix size
    and a block is under it (the benchmark's 128-unit LSTM), and only with OpenBLAS."""
    monkeypatch.setattr(recurrence.blas, "is_controlled", lambda: True)
    assert recurrence._row_blocks(32, 128, 512) == [(0, 8), (8, 16), (16, 24), (24, 32)]
    assert recurrence._row_blocks(17, 512, 128) == [(0, 8), (8, 16), (16, 17)]
    assert recurrence._row_blocks(15, 128, 512) == [(0, 15)]  # Small already.
    assert recurrence._row_blocks(32, 256, 1024) == [(0, 32)]  # A block would not be small.
    monkeypatch.setattr(recurrence.blas, "is_controlled", lambda: False)
    assert recurrence._row_blocks(32, 128, 512) == [(0, 32)]


def test_products_split_by_columns_equal_whole(monkeypatch):
    """The column blocks of a split GEMM land in their places (odd column counts too)."""
    rng = np.random.default_rng(0)
    pairs = [(rng.normal(size=(7, 50)), rng.normal(size=(50, 9))),
             (rng.normal(size=(50, 3)).T, rng.normal(size=(50, 2)))]
    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
    for (a, b), out in zip(pairs, recurrence._products(pairs)):
        np.testing.assert_allclose(out, a @ b, rtol=1e-12)
