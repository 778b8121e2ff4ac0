"""`tf.lite.TFLiteConverter`: Keras models and `tf.function`s to TFLite flatbuffers.

The model is traced into a frozen inference graph (`numpyflow.export.model_graph`), each
equation becomes TFLite operators through `rules.RULES`, and `flatbuffer.ModelWriter`
writes the model: schema version 3, one subgraph, a "serving_default" SignatureDef, the
batch dimension dynamic (`shape_signature` -1). Quantization (`optimizations`,
`representative_dataset`) is done by `quantize.py`.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    >>> converter = tf.lite.TFLiteConverter.from_keras_model(model)
    >>> tflite_model = converter.convert()
    >>> tflite_model[4:8]
    b'TFL3'
"""

import enum
import os

import numpy as np

from numpyflow.framework import dtypes, file_safety


class Optimize(enum.Enum):
    """`tf.lite.Optimize`: what the converter optimizes for."""

    DEFAULT = "DEFAULT"
    # Deprecated in TF, where they mean DEFAULT.
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"
    EXPERIMENTAL_SPARSITY = "EXPERIMENTAL_SPARSITY"

    def __str__(self):
        return str(self.value)


class OpsSet(enum.Enum):
    """`tf.lite.OpsSet`: the operator sets a converted model may use."""

    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    SELECT_TF_OPS = "SELECT_TF_OPS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 = (
        "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8")

    def __str__(self):
        return str(self.value)


class RepresentativeDataset:
    """`tf.lite.RepresentativeDataset`: a generator of sample inputs for calibration.

    Args:
      input_gen: A callable returning an iterable; each item is a list (or tuple, or
        dict by input name) of arrays, one per model input, usually with batch size 1.
    """

    def __init__(self, input_gen):
        self.input_gen = input_gen


class TargetSpec:
    """`tf.lite.TargetSpec`: what the target device supports.

    Args:
      supported_ops: A set of `OpsSet`s (default `{OpsSet.TFLITE_BUILTINS}`).
      supported_types: Weight types: `[tf.float16]` with `optimizations` stores float16
        weights (widened to float32 by DEQUANTIZE operators when the model loads).
      experimental_select_user_tf_ops: Not supported (select TF ops need TF).
      experimental_supported_backends: Not supported.
    """

    def __init__(self, supported_ops=None, supported_types=None,
                 experimental_select_user_tf_ops=None, experimental_supported_backends=None):
        self.supported_ops = supported_ops if supported_ops is not None else {
            OpsSet.TFLITE_BUILTINS}
        self.supported_types = supported_types if supported_types is not None else set()
        self.experimental_select_user_tf_ops = experimental_select_user_tf_ops or set()
        self.experimental_supported_backends = experimental_supported_backends


