"""TF.js graph-model rules for the fused recurrences (SimpleRNN, LSTM, GRU), unrolled.

numpyflow runs a whole recurrent layer as one primitive (`LSTMSequence`, ... in
`ops/rnn_ops.py`) that returns the state after every step, batch-major, in processing
order (`[h, c]` side by side for LSTM). TF.js graph models have no such op, so these rules
write the recurrence out step by step with plain TF ops: one MatMul projects all steps'
inputs, then each step is a few MatMul/AddV2/Sigmoid/Tanh nodes, and with a mask a
SelectV2 that carries the state over. The number of steps is the traced sequence length
(fixed in the file); the batch stays dynamic.

Initial states that Keras made as zeros of the traced batch size become zeros of the
runtime batch size (`Fill`); a non-zero constant initial state with a dynamic batch is
refused.

    >>> import os, tempfile, json
    >>> import numpyflow as tf
    >>> from numpyflow.export.tfjs_graph import save_tfjs_graph_model
    >>> model = tf.keras.Sequential([tf.keras.Input((3, 2)), tf.keras.layers.GRU(4)])
    >>> out = os.path.join(tempfile.mkdtemp(), "gru")
    >>> save_tfjs_graph_model(model, out)
    >>> nodes = json.load(open(os.path.join(out, "model.json")))["modelTopology"]["node"]
    >>> [node["op"] for node in nodes].count("Tanh")   # one per step
    3
"""

import numpy as np

from numpyflow.export.tfjs_graph_rules import int_attr, type_attr
from numpyflow.framework.graph import Constant
from numpyflow.ops import rnn_ops

_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _parts(b, eq, kind):
    try:
        return rnn_ops.sequence_parts(eq.inputs, kind, eq.attrs["use_bias"], eq.attrs["masked"])
    except ValueError as error:
        b.fail(str(error))


