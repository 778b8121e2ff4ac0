"""The partner process (backend/partner.py) and the recurrences split across it
(backend/numpy/recurrence.py, `PARTNER_STEP_ABOVE`): LSTM, GRU and SimpleRNN.

Split, each half of the batch runs its whole loop over time in its own process, all arrays
in shared memory. These tests check the shared arena's lifetimes, that a split forward
and backward compute what the whole ones do (to rounding: BLAS may round a product of
fewer rows differently, and the weight gradients are summed from two halves), over masks, bias, go_backwards, need_x, odd
batches and float64; and the protocol's ways out: a partner stopped mid-run (this process
takes its rows back), one that died (its rows computed here, no partner afterwards), and
the environment switch. tests/ops/cases_rnn.py pins the whole path to NumPy references
and finite differences.
"""

import gc
import os
import signal
import time

import numpy as np
import pytest

from numpyflow.backend import partner, threads
from numpyflow.backend.numpy import recurrence
from tests.backend.test_recurrence_pipeline import F, U, _inputs

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"),
                                reason="the partner process needs memfd (Linux)")


def _wait_for_partner():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        helper = partner.partner()
        if helper is not None:
            return helper
        time.sleep(0.01)
    raise AssertionError("the partner process did not start within 60 s")


@pytest.fixture
def split(monkeypatch):
    """set(on): recurrences split across the partner at any size (two cores), or never."""
    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(recurrence, "MIN_SPLIT_ROWS", 1)

    def set_mode(on):
        monkeypatch.setattr(recurrence, "PARTNER_STEP_ABOVE", 0 if on else 10 ** 18)
        monkeypatch.setattr(recurrence, "SPLIT_STEP_ABOVE", 10 ** 18)  # No thread split.
        return _wait_for_partner() if on else None
    return set_mode


def _run(args, go_backwards, need_x, last_only=False):
    """The forward's output, the backward's flat gradient and the saved gates."""
    x, h0, c0, kernel, rec, bias, mask = args
    out, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, mask,
                                         go_backwards=go_backwards)
    dy = np.random.default_rng(3).uniform(-1, 1, out.shape).astype(out.dtype)
    if last_only:  # As without return_sequences: only the last step has a gradient.
        dy[:, :-1] = 0
    flat = recurrence.lstm_backward(dy, *saved, kernel, rec, *([mask] if mask is not None else []),
                                    use_bias=bias is not None, go_backwards=go_backwards,
                                    need_x=need_x)
    return np.array(out), flat, saved[2]


