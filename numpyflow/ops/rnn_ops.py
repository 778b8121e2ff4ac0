"""Fused recurrences: a whole SimpleRNN, LSTM or GRU pass over time as one primitive.

Each primitive runs the recurrence in NumPy over the timesteps of a batch-major input
`x` (batch, time, features): the input projection `x @ kernel (+ bias)` for all steps in
one GEMM, then one `(batch, units) @ (units, k * units)` GEMM per step. Its output is the
state after every step, batch-major, in processing order (reversed time when
`go_backwards`): (batch, time, units) for SimpleRNN and GRU, (batch, time, 2 * units) for
LSTM (`[h, c]` side by side). Keras layers slice it into the sequence, the last output and
the final states with ordinary ops, so the gradient of any of them reaches this op.

Masks are boolean (batch, time): at a masked step every state is carried over unchanged
(Keras's `backend.rnn`). The gradient is backpropagation through time in NumPy, as one
more primitive (`...SequenceGrad`) returning all input gradients packed in one flat vector;
under an outer recording tape (higher derivatives) the gradient is instead taken through
the same recurrence written with numpyflow ops, so it stays differentiable.

Keras's weight layouts: kernel (features, k * units), recurrent_kernel (units, k * units),
gate order i, f, c, o for LSTM and z, r, h for GRU; GRU's bias is (2, 3 * units) with
`reset_after` (input bias, recurrent bias) and (3 * units,) without.

These ops are internal (TF has no public fused-RNN op of these names): the Keras layers in
`numpyflow/keras/layers/rnn/` call them.

>>> import numpy as np, numpyflow as tf
>>> x = tf.ones((2, 3, 4)); h0 = tf.zeros((2, 5))
>>> simple_rnn_sequence(x, h0, tf.ones((4, 5)) * .1, tf.zeros((5, 5)), None).shape
TensorShape([2, 3, 5])
"""

from numpyflow.backend import blas, xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import tape as _tape
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor

# The activations the fused ops compute (LSTM and GRU: tanh with sigmoid gates). Layers with
# other activations run their cell step by step instead.
FUSED_ACTIVATIONS = {"SimpleRNN": ("tanh", "relu"), "LSTM": ("tanh",), "GRU": ("tanh",)}


# -- shared pieces ------------------------------------------------------------------------

def _sigmoid(z, out=None):
    """Logistic sigmoid as 0.5 * tanh(z / 2) + 0.5: no overflow, one transcendental."""
    out = xp.multiply(z, 0.5, out=out)
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _step_threads(batch, units, gates):
    """Sets BLAS's thread count for the whole op from its per-step product (batch, units) @
    (units, gates * units): one thread at the usual sizes (see backend/blas.py).

    The op's few larger products (x @ kernel for all steps, the weight gradients summed
    over time) run with the same count: measured on the 2 busy cores here, a second
    OpenBLAS thread made the (896, 128).T @ (896, 512) weight gradient 5x slower (34 ms
    against 6 ms), which cost more than all the rest of the step.
    """
    blas.use_threads_for(batch * units * gates * units)


def _time_major(x, mask, go_backwards):
    """x as (time, batch, features) in processing order; mask as (time, batch, 1) bool.

    x is copied (contiguous for the GEMMs): the forward saves it for the gradient, and a
    view would share the input's buffer, which a compiled plan may reuse once it is dead.
    """
    xt = x.transpose(1, 0, 2)
    mt = None if mask is None else mask.T[:, :, None]
    if go_backwards:
        xt = xt[::-1]
        mt = None if mt is None else mt[::-1]
    return xp.ascontiguousarray(xt), mt


def _mask_time_major(mask, go_backwards):
    """The (batch, time) mask as (time, batch, 1), in processing order."""
    mt = mask.T[:, :, None]
    return mt[::-1] if go_backwards else mt


