"""`tf.saved_model`: writes TensorFlow SavedModels for TF Serving, TFLite and TF.js.

`save(obj, export_dir)` writes a SavedModel directory that TensorFlow's loaders read: a
`"serve"`-tagged graph with a `"serving_default"` signature (see
`numpyflow.export.saved_model` for what is in it). The weights are frozen into the graph,
so the SavedModel serves predictions; it holds no variables to train further, and
numpyflow does not load SavedModels back (`load` says so). This package loads on first use
of `tf.saved_model`; writing needs the `protobuf` package (`pip install numpyflow[tfrecord]`).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> from numpyflow import saved_model
    >>> @tf.function(input_signature=[tf.TensorSpec([None, 3], name="x")])
    ... def double(x):
    ...     return x * 2.0
    >>> out = os.path.join(tempfile.mkdtemp(), "double")
    >>> saved_model.save(double, out)
    >>> saved_model.contains_saved_model(out)
    True
"""

import os

__all__ = ["save", "load", "contains_saved_model", "SERVING", "TRAINING", "GPU", "TPU",
           "DEFAULT_SERVING_SIGNATURE_DEF_KEY", "PREDICT_METHOD_NAME", "PREDICT_INPUTS",
           "PREDICT_OUTPUTS", "SAVED_MODEL_FILENAME_PB", "SAVED_MODEL_SCHEMA_VERSION",
           "VARIABLES_DIRECTORY", "ASSETS_DIRECTORY"]

# tf.saved_model's tag and signature constants (the values TF's loaders look for).
SERVING = "serve"
TRAINING = "train"
GPU = "gpu"
TPU = "tpu"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
PREDICT_INPUTS = "inputs"
PREDICT_OUTPUTS = "outputs"
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_SCHEMA_VERSION = 1
VARIABLES_DIRECTORY = "variables"
ASSETS_DIRECTORY = "assets"


def save(obj, export_dir, signatures=None, options=None):
    """Writes `obj`'s serving computation as a SavedModel in `export_dir` (`tf.saved_model.save`).

    Args:
      obj: A built Keras model, a `tf.function` with an `input_signature`, a
        `ConcreteFunction`, or a `tf.Module` (then with `signatures`, or exactly one
        `tf.function` method with an `input_signature`, as TF picks one).
      export_dir: The directory to write; a previous SavedModel there is replaced.
      signatures: Optional: a `tf.function` with an input signature or a
        `ConcreteFunction` (the `"serving_default"` signature), or a dict
        {signature key: such a function or a Keras model}. By default, `obj` itself.
      options: Must be None: `tf.saved_model.SaveOptions` are not supported.

    Raises:
      ValueError: when there is nothing to serve, or an operation the graph cannot hold
        (named with its layer); NotImplementedError for `options`.
    """
    if options is not None:
        raise NotImplementedError(
            "tf.saved_model.save(options=...): numpyflow does not support SaveOptions (its "
            "SavedModels hold one frozen serving graph). Received: options={options!r}")
    from numpyflow.export.saved_model import save_saved_model
    save_saved_model(_signatures(obj, signatures), export_dir)


def load(export_dir, tags=None, options=None):
    """Not supported: numpyflow writes SavedModels but does not load them.

    Raises:
      NotImplementedError: always, saying what to do instead.
    """
    raise NotImplementedError(
        f"tf.saved_model.load({export_dir!r}): numpyflow writes SavedModels (for TF Serving, "
        f"TensorFlow, TFLite and TF.js converters) but cannot load them. To reload a model in "
        f"numpyflow, save it with model.save('model.keras') and use "
        f"tf.keras.models.load_model.")


def contains_saved_model(export_dir):
    """Whether `export_dir` holds a SavedModel (a `saved_model.pb`)."""
    return os.path.isfile(os.path.join(os.fspath(export_dir), SAVED_MODEL_FILENAME_PB))


def _signatures(obj, signatures):
    """{key: target} for `save`, with TF's defaults."""
    from numpyflow.framework.function import ConcreteFunction, Function
    if signatures is None:
        signatures = obj if _is_servable(obj) else _single_function_method(obj)
    if isinstance(signatures, dict):
        for key, target in signatures.items():
            if not _is_servable(target):
                raise ValueError(f"tf.saved_model.save: signature {key!r} must be a tf.function "
                                 f"with an input_signature, a ConcreteFunction or a Keras model. "
                                 f"Received: {target!r}")
        return dict(signatures)
    if isinstance(signatures, (Function, ConcreteFunction)) or _is_keras_model(signatures):
        return {DEFAULT_SERVING_SIGNATURE_DEF_KEY: signatures}
    raise ValueError(f"tf.saved_model.save: `signatures` must be a tf.function, a "
                     f"ConcreteFunction or a dict of them. Received: {signatures!r}")


def _is_keras_model(obj):
    return hasattr(obj, "get_config") and hasattr(obj, "layers")


def _is_servable(obj):
    from numpyflow.framework.function import ConcreteFunction, Function
    return isinstance(obj, (Function, ConcreteFunction)) or _is_keras_model(obj)


def _single_function_method(obj):
    """The one `tf.function` method of `obj` with an input signature (TF's default)."""
    from numpyflow.framework.function import Function
    found = sorted(name for name in dir(type(obj))
                   if isinstance(getattr(type(obj), name, None), Function)
                   and getattr(type(obj), name).input_signature)
    if len(found) != 1:
        raise ValueError(
            f"tf.saved_model.save: cannot tell what {type(obj).__name__!r} should serve: pass "
            f"signatures=... (a tf.function with an input_signature, or a dict of them). "
            f"Found {len(found)} tf.function methods with an input_signature"
            f"{': ' + ', '.join(found) if found else ''}.")
    return getattr(obj, found[0])
