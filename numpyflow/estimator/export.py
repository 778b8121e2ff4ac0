"""`tf.estimator.export`: serving input receivers, export outputs, and the SavedModel that
`Estimator.export_saved_model` writes (TF 2.15's semantics on numpyflow's frozen graphs).

How an export runs (TF builds a graph of placeholders; numpyflow is eager, so twice):

1. The `serving_input_receiver_fn` runs once with `placeholder(...)` answering example
   tensors (random floats, zeros otherwise; a None batch as 2), and the `model_fn` runs on
   the receiver's features in PREDICT mode, creating its Variables from the checkpoint.
   That run gives the `export_outputs` (TF's defaults when the spec has none) and so the
   signatures, each checked as TF's `build_all_signature_defs` checks them.
2. Each signature is a `tf.function` over the receiver tensors (named by the
   `receiver_tensors` keys, in their order): it reruns the receiver fn, with each
   `placeholder(...)` answering the function's next argument, then the `model_fn`, whose
   Variables are now the ones of step 1 (read, not created, so they freeze into `Const`
   nodes), and returns that signature's outputs. `numpyflow.export.saved_model` traces and
   writes them: one `"serve"` MetaGraph, one SignatureDef per export output.

Differences from TF 2.15, all from the frozen float32/int32/bool graph the writer holds:

* Only predict signatures (`PredictOutput`, method `tensorflow/serving/predict`).
  `ClassificationOutput` and `RegressionOutput` make classify/regress signatures in TF
  only for a single *string* receiver tensor of serialized `tf.Example`s, parsed in the
  graph (`build_parsing_serving_input_receiver_fn`); the graph cannot hold strings, so
  they are always left out, exactly as TF leaves them out for raw (numeric) receivers.
  The canned classifiers therefore export `"predict"` alone, as TF 2.15 does with
  `build_raw_serving_input_receiver_fn`.
* The string predictions of the canned classifiers (`classes`, `all_classes`) are left
  out of the exported `predict` signature; `class_ids`/`all_class_ids` carry the same.
  int64 tensors (`class_ids`) are int32 in the graph, as TF.js runs them.
* The weights are `Const` nodes: `variables/` is empty and the model serves but does not
  train further. Only `experimental_mode=ModeKeys.PREDICT` is supported.
* An export with no servable signature raises (TF writes a SavedModel without any).
* Receiver tensors must be placeholders (`placeholder` here, which
  `tf.compat.v1.placeholder` calls), of known rank with only the batch dimension
  unknown; `receiver_tensors_alternatives` and sparse/ragged receivers are refused.
  float64 inputs are float32 in the graph, as every weight.

    >>> import numpyflow as tf
    >>> receiver_fn = tf.estimator.export.build_raw_serving_input_receiver_fn(
    ...     {"x": tf.zeros([4, 3])})
    >>> tf.estimator.export.PredictOutput(tf.constant([1.0])).outputs.keys()
    dict_keys(['output'])
"""

import collections
import logging
import os
import shutil
import threading
import time

import numpy as np

from numpyflow.framework.tensor import Tensor

_log = logging.getLogger("numpyflow")

__all__ = ["ServingInputReceiver", "TensorServingInputReceiver",
           "build_raw_serving_input_receiver_fn", "build_parsing_serving_input_receiver_fn",
           "ExportOutput", "PredictOutput", "ClassificationOutput", "RegressionOutput"]

# TF's names (tensorflow/python/saved_model/model_utils/export_utils.py, signature_constants).
DEFAULT_SERVING_KEY = "serving_default"
CLASSIFY_SERVING_KEY = "classification"
REGRESS_SERVING_KEY = "regression"
PREDICT_SERVING_KEY = "predict"
SINGLE_FEATURE_DEFAULT_NAME = "feature"
SINGLE_RECEIVER_DEFAULT_NAME = "input"
_DEFAULT_NAMES = {"feature": SINGLE_FEATURE_DEFAULT_NAME,
                  "receiver_tensor": SINGLE_RECEIVER_DEFAULT_NAME,
                  "receiver_tensors_alternative": SINGLE_RECEIVER_DEFAULT_NAME}