def _project(xt, kernel, bias, recurrent_kernel):
    """xt @ kernel (+ bias) for all steps at once: (time, batch, k * units); sets the op's
    BLAS threads first."""
    steps, batch, features = xt.shape
    units = recurrent_kernel.shape[0]
    _step_threads(batch, units, recurrent_kernel.shape[1] // max(units, 1))
    z = xp.matmul(xt.reshape(steps * batch, features), kernel)
    if bias is not None:
        z += bias
    return z.reshape(steps, batch, kernel.shape[1])


def _input_grads(dz_x, xt, kernel, go_backwards, need_x):
    """dx (batch-major, input order; None unless `need_x`) and dkernel from d(x @ kernel)
    in time-major order."""
    steps, batch, features = xt.shape
    flat = dz_x.reshape(steps * batch, -1)
    dkernel = xp.matmul(xt.reshape(steps * batch, features).T, flat)
    if not need_x:
        return None, dkernel
    dxt = xp.matmul(flat, kernel.T).reshape(steps, batch, features)
    if go_backwards:
        dxt = dxt[::-1]
    return xp.ascontiguousarray(dxt.transpose(1, 0, 2)), dkernel


def _outer_sum(a, b):
    """sum over steps of a[s].T @ b[s] for (time, batch, m) and (time, batch, n): one GEMM."""
    return xp.matmul(a.reshape(-1, a.shape[-1]).T, b.reshape(-1, b.shape[-1]))


def _bias_grad(d):
    """Sum of (time, batch, k) over time and batch, as one GEMV."""
    return blas.column_sums(xp.ascontiguousarray(d).reshape(-1, d.shape[-1]))


def sequence_parts(arrays, kind, use_bias, masked):
    """A recurrence primitive's positional inputs as a dict: "x", "h0", ("c0",) "kernel",
    "recurrent_kernel", "bias" and "mask" (None where the attrs say there is none). The
    forwards, the gradient rules and the exporters read them by these names."""
    names = ["x", "h0"] + (["c0"] if kind == "LSTM" else []) + ["kernel", "recurrent_kernel"]
    names += (["bias"] if use_bias else []) + (["mask"] if masked else [])
    if len(arrays) != len(names):
        raise ValueError(f"{kind}Sequence expects the inputs {names}; received "
                         f"{len(arrays)} arrays.")
    parts = dict(zip(names, arrays))
    parts.setdefault("bias", None)
    parts.setdefault("mask", None)
    return parts


# -- SimpleRNN --------------------------------------------------------------------------

def _simple_forward(*arrays, activation, use_bias, masked, go_backwards):
    p = sequence_parts(arrays, "SimpleRNN", use_bias, masked)
    xt, mt = _time_major(p["x"], p["mask"], go_backwards)
    u = p["recurrent_kernel"]
    z = _project(xt, p["kernel"], p["bias"], p["recurrent_kernel"])
    steps, batch, units = z.shape
    states = xp.empty((steps + 1, batch, units), dtype=z.dtype)
    states[0] = p["h0"]
    activated = xp.empty_like(z)  # The new state before masking (for the gradient).
    for s in range(steps):
        a = xp.matmul(states[s], u, out=activated[s])
        a += z[s]
        if activation == "tanh":
            xp.tanh(a, out=a)
        else:
            xp.maximum(a, 0, out=a)
        states[s + 1] = a if mt is None else xp.where(mt[s], a, states[s])
    return states[1:].transpose(1, 0, 2), (xt, states, activated)


def _simple_backward(dy, xt, states, activated, kernel, recurrent_kernel, *mask,
                     activation, use_bias, go_backwards, need_x=True):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    dyt = dy.transpose(1, 0, 2)
    steps, batch, units = activated.shape
    da_all = xp.empty_like(activated)
    dh = xp.zeros((batch, units), dtype=dy.dtype)
    u_t = recurrent_kernel.T
    _step_threads(batch, units, 1)
    for s in range(steps - 1, -1, -1):
        dh = dh + dyt[s]
        if mt is not None:
            dh_new = dh * mt[s]
            dh_keep = dh - dh_new
        else:
            dh_new = dh
        a = activated[s]
        da = da_all[s]
        if activation == "tanh":
            xp.multiply(dh_new, 1 - a * a, out=da)
        else:
            xp.multiply(dh_new, a > 0, out=da)
        dh = xp.matmul(da, u_t)
        if mt is not None:
            dh += dh_keep
    dx, dkernel = _input_grads(da_all, xt, kernel, go_backwards, need_x)
    pieces = [dx, dh, dkernel, _outer_sum(states[:-1], da_all)]
    if use_bias:
        pieces.append(_bias_grad(da_all))
    return xp.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- LSTM -------------------------------------------------------------------------------

def _lstm_forward(*arrays, use_bias, masked, go_backwards):
    p = sequence_parts(arrays, "LSTM", use_bias, masked)
    xt, mt = _time_major(p["x"], p["mask"], go_backwards)
    z = _project(xt, p["kernel"], p["bias"], p["recurrent_kernel"])
    steps, batch, four = z.shape
    n = four // 4
    # sigmoid(v) = 0.5 * tanh(v / 2) + 0.5: halving the i, f, o columns of the projections
    # (exact in floating point) lets one tanh over all four gates activate them.
    scale = xp.full(four, 0.5, dtype=z.dtype)
    scale[2 * n:3 * n] = 1
    offset = xp.where(scale == 1, 0, 0.5).astype(z.dtype)
    z *= scale
    u = p["recurrent_kernel"] * scale
    states = xp.empty((steps + 1, batch, 2 * n), dtype=z.dtype)  # [h, c] per step.
    states[0, :, :n] = p["h0"]
    states[0, :, n:] = p["c0"]
    gates = xp.empty_like(z)  # Activated i, f, g (candidate), o.
    tanh_c = xp.empty((steps, batch, n), dtype=z.dtype)
    for s in range(steps):
        h, c = states[s, :, :n], states[s, :, n:]
        g = xp.matmul(h, u, out=gates[s])
        g += z[s]
        xp.tanh(g, out=g)
        g *= scale
        g += offset
        new_h, new_c = states[s + 1, :, :n], states[s + 1, :, n:]
        xp.multiply(g[:, n:2 * n], c, out=new_c)
        new_c += g[:, :n] * g[:, 2 * n:3 * n]
        xp.tanh(new_c, out=tanh_c[s])
        xp.multiply(g[:, 3 * n:], tanh_c[s], out=new_h)
        if mt is not None:
            keep = mt[s]
            xp.copyto(new_h, h, where=~keep)
            xp.copyto(new_c, c, where=~keep)
    return states[1:].transpose(1, 0, 2), (xt, states, gates, tanh_c)


def _lstm_backward(dy, xt, states, gates, tanh_c, kernel, recurrent_kernel, *mask,
                   use_bias, go_backwards, need_x=True):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    dyt = dy.transpose(1, 0, 2)
    steps, batch, four = gates.shape
    n = four // 4
    # The local derivatives of every step at once (vectorized over time):
    #   d c'/d z = [cand * i(1-i), c * f(1-f), i (1-cand^2)] (for i, f, cand), times dc_total,
    #   d h'/d z_o = tanh(c') o(1-o), d h'/d c' = o (1 - tanh(c')^2).
    g4 = gates.reshape(steps, batch, 4, n)
    i, f, cand, o = g4[:, :, 0], g4[:, :, 1], g4[:, :, 2], g4[:, :, 3]
    through_c = xp.empty((steps, batch, 3, n), dtype=gates.dtype)
    xp.multiply(cand, i * (1 - i), out=through_c[:, :, 0])
    xp.multiply(states[:-1, :, n:], f * (1 - f), out=through_c[:, :, 1])
    xp.multiply(i, 1 - cand * cand, out=through_c[:, :, 2])
    through_o = tanh_c * (o * (1 - o))
    h_to_c = o * (1 - tanh_c * tanh_c)
    dz_all = xp.empty_like(gates)
    dz4 = dz_all.reshape(steps, batch, 4, n)
    dh = xp.zeros((batch, n), dtype=dy.dtype)
    dc = xp.zeros((batch, n), dtype=dy.dtype)
    u_t = recurrent_kernel.T
    _step_threads(batch, n, 4)
    # Steps whose output gradient is zero (all but the last without return_sequences).
    live = dy.any(axis=(0, 2))
    for s in range(steps - 1, -1, -1):
        if live[s]:
            dh += dyt[s, :, :n]
            dc += dyt[s, :, n:]
        if mt is not None:
            dh_new, dc_new = dh * mt[s], dc * mt[s]
            dh_keep, dc_keep = dh - dh_new, dc - dc_new
        else:
            dh_new, dc_new = dh, dc
        dcn = dh_new * h_to_c[s]
        dcn += dc_new
        xp.multiply(dcn[:, None, :], through_c[s], out=dz4[s, :, :3])
        xp.multiply(dh_new, through_o[s], out=dz4[s, :, 3])
        dc = dcn * f[s]
        dh = xp.matmul(dz_all[s], u_t)
        if mt is not None:
            dh += dh_keep
            dc += dc_keep
    dx, dkernel = _input_grads(dz_all, xt, kernel, go_backwards, need_x)
    pieces = [dx, dh, dc, dkernel, _outer_sum(states[:-1, :, :n], dz_all)]
    if use_bias:
        pieces.append(_bias_grad(dz_all))
    return xp.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- GRU --------------------------------------------------------------------------------

def _gru_forward(*arrays, use_bias, masked, go_backwards, reset_after):
    p = sequence_parts(arrays, "GRU", use_bias, masked)
    xt, mt = _time_major(p["x"], p["mask"], go_backwards)
    u, bias = p["recurrent_kernel"], p["bias"]
    input_bias, recurrent_bias = (bias[0], bias[1]) if (reset_after and use_bias) else (bias, None)
    z = _project(xt, p["kernel"], input_bias, u)
    steps, batch, three = z.shape
    n = three // 3
    states = xp.empty((steps + 1, batch, n), dtype=z.dtype)
    states[0] = p["h0"]
    gates = xp.empty_like(z)       # Activated z (update), r (reset), hh (candidate).
    recurrent = xp.empty((steps, batch, n), dtype=z.dtype)  # h @ U_h (+ b) or r * h.
    for s in range(steps):
        h = states[s]
        g = gates[s]
        if reset_after:
            inner = xp.matmul(h, u)
            if recurrent_bias is not None:
                inner += recurrent_bias
            xp.add(z[s, :, :2 * n], inner[:, :2 * n], out=g[:, :2 * n])
            _sigmoid(g[:, :2 * n], out=g[:, :2 * n])
            recurrent[s] = inner[:, 2 * n:]
            xp.tanh(z[s, :, 2 * n:] + g[:, n:2 * n] * recurrent[s], out=g[:, 2 * n:])
        else:
            xp.add(z[s, :, :2 * n], xp.matmul(h, u[:, :2 * n]), out=g[:, :2 * n])
            _sigmoid(g[:, :2 * n], out=g[:, :2 * n])
            xp.multiply(g[:, n:2 * n], h, out=recurrent[s])
            xp.tanh(z[s, :, 2 * n:] + xp.matmul(recurrent[s], u[:, 2 * n:]), out=g[:, 2 * n:])
        update, cand = g[:, :n], g[:, 2 * n:]
        new_h = cand + update * (h - cand)
        states[s + 1] = new_h if mt is None else xp.where(mt[s], new_h, h)
    return states[1:].transpose(1, 0, 2), (xt, states, gates, recurrent)


def _gru_backward(dy, xt, states, gates, recurrent, kernel, recurrent_kernel, *mask,
                  use_bias, go_backwards, reset_after, need_x=True):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    dyt = dy.transpose(1, 0, 2)
    steps, batch, three = gates.shape
    n = three // 3
    dx_all = xp.empty_like(gates)                           # d of x @ kernel (+ input bias).
    dinner_all = xp.empty_like(gates) if reset_after else None  # d of h @ U (+ rec. bias).
    dh = xp.zeros((batch, n), dtype=dy.dtype)
    u = recurrent_kernel
    _step_threads(batch, n, 3)
    for s in range(steps - 1, -1, -1):
        dh = dh + dyt[s]
        if mt is not None:
            dh_new = dh * mt[s]
            dh_keep = dh - dh_new
        else:
            dh_new = dh
        h = states[s]
        g = gates[s]
        update, reset, cand = g[:, :n], g[:, n:2 * n], g[:, 2 * n:]
        dxs = dx_all[s]
        dcand_pre = dxs[:, 2 * n:]
        xp.multiply(dh_new * (1 - update), 1 - cand * cand, out=dcand_pre)
        xp.multiply(dh_new * (h - cand), update * (1 - update), out=dxs[:, :n])
        dh_prev = dh_new * update
        if reset_after:
            xp.multiply(dcand_pre * recurrent[s], reset * (1 - reset), out=dxs[:, n:2 * n])
            dinner = dinner_all[s]
            dinner[:, :2 * n] = dxs[:, :2 * n]
            xp.multiply(dcand_pre, reset, out=dinner[:, 2 * n:])
            dh_prev += xp.matmul(dinner, u.T)
        else:
            drh = xp.matmul(dcand_pre, u[:, 2 * n:].T)     # d of (r * h).
            xp.multiply(drh * h, reset * (1 - reset), out=dxs[:, n:2 * n])
            dh_prev += drh * reset
            dh_prev += xp.matmul(dxs[:, :2 * n], u[:, :2 * n].T)
        dh = dh_prev + dh_keep if mt is not None else dh_prev
    dx, dkernel = _input_grads(dx_all, xt, kernel, go_backwards, need_x)
    if reset_after:
        drecurrent = _outer_sum(states[:-1], dinner_all)
    else:
        drecurrent = xp.concatenate([_outer_sum(states[:-1], dx_all[:, :, :2 * n]),
                                     _outer_sum(recurrent, dx_all[:, :, 2 * n:])], axis=1)
    pieces = [dx, dh, dkernel, drecurrent]
    if use_bias:
        dbias = _bias_grad(dx_all)
        pieces.append(xp.stack([dbias, _bias_grad(dinner_all)]) if reset_after else dbias)
    return xp.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- the same recurrences with numpyflow ops (for higher derivatives) ----------------------

def _composed(kind, inputs, attrs):
    """The forward's output computed with differentiable numpyflow ops, step by step."""
    from numpyflow.ops import activation_ops, array_ops, indexing_ops, math_ops
    p = sequence_parts(inputs, kind, attrs["use_bias"], attrs["masked"])
    x, kernel, u, bias, mask = p["x"], p["kernel"], p["recurrent_kernel"], p["bias"], p["mask"]
    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if attrs["go_backwards"] else range(steps)
    sigmoid, tanh, matmul = activation_ops.sigmoid, activation_ops.tanh, math_ops.matmul
    states = [p["h0"]] + ([p["c0"]] if kind == "LSTM" else [])
    n = states[0].shape[-1]
    outputs = []
    for t in order:
        h = states[0]
        xw = matmul(x[:, t], kernel)
        if kind == "SimpleRNN":
            a = xw + matmul(h, u) + (bias if bias is not None else 0.)
            new = [tanh(a) if attrs["activation"] == "tanh" else activation_ops.relu(a)]
        elif kind == "LSTM":
            zz = xw + matmul(h, u) + (bias if bias is not None else 0.)
            i, f = sigmoid(zz[:, :n]), sigmoid(zz[:, n:2 * n])
            cand, o = tanh(zz[:, 2 * n:3 * n]), sigmoid(zz[:, 3 * n:])
            c = f * states[1] + i * cand
            new = [o * tanh(c), c]
        else:
            reset_after = attrs["reset_after"]
            if bias is not None:
                xw = xw + (bias[0] if reset_after else bias)
            if reset_after:
                inner = matmul(h, u) + (bias[1] if bias is not None else 0.)
            else:
                inner = matmul(h, u[:, :2 * n])
            update = sigmoid(xw[:, :n] + inner[:, :n])
            reset = sigmoid(xw[:, n:2 * n] + inner[:, n:2 * n])
            rec = reset * inner[:, 2 * n:] if reset_after else matmul(reset * h, u[:, 2 * n:])
            cand = tanh(xw[:, 2 * n:] + rec)
            new = [update * h + (1. - update) * cand]
        if mask is not None:
            keep = array_ops.reshape(mask[:, t], (-1, 1))
            new = [indexing_ops.where(keep, a, b) for a, b in zip(new, states)]
        states = new
        outputs.append(array_ops.concat(states, axis=-1) if kind == "LSTM" else states[0])
    return array_ops.stack(outputs, axis=1)


# -- primitives and their gradient rules -------------------------------------------------

def _unpack(flat, shapes):
    """Splits the backward's flat vector into Tensors of `shapes` (numpyflow ops)."""
    from numpyflow.ops import array_ops
    grads, start = [], 0
    for shape in shapes:
        size = int(xp.prod(shape))
        grads.append(array_ops.reshape(flat[start:start + size], shape))
        start += size
    return grads


def _gradient_rule(kind, backward):
    def gradient(node, dy):
        attrs = node.attrs
        inputs = node.inputs
        if _tape.is_recording():
            from numpyflow.framework.tape import GradientTape
            sources = [t for t in inputs if t.dtype.is_floating]
            with GradientTape() as inner:
                for t in sources:
                    inner.watch(t)
                out = _composed(kind, inputs, attrs)
            grads = iter(inner.gradient(out, sources, output_gradients=dy))
            return tuple(next(grads) if t.dtype.is_floating else None for t in inputs)
        parts = sequence_parts(inputs, kind, attrs["use_bias"], attrs["masked"])
        saved = [Tensor(a) for a in node.saved]
        extra = {key: value for key, value in attrs.items() if key != "masked"}
        need_x = bool(node.needs[0]) if node.needs is not None else True
        mask = [parts["mask"]] if attrs["masked"] else []
        flat = backward(dy, *saved, parts["kernel"], parts["recurrent_kernel"], *mask,
                        need_x=need_x, **extra)
        # The flat vector holds, in order, the gradient of each float input (x only when
        # needed: skipping dx saves a GEMM when x is the model's data).
        wanted = [t.dtype.is_floating and (i > 0 or need_x) for i, t in enumerate(inputs)]
        grads = iter(_unpack(flat, [tuple(t.shape) for t, w in zip(inputs, wanted) if w]))
        return tuple(next(grads) if w else None for w in wanted)
    return gradient


SimpleRNNSequenceGrad = Primitive("SimpleRNNSequenceGrad", quiet(_simple_backward))
LSTMSequenceGrad = Primitive("LSTMSequenceGrad", quiet(_lstm_backward))
GRUSequenceGrad = Primitive("GRUSequenceGrad", quiet(_gru_backward))

SimpleRNNSequence = Primitive("SimpleRNNSequence", quiet(_simple_forward),
                              _gradient_rule("SimpleRNN", SimpleRNNSequenceGrad), saves=True)
LSTMSequence = Primitive("LSTMSequence", quiet(_lstm_forward),
                         _gradient_rule("LSTM", LSTMSequenceGrad), saves=True)
GRUSequence = Primitive("GRUSequence", quiet(_gru_forward),
                        _gradient_rule("GRU", GRUSequenceGrad), saves=True)


# -- entry points ------------------------------------------------------------------------

def _check(kind, x, states, kernel, recurrent_kernel, bias, mask, gates, bias_shape):
    """Shape checks with messages naming the op, what was received and what was expected."""
    if x.shape.rank != 3:
        raise ValueError(f"{kind}Sequence: inputs must be 3-D (batch, time, features). "
                         f"Received: inputs.shape={tuple(x.shape)}")
    named = [("inputs", x)] + [(f"initial state {i}", s) for i, s in enumerate(states)]
    named += [("kernel", kernel), ("recurrent_kernel", recurrent_kernel), ("bias", bias)]
    for name, value in named:
        if value is not None and (not value.dtype.is_floating or value.dtype != x.dtype):
            raise TypeError(f"{kind}Sequence: inputs, states and weights must share one float "
                            f"dtype. Received: inputs.dtype={x.dtype.name}, "
                            f"{name}.dtype={value.dtype.name}")
    batch, _, features = x.shape
    units = recurrent_kernel.shape[0]
    expected = {"kernel": (features, gates * units),
                "recurrent_kernel": (units, gates * units)}
    for name, value in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel)):
        if tuple(value.shape) != expected[name]:
            raise ValueError(f"{kind}Sequence: {name} must have shape {expected[name]}. "
                             f"Received: {name}.shape={tuple(value.shape)}")
    for i, state in enumerate(states):
        if tuple(state.shape) != (batch, units):
            raise ValueError(f"{kind}Sequence: initial state {i} must have shape "
                             f"{(batch, units)}. Received: shape={tuple(state.shape)}")
    if bias is not None and tuple(bias.shape) != bias_shape(units):
        raise ValueError(f"{kind}Sequence: bias must have shape {bias_shape(units)}. "
                         f"Received: bias.shape={tuple(bias.shape)}")
    if mask is not None and tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(f"{kind}Sequence: mask must have shape {tuple(x.shape[:2])} "
                         f"(batch, time). Received: mask.shape={tuple(mask.shape)}")


