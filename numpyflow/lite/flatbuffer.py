"""Writes a TFLite model: tensors, buffers and operators into the TFLite flatbuffer schema.

The schema's Python code is the flatc-generated one of PyPI's `tflite` package (builders
`<Table>Start`, `<Table>Add<Field>`, `<Table>End`), written with `flatbuffers`; nothing of
the format is hand-written here but the order the builders are called in.

`ModelWriter` collects one subgraph (tensors and operators), then `to_bytes()` serializes
it with a "serving_default" SignatureDef, as TF's converter writes it:

    >>> import numpy as np
    >>> writer = ModelWriter()
    >>> x = writer.add_tensor("x", np.float32, (1, 3), signature=(-1, 3))
    >>> y = writer.add_tensor("y", np.float32, (1, 3), signature=(-1, 3))
    >>> _ = writer.add_operator("RELU", [x], [y])
    >>> data = writer.to_bytes([("x", x)], [("output_0", y)])
    >>> data[4:8]
    b'TFL3'
"""

import importlib

import numpy as np

from numpyflow.lite import _deps

SCHEMA_VERSION = 3
SIGNATURE_KEY = "serving_default"

# NumPy dtype -> TensorType enum name.
_TENSOR_TYPES = {
    np.dtype(np.float32): "FLOAT32", np.dtype(np.float16): "FLOAT16",
    np.dtype(np.int32): "INT32", np.dtype(np.uint8): "UINT8", np.dtype(np.int64): "INT64",
    np.dtype(np.bool_): "BOOL", np.dtype(np.int16): "INT16", np.dtype(np.int8): "INT8",
}


def tensor_type(dtype):
    """The TFLite `TensorType` of a NumPy dtype (ValueError for one TFLite lacks)."""
    dtype = np.dtype(dtype)
    if dtype not in _TENSOR_TYPES:
        raise ValueError(f"TFLite has no tensor type for dtype {dtype.name}; expected one of "
                         f"{sorted(d.name for d in _TENSOR_TYPES)}.")
    schema = _deps.tflite_schema()
    return getattr(schema.TensorType.TensorType, _TENSOR_TYPES[dtype])


class Quantization:
    """A tensor's quantization: `real = scale * (q - zero_point)`, per tensor or per channel.

    Attributes:
      scale: Float scales (one per channel along `axis`, or one).
      zero_point: Integer zero points (same length as `scale`).
      axis: The quantized dimension for per-channel parameters.
    """

    def __init__(self, scale, zero_point, axis=0):
        self.scale = np.atleast_1d(np.asarray(scale, np.float32))
        self.zero_point = np.atleast_1d(np.asarray(zero_point, np.int64))
        self.axis = int(axis)


class TensorRecord:
    """One tensor of the subgraph (see `ModelWriter.add_tensor`)."""

    __slots__ = ("name", "dtype", "shape", "signature", "data", "quantization")

    def __init__(self, name, dtype, shape, signature, data, quantization):
        self.name = name
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(d) for d in shape)
        self.signature = None if signature is None else tuple(int(d) for d in signature)
        self.data = data
        self.quantization = quantization


class OperatorRecord:
    """One operator: a builtin code name ("CONV_2D"), tensor indices, options, version."""

    __slots__ = ("opcode", "inputs", "outputs", "options", "version")

    def __init__(self, opcode, inputs, outputs, options, version):
        self.opcode = opcode
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.options = options      # (options table name, {field: value}) or None.
        self.version = version