class TFLiteConverter:
    """Converts a Keras model or `tf.function`s to a TFLite model (`convert()` -> bytes).

    Make one with `from_keras_model` or `from_concrete_functions`, set the attributes, then
    call `convert()`.

    Attributes:
      optimizations: `[tf.lite.Optimize.DEFAULT]` quantizes: int8 weights with float
        activations (dynamic range), float16 weights with
        `target_spec.supported_types = [tf.float16]`, or, with a `representative_dataset`,
        int8 throughout.
      representative_dataset: A `RepresentativeDataset` or a generator function, for
        full-integer quantization.
      target_spec: A `TargetSpec`; `supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]`
        asks for integer-only operators.
      inference_input_type, inference_output_type: `tf.float32` (default), or `tf.int8` /
        `tf.uint8` with full-integer quantization.
      allow_custom_ops: Accepted; numpyflow never writes custom operators.
      experimental_new_converter, experimental_new_quantizer,
        experimental_new_dynamic_range_quantizer: Must stay True (numpyflow follows TF's
        default MLIR converter and quantizers); `experimental_use_stablehlo_quantizer`,
        `unfold_batchmatmul` and `_experimental_disable_per_channel` must stay False.
      exclude_conversion_metadata: Accepted; numpyflow writes no CONVERSION_METADATA
        (TF's record of the converter's options), as if it were True.

    Example:

        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(4)])
        >>> converter = tf.lite.TFLiteConverter.from_keras_model(model)
        >>> converter.optimizations = [tf.lite.Optimize.DEFAULT]
        >>> len(converter.convert()) > 0
        True
    """

    def __init__(self, target):
        self._target = target
        self._input_signature = None   # Set by export_tflite (Model.export's argument).
        self.optimizations = set()
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_type = dtypes.float32
        self.inference_input_type = dtypes.float32
        self.inference_output_type = dtypes.float32
        self.allow_custom_ops = False
        self.experimental_new_converter = True
        self.experimental_new_quantizer = True
        self.exclude_conversion_metadata = False
        for attribute, default in _UNSUPPORTED_TF_OPTIONS.items():
            setattr(self, attribute, default)

    @classmethod
    def from_keras_model(cls, model):
        """A converter for a built Keras model (Sequential, functional or subclassed)."""
        if not (hasattr(model, "layers") and hasattr(model, "get_config")):
            raise TypeError(f"from_keras_model expects a Keras model; received {model!r}.")
        return cls(model)

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None):
        """A converter for `tf.function`s with an input signature.

        Args:
          funcs: A list holding one `ConcreteFunction` (`fn.get_concrete_function()`) or
            one `tf.function` with an `input_signature`.
          trackable_obj: Accepted for TF's API (numpyflow's functions hold their Variables).
        """
        if not isinstance(funcs, (list, tuple)) or not funcs:
            raise ValueError(f"from_concrete_functions expects a non-empty list of concrete "
                             f"functions; received {funcs!r}.")
        if len(funcs) > 1:
            raise NotImplementedError(
                f"from_concrete_functions with {len(funcs)} functions (one signature each) is "
                f"not supported yet; pass one function.")
        func = funcs[0]
        if not callable(func):
            raise TypeError(f"from_concrete_functions expects concrete functions; received "
                            f"{func!r}.")
        return cls(func)

    @classmethod
    def from_saved_model(cls, saved_model_dir, signature_keys=None, tags=None):
        raise NotImplementedError(
            "TFLiteConverter.from_saved_model needs TensorFlow's SavedModel format, which "
            "numpyflow does not read; load the model (keras.models.load_model for .keras "
            "files) and use TFLiteConverter.from_keras_model.")

    def convert(self):
        """Returns the TFLite model as bytes (a flatbuffer, file identifier "TFL3").

        Raises:
          ValueError: for an unbuilt model, a layer or op with no TFLite form (naming it),
            or option values TF does not accept either.
          NotImplementedError: for options numpyflow does not support yet.
        """
        from numpyflow.export.model_graph import trace_for_export
        from numpyflow.lite import lowering, quantize, rules
        mode, integer_only = self._quantization_mode()
        export_graph = trace_for_export(self._target, input_signature=self._input_signature,
                                        format_name="TFLite")
        lowered, inputs, outputs = lowering.lower(export_graph, rules.RULES)
        if mode == "dynamic_range":
            quantize.dynamic_range(lowered.writer)
        elif mode == "float16":
            quantize.float16_weights(lowered.writer)
        elif mode == "full_integer":
            ranges = quantize.calibrate(export_graph, lowered,
                                        _samples(self.representative_dataset))
            inputs, outputs = quantize.full_integer(
                lowered, ranges, inputs, outputs,
                input_type=np.dtype(_as_dtype(self.inference_input_type).as_numpy_dtype),
                output_type=np.dtype(_as_dtype(self.inference_output_type).as_numpy_dtype),
                integer_only=integer_only)
        return lowered.writer.to_bytes(inputs, outputs)

    # -- option checks -----------------------------------------------------------------------
    def _ops_set(self):
        ops = self.target_spec.supported_ops
        ops = set(ops) if isinstance(ops, (list, tuple, set, frozenset)) else {ops}
        for op_set in ops:
            if not isinstance(op_set, OpsSet):
                raise ValueError(f"target_spec.supported_ops must hold tf.lite.OpsSet values; "
                                 f"received {op_set!r}.")
            if op_set in (OpsSet.SELECT_TF_OPS,
                          OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8):
                raise NotImplementedError(
                    f"target_spec.supported_ops={op_set} is not supported: numpyflow writes "
                    f"TFLite builtin operators only (TFLITE_BUILTINS, TFLITE_BUILTINS_INT8).")
        return ops

    def _quantization_mode(self):
        """(mode, integer_only) from the options, decided as TF 2.21's `QuantizationMode`:
        nothing is quantized without `optimizations`; then the smallest of
        `target_spec.supported_types` (int8 when empty) picks int8 or float16; int8 with a
        `representative_dataset` is full-integer (integer-only unless TFLITE_BUILTINS is also
        in `supported_ops`), without one dynamic range. `supported_types == [tf.int8]` or
        TFLITE_BUILTINS_INT8 in `supported_ops` require the dataset."""
        optimizations = self.optimizations
        if not isinstance(optimizations, (list, tuple, set, frozenset)):
            raise ValueError(f"optimizations must be a list of tf.lite.Optimize values; "
                             f"received {optimizations!r}.")
        for optimization in optimizations:
            if not isinstance(optimization, Optimize):
                raise ValueError(f"optimizations must hold tf.lite.Optimize values; received "
                                 f"{optimization!r}.")
            if optimization is Optimize.EXPERIMENTAL_SPARSITY:
                raise NotImplementedError("optimizations=[tf.lite.Optimize.EXPERIMENTAL_SPARSITY]"
                                          " is not supported.")
        supported_types = {_as_dtype(t) for t in self.target_spec.supported_types}
        if supported_types - {dtypes.float16, dtypes.int8}:
            raise NotImplementedError(
                f"target_spec.supported_types={self.target_spec.supported_types!r} is not "
                f"supported; expected tf.float16 (half-precision weights) or tf.int8.")
        if self.target_spec.experimental_select_user_tf_ops:
            raise NotImplementedError("target_spec.experimental_select_user_tf_ops needs TF ops.")
        if self.target_spec.experimental_supported_backends:
            raise NotImplementedError("target_spec.experimental_supported_backends is not "
                                      "supported.")
        if not self.experimental_new_quantizer:
            raise NotImplementedError("experimental_new_quantizer=False is not supported; "
                                      "numpyflow has one quantizer (MLIR's scheme).")
        if not self.experimental_new_converter:
            raise NotImplementedError("experimental_new_converter=False (TOCO) is not "
                                      "supported; numpyflow has one converter.")
        for attribute, default in _UNSUPPORTED_TF_OPTIONS.items():
            value = getattr(self, attribute, default)
            if value != default:
                raise NotImplementedError(f"{attribute}={value!r} is not supported; numpyflow "
                                          f"converts only with {attribute}={default!r}.")
        if _as_dtype(self.inference_type) != dtypes.float32:
            raise NotImplementedError("inference_type (TF1 quantization-aware training) is not "
                                      "supported; use optimizations and representative_dataset.")
        ops = self._ops_set()
        integer_types = {dtypes.int8, dtypes.uint8}
        input_type = _as_dtype(self.inference_input_type)
        output_type = _as_dtype(self.inference_output_type)
        for what, dtype in (("inference_input_type", input_type),
                            ("inference_output_type", output_type)):
            if dtype not in integer_types | {dtypes.float32}:
                raise ValueError(f"{what} must be tf.float32, tf.int8 or tf.uint8; received "
                                 f"{dtype.name}.")
        int8_required = OpsSet.TFLITE_BUILTINS_INT8 in ops or supported_types == {dtypes.int8}
        if int8_required:
            if ops == {OpsSet.TFLITE_BUILTINS_INT8} and supported_types not in (
                    set(), {dtypes.int8}):
                raise ValueError(
                    f"target_spec.supported_ops=[tf.lite.OpsSet.TFLITE_BUILTINS_INT8] asks for "
                    f"full-integer quantization, so target_spec.supported_types must be empty "
                    f"or [tf.int8]; received {self.target_spec.supported_types!r}.")
            if supported_types == {dtypes.int8}:
                ops = {OpsSet.TFLITE_BUILTINS_INT8}
            if self.representative_dataset is None:
                raise ValueError("Full-integer quantization (target_spec.supported_ops="
                                 "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8] or supported_types="
                                 "[tf.int8]) needs a representative_dataset to calibrate the "
                                 "activations.")
        allow_float = OpsSet.TFLITE_BUILTINS in ops
        smallest = dtypes.int8 if not supported_types or dtypes.int8 in supported_types \
            else dtypes.float16
        mode = "float"
        if optimizations and self.representative_dataset is not None and (
                (int8_required and not allow_float) or
                (allow_float and smallest == dtypes.int8)):
            mode = "full_integer"
        elif optimizations and smallest == dtypes.int8 and self.representative_dataset is None:
            mode = "dynamic_range"
        elif optimizations and smallest == dtypes.float16:
            mode = "float16"
        if mode != "full_integer" and (input_type in integer_types
                                       or output_type in integer_types):
            raise ValueError(f"inference_input_type={input_type.name}, inference_output_type="
                             f"{output_type.name}: integer types need full-integer "
                             f"quantization (optimizations, representative_dataset).")
        return mode, not allow_float


