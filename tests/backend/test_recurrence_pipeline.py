"""The LSTM's side thread (backend/numpy/recurrence.py, `PIPELINE_*`) computes what the
plain path computes.

With the pipeline, a pool thread projects later chunks of steps ahead of the forward's
loop, and in the backward prepares later chunks' local derivatives ahead of the loop and
sums the weight gradients of finished chunks behind it. Each test runs the op once with
the pipeline off and once forced on (two cores, thresholds at zero, first chunks of 1-4
steps) and compares the output and every gradient, over odd and even batches and step
counts, mask, bias, go_backwards, need_x, float32 and float64. The op checks in
tests/ops/cases_rnn.py pin the plain path to NumPy references and finite differences.
"""

import numpy as np
import pytest

from numpyflow.backend import threads
from numpyflow.backend.numpy import recurrence

F, U = 3, 4


@pytest.fixture
def pipeline(monkeypatch):
    """set(on, first): the LSTM pipeline forced on (whole loop, two cores, any size; a
    first chunk of `first` steps ahead, chunks of `first` + 1 behind) or off."""
    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(recurrence, "SPLIT_STEP_ABOVE", 10 ** 18)  # The loop runs whole.
    # Never backed off to the calling thread by slow runs before (busy test machines).
    monkeypatch.setattr(threads, "_side_lateness", threads._SideLateness())
    monkeypatch.setattr(threads, "SIDE_LATE_S", float("inf"))

    def set_mode(on, first=2):
        monkeypatch.setattr(recurrence, "PIPELINE_FORWARD", on)
        monkeypatch.setattr(recurrence, "PIPELINE_BACKWARD", on)
        monkeypatch.setattr(recurrence, "PIPELINE_FIRST_STEPS", first)
        monkeypatch.setattr(recurrence, "PIPELINE_BEHIND_STEPS", first + 1)
        monkeypatch.setattr(threads, "SPLIT_ABOVE", 0 if on else 10 ** 18)
    return set_mode


def _inputs(batch, steps, dtype, use_bias, masked, seed=0):
    rng = np.random.default_rng(seed)

    def r(*shape):
        return rng.uniform(-1, 1, shape).astype(dtype)
    mask = (rng.uniform(size=(batch, steps)) > 0.3) if masked else None
    return (r(batch, steps, F), r(batch, U), r(batch, U), r(F, 4 * U), r(U, 4 * U),
            r(4 * U) if use_bias else None, mask)


def _run(args, go_backwards, need_x, dy_seed=3):
    """The forward's output and the backward's flat gradient vector."""
    x, h0, c0, kernel, rec, bias, mask = args
    out, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, mask,
                                         go_backwards=go_backwards)
    out = np.array(out)
    dy = np.random.default_rng(dy_seed).uniform(-1, 1, out.shape).astype(out.dtype)
    flat = recurrence.lstm_backward(dy, *saved, kernel, rec, *([mask] if mask is not None else []),
                                    use_bias=bias is not None, go_backwards=go_backwards,
                                    need_x=need_x)
    return out, flat


