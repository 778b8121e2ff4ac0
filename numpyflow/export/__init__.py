"""Export of Keras models to the runtimes TensorFlow models are deployed with.

`export_model` backs `keras.Model.export(filepath, format=...)`; the command line is
`python -m numpyflow.export model.keras --format tfjs out_dir`.

Formats:
  - `"tfjs"`: the TensorFlow.js layers format (`model.json` + weight shards) that
    `tf.loadLayersModel` reads, as `tensorflowjs.converters.save_keras_model` writes it.
  - `"tflite"`/`"litert"`, `"onnx"`: not built yet (issue #13: they need the traced
    computation as a structured graph); they raise `NotImplementedError`.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> model.export(os.path.join(tempfile.mkdtemp(), "web"), format="tfjs", verbose=False)
"""

FORMATS = ("tfjs", "litert", "tflite", "onnx")
# Keras 3's Model.export formats numpyflow cannot write (no TensorFlow/PyTorch runtime).
_KERAS_ONLY_FORMATS = ("tf_saved_model", "openvino", "torch")
_NOT_BUILT_YET = ("litert", "tflite", "onnx")
_TFJS_OPTIONS = ("weight_shard_size_bytes", "metadata")

__all__ = ["FORMATS", "export_model"]


def export_model(model, filepath, format="tf_saved_model", verbose=None,
                 input_signature=None, **kwargs):
    """Writes `model` to `filepath` in a deployment format (`Model.export`'s implementation).

    Args:
      model: A built Sequential or functional Keras model.
      filepath: Where to write: a directory for `"tfjs"`.
      format: One of `FORMATS`. Keras 3's default, `"tf_saved_model"`, is not available.
      verbose: Print where the artifact went (`None` means yes, as in Keras).
      input_signature: Not used by the layers format: must be None.
      **kwargs: For `"tfjs"`: `weight_shard_size_bytes` (default 4 MiB), `metadata`.

    Raises:
      ValueError: for an unknown format or an unbuilt model.
      NotImplementedError: for a format numpyflow cannot write yet.
    """
    if not isinstance(format, str) or format not in FORMATS + _KERAS_ONLY_FORMATS:
        raise ValueError(f"Unrecognized format={format!r}. Supported formats are: "
                         f"{list(FORMATS)}.")
    if format in _KERAS_ONLY_FORMATS:
        raise NotImplementedError(
            f"export(format={format!r}) needs TensorFlow or PyTorch, which numpyflow does not "
            f"use; supported formats are: {list(FORMATS)} (for the browser: format='tfjs').")
    if format in _NOT_BUILT_YET:
        raise NotImplementedError(
            f"export(format={format!r}) is not available yet: the TFLite/LiteRT and ONNX "
            "routes of issue #13 are written from the structured graph of the traced "
            "computation, which numpyflow does not have yet. Available now: format='tfjs'.")
    if input_signature is not None:
        raise NotImplementedError(
            "export(format='tfjs'): `input_signature` is not used by the TensorFlow.js layers "
            "format (inputs come from the model's `Input`s). Received: "
            f"input_signature={input_signature!r}")
    unknown = sorted(set(kwargs) - set(_TFJS_OPTIONS))
    if unknown:
        raise TypeError(f"export(format='tfjs') got unexpected keyword arguments {unknown}; "
                        f"expected only {list(_TFJS_OPTIONS)}.")
    from numpyflow.export.tfjs import save_tfjs_model
    save_tfjs_model(model, filepath, **kwargs)
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'. Load it in JavaScript with "
              "tf.loadLayersModel('<url of>/model.json').")