# TF 2.21 converter attributes that change the model, with their defaults: numpyflow implements
# only the default and refuses another value rather than ignoring it.
_UNSUPPORTED_TF_OPTIONS = {
    "experimental_new_dynamic_range_quantizer": True,
    "experimental_use_stablehlo_quantizer": False,
    "unfold_batchmatmul": False,
    "_experimental_disable_per_channel": False,
}


def _as_dtype(value):
    try:
        return dtypes.as_dtype(value)
    except (TypeError, ValueError):
        raise ValueError(f"Expected a dtype (tf.float32, tf.int8, tf.uint8); received "
                         f"{value!r}.") from None


def _samples(dataset):
    """The representative dataset's samples, each a list of arrays (one per input)."""
    generator = dataset.input_gen if isinstance(dataset, RepresentativeDataset) else dataset
    if not callable(generator):
        raise ValueError(f"representative_dataset must be a tf.lite.RepresentativeDataset or a "
                         f"generator function; received {dataset!r}.")
    samples = []
    for sample in generator():
        if isinstance(sample, dict):
            samples.append({key: np.asarray(value) for key, value in sample.items()})
        elif isinstance(sample, (list, tuple)):
            samples.append([np.asarray(value) for value in sample])
        else:
            samples.append([np.asarray(sample)])
    if not samples:
        raise ValueError("representative_dataset yielded no samples.")
    return samples