@pytest.mark.parametrize("batch,steps,first", [(1, 5, 2), (5, 7, 3), (32, 9, 4), (6, 8, 1),
                                               (3, 28, 2), (2, 2, 1)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pipeline_equals_plain(pipeline, batch, steps, first, masked, use_bias, go_backwards,
                               dtype):
    args = _inputs(batch, steps, dtype, use_bias, masked)
    assert not recurrence._pipelined(True, [(0, batch)], steps, batch, F, U, 4)
    pipeline(False)
    plain = _run(args, go_backwards, need_x=True)
    pipeline(True, first)
    assert recurrence._pipelined(True, [(0, batch)], steps, batch, F, U, 4)
    piped = _run(args, go_backwards, need_x=True)
    # The forward is the same arithmetic; the weight gradients are summed chunk by chunk.
    np.testing.assert_array_equal(piped[0], plain[0])
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(piped[1], plain[1], rtol=rtol, atol=rtol)


def test_pipeline_without_input_gradient(pipeline):
    """need_x=False (x is the model's data) leaves dx out of the flat vector."""
    args = _inputs(7, 9, "float32", True, False)
    pipeline(False)
    plain = _run(args, False, need_x=False)
    pipeline(True, 4)
    piped = _run(args, False, need_x=False)
    x, h0, c0, kernel, rec, bias, _ = args
    assert piped[1].size == h0.size + c0.size + kernel.size + rec.size + bias.size
    np.testing.assert_allclose(piped[1], plain[1], rtol=1e-5, atol=1e-6)


class _StalledHandoff(threads.Handoff):
    """Every chunk is claimed by a thread that never finishes it (one that lost its core),
    so the loop must compute each chunk into its own buffers."""

    def run(self, index, fn, *args):
        with self._lock:
            self._claimed[index] = True
        return False


def test_loop_never_waits_for_a_stalled_side_thread(pipeline, monkeypatch):
    args = _inputs(5, 11, "float64", True, True)
    pipeline(False)
    plain = _run(args, True, need_x=True)
    pipeline(True, 3)
    monkeypatch.setattr(threads, "Handoff", _StalledHandoff)
    piped = _run(args, True, need_x=True)
    np.testing.assert_array_equal(piped[0], plain[0])
    np.testing.assert_allclose(piped[1], plain[1], rtol=1e-12, atol=1e-12)


def test_same_bits_whoever_runs_the_side_work(pipeline, monkeypatch):
    """The side part run by a worker or by the calling thread (`threads.run_parts`' solo
    mode on a busy machine) gives bit-identical results: fixed chunks, fixed sum order."""
    args = _inputs(32, 13, "float32", True, False)
    pipeline(True, 4)
    both = _run(args, False, need_x=True)
    monkeypatch.setattr(threads._outcomes, "solo_left", 10 ** 9)
    alone = _run(args, False, need_x=True)
    np.testing.assert_array_equal(alone[0], both[0])
    np.testing.assert_array_equal(alone[1], both[1])


class _FailingThirdProduct:
    """A matrix whose third product with anything raises (NumPy hands its ufunc calls,
    matmul among them, to `__array_ufunc__`)."""

    def __init__(self, matrix):
        self.matrix, self.calls = matrix, 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        self.calls += 1
        if self.calls == 3:
            raise FloatingPointError("injected")
        inputs = [self.matrix if a is self else a for a in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)


def test_error_in_the_loop_propagates_without_hanging(pipeline, monkeypatch):
    """The side thread waits for chunks the loop finishes; an error in the loop must not
    leave it (and the caller waiting for it) waiting forever."""
    args = _inputs(4, 9, "float32", True, False)
    pipeline(True, 2)
    x, h0, c0, kernel, rec, bias, _ = args
    out, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, None, go_backwards=False)
    transposed = recurrence._transposed
    monkeypatch.setattr(recurrence, "_transposed",
                        lambda *args: _FailingThirdProduct(transposed(*args)))
    with pytest.raises(FloatingPointError, match="injected"):
        recurrence.lstm_backward(np.ones_like(out), *saved, kernel, rec, use_bias=True,
                                 go_backwards=False)


def test_pipeline_policy(monkeypatch):
    """On: the benchmark's LSTM(128) (batch 32, 28 steps of 28 features) on two cores.
    Off: one core, a split loop, too little work, too few steps, or the flag off."""
    monkeypatch.setattr(threads, "cores", lambda: 2)
    whole = [(0, 32)]
    assert recurrence._pipelined(True, whole, 28, 32, 28, 128, 4)
    assert not recurrence._pipelined(False, whole, 28, 32, 28, 128, 4)
    assert not recurrence._pipelined(True, [(0, 16), (16, 32)], 28, 32, 28, 128, 4)
    assert not recurrence._pipelined(True, whole, 28, 32, 28, 8, 4)
    assert not recurrence._pipelined(True, whole, recurrence.PIPELINE_FIRST_STEPS, 32, 28, 128, 4)
    monkeypatch.setattr(threads, "cores", lambda: 1)
    assert not recurrence._pipelined(True, whole, 28, 32, 28, 128, 4)


def test_chunks(monkeypatch):
    """Work ahead of the loop in chunks doubling from the first; work behind it in equal
    chunks, the last halved; both tile every step once, in loop order."""
    monkeypatch.setattr(recurrence, "PIPELINE_FIRST_STEPS", 2)
    monkeypatch.setattr(recurrence, "PIPELINE_BEHIND_STEPS", 4)
    assert recurrence._ahead_chunks(28) == [(0, 2), (2, 4), (4, 8), (8, 16), (16, 28)]
    assert recurrence._behind_chunks(28) == [(0, 4), (4, 8), (8, 12), (12, 16), (16, 20),
                                             (20, 24), (24, 26), (26, 28)]
    assert recurrence._behind_chunks(10) == [(0, 4), (4, 8), (8, 9), (9, 10)]
    assert recurrence._behind_chunks(9) == [(0, 4), (4, 8), (8, 9)]
    assert recurrence._ahead_chunks(3) == [(0, 2), (2, 3)]
    assert recurrence._behind_chunks(2) == [(0, 1), (1, 2)]
    for steps in range(1, 40):
        for chunks in (recurrence._ahead_chunks(steps), recurrence._behind_chunks(steps)):
            assert chunks[0][0] == 0 and chunks[-1][1] == steps
            assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(chunks, chunks[1:]))