# 17 steps: the split backward runs in chunks of BACKWARD_CHUNK_STEPS (7, 7, 3).
@pytest.mark.parametrize("batch,steps", [(2, 5), (5, 7), (32, 3), (9, 1), (4, 17)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_split_equals_whole(split, batch, steps, masked, use_bias, go_backwards, dtype):
    args = _inputs(batch, steps, dtype, use_bias, masked)
    split(False)
    out, flat, gates = _run(args, go_backwards, need_x=True)
    assert gates.ndim == 4
    helper = split(True)
    out_split, flat_split, gates_split = _run(args, go_backwards, need_x=True)
    assert gates_split.ndim == 5 and helper.arena.owns(gates_split)  # It did split.
    # BLAS may round a product of fewer rows differently (a 1-row half is a GEMV).
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out_split, out, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(flat_split, flat, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("need_x", [False, True])
def test_split_backward_of_the_last_step_only(split, need_x):
    """Without return_sequences only the last step's output has a gradient: the split
    backward copies only the steps that have one."""
    args = _inputs(6, 9, "float64", True, False)
    split(False)
    _, flat, _ = _run(args, False, need_x, last_only=True)
    split(True)
    _, flat_split, _ = _run(args, False, need_x, last_only=True)
    np.testing.assert_allclose(flat_split, flat, rtol=1e-12, atol=1e-12)


def test_split_gradient_matches_finite_differences(split):
    """The split backward's gradient of sum(out * w) with respect to the recurrent kernel,
    against central differences in float64."""
    x, h0, c0, kernel, rec, bias, mask = _inputs(4, 5, "float64", True, True)
    weights = np.random.default_rng(7).uniform(-1, 1, (4, 5, 2 * U))
    split(True)

    def loss(recurrent):
        out, _ = recurrence.lstm_forward(x, h0, c0, kernel, recurrent, bias, mask,
                                         go_backwards=False)
        return float(np.sum(np.array(out) * weights))

    out, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, mask, go_backwards=False)
    assert saved[2].ndim == 5
    flat = recurrence.lstm_backward(weights, *saved, kernel, rec, mask, use_bias=True,
                                    go_backwards=False, need_x=False)
    # Flat order without dx: dh0, dc0, dkernel, drecurrent, dbias.
    start = 2 * 4 * U + F * 4 * U
    analytic = flat[start:start + U * 4 * U].reshape(U, 4 * U)
    numeric = np.zeros_like(rec)
    eps = 1e-6
    for index in np.ndindex(rec.shape):
        plus, minus = rec.copy(), rec.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (loss(plus) - loss(minus)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def _other_inputs(kind, batch, steps, dtype, use_bias, masked, reset_after):
    rng = np.random.default_rng(1)

    def r(*shape):
        return rng.uniform(-1, 1, shape).astype(dtype)
    k = 3 if kind == "gru" else 1
    bias_shape = (2, 3 * U) if (kind == "gru" and reset_after) else (k * U,)
    mask = (rng.uniform(size=(batch, steps)) > 0.3) if masked else None
    return (r(batch, steps, F), r(batch, U), r(F, k * U), r(U, k * U),
            r(*bias_shape) if use_bias else None, mask)


def other_kernels(kind, option):
    """(forward, backward, their keyword arguments) of the GRU (option: reset_after) or the
    SimpleRNN (option: the activation)."""
    if kind == "gru":
        return recurrence.gru_forward, recurrence.gru_backward, {"reset_after": option}
    return recurrence.simple_forward, recurrence.simple_backward, {"activation": option}


def _run_other(kind, args, go_backwards, option):
    """GRU (option: reset_after) or SimpleRNN (option: the activation): output, flat
    gradient, saved arrays."""
    x, h0, kernel, rec, bias, mask = args
    forward, backward, extra = other_kernels(kind, option)
    out, saved = forward(x, h0, kernel, rec, bias, mask, go_backwards=go_backwards, **extra)
    dy = np.random.default_rng(3).uniform(-1, 1, out.shape).astype(out.dtype)
    flat = backward(dy, *saved, kernel, rec, *([mask] if mask is not None else []),
                    use_bias=bias is not None, go_backwards=go_backwards, need_x=True, **extra)
    return np.array(out), flat, saved


@pytest.mark.parametrize("kind,option", [("gru", True), ("gru", False), ("simple", "tanh"),
                                         ("simple", "relu")])
@pytest.mark.parametrize("batch,steps", [(2, 5), (9, 4)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gru_and_simple_rnn_split_equal_whole(split, kind, option, batch, steps, masked,
                                              go_backwards, dtype):
    args = _other_inputs(kind, batch, steps, dtype, True, masked, option is True)
    split(False)
    out, flat, _ = _run_other(kind, args, go_backwards, option)
    helper = split(True)
    out_split, flat_split, saved = _run_other(kind, args, go_backwards, option)
    assert all(helper.arena.owns(a) for a in saved)  # It did split.
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out_split, out, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(flat_split, flat, rtol=tolerance, atol=tolerance)


def test_arena_blocks_live_as_long_as_their_views():
    arena = partner.SharedArena()
    a = arena.empty((4, 8), np.float32)
    view = a[1:, ::2]
    address = view.__array_interface__["data"][0]
    view[...] = 7
    del a
    gc.collect()
    b = arena.empty((4, 8), np.float32)  # Must not get the block `view` still uses.
    b[...] = 1
    assert np.all(view == 7) and view.__array_interface__["data"][0] == address
    del view
    gc.collect()
    c = arena.empty((4, 8), np.float32)  # Now the first block is free again: reused.
    assert arena.owns(c) and not np.shares_memory(b, c)
    assert len(arena.slabs) == 1


def test_arena_describes_views_for_the_other_process():
    arena = partner.SharedArena()
    a = arena.empty((3, 5), np.float64)
    a[...] = np.arange(15).reshape(3, 5)
    maps = {slab.index: slab.map for slab in arena.slabs}
    for view in (a, a.T, a[::-1, 1:4], a[2]):
        rebuilt = partner._rebuild(maps, arena.describe(view))
        np.testing.assert_array_equal(rebuilt, view)
    assert not arena.owns(np.zeros(3))
    with pytest.raises(ValueError, match="not in shared memory"):
        arena.describe(np.zeros(3))
    # A block's own array is described from its block; one of another arena is not this
    # one's to describe.
    slab, offset = arena._find(a)
    assert arena.describe(a)[:2] == (slab.index, offset)
    with pytest.raises(ValueError, match="not in shared memory"):
        arena.describe(partner.SharedArena().empty((3, 5), np.float64))


def test_rows_taken_back_from_a_stopped_partner(split):
    """A partner that cannot run (stopped, as by a machine with no free core) leaves its
    token in the pipe: this process takes its rows back and computes the right result;
    resumed, the partner skips the stale command and serves the next one."""
    args = _inputs(8, 6, "float64", True, True)
    split(False)
    out, flat, _ = _run(args, False, True)
    helper = split(True)
    _, flat_split, _ = _run(args, False, True)
    pid = helper._process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        out_stopped, flat_stopped, gates = _run(args, False, True)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert gates.ndim == 5
    np.testing.assert_array_equal(out_stopped, out)
    np.testing.assert_allclose(flat_stopped, flat, rtol=1e-12, atol=1e-12)
    # Whichever process ran the partner's half, it computed the same numbers.
    np.testing.assert_array_equal(flat_stopped, flat_split)
    out_after, flat_after, _ = _run(args, False, True)
    np.testing.assert_array_equal(out_after, out)
    np.testing.assert_allclose(flat_after, flat, rtol=1e-12, atol=1e-12)
    assert helper.alive and partner.partner() is helper


def test_repeated_commands_read_new_values(split):
    """A training step sends the same commands (the same blocks) again and again, and the
    partner reuses what it built for them: each time it must compute from the values the
    blocks hold now."""
    args = [_inputs(8, 6, "float64", True, True, seed=s) for s in range(3)]
    split(False)
    expected = [_run(a, False, True)[:2] for a in args]
    split(True)
    for _ in range(2):
        for a, (want_out, want_flat) in zip(args, expected):
            out, flat, _ = _run(a, False, True)
            np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(flat, want_flat, rtol=1e-12, atol=1e-12)


def test_local_arrays_stay_in_this_process(split, monkeypatch):
    """The split LSTM backward hands its own half this process's recurrent kernel (not in
    shared memory) through run_split's `local`: never described to the partner, whose
    half makes its own from the forward's gate-major copy."""
    sent = []
    send = partner.Partner._send

    def spy(self, fn, arrays, options, rows):
        sent.append((fn.__name__, set(arrays)))
        return send(self, fn, arrays, options, rows)
    monkeypatch.setattr(partner.Partner, "_send", spy)
    args = _inputs(8, 6, "float32", True, False)
    split(True)
    _run(args, False, True)
    names = dict(sent)["_lstm_backward_rows"]
    assert "u" in names and "u_t" not in names


def test_a_partner_that_died_leaves_the_work_here(split, monkeypatch):
    args = _inputs(8, 6, "float32", True, False)
    split(False)
    out, flat, _ = _run(args, True, True)
    helper = split(True)
    helper._process.kill()
    helper._process.wait()
    out_dead, flat_dead, _ = _run(args, True, True)
    np.testing.assert_array_equal(out_dead, out)
    np.testing.assert_allclose(flat_dead, flat, rtol=1e-5, atol=1e-6)
    assert not helper.alive and partner.partner() is None
    partner.shutdown()  # The next test starts a fresh one.


def test_backward_after_the_partner_was_replaced(split):
    """A forward split, then the partner shut down before the backward (its arena is not
    the next partner's): the backward runs both halves here, to the same numbers."""
    x, h0, c0, kernel, rec, bias, mask = _inputs(8, 9, "float64", True, True)
    split(True)
    _, flat_split, _ = _run((x, h0, c0, kernel, rec, bias, mask), False, True)
    out, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, mask,
                                         go_backwards=False)
    partner.shutdown()
    dy = np.random.default_rng(3).uniform(-1, 1, out.shape)
    flat = recurrence.lstm_backward(dy, *saved, kernel, rec, mask, use_bias=True,
                                    go_backwards=False, need_x=True)
    np.testing.assert_array_equal(flat, flat_split)
    partner.shutdown()  # (The backward's call started a new one.) The next test starts afresh.


def test_partner_off_by_environment_or_one_thread(monkeypatch):
    monkeypatch.setattr(partner, "_available", None)
    monkeypatch.setenv("NUMPYFLOW_PARTNER", "0")
    assert partner.partner() is None
    monkeypatch.setattr(partner, "_available", None)
    monkeypatch.delenv("NUMPYFLOW_PARTNER")
    monkeypatch.setattr(partner.sys, "frozen", True, raising=False)  # e.g. PyInstaller
    assert partner.partner() is None
    monkeypatch.setattr(partner, "_available", None)
    monkeypatch.delattr(partner.sys, "frozen")
    import numpyflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)  # One core: no second process.
    try:
        assert partner.partner() is None
    finally:
        tf.config.threading.set_intra_op_parallelism_threads(0)


def test_keras_lstm_trains_the_same_split_and_whole(split):
    """A few training steps of a Keras LSTM model give the same weights either way."""
    import numpyflow as tf
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 7, 5)).astype("float32")
    y = rng.integers(0, 3, 64)
    weights = []
    for on in (False, True):
        split(on)
        tf.keras.utils.set_random_seed(1)
        model = tf.keras.Sequential([tf.keras.Input((7, 5)), tf.keras.layers.LSTM(16),
                                     tf.keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for whole, halves in zip(*weights):
        np.testing.assert_allclose(halves, whole, rtol=1e-4, atol=1e-5)


def test_two_threads_running_recurrences_at_once(split):
    """The partner serves one split at a time: a second thread's recurrence meanwhile
    computes both halves itself, and both get the right results."""
    import threading
    args = [_inputs(8, 6, "float64", True, True, seed=s) for s in range(2)]
    split(False)
    expected = [_run(a, False, True)[:2] for a in args]
    split(True)
    results, errors = [None] * 2, []

    def work(k):
        try:
            for _ in range(20):
                results[k] = _run(args[k], False, True)[:2]
        except Exception as error:  # Reported below.
            errors.append(error)
    workers = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    for (out, flat), (want_out, want_flat) in zip(results, expected):
        np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(flat, want_flat, rtol=1e-12, atol=1e-12)


def test_partner_unavailable_where_no_process_can_start(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no processes here")
    partner.shutdown()
    monkeypatch.setattr(partner, "_available", None)
    monkeypatch.setattr(partner, "Partner", refuse)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    assert partner.partner() is None and partner._available is False
    monkeypatch.setattr(partner, "_available", None)


def test_ctrl_c_in_a_terminal_does_not_stop_the_partner(split):
    """A terminal's Ctrl-C reaches the whole process group; the partner leaves it to the
    calling process and keeps serving."""
    args = _inputs(8, 6, "float64", True, False)
    split(False)
    expected = _run(args, False, True)[:2]
    helper = split(True)
    os.kill(helper._process.pid, signal.SIGINT)
    time.sleep(0.2)
    assert helper._process.poll() is None
    out, flat, gates = _run(args, False, True)
    assert gates.ndim == 5 and helper.alive
    np.testing.assert_allclose(out, expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(flat, expected[1], rtol=1e-12, atol=1e-12)
