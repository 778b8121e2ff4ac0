"""`Model`: a layer with training — compile, fit, evaluate, predict, summary.

The training step is written once: `train_step` runs the model under a GradientTape,
takes the gradient of the compiled loss, lets the optimizer apply it and updates the
metrics. `fit`, `evaluate` and `predict` loop over batches and drive the callbacks.
Subclass `Model` and override `call` (and, if needed, `train_step`) for custom models.
"""

import logging
import math

import numpy as np

import numpyflow as tf
from numpyflow.keras import metrics as metrics_module
from numpyflow.keras import optimizers
from numpyflow.keras.callbacks import CallbackList, History, ProgbarLogger
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.models import data_adapter
from numpyflow.keras.models.compile_utils import CompiledLoss, CompiledMetrics
from numpyflow.keras.utils.summary_utils import print_summary

_log = logging.getLogger("numpyflow")

# How many times a model's layer stack has changed (Sequential.add/pop). Any model may hold
# the changed one as a layer, so each compares it with the count its compiled plans saw.
_stack_changes = 0


def stack_changed():
    """Tells every model that plans compiled before now may run an outdated stack."""
    global _stack_changes
    _stack_changes += 1


class Model(Layer):
    """A trainable stack of layers. Subclass it and define `call`, or use `Sequential`.

    >>> import numpyflow as tf
    >>> class TwoLayer(tf.keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = tf.keras.layers.Dense(8, activation="relu")
    ...         self.out = tf.keras.layers.Dense(1)
    ...     def call(self, inputs):
    ...         return self.out(self.hidden(inputs))
    >>> model = TwoLayer()
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((4, 3)), np.zeros((4, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    """

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                "Functional models (keras.Model(inputs, outputs)) are not supported yet; use "
                "keras.Sequential, or subclass keras.Model and define call().")
        super().__init__(**kwargs)
        self.optimizer = None
        self.compiled_loss = None
        self.compiled_metrics = None
        self._loss_tracker = None
        self.stop_training = False
        self.history = None
        self._is_compiled = False
        self._nan_reported = False
        self._run_eagerly = None
        self.train_function = None
        self.test_function = None
        self.predict_function = None
        self._plans_stack_changes = _stack_changes

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, **kwargs):
        """Configures training: the optimizer, the loss to minimize, the metrics to report.

        Args:
          optimizer: Name ('sgd', 'adam', ...) or `keras.optimizers.Optimizer` instance.
          loss: Name ('sparse_categorical_crossentropy', 'mse', ...), `keras.losses.Loss`
            instance, or function `(y_true, y_pred) -> per-sample loss`.
          metrics: List of names ('accuracy', ...), `keras.metrics.Metric` instances or
            functions.
        """
        if loss_weights is not None or weighted_metrics is not None:
            raise NotImplementedError("loss_weights and weighted_metrics are not supported yet.")
        self.optimizer = optimizers.get(optimizer)
        self.compiled_loss = CompiledLoss(loss) if loss is not None else None
        self.compiled_metrics = CompiledMetrics(metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._is_compiled = True
        self.run_eagerly = run_eagerly  # Also forgets the step functions of a previous compile.

    def _assert_compiled(self, method):
        if not self._is_compiled:
            raise RuntimeError(f"You must compile your model before {method}. Call "
                               f"`model.compile(optimizer, loss)`.")
        if self.compiled_loss is None and method == "training/testing":
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    @property
    def metrics(self):
        """The loss tracker, then the compiled metrics (once the first batch resolved them)."""
        if not self._is_compiled:
            return []
        compiled = self.compiled_metrics.metrics or []
        return ([self._loss_tracker] if self.compiled_loss is not None else []) + compiled

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    # -- one step ---------------------------------------------------------------------------
    @property
    def run_eagerly(self):
        """Whether fit/evaluate/predict run their `*_step` op by op (for debugging).

        False by default: the steps then run through `tf.function`, which compiles each
        into a plan of array calls after tracing it (see `numpyflow.function`).
        """
        return bool(self._run_eagerly)

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = value
        self._forget_step_functions()

    def _forget_step_functions(self):
        """Drops the compiled steps: their plans no longer describe the model."""
        self.train_function = None
        self.test_function = None
        self.predict_function = None

    def _forget_stale_plans(self):
        """Drops the compiled steps if some layer stack changed since they were made."""
        if self._plans_stack_changes != _stack_changes:
            self._plans_stack_changes = _stack_changes
            self._forget_step_functions()

    def make_train_function(self, force=False):
        """The function `fit` calls on each batch `(x, y)`: `train_step`, compiled."""
        return self._step_function("train_function", self.train_step, force)

    def make_test_function(self, force=False):
        """The function `evaluate` calls on each batch `(x, y)`: `test_step`, compiled."""
        return self._step_function("test_function", self.test_step, force)

    def make_predict_function(self, force=False):
        """The function `predict` calls on each batch `x`: `predict_step`, compiled.

        As in TF, where predict runs a tf.function: after two calls per batch shape, a
        plan of array calls replaces the per-layer Python of an eager call.
        """
        return self._step_function("predict_function", self.predict_step, force)

    def _step_function(self, attribute, step, force):
        """`self.<attribute>`: `step` as a tf.function (or as it is, when run eagerly),
        made anew when forced or when it no longer describes the model."""
        self._forget_stale_plans()
        if getattr(self, attribute) is None or force:
            setattr(self, attribute, step if self.run_eagerly else tf.function(step))
        return getattr(self, attribute)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        """The compiled loss plus any layer losses (regularization)."""
        loss = self.compiled_loss(y, y_pred)
        extra = self.losses
        return loss + tf.add_n(extra) if extra else loss

    def train_step(self, data):
        """One gradient step on `data = (x, y)`; returns the metrics' current values."""
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred)
        variables = self.trainable_variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self._update_metrics(loss, y, y_pred)

    def test_step(self, data):
        """Computes the loss and metrics on `data = (x, y)` without training."""
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred)
        return self._update_metrics(loss, y, y_pred)

    def predict_step(self, data):
        return self(data, training=False)

    def _update_metrics(self, loss, y, y_pred):
        # Weighted by batch size, so a short last batch counts for what it holds.
        self._loss_tracker.update_state(loss, sample_weight=y_pred.shape[0])
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0., validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Trains the model for `epochs` passes over `(x, y)`.

        Returns:
          A `History` whose `.history` maps `loss`, metric names and their `val_` versions
          to per-epoch lists.
        """
        self._assert_compiled("training/testing")
        if class_weight is not None or sample_weight is not None:
            raise NotImplementedError("class_weight and sample_weight are not supported yet.")
        if steps_per_epoch is not None:
            raise NotImplementedError("steps_per_epoch is not supported yet with array inputs.")
        verbose = 1 if verbose == "auto" else verbose
        x, y = data_adapter.labelled_arrays(x, y, "fit")
        batch_size = data_adapter.check_batch_size(batch_size)
        validation = None
        if validation_data is not None:
            validation = data_adapter.unpack_validation_data(validation_data)
        elif validation_split:
            (x, y), validation = data_adapter.split_validation(x, y, validation_split)
        if len(x) == 0:
            raise ValueError("fit() received empty training data (0 samples).")

        steps = math.ceil(len(x) / batch_size)
        history = History()
        callback_list = CallbackList(
            ([ProgbarLogger()] if verbose else []) + list(callbacks or []) + [history],
            model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        self._nan_reported = False
        callback_list.call("on_train_begin", None)
        batch_hooks = callback_list.has("on_train_batch_begin") or callback_list.has("on_batch_begin")
        end_hooks = callback_list.has("on_train_batch_end") or callback_list.has("on_batch_end")
        logs = {}
        train_function = self.make_train_function()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.call("on_epoch_begin", epoch, None)
            for step, index in enumerate(data_adapter.batch_slices(len(x), batch_size, shuffle)):
                if batch_hooks:
                    callback_list.call("on_train_batch_begin", step, None)
                    callback_list.call("on_batch_begin", step, None)
                logs = train_function((x[index], y[index]))
                self._report_nan(logs, epoch, step)
                if end_hooks:
                    callback_list.call("on_train_batch_end", step, logs)
                    callback_list.call("on_batch_end", step, logs)
                if self.stop_training:
                    break
            epoch_logs = {name: float(value) for name, value in logs.items()}
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*validation, validation_batch_size or batch_size,
                                                 callback_list)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", logs)
        return history

    def _report_nan(self, logs, epoch, step):
        if self._nan_reported:
            return
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._nan_reported = True
            _log.warning("The loss became %s at epoch %d, batch %d. Training continues; check "
                         "the learning rate and the inputs, or pass "
                         "keras.callbacks.TerminateOnNaN() to stop.", float(loss), epoch + 1,
                         step)

    # -- evaluate / predict -------------------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size, callback_list):
        self.reset_metrics()
        callback_list.call("on_test_begin", None)
        logs = {}
        test_function = self.make_test_function()
        for step, index in enumerate(data_adapter.batch_slices(len(x), batch_size, False)):
            callback_list.call("on_test_batch_begin", step, None)
            logs = test_function((x[index], y[index]))
            callback_list.call("on_test_batch_end", step, logs)
        logs = {name: float(value) for name, value in logs.items()}
        callback_list.call("on_test_end", logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Returns the loss (a float) or `[loss, *metrics]` on `(x, y)`, batch by batch."""
        self._assert_compiled("training/testing")
        if sample_weight is not None:
            raise NotImplementedError("sample_weight is not supported yet.")
        verbose = 1 if verbose == "auto" else verbose
        x, y = data_adapter.labelled_arrays(x, y, "evaluate")
        batch_size = data_adapter.check_batch_size(batch_size)
        callback_list = CallbackList(([ProgbarLogger()] if verbose else []) + list(callbacks or []),
                                     model=self, verbose=verbose, epochs=1,
                                     steps=math.ceil(len(x) / batch_size))
        logs = self._evaluate_arrays(x, y, batch_size, callback_list)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """The model's outputs on `x`, computed batch by batch, as one NumPy array."""
        verbose = 1 if verbose == "auto" else verbose
        x = data_adapter.to_array(x, "x")
        batch_size = data_adapter.check_batch_size(batch_size)
        steps = math.ceil(len(x) / batch_size)
        callback_list = CallbackList(([ProgbarLogger()] if verbose else []) + list(callbacks or []),
                                     model=self, verbose=verbose, epochs=1, steps=steps)
        callback_list.call("on_predict_begin", None)
        outputs = []
        predict_function = self.make_predict_function()
        for step, index in enumerate(data_adapter.batch_slices(len(x), batch_size, False)):
            callback_list.call("on_predict_batch_begin", step, None)
            outputs.append(predict_function(x[index]).numpy())
            callback_list.call("on_predict_batch_end", step, None)
        callback_list.call("on_predict_end", None)
        if not outputs:
            raise ValueError("predict() received empty input (0 samples).")
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) for it."""
        self._assert_compiled("training/testing")
        x, y = data_adapter.labelled_arrays(x, y, "train_on_batch")
        if reset_metrics:
            self.reset_metrics()
        return self._step_result(self.make_train_function()((x, y)), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """The loss (and metrics) on one batch, without training."""
        self._assert_compiled("training/testing")
        x, y = data_adapter.labelled_arrays(x, y, "test_on_batch")
        if reset_metrics:
            self.reset_metrics()
        return self._step_result(self.make_test_function()((x, y)), return_dict)

    def predict_on_batch(self, x):
        """The model's outputs on one batch, as a NumPy array."""
        return self.make_predict_function()(data_adapter.to_array(x, "x")).numpy()

    def _step_result(self, logs, return_dict):
        logs = {name: float(value) for name, value in logs.items()}
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # -- inspection ---------------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._tracked_layers)

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at position `index` of `model.layers`."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints the layers, their output shapes and parameter counts, and the totals."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by "
                             "calling `build()` or by calling the model on a batch of data.")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}
