"""ONNX rules for the fused recurrences (SimpleRNN, LSTM, GRU), unrolled over time.

`LSTMSequence` and friends (`ops/rnn_ops.py`) return the state after *every* step,
batch-major, in processing order: `[h, c]` side by side for LSTM. ONNX's LSTM/GRU/RNN
operators return every h but only the last c, and order the gates differently, so the
rules here write the recurrence out step by step with plain ONNX operators instead: one
MatMul projects all steps' inputs, then each step is a few MatMul/Add/Sigmoid/Tanh nodes
and, with a mask, a Where that carries the state over. The number of steps is the traced
sequence length (fixed in the exported model); the batch stays dynamic.

Initial states that Keras made as zeros of the traced batch size become zeros of the
runtime batch size (ConstantOfShape); a non-zero constant initial state with a dynamic
batch is refused.

    >>> import numpyflow as tf
    >>> from numpyflow.export.onnx import export_onnx
    >>> import os, tempfile
    >>> model = tf.keras.Sequential([tf.keras.Input((3, 2)), tf.keras.layers.GRU(4)])
    >>> proto = export_onnx(model, os.path.join(tempfile.mkdtemp(), "gru.onnx"))
    >>> [node.op_type for node in proto.graph.node].count("Tanh")   # one per step
    3
"""

import numpy as np

from numpyflow.framework.graph import Constant
from numpyflow.ops import rnn_ops


def _parts(b, eq, kind):
    try:
        return rnn_ops.sequence_parts(eq.inputs, kind, eq.attrs["use_bias"], eq.attrs["masked"])
    except ValueError as error:
        b.fail(str(error))


class _Steps:
    """What every step of one recurrence reads: projected inputs, weights, mask."""

    def __init__(self, b, eq, parts, input_bias):
        self.b = b
        self.dtype = eq.output.dtype
        x = parts["x"]
        self.steps = int(b.shape(x)[1])
        self.go_backwards = bool(eq.attrs["go_backwards"])
        self.x = b.plain(x, self.dtype)
        projected = b.node("MatMul", [self.x, b.plain(parts["kernel"], self.dtype)])
        if input_bias is not None:
            projected = b.node("Add", [projected, input_bias])
        self.projected = projected           # (batch, time, k * units)
        self.mask = parts["mask"]
        self.batch_dynamic = 0 in b.dynamic(x)

    def time_index(self, step):
        return self.steps - 1 - step if self.go_backwards else step

    def at(self, tensor, step):
        """`tensor[:, t]` for the time index of processing step `step`."""
        index = self.b.scalar(self.time_index(step), np.int64, "t")
        return self.b.node("Gather", [tensor, index], axis=1)

    def carry(self, step, new, old):
        """`new` where the mask keeps the step, else `old` (no mask: `new`)."""
        if self.mask is None:
            return new
        keep = self.at(self.b.plain(self.mask, np.bool_), step)
        keep = self.b.node("Unsqueeze", [keep, self.b.int64s([1], "axes")])
        return self.b.node("Where", [keep, new, old])

    def initial(self, atom, units):
        """An initial state as an ONNX name: zeros of the runtime batch if Keras made zeros."""
        b = self.b
        if isinstance(atom, Constant):
            value = np.asarray(atom.value)
            if not np.any(value):
                shape = b.node("Concat", [b.node("Shape", [self.x], start=0, end=1),
                                          b.int64s([units], "units")], axis=0)
                return b.node("ConstantOfShape", [shape],
                              value=b.tensor_attribute(np.zeros(1, self.dtype)))
            if self.batch_dynamic:
                b.fail("its initial state is a constant of the traced batch size; export with "
                       "an input_signature that fixes the batch size.")
        return b.plain(atom, self.dtype)

    def columns(self, tensor, start, stop):
        b = self.b
        return b.node("Slice", [tensor, b.int64s([start], "starts"), b.int64s([stop], "ends"),
                                b.int64s([-1], "axes")])

    def stacked(self, per_step):
        """(batch, width) per step -> (batch, time, width), in processing order."""
        b = self.b
        axes = b.int64s([1], "axes")
        return b.node("Concat", [b.node("Unsqueeze", [s, axes]) for s in per_step], axis=1)


