"""Shared helpers of the tf.lite tests: run a converted model in LiteRT, read its operators."""

import importlib

import numpy as np

import numpyflow as tf


def run_tflite(tflite_model, inputs):
    """Runs `tflite_model` in LiteRT on float `inputs` (resizing the batch); quantized int8
    or uint8 inputs and outputs are converted with their scale and zero point. Returns the
    outputs in signature order ("output_0", ...)."""
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    ordered = interpreter.get_input_details()  # The subgraph's inputs: the model's order.
    for detail, x in zip(ordered, inputs):
        interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    for detail, x in zip(ordered, inputs):
        interpreter.set_tensor(detail["index"], quantize(x, detail))
    interpreter.invoke()
    outputs = []
    by_index = {d["index"]: d for d in interpreter.get_output_details()}
    model = _model(tflite_model)
    signature = model.SignatureDefs(0)
    for i in range(signature.OutputsLength()):
        detail = by_index[signature.Outputs(i).TensorIndex()]
        outputs.append(dequantize(interpreter.get_tensor(detail["index"]), detail))
    return outputs


def quantize(x, detail):
    scale, zero_point = detail["quantization"]
    if scale == 0:  # Not a quantized tensor (float, or integer ids).
        return x.astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(detail["dtype"])


def dequantize(y, detail):
    scale, zero_point = detail["quantization"]
    if scale == 0:
        return y
    return (y.astype(np.float32) - zero_point) * scale


def _model(tflite_model):
    return importlib.import_module("tflite.Model").Model.GetRootAs(tflite_model, 0)


def operators(tflite_model):
    """The model's operators as (builtin name, version) pairs, in order."""
    names = {value: name for name, value in
             vars(importlib.import_module("tflite.BuiltinOperator").BuiltinOperator).items()
             if not name.startswith("_")}
    model = _model(tflite_model)
    subgraph = model.Subgraphs(0)
    result = []
    for i in range(subgraph.OperatorsLength()):
        code = model.OperatorCodes(subgraph.Operators(i).OpcodeIndex())
        result.append((names[code.BuiltinCode()], code.Version()))
    return result


def tensors(tflite_model):
    """{tensor name: (type name, shape, quantization scales)} of the model's tensors."""
    types = {value: name for name, value in
             vars(importlib.import_module("tflite.TensorType").TensorType).items()
             if not name.startswith("_")}
    subgraph = _model(tflite_model).Subgraphs(0)
    result = {}
    for i in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(i)
        quantization = tensor.Quantization()
        scales = (quantization.ScaleAsNumpy() if quantization is not None
                  and quantization.ScaleLength() else None)
        result[tensor.Name().decode()] = (types[tensor.Type()], tuple(tensor.ShapeAsNumpy()),
                                          scales)
    return result
