"""Post-training quantization of a lowered TFLite model, following TFLite's int8 spec.

Two modes, as `TFLiteConverter` chooses them:

  * `dynamic_range(writer)`: the weights of FULLY_CONNECTED, CONV_2D and
    DEPTHWISE_CONV_2D with at least 1024 elements (TF's threshold) become symmetric int8,
    one scale per output channel; activations stay float and LiteRT runs the ops "hybrid"
    (quantizing activations on the fly).
  * `full_integer(...)`: every float tensor becomes int8. Activations are asymmetric per
    tensor, from the min/max that `calibrate` measured by running the float graph on the
    representative data; weights symmetric per output channel (zero point 0, range
    [-127, 127]); biases int32 with scale input_scale * weight_scale (a channel's weight
    scale widens where its bias would not fit in half the int32 range, as in TF's
    quantizer). Operators whose int8 kernels need equal input and output parameters
    (pooling, reshape, concatenation, pad and its fill value, resize) share them; SOFTMAX
    and LOGISTIC outputs use 1/256 and zero point -128, TANH 1/128 and 0.
    QUANTIZE/DEQUANTIZE convert quantized inputs and outputs at the edges unless the
    inference types are integers (integer ids and results stay as they are). Operators
    without an int8 kernel (EXP, DIV, ...) compute in float between DEQUANTIZE and
    QUANTIZE, unless float operators are not allowed (then an error).
  * `float16_weights(writer)`: float16 weights, DEQUANTIZE'd to float32 when loaded.

    >>> import numpy as np
    >>> scale, zero_point = activation_params(-1.0, 3.0)
    >>> round(float(scale), 6), int(zero_point)
    (0.015686, -64)
"""

import numpy as np

from numpyflow.lite.flatbuffer import Quantization

# The largest |bias / bias scale| TF's quantizer lets an int32 bias hold (half the range).
_BIAS_LIMIT = (2 ** 31 - 1) / 2.0

# TF quantizes the weights of hybrid ops only from this many elements on.
MIN_ELEMENTS_FOR_WEIGHTS = 1024

# Operator -> (input position of the weights, quantized axis of the weights, bias position).
_WEIGHTED = {"FULLY_CONNECTED": (1, 0, 2), "CONV_2D": (1, 0, 2),
             "DEPTHWISE_CONV_2D": (1, 3, 2), "TRANSPOSE_CONV": (1, 0, 3)}
# Hybrid (float activations, int8 weights) versions, per channel.
_HYBRID_VERSIONS = {"FULLY_CONNECTED": 12, "CONV_2D": 5, "DEPTHWISE_CONV_2D": 6}

# Int8 operators whose kernels require the output to share the input's parameters.
_SAME_PARAMS = ("MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE", "CONCATENATION", "PAD", "PADV2",
                "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "TRANSPOSE", "PACK",
                "STRIDED_SLICE", "GATHER", "TILE", "MIRROR_PAD", "BROADCAST_TO")
# Fixed output parameters of int8 kernels: (scale, zero point).
_FIXED_OUTPUT = {"SOFTMAX": (1.0 / 256, -128), "LOGISTIC": (1.0 / 256, -128),
                 "TANH": (1.0 / 128, 0), "LOG_SOFTMAX": (16.0 / 256, 127)}
# Versions of the int8 kernels (tensorflow/lite/tools/versioning/op_version.cc).
_INT8_VERSIONS = {
    "CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "TRANSPOSE_CONV": 3,
    "ADD": 2, "SUB": 2, "MUL": 2, "MAX_POOL_2D": 2, "AVERAGE_POOL_2D": 2, "RESHAPE": 1,
    "CONCATENATION": 2, "PAD": 2, "PADV2": 2, "MEAN": 2, "SUM": 1, "REDUCE_MAX": 2,
    "SOFTMAX": 2, "LOG_SOFTMAX": 2, "LOGISTIC": 2, "TANH": 2, "RELU": 2, "RELU6": 2,
    "ELU": 1, "LEAKY_RELU": 1, "GELU": 1, "RESIZE_BILINEAR": 3, "RESIZE_NEAREST_NEIGHBOR": 3,
    "TRANSPOSE": 2, "PACK": 2, "MAXIMUM": 2, "MINIMUM": 2, "SQUARED_DIFFERENCE": 2,
    "RSQRT": 2, "ABS": 2, "QUANTIZE": 1, "DEQUANTIZE": 2,
    "STRIDED_SLICE": 2, "GATHER": 2, "TILE": 3, "MIRROR_PAD": 2, "BROADCAST_TO": 3,
    "REDUCE_MIN": 2, "ARG_MAX": 2, "ARG_MIN": 2, "SHAPE": 1,
}


