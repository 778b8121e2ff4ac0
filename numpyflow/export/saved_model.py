"""Writes a model or function as a TensorFlow SavedModel (`tf.saved_model.save`,
`model.export(path)`), the directory TF Serving, `tf.saved_model.load`,
`tf.lite.TFLiteConverter.from_saved_model` and `tensorflowjs_converter` read:

- `saved_model.pb`: a `SavedModel` (schema version 1) with one `MetaGraphDef` tagged
  `"serve"`: a `GraphDef` of the inference computation and one `SignatureDef` per signature
  (`"serving_default"` unless named otherwise), method `"tensorflow/serving/predict"`,
  whose inputs and outputs name `Placeholder` and `Identity` nodes (`"<node>:0"`) with
  their dtypes and shapes (-1 for the batch size). Inputs are keyed by the Input layers'
  (or TensorSpecs', else arguments') names, outputs `output_0`, `output_1`, ... (a
  returned dict: by its keys), as Keras 3's `Model.export` keys them.
- `variables/` and `assets/`: empty. The weights are frozen into the graph as `Const`
  nodes, as TF1's frozen serving graphs hold them, so there is no variables checkpoint to
  restore (TF's loaders skip the restore when there is none) and nothing to train further.

The graph is the one the TF.js graph-model writer builds (`tfjs_graph.GraphDefBuilder` from
`model_graph.trace_for_export`: TF op names and attributes, NHWC layouts,
BatchNormalization folded), so both formats hold the same nodes and refuse the same
operations; the Const nodes get their values as `TensorProto.tensor_content`. Like TF.js,
the graph computes in float32/int32/bool (float64 weights and inputs are narrowed).

numpyflow writes SavedModels but does not read them (`numpyflow.saved_model.load` says so):
to reload a model in numpyflow, save it as `.keras`.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> out = os.path.join(tempfile.mkdtemp(), "served")
    >>> save_saved_model({"serving_default": model}, out)
    >>> sorted(os.listdir(out))
    ['assets', 'saved_model.pb', 'variables']
"""

import os
import shutil
import tempfile

import numpy as np

from numpyflow.export.model_graph import trace_for_export
from numpyflow.export.tfjs import _swap_into_place
from numpyflow.export.tfjs_graph import GRAPH_DEF_PRODUCER, GraphDefBuilder
from numpyflow.framework.file_safety import _current_umask, _fsync_directory

# The tag, signature and file names TF's loaders look for, defined with the public API.
from numpyflow.saved_model import (ASSETS_DIRECTORY, PREDICT_METHOD_NAME,
                                   SAVED_MODEL_FILENAME_PB, SAVED_MODEL_SCHEMA_VERSION, SERVING,
                                   VARIABLES_DIRECTORY)

__all__ = ["save_saved_model"]

FORMAT_NAME = "TensorFlow SavedModel"
# Protobuf refuses to parse a message of 2 GiB or more; frozen weights count toward it.
_MAX_PROTO_BYTES = 2**31 - 1


