"""Writes a model or function as a TensorFlow.js *graph model* (`tf.loadGraphModel`).

The layers format (`tfjs.py`) describes Keras layers, so it holds Sequential and
functional models only. The graph format holds any traced computation: subclassed models
and `tf.function`s too. It is what `tensorflowjs_converter --input_format=tf_saved_model`
writes, a directory with:

- `model.json`: `{"format": "graph-model", "generatedBy", "convertedBy", "signature":
  {"inputs": {name: TensorInfo}, "outputs": {...}}, "modelTopology": GraphDef,
  "weightsManifest": [...]}`. `modelTopology` is a TensorFlow `GraphDef` in protobuf-JSON
  form: `Placeholder` nodes named after the inputs, one node per operation (TF op names
  and attributes, NHWC layouts, named `<layer path>/<op>`), `Const` nodes for weights and
  for the shapes and axes TF ops take as inputs, and an `Identity` node per output
  (`Identity`, `Identity_1`, ...); the signature maps the input and output names to them.
- `group1-shard1of1.bin`, ...: the `Const` nodes' values (little-endian float32/int32/bool),
  in manifest order; each manifest entry is named after its `Const` node.

The computation is the model's inference graph from `model_graph.trace_for_export`
(weights frozen, BatchNormalization folded to a multiply and an add); each equation is
translated by its primitive's entry in `tfjs_graph_rules.RULES`. A batch size that follows
the input stays dynamic (`-1` in the placeholder's shape and in Reshape targets).

    >>> import os, tempfile, json
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> out = os.path.join(tempfile.mkdtemp(), "web_model")
    >>> save_tfjs_graph_model(model, out)
    >>> topology = json.load(open(os.path.join(out, "model.json")))["modelTopology"]
    >>> [node["op"] for node in topology["node"]]
    ['Placeholder', 'Const', 'MatMul', 'Const', 'BiasAdd', 'Identity']
"""

import os
import re

import numpy as np

from numpyflow import __version__
from numpyflow.export import tfjs_graph_rules
from numpyflow.export.model_graph import trace_for_export
from numpyflow.export.tfjs import (DEFAULT_SHARD_BYTES, check_destination, check_options,
                                   write_artifacts)
from numpyflow.export.tfjs_graph_rules import (RULES, NotExportable, UnsupportedDtypeError,
                                               shape_json, type_attr)
from numpyflow.framework.graph import Constant, Value

# The GraphDef version of TensorFlow 2.21, whose op definitions the nodes follow (TF.js reads
# it only to report `GraphModel.modelVersion`).
GRAPH_DEF_PRODUCER = 2474
FORMAT_NAME = "TensorFlow.js"
_NODE_NAME = re.compile(r"[^A-Za-z0-9_.\-/]")


def save_tfjs_graph_model(target, artifacts_dir, input_signature=None,
                          weight_shard_size_bytes=DEFAULT_SHARD_BYTES, metadata=None):
    """Writes `target`'s inference computation as a TF.js graph model in `artifacts_dir`.

    Like the layers format, the directory is written whole beside its destination and
    renamed into place; an existing directory is replaced only when it holds a previous
    export (a `model.json`).

    Args:
      target: A built Keras model (Sequential, functional or subclassed), a `tf.function`
        with an `input_signature`, or a `ConcreteFunction`.
      artifacts_dir: The directory to write (`model.json` + weight shards).
      input_signature: Optional list of `tf.TensorSpec`, one per input; a None batch stays
        dynamic. Needed for a function without one.
      weight_shard_size_bytes: Largest shard file, in bytes (positive int).
      metadata: Optional JSON-serializable dict stored as `userDefinedMetadata`.

    Raises:
      ValueError: for an unbuilt model, a bad shard size or destination, or an operation
        TF.js cannot run (the error names it and the layer it comes from).

    Example:
      >>> import os, tempfile
      >>> import numpyflow as tf
      >>> @tf.function(input_signature=[tf.TensorSpec([None, 4])])
      ... def scores(x):
      ...     return tf.nn.softmax(x * 2.0)
      >>> out = os.path.join(tempfile.mkdtemp(), "scores")
      >>> save_tfjs_graph_model(scores, out)
      >>> sorted(os.listdir(out))
      ['group1-shard1of1.bin', 'model.json']
    """
    check_options("save_tfjs_graph_model", weight_shard_size_bytes, metadata)
    destination = os.path.abspath(os.fspath(artifacts_dir))
    check_destination(destination, what="graph model")
    exported = trace_for_export(target, input_signature, format_name=FORMAT_NAME)
    builder = GraphDefBuilder(exported)
    builder.translate()
    model_json = {"format": "graph-model",
                  "generatedBy": f"numpyflow v{__version__}",
                  "convertedBy": f"numpyflow.export v{__version__}",
                  "signature": builder.signature()}
    if metadata:
        model_json["userDefinedMetadata"] = metadata
    model_json["modelTopology"] = {"node": builder.nodes, "library": {},
                                   "versions": {"producer": GRAPH_DEF_PRODUCER}}
    write_artifacts(destination, model_json, builder.weights, weight_shard_size_bytes)


