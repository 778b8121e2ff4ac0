"""Export of models to the runtimes TensorFlow models are deployed with.

`export_model` backs `keras.Model.export(filepath, format=...)`; the command line is
`python -m numpyflow.export model.keras --format tflite out.tflite`.

Formats:
  - `"tfjs"`: for a Sequential or functional model, the TensorFlow.js layers format
    (`model.json` + weight shards) that `tf.loadLayersModel` reads, as
    `tensorflowjs.converters.save_keras_model` writes it; for a subclassed model or a
    `tf.function` (or with `output_format="tfjs_graph_model"`), the graph-model format that
    `tf.loadGraphModel` reads, as `tensorflowjs_converter` writes from a SavedModel.
  - `"tflite"` (Keras 3 names it `"litert"`; both are accepted): a `.tflite` flatbuffer for
    LiteRT on phones and microcontrollers, written by `tf.lite.TFLiteConverter`
    (`numpyflow.lite`); options are the converter's attributes (`optimizations`,
    `representative_dataset`, `target_spec`, ...).
  - `"onnx"`: an ONNX model for ONNX Runtime (`numpyflow.export.onnx`); option
    `opset_version`.
  - `"tf_saved_model"` (Keras 3's default): a TensorFlow SavedModel directory
    (`numpyflow.export.saved_model`) for TF Serving, `tf.saved_model.load`,
    `TFLiteConverter.from_saved_model` and `tensorflowjs_converter`: one `"serve"` graph
    with frozen weights and a `"serving_default"` signature.

SavedModel, TFLite, ONNX and TF.js graph-model files are translated from the model's traced
inference graph (`model_graph.trace_for_export`), so subclassed models and `tf.function`s
export too.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> model.export(os.path.join(tempfile.mkdtemp(), "web"), format="tfjs", verbose=False)
"""

FORMATS = ("tfjs", "litert", "tflite", "onnx", "tf_saved_model")
# Keras 3's Model.export formats numpyflow cannot write (no OpenVINO/PyTorch runtime).
_KERAS_ONLY_FORMATS = ("openvino", "torch")
_TFJS_OPTIONS = ("weight_shard_size_bytes", "metadata")

__all__ = ["FORMATS", "export_model"]


def export_model(model, filepath, format="tf_saved_model", verbose=None,
                 input_signature=None, **kwargs):
    """Writes `model` to `filepath` in a deployment format (`Model.export`'s implementation).

    Args:
      model: A built Keras model (or, for "tflite"/"onnx"/"tf_saved_model", a
        `tf.function` with an input signature).
      filepath: Where to write: a directory for `"tfjs"` and `"tf_saved_model"`, a file for
        the others.
      format: One of `FORMATS`; Keras 3's default is `"tf_saved_model"`.
      verbose: Print where the artifact went (`None` means yes, as in Keras).
      input_signature: Optional list of `tf.TensorSpec`, one per input (a None batch stays
        dynamic). With `"tfjs"` it selects the graph-model format: the layers format takes
        its inputs from the model's `Input`s (NotImplementedError with
        `output_format="tfjs_layers_model"`).
      **kwargs: For `"tfjs"`: `weight_shard_size_bytes` (default 4 MiB), `metadata`,
        `output_format`. For `"tflite"`: TFLiteConverter attributes. For `"onnx"`:
        `opset_version`.

    Raises:
      ValueError: for an unknown format, an unbuilt model, or what cannot be exported (an
        operation without a rule in the format, Python code that reads traced values).
      NotImplementedError: for a Keras format numpyflow cannot write.
    """
    if not isinstance(format, str) or format not in FORMATS + _KERAS_ONLY_FORMATS:
        raise ValueError(f"Unrecognized format={format!r}. Supported formats are: "
                         f"{list(FORMATS)}.")
    if format in _KERAS_ONLY_FORMATS:
        raise NotImplementedError(
            f"export(format={format!r}) needs OpenVINO or PyTorch, which numpyflow does not "
            f"use; supported formats are: {list(FORMATS)} (for phones: format='tflite', for "
            f"the browser: format='tfjs' or 'onnx').")
    if format == "tfjs":
        how = _export_tfjs(model, filepath, input_signature, dict(kwargs))
    elif format == "tf_saved_model":
        from numpyflow.export.saved_model import save_saved_model
        if kwargs:
            raise TypeError(f"export(format='tf_saved_model') got unexpected keyword arguments "
                            f"{sorted(kwargs)}; it takes only input_signature.")
        save_saved_model({"serving_default": model}, filepath,
                         input_signature=input_signature)
        how = ("Serve it with TF Serving, or load it in TensorFlow with "
               "tf.saved_model.load(path).signatures['serving_default'].")
    elif format == "onnx":
        from numpyflow.export.onnx import export_onnx
        unknown = sorted(set(kwargs) - {"opset_version"})
        if unknown:
            raise TypeError(f"export(format='onnx') got unexpected keyword arguments {unknown}; "
                            f"expected only ['opset_version'].")
        export_onnx(model, filepath, input_signature=input_signature,
                    opset=kwargs.get("opset_version"))
        how = "Run it with onnxruntime.InferenceSession."
    else:
        from numpyflow.lite.converter import export_tflite
        export_tflite(model, filepath, input_signature=input_signature, **kwargs)
        how = "Run it with tf.lite.Interpreter (LiteRT)."
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'. {how}")


def _export_tfjs(model, filepath, input_signature, options):
    """Writes a TF.js layers model (Sequential/functional) or graph model (the rest);
    `output_format` chooses, under the name of tensorflowjs_converter's flag. Returns how
    to load it."""
    output_format = options.pop("output_format", None)
    if output_format not in (None, "tfjs_layers_model", "tfjs_graph_model"):
        raise ValueError(f"export(format='tfjs'): output_format must be 'tfjs_layers_model' or "
                         f"'tfjs_graph_model'. Received: output_format={output_format!r}")
    unknown = sorted(set(options) - set(_TFJS_OPTIONS))
    if unknown:
        raise TypeError(f"export(format='tfjs') got unexpected keyword arguments {unknown}; "
                        f"expected only {list(_TFJS_OPTIONS) + ['output_format']}.")
    if output_format is None:
        from numpyflow.keras.models.functional import Functional
        from numpyflow.keras.models.sequential import Sequential
        layered = isinstance(model, (Sequential, Functional))  # Made of layers alone.
        output_format = ("tfjs_layers_model" if layered and input_signature is None
                         else "tfjs_graph_model")
    if output_format == "tfjs_graph_model":
        from numpyflow.export.tfjs_graph import save_tfjs_graph_model
        save_tfjs_graph_model(model, filepath, input_signature=input_signature, **options)
        return "Load it in JavaScript with tf.loadGraphModel('<url of>/model.json')."
    if input_signature is not None:
        raise NotImplementedError(
            "export(format='tfjs', output_format='tfjs_layers_model'): `input_signature` is not "
            "used by the TensorFlow.js layers format (inputs come from the model's `Input`s). "
            f"Received: input_signature={input_signature!r}")
    from numpyflow.export.tfjs import save_tfjs_model
    from numpyflow.export.tfjs_config import UnsupportedTfjsLayerError
    try:
        save_tfjs_model(model, filepath, **options)
    except UnsupportedTfjsLayerError as error:
        raise UnsupportedTfjsLayerError(
            f"{error} A TF.js graph model can hold the traced computation instead: "
            f"model.export(path, format='tfjs', output_format='tfjs_graph_model'), loaded with "
            f"tf.loadGraphModel.") from None
    return "Load it in JavaScript with tf.loadLayersModel('<url of>/model.json')."
