"""Export to ONNX: a model file that ONNX Runtime (and onnxruntime-web, and Mobile) runs.

`export_onnx(model, "model.onnx")` traces the model's inference computation
(`model_graph.trace_for_export`: weights frozen into constants, BatchNormalization folded
into one scale and shift), translates it equation by equation through `onnx_rules.RULES`,
and writes it with the `onnx` package (`pip install numpyflow[onnx]`), checked by
`onnx.checker.check_model(full_check=True)`.

The model's inputs and outputs keep the names and the NHWC layout Keras users feed; the
batch axis is the symbolic dimension "batch" unless the input signature fixes it. Inside,
convolutions and pooling run in ONNX's NCHW layout; Transposes appear only where the
layout changes (`onnx_builder`), so LeNet-5 has two. SimpleRNN, LSTM and GRU are written
out step by step over the traced sequence length (`onnx_rnn`).

Versions: the file is stamped with IR version `IR_VERSION` and the default ONNX opset
`DEFAULT_OPSET` (`opset=` chooses another from `SUPPORTED_OPSETS`).

For ONNX Runtime Mobile, convert the file to the `.ort` format with the tool the
`onnxruntime` wheel ships:

    python -m onnxruntime.tools.convert_onnx_models_to_ort model.onnx

which writes `model.ort` beside it (plus a `required_operators` config for a reduced
build).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    >>> proto = export_onnx(model, path)
    >>> [node.op_type for node in proto.graph.node]
    ['MatMul', 'Add']
"""

import os

import numpy as np

from numpyflow.export.onnx_builder import PLAIN, ExportError, OnnxBuilder
from numpyflow.export.onnx_rules import DYNAMIC_ATTRS, RULES, NotExportable
from numpyflow.framework.graph import ATOMS, Equation, Value, consumers

# IR version 10 and opset 21 are what ONNX Runtime 1.20 and later run, including the
# onnxruntime-web that the browser demo pins in package.json (1.30): newer stamps are
# refused by older runtimes, and opset 21 has every operator the rules write.
IR_VERSION = 10
DEFAULT_OPSET = 21
# Opset 18 is the first where every reduction takes its axes as an input, as the rules
# write them.
SUPPORTED_OPSETS = tuple(range(18, DEFAULT_OPSET + 1))
BATCH_DIM = "batch"

__all__ = ["export_onnx", "onnx_model", "IR_VERSION", "DEFAULT_OPSET", "SUPPORTED_OPSETS",
           "ExportError"]


def _import_onnx():
    try:
        import onnx
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("Exporting to ONNX needs the 'onnx' package: "
                          "pip install numpyflow[onnx]") from None
    return onnx


def _checked_opset(opset):
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) \
            or int(opset) not in SUPPORTED_OPSETS:
        raise ValueError(f"Unsupported ONNX opset {opset!r}: expected an int from "
                         f"{SUPPORTED_OPSETS[0]} to {SUPPORTED_OPSETS[-1]} (the default, "
                         f"{DEFAULT_OPSET}, is what onnxruntime-web 1.30 and ONNX Runtime >= 1.20 "
                         f"run).")
    return int(opset)


def export_onnx(target, filepath, input_signature=None, opset=None):
    """Writes `target` as an ONNX model file.

    Args:
      target: A built Keras model (Sequential, functional or subclassed), or a
        `tf.function` with an `input_signature`.
      filepath: The `.onnx` file to write (replaced whole, never left half-written).
      input_signature: Optional list of `tf.TensorSpec`, one per input; a `None` batch
        dimension stays dynamic ("batch").
      opset: The ONNX opset to write, from `SUPPORTED_OPSETS` (default `DEFAULT_OPSET`).

    Returns:
      The written `onnx.ModelProto`.

    Raises:
      ValueError: for an unsupported opset, an unbuilt model, a computation that cannot
        be traced (a `Lambda` that calls NumPy, ...).
      ExportError: (a `NotImplementedError`) for an operation without ONNX rule, naming it
        and the layer it comes from.
      ImportError: without the `onnx` package.
      FileNotFoundError, IsADirectoryError: for a `filepath` whose directory is missing,
        or that is a directory (checked before tracing).

    Example:

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((8, 8, 1)),
    ...                              tf.keras.layers.Conv2D(2, 3, activation="relu")])
    >>> proto = export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> [node.op_type for node in proto.graph.node]
    ['Transpose', 'Conv', 'Relu', 'Transpose']
    """
    onnx = _import_onnx()
    opset = _checked_opset(opset)
    from numpyflow.export.model_graph import trace_for_export
    from numpyflow.framework.file_safety import atomic_path
    directory = os.path.dirname(os.path.abspath(os.fspath(filepath)))
    if not os.path.isdir(directory):   # Before the (slow) trace; atomic_path checks again.
        raise FileNotFoundError(f"Cannot write the ONNX model to {filepath!r}: the directory "
                                f"{directory!r} does not exist.")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot write the ONNX model to {filepath!r}: it is a "
                                f"directory, expected a file path such as 'model.onnx'.")
    exported = trace_for_export(target, input_signature, format_name="ONNX")
    model = onnx_model(exported, opset)
    with atomic_path(filepath) as temporary:
        onnx.save_model(model, temporary)
    return model