@pytest.mark.parametrize("batch", [1, 5, 9])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gate_products_in_row_blocks(pipeline, monkeypatch, batch, dtype):
    """The forward's per-gate products (batch, units) @ (units, units) in blocks of 2 rows
    (OpenBLAS's small-matrix size, see `_row_blocks`), with and without the pipeline,
    compute what one product per step computes."""
    args = _inputs(batch, 6, dtype, True, True)
    pipeline(False)
    whole = _run(args, False, need_x=True)
    monkeypatch.setattr(recurrence.blas, "is_controlled", lambda: True)
    monkeypatch.setattr(recurrence, "SMALL_GEMM_ROWS", 2)
    monkeypatch.setattr(recurrence, "SMALL_GEMM", 2 * U * U)
    if batch > 2:
        assert len(recurrence._row_blocks(batch, U, U)) > 1
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for on in (False, True):
        pipeline(on, 4)
        blocked = _run(args, False, need_x=True)
        for a, b in zip(whole, blocked):
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)


def test_late_side_thread_backs_off_to_the_calling_thread(monkeypatch):
    """After the side thread kept the caller waiting (on average over SIDE_LATE_S),
    the next SIDE_SOLO_CALLS calls run both parts here, in order, without the pool;
    then the pool is used again. Short waits never back off."""
    lateness = threads._SideLateness()
    monkeypatch.setattr(threads, "_side_lateness", lateness)
    monkeypatch.setattr(threads, "SIDE_SOLO_CALLS", 2)
    for _ in range(50):
        lateness.record(threads.SIDE_LATE_S / 10)
    assert lateness.solo_left == 0
    lateness.record(threads.SIDE_LATE_S * 10)
    assert lateness.solo_left == 2
    pooled = []
    real_run_parts = threads.run_parts

    def run_parts(fn, parts):
        pooled.append(1)
        return real_run_parts(fn, parts)

    monkeypatch.setattr(threads, "run_parts", run_parts)
    order = []
    for _ in range(3):
        threads.side_by_side(lambda: order.append("main"), lambda: order.append("side"))
    assert order[:4] == ["main", "side", "main", "side"] and sorted(order[4:]) == ["main", "side"]
    assert len(pooled) == 1  # Only the third call went to the pool.