def save_saved_model(signatures, export_dir, input_signature=None):
    """Writes the SavedModel of `signatures` to the directory `export_dir`.

    The directory is written whole beside its destination and renamed into place; an
    existing directory is replaced only when it holds a previous SavedModel
    (`saved_model.pb`).

    Args:
      signatures: {signature key: target}, a target being a built Keras model
        (Sequential, functional or subclassed), a `tf.function` with an `input_signature`,
        or a `ConcreteFunction`. Each signature is traced and translated on its own; the
        nodes of every signature after the first are named under `"<key>/"`.
      export_dir: The directory to write.
      input_signature: Optional list of `tf.TensorSpec`, one per input, used for every
        target (a None batch stays dynamic); needed for a function without one.

    Raises:
      ValueError: for no signatures, a bad destination, an unbuilt model, or an operation
        the graph cannot hold (the error names it and the layer it comes from).
      ImportError: without the `protobuf` package.
    """
    from google.protobuf import json_format

    from numpyflow.export import saved_model_proto as pb
    if not isinstance(signatures, dict) or not signatures:
        raise ValueError(f"Cannot write a {FORMAT_NAME}: `signatures` must be a non-empty dict "
                         f"{{key: model or function}}. Received: {signatures!r}")
    destination = os.path.abspath(os.fspath(export_dir))
    _check_destination(destination)
    nodes, weights, signature_defs = [], {}, {}
    for position, (key, target) in enumerate(signatures.items()):
        if not isinstance(key, str) or not key:
            raise ValueError(f"Cannot write a {FORMAT_NAME}: signature keys must be non-empty "
                             f"strings. Received: {key!r}")
        exported = trace_for_export(target, input_signature, format_name=FORMAT_NAME)
        builder = GraphDefBuilder(exported, format_name=FORMAT_NAME)
        builder.translate()
        # Signatures share one GraphDef: prefix the later ones' node names to keep them apart.
        prefix = "" if position == 0 else _free_prefix(key, builder.nodes, nodes)
        nodes.extend(_renamed(node, prefix) for node in builder.nodes)
        weights.update((prefix + name, array) for name, array in builder.weights)
        signature = builder.signature()
        signature["outputs"] = dict(zip(_output_keys(exported),
                                        signature["outputs"].values()))
        for side in ("inputs", "outputs"):
            for info in signature[side].values():
                info["name"] = prefix + info["name"]
        signature["methodName"] = PREDICT_METHOD_NAME
        signature_defs[key] = signature

    graph = json_format.ParseDict({"node": nodes, "versions": {"producer": GRAPH_DEF_PRODUCER}},
                                  pb.GraphDef())
    for node in graph.node:
        if node.op == "Const":
            array = weights[node.name]
            node.attr["value"].tensor.tensor_content = _little_endian_bytes(array)
    meta_graph = pb.MetaGraphDef(
        meta_info_def=pb.MetaInfoDef(
            tags=[SERVING],
            # Attributes at their op's default are left out, as TF's stripped graphs do;
            # TF's importer fills them in.
            stripped_default_attrs=True),
        graph_def=graph)
    for key, signature in signature_defs.items():
        json_format.ParseDict(signature, meta_graph.signature_def[key])
    saved_model = pb.SavedModel(saved_model_schema_version=SAVED_MODEL_SCHEMA_VERSION,
                                meta_graphs=[meta_graph])
    size = saved_model.ByteSize()
    if size > _MAX_PROTO_BYTES:
        raise ValueError(f"Cannot write a {FORMAT_NAME} to {destination!r}: its graph with the "
                         f"frozen weights would take {size} bytes, over protobuf's 2 GiB limit.")
    _write_directory(destination, saved_model.SerializeToString())


def _output_keys(exported):
    """TF's keys for a signature's outputs, in `exported.outputs`' order.

    A returned dict keeps its keys (in sorted-key order, the order its values are
    flattened in); anything else is `output_0`, `output_1`, ... as `tf.saved_model.save`
    and Keras 3's `Model.export` key them, not by the output layers' names that the other
    export formats use.
    """
    outputs = exported.graph.outputs
    if isinstance(outputs, dict) and len(outputs) == len(exported.outputs):
        return [str(key) for key in sorted(outputs)]
    return [f"output_{i}" for i in range(len(exported.outputs))]


def _free_prefix(key, new_nodes, nodes):
    """`"<key>/"`, or `"<key>_<n>/"` if that would repeat a name already in `nodes`."""
    taken = {node["name"] for node in nodes}
    prefix, count = f"{key}/", 0
    while any(prefix + node["name"] in taken for node in new_nodes):
        count += 1
        prefix = f"{key}_{count}/"
    return prefix


def _renamed(node, prefix):
    """`node` (protobuf JSON) with `prefix` before its name and the names it reads."""
    if not prefix:
        return node
    node = dict(node, name=prefix + node["name"])
    if "input" in node:
        node["input"] = [f"^{prefix}{name[1:]}" if name.startswith("^") else prefix + name
                         for name in node["input"]]
    return node


def _little_endian_bytes(array):
    """`array`'s bytes as TF's `tensor_content` holds them (little-endian, C order)."""
    array = np.ascontiguousarray(array)
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def _check_destination(destination):
    if os.path.isfile(destination) or os.path.islink(destination):
        raise ValueError(f"Cannot write a {FORMAT_NAME} to {destination!r}: it is a file; a "
                         f"SavedModel is a directory (saved_model.pb, variables/, assets/).")
    if os.path.isdir(destination) and os.listdir(destination) and \
            not os.path.isfile(os.path.join(destination, SAVED_MODEL_FILENAME_PB)):
        raise ValueError(f"Cannot write a {FORMAT_NAME} to {destination!r}: the directory is "
                         f"not empty and holds no previous SavedModel ({SAVED_MODEL_FILENAME_PB});"
                         f" refusing to replace it.")


def _write_directory(destination, saved_model_bytes):
    """Writes the SavedModel directory whole beside `destination`, then renames it into
    place, so that an interrupted save leaves no half-written model."""
    parent = os.path.dirname(destination)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(destination)}.",
                               suffix=".tmp")
    try:
        mode = 0o777 & ~_current_umask()
        for folder in (VARIABLES_DIRECTORY, ASSETS_DIRECTORY):
            os.mkdir(os.path.join(staging, folder), mode)
        with open(os.path.join(staging, SAVED_MODEL_FILENAME_PB), "wb") as file:
            file.write(saved_model_bytes)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(staging, mode)  # mkdtemp made it private; a saved model is a normal folder.
        _swap_into_place(staging, destination)
        _fsync_directory(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
