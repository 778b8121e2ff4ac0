"""Legacy TF 2.x HDF5 files (`.h5`): whole models, and weights by position or by name.

The layout tf.keras 2.x wrote and Keras 3's legacy saver still writes:

    /                     attrs: model_config (JSON {"class_name", "config"}), keras_version,
                                 backend, training_config (JSON compile settings + optimizer)
    /model_weights        attrs: layer_names, keras_version, backend
        /<layer name>     attrs: weight_names ("dense/kernel:0", ...: datasets, paths relative
                                 to the group), trainable weights first
        /top_level_model_weights
    /optimizer_weights    attrs: weight_names (iteration, [learning_rate,] slots in order)

A weights-only file (`save_weights_legacy_h5`) holds what is under `/model_weights` at its
root. numpyflow writes files that Keras 3 (`keras.models.load_model("m.h5")`) and tf.keras 2.x
load, and loads the files they write. Reading opens the file with `file_safety.open_h5`
(no external links, external storage or virtual datasets, bounded sizes), parses configs
with `json.loads` only and finds classes only among numpyflow's own, the registered ones
and `custom_objects`: no pickle, no import, no code from the file runs (a `Lambda` holding
bytecode is refused, also with `safe_mode=False`). Every weight is read and checked before
any is assigned, so a mismatch leaves the model as it was.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.h5")
    >>> save_legacy_h5(model, path)
    >>> load_legacy_h5(path).layers[0].units
    2
"""

import json
import logging
import os
import warnings

import numpy as np

from numpyflow.keras.saving import legacy_config, serialization_lib
from numpyflow.keras.saving.weight_budget import SLACK_BYTES, weight_budget

_log = logging.getLogger("numpyflow")

# The Keras version whose `.h5` layout these files follow, and the backend named in them.
KERAS_VERSION = "3.15.1"
BACKEND = "numpyflow"

# HDF5 keeps attributes in the object header, which holds at most 64 KiB: longer name lists
# are split over attributes `name0`, `name1`, ... as Keras does.
_ATTRIBUTE_LIMIT = 64512


# -- saving -------------------------------------------------------------------------------

def save_legacy_h5(model, path, include_optimizer=True):
    """Saves a Sequential or functional model to a TF 2.x `.h5` file (atomically).

    Args:
      model: A built Sequential or functional `keras.Model`.
      path: Where to write; the file is replaced only once complete.
      include_optimizer: Whether to save the compile settings and the optimizer's state.

    Raises:
      NotImplementedError: for a subclassed model (its config cannot describe its graph).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> save_legacy_h5(model, os.path.join(tempfile.mkdtemp(), "model.h5"))
    """
    import h5py
    from numpyflow.framework.file_safety import atomic_path
    _check_graph_model(model, "save it to HDF5")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not been built, so it has no weights to "
                         f"save. Build it (give it an input shape or call it on data) first.")
    path = _path(path)
    attributes = {"keras_version": KERAS_VERSION, "backend": BACKEND,
                  "model_config": _json(legacy_config.downgrade_model_config(
                      {"class_name": _class_name(model), "config": model.get_config()}))}
    optimizer = getattr(model, "optimizer", None)
    save_optimizer = include_optimizer and optimizer is not None and \
        getattr(model, "_is_compiled", False)
    if save_optimizer:
        attributes["training_config"] = _json(_training_config(model))
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as file:
            for key, value in attributes.items():
                file.attrs[key] = value.encode("utf-8")
            _write_model_weights(file.create_group("model_weights"), model)
            if save_optimizer:
                _write_optimizer_weights(file, model)


