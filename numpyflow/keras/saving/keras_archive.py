"""The `.keras` file: a zip archive in Keras 3's format, readable by Keras 3 and written by it.

The archive holds three members:

- `metadata.json`: `{"keras_version": ..., "date_saved": ...}`;
- `config.json`: `serialize_keras_object(model)`: the model's class and config, its
  `build_config` and, when it is compiled, its `compile_config`;
- `model.weights.h5`: every variable, in Keras 3's layout (see `weights_store`), the
  optimizer's state included;
- `assets/<layer path>/...`: files a layer writes with `save_assets(dir)` and reads back
  with `load_assets(dir)` (a lookup layer's `vocabulary.txt`), at the layer's path in the
  weights layout, as Keras 3 stores them.

Writing goes to a temporary file that replaces the target only when complete
(`file_safety.atomic_path`), so a save killed at any moment leaves the old file or the new
one. Reading never runs code from the file: the zip is read with bounds
(`file_safety.read_zip`), the HDF5 weights are checked before any read
(`file_safety.open_h5`), the config only names classes that numpyflow, the registry or
`custom_objects` know, and the weights are all read and checked before any is assigned.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2, name="out")])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> save_keras_archive(model, path)
    >>> load_keras_archive(path).get_layer("out").units
    2
"""

import datetime
import io
import json
import zipfile

from numpyflow.framework import errors as tf_errors
from numpyflow.framework import file_safety
from numpyflow.keras.saving import weight_budget, weights_store

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"

# The Keras version whose `.keras` format these files follow (Keras 3 reads it; it is
# written into `metadata.json` as Keras does).
KERAS_FORMAT_VERSION = "3.15.1"

# What a corrupt or hostile `.keras` file raises (besides FileNotFoundError/PermissionError
# for a path that cannot be opened): ValueError (`file_safety.UnsafeFileError` for the zip
# and HDF5 containers, `weights_store.WeightsMismatchError` for weights that do not fit, a
# plain ValueError naming the file for a config that cannot be loaded) or
# NotImplementedError (a valid Keras feature numpyflow lacks). Messages name the file.
LOAD_ERRORS = (ValueError, NotImplementedError)