def _mask_input(mask):
    from numpyflow.ops import math_ops
    if mask is None:
        return []
    return [mask if mask.dtype.is_bool else math_ops.cast(mask, "bool")]


def simple_rnn_sequence(x, h0, kernel, recurrent_kernel, bias, mask=None, activation="tanh",
                        go_backwards=False):
    """The states of a SimpleRNN after every step: (batch, time, units), processing order.

    `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`, with
    `activation` "tanh" or "relu"; `bias` may be None.
    """
    from numpyflow.ops._convert import tensor
    x, h0, kernel, recurrent_kernel = map(tensor, (x, h0, kernel, recurrent_kernel))
    bias = None if bias is None else tensor(bias)
    mask = None if mask is None else tensor(mask)
    if activation not in FUSED_ACTIVATIONS["SimpleRNN"]:
        raise ValueError(f"SimpleRNNSequence: activation must be one of "
                         f"{FUSED_ACTIVATIONS['SimpleRNN']}. Received: activation={activation!r}")
    _check("SimpleRNN", x, [h0], kernel, recurrent_kernel, bias, mask, 1, lambda u: (u,))
    inputs = [x, h0, kernel, recurrent_kernel] + ([bias] if bias is not None else [])
    return SimpleRNNSequence(*inputs, *_mask_input(mask), activation=activation,
                             use_bias=bias is not None, masked=mask is not None,
                             go_backwards=bool(go_backwards))


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias, mask=None, go_backwards=False):
    """The states `[h, c]` of an LSTM after every step: (batch, time, 2 * units).

    Gate order i, f, c, o (Keras's layout); tanh activation, sigmoid recurrent activation.
    """
    from numpyflow.ops._convert import tensor
    x, h0, c0, kernel, recurrent_kernel = map(tensor, (x, h0, c0, kernel, recurrent_kernel))
    bias = None if bias is None else tensor(bias)
    mask = None if mask is None else tensor(mask)
    _check("LSTM", x, [h0, c0], kernel, recurrent_kernel, bias, mask, 4, lambda u: (4 * u,))
    inputs = [x, h0, c0, kernel, recurrent_kernel] + ([bias] if bias is not None else [])
    return LSTMSequence(*inputs, *_mask_input(mask), use_bias=bias is not None,
                        masked=mask is not None, go_backwards=bool(go_backwards))


def gru_sequence(x, h0, kernel, recurrent_kernel, bias, mask=None, go_backwards=False,
                 reset_after=True):
    """The states of a GRU after every step: (batch, time, units), processing order.

    Gate order z, r, h (Keras's layout); with `reset_after` the reset gate multiplies
    `h @ U_h + b_h`, else it multiplies `h` before the product; bias (2, 3 * units) with
    `reset_after`, (3 * units,) without.
    """
    from numpyflow.ops._convert import tensor
    x, h0, kernel, recurrent_kernel = map(tensor, (x, h0, kernel, recurrent_kernel))
    bias = None if bias is None else tensor(bias)
    mask = None if mask is None else tensor(mask)
    shape = (lambda u: (2, 3 * u)) if reset_after else (lambda u: (3 * u,))
    _check("GRU", x, [h0], kernel, recurrent_kernel, bias, mask, 3, shape)
    inputs = [x, h0, kernel, recurrent_kernel] + ([bias] if bias is not None else [])
    return GRUSequence(*inputs, *_mask_input(mask), use_bias=bias is not None,
                       masked=mask is not None, go_backwards=bool(go_backwards),
                       reset_after=bool(reset_after))
