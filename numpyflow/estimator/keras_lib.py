"""`tf.keras.estimator.model_to_estimator`: an Estimator that trains a compiled Keras model.

The Keras model's current weights become the starting point (written as the first
checkpoint of an empty `model_dir`, `model.ckpt-0`; TF writes `keras/keras_model.ckpt` and
warm-starts training from it), and each `model_fn` call
rebuilds the model from its config (`from_config`, same layer names, so the variables
match by name), compiled with the same loss, metrics and optimizer settings. Predictions
are keyed by the output layers' names; `evaluate` reports the compiled metrics by their
log names plus `loss` and `global_step`. The Keras model itself is not changed by
training: read the trained weights with `get_variable_value` or from the checkpoints.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> estimator = tf.keras.estimator.model_to_estimator(model)  # doctest: +SKIP
"""

import os
import types

import numpy as np

from numpyflow.estimator import variable_store
from numpyflow.estimator.estimator import Estimator
from numpyflow.estimator.model_fn import EstimatorSpec, ModeKeys


class _LogMetric:
    """One compiled metric of the rebuilt model, by its log name, as an eval metric."""

    def __init__(self, model, name):
        self._model = model
        self._name = name
        self.variables = []

    def result(self):
        return self._model.get_metrics_result()[self._name]

    def reset_state(self):
        for metric in self._model.metrics:
            metric.reset_state()


def _rebuild(keras_model, custom_objects, compiled=True):
    """The model rebuilt from its config; `compiled`: with its optimizer, loss and metrics
    (PREDICT needs none of them, and an export traces the call, which must not read
    values in Python as compiling does)."""
    from numpyflow.keras import optimizers
    config = keras_model.get_config()
    model = type(keras_model).from_config(config, custom_objects=custom_objects) \
        if custom_objects else type(keras_model).from_config(config)
    if not compiled:
        return model
    # The optimizer first, so its variables get the plain names; compiling makes another
    # one, and the metrics, whose variables are local (not saved).
    optimizer = optimizers.deserialize(optimizers.serialize(keras_model.optimizer))
    optimizer.build(model.trainable_variables)
    with variable_store.local_variables():
        model.compile_from_config(keras_model.get_compile_config())
    model.optimizer = optimizer
    return model


def _model_inputs(model, features):
    names = list(getattr(model, "input_names", []) or [])
    if isinstance(features, dict):
        if names and set(features) >= set(names):
            return {name: features[name] for name in names} if len(names) > 1 \
                else features[names[0]]
        if len(features) == 1 and len(names) <= 1:
            return next(iter(features.values()))
        raise ValueError(f"model_to_estimator: the features dict has keys {sorted(features)}, "
                         f"but the Keras model's inputs are named {names}.")
    return features