# -- dynamic range ---------------------------------------------------------------------------
def dynamic_range(writer):
    """Int8 per-channel weights for the hybrid operators (see module doc), in place."""
    for op in writer.operators:
        if op.opcode not in _HYBRID_VERSIONS:
            continue
        position, axis, _ = _WEIGHTED[op.opcode]
        record = writer.tensors[op.inputs[position]]
        if record.data is None or record.dtype != np.float32 or \
                record.data.size < MIN_ELEMENTS_FOR_WEIGHTS:
            continue
        if record.quantization is None:
            values, scales = symmetric_per_channel(record.data, axis)
            record.data, record.dtype = values, np.dtype(np.int8)
            record.quantization = Quantization(scales, np.zeros(len(scales)), axis)
        op.version = _HYBRID_VERSIONS[op.opcode]
        if op.opcode == "FULLY_CONNECTED":
            # TF's converter asks for asymmetric input quantization (more accurate).
            op.options[1]["AsymmetricQuantizeInputs"] = True


def symmetric_per_channel(weights, axis):
    """(int8 values, float scales): `weights ~= values * scale` along `axis`, |values| <= 127."""
    moved = np.moveaxis(weights.astype(np.float64), axis, 0)
    maxima = np.max(np.abs(moved.reshape(moved.shape[0], -1)), axis=1)
    scales = np.where(maxima > 0, maxima / 127.0, 1.0)
    shape = [1] * weights.ndim
    shape[axis] = -1
    values = np.clip(np.round(weights / scales.reshape(shape)), -127, 127).astype(np.int8)
    return values, scales.astype(np.float32)


