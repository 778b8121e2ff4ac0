"""Fused recurrences: a whole SimpleRNN, LSTM or GRU pass over time as one primitive.

Each primitive runs the recurrence over the timesteps of a batch-major input `x` (batch,
time, features) with the NumPy kernels of `backend/numpy/recurrence.py` (the input
projection for all steps first, then one GEMM per step; large batches on two cores).
Its output is the state after every step, batch-major, in processing order (reversed time
when `go_backwards`): (batch, time, units) for SimpleRNN and GRU, (batch, time, 2 * units)
for LSTM (`[h, c]` side by side). Keras layers slice it into the sequence, the last output
and the final states with ordinary ops, so the gradient of any of them reaches this op.

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

from numpyflow.backend import recurrence, xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import tape as _tape
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor

# The activations the fused ops compute (LSTM and GRU: tanh with sigmoid gates). Layers with
# other activations run their cell step by step instead.
FUSED_ACTIVATIONS = {"SimpleRNN": ("tanh", "relu"), "LSTM": ("tanh",), "GRU": ("tanh",)}


# -- inputs -----------------------------------------------------------------------------

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
    return recurrence.simple_forward(p["x"], p["h0"], p["kernel"], p["recurrent_kernel"],
                                     p["bias"], p["mask"], activation=activation,
                                     go_backwards=go_backwards)


# -- LSTM -------------------------------------------------------------------------------

def _lstm_forward(*arrays, use_bias, masked, go_backwards):
    p = sequence_parts(arrays, "LSTM", use_bias, masked)
    return recurrence.lstm_forward(p["x"], p["h0"], p["c0"], p["kernel"], p["recurrent_kernel"],
                                   p["bias"], p["mask"], go_backwards=go_backwards)


# -- GRU --------------------------------------------------------------------------------

def _gru_forward(*arrays, use_bias, masked, go_backwards, reset_after):
    p = sequence_parts(arrays, "GRU", use_bias, masked)
    return recurrence.gru_forward(p["x"], p["h0"], p["kernel"], p["recurrent_kernel"], p["bias"],
                                  p["mask"], go_backwards=go_backwards, reset_after=reset_after)


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
        states = range(1, 3 if kind == "LSTM" else 2)  # The initial states' inputs.
        needs = node.needs if node.needs is not None else [True] * len(inputs)
        need_x, need_states = bool(needs[0]), any(needs[i] for i in states)
        mask = [parts["mask"]] if attrs["masked"] else []
        flat = backward(dy, *saved, parts["kernel"], parts["recurrent_kernel"], *mask,
                        need_x=need_x, need_states=need_states, **extra)
        # The flat vector holds, in order, the gradient of each float input: x's only when
        # needed (skipping dx saves a GEMM when x is the model's data), the initial
        # states' only when needed (zeros a layer made need none: that saves the last
        # step's product with the recurrent kernel).
        wanted = [t.dtype.is_floating and (need_x if i == 0 else need_states if i in states
                                           else True) for i, t in enumerate(inputs)]
        grads = iter(_unpack(flat, [tuple(t.shape) for t, w in zip(inputs, wanted) if w]))
        return tuple(next(grads) if w else None for w in wanted)
    return gradient


SimpleRNNSequenceGrad = Primitive("SimpleRNNSequenceGrad", quiet(recurrence.simple_backward))
LSTMSequenceGrad = Primitive("LSTMSequenceGrad", quiet(recurrence.lstm_backward))
GRUSequenceGrad = Primitive("GRUSequenceGrad", quiet(recurrence.gru_backward))

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
