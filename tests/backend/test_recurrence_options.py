"""What the recurrence gradients skip when the graph needs less (backend/numpy/recurrence.py):
`need_states=False` (no initial states' gradients, so no product at the last step back),
`dy_slice` (the output gradient as one step's slice, see framework/fusion.py), and a zero
initial h (the forward's step 0 and the recurrent kernel's gradient skip its product).
The LSTM's run whole, through its side thread and split across the partner process, the
GRU's and SimpleRNN's whole and split, each against the full computation. tests/ops/cases_rnn.py pins the full computation to NumPy
references and finite differences."""

import numpy as np
import pytest

from numpyflow.backend.numpy import recurrence
from tests.backend.test_partner import _other_inputs, other_kernels, split  # noqa: F401
from tests.backend.test_recurrence_pipeline import F, U, _inputs, pipeline  # noqa: F401


@pytest.fixture(params=["whole", "pipelined", "split"])
def path(request, split, pipeline):  # noqa: F811
    """The LSTM kernels' three paths: the whole loop, with the side thread, or split."""
    pipeline(request.param == "pipelined", 2)
    split(request.param == "split")
    return request.param


def lstm(args, dy, go_backwards=False, **options):
    """The LSTM forward's saved gates and the backward's flat vector for upstream `dy`."""
    x, h0, c0, kernel, rec, bias, mask = args
    _, saved = recurrence.lstm_forward(x, h0, c0, kernel, rec, bias, mask,
                                       go_backwards=go_backwards)
    flat = recurrence.lstm_backward(dy, *saved, kernel, rec, *([mask] if mask is not None else []),
                                    use_bias=bias is not None, go_backwards=go_backwards,
                                    **options)
    return saved[2], flat


def without_states(flat, args, count):
    """`flat` (dx first) less the `count` initial states' gradients."""
    x, h0 = args[0], args[1]
    return np.concatenate([flat[:x.size], flat[x.size + count * h0.size:]])


def upstream(args, seed=3):
    x = args[0]
    return np.random.default_rng(seed).uniform(-1, 1, (x.shape[0], x.shape[1], 2 * U)).astype(
        x.dtype)


@pytest.mark.parametrize("batch,steps", [(4, 17), (5, 3), (6, 1)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_without_initial_states_gradients(path, batch, steps, masked, go_backwards):
    args = _inputs(batch, steps, "float64", True, masked)
    dy = upstream(args)
    gates, full = lstm(args, dy, go_backwards)
    assert gates.ndim == (5 if path == "split" else 4)
    if path == "pipelined" and steps > 2:
        assert recurrence._pipelined(True, [(0, batch)], steps, batch, F, U, 4)
    _, fewer = lstm(args, dy, go_backwards, need_states=False)
    np.testing.assert_array_equal(fewer, without_states(full, args, 2))


@pytest.mark.parametrize("key", [(slice(None), -1, slice(0, U)), (slice(None), 0),
                                 (slice(1, 3), 4, slice(U, None)), (slice(None), -5)])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_gradient_of_one_step_slice(path, key, go_backwards, masked):
    args = _inputs(4, 11, "float32", True, masked)
    dense = np.zeros((4, 11, 2 * U), np.float32)
    dense[key] = upstream(args)[key]
    _, want = lstm(args, dense, go_backwards)
    _, got = lstm(args, dense[key], go_backwards, dy_slice=key)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("zero_c0", [False, True])
@pytest.mark.parametrize("steps", [1, 9, 16])
def test_lstm_split_from_a_zero_initial_h(split, zero_c0, steps):  # noqa: F811
    """A zero h0 skips step 0's product in the split forward, and its rows in the split
    recurrent kernel's gradient; the numbers are those of the whole computation."""
    x, h0, c0, kernel, rec, bias, mask = _inputs(6, steps, "float64", True, False)
    args = (x, np.zeros_like(h0), np.zeros_like(c0) if zero_c0 else c0, kernel, rec, bias, None)
    dy = upstream(args)
    split(False)
    _, whole = lstm(args, dy)
    split(True)
    gates, parts = lstm(args, dy)
    assert gates.ndim == 5
    np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=1e-12)


@pytest.fixture(params=[(kind, option, mode, masked)
                        for kind, option in [("gru", True), ("gru", False), ("simple", "tanh"),
                                             ("simple", "relu")]
                        for mode in ["whole", "split"] for masked in [False, True]],
                ids=lambda p: "-".join(map(str, p)))
def gru_or_simple(request, split):  # noqa: F811
    """A GRU or SimpleRNN forward (whole or split, masked or not) in float64: its output,
    (x, h0), and backward(dy, **options) for it."""
    kind, option, mode, masked = request.param
    x, h0, kernel, rec, bias, mask = _other_inputs(kind, 6, 5, "float64", True, masked,
                                                   option is True)
    split(mode == "split")
    forward, backward, extra = other_kernels(kind, option)
    out, saved = forward(x, h0, kernel, rec, bias, mask, go_backwards=False, **extra)
    masks = [mask] if mask is not None else []

    def run_backward(dy, **options):
        return backward(dy, *saved, kernel, rec, *masks, use_bias=True, go_backwards=False,
                        **options, **extra)
    return out, (x, h0), run_backward


def test_gru_and_simple_rnn_without_initial_state_gradient(gru_or_simple):
    out, args, backward = gru_or_simple
    dy = np.random.default_rng(3).uniform(-1, 1, out.shape)
    full, fewer = (backward(dy, need_states=need) for need in (True, False))
    np.testing.assert_array_equal(fewer, without_states(full, args, 1))


@pytest.mark.parametrize("key", [(slice(None), -1), (slice(1, 4), 2, slice(1, 3))])
def test_gru_and_simple_rnn_gradient_of_one_step_slice(gru_or_simple, key):
    out, _, backward = gru_or_simple
    dense = np.zeros(out.shape)
    dense[key] = np.random.default_rng(3).uniform(-1, 1, out.shape)[key]
    np.testing.assert_array_equal(backward(dense[key], dy_slice=key), backward(dense))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_weight_layouts_round_trip(dtype):
    """The LSTM kernels' own layouts of Keras's weights: gate-major with the sigmoid gates
    halved (`_gate_major`, a kernel and its bias stacked), and back to the recurrent
    kernel's transpose (`_keras_transposed`, the split backward's): exact both ways. And
    the inputs time-major with a ones column for the bias (`_time_major`)."""
    x, _, _, kernel, rec, bias, mask = _inputs(3, 4, dtype, True, True)
    u = recurrence._gate_major(np.empty, rec)
    np.testing.assert_array_equal(recurrence._keras_transposed(u), rec.T)
    stacked = recurrence._gate_major(np.empty, kernel, bias.reshape(1, -1))
    assert stacked.shape == (4, F + 1, U)
    for k, source in enumerate(recurrence._GATE_ORDER):  # i, f, o halved; cand as is.
        scale = 0.5 if k < 3 else 1
        gate = slice(source * U, (source + 1) * U)
        np.testing.assert_array_equal(stacked[k, :F], kernel[:, gate] * scale)
        np.testing.assert_array_equal(stacked[k, F], bias[gate] * scale)
    xt, mt = recurrence._time_major(x, mask, True, ones=True)
    np.testing.assert_array_equal(xt[..., :F], x.transpose(1, 0, 2)[::-1])
    np.testing.assert_array_equal(xt[..., F], 1)
    np.testing.assert_array_equal(mt[..., 0], mask.T[::-1])