# TF retries this many seconds for a timestamp directory that does not exist yet.
MAX_DIRECTORY_CREATION_ATTEMPTS = 10
# The batch size of the examples the placeholders answer in the first (eager) run.
_EXAMPLE_BATCH = 2


# -- receivers ---------------------------------------------------------------------------------
def _wrap_and_check(tensors, field_name, allow_int_keys=False):
    """`tensors` as a dict of key -> Tensor (a lone Tensor under TF's default key)."""
    if tensors is None:
        raise ValueError(f"{field_name}s must be defined.")
    if not isinstance(tensors, dict):
        tensors = {_DEFAULT_NAMES[field_name]: tensors}
    for name, tensor in tensors.items():
        if not isinstance(name, str) and not (allow_int_keys and isinstance(name, int)):
            kinds = "strings or ints" if allow_int_keys else "strings"
            raise ValueError(f"{field_name} keys must be {kinds}: {name!r}.")
        if not isinstance(tensor, Tensor):
            raise ValueError(f"{field_name} {name} must be a Tensor (numpyflow has no "
                             f"SparseTensor/RaggedTensor receivers); received "
                             f"{type(tensor).__name__}.")
    return tensors


class ServingInputReceiver(collections.namedtuple(
        "ServingInputReceiver", ["features", "receiver_tensors",
                                 "receiver_tensors_alternatives"])):
    """What a `serving_input_receiver_fn` returns: the model's features and the tensors
    a serving request feeds (`tf.estimator.export.ServingInputReceiver`).

    Args:
      features: A Tensor or a dict of Tensors for the `model_fn` (a lone Tensor is
        passed as `{"feature": tensor}`).
      receiver_tensors: A Tensor or dict of Tensors made by `tf.compat.v1.placeholder`:
        the signature's inputs, named by the keys (a lone Tensor is named `"input"`).
      receiver_tensors_alternatives: Not supported by `export_saved_model` (must be None
        there).
    """

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        features = _wrap_and_check(features, "feature", allow_int_keys=True)
        receiver_tensors = _wrap_and_check(receiver_tensors, "receiver_tensor")
        if receiver_tensors_alternatives is not None:
            if not isinstance(receiver_tensors_alternatives, dict):
                raise ValueError(f"receiver_tensors_alternatives must be a dict: "
                                 f"{receiver_tensors_alternatives}.")
            receiver_tensors_alternatives = {
                name: _wrap_and_check(group, "receiver_tensors_alternative")
                for name, group in receiver_tensors_alternatives.items()}
        return super().__new__(cls, features, receiver_tensors, receiver_tensors_alternatives)


class TensorServingInputReceiver(collections.namedtuple(
        "TensorServingInputReceiver", ["features", "receiver_tensors",
                                       "receiver_tensors_alternatives"])):
    """A `ServingInputReceiver` whose features are one Tensor, passed to the `model_fn`
    as it is (not wrapped in a dict)."""

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        if features is None:
            raise ValueError("features must be defined.")
        if not isinstance(features, Tensor):
            raise ValueError(f"feature must be a Tensor; received {type(features).__name__}.")
        receiver = ServingInputReceiver(features, receiver_tensors,
                                        receiver_tensors_alternatives)
        return super().__new__(cls, receiver.features[SINGLE_FEATURE_DEFAULT_NAME],
                               receiver.receiver_tensors,
                               receiver.receiver_tensors_alternatives)


class _ReceiverCall(threading.local):
    """The export running in this thread: what `placeholder` answers."""

    def __init__(self):
        self.specs = None      # [TensorSpec] the placeholders asked for, in call order.
        self.feed = None       # The Tensors to answer with (the traced run), or None.
        self.answered = []     # The Tensors answered, in call order.


_receiver_call = _ReceiverCall()