def simple_rnn(b, eq):
    parts = _parts(b, eq, "SimpleRNN")
    activation = eq.attrs["activation"]
    if activation not in ("tanh", "relu"):
        b.fail(f"activation={activation!r} is not one of the fused activations ('tanh', 'relu').")
    bias = None if parts["bias"] is None else b.plain(parts["bias"], eq.output.dtype)
    steps = _Steps(b, eq, parts, bias)
    units = int(eq.output.shape[-1])
    recurrent = b.plain(parts["recurrent_kernel"], steps.dtype)
    h = steps.initial(parts["h0"], units)
    outputs = []
    for step in range(steps.steps):
        a = b.node("Add", [steps.at(steps.projected, step), b.node("MatMul", [h, recurrent])])
        new = b.node("Tanh" if activation == "tanh" else "Relu", [a])
        h = steps.carry(step, new, h)
        outputs.append(h)
    b.define(eq.output, steps.stacked(outputs))


def lstm(b, eq):
    parts = _parts(b, eq, "LSTM")
    bias = None if parts["bias"] is None else b.plain(parts["bias"], eq.output.dtype)
    steps = _Steps(b, eq, parts, bias)
    n = int(eq.output.shape[-1]) // 2
    recurrent = b.plain(parts["recurrent_kernel"], steps.dtype)
    h, c = steps.initial(parts["h0"], n), steps.initial(parts["c0"], n)
    outputs = []
    for step in range(steps.steps):
        # Keras's gate order: i, f, c (candidate), o.
        g = b.node("Add", [steps.at(steps.projected, step), b.node("MatMul", [h, recurrent])])
        i, f, o = (b.node("Sigmoid", [steps.columns(g, k * n, (k + 1) * n)]) for k in (0, 1, 3))
        candidate = b.node("Tanh", [steps.columns(g, 2 * n, 3 * n)])
        new_c = b.node("Add", [b.node("Mul", [f, c]), b.node("Mul", [i, candidate])])
        new_h = b.node("Mul", [o, b.node("Tanh", [new_c])])
        h, c = steps.carry(step, new_h, h), steps.carry(step, new_c, c)
        outputs.append(b.node("Concat", [h, c], axis=1))
    b.define(eq.output, steps.stacked(outputs))


def gru(b, eq):
    parts = _parts(b, eq, "GRU")
    reset_after = bool(eq.attrs["reset_after"])
    dtype = eq.output.dtype
    input_bias = recurrent_bias = None
    bias = parts["bias"]
    if bias is not None:
        if reset_after:   # (2, 3 * units): input bias, recurrent bias.
            if not isinstance(bias, Constant):
                b.fail("a GRU bias computed in the graph is not supported (expected weights).")
            value = np.asarray(bias.value, dtype)
            input_bias = b.constant(value[0], f"{bias.name}_input")
            recurrent_bias = b.constant(value[1], f"{bias.name}_recurrent")
        else:
            input_bias = b.plain(bias, dtype)
    steps = _Steps(b, eq, parts, input_bias)
    n = int(eq.output.shape[-1])
    u = parts["recurrent_kernel"]
    recurrent = b.plain(u, dtype)
    if not reset_after:
        u_gates, u_candidate = steps.columns(recurrent, 0, 2 * n), steps.columns(recurrent, 2 * n,
                                                                                 3 * n)
    h = steps.initial(parts["h0"], n)
    outputs = []
    for step in range(steps.steps):
        # Keras's gate order: z (update), r (reset), h (candidate).
        z = steps.at(steps.projected, step)
        if reset_after:
            inner = b.node("MatMul", [h, recurrent])
            if recurrent_bias is not None:
                inner = b.node("Add", [inner, recurrent_bias])
            gates = b.node("Sigmoid", [b.node("Add", [steps.columns(z, 0, 2 * n),
                                                      steps.columns(inner, 0, 2 * n)])])
            reset = steps.columns(gates, n, 2 * n)
            candidate = b.node("Tanh", [b.node("Add", [
                steps.columns(z, 2 * n, 3 * n),
                b.node("Mul", [reset, steps.columns(inner, 2 * n, 3 * n)])])])
        else:
            gates = b.node("Sigmoid", [b.node("Add", [steps.columns(z, 0, 2 * n),
                                                      b.node("MatMul", [h, u_gates])])])
            reset = steps.columns(gates, n, 2 * n)
            candidate = b.node("Tanh", [b.node("Add", [
                steps.columns(z, 2 * n, 3 * n),
                b.node("MatMul", [b.node("Mul", [reset, h]), u_candidate])])])
        update = steps.columns(gates, 0, n)
        # h' = candidate + update * (h - candidate), as the fused op computes it.
        new_h = b.node("Add", [candidate, b.node("Mul", [update, b.node("Sub", [h, candidate])])])
        h = steps.carry(step, new_h, h)
        outputs.append(h)
    b.define(eq.output, steps.stacked(outputs))