class GraphDefBuilder:
    """Builds the GraphDef nodes and the weights of an `ExportGraph`, rule by rule.

    Rules call `tensor(atom)` for an operand's tensor name (a `Constant` becomes a `Const`
    node on first use), `const(array, hint)` for a new constant, `add(op, inputs, attrs)`
    for a node, and `define(value, tensor)` for what computes an equation's output.
    `format_name` is the format named in errors.
    """

    def __init__(self, exported, format_name=FORMAT_NAME):
        self.exported = exported
        # Named in errors: the SavedModel writer (`saved_model.py`) builds the same nodes.
        self.format_name = format_name
        self.nodes = []
        self.weights = []           # [(Const node name, array)], in node order.
        self._tensors = {}          # atom name -> tensor name ("node" or "node:1")
        self._taken = set()
        self._scope = ""
        self._equation = None
        self._index = None
        self._batch = {}            # value name -> its Shape[0:1] node
        self._output_nodes = []     # The Identity node of each output.

    # -- the whole graph -------------------------------------------------------------------
    def translate(self):
        """Adds the placeholders, every equation's nodes and the output Identity nodes."""
        self._reserve([name for name, _ in self.exported.inputs])
        # As TF's converter names them: Identity, Identity_1, ... (the signature maps the
        # output names to them).
        self._output_nodes = [self._unique("Identity") for _ in self.exported.outputs]
        for name, value in self.exported.inputs:
            node = self._interface_name(name)
            if value.dtype.kind not in "fiub":
                raise ValueError(f"Cannot export {self.exported.name!r} to "
                                 f"{self.format_name}: input {name!r} has dtype "
                                 f"{value.dtype.name}; {self.format_name} graphs take "
                                 f"float32, int32 and bool inputs.")
            shape = self.dynamic_shape(value)
            self.nodes.append({"name": node, "op": "Placeholder",
                               "attr": {"dtype": type_attr(value.dtype),
                                        "shape": {"shape": shape_json(shape)}}})
            self._tensors[value.name] = node
        for index, entry in enumerate(self.exported.graph.body):
            self._translate(index, entry)
        self._equation, self._scope = None, ""
        for node, (_, atom) in zip(self._output_nodes, self.exported.outputs):
            source = self.tensor(atom)
            self.nodes.append({"name": node, "op": "Identity",
                               "input": [source], "attr": {"T": type_attr(self.dtype(atom))}})

    def signature(self):
        """`{"inputs": ..., "outputs": ...}`: TensorInfo JSON keyed by the interface names."""
        def info(node, atom):
            return {"name": f"{node}:0", "dtype": type_attr(self.dtype(atom))["type"],
                    "tensorShape": shape_json(self.dynamic_shape(atom))}
        # (trace_for_export made the names distinct.)
        return {"inputs": {name: info(self._interface_name(name), value)
                           for name, value in self.exported.inputs},
                "outputs": {name: info(node, atom) for node, (name, atom)
                            in zip(self._output_nodes, self.exported.outputs)}}

    def _translate(self, index, equation):
        self._equation, self._index = equation, index
        self._scope = _NODE_NAME.sub("_", equation.scope or "")
        name = equation.primitive.name
        entry = RULES.get(name)
        if entry is None or isinstance(entry, NotExportable):
            why = entry.reason if entry is not None else "no TF.js rule for it yet"
            self.fail(f"{why}")
        batch_sized = self.exported.batch_sized_constant_error(equation)
        if batch_sized:
            self.fail(batch_sized)
        handled = tfjs_graph_rules.DYNAMIC_ATTRS.get(name, ())
        for key in equation.attrs:
            if (index, key) in self.exported.dynamic_attrs and key not in handled:
                self.fail(f"its attribute {key!r} changes with the batch size, which the "
                          f"TF.js rule cannot write; pass input_signature with a fixed batch")
        try:
            entry(self, equation)
        except UnsupportedDtypeError as error:
            self.fail(str(error))

    # -- what rules use --------------------------------------------------------------------
    def fail(self, why):
        """Raises the ValueError for the current equation: its primitive, layer and `why`."""
        equation = self._equation
        if equation is None:  # Writing the outputs.
            raise ValueError(f"{self.exported.name!r} cannot be exported to "
                             f"{self.format_name}: an output: {why}.")
        where = f"Layer '{equation.scope}'" if equation.scope else repr(self.exported.name)
        raise ValueError(f"{where} cannot be exported to {self.format_name}: operation "
                         f"{equation.primitive.name!r}: {why}.")

    def tensor(self, atom):
        """The tensor name computing `atom`; a Constant becomes a Const node on first use."""
        if atom.name in self._tensors:
            return self._tensors[atom.name]
        if isinstance(atom, Constant):
            self._tensors[atom.name] = self.const(atom.value, "Const")
            return self._tensors[atom.name]
        self.fail(f"it reads {atom.name}, which is not an array the exported graph computes "
                  f"(a value saved for a gradient, or a Variable)")

    def tensor_or_const(self, value, dtype):
        """`tensor(value)` for an atom; a Const of `dtype` for a Python or NumPy value."""
        if isinstance(value, (Value, Constant)):
            return self.tensor(value)
        return self.const(np.asarray(value, dtype), "Const")

    def const(self, array, hint):
        """Adds a Const node holding `array` (narrowed to what TF.js runs) and its weight."""
        array = np.asarray(array)
        dtype = {"f": np.float32, "i": np.int32, "u": np.int32, "b": np.bool_}.get(
            array.dtype.kind)
        if dtype is None:
            self.fail(f"it needs a constant of dtype {array.dtype.name}, which TF.js cannot "
                      f"hold")
        if array.dtype.kind in "iu" and array.size and (
                array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
            self.fail("it needs an integer constant outside int32's range")
        # (Not np.ascontiguousarray: it makes a scalar a 1-element vector, where TF's shape
        # functions want a scalar: a ConcatV2 axis, a Fill value.)
        array = np.asarray(array, dtype, order="C")
        name = self._unique(f"{self._scope}/{hint}" if self._scope else hint)
        self.nodes.append({"name": name, "op": "Const",
                           "attr": {"dtype": type_attr(array.dtype),
                                    "value": {"tensor": {"dtype": type_attr(array.dtype)["type"],
                                                         "tensorShape": shape_json(array.shape)}}}})
        self.weights.append((name, array))
        return name

    def add(self, op, inputs, attrs):
        """Adds a node `op` of the current layer's scope; returns its name."""
        name = self._unique(f"{self._scope}/{op}" if self._scope else op)
        node = {"name": name, "op": op}
        if inputs:
            node["input"] = list(inputs)
        node["attr"] = attrs
        self.nodes.append(node)
        return name

    def define(self, value, tensor):
        self._tensors[value.name] = tensor

    def reshaped(self, atom, shape):
        """`atom` with a new shape: a new Const for a constant, a Reshape node otherwise."""
        if isinstance(atom, Constant):
            return self.const(np.reshape(atom.value, shape), "Const")
        target = self.const(np.asarray(shape, np.int32), "shape")
        return self.add("Reshape", [self.tensor(atom), target],
                        {"T": type_attr(self.dtype(atom)), "Tshape": type_attr(np.int32)})

    def batch_of(self, atom):
        """A 1-element int32 tensor holding `atom`'s runtime batch size (Shape(atom)[0:1])."""
        if atom.name not in self._batch:
            shape = self.add("Shape", [self.tensor(atom)],
                             {"T": type_attr(self.dtype(atom)), "out_type": type_attr(np.int32)})
            bounds = [self.const(np.asarray([v], np.int32), hint)
                      for v, hint in ((0, "begin"), (1, "end"), (1, "strides"))]
            self._batch[atom.name] = self.add(
                "StridedSlice", [shape] + bounds,
                {"T": type_attr(np.int32), "Index": type_attr(np.int32),
                 **{mask: tfjs_graph_rules.int_attr(0) for mask in (
                     "begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                     "shrink_axis_mask")}})
        return self._batch[atom.name]

    def shape(self, atom):
        return tuple(atom.shape) if isinstance(atom, Value) else np.shape(atom.value)

    def dtype(self, atom):
        return atom.dtype if isinstance(atom, Value) else np.asarray(atom.value).dtype

    def dynamic_axes(self, atom):
        """The axes of `atom` whose size follows the batch size."""
        return set(self.exported.dynamic_dims.get(atom.name, ())) \
            if isinstance(atom, Value) else set()

    def dynamic_shape(self, atom):
        """`atom`'s shape with -1 for each size that follows the batch."""
        axes = self.dynamic_axes(atom)
        return [-1 if axis in axes else int(d) for axis, d in enumerate(self.shape(atom))]

    def is_dynamic(self, equation, key):
        """Whether attribute `key` of `equation` (the one being translated) follows the batch."""
        assert equation is self._equation
        return (self._index, key) in self.exported.dynamic_attrs

    # -- names -----------------------------------------------------------------------------
    def _reserve(self, names):
        for name in names:
            node = self._interface_name(name)
            if node in self._taken:
                raise ValueError(f"Cannot export {self.exported.name!r} to "
                                 f"{self.format_name}: two inputs would be named {node!r}.")
            self._taken.add(node)

    @staticmethod
    def _interface_name(name):
        return _NODE_NAME.sub("_", str(name)) or "tensor"

    def _unique(self, name):
        name = name.lstrip("/") or "node"
        candidate, count = name, 0
        while candidate in self._taken:
            count += 1
            candidate = f"{name}_{count}"
        self._taken.add(candidate)
        return candidate