def placeholder(dtype, shape=None, name=None):
    """`tf.compat.v1.placeholder` inside a `serving_input_receiver_fn` that
    `Estimator.export_saved_model` runs: an input of the exported signatures.

    numpyflow is eager: outside an export there is nothing to feed, so it raises, as TF 2's
    eager `tf.compat.v1.placeholder` does.

    Args:
      dtype: The input's dtype.
      shape: Its shape; only the first (batch) dimension may be None.
      name: Optional name (the signature names its inputs by the receiver_tensors keys).

    Raises:
      RuntimeError: outside `export_saved_model`.
      ValueError: for an unknown rank or an unknown dimension other than the first.
    """
    from numpyflow.framework import dtypes
    from numpyflow.framework.tensor_shape import TensorShape
    from numpyflow.framework.tensor_spec import TensorSpec
    if _receiver_call.specs is None:
        raise RuntimeError(
            "tf.compat.v1.placeholder() is not compatible with eager execution: in numpyflow "
            "it works only inside a serving_input_receiver_fn that "
            "Estimator.export_saved_model calls.")
    if shape is None or (isinstance(shape, TensorShape) and shape.rank is None):
        raise ValueError(f"placeholder {name or ''!s}: the shape must be given (numpyflow's "
                         f"SavedModels need the rank and every dimension but the batch).")
    shape = tuple(None if d is None else int(d) for d in shape)
    if any(d is None for d in shape[1:]):
        raise ValueError(f"placeholder {name or ''!s}: only the first (batch) dimension may "
                         f"be None; received shape {shape}.")
    index = len(_receiver_call.answered)
    dtype = dtypes.as_dtype(dtype)
    if _receiver_call.feed is None:
        _receiver_call.specs.append(TensorSpec(shape, dtype, name=name))
        concrete = tuple(_EXAMPLE_BATCH if d is None else d for d in shape)
        np_dtype = np.dtype(dtype.as_numpy_dtype)
        if np_dtype.kind == "f":
            array = np.random.default_rng(index).standard_normal(concrete).astype(np_dtype)
        elif np_dtype.kind in "SUO":
            array = np.full(concrete, b"", dtype=object)
        else:
            array = np.zeros(concrete, np_dtype)
        from numpyflow.framework.tensor import convert_to_tensor
        tensor = convert_to_tensor(array, dtype=dtype)
    else:
        if index >= len(_receiver_call.feed):
            raise ValueError("serving_input_receiver_fn: it made more placeholders on its "
                             "second call than on its first; it must make the same ones.")
        tensor = _receiver_call.feed[index]
    _receiver_call.answered.append(tensor)
    return tensor


