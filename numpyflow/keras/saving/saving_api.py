"""`keras.saving.save_model` / `load_model` and the weights-file functions behind
`Model.save`, `Model.save_weights` and `Model.load_weights`.

The file's extension chooses the format, as in Keras 3: `.keras` is Keras 3's zip archive
(`keras_archive`), `.h5`/`.hdf5` the legacy TF 2.x HDF5 format (`legacy_h5`), and
`.weights.h5` a weights-only file in Keras 3's layout (`weights_store`).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> tf.keras.saving.save_model(model, path)
    >>> tf.keras.models.load_model(path).count_params()
    8
"""

import io
import os

from numpyflow.framework import file_safety
from numpyflow.keras.saving import keras_archive, weights_store

_LEGACY_H5 = (".h5", ".hdf5")


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves a model as a `.keras` archive (or, for `.h5`/`.hdf5`, in the legacy format).

    Args:
      model: The `keras.Model` to save.
      filepath: A path ending in `.keras`, `.h5` or `.hdf5`.
      overwrite: Whether to replace an existing file (if False, an existing file raises
        FileExistsError; Keras asks on the terminal instead).
      zipped: Must be None or True: numpyflow writes `.keras` files zipped only.
      **kwargs: `include_optimizer` (legacy `.h5` only, default True).

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    >>> tf.keras.saving.save_model(model, "model.txt")
    Traceback (most recent call last):
    ...
    ValueError: Invalid filepath extension for saving. Please add either a `.keras` extension for the native Keras format (recommended) or a `.h5` extension. Use `model.export(filepath)` if you want to export a SavedModel for use with TFLite/TFServing/etc. Received: filepath=model.txt.
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword argument(s): {sorted(kwargs)}.")
    filepath = os.fspath(filepath)
    if save_format not in (None, "keras", "h5"):
        raise NotImplementedError(f"save_model(): save_format={save_format!r} is not supported; "
                                  f"numpyflow writes '.keras' and legacy '.h5' files only.")
    if zipped not in (None, True):
        raise NotImplementedError(f"save_model(): only zipped `.keras` files are written; "
                                  f"received zipped={zipped!r}.")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_model(): {filepath} exists and overwrite=False.")
    if filepath.endswith(".keras"):
        if include_optimizer is not True:
            raise NotImplementedError("save_model(): `include_optimizer` applies to legacy "
                                      "`.h5` files only; `.keras` files always hold the "
                                      "optimizer's state, as in Keras 3.")
        keras_archive.save_keras_archive(model, filepath)
    elif filepath.endswith(_LEGACY_H5):
        from numpyflow.keras.saving.legacy_h5 import save_legacy_h5
        save_legacy_h5(model, filepath, include_optimizer=include_optimizer)
    else:
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for "
            "the native Keras format (recommended) or a `.h5` extension. Use "
            "`model.export(filepath)` if you want to export a SavedModel for use with "
            f"TFLite/TFServing/etc. Received: filepath={filepath}.")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `save_model` (or by Keras 3 / tf.keras 2.x).

    Args:
      filepath: A `.keras` archive, or a legacy `.h5`/`.hdf5` file.
      custom_objects: Optional `{name: class_or_function}` for custom layers, losses, ...
      compile: Whether to compile the model from the saved compile settings and restore the
        optimizer's state.
      safe_mode: If True (the default), a `Lambda` layer is refused. If False, a Lambda's
        function is resolved by name among `custom_objects` and registered objects only:
        numpyflow never runs code from a file.

    Returns:
      The model.

    Raises:
      ValueError: for an unknown extension, a hostile or corrupt file
        (`file_safety.UnsafeFileError`), weights that do not fit the config
        (`weights_store.WeightsMismatchError`), or unknown classes.
    """
    filepath_str = os.fspath(filepath)
    if filepath_str.endswith(".keras"):
        return keras_archive.load_keras_archive(filepath_str, custom_objects=custom_objects,
                                                compile=compile, safe_mode=safe_mode)
    if filepath_str.endswith(_LEGACY_H5):
        from numpyflow.keras.saving.legacy_h5 import load_legacy_h5
        return load_legacy_h5(filepath_str, custom_objects=custom_objects, compile=compile,
                              safe_mode=safe_mode)
    raise ValueError(
        f"File format not supported: filepath={filepath_str}. Keras 3 only supports V3 "
        f"`.keras` files and legacy H5 format files (`.h5` extension). Note that the legacy "
        f"SavedModel format is not supported by `load_model()` in Keras 3.")


def save_weights(model, filepath, overwrite=True):
    """Writes `model`'s variables to a `.weights.h5` file in Keras 3's layout (atomically).

    The optimizer's state is included when the model is compiled, as Keras 3 does.
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: "
                         f"filepath={filepath}")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights(): {filepath} exists and overwrite=False.")
    data = keras_archive.write_weights_h5_bytes(model, include_optimizer=True)
    with file_safety.atomic_path(filepath) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads a weights file into `model`: Keras 3's `.weights.h5` (all or nothing) or, for
    other `.h5`/`.hdf5` names, tf.keras 2.x's layout (`by_name`, `skip_mismatch`)."""
    filepath = os.fspath(filepath)
    by_name = kwargs.pop("by_name", False)
    if kwargs:
        raise TypeError(f"load_weights() got unexpected keyword argument(s): {sorted(kwargs)}.")
    if filepath.endswith(".keras"):
        if by_name or skip_mismatch:
            raise NotImplementedError("load_weights(): `by_name`/`skip_mismatch` apply to "
                                      "legacy `.h5` files only.")
        members = file_safety.read_zip(filepath)
        if keras_archive.WEIGHTS_FILENAME not in members:
            raise ValueError(f"{filepath} holds no '{keras_archive.WEIGHTS_FILENAME}'.")
        weights = io.BytesIO(members[keras_archive.WEIGHTS_FILENAME])
        weights.name = f"{filepath} ({keras_archive.WEIGHTS_FILENAME})"
        _load_weights_h5(model, weights, weights.name)
    elif filepath.endswith(".weights.h5"):
        if by_name or skip_mismatch:
            raise NotImplementedError(
                f"load_weights(): by_name={by_name!r}, skip_mismatch={skip_mismatch!r} are "
                f"supported for legacy tf.keras 2.x `.h5` files, not for Keras 3 "
                f"`.weights.h5` files, which are matched by position in the model.")
        _load_weights_h5(model, filepath, filepath)
    elif filepath.endswith(_LEGACY_H5):
        from numpyflow.keras.saving.legacy_h5 import load_weights_legacy_h5
        load_weights_legacy_h5(model, filepath, by_name=by_name, skip_mismatch=skip_mismatch)
    else:
        raise ValueError(f"File format not supported: filepath={filepath}. Keras 3 only "
                         f"supports V3 `.keras` and `.weights.h5` files, or legacy V1/V2 "
                         f"`.h5` files.")


def _load_weights_h5(model, source, name):
    with file_safety.open_h5(source) as h5file:
        state = weights_store.read_state(h5file, file_safety.read_dataset)
    weights_store.assign_state(model, state, name,
                               include_optimizer=getattr(model, "optimizer", None) is not None)
