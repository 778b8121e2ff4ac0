"""`tf.estimator`: TF 2.15's Estimator API on numpyflow.

`Estimator(model_fn, model_dir, config, params)` trains, evaluates and predicts,
checkpointing in `model_dir`; the premade `DNNClassifier`, `LinearClassifier`, ... build
their model_fn from feature columns; `train_and_evaluate` alternates the two; hooks run
code around each step. How an eager `model_fn` keeps its Variables: see
`numpyflow/estimator/variable_store.py`. `export_saved_model` writes a SavedModel with the
weights frozen into its serving graph; `tf.estimator.export` holds the receivers and
export outputs (see `numpyflow/estimator/export.py`).

    >>> import numpyflow as tf
    >>> tf.estimator.RunConfig().keep_checkpoint_max
    5
"""

import types as _types

from numpyflow.estimator import hooks as _hooks
from numpyflow.estimator.estimator import Estimator
from numpyflow.estimator.hooks import (
    CheckpointSaverHook, LoggingTensorHook, SessionRunArgs, SessionRunContext, SessionRunHook,
    SessionRunValues, StopAtStepHook)
from numpyflow.estimator.model_fn import EstimatorSpec, ModeKeys
from numpyflow.estimator.run_config import RunConfig
from numpyflow.estimator.training import EvalSpec, TrainSpec, train_and_evaluate

experimental = _types.SimpleNamespace(
    stop_if_no_decrease_hook=_hooks.stop_if_no_decrease_hook,
    stop_if_no_increase_hook=_hooks.stop_if_no_increase_hook,
    stop_if_higher_hook=_hooks.stop_if_higher_hook,
    stop_if_lower_hook=_hooks.stop_if_lower_hook,
    make_early_stopping_hook=_hooks.make_early_stopping_hook,
)

_CANNED = {
    "DNNClassifier": "dnn", "DNNRegressor": "dnn", "DNNEstimator": "dnn",
    "LinearClassifier": "linear", "LinearRegressor": "linear",
    "DNNLinearCombinedClassifier": "dnn_linear_combined",
    "DNNLinearCombinedRegressor": "dnn_linear_combined",
    "BaselineClassifier": "baseline", "BaselineRegressor": "baseline",
}


def __getattr__(name):
    # The premade estimators load on first use (they import Keras and feature columns).
    if name == "export":  # Loads on first use, as the premade estimators do.
        import importlib
        return importlib.import_module("numpyflow.estimator.export")
    if name in _CANNED:
        import importlib
        module = importlib.import_module(f"numpyflow.estimator.canned.{_CANNED[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'numpyflow.estimator' has no attribute {name!r}")


__all__ = ["Estimator", "EstimatorSpec", "ModeKeys", "RunConfig", "TrainSpec", "EvalSpec",
           "train_and_evaluate", "SessionRunHook", "SessionRunArgs", "SessionRunContext",
           "SessionRunValues", "LoggingTensorHook", "StopAtStepHook", "CheckpointSaverHook",
           "experimental", "export", *_CANNED]