def _call_receiver_fn(receiver_fn, feed=None):
    """`receiver_fn()` with placeholders answering example tensors (`feed=None`) or the
    Tensors of `feed`, in call order.

    Returns:
      `(receiver, specs, fed)`: the receiver, the placeholders' `TensorSpec`s (first run
      only) in call order, and for each `receiver_tensors` entry (in its order) the index
      of its placeholder.
    """
    previous = (_receiver_call.specs, _receiver_call.feed, _receiver_call.answered)
    _receiver_call.specs, _receiver_call.feed, _receiver_call.answered = [], feed, []
    try:
        receiver = receiver_fn()
        answered = _receiver_call.answered
        specs = _receiver_call.specs
    finally:
        _receiver_call.specs, _receiver_call.feed, _receiver_call.answered = previous
    if not isinstance(receiver, (ServingInputReceiver, TensorServingInputReceiver)):
        raise TypeError(f"serving_input_receiver_fn must return a "
                        f"tf.estimator.export.ServingInputReceiver or "
                        f"TensorServingInputReceiver; received {type(receiver).__name__}.")
    if receiver.receiver_tensors_alternatives:
        raise NotImplementedError(
            "export_saved_model: receiver_tensors_alternatives are not supported (each "
            "signature of numpyflow's SavedModels takes the receiver_tensors).")
    positions = {id(tensor): i for i, tensor in enumerate(answered)}
    fed = []
    for key, tensor in receiver.receiver_tensors.items():
        if id(tensor) not in positions:
            raise ValueError(f"serving_input_receiver_fn: receiver_tensors[{key!r}] is not "
                             f"a tf.compat.v1.placeholder; numpyflow's signatures are fed "
                             f"at placeholders only.")
        fed.append(positions[id(tensor)])
    unfed = sorted(set(range(len(answered))) - set(fed))
    if unfed:
        raise ValueError(f"serving_input_receiver_fn: {len(unfed)} placeholder(s) are not in "
                         f"receiver_tensors ({sorted(receiver.receiver_tensors)}), so a "
                         f"serving request could not feed them.")
    return receiver, specs, fed


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A `serving_input_receiver_fn` whose signature inputs are the features themselves.

    Args:
      features: A dict of name -> Tensor (or array) with the dtype and shape of a batch
        of each feature (the batch size is not kept).
      default_batch_size: The batch size of the signature's inputs; None: any.

    Returns:
      A `serving_input_receiver_fn` for `Estimator.export_saved_model`.
    """
    if not isinstance(features, dict):
        raise ValueError(f"build_raw_serving_input_receiver_fn: features must be a dict of "
                         f"name -> Tensor; received {type(features).__name__}.")
    from numpyflow.framework.tensor import convert_to_tensor
    examples = {key: value if isinstance(value, Tensor) else convert_to_tensor(value)
                for key, value in features.items()}
    for key, value in examples.items():
        if not value.shape:
            raise ValueError(f"build_raw_serving_input_receiver_fn: feature {key!r} is a "
                             f"scalar; it needs a batch dimension first.")

    def serving_input_receiver_fn():
        receiver_tensors = {
            key: placeholder(value.dtype, (default_batch_size,) + tuple(value.shape[1:]))
            for key, value in examples.items()}
        return ServingInputReceiver(receiver_tensors, receiver_tensors)

    return serving_input_receiver_fn


def build_parsing_serving_input_receiver_fn(feature_spec, default_batch_size=None):
    """Not supported: it parses serialized `tf.Example`s inside the graph (a string input
    and a ParseExampleV2 node), and numpyflow's SavedModel graphs hold float32, int32 and
    bool tensors only. Use `build_raw_serving_input_receiver_fn` (the signature then takes
    the features themselves), or parse the examples before serving.

    Raises:
      NotImplementedError: always.
    """
    raise NotImplementedError(
        "tf.estimator.export.build_parsing_serving_input_receiver_fn is not supported: "
        "numpyflow's SavedModels cannot parse serialized tf.Example strings in the graph. "
        "Use tf.estimator.export.build_raw_serving_input_receiver_fn(features) to export a "
        "signature that takes the feature tensors directly.")


# -- export outputs ----------------------------------------------------------------------------
class ExportOutput:
    """One output of a model that can be served: a signature of the exported SavedModel."""

    _SEPARATOR_CHAR = "/"

    def as_signature_outputs(self, receiver_tensors):
        """{output name: Tensor} of this output's signature over `receiver_tensors`.

        Raises:
          ValueError: when the signature cannot be served with these inputs (TF leaves
            it out of the export then).
        """
        raise NotImplementedError

    def _check_output_key(self, key, error_label):
        if isinstance(key, tuple):
            key = self._SEPARATOR_CHAR.join(key)
        if not isinstance(key, str):
            raise ValueError(f"{error_label} output key must be a string; got {key}.")
        return key

    def _wrap_and_check_outputs(self, outputs, single_output_default_name, error_label=None):
        if not isinstance(outputs, dict):
            outputs = {single_output_default_name: outputs}
        checked = {}
        for key, value in outputs.items():
            error_name = error_label or single_output_default_name
            key = self._check_output_key(key, error_name)
            # TF wants Tensors; numpyflow's eager model_fns may also give arrays and numbers.
            if value is None or isinstance(value, (dict, set, str, bytes)):
                raise ValueError(f"{error_name} output value must be a Tensor; got {value!r}.")
            checked[key] = value
        return checked


def _refuse_classify_or_regress(receiver_tensors, kind):
    """Raises TF's error for a classify/regress signature: it needs one string input of
    serialized tf.Examples, which numpyflow's graphs cannot hold or parse (so, unlike TF,
    even such an input is refused)."""
    raise ValueError(
        f"{kind} signatures can only accept a single tensor input of type tf.string "
        f"(serialized tf.Example protos), and numpyflow's SavedModels cannot parse "
        f"tf.Example in the graph, so {kind.lower()} signatures are left out; the 'predict' "
        f"signature serves the same outputs. Receiver tensors: {sorted(receiver_tensors)}")


def _kind(value):
    """The NumPy dtype kind of a Tensor or array ("f", "i", "O" for strings, ...)."""
    if isinstance(value, Tensor):
        return "O" if value.dtype.name == "string" else np.dtype(value.dtype.as_numpy_dtype).kind
    return np.asarray(value).dtype.kind


def _is_float(value):
    return _kind(value) == "f"


def _is_string(value):
    return _kind(value) in "SUO"


class ClassificationOutput(ExportOutput):
    """A classification head's output (`tf.estimator.export.ClassificationOutput`):
    `scores` (float, per class) and/or `classes` (string labels).

    Its classify signature needs a serialized-`tf.Example` string input, so
    `export_saved_model` always leaves it out (see the module doc).
    """

    def __init__(self, scores=None, classes=None):
        if scores is not None and not (isinstance(scores, (Tensor, np.ndarray))
                                       and _is_float(scores)):
            raise ValueError(f"Classification scores must be a float32 Tensor; got {scores}")
        if classes is not None and not (isinstance(classes, (Tensor, np.ndarray))
                                        and _is_string(classes)):
            raise ValueError(f"Classification classes must be a string Tensor; got {classes}")
        if scores is None and classes is None:
            raise ValueError("Cannot create a ClassificationOutput with empty arguments. At "
                             "least one of `scores` and `classes` must be defined.")
        self._scores = scores
        self._classes = classes

    @property
    def scores(self):
        return self._scores

    @property
    def classes(self):
        return self._classes

    def as_signature_outputs(self, receiver_tensors):
        _refuse_classify_or_regress(receiver_tensors, "Classification")


class RegressionOutput(ExportOutput):
    """A regression head's output (`tf.estimator.export.RegressionOutput`): float values.

    Its regress signature needs a serialized-`tf.Example` string input, so
    `export_saved_model` always leaves it out (see the module doc).
    """

    def __init__(self, value):
        if not (isinstance(value, (Tensor, np.ndarray)) and _is_float(value)):
            raise ValueError(f"Regression output value must be a float32 Tensor; got {value}")
        self._value = value

    @property
    def value(self):
        return self._value

    def as_signature_outputs(self, receiver_tensors):
        _refuse_classify_or_regress(receiver_tensors, "Regression")


class PredictOutput(ExportOutput):
    """A generic prediction output (`tf.estimator.export.PredictOutput`): a Tensor (named
    `"output"`) or a dict of named Tensors, served by a predict signature."""

    _SINGLE_OUTPUT_DEFAULT_NAME = "output"

    def __init__(self, outputs):
        self._outputs = self._wrap_and_check_outputs(
            outputs, self._SINGLE_OUTPUT_DEFAULT_NAME, error_label="Prediction")

    @property
    def outputs(self):
        return self._outputs

    def as_signature_outputs(self, receiver_tensors):
        return dict(self._outputs)


def get_export_outputs(export_outputs, predictions):
    """TF's `export_outputs` of a PREDICT-mode EstimatorSpec: `{"serving_default":
    PredictOutput(predictions)}` when None; a lone output also becomes the default.

    Raises:
      TypeError: for a non-dict or values that are not `ExportOutput`s.
      ValueError: for several outputs none of which is `"serving_default"`.
    """
    if export_outputs is None:
        export_outputs = {DEFAULT_SERVING_KEY: PredictOutput(predictions)}
    if not isinstance(export_outputs, dict):
        raise TypeError(f"`export_outputs` must be dict, received: {export_outputs}.")
    for value in export_outputs.values():
        if not isinstance(value, ExportOutput):
            raise TypeError(f"Values in `export_outputs` must be ExportOutput objects, "
                            f"received: {export_outputs}.")
    export_outputs = dict(export_outputs)
    if len(export_outputs) == 1:
        (key, value), = export_outputs.items()
        if key != DEFAULT_SERVING_KEY:
            export_outputs[DEFAULT_SERVING_KEY] = value
    if len(export_outputs) > 1 and DEFAULT_SERVING_KEY not in export_outputs:
        raise ValueError("Multiple `export_outputs` were provided, but none of them are "
                         "specified as the default. Use "
                         "`tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY` to specify a "
                         "default.")
    return export_outputs


def servable_signatures(receiver_tensors, export_outputs):
    """`({key: output names}, {key: why left out})` as TF's `build_all_signature_defs`
    sorts the export outputs, and logs its report."""
    included, excluded = {}, {}
    for key, output in export_outputs.items():
        name = f"{key or 'None'}"
        try:
            outputs = output.as_signature_outputs(receiver_tensors)
        except ValueError as error:
            excluded[name] = str(error)
            continue
        strings = sorted(k for k, v in outputs.items() if _is_string(v))
        if strings:
            _log.info("Signature %r: leaving out the string outputs %s (numpyflow's "
                      "SavedModel graphs hold float32, int32 and bool tensors).", name, strings)
        included[name] = [k for k in outputs if k not in strings]
    _log.info("Signatures INCLUDED in export for Classify: None")
    _log.info("Signatures INCLUDED in export for Regress: None")
    _log.info("Signatures INCLUDED in export for Predict: %s", list(included) or "None")
    if excluded:
        _log.info("Signatures EXCLUDED from export because they cannot be be served via "
                  "TensorFlow Serving APIs:")
        for name, message in excluded.items():
            _log.info("'%s' : %s", name, message)
    if included and DEFAULT_SERVING_KEY not in included:
        _log.warning("Export includes no default signature!")
    return included, excluded


# -- the export directory ----------------------------------------------------------------------
def get_timestamped_export_dir(export_dir_base):
    """`export_dir_base/<seconds since the epoch>` (bytes), a path not yet taken; TF
    waits a second and retries when it is.

    Raises:
      RuntimeError: after `MAX_DIRECTORY_CREATION_ATTEMPTS` taken names.
    """
    base = os.fsencode(os.fspath(export_dir_base))
    for attempt in range(1, MAX_DIRECTORY_CREATION_ATTEMPTS + 1):
        result = os.path.join(base, str(int(time.time())).encode())
        if not os.path.exists(result):
            return result
        time.sleep(1)
        _log.warning("Directory %s already exists; retrying (attempt %d/%d)",
                     os.fsdecode(result), attempt, MAX_DIRECTORY_CREATION_ATTEMPTS)
    raise RuntimeError(f"Failed to obtain a unique export directory name after "
                       f"{MAX_DIRECTORY_CREATION_ATTEMPTS} attempts.")


def get_temp_export_dir(timestamped_export_dir):
    """`<base>/temp-<timestamp>`: TF Serving skips names that are not integers, so a
    half-written export there is never served."""
    dirname, basename = os.path.split(timestamped_export_dir)
    return os.path.join(dirname, b"temp-" + basename)


def write_export(signatures, input_signature, export_dir, as_text, assets_extra):
    """Writes the SavedModel of `signatures` into `export_dir` (bytes, not existing)
    through `temp-<name>`, renamed into place once whole (as TF does)."""
    from numpyflow.export.saved_model import save_saved_model
    temp_dir = get_temp_export_dir(export_dir)
    try:
        save_saved_model(signatures, os.fsdecode(temp_dir), input_signature=input_signature)
        if as_text:
            _rewrite_as_text(os.fsdecode(temp_dir))
        if assets_extra:
            _copy_assets_extra(os.fsdecode(temp_dir), assets_extra)
        os.rename(temp_dir, export_dir)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    return export_dir


def _rewrite_as_text(directory):
    """Replaces `saved_model.pb` by `saved_model.pbtxt` (text format; TF's loaders read
    either)."""
    from google.protobuf import text_format

    from numpyflow.export import saved_model_proto as pb
    binary = os.path.join(directory, "saved_model.pb")
    with open(binary, "rb") as file:
        message = pb.SavedModel.FromString(file.read())
    with open(os.path.join(directory, "saved_model.pbtxt"), "w", encoding="utf-8") as file:
        file.write(text_format.MessageToString(message))
        file.flush()
        os.fsync(file.fileno())
    os.remove(binary)


def _copy_assets_extra(directory, assets_extra):
    """Copies `{relative destination: source file}` under `assets.extra/`."""
    if not isinstance(assets_extra, dict):
        raise TypeError(f"export_saved_model: assets_extra must be a dict {{destination "
                        f"relative to assets.extra: source path}}; received "
                        f"{type(assets_extra).__name__}.")
    root = os.path.join(directory, "assets.extra")
    for destination, source in assets_extra.items():
        target = os.path.normpath(os.path.join(root, os.fsdecode(destination)))
        if os.path.commonpath([root, target]) != root:
            raise ValueError(f"export_saved_model: assets_extra destination "
                             f"{destination!r} leaves the assets.extra directory.")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.fsdecode(source), target)
