"""Op cases for numpyflow.ops.rnn_ops: the fused SimpleRNN, LSTM and GRU recurrences.

The references are plain NumPy loops over time written from the cell equations (batch-major,
one step at a time), independent of the fused code's time-major buffers. Each case changes
something in the math: go_backwards, a mask, no bias, relu, GRU's reset_after. The
`...SequenceGrad` cases check the fused backward against finite differences of the NumPy
reference; their own gradient check then runs the composed (higher-derivative) path.
"""

import numpy as np

import numpyflow as tf
from numpyflow.ops import rnn_ops
from tests.ops.opcheck import case, rand

B, T, F, U = 2, 3, 2, 2
MASK = np.array([[True, False, True], [False, True, True]])


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _order(steps, go_backwards):
    return range(steps - 1, -1, -1) if go_backwards else range(steps)


def np_simple(x, h0, kernel, rec, bias=None, mask=None, activation="tanh", go_backwards=False):
    h, outputs = h0, []
    for t in _order(x.shape[1], go_backwards):
        a = x[:, t] @ kernel + h @ rec + (0 if bias is None else bias)
        new = np.tanh(a) if activation == "tanh" else np.maximum(a, 0)
        h = new if mask is None else np.where(mask[:, t, None], new, h)
        outputs.append(h)
    return np.stack(outputs, 1)


def np_lstm(x, h0, c0, kernel, rec, bias=None, mask=None, go_backwards=False):
    n = h0.shape[1]
    h, c, outputs = h0, c0, []
    for t in _order(x.shape[1], go_backwards):
        z = x[:, t] @ kernel + h @ rec + (0 if bias is None else bias)
        i, f = _sig(z[:, :n]), _sig(z[:, n:2 * n])
        g, o = np.tanh(z[:, 2 * n:3 * n]), _sig(z[:, 3 * n:])
        new_c = f * c + i * g
        new_h = o * np.tanh(new_c)
        if mask is not None:
            new_h, new_c = (np.where(mask[:, t, None], a, b) for a, b in ((new_h, h), (new_c, c)))
        h, c = new_h, new_c
        outputs.append(np.concatenate([h, c], axis=1))
    return np.stack(outputs, 1)


def np_gru(x, h0, kernel, rec, bias=None, mask=None, go_backwards=False, reset_after=True):
    n = h0.shape[1]
    h, outputs = h0, []
    for t in _order(x.shape[1], go_backwards):
        bx = 0 if bias is None else (bias[0] if reset_after else bias)
        xz, xr, xh = np.split(x[:, t] @ kernel + bx, 3, axis=1)
        if reset_after:
            rz, rr, rh = np.split(h @ rec + (0 if bias is None else bias[1]), 3, axis=1)
            z, r = _sig(xz + rz), _sig(xr + rr)
            hh = np.tanh(xh + r * rh)
        else:
            z, r = _sig(xz + h @ rec[:, :n]), _sig(xr + h @ rec[:, n:2 * n])
            hh = np.tanh(xh + (r * h) @ rec[:, 2 * n:])
        new = z * h + (1 - z) * hh
        h = new if mask is None else np.where(mask[:, t, None], new, h)
        outputs.append(h)
    return np.stack(outputs, 1)


def _mask(m):
    return tf.constant(m)


def _vjp_reference(reference, upstream, step=1e-6):
    """The flat vector-Jacobian product of `reference` (NumPy), by central differences."""
    def vjp(*arrays):
        arrays = [np.array(a) for a in arrays]
        pieces = []
        for a in arrays:
            grad = np.zeros_like(a)
            flat, gflat = a.reshape(-1), grad.reshape(-1)
            for j in range(flat.size):
                saved = flat[j]
                flat[j] = saved + step
                plus = np.sum(reference(*arrays) * upstream)
                flat[j] = saved - step
                minus = np.sum(reference(*arrays) * upstream)
                flat[j] = saved
                gflat[j] = (plus - minus) / (2 * step)
            pieces.append(grad.ravel())
        return np.concatenate(pieces)
    return vjp


def _vjp_fn(fused, upstream):
    """The fused op's gradient for all inputs (runs the ...SequenceGrad primitive), flat."""
    def fn(*tensors):
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            out = fused(*tensors)
        grads = tape.gradient(out, list(tensors), output_gradients=tf.constant(upstream))
        return tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0)
    return fn