def save_weights_legacy_h5(model, path):
    """Saves a model's weights in tf.keras 2.x's `.h5` weights layout (atomically).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> save_weights_legacy_h5(model, os.path.join(tempfile.mkdtemp(), "weights.h5"))
    """
    import h5py
    from numpyflow.framework.file_safety import atomic_path
    path = _path(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as file:
            _write_model_weights(file, model)


def _write_model_weights(group, model):
    layers = model.layers
    _write_names(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = BACKEND.encode("utf-8")
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf-8")
    # Sorted, as Keras does, so that no group name is written before a prefix of it.
    for layer in sorted(layers, key=lambda layer: layer.name):
        _write_weight_list(group.create_group(layer.name), layer.weights)
    own = [w for w in getattr(model, "_tracked_weights", ())]
    _write_weight_list(group.create_group("top_level_model_weights"), own)


def _write_weight_list(group, variables):
    names = _unique([_variable_name(variable) for variable in variables])
    _write_names(group, "weight_names", names)
    for name, variable in zip(names, variables):
        value = np.asarray(variable.numpy())
        group.create_dataset(name, data=value)


def _write_optimizer_weights(file, model):
    """Keras 3's order: iteration, learning_rate (when a variable), then the slots."""
    optimizer = model.optimizer
    variables = list(optimizer.variables)
    if len(variables) <= 1:
        return  # Not built yet (never trained): no state worth saving.
    prefix = optimizer.name
    names = [f"{prefix}/iteration:0"]
    values = [np.asarray(variables[0].numpy())]
    learning_rate = _learning_rate_variable(optimizer)
    if learning_rate is not None:
        names.append(f"{prefix}/learning_rate:0")
        values.append(np.asarray(learning_rate.numpy()))
    for variable in variables[1:]:
        names.append(f"{prefix}/{_variable_name(variable)}")
        values.append(np.asarray(variable.numpy()))
    names = _unique(names)
    group = file.create_group("optimizer_weights")
    _write_names(group, "weight_names", names)
    for name, value in zip(names, values):
        group.create_dataset(name, data=value)


def _training_config(model):
    """The compile settings as tf.keras 2.x / Keras 3 write them in `training_config`."""
    get_compile_config = getattr(model, "get_compile_config", None)
    config = get_compile_config() if get_compile_config is not None else None
    if config:
        config = serialization_lib.serialize_dict(config)
    else:
        compiled_loss = getattr(model, "compiled_loss", None)
        compiled_metrics = getattr(model, "compiled_metrics", None)
        config = {"loss": serialization_lib.serialize_keras_object(
                      getattr(compiled_loss, "_loss", None)),
                  "loss_weights": serialization_lib.serialize_keras_object(
                      getattr(compiled_loss, "_loss_weights", None)),
                  "metrics": serialization_lib.serialize_keras_object(
                      getattr(compiled_metrics, "_identifiers", None)),
                  "weighted_metrics": None}
    config = dict(config)
    config.pop("optimizer", None)
    config["loss"] = _full_loss_names(config.get("loss"))
    config.setdefault("loss_weights", None)
    optimizer = model.optimizer
    optimizer_config = serialization_lib.serialize_dict(optimizer.get_config())
    for key, default in _KERAS3_OPTIMIZER_DEFAULTS.items():
        if key in optimizer_config and optimizer_config[key] == default:
            del optimizer_config[key]
    config["optimizer_config"] = {"class_name": type(optimizer).__name__,
                                  "config": optimizer_config}
    return config


# Optimizer arguments that tf.keras 2.x's (legacy) optimizers refuse, left out of the file
# when they have their default values (which Keras 3 then takes).
_KERAS3_OPTIMIZER_DEFAULTS = {"weight_decay": None, "use_ema": False, "ema_momentum": 0.99,
                              "ema_overwrite_frequency": None, "loss_scale_factor": None,
                              "gradient_accumulation_steps": None}


# Keras 3's legacy loader cannot read these aliases as losses; their full names both read.
_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "mape": "mean_absolute_percentage_error",
                 "msle": "mean_squared_logarithmic_error"}


def _full_loss_names(loss):
    if isinstance(loss, str):
        return _LOSS_ALIASES.get(loss, loss)
    if isinstance(loss, list):
        return [_full_loss_names(item) for item in loss]
    if isinstance(loss, dict) and "class_name" not in loss:
        return {key: _full_loss_names(value) for key, value in loss.items()}
    return loss


# -- loading a model ----------------------------------------------------------------------

def load_legacy_h5(path, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model from a TF 2.x `.h5` file (written by tf.keras 2.x, Keras 3 or numpyflow).

    Args:
      path: The `.h5` file.
      custom_objects: Optional `{name: class_or_function}` for custom layers, losses, ...
      compile: Whether to compile the model with the saved settings and restore the
        optimizer's state.
      safe_mode: Refuse `Lambda` layers holding code (numpyflow refuses them either way: it
        never runs code from a file; the message says so).

    Returns:
      The model, with its weights; compiled when `compile` and the file has settings.

    Raises:
      ValueError: for a file without a model config, an unknown class, a Lambda holding
        code, or weights that do not fit the model (naming the layer and both shapes).
      file_safety.UnsafeFileError: for a hostile or corrupt HDF5 file.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.h5")
    >>> save_legacy_h5(model, path)
    >>> [w.shape for w in load_legacy_h5(path).get_weights()]
    [(3, 2), (2,)]
    """
    from numpyflow.framework.file_safety import open_h5
    path = _path(path)
    custom_objects = dict(custom_objects or {})
    with open_h5(path) as file:
        config = _read_json_attribute(file, "model_config", path)
        if config is None:
            raise ValueError(f"No model config found in the file at {path}: it is not a "
                             f"model saved with `model.save()` (weights only? use "
                             f"`model.load_weights()`).")
        config = legacy_config.upgrade_model_config(config, safe_mode=safe_mode, source=path)
        if "model_weights" not in file:
            raise ValueError(f"The file {path} has a model config but no 'model_weights' "
                             f"group: it is not a complete Keras model file.")
        # The same Lambda policy as `.keras` files: refused in safe mode; with
        # safe_mode=False, functions found by registered name only.
        from numpyflow.keras.saving.keras_archive import model_from_config_dict
        # The config may declare weights of any size: at most what the file holds.
        with weight_budget(os.path.getsize(path) + SLACK_BYTES, path):
            model = model_from_config_dict(config, custom_objects, safe_mode, path)
        _check_graph_model(model, "load its weights from HDF5", loading=True)
        assignments = _read_model_weights(_group(file, "model_weights", path), model, path,
                                          by_name=False, skip_mismatch=False)
        training_config = _read_json_attribute(file, "training_config", path) \
            if compile else None
        optimizer_values = _read_optimizer_weights(file, path) \
            if training_config is not None else None
    _assign(assignments)
    if compile:
        if training_config is None:
            _log.warning("No training configuration found in the save file, so the model "
                         "was *not* compiled. Compile it manually.")
        else:
            _compile_from_training_config(model, training_config, custom_objects, path)
            if optimizer_values is not None:
                _restore_optimizer(model, optimizer_values, path)
    return model


# -- loading weights ----------------------------------------------------------------------

def load_weights_legacy_h5(model, path, by_name=False, skip_mismatch=False):
    """Loads weights from a TF 2.x `.h5` file (a weights file or a whole-model file).

    Args:
      model: The model to load into.
      path: The `.h5` file.
      by_name: Match layers by name (as tf.keras 2.x): layers absent from the file keep
        their weights, saved layers absent from the model are ignored. Otherwise layers
        with weights are matched in order.
      skip_mismatch: With `by_name=True`, skip layers whose number or shapes of weights
        differ, with a warning naming the layer and both shapes (instead of raising).

    Raises:
      ValueError: when the weights do not fit (naming the layer and both shapes); then no
        weight of the model has changed.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.h5")
    >>> save_weights_legacy_h5(model, path)
    >>> load_weights_legacy_h5(model, path, by_name=True)
    """
    from numpyflow.framework.file_safety import open_h5
    if skip_mismatch and not by_name:
        raise ValueError("When calling model.load_weights, skip_mismatch can only be set to "
                         "True when by_name is True.")
    path = _path(path)
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not been built, so its weights cannot be "
                         f"loaded yet. Build it (give it an input shape or call it on data) "
                         f"first.")
    with open_h5(path) as file:
        group = _group(file, "model_weights", path) if "model_weights" in file else file
        assignments = _read_model_weights(group, model, path, by_name=by_name,
                                          skip_mismatch=skip_mismatch)
    _assign(assignments)


def _read_model_weights(group, model, path, by_name, skip_mismatch):
    """Every (variable, value) to assign, all read and checked before any is assigned."""
    layer_names = _read_names(group, "layer_names", path)
    if layer_names is None:
        raise ValueError(f"The file {path} holds no 'layer_names' attribute: it is not a "
                         f"Keras HDF5 weights file (a `.weights.h5` file of Keras 3's format "
                         f"is read by `model.load_weights` with that extension).")
    saved = []  # (name, [(weight name, value)])
    for name in layer_names:
        layer_group = _group(group, name, path)
        saved.append((name, _read_weight_list(layer_group, path)))
    assignments = []
    if by_name:
        index = {}
        for layer in model.layers:
            index.setdefault(layer.name, []).append(layer)
        for position, (name, values) in enumerate(saved):
            for layer in index.get(name, ()):
                assignments += _match(layer, values, path, skip_mismatch,
                                      f"layer #{position} (named {layer.name!r})")
    else:
        layers = [layer for layer in model.layers if layer.weights]
        saved = [(name, values) for name, values in saved if values]
        if len(saved) != len(layers):
            raise ValueError(
                f"Layer count mismatch when loading weights from file {path}. Model expected "
                f"{len(layers)} layers with weights ({[layer.name for layer in layers]}), "
                f"found {len(saved)} saved layers ({[name for name, _ in saved]}).")
        for position, (layer, (name, values)) in enumerate(zip(layers, saved)):
            assignments += _match(layer, values, path, False,
                                  f"layer #{position} (named {layer.name!r} in the model, "
                                  f"{name!r} in the file)")
    if "top_level_model_weights" in group:
        values = _read_weight_list(_group(group, "top_level_model_weights", path), path)
        own = list(getattr(model, "_tracked_weights", ()))
        if values or own:
            assignments += _match(model, values, path, skip_mismatch and by_name,
                                  "the top-level model", variables=own)
    return assignments


def _match(layer, values, path, skip_mismatch, description, variables=None):
    """[(variable, value)] pairing `layer`'s weights with saved ones, checked."""
    variables = list(layer.weights) if variables is None else variables
    if len(values) != len(variables):
        message = (f"Weight count mismatch for {description} when loading {path}: the layer "
                   f"expects {len(variables)} weight(s) "
                   f"{[tuple(v.shape) for v in variables]}, the file has {len(values)} "
                   f"({[value.shape for _, value in values]}).")
        if skip_mismatch:
            warnings.warn("Skipping loading of weights: " + message, stacklevel=4)
            return []
        raise ValueError(message)
    pairs = []
    for variable, (weight_name, value) in zip(variables, values):
        expected = tuple(variable.shape)
        if tuple(value.shape) != expected:
            message = (f"Shape mismatch in {description} for weight {variable.name} (saved "
                       f"as {weight_name!r} in {path}): the weight expects shape {expected}, "
                       f"the saved weight has shape {tuple(value.shape)}.")
            if skip_mismatch:
                warnings.warn("Skipping loading of weights for " + message, stacklevel=4)
                return []
            raise ValueError(message)
        pairs.append((variable, value))
    return pairs


def _assign(assignments):
    for variable, value in assignments:
        variable.assign(np.asarray(value, dtype=variable.dtype.name))


# -- compile settings and optimizer state -------------------------------------------------

def _compile_from_training_config(model, training_config, custom_objects, path):
    if not isinstance(training_config, dict) or \
            not isinstance(training_config.get("optimizer_config"), dict):
        raise ValueError(f"The training configuration in {path} is not valid (expected a dict "
                         f"with 'optimizer_config'); load with compile=False to skip it. "
                         f"Received: {legacy_config._short(training_config)}")

    def deserialize(config, kind):
        return serialization_lib.deserialize_keras_object(
            config, custom_objects=custom_objects, printable_module_name=kind)

    optimizer_config = dict(training_config["optimizer_config"])
    class_name = optimizer_config.get("class_name")
    try:
        optimizer = deserialize(optimizer_config, "optimizer")
    except ValueError:
        # tf.keras 2.11+ registered its own optimizers as "Custom>Adam".
        if not (isinstance(class_name, str) and class_name.startswith("Custom>")):
            raise
        optimizer_config["class_name"] = class_name[len("Custom>"):]
        optimizer = deserialize(optimizer_config, "optimizer")
    loss = _compile_argument(training_config.get("loss"), deserialize, "loss")
    metrics = _metrics_argument(training_config.get("metrics"), model, deserialize)
    weighted = training_config.get("weighted_metrics")
    if weighted:
        raise NotImplementedError(f"The file {path} was compiled with weighted_metrics, which "
                                  f"numpyflow does not support yet; load with compile=False.")
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                  loss_weights=training_config.get("loss_weights"))


def _compile_argument(config, deserialize, kind):
    """A loss (or nested list/dict of them) from its saved form."""
    if config is None or isinstance(config, str):
        return config
    if isinstance(config, dict) and "class_name" in config:
        inner = config.get("config")
        if isinstance(inner, dict) and inner.get("reduction") == "auto":
            config = {**config, "config": {**inner, "reduction": "sum_over_batch_size"}}
        return deserialize(config, kind)
    if isinstance(config, dict):
        return {key: _compile_argument(value, deserialize, kind) for key, value in config.items()}
    if isinstance(config, list):
        return [_compile_argument(value, deserialize, kind) for value in config]
    return config


def _metrics_argument(config, model, deserialize):
    """Metrics from tf.keras 2.x (lists per output, MeanMetricWrapper) or Keras 3."""
    if config is None:
        return None
    if isinstance(config, list) and len(config) == 1 and isinstance(config[0], list) and \
            len(getattr(model, "outputs", None) or [None]) == 1:
        config = config[0]  # tf.keras 2.x: one list per output.

    def one(item):
        if isinstance(item, dict) and item.get("class_name") == "MeanMetricWrapper" and \
                isinstance(item.get("config"), dict):
            inner = item["config"]
            # A built-in metric function: by its short name if that is one ("mae").
            return inner.get("name") or inner.get("fn")
        if isinstance(item, list):
            return [one(x) for x in item]
        if isinstance(item, dict) and "class_name" not in item:
            return {key: one(value) for key, value in item.items()}
        if isinstance(item, dict):
            return deserialize(item, "metric")
        return item

    return one(config)


def _read_optimizer_weights(file, path):
    if "optimizer_weights" not in file:
        return None
    return [value for _, value in
            _read_weight_list(_group(file, "optimizer_weights", path), path)]


def _restore_optimizer(model, values, path):
    """Sets the optimizer's state from a numpyflow, Keras 3 or tf.keras 2.x layout.

    numpyflow's variables are [iteration, slots...]; Keras 3 adds the learning rate
    second, tf.keras 2.x does not. Anything else is a warning, as in Keras: the model
    is loaded with a fresh optimizer.
    """
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    variables = list(optimizer.variables)
    learning_rate = _learning_rate_variable(optimizer)
    targets = None
    if len(values) == len(variables) + 1 and learning_rate is not None:
        targets = variables[:1] + [learning_rate] + variables[1:]
    elif len(values) == len(variables):
        targets = variables
    mismatch = targets is None or any(
        tuple(np.shape(value)) != tuple(variable.shape)
        for variable, value in zip(targets, values))
    if mismatch:
        _log.warning("Error in loading the saved optimizer state from %s: it holds %d values, "
                     "the optimizer %d variables (shapes %s vs %s). As a result, your model is "
                     "starting with a freshly initialized optimizer.", path, len(values),
                     len(variables), [tuple(np.shape(v)) for v in values],
                     [tuple(v.shape) for v in variables])
        return
    _assign(list(zip(targets, values)))


def _learning_rate_variable(optimizer):
    import numpyflow as tf
    learning_rate = getattr(optimizer, "_learning_rate", None)
    return learning_rate if isinstance(learning_rate, tf.Variable) else None


# -- HDF5 helpers -------------------------------------------------------------------------

def _read_weight_list(group, path):
    """[(name, array)] of a group's `weight_names`, read with the file-safety checks."""
    import h5py
    from numpyflow.framework.file_safety import read_dataset
    names = _read_names(group, "weight_names", path) or []
    values = []
    for name in names:
        if name.startswith("/") or name not in group:
            raise ValueError(f"The file {path} lists a weight {name!r} in group "
                             f"{group.name!r} that is not stored there.")
        dataset = group[name]
        if not isinstance(dataset, h5py.Dataset):
            raise ValueError(f"The weight {name!r} in group {group.name!r} of {path} is not a "
                             f"dataset.")
        values.append((name, read_dataset(dataset)))
    return values


def _group(parent, name, path):
    import h5py
    if name.startswith("/") or name not in parent or \
            not isinstance(parent[name], h5py.Group):
        raise ValueError(f"The file {path} has no group {name!r} under {parent.name!r}, which "
                         f"its 'layer_names' list (or the Keras layout) requires.")
    return parent[name]


def _read_names(group, name, path):
    """A list-of-names attribute, joined from Keras's `name0`, `name1`, ... chunks."""
    from numpyflow.framework.file_safety import read_attribute
    if name in group.attrs:
        chunks = [read_attribute(group, name)]
    else:
        chunks = []
        while f"{name}{len(chunks)}" in group.attrs:
            chunks.append(read_attribute(group, f"{name}{len(chunks)}"))
        if not chunks:
            return None
    names = []
    for chunk in chunks:
        for item in np.atleast_1d(np.asarray(chunk)).tolist() if np.size(chunk) else []:
            if not isinstance(item, str):
                raise ValueError(f"The attribute {name!r} of {group.name!r} in {path} should "
                                 f"hold names; it holds {item!r}.")
            names.append(item)
    return names


def _write_names(group, name, names):
    encoded = [n.encode("utf-8") for n in names]
    too_long = [n for n in encoded if len(n) > _ATTRIBUTE_LIMIT]
    if too_long:
        raise ValueError(f"Cannot save the names {too_long[:3]} to HDF5: each must be shorter "
                         f"than {_ATTRIBUTE_LIMIT} bytes.")
    array = np.array(encoded, dtype=bytes) if encoded else np.array([], dtype="S1")
    chunks = 1
    while array.nbytes / chunks > _ATTRIBUTE_LIMIT:
        chunks += 1
    if chunks == 1:
        group.attrs[name] = array
    else:
        for i, chunk in enumerate(np.array_split(array, chunks)):
            group.attrs[f"{name}{i}"] = chunk


def _read_json_attribute(file, name, path):
    from numpyflow.framework.file_safety import read_attribute
    if name not in file.attrs:
        return None
    value = read_attribute(file, name)
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if not isinstance(value, str):
        raise ValueError(f"The attribute {name!r} of {path} should be a JSON string; it is "
                         f"{type(value).__name__}.")
    try:
        return legacy_config.decode_legacy_json(json.loads(value))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"The attribute {name!r} of {path} is not valid JSON: "
                         f"{error}") from None


