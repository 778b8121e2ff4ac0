"""TFLite rules for the recurrent primitives: SimpleRNN, LSTM and GRU, unrolled over time.

numpyflow runs a whole recurrent layer as one primitive (`LSTMSequence`, ...), whose output
holds every step's state: (batch, time, units), or (batch, time, 2 * units) for LSTM's
[h, c]. TFLite gets the same computation unrolled over the traced number of steps: per step
a STRIDED_SLICE of the input, FULLY_CONNECTED products per gate, LOGISTIC/TANH and the
element-wise state updates; PACK stacks the steps' states. Keras's gate order is kept
(LSTM: input, forget, candidate, output; GRU: update, reset, candidate).

Initial states that are constants (Keras's zeros) are folded into the first step's
products. Masked sequences (`mask_zero`, `Masking`) are not converted.

    >>> import numpy as np
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3, 2)), tf.keras.layers.LSTM(4)])
    >>> tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    >>> runner = tf.lite.Interpreter(model_content=tflite_model).get_signature_runner()
    >>> x = np.ones((1, 3, 2), np.float32)
    >>> bool(np.allclose(runner(**{model.inputs[0]._keras_history[0].name: x})["output_0"],
    ...                  model.predict(x, verbose=0), atol=1e-5))
    True
"""

import numpy as np

from numpyflow.framework.graph import Constant
from numpyflow.ops import rnn_ops

_NUMPY = {
    "ADD": np.add, "SUB": np.subtract, "MUL": np.multiply,
    "LOGISTIC": lambda x: 1 / (1 + np.exp(-x)), "TANH": np.tanh,
    "RELU": lambda x: np.maximum(x, 0),
}


class _Steps:
    """Builds one unrolled step's operators on (batch, width) tensors. An operand is a
    tensor index (int) or a NumPy row (a constant state, broadcast over the batch)."""

    def __init__(self, lowering, eq, x):
        self.lowering, self.eq = lowering, eq
        self.dtype = eq.output.dtype
        self.batch_dynamic = 0 in lowering.dynamic_axes(x)
        self.batch = x.shape[0]
        self.count = 0
        self._constants = {}   # The weights, written once and shared by every step.

    def _new(self, width, tag):
        self.count += 1
        return self.lowering.intermediate(
            self.lowering.name(self.eq, f"{tag}_{self.count}"), self.dtype,
            (self.batch, width), {0} if self.batch_dynamic else set())

    def _tensor(self, operand, tag="state"):
        if isinstance(operand, np.ndarray):
            operand = np.ascontiguousarray(operand, dtype=self.dtype)
            key = (tag, operand.shape, operand.tobytes())
            if key not in self._constants:
                self._constants[key] = self.lowering.constant(
                    operand, self.lowering.name(self.eq, tag))
            return self._constants[key]
        return operand

    def _width(self, operand):
        if isinstance(operand, np.ndarray):
            return operand.shape[-1]
        return self.lowering.writer.tensors[operand].shape[-1]

    def unary(self, opcode, a):
        if isinstance(a, np.ndarray):
            return _NUMPY[opcode](a).astype(self.dtype)
        out = self._new(self._width(a), opcode.lower())
        self.lowering.op(opcode, [a], [out])
        return out

    def binary(self, opcode, a, b):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return _NUMPY[opcode](a, b).astype(self.dtype)
        # A zero initial state: x * 0 = 0 and x + 0 = x need no operator.
        zero = [o for o in (a, b) if isinstance(o, np.ndarray) and not np.any(o)]
        if zero and opcode == "MUL":
            return np.zeros(max(self._width(a), self._width(b)), self.dtype)
        if zero and opcode == "ADD":
            return b if a is zero[0] else a
        out = self._new(max(self._width(a), self._width(b)), opcode.lower())
        table = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[opcode]
        self.lowering.op(opcode, [self._tensor(a), self._tensor(b)], [out],
                         (table, {"FusedActivationFunction": 0}))
        return out

    def dense(self, a, kernel, bias=None):
        """a @ kernel (+ bias); kernel is (inputs, units)."""
        units = kernel.shape[1]
        bias = np.zeros(units, self.dtype) if bias is None else bias
        if isinstance(a, np.ndarray):
            return (a @ kernel + bias).astype(self.dtype)
        out = self._new(units, "MatMul")
        self.lowering.op("FULLY_CONNECTED", [
            a, self._tensor(kernel.T, "kernel"), self._tensor(bias, "bias")],
            [out], ("FullyConnectedOptions", {"FusedActivationFunction": 0}))
        return out

    def gate(self, x_t, kernel, bias, h, recurrent_kernel):
        """x_t @ kernel + bias + h @ recurrent_kernel, one FULLY_CONNECTED when h is constant."""
        if isinstance(h, np.ndarray):
            bias = (0 if bias is None else bias) + h @ recurrent_kernel
            return self.dense(x_t, kernel, bias)
        return self.binary("ADD", self.dense(x_t, kernel, bias),
                           self.dense(h, recurrent_kernel))

    def time_slice(self, x_index, step, features):
        out = self._new(features, "x")
        lowering = self.lowering
        lowering.op("STRIDED_SLICE", [
            x_index, lowering.int_constant([0, step, 0], lowering.name(self.eq, "begin")),
            lowering.int_constant([0, step + 1, 0], lowering.name(self.eq, "end")),
            lowering.int_constant([1, 1, 1], lowering.name(self.eq, "strides"))],
            [out], ("StridedSliceOptions", {"BeginMask": 0b101, "EndMask": 0b101,
                                            "ShrinkAxisMask": 0b010}))
        return out


