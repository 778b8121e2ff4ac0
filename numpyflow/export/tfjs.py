"""Writes a Keras model in the TensorFlow.js layers format, as `tensorflowjs` writes it.

The artifact is a directory holding `model.json` and binary weight shards, the layout of
`tensorflowjs.converters.save_keras_model`:

- `model.json`: `{"format": "layers-model", "generatedBy", "convertedBy", "modelTopology":
  {"keras_version", "backend", "model_config"}, "weightsManifest": [{"paths": [...],
  "weights": [{"name": "<layer>/kernel", "shape": [...], "dtype": "float32"}, ...]}]}`;
  `model_config` is the Keras-2-style config of `tfjs_config.tfjs_model_config`.
- `group1-shard1of1.bin`, ...: every weight's little-endian bytes (float32, int32) back to
  back, in manifest order, cut into shards of at most `weight_shard_size_bytes` (4 MiB by
  default, the most browsers cache).

Weights are named as tfjs-layers names them (`LayersModel.loadWeights` matches them by name):
`<layer>/<weight>`, with `depthwise_kernel` for `DepthwiseConv2D` and
`<bidirectional>/forward_<rnn>/...` and `backward_...` for `Bidirectional`.
Load it in JavaScript with `tf.loadLayersModel("http://.../model.json")`.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> out = os.path.join(tempfile.mkdtemp(), "web_model")
    >>> save_tfjs_model(model, out)
    >>> sorted(os.listdir(out))
    ['group1-shard1of1.bin', 'model.json']
"""

import json
import math
import os
import shutil
import tempfile

import numpy as np

from numpyflow.export.tfjs_config import tfjs_model_config
from numpyflow.framework.file_safety import _current_umask, _fsync_directory
from numpyflow import __version__

# The tf.keras release whose config layout `tfjs_model_config` writes (tfjs reads Keras 2);
# `generatedBy`/`convertedBy` name numpyflow, which wrote the file.
KERAS_VERSION = "2.15.0"
DEFAULT_SHARD_BYTES = 4 * 1024 * 1024
# numpy dtype -> tfjs dtype; float64/int64 are narrowed as the converter narrows them.
_DTYPES = {"float32": "float32", "float64": "float32", "float16": "float32",
           "int32": "int32", "int64": "int32", "bool": "bool"}


def save_tfjs_model(model, artifacts_dir, weight_shard_size_bytes=DEFAULT_SHARD_BYTES,
                    metadata=None):
    """Writes `model` to the directory `artifacts_dir` in the TF.js layers format.

    The directory is written whole beside its destination, then renamed into place, so an
    interrupted export leaves no half-written model. An existing directory is replaced only
    when it holds a previous export (a `model.json`); any other existing path is refused.

    Args:
      model: A built Sequential or functional model.
      artifacts_dir: The directory to write (`model.json` + shards).
      weight_shard_size_bytes: Largest shard file, in bytes (positive int).
      metadata: Optional JSON-serializable dict stored as `userDefinedMetadata`.

    Raises:
      ValueError: for an unbuilt model, a bad shard size, or a destination that is a file
        or a directory that is not a previous export.
      numpyflow.export.tfjs_config.UnsupportedTfjsLayerError: for a layer tfjs cannot load.

    Example:
      >>> import os, tempfile, json
      >>> import numpyflow as tf
      >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
      >>> out = os.path.join(tempfile.mkdtemp(), "web_model")
      >>> save_tfjs_model(model, out)
      >>> json.load(open(os.path.join(out, "model.json")))["format"]
      'layers-model'
    """
    check_options("save_tfjs_model", weight_shard_size_bytes, metadata)
    _check_built(model)
    destination = os.path.abspath(os.fspath(artifacts_dir))
    check_destination(destination)
    topology = {"keras_version": KERAS_VERSION, "backend": "tensorflow",
                "model_config": tfjs_model_config(model)}
    model_json = {"format": "layers-model",
                  "generatedBy": f"numpyflow v{__version__}",
                  "convertedBy": f"numpyflow.export v{__version__}"}
    if metadata:
        model_json["userDefinedMetadata"] = metadata
    model_json["modelTopology"] = topology
    write_artifacts(destination, model_json, weight_entries(model), weight_shard_size_bytes)


def check_options(caller, weight_shard_size_bytes, metadata):
    """Raises ValueError, naming `caller`, for a shard size that is not a positive int (a
    bool is not one) or metadata that is not a dict."""
    if (not isinstance(weight_shard_size_bytes, int) or isinstance(weight_shard_size_bytes, bool)
            or weight_shard_size_bytes <= 0):
        raise ValueError(f"{caller}: `weight_shard_size_bytes` must be a positive int. "
                         f"Received: weight_shard_size_bytes={weight_shard_size_bytes!r}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"{caller}: `metadata` must be a dict (JSON object) or None. "
                         f"Received: {type(metadata).__name__}")