class ModelWriter:
    """Collects tensors and operators of one subgraph; `to_bytes` writes the model."""

    def __init__(self):
        self.tensors = []
        self.operators = []

    def add_tensor(self, name, dtype, shape, signature=None, data=None, quantization=None):
        """Adds a tensor and returns its index.

        Args:
          name: The tensor's name.
          dtype: Its NumPy dtype.
          shape: Its static shape (dynamic dimensions written as 1, as TF does).
          signature: Its `shape_signature` (-1 for dynamic dimensions), or None when
            the shape is static.
          data: A NumPy array for a constant tensor (its buffer), else None.
          quantization: A `Quantization`, or None.
        """
        if data is not None:
            data = np.ascontiguousarray(data, dtype=dtype)
        self.tensors.append(TensorRecord(name, dtype, shape, signature, data, quantization))
        return len(self.tensors) - 1

    def add_operator(self, opcode, inputs, outputs, options=None, version=1):
        """Adds an operator: `opcode` a BuiltinOperator name, `options` a pair
        (options table name, {field name in the schema's CamelCase: value}); -1 in
        `inputs` marks an omitted optional input."""
        self.operators.append(OperatorRecord(opcode, inputs, outputs, options, version))
        return self.operators[-1]

    def to_bytes(self, inputs, outputs, description="numpyflow"):
        """Serializes the model.

        Args:
          inputs: `(signature name, tensor index)` pairs, in order.
          outputs: Same for the outputs.
        """
        return _serialize(self, inputs, outputs, description)


def _serialize(writer, inputs, outputs, description):
    flatbuffers = _deps.flatbuffers()
    schema = _deps.tflite_schema()
    builder = flatbuffers.Builder(1024)

    def int_vector(values):
        return builder.CreateNumpyVector(np.asarray(values, np.int32))

    # Buffers: 0 is the empty sentinel; each constant tensor gets its own.
    buffer_of = []
    buffer_offsets = [_buffer(builder, schema, None)]
    for record in writer.tensors:
        if record.data is None:
            buffer_of.append(0)
        else:
            buffer_of.append(len(buffer_offsets))
            buffer_offsets.append(_buffer(builder, schema, record.data))

    tensor_offsets = []
    for index, record in enumerate(writer.tensors):
        try:
            kind = tensor_type(record.dtype)
        except ValueError as error:
            raise ValueError(f"Tensor {record.name!r} cannot be written to TFLite: "
                             f"{error}") from None
        name = builder.CreateString(record.name)
        shape = int_vector(record.shape)
        signature = int_vector(record.signature) if record.signature is not None else None
        quantization = (_quantization(builder, schema, record.quantization)
                        if record.quantization is not None else None)
        module = schema.Tensor
        module.TensorStart(builder)
        module.TensorAddShape(builder, shape)
        module.TensorAddType(builder, kind)
        module.TensorAddBuffer(builder, buffer_of[index])
        module.TensorAddName(builder, name)
        if quantization is not None:
            module.TensorAddQuantization(builder, quantization)
        if signature is not None:
            module.TensorAddShapeSignature(builder, signature)
        tensor_offsets.append(module.TensorEnd(builder))

    # Operator codes, in first-use order; one per (builtin, version).
    codes = {}
    for op in writer.operators:
        key = (op.opcode, op.version)
        codes.setdefault(key, len(codes))
    code_offsets = []
    builtin = schema.BuiltinOperator.BuiltinOperator
    for (opcode, version) in codes:
        value = getattr(builtin, opcode)
        module = schema.OperatorCode
        module.OperatorCodeStart(builder)
        # Readers before 2.4 look at the deprecated int8 field only (127 means "see
        # builtin_code").
        module.OperatorCodeAddDeprecatedBuiltinCode(builder, min(value, 127))
        module.OperatorCodeAddBuiltinCode(builder, value)
        module.OperatorCodeAddVersion(builder, version)
        code_offsets.append(module.OperatorCodeEnd(builder))

    operator_offsets = []
    for op in writer.operators:
        op_inputs, op_outputs = int_vector(op.inputs), int_vector(op.outputs)
        options = _options(builder, schema, op.options) if op.options else None
        module = schema.Operator
        module.OperatorStart(builder)
        module.OperatorAddOpcodeIndex(builder, codes[(op.opcode, op.version)])
        module.OperatorAddInputs(builder, op_inputs)
        module.OperatorAddOutputs(builder, op_outputs)
        if options is not None:
            module.OperatorAddBuiltinOptionsType(builder, options[0])
            module.OperatorAddBuiltinOptions(builder, options[1])
        operator_offsets.append(module.OperatorEnd(builder))

    subgraph_name = builder.CreateString("main")
    tensors = _table_vector(builder, tensor_offsets)
    operators = _table_vector(builder, operator_offsets)
    sg_inputs = int_vector([index for _, index in inputs])
    sg_outputs = int_vector([index for _, index in outputs])
    module = schema.SubGraph
    module.SubGraphStart(builder)
    module.SubGraphAddTensors(builder, tensors)
    module.SubGraphAddInputs(builder, sg_inputs)
    module.SubGraphAddOutputs(builder, sg_outputs)
    module.SubGraphAddOperators(builder, operators)
    module.SubGraphAddName(builder, subgraph_name)
    subgraph = module.SubGraphEnd(builder)

    signature = _signature_def(builder, schema, inputs, outputs)

    description = builder.CreateString(description)
    codes_vector = _table_vector(builder, code_offsets)
    subgraphs = _table_vector(builder, [subgraph])
    buffers = _table_vector(builder, buffer_offsets)
    signatures = _table_vector(builder, [signature])
    module = schema.Model
    module.ModelStart(builder)
    module.ModelAddVersion(builder, SCHEMA_VERSION)
    module.ModelAddOperatorCodes(builder, codes_vector)
    module.ModelAddSubgraphs(builder, subgraphs)
    module.ModelAddDescription(builder, description)
    module.ModelAddBuffers(builder, buffers)
    module.ModelAddSignatureDefs(builder, signatures)
    builder.Finish(module.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _table_vector(builder, offsets):
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _buffer(builder, schema, array):
    data = None
    if array is not None:
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"),
                                                 copy=False).tobytes()
        # The schema asks buffers to be 16-byte aligned (`force_align: 16`), which kernels
        # reading weights in place rely on.
        builder.StartVector(1, len(raw), 16)
        builder.head = builder.head - len(raw)
        builder.Bytes[builder.head:builder.head + len(raw)] = raw
        data = builder.EndVector()
    module = schema.Buffer
    module.BufferStart(builder)
    if data is not None:
        module.BufferAddData(builder, data)
    return module.BufferEnd(builder)