def _parts(lowering, eq, kind):
    if eq.attrs["masked"]:
        raise lowering.error(eq, f"a masked {kind} (mask_zero=True or a Masking layer) is not "
                                 f"converted; export the model without the mask")
    parts = rnn_ops.sequence_parts(eq.inputs, kind, eq.attrs["use_bias"], False)
    x = parts["x"]
    if 1 in lowering.dynamic_axes(x):
        raise lowering.error(eq, "the sequence length must be fixed to unroll the recurrence")
    for name in ("kernel", "recurrent_kernel", "bias"):
        if parts.get(name) is not None:
            if not isinstance(parts[name], Constant):
                raise lowering.error(eq, f"its {name} must be a constant (a weight)")
            parts[name] = np.asarray(parts[name].value)
    for name in ("h0", "c0"):
        if name in parts:
            parts[name] = _initial_state(lowering, eq, parts[name])
    return parts


def _initial_state(lowering, eq, atom):
    """A constant initial state as one row (all rows must be equal), else its tensor."""
    if not isinstance(atom, Constant):
        return lowering.tensor(atom)
    value = np.asarray(atom.value)
    if value.ndim != 2 or not np.all(value == value[:1]):
        raise lowering.error(eq, "its constant initial state differs between batch rows, "
                                 "which cannot follow a dynamic batch size")
    return value[0]


def _unroll(lowering, eq, kind, step):
    """Runs `step(steps, x_t, state) -> (new state, output row)` over time; PACKs the rows."""
    parts = _parts(lowering, eq, kind)
    x = parts["x"]
    steps = _Steps(lowering, eq, x)
    x_index = lowering.tensor(x)
    length, features = x.shape[1], x.shape[2]
    order = range(length - 1, -1, -1) if eq.attrs["go_backwards"] else range(length)
    state = (parts["h0"], parts["c0"]) if kind == "LSTM" else parts["h0"]
    rows = []
    for t in order:
        state, row = step(steps, parts, steps.time_slice(x_index, t, features), state)
        rows.append(steps._tensor(row))
    out = lowering.output(eq, None, kind.lower())
    lowering.op("PACK", rows, [out], ("PackOptions", {"ValuesCount": len(rows), "Axis": 1}))


def _blocks(matrix, count):
    return np.split(matrix, count, axis=-1)


def _simple_step(steps, parts, x_t, h):
    activation = steps.eq.attrs["activation"]
    if activation not in ("tanh", "relu"):
        raise steps.lowering.error(steps.eq, f"SimpleRNN activation {activation!r} is not "
                                             f"converted; expected 'tanh' or 'relu'")
    pre = steps.gate(x_t, parts["kernel"], parts.get("bias"), h, parts["recurrent_kernel"])
    h = steps.unary("TANH" if activation == "tanh" else "RELU", pre)
    return h, h


def _lstm_step(steps, parts, x_t, state):
    h, c = state
    bias = _blocks(parts["bias"], 4) if parts["bias"] is not None else [None] * 4
    gates = [steps.gate(x_t, w, b, h, u) for w, b, u in zip(
        _blocks(parts["kernel"], 4), bias, _blocks(parts["recurrent_kernel"], 4))]
    i, f, o = (steps.unary("LOGISTIC", gates[k]) for k in (0, 1, 3))
    g = steps.unary("TANH", gates[2])
    c = steps.binary("ADD", steps.binary("MUL", f, c), steps.binary("MUL", i, g))
    h = steps.binary("MUL", o, steps.unary("TANH", c))
    row = steps._new(2 * steps._width(h), "state")
    steps.lowering.op("CONCATENATION", [steps._tensor(h), steps._tensor(c)], [row],
                      ("ConcatenationOptions", {"Axis": 1}))
    return (h, c), row


def _gru_step(steps, parts, x_t, h):
    reset_after = steps.eq.attrs["reset_after"]
    kernels = _blocks(parts["kernel"], 3)
    recurrent = _blocks(parts["recurrent_kernel"], 3)
    bias = parts.get("bias")
    if bias is None:
        input_bias, recurrent_bias = [None] * 3, [None] * 3
    elif reset_after:
        input_bias, recurrent_bias = _blocks(bias[0], 3), _blocks(bias[1], 3)
    else:
        input_bias, recurrent_bias = _blocks(bias, 3), [None] * 3
    if reset_after:
        inner = [steps.dense(h, u, b) for u, b in zip(recurrent, recurrent_bias)]
        z, r = (steps.unary("LOGISTIC", steps.binary("ADD", steps.dense(x_t, w, b), i))
                for w, b, i in zip(kernels[:2], input_bias[:2], inner[:2]))
        candidate = steps.unary("TANH", steps.binary(
            "ADD", steps.dense(x_t, kernels[2], input_bias[2]), steps.binary("MUL", r, inner[2])))
    else:
        z, r = (steps.unary("LOGISTIC", steps.gate(x_t, w, b, h, u))
                for w, b, u in zip(kernels[:2], input_bias[:2], recurrent[:2]))
        candidate = steps.unary("TANH", steps.binary(
            "ADD", steps.dense(x_t, kernels[2], input_bias[2]),
            steps.dense(steps.binary("MUL", r, h), recurrent[2])))
    h = steps.binary("ADD", candidate, steps.binary("MUL", z, steps.binary("SUB", h, candidate)))
    return h, h


def simple_rnn(lowering, eq):
    _unroll(lowering, eq, "SimpleRNN", _simple_step)


def lstm(lowering, eq):
    _unroll(lowering, eq, "LSTM", _lstm_step)


def gru(lowering, eq):
    _unroll(lowering, eq, "GRU", _gru_step)