def write_artifacts(destination, model_json, entries, shard_bytes):
    """Writes a TF.js model directory whole beside `destination`, then renames it into place.

    Shared by the layers and graph formats (`tfjs_graph`): `model_json` gets its
    `"weightsManifest"` from the shards written for `entries` (`[(name, array)]`, arrays
    already float32/int32/bool), and is saved as `model.json`. An interrupted export leaves
    no half-written model; the caller has checked `destination` with `check_destination`.
    """
    parent = os.path.dirname(destination)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(destination)}.",
                               suffix=".tmp")
    try:
        model_json = dict(model_json)
        model_json["weightsManifest"] = _write_shards(staging, entries, shard_bytes)
        with open(os.path.join(staging, "model.json"), "w", encoding="utf-8") as file:
            json.dump(model_json, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(staging, 0o777 & ~_current_umask())
        _swap_into_place(staging, destination)
        _fsync_directory(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def weight_entries(model):
    """`[(tfjs_name, float32/int32 array)]` for every weight, in the converter's order
    (layers sorted by name, as the `.h5` file the converter reads lists them)."""
    entries = []
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        names = _layer_weight_names(layer)
        for name, variable in zip(names, layer.weights):
            value = np.asarray(variable.numpy())
            dtype = _DTYPES.get(value.dtype.name)
            if dtype is None:
                raise ValueError(f"Cannot export weight '{name}' to TensorFlow.js: its dtype "
                                 f"is {value.dtype.name}; expected a float, int or bool.")
            entries.append((name, value.astype(dtype)))
    seen = set()
    for name, _ in entries:
        if name in seen:
            raise ValueError(f"Cannot export model '{model.name}' to TensorFlow.js: two "
                             f"weights would be named '{name}'.")
        seen.add(name)
    return entries


def _layer_weight_names(layer):
    """The names tf.keras 2.x's `.h5` files give `layer`'s weights, in `layer.weights` order.

    Recurrent layers keep their cell's scope (`lstm/lstm_cell/kernel`), which tfjs-layers
    resolves to its own `lstm/kernel` when loading, as it does for the converter's files.
    """
    class_name = type(layer).__name__
    if class_name == "Bidirectional":
        inner = layer.forward_layer.name
        inner = inner[len("forward_"):] if inner.startswith("forward_") else inner
        count = len(layer.forward_layer.weights)
        leaves = [_leaf(w, recurrent=True) for w in layer.weights]
        return ([f"{layer.name}/forward_{inner}/{leaf}" for leaf in leaves[:count]] +
                [f"{layer.name}/backward_{inner}/{leaf}" for leaf in leaves[count:]])
    target = layer.layer if class_name == "TimeDistributed" else layer
    recurrent = type(target).__name__ in _RECURRENT
    renames = {"kernel": "depthwise_kernel"} \
        if type(target).__name__ == "DepthwiseConv2D" else {}
    leaves = [_leaf(w, recurrent) for w in layer.weights]
    return [f"{layer.name}/{renames.get(leaf, leaf)}" for leaf in leaves]


_RECURRENT = ("SimpleRNN", "LSTM", "GRU")


def _leaf(variable, recurrent=False):
    """`kernel` from `dense/kernel:0`; `lstm_cell/kernel` from a recurrent layer's weight."""
    name = variable.name[:-2] if variable.name.endswith(":0") else variable.name
    parts = name.split("/")
    return "/".join(parts[-2:]) if recurrent and len(parts) >= 2 else parts[-1]


def _write_shards(directory, entries, shard_bytes):
    """Writes the weights' bytes as `group1-shard<i>of<n>.bin`; returns the manifest."""
    data = b"".join(value.astype(value.dtype.newbyteorder("<")).tobytes()
                    for _, value in entries)
    count = math.ceil(len(data) / shard_bytes)
    paths = []
    for index in range(count):
        path = f"group1-shard{index + 1}of{count}.bin"
        with open(os.path.join(directory, path), "wb") as file:
            file.write(data[index * shard_bytes:(index + 1) * shard_bytes])
            file.flush()
            os.fsync(file.fileno())
        paths.append(path)
    weights = [{"name": name, "shape": [int(d) for d in value.shape],
                "dtype": _DTYPES[value.dtype.name]} for name, value in entries]
    return [{"paths": paths, "weights": weights}]


def _check_built(model):
    if not getattr(model, "built", False):
        raise ValueError(
            f"Cannot export model '{model.name}': it has not been built yet. Build it first "
            "(give it an `Input`, call `build(input_shape)`, or call it on a batch of data).")


def check_destination(destination, what="layers format"):
    if os.path.isfile(destination) or os.path.islink(destination):
        raise ValueError(f"Cannot export to {destination!r}: it is a file; the TensorFlow.js "
                         f"{what} is a directory (model.json + weight shards).")
    if os.path.isdir(destination) and os.listdir(destination) and \
            not os.path.isfile(os.path.join(destination, "model.json")):
        raise ValueError(f"Cannot export to {destination!r}: the directory is not empty and "
                         "holds no previous export (model.json); refusing to replace it.")


def _swap_into_place(staging, destination):
    """Renames `staging` to `destination`, replacing a previous export there."""
    if not os.path.exists(destination):
        os.rename(staging, destination)
        return
    retired = tempfile.mkdtemp(dir=os.path.dirname(destination),
                               prefix=f".{os.path.basename(destination)}.", suffix=".old")
    os.rmdir(retired)
    os.rename(destination, retired)
    try:
        os.rename(staging, destination)
    except BaseException:
        os.rename(retired, destination)
        raise
    shutil.rmtree(retired, ignore_errors=True)