class _Steps:
    """Node-writing helpers for one unrolled recurrence of `eq` (float dtype `dtype`)."""

    def __init__(self, b, eq, parts, input_bias):
        self.b = b
        self.dtype = eq.output.dtype
        x = self.x_atom = parts["x"]
        self.x = b.tensor(x)
        _, self.steps, features = b.shape(x)
        self.go_backwards = bool(eq.attrs["go_backwards"])
        self.batch_dynamic = 0 in b.dynamic_axes(x)
        kernel = b.tensor(parts["kernel"])
        width = int(b.shape(parts["kernel"])[-1])
        # (batch, time, features) -> (batch * time, features) @ kernel -> (batch, time, k*units)
        flat = self.reshape(self.x, [-1, int(features)])
        projected = self.matmul(flat, kernel)
        if input_bias is not None:
            projected = self.op("BiasAdd", [projected, input_bias])
        self.projected = self.reshape(projected, [-1, int(self.steps), width])
        self.mask = None if parts["mask"] is None else b.tensor(parts["mask"])

    def op(self, op, inputs, dtype=None, **attrs):
        """A node `op` with `T` (the recurrence's dtype unless given) and bool/int attrs."""
        encoded = {"T": type_attr(self.dtype if dtype is None else dtype)}
        for key, value in attrs.items():
            encoded[key] = {"b": value} if isinstance(value, bool) else int_attr(value)
        return self.b.add(op, inputs, encoded)

    def matmul(self, a, b):
        return self.op("MatMul", [a, b], transpose_a=False, transpose_b=False)

    def ints(self, values, hint):
        return self.b.const(np.asarray(values, np.int32), hint)

    def reshape(self, tensor, shape):
        return self.b.add("Reshape", [tensor, self.ints(shape, "shape")],
                          {"T": type_attr(self.dtype), "Tshape": type_attr(np.int32)})

    def _slice(self, tensor, begin, end, dtype, **masks):
        inputs = [tensor, self.ints(begin, "begin"), self.ints(end, "end"),
                  self.ints([1] * len(begin), "strides")]
        attrs = {"T": type_attr(dtype), "Index": type_attr(np.int32)}
        attrs.update({key: int_attr(masks.get(key, 0)) for key in _MASKS})
        return self.b.add("StridedSlice", inputs, attrs)

    def at(self, tensor, step, rank=3, dtype=None):
        """`tensor[:, t]` for the time index of processing step `step`."""
        t = self.steps - 1 - step if self.go_backwards else step
        rest = (1 << rank) - 1 - 0b11  # Axes after time: whole.
        return self._slice(tensor, [0, t] + [0] * (rank - 2), [0, t + 1] + [0] * (rank - 2),
                           self.dtype if dtype is None else dtype, begin_mask=1 | rest,
                           end_mask=1 | rest, shrink_axis_mask=0b10)

    def columns(self, tensor, start, stop):
        """`tensor[:, start:stop]` of a (batch, width) tensor."""
        return self._slice(tensor, [0, start], [0, stop], self.dtype, begin_mask=1, end_mask=1)

    def carry(self, step, new, old):
        """`new` where the mask keeps the step, else `old` (no mask: `new`)."""
        if self.mask is None:
            return new
        keep = self.at(self.mask, step, rank=2, dtype=np.bool_)
        keep = self.b.add("ExpandDims", [keep, self.b.const(np.asarray(1, np.int32), "axis")],
                          {"T": type_attr(np.bool_), "Tdim": type_attr(np.int32)})
        return self.op("SelectV2", [keep, new, old])

    def initial(self, atom, units):
        """An initial state: zeros of the runtime batch where Keras made zeros."""
        b = self.b
        if isinstance(atom, Constant):
            if not np.any(np.asarray(atom.value)):
                shape = b.add("ConcatV2", [b.batch_of(self.x_atom), self.ints([units], "units"),
                                           b.const(np.asarray(0, np.int32), "axis")],
                              {"N": int_attr(2), "T": type_attr(np.int32),
                               "Tidx": type_attr(np.int32)})
                return b.add("Fill", [shape, b.const(np.zeros((), self.dtype), "zero")],
                             {"T": type_attr(self.dtype), "index_type": type_attr(np.int32)})
            if self.batch_dynamic:
                b.fail("its initial state is a constant of the traced batch size; export with "
                       "an input_signature that fixes the batch size")
        return b.tensor(atom)

    def stacked(self, per_step):
        """(batch, width) per step -> (batch, time, width), in processing order."""
        return self.op("Pack", per_step, N=len(per_step), axis=1)


def _start(b, eq, kind, input_bias_of):
    parts = _parts(b, eq, kind)
    if parts["mask"] is not None and b.dtype(parts["mask"]).kind != "b":
        b.fail(f"expected a bool mask, received {b.dtype(parts['mask']).name}")
    return parts, _Steps(b, eq, parts, input_bias_of(parts))


def simple_rnn(b, eq):
    activation = eq.attrs["activation"]
    if activation not in ("tanh", "relu"):
        b.fail(f"activation={activation!r} is not one of the fused activations ('tanh', "
               f"'relu')")
    parts, steps = _start(b, eq, "SimpleRNN",
                          lambda p: None if p["bias"] is None else b.tensor(p["bias"]))
    recurrent = b.tensor(parts["recurrent_kernel"])
    h = steps.initial(parts["h0"], int(eq.output.shape[-1]))
    outputs = []
    for step in range(steps.steps):
        a = steps.op("AddV2", [steps.at(steps.projected, step),
                               steps.matmul(h, recurrent)])
        h = steps.carry(step, steps.op("Tanh" if activation == "tanh" else "Relu", [a]), h)
        outputs.append(h)
    b.define(eq.output, steps.stacked(outputs))