def onnx_model(exported, opset=DEFAULT_OPSET):
    """The `onnx.ModelProto` of an `ExportGraph` (see `model_graph.trace_for_export`).

    Raises:
      ExportError: for an operation without ONNX rule.
    """
    onnx = _import_onnx()
    from onnx import helper
    opset = _checked_opset(opset)
    graph = exported.graph
    builder = OnnxBuilder(opset, exported.dynamic_dims, exported.describe, _uses(exported))
    # trace_for_export made the interface names distinct; `reserve` keeps node outputs
    # off them.
    input_names = [str(name) for name, _ in exported.inputs]
    output_names = [str(name) for name, _ in exported.outputs]
    for name in input_names + output_names:
        builder.reserve(name)
    inputs = []
    for name, (_, value) in zip(input_names, exported.inputs):
        builder.define(value, name, PLAIN)
        inputs.append(_value_info(helper, builder, name, value))
    for index, entry in enumerate(graph.body):
        if not isinstance(entry, Equation):
            continue   # A frozen graph has no assignments.
        _translate(builder, entry, exported, index)
    builder.equation = None
    outputs = [_output(helper, builder, name, atom)
               for name, (_, atom) in zip(output_names, exported.outputs)]
    onnx_graph = helper.make_graph(builder.nodes, _graph_name(exported.name), inputs, outputs,
                                   initializer=builder.initializers)
    model = helper.make_model(onnx_graph, ir_version=IR_VERSION,
                              opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="numpyflow", doc_string=f"{exported.name}")
    from numpyflow import __version__
    model.producer_version = __version__
    onnx.checker.check_model(model, full_check=True)
    return model


def _translate(builder, equation, exported, index):
    name = equation.primitive.name
    translate = RULES.get(name)
    builder.equation = equation
    if translate is None:
        builder.fail("it has no ONNX export rule.")
    if isinstance(translate, NotExportable):
        builder.fail(f"not exportable ({translate.reason}).")
    batch_sized = exported.batch_sized_constant_error(equation)
    if batch_sized:
        builder.fail(f"{batch_sized}.")
    for key in equation.attrs:
        if (index, key) in exported.dynamic_attrs and key not in DYNAMIC_ATTRS.get(name, ()):
            builder.fail(f"its attribute {key!r} changes with the batch size, which the ONNX "
                         f"rule for {name!r} cannot express; export with an input_signature "
                         f"that fixes the batch size.")
    translate(builder, equation)


def _uses(exported):
    """Value name -> how many equations and outputs read it."""
    counts = {name: len(readers) for name, readers in consumers(exported.graph).items()}
    for _, atom in exported.outputs:
        counts[atom.name] = counts.get(atom.name, 0) + 1
    return counts


def _output(helper, builder, name, atom):
    """The graph output `name`, in the result's traced (NHWC) layout: the node computing it
    writes `name` directly, or an Identity copies it (an input, a constant, a shared one)."""
    if not isinstance(atom, ATOMS):
        builder.fail(f"the output {name!r} is not a tensor.")
    source = builder.plain(atom)
    producers = [node for node in builder.nodes if source in node.output]
    if producers and not builder.is_output(source):
        builder.rename(source, name)
    else:
        builder.nodes.append(helper.make_node("Identity", [source], [name],
                                              name=f"{name}/Identity"))
    if isinstance(atom, Value):
        return _value_info(helper, builder, name, atom)
    value = np.asarray(atom.value)
    return helper.make_tensor_value_info(name, builder.onnx_dtype(value.dtype), value.shape)


def _value_info(helper, builder, name, value):
    dynamic = builder.dynamic(value)
    shape = [BATCH_DIM if axis in dynamic else int(dim) for axis, dim in enumerate(value.shape)]
    return helper.make_tensor_value_info(name, builder.onnx_dtype(value.dtype), shape)


def _graph_name(name):
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in str(name)) or "graph"