def _quantization(builder, schema, quantization):
    scale = builder.CreateNumpyVector(quantization.scale.astype(np.float32))
    zero_point = builder.CreateNumpyVector(quantization.zero_point.astype(np.int64))
    module = schema.QuantizationParameters
    module.QuantizationParametersStart(builder)
    module.QuantizationParametersAddScale(builder, scale)
    module.QuantizationParametersAddZeroPoint(builder, zero_point)
    module.QuantizationParametersAddQuantizedDimension(builder, quantization.axis)
    return module.QuantizationParametersEnd(builder)


def _options(builder, schema, options):
    table, fields = options
    module = importlib.import_module(f"tflite.{table}")
    getattr(module, f"{table}Start")(builder)
    for field, value in fields.items():
        getattr(module, f"{table}Add{field}")(builder, value)
    offset = getattr(module, f"{table}End")(builder)
    return getattr(schema.BuiltinOptions.BuiltinOptions, table), offset


def _signature_def(builder, schema, inputs, outputs):
    def tensor_maps(pairs):
        offsets = []
        for name, index in pairs:
            text = builder.CreateString(name)
            schema.TensorMap.TensorMapStart(builder)
            schema.TensorMap.TensorMapAddName(builder, text)
            schema.TensorMap.TensorMapAddTensorIndex(builder, index)
            offsets.append(schema.TensorMap.TensorMapEnd(builder))
        return _table_vector(builder, offsets)

    signature_inputs = tensor_maps(inputs)
    signature_outputs = tensor_maps(outputs)
    key = builder.CreateString(SIGNATURE_KEY)
    module = schema.SignatureDef
    module.SignatureDefStart(builder)
    module.SignatureDefAddInputs(builder, signature_inputs)
    module.SignatureDefAddOutputs(builder, signature_outputs)
    module.SignatureDefAddSignatureKey(builder, key)
    module.SignatureDefAddSubgraphIndex(builder, 0)
    return module.SignatureDefEnd(builder)