def lstm(b, eq):
    parts, steps = _start(b, eq, "LSTM",
                          lambda p: None if p["bias"] is None else b.tensor(p["bias"]))
    n = int(eq.output.shape[-1]) // 2
    recurrent = b.tensor(parts["recurrent_kernel"])
    h, c = steps.initial(parts["h0"], n), steps.initial(parts["c0"], n)
    outputs = []
    for step in range(steps.steps):
        # Keras's gate order: i, f, c (candidate), o.
        g = steps.op("AddV2", [steps.at(steps.projected, step), steps.matmul(h, recurrent)])
        i, f, o = (steps.op("Sigmoid", [steps.columns(g, k * n, (k + 1) * n)]) for k in (0, 1, 3))
        candidate = steps.op("Tanh", [steps.columns(g, 2 * n, 3 * n)])
        new_c = steps.op("AddV2", [steps.op("Mul", [f, c]), steps.op("Mul", [i, candidate])])
        new_h = steps.op("Mul", [o, steps.op("Tanh", [new_c])])
        h, c = steps.carry(step, new_h, h), steps.carry(step, new_c, c)
        outputs.append(b.add("ConcatV2", [h, c, b.const(np.asarray(1, np.int32), "axis")],
                             {"N": int_attr(2), "T": type_attr(steps.dtype),
                              "Tidx": type_attr(np.int32)}))
    b.define(eq.output, steps.stacked(outputs))


def gru(b, eq):
    reset_after = bool(eq.attrs["reset_after"])
    dtype = eq.output.dtype
    biases = {}

    def input_bias(parts):
        bias = parts["bias"]
        if bias is None:
            return None
        if not reset_after:
            return b.tensor(bias)
        # (2, 3 * units): the input bias, then the recurrent bias.
        if not isinstance(bias, Constant):
            b.fail("a GRU bias computed in the graph is not supported (expected weights)")
        value = np.asarray(bias.value, dtype)
        biases["recurrent"] = b.const(value[1], "recurrent_bias")
        return b.const(value[0], "input_bias")

    parts, steps = _start(b, eq, "GRU", input_bias)
    n = int(eq.output.shape[-1])
    recurrent = b.tensor(parts["recurrent_kernel"])
    if not reset_after:
        u_gates = steps.columns(recurrent, 0, 2 * n)
        u_candidate = steps.columns(recurrent, 2 * n, 3 * n)
    h = steps.initial(parts["h0"], n)
    outputs = []
    for step in range(steps.steps):
        # Keras's gate order: z (update), r (reset), h (candidate).
        z = steps.at(steps.projected, step)
        if reset_after:
            inner = steps.matmul(h, recurrent)
            if "recurrent" in biases:
                inner = steps.op("BiasAdd", [inner, biases["recurrent"]])
            gates = steps.op("Sigmoid", [steps.op("AddV2", [steps.columns(z, 0, 2 * n),
                                                            steps.columns(inner, 0, 2 * n)])])
            reset = steps.columns(gates, n, 2 * n)
            candidate = steps.op("Tanh", [steps.op("AddV2", [
                steps.columns(z, 2 * n, 3 * n),
                steps.op("Mul", [reset, steps.columns(inner, 2 * n, 3 * n)])])])
        else:
            gates = steps.op("Sigmoid", [steps.op("AddV2", [steps.columns(z, 0, 2 * n),
                                                            steps.matmul(h, u_gates)])])
            reset = steps.columns(gates, n, 2 * n)
            candidate = steps.op("Tanh", [steps.op("AddV2", [
                steps.columns(z, 2 * n, 3 * n),
                steps.matmul(steps.op("Mul", [reset, h]), u_candidate)])])
        update = steps.columns(gates, 0, n)
        # h' = candidate + update * (h - candidate), as the fused op computes it.
        new_h = steps.op("AddV2", [candidate, steps.op("Mul", [update, steps.op(
            "Sub", [h, candidate])])])
        h = steps.carry(step, new_h, h)
        outputs.append(h)
    b.define(eq.output, steps.stacked(outputs))