def _simple_case(id, with_bias=True, mask=None, **kw):
    args = [rand(B, T, F), rand(B, U), rand(F, U), rand(U, U)]
    if with_bias:
        args.append(rand(U))
        fn = lambda x, h, k, r, b: rnn_ops.simple_rnn_sequence(  # noqa: E731
            x, h, k, r, b, mask=None if mask is None else _mask(mask), **kw)
    else:
        fn = lambda x, h, k, r: rnn_ops.simple_rnn_sequence(  # noqa: E731
            x, h, k, r, None, mask=None if mask is None else _mask(mask), **kw)
    ref = lambda *a: np_simple(*a[:4], a[4] if with_bias else None, mask=mask, **kw)  # noqa: E731
    return case("SimpleRNNSequence", fn, ref, *args, id=id)


def _lstm_case(id, with_bias=True, mask=None, **kw):
    args = [rand(B, T, F), rand(B, U), rand(B, U), rand(F, 4 * U), rand(U, 4 * U)]
    if with_bias:
        args.append(rand(4 * U))
    fn = lambda x, h, c, k, r, *b: rnn_ops.lstm_sequence(  # noqa: E731
        x, h, c, k, r, b[0] if b else None, mask=None if mask is None else _mask(mask), **kw)
    ref = lambda *a: np_lstm(*a[:5], a[5] if with_bias else None, mask=mask, **kw)  # noqa: E731
    return case("LSTMSequence", fn, ref, *args, id=id)


def _gru_case(id, with_bias=True, mask=None, reset_after=True, **kw):
    args = [rand(B, T, F), rand(B, U), rand(F, 3 * U), rand(U, 3 * U)]
    if with_bias:
        args.append(rand(2, 3 * U) if reset_after else rand(3 * U))
    fn = lambda x, h, k, r, *b: rnn_ops.gru_sequence(  # noqa: E731
        x, h, k, r, b[0] if b else None, mask=None if mask is None else _mask(mask),
        reset_after=reset_after, **kw)
    ref = lambda *a: np_gru(*a[:4], a[4] if with_bias else None, mask=mask,  # noqa: E731
                            reset_after=reset_after, **kw)
    return case("GRUSequence", fn, ref, *args, id=id)


def _grad_case(primitive, fused, reference, args, id):
    upstream = np.random.default_rng(7).normal(size=reference(*args).shape)
    return case(primitive, _vjp_fn(fused, upstream), _vjp_reference(reference, upstream), *args,
                id=id, rtol=1e-5, atol=1e-6)


CASES = [
    _simple_case("simple_rnn_tanh"),
    _simple_case("simple_rnn_relu", activation="relu"),
    _simple_case("simple_rnn_no_bias", with_bias=False),
    _simple_case("simple_rnn_backwards", go_backwards=True),
    _simple_case("simple_rnn_mask", mask=MASK),
    _simple_case("simple_rnn_mask_backwards", mask=MASK, go_backwards=True),
    _lstm_case("lstm"),
    _lstm_case("lstm_no_bias", with_bias=False),
    _lstm_case("lstm_backwards", go_backwards=True),
    _lstm_case("lstm_mask", mask=MASK),
    _lstm_case("lstm_mask_backwards", mask=MASK, go_backwards=True),
    _gru_case("gru_reset_after"),
    _gru_case("gru_reset_before", reset_after=False),
    _gru_case("gru_no_bias", with_bias=False),
    _gru_case("gru_reset_before_no_bias", with_bias=False, reset_after=False),
    _gru_case("gru_backwards", go_backwards=True),
    _gru_case("gru_mask", mask=MASK),
    _gru_case("gru_reset_before_mask_backwards", mask=MASK, go_backwards=True, reset_after=False),
    _grad_case("SimpleRNNSequenceGrad",
               lambda x, h, k, r, b: rnn_ops.simple_rnn_sequence(x, h, k, r, b, mask=_mask(MASK)),
               lambda x, h, k, r, b: np_simple(x, h, k, r, b, mask=MASK),
               [rand(B, T, F), rand(B, U), rand(F, U), rand(U, U), rand(U)],
               "simple_rnn_grad_second_order"),
    _grad_case("LSTMSequenceGrad",
               lambda x, h, c, k, r, b: rnn_ops.lstm_sequence(x, h, c, k, r, b, mask=_mask(MASK)),
               lambda x, h, c, k, r, b: np_lstm(x, h, c, k, r, b, mask=MASK),
               [rand(B, T, F), rand(B, U), rand(B, U), rand(F, 4 * U), rand(U, 4 * U),
                rand(4 * U)], "lstm_grad_second_order"),
    _grad_case("GRUSequenceGrad",
               lambda x, h, k, r, b: rnn_ops.gru_sequence(x, h, k, r, b, go_backwards=True),
               lambda x, h, k, r, b: np_gru(x, h, k, r, b, go_backwards=True),
               [rand(B, T, F), rand(B, U), rand(F, 3 * U), rand(U, 3 * U), rand(2, 3 * U)],
               "gru_grad_second_order"),
]