def activation_params(low, high):
    """(scale, zero point) of int8 asymmetric quantization covering [low, high] and 0."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high == low:
        return np.float32(1.0), np.int64(0)
    scale = (high - low) / 255.0
    zero_point = int(np.clip(np.round(-128 - low / scale), -128, 127))
    return np.float32(scale), np.int64(zero_point)


# -- float16 -----------------------------------------------------------------------------------
def float16_weights(writer):
    """Float16 copies of the float32 weights, widened back by DEQUANTIZE operators at the
    start of the model (TF's `supported_types=[tf.float16]`): half the file size, float32
    arithmetic."""
    consumers = {}
    for op in writer.operators:
        for position, index in enumerate(op.inputs):
            consumers.setdefault(index, []).append((op, position))
    widen = []
    for index, record in enumerate(list(writer.tensors)):
        if record.data is None or record.dtype != np.float32 or index not in consumers:
            continue
        half = writer.add_tensor(record.name, np.float16, record.shape,
                                 data=record.data.astype(np.float16))
        record.data = None   # Now computed: DEQUANTIZE(half).
        record.name = record.name + "/dequantize"
        widen.append(_operator(writer, "DEQUANTIZE", [half], [index], 3))
    writer.operators[:0] = widen


# -- calibration -----------------------------------------------------------------------------
def calibrate(export_graph, lowering, samples):
    """{graph value name: (min, max)} over the representative samples, by running the
    frozen float graph equation by equation with the primitives' NumPy forwards."""
    from numpyflow.framework.graph import Equation
    graph = export_graph.graph
    names = [name for name, _ in export_graph.inputs]
    per_input = [[] for _ in names]
    for sample in samples:
        if isinstance(sample, dict):
            missing = [name for name in names if name not in sample]
            if missing:
                raise ValueError(f"representative_dataset yielded a dict without the inputs "
                                 f"{missing}; the model's inputs are {names}.")
            sample = [sample[name] for name in names]
        if len(sample) != len(names):
            raise ValueError(f"representative_dataset yielded {len(sample)} arrays; the model "
                             f"has {len(names)} inputs ({names}).")
        for i, (array, (_, value)) in enumerate(zip(sample, export_graph.inputs)):
            array = np.asarray(array, value.dtype)
            if array.shape == value.shape[1:]:
                array = array[None]
            if array.shape[1:] != value.shape[1:]:
                raise ValueError(f"representative_dataset yielded an array of shape "
                                 f"{array.shape} for input {names[i]!r}, which expects "
                                 f"(batch,) + {value.shape[1:]}.")
            per_input[i].append(array)
    arrays = [np.concatenate(chunks) for chunks in per_input]
    batch = graph.arguments[0].shape[0] if graph.arguments[0].shape else 1
    count = arrays[0].shape[0]
    ranges = {}
    for start in range(0, count, batch):
        # The graph was traced at a fixed batch: pad the last chunk by repeating a sample
        # (repeats change no minimum or maximum).
        rows = [(start + i) if start + i < count else count - 1 for i in range(batch)]
        env = {value.name: array[rows] for value, array in zip(graph.arguments, arrays)}
        for entry in graph.body:
            if isinstance(entry, Equation):
                _evaluate(entry, env)
        for name, value in env.items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
                low, high = float(np.min(value)), float(np.max(value))
                if name in ranges:
                    low, high = min(low, ranges[name][0]), max(high, ranges[name][1])
                ranges[name] = (low, high)
    return ranges


def _evaluate(eq, env):
    from numpyflow.framework.graph import ATOMS, Constant, Saved

    def resolve(atom):
        if isinstance(atom, Constant):
            return atom.value
        if isinstance(atom, Saved) and atom.base is not None:
            return env[atom.base.name][atom.index]
        return env[atom.name]

    inputs = [np.asarray(resolve(atom)) for atom in eq.inputs]
    attrs = {key: resolve(value) if isinstance(value, ATOMS) else value
             for key, value in eq.attrs.items()}
    result = eq.primitive.forward(*inputs, **attrs)
    if eq.primitive.saves:
        result, saved = result
        env[eq.outputs[1].name] = saved
    env[eq.output.name] = np.asarray(result)


# -- full integer ----------------------------------------------------------------------------
class _Groups:
    """Union-find over tensor indices that must share quantization parameters."""

    def __init__(self):
        self.parent = {}

    def find(self, index):
        self.parent.setdefault(index, index)
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def union(self, a, b):
        self.parent[self.find(a)] = self.find(b)


def full_integer(lowering, ranges, inputs, outputs, input_type, output_type, integer_only):
    """Rewrites the lowered model to int8 (see module doc); returns the signature's
    (inputs, outputs), whose tensors change when QUANTIZE/DEQUANTIZE are added."""
    writer = lowering.writer
    float_ops = [op for op in writer.operators if op.opcode not in _INT8_VERSIONS]
    if float_ops and integer_only:
        op = float_ops[0]
        raise ValueError(f"Full-integer quantization (TFLITE_BUILTINS_INT8 only): the TFLite "
                         f"operator {op.opcode} (computing {writer.tensors[op.outputs[0]].name!r})"
                         f" has no int8 kernel in LiteRT; allow float operators with "
                         f"target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS] (and "
                         f"target_spec.supported_types left empty).")
    keep_float = _float_islands(writer, float_ops)
    weights, biases = set(), set()
    for op in writer.operators:
        if op.opcode in _WEIGHTED:
            position, _, bias_position = _WEIGHTED[op.opcode]
            weights.add(op.inputs[position])
            if bias_position < len(op.inputs) and op.inputs[bias_position] >= 0:
                biases.add(op.inputs[bias_position])

    def is_activation(index):
        record = writer.tensors[index]
        return (record.dtype == np.float32 and index not in weights and index not in biases
                and index not in keep_float)

    # Tensor ranges: activations from calibration, constants from their values.
    tensor_range = {}
    for index, record in enumerate(writer.tensors):
        if not is_activation(index):
            continue
        if record.data is not None:
            tensor_range[index] = (float(np.min(record.data)), float(np.max(record.data)))
        else:
            name = lowering.value_of_tensor.get(index)
            if name is not None and name in ranges:
                tensor_range[index] = ranges[name]

    fixed = {op.outputs[0]: _FIXED_OUTPUT[op.opcode] for op in writer.operators
             if op.opcode in _FIXED_OUTPUT}
    groups = _Groups()
    pinned_roots = {groups.find(index) for index in fixed}
    operators = []
    for op in writer.operators:
        if op.opcode in _SAME_PARAMS:
            several = sum(1 for i in op.inputs if i >= 0 and is_activation(i)
                          and writer.tensors[i].data is None) > 1
            for position, index in enumerate(op.inputs):
                # PADV2's fill value (a constant) must share the parameters too, as LiteRT's
                # kernel requires; its value then widens the shared range.
                shared_constant = op.opcode == "PADV2" and position == 2
                if index < 0 or not is_activation(index) or (
                        writer.tensors[index].data is not None and not shared_constant):
                    continue
                if several and groups.find(index) in pinned_roots:
                    # A fixed-range input (a softmax's) joining others: requantize it to the
                    # shared parameters instead of forcing its range on them.
                    record = writer.tensors[index]
                    copy = writer.add_tensor(record.name + "_requantized", record.dtype,
                                             record.shape, record.signature)
                    if index in tensor_range:
                        tensor_range[copy] = tensor_range[index]
                    operators.append(_operator(writer, "QUANTIZE", [index], [copy], 1))
                    op.inputs[position] = index = copy
                pinned = groups.find(index) in pinned_roots or \
                    groups.find(op.outputs[0]) in pinned_roots
                groups.union(index, op.outputs[0])
                if pinned:
                    pinned_roots.add(groups.find(index))
        operators.append(op)
    writer.operators[:] = operators
    params = {}
    members = {}
    for index in range(len(writer.tensors)):
        if is_activation(index):
            members.setdefault(groups.find(index), []).append(index)
    for root, indices in members.items():
        pinned = [fixed[i] for i in indices if i in fixed]
        if pinned:
            scale, zero_point = pinned[0]
            value = (np.float32(scale), np.int64(zero_point))
        else:
            known = [tensor_range[i] for i in indices if i in tensor_range]
            if not known:
                raise ValueError(
                    f"Full-integer quantization: no calibration range for "
                    f"{writer.tensors[indices[0]].name!r}, an intermediate step of a layer "
                    f"converted into several operators (recurrent layers are): calibration "
                    f"measures the model's own tensors only. Use dynamic-range quantization "
                    f"(optimizations without representative_dataset) for this model.")
            value = activation_params(min(r[0] for r in known), max(r[1] for r in known))
        for index in indices:
            params[index] = value

    for index, (scale, zero_point) in params.items():
        record = writer.tensors[index]
        if record.data is not None:
            record.data = np.clip(np.round(record.data / scale) + zero_point,
                                  -128, 127).astype(np.int8)
        record.dtype = np.dtype(np.int8)
        record.quantization = Quantization(scale, zero_point)

    float_ids = {id(op) for op in float_ops}
    for op in writer.operators:
        if id(op) in float_ids:
            continue
        if op.opcode in _WEIGHTED:
            _quantize_weights(writer, op)
        data = writer.tensors[op.inputs[2 if op.opcode == "TRANSPOSE_CONV" else 0]]
        if data.dtype != np.int8 and op.opcode not in ("QUANTIZE", "DEQUANTIZE"):
            continue   # On int32 shapes: the float version.
        op.version = _INT8_VERSIONS[op.opcode]
        if op.opcode == "MUL":
            a, b = (writer.tensors[i].quantization for i in op.inputs)
            out = writer.tensors[op.outputs[0]].quantization
            if a.scale[0] * b.scale[0] / out.scale[0] >= 1.0:
                op.version = 3

    inputs = [(name, _edge_input(writer, index, input_type)) for name, index in inputs]
    outputs = [(name, _edge_output(writer, index, output_type)) for name, index in outputs]
    return inputs, outputs


def _float_islands(writer, float_ops):
    """Lets the operators without an int8 kernel compute in float: DEQUANTIZE before their
    activation inputs, QUANTIZE after their outputs (what TF's converter does unless the ops
    set is TFLITE_BUILTINS_INT8). Returns the tensors that stay float32."""
    keep_float = set()
    float_ids = {id(op) for op in float_ops}
    operators = []
    for op in writer.operators:
        if id(op) not in float_ids:
            operators.append(op)
            continue
        for position, index in enumerate(op.inputs):
            record = writer.tensors[index] if index >= 0 else None
            if record is None or record.dtype != np.float32:
                continue
            if record.data is not None:   # Its own float copy of a constant.
                copy = writer.add_tensor(record.name, np.float32, record.shape,
                                         data=record.data)
            else:
                copy = writer.add_tensor(record.name + "/dequantize", np.float32,
                                         record.shape, record.signature)
                operators.append(_operator(writer, "DEQUANTIZE", [index], [copy], 2))
            keep_float.add(copy)
            op.inputs[position] = copy
        operators.append(op)
        for position, index in enumerate(op.outputs):
            record = writer.tensors[index]
            if record.dtype != np.float32:
                continue
            result = writer.add_tensor(record.name + "/float", np.float32, record.shape,
                                       record.signature)
            keep_float.add(result)
            op.outputs[position] = result
            operators.append(_operator(writer, "QUANTIZE", [result], [index], 1))
    writer.operators[:] = operators
    return keep_float


def _quantize_weights(writer, op):
    position, axis, bias_position = _WEIGHTED[op.opcode]
    weights = writer.tensors[op.inputs[position]]
    data_position = 2 if op.opcode == "TRANSPOSE_CONV" else 0
    input_scale = writer.tensors[op.inputs[data_position]].quantization.scale[0]
    has_bias = bias_position < len(op.inputs) and op.inputs[bias_position] >= 0
    bias = writer.tensors[op.inputs[bias_position]] if has_bias else None
    if weights.quantization is None:
        values, scales = symmetric_per_channel(weights.data, axis)
        if bias is not None and bias.quantization is None and bias.data is not None:
            # As TF's quantizer: widen a channel's weight scale until its bias fits in
            # half the int32 range (tiny weights beside a large bias would wrap around).
            needed = np.abs(bias.data.astype(np.float64)) / (input_scale * _BIAS_LIMIT)
            if np.any(needed > scales):
                scales = np.maximum(scales.astype(np.float64), needed).astype(np.float32)
                shape = [1] * weights.data.ndim
                shape[axis] = -1
                values = np.clip(np.round(weights.data / scales.reshape(shape)),
                                 -127, 127).astype(np.int8)
        weights.data, weights.dtype = values, np.dtype(np.int8)
        weights.quantization = Quantization(scales, np.zeros(len(scales)), axis)
    if bias is not None:
        if bias.quantization is None:
            scales = (input_scale * weights.quantization.scale.astype(np.float64))
            # Weights shared with an earlier operator keep their scale: clip, never wrap.
            bias.data = np.clip(np.round(bias.data / scales), -2 ** 31, 2 ** 31 - 1
                                ).astype(np.int32)
            bias.dtype = np.dtype(np.int32)
            bias.quantization = Quantization(scales.astype(np.float32),
                                             np.zeros(len(scales)), 0)


def _edge_input(writer, index, dtype):
    """The signature's input for the int8 tensor `index`, in the inference input type
    (`index` itself for an input that is not quantized: integer ids, booleans)."""
    record = writer.tensors[index]
    if dtype == np.int8 or not _quantized(record):
        return index
    q = record.quantization
    outside = writer.add_tensor(record.name, dtype, record.shape, record.signature,
                                quantization=None if dtype == np.float32 else Quantization(
                                    q.scale, q.zero_point + 128))
    record.name = record.name.replace("serving_default_", "").replace(":0", "") + "_int8"
    writer.operators.insert(0, _operator(writer, "QUANTIZE", [outside], [index], 1))
    return outside


def _edge_output(writer, index, dtype):
    record = writer.tensors[index]
    if dtype == np.int8 or not _quantized(record):
        return index
    q = record.quantization
    outside = writer.add_tensor(record.name, dtype, record.shape, record.signature,
                                quantization=None if dtype == np.float32 else Quantization(
                                    q.scale, q.zero_point + 128))
    record.name = record.name + "_int8"
    if dtype == np.float32:
        writer.operators.append(_operator(writer, "DEQUANTIZE", [index], [outside], 2))
    else:
        writer.operators.append(_operator(writer, "QUANTIZE", [index], [outside], 1))
    return outside


def _quantized(record):
    return record.dtype == np.int8 and record.quantization is not None


def _operator(writer, opcode, inputs, outputs, version):
    from numpyflow.lite.flatbuffer import OperatorRecord
    return OperatorRecord(opcode, inputs, outputs, None, version)