def model_to_estimator(keras_model=None, keras_model_path=None, custom_objects=None,
                       model_dir=None, config=None, checkpoint_format="checkpoint",
                       metric_names_map=None, export_outputs=None):
    """An Estimator that trains, evaluates and predicts with `keras_model` (compiled).

    Args:
      keras_model: A compiled functional or Sequential Keras model.
      keras_model_path: Alternatively a `.keras`/`.h5` file to load it from.
      custom_objects: Passed to `from_config`/`load_model`.
      model_dir, config: As `Estimator`.
      checkpoint_format: `"checkpoint"` (numpyflow's checkpoints; the only one).
      metric_names_map: Optional dict renaming the evaluation metrics.
      export_outputs: Optional dict {model output name: an ExportOutput class, e.g.
        `tf.estimator.export.RegressionOutput`}: extra signatures of `export_saved_model`,
        named by the output, beside `"serving_default"` (a PredictOutput of every output).
    """
    if export_outputs is not None and not isinstance(export_outputs, dict):
        raise TypeError(f"model_to_estimator: export_outputs must be a dict {{output name: "
                        f"ExportOutput class}}; received {export_outputs!r}.")
    if checkpoint_format not in ("checkpoint", "saver"):
        raise ValueError(f"Unknown checkpoint format: {checkpoint_format!r}.")
    if (keras_model is None) == (keras_model_path is None):
        raise ValueError("Either `keras_model` or `keras_model_path` needs to be provided, "
                         "and not both.")
    if keras_model is None:
        from numpyflow.keras.saving import load_model
        keras_model = load_model(keras_model_path, custom_objects=custom_objects)
    if not getattr(keras_model, "_is_compiled", False):
        raise ValueError("The given keras model has not been compiled yet. Please compile the "
                         "model with `model.compile()` before calling `model_to_estimator()`.")
    if not getattr(keras_model, "built", True) or not getattr(keras_model, "inputs", None):
        raise ValueError("model_to_estimator: the Keras model must be a functional or "
                         "Sequential model with known inputs (subclassed models are not "
                         "supported).")
    metric_names_map = dict(metric_names_map or {})
    unknown = sorted(set(export_outputs or ()) - set(keras_model.output_names))
    if unknown:
        raise KeyError(f"model_to_estimator: export_outputs names {unknown}, which are not "
                       f"outputs of the Keras model ({list(keras_model.output_names)}).")

    def model_fn(features, labels, mode):
        model = _rebuild(keras_model, custom_objects, compiled=mode != ModeKeys.PREDICT)
        training = mode == ModeKeys.TRAIN
        x = _model_inputs(model, features)
        outputs = model(x, training=training)
        names = list(model.output_names)
        predictions = dict(zip(names, outputs)) if isinstance(outputs, (list, tuple)) \
            else {names[0]: outputs}
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions,
                                 export_outputs=_export_outputs(predictions, export_outputs))
        loss = model.compute_loss(x=x, y=labels, y_pred=outputs, training=training)
        if mode == ModeKeys.EVAL:
            model.compute_metrics(x, labels, outputs)
            results = model.get_metrics_result()
            metrics = {metric_names_map.get(name, name): _LogMetric(model, name)
                       for name in results if name != "loss"}
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 eval_metric_ops=metrics)
        from numpyflow.estimator.canned.optimizers import ApplyGradientsOp
        train_op = ApplyGradientsOp(loss, [(model.optimizer, model.trainable_variables)])
        return EstimatorSpec(mode, predictions=predictions, loss=loss, train_op=train_op)

    estimator = Estimator(model_fn, model_dir=model_dir, config=config)
    if estimator.latest_checkpoint() is None:
        # The Keras model's weights are the starting point of train, evaluate and predict
        # alike: written as the model_dir's first checkpoint, at global step 0.
        from numpyflow.train import checkpoint_file, checkpoint_management
        prefix = os.path.join(estimator.model_dir, "model.ckpt-0")
        items = [("global_step", np.array(0, dtype="int64"))]
        items += [(variable.name[:-2] if variable.name.endswith(":0") else variable.name,
                   variable.numpy()) for variable in keras_model.weights]
        checkpoint_file.write_checkpoint(prefix, items)
        checkpoint_management.record_checkpoint(prefix)
    return estimator


def _export_outputs(predictions, export_outputs):
    """TF's signatures of a Keras estimator: `"serving_default"` predicts every output;
    `export_outputs` adds `{output name: ExportOutput class}` over one output each."""
    from numpyflow.estimator import export
    final = {export.DEFAULT_SERVING_KEY: export.PredictOutput(predictions)}
    missing = sorted(set(export_outputs or ()) - set(predictions))
    if missing:
        raise KeyError(f"model_to_estimator: export_outputs names {missing}, which are not "
                       f"outputs of the Keras model ({sorted(predictions)}).")
    for key, output_class in (export_outputs or {}).items():
        final[key] = output_class(predictions[key])
    return final


namespace = types.SimpleNamespace(model_to_estimator=model_to_estimator)