def export_tflite(model, filepath, input_signature=None, **options):
    """Writes `model` to `filepath` as a .tflite file (backs `model.export(format="tflite")`).

    Args:
      model: A built Keras model, or a `tf.function` with an input signature.
      filepath: The file to write.
      input_signature: Optional list of `tf.TensorSpec`s, one per input (default: the
        model's inputs, with a dynamic batch).
      **options: Converter attributes: `optimizations`, `representative_dataset`,
        `target_spec`, `inference_input_type`, `inference_output_type`.

    Returns:
      The path written.
    """
    if hasattr(model, "layers") and hasattr(model, "get_config"):
        converter = TFLiteConverter.from_keras_model(model)
    else:
        converter = TFLiteConverter.from_concrete_functions([model])
    converter._input_signature = input_signature
    allowed = ("optimizations", "representative_dataset", "target_spec",
               "inference_input_type", "inference_output_type")
    for key, value in options.items():
        if key not in allowed:
            raise ValueError(f"Unknown TFLite export option {key!r}; expected one of "
                             f"{list(allowed)}.")
        setattr(converter, key, value)
    data = converter.convert()
    directory = os.path.dirname(os.fspath(filepath))
    if directory:
        os.makedirs(directory, exist_ok=True)
    # Written beside the destination and renamed over it: never a half-written file.
    with file_safety.atomic_path(filepath) as temporary:
        with open(temporary, "wb") as f:
            f.write(data)
    return filepath