def save_keras_archive(model, filepath, include_optimizer=True):
    """Writes `model` to `filepath` as a `.keras` zip archive (atomically).

    Args:
      model: A numpyflow `Model`; a subclassed one needs `get_config` and registration to
        be loadable.
      filepath: Destination path (its directory must exist).
      include_optimizer: Whether to store the optimizer's variables.
    """
    from numpyflow.keras.saving.serialization_lib import serialize_keras_object

    config_json = json.dumps(serialize_keras_object(model))
    metadata_json = json.dumps({
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    })
    weights = write_weights_h5_bytes(model, include_optimizer=include_optimizer)
    assets = _collect_assets(model)
    with file_safety.atomic_path(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr(METADATA_FILENAME, metadata_json, zipfile.ZIP_DEFLATED)
            archive.writestr(CONFIG_FILENAME, config_json, zipfile.ZIP_DEFLATED)
            archive.writestr(WEIGHTS_FILENAME, weights, zipfile.ZIP_STORED)
            for name, data in assets.items():
                archive.writestr(name, data, zipfile.ZIP_DEFLATED)


ASSETS_DIRNAME = "assets"


def _asset_prefix(vars_path):
    """`assets/layers/text_vectorization/` for the weights path `layers/.../vars`."""
    owner_path = vars_path[:-len("vars")].rstrip("/")
    return f"{ASSETS_DIRNAME}/{owner_path}/" if owner_path else f"{ASSETS_DIRNAME}/"


def _collect_assets(model):
    """`{member name: bytes}` of the files each layer's `save_assets(dir)` writes."""
    import os
    import tempfile

    assets = {}
    for path, entry in weights_store.model_state_paths(model).items():
        save_assets = getattr(entry.owner, "save_assets", None)
        if save_assets is None:
            continue
        with tempfile.TemporaryDirectory() as directory:
            save_assets(directory)
            for name in sorted(os.listdir(directory)):
                file_path = os.path.join(directory, name)
                if os.path.isfile(file_path):
                    with open(file_path, "rb") as file:
                        assets[_asset_prefix(path) + name] = file.read()
    return assets


def _load_assets(model, members, source):
    """Gives each layer with `load_assets(dir)` its files from the archive's `assets/`
    (written to a private temporary folder under their plain names). Asset files no layer
    reads are an error: their state would be lost silently."""
    import os
    import tempfile

    pending = {name for name in members if name.startswith(f"{ASSETS_DIRNAME}/")}
    for path, entry in weights_store.model_state_paths(model).items():
        prefix = _asset_prefix(path)
        files = {name[len(prefix):]: name for name in pending
                 if name.startswith(prefix) and "/" not in name[len(prefix):]}
        load_assets = getattr(entry.owner, "load_assets", None)
        if not files or load_assets is None:
            continue
        bad = sorted(member for plain_name, member in files.items()
                     if plain_name in ("", ".", "..") or "\\" in plain_name)
        if bad:
            raise ValueError(f"{source}: unusable asset file names {bad}.")
        with tempfile.TemporaryDirectory() as directory:
            for plain_name, member in files.items():
                with open(os.path.join(directory, plain_name), "wb") as file:
                    file.write(members[member])
            try:
                load_assets(directory)
            except (TypeError, UnicodeDecodeError) as error:
                raise ValueError(f"{source}: the assets of layer '{entry.name}' could not be "
                                 f"loaded: {type(error).__name__}: {error}") from error
        pending -= set(files.values())
    if pending:
        raise NotImplementedError(f"{source}: the archive holds assets that no layer of the "
                                  f"model reads: {sorted(pending)}.")


def write_weights_h5_bytes(model, include_optimizer=True):
    """The bytes of a `model.weights.h5` file holding `model`'s variables."""
    import h5py

    entries = weights_store.model_state_paths(model, include_optimizer=include_optimizer)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5file:
        weights_store.write_state(h5file, entries)
    return buffer.getvalue()


def load_keras_archive(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model stored in a `.keras` archive (see `keras.saving.load_model`).

    Raises:
      One of `LOAD_ERRORS`, naming the file: `file_safety.UnsafeFileError` for a hostile or
      corrupt archive, ValueError for a config that names unknown classes or a Lambda (in
      safe mode), `weights_store.WeightsMismatchError` when weights and config disagree.
    """
    source = str(filepath)
    members = file_safety.read_zip(filepath)
    config = _read_config(members, source)
    _check_members(members, source)
    if not compile:
        config = {key: value for key, value in config.items() if key != "compile_config"}
    # The config may declare weights of any size: at most what the weights file holds.
    with weight_budget.weight_budget(len(members[WEIGHTS_FILENAME]) + weight_budget.SLACK_BYTES,
                                     source):
        model = model_from_config_dict(config, custom_objects, safe_mode, source)
        _create_subclassed_variables(model, config.get("build_config"), source)
    weights = io.BytesIO(members[WEIGHTS_FILENAME])
    weights.name = f"{source} ({WEIGHTS_FILENAME})"  # For file_safety's error messages.
    with file_safety.open_h5(weights) as h5file:
        state = weights_store.read_state(h5file, file_safety.read_dataset)
    weights_store.assign_state(model, state, f"{source} ({WEIGHTS_FILENAME})",
                               include_optimizer=compile)
    _load_assets(model, members, source)
    return model


def _read_config(members, source):
    if CONFIG_FILENAME not in members:
        raise ValueError(f"{source} is not a Keras 3 `.keras` archive: it has no "
                         f"'{CONFIG_FILENAME}' (members: {sorted(members)}).")
    try:
        config = json.loads(members[CONFIG_FILENAME].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValueError(f"{source}: '{CONFIG_FILENAME}' is not valid JSON: {error}") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{source}: '{CONFIG_FILENAME}' should hold a serialized model (a "
                         f"dict with 'class_name' and 'config'); received "
                         f"{type(config).__name__}.")
    return config


def _check_members(members, source):
    if WEIGHTS_FILENAME not in members:
        raise ValueError(f"{source}: the archive has no '{WEIGHTS_FILENAME}' (members: "
                         f"{sorted(members)}); numpyflow reads only the HDF5 weights layout.")
    unknown = sorted(name for name in set(members) - {CONFIG_FILENAME, METADATA_FILENAME,
                                                       WEIGHTS_FILENAME}
                     if not name.startswith(f"{ASSETS_DIRNAME}/"))
    if unknown:
        raise NotImplementedError(f"{source}: the archive holds members numpyflow does not "
                                  f"read: {unknown}.")


def model_from_config_dict(config, custom_objects, safe_mode, source):
    """The model a serialized config describes, with the Lambda policy of `load_model`.

    With `safe_mode=True` a config holding a `Lambda` layer is refused. With
    `safe_mode=False`, a Lambda's function is looked up by name among `custom_objects` and
    the registered objects (`register_keras_serializable`) only: numpyflow never imports
    a module or runs code taken from a file.
    """
    from numpyflow.keras.saving.lambda_loading import RegisteredFunctionLambda
    from numpyflow.keras.saving.serialization_lib import deserialize_keras_object

    lambdas = _lambda_layer_names(config)
    custom_objects = dict(custom_objects or {})
    if lambdas:
        if safe_mode:
            raise ValueError(
                f"{source}: the model holds Lambda layer(s) {lambdas}, whose function is code. "
                f"Loading them is refused with safe_mode=True (the default). If you trust this "
                f"file, pass safe_mode=False: numpyflow then looks the function up by name in "
                f"`custom_objects` and the registered objects only (it never runs code from "
                f"the file, so a Lambda saved with bytecode by Keras still cannot load).")
        custom_objects.setdefault("Lambda", RegisteredFunctionLambda)
    try:
        model = deserialize_keras_object(config, custom_objects=custom_objects,
                                         safe_mode=safe_mode)
    except RecursionError:
        raise ValueError(f"{source}: the model config is nested too deeply to load.") from None
    except MemoryError as error:
        raise ValueError(f"{source}: the model config declares weights too large to "
                         f"create ({error}).") from None
    except (AttributeError, IndexError, KeyError, OverflowError, TypeError,
            tf_errors.OpError) as error:
        # A config of the right JSON types but with values or keys no layer accepts.
        raise ValueError(f"{source}: the model config could not be loaded: "
                         f"{type(error).__name__}: {error}") from error
    from numpyflow.keras.layers.base_layer import Layer
    if not isinstance(model, Layer):
        raise ValueError(f"{source}: the config describes a {type(model).__name__}, not a "
                         f"model.")
    return model


def _create_subclassed_variables(model, build_config, source):
    """Calls a subclassed model once on zeros of its built shape, so that its layers create
    their variables (as Keras 3's `build` of a subclassed model does)."""
    import numpy as np

    if getattr(model, "_is_graph_network", False) or not isinstance(build_config, dict):
        return
    if all(layer.built for layer in model._flatten_layers()[1:]):
        return
    shape = build_config.get("input_shape")
    if not isinstance(shape, (list, tuple)) or not shape:
        return
    nested = all(isinstance(s, (list, tuple)) for s in shape)
    try:
        shapes = [tuple(1 if d is None else int(d) for d in s)
                  for s in (shape if nested else [shape])]
        if any(d < 0 for s in shapes for d in s) or sum(int(np.prod(s)) for s in shapes) > 2**26:
            raise ValueError(f"unusable input_shape {shape!r}")
        inputs = [np.zeros(s, dtype="float32") for s in shapes]
        model(inputs if nested else inputs[0])
    except Exception as error:
        raise ValueError(f"{source}: could not create the variables of subclassed model "
                         f"'{model.name}' by calling it on zeros of build_config's input_shape "
                         f"{shape!r}: {type(error).__name__}: {error}") from error


def _lambda_layer_names(config):
    """The names of the Lambda layers anywhere in a serialized config (iteratively)."""
    names, stack = [], [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "Lambda":
                inner = item.get("config")
                names.append(inner.get("name") if isinstance(inner, dict) else None)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return names