# -- small helpers --------------------------------------------------------------------------

def _check_graph_model(model, action, loading=False):
    if not getattr(model, "_is_graph_network", False):
        what = "The file's config describes" if loading else "Received"
        raise NotImplementedError(
            f"{what} a model of class {type(model).__name__}, which is not a Sequential or "
            f"functional model. To {action}, the HDF5 format needs a Sequential or functional "
            f"model (its config describes the graph); save subclassed models in the `.keras` "
            f"format or with `save_weights`.")


def _class_name(model):
    from numpyflow.keras.models.sequential import Sequential
    return "Sequential" if isinstance(model, Sequential) else "Functional"


def _variable_name(variable):
    name = variable.name
    return name if name.endswith(":0") else f"{name}:0"


def _unique(names):
    """Names made unique within a group (HDF5 cannot hold two datasets of one name)."""
    seen, result = set(), []
    for name in names:
        candidate, count = name, 0
        while candidate in seen:
            count += 1
            stem = name[:-2] if name.endswith(":0") else name
            candidate = f"{stem}_{count}:0"
        seen.add(candidate)
        result.append(candidate)
    return result


def _path(path):
    if hasattr(path, "__fspath__") or isinstance(path, str):
        return os.fspath(path)
    raise TypeError(f"Expected a file path (str or os.PathLike) for the HDF5 file. Received: "
                    f"{path!r} of type {type(path).__name__}.")


def _json(value):
    return json.dumps(value, default=_json_default)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Cannot write {obj!r} of type {type(obj).__name__} to JSON.")
