"""`Trainer`: compile, fit, evaluate and predict, mixed into `keras.Model`.

The training step is written once: `train_step` runs the model under a GradientTape,
takes the gradient of the compiled loss, lets the optimizer apply it and updates the
metrics. `fit`, `evaluate` and `predict` take their batches from an `EpochIterator`
and drive the callbacks; they call the steps through `tf.function`, so after two
traces each step runs as a compiled plan of array calls.
"""

import inspect
import logging
import math

import numpy as np

import numpyflow as tf
from numpyflow.distribute import strategy as distribute_lib
from numpyflow.framework import nest
from numpyflow.framework.function import Function
from numpyflow.keras import metrics as metrics_module
from numpyflow.keras import optimizers
from numpyflow.keras.callbacks import CallbackList, History, ProgbarLogger, TerminateOnNaN
from numpyflow.keras.callbacks.callback import as_callback_list
from numpyflow.keras.trainers.compile_utils import CompiledLoss, CompiledMetrics
from numpyflow.keras.trainers.data_adapters import data_adapter_utils
from numpyflow.keras.trainers.data_adapters.data_adapter_utils import is_tf_dataset
from numpyflow.keras.trainers.epoch_iterator import EpochIterator
from numpyflow.keras.trainers import distributed_training, parallel_predict

_log = logging.getLogger("numpyflow")


class Trainer:
    """The training API of `keras.Model`: a mixin placed before `Layer` in its bases.

    The model it is mixed into provides `__call__`, `trainable_variables`, `losses` and
    `_forget_stale_plans()` (which drops compiled steps that no longer describe the
    model); `output_names`, when it has them, names its outputs for `compile()`.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.optimizer = None
        self.loss = None
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
        # The strategy whose scope was open when the model was made (Keras 3's attribute).
        self._distribute_strategy = (distribute_lib.get_strategy()
                                     if distribute_lib.has_strategy() else None)

    @property
    def distribute_strategy(self):
        """The `tf.distribute` strategy the model trains under: the one whose `scope()` was
        open when it was made, else the current one."""
        return getattr(self, "_distribute_strategy", None) or distribute_lib.get_strategy()

    def __setattr__(self, name, value):
        # Metrics set as attributes (`self.loss_tracker = keras.metrics.Mean(...)`) join
        # `model.metrics`, so fit resets them each epoch, as Keras 3 tracks them.
        if isinstance(value, metrics_module.Metric) and name not in _OWN_METRICS:
            tracked = self.__dict__.setdefault("_metrics", [])
            if not any(value is metric for metric in tracked):
                tracked.append(value)
        super().__setattr__(name, value)

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, **kwargs):
        """Configures training: the optimizer, the losses to minimize, the metrics to report.

        The arguments keep tf.keras 2's order (`metrics` third); for models with several
        outputs, `loss`, `loss_weights` and `metrics` follow Keras 3 (see
        `numpyflow.keras.trainers.compile_utils`).

        Args:
          optimizer: Name ('sgd', 'adam', ...) or `keras.optimizers.Optimizer` instance.
          loss: Name ('sparse_categorical_crossentropy', 'mse', ...), `keras.losses.Loss`
            instance, or function `(y_true, y_pred) -> per-sample loss`; for several
            outputs, one of those for all, a list (one per output) or a dict keyed by
            output name.
          metrics: List of names ('accuracy', ...), `keras.metrics.Metric` instances or
            functions; for several outputs, a list with one entry (a metric or a list of
            them) per output, or a dict keyed by output name.
          loss_weights: Factors of each output's loss in the total: a number, a list (one
            per output) or a dict keyed by output name.
          weighted_metrics: Metrics, given like `metrics`, that the sample weights (or class
            weights) of `fit`/`evaluate` weigh; a name an unweighted metric already has
            becomes `weighted_<name>` in the logs.
          run_eagerly: True to run the steps op by op instead of compiled (debugging).

        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> model.train_on_batch(np.ones((4, 3)), np.zeros((4, 2)), return_dict=True).keys()
        dict_keys(['loss', 'mae'])
        """
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {sorted(kwargs)}.")
        if steps_per_execution not in (None, 1):
            raise NotImplementedError(f"steps_per_execution is not supported yet; received "
                                      f"steps_per_execution={steps_per_execution!r}.")
        if jit_compile is True:
            _log.warning("Model doesn't support `jit_compile=True`. Proceeding with "
                         "`jit_compile=False`: the steps compile to plans of NumPy calls.")
        if loss is None and loss_weights is not None:
            raise ValueError(f"`loss_weights` weigh the losses, but no `loss` was given; "
                             f"received loss_weights={loss_weights!r}.")
        # As Keras 3: the names are read now, so compile after the outputs are known.
        output_names = getattr(self, "output_names", None)
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled_loss = (CompiledLoss(loss, loss_weights, output_names,
                                           loss_tracker=self._loss_tracker)
                              if loss is not None else None)
        self.compiled_metrics = CompiledMetrics(metrics, output_names, weighted_metrics)
        self._is_compiled = True
        # What compile() was given, for get_compile_config (the optimizer as built).
        self._compile_arguments = {"loss": loss, "loss_weights": loss_weights,
                                   "metrics": metrics, "weighted_metrics": weighted_metrics,
                                   "run_eagerly": run_eagerly}
        self.run_eagerly = run_eagerly  # Also forgets the step functions of a previous compile.

    def get_compile_config(self):
        """The arguments of `compile()`, serialized as Keras 3 stores them in `.keras` files.

        Returns:
          None if the model is not compiled, else a dict with `optimizer`, `loss`,
          `loss_weights`, `metrics`, `weighted_metrics`, `run_eagerly`,
          `steps_per_execution` and `jit_compile`.

        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> config = model.get_compile_config()
        >>> config["optimizer"]["class_name"], config["loss"], config["metrics"]
        ('SGD', 'mse', ['mae'])
        """
        if not self._is_compiled:
            return None
        from numpyflow.keras.saving.serialization_lib import serialize_keras_object
        arguments = self._compile_arguments
        return {
            "optimizer": serialize_keras_object(self.optimizer),
            "loss": serialize_keras_object(arguments["loss"]),
            "loss_weights": serialize_keras_object(arguments["loss_weights"]),
            "metrics": serialize_keras_object(arguments["metrics"]),
            "weighted_metrics": serialize_keras_object(arguments["weighted_metrics"]),
            "run_eagerly": bool(arguments["run_eagerly"]),
            "steps_per_execution": 1,
            "jit_compile": False,
        }

    def compile_from_config(self, config):
        """Compiles the model from `get_compile_config()`'s dict (or one Keras 3 wrote).

        The optimizer is built for the model's trainable variables when the model is built,
        so that saved optimizer state can be loaded into it.
        """
        from numpyflow.keras.saving.serialization_lib import deserialize_keras_object
        if not isinstance(config, dict):
            raise ValueError(f"compile_from_config: expected a dict of compile arguments; "
                             f"received {type(config).__name__}.")
        config = deserialize_keras_object(config)
        known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
                 "run_eagerly", "steps_per_execution", "jit_compile"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"compile_from_config: unknown compile argument(s) {unknown}.")
        if config.get("jit_compile") is True:
            config["jit_compile"] = None  # Keras's TF default may be True; nothing to honour.
        self.compile(**config)
        if getattr(self, "built", False) and self.optimizer is not None:
            self.optimizer.build(self.trainable_variables)

    def _assert_compiled(self, method):
        if not self._is_compiled:
            raise RuntimeError(f"You must compile your model before {method}. Call "
                               f"`model.compile(optimizer, loss)`.")
        if self.compiled_loss is None and method == "training/testing" and \
                not self._overrides("train_step", "test_step", "compute_loss"):
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    def _overrides(self, *names):
        """Whether the model's class overrides any of these Trainer methods."""
        return any(getattr(type(self), name) is not getattr(Trainer, name) for name in names)

    @property
    def metrics(self):
        """The loss tracker, the compiled metrics (then the weighted ones), each output's loss
        tracker, then the metrics set as attributes of the model.

        The compiled metrics and the per-output loss trackers appear once the first batch
        has resolved them.
        """
        metrics = []
        if self._is_compiled:
            metrics = [self._loss_tracker] if self.compiled_loss is not None else []
            metrics += self.compiled_metrics.metrics or []
            if self.compiled_loss is not None:
                metrics += self.compiled_loss.metrics
        own = self.__dict__.get("_metrics")
        return metrics + own if own else metrics

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

    def make_train_function(self, force=False):
        """The function `fit` calls on each batch `(x, y)`: `train_step`, compiled."""
        return self._step_function("train_function", self.train_step, force)

    def make_test_function(self, force=False):
        """The function `evaluate` calls on each batch `(x, y)`: `test_step`, compiled."""
        return self._step_function("test_function", self.test_step, force)

    def make_predict_function(self, force=False):
        """The function `predict` calls on each batch `(x,)`: `predict_step`, compiled.

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

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled loss plus the layers' losses.

        The Keras 3 idiom of custom steps (override it to change the loss; `train_step`
        calls it). The compiled loss weighs each sample by `sample_weight` and reduces as
        its `Loss` says (`sum(loss * w) / batch size` by default).

        Args:
          x: The inputs (unused by this implementation).
          y: The targets.
          y_pred: The model's outputs.
          sample_weight: Optional weights of each sample's loss.
          training: Whether the loss is for a training step.

        Returns:
          A scalar Tensor.

        >>> import numpyflow as tf
        >>> model = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(1)])
        >>> model.compile(loss="mse")
        >>> float(model.compute_loss(y=np.zeros((2, 1)), y_pred=np.array([[1.], [3.]]),
        ...                          sample_weight=np.array([1., 0.])))
        0.5
        """
        losses = []
        if self.compiled_loss is not None and y is not None:
            losses.append(self.compiled_loss.compute(y, y_pred, sample_weight))
        dtype = losses[0].dtype if losses else tf.as_dtype("float32")
        # Each layer loss summed to a scalar in the loss's dtype, as Keras 3 adds them.
        extras = [tf.cast(tf.reduce_sum(extra), dtype) for extra in self.losses]
        if extras:
            # Under a strategy of N replicas the compiled losses come divided by N (each
            # Loss scales its mean: Keras 3's scale_loss_for_distribution); the layers'
            # losses are divided here, as Keras 3's `_aggregate_additional_loss`, so the
            # gradients the optimizer sums over the replicas are the global batch's.
            extra = extras[0] if len(extras) == 1 else tf.add_n(extras)
            losses.append(distributed_training.scale_loss(extra))
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        loss = losses[0] if len(losses) == 1 else tf.add_n(losses)
        # A custom step that returns `compute_metrics(...)` reports this loss as `loss`.
        self._step_loss = (distributed_training.unscale_loss(loss), _batch_size(x, y_pred))
        return loss

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """Calls `compute_loss`, without `training=` for overrides written before Keras 3.3."""
        compute_loss = self.compute_loss
        if _accepts_training(compute_loss):
            return compute_loss(x, y, y_pred, sample_weight, training=training)
        return compute_loss(x, y, y_pred, sample_weight)

    def train_step(self, data):
        """One gradient step on `data = (x, y[, sample_weight])`; returns the logs.

        Override it to customize training; `data` unpacks with
        `keras.utils.unpack_x_y_sample_weight`.
        """
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        variables = self.trainable_variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Computes the loss and metrics on `data = (x, y[, sample_weight])`."""
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs on `data = (x,)` (Keras 3 packs the inputs in a tuple)."""
        x, _, _ = data_adapter_utils.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _track_loss(self, loss, x):
        # Weighted by batch size, so a short last batch counts for what it holds.
        self._step_loss = None
        if self._loss_tracker is not None:
            self._loss_tracker.update_state(distributed_training.unscale_loss(loss),
                                            sample_weight=_batch_size(x))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics; returns every metric's value by log name.

        The Keras 3 idiom of custom steps: `return self.compute_metrics(x, y, y_pred,
        sample_weight)`. Only the `weighted_metrics` see `sample_weight`. When the step's
        loss came from `self.compute_loss` and nothing tracked it yet, it is tracked as
        `loss` here (Keras 3 would report 0).

        Returns:
          `{log name: value}`, as `get_metrics_result()`.
        """
        pending = getattr(self, "_step_loss", None)
        if pending is not None:
            self._step_loss = None
            if self._loss_tracker is not None:
                self._loss_tracker.update_state(pending[0], sample_weight=pending[1])
        if self._is_compiled:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """`{log name: value}` for each of `self.metrics` (`<output>_<metric>` when named)."""
        log_names = {}
        if self._is_compiled:
            compiled = self.compiled_metrics
            log_names = dict(zip(map(id, compiled.metrics or ()), compiled.log_names))
        results = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):  # A metric of several values, as Keras 3 merges.
                results.update(result)
            else:
                results[log_names.get(id(metric), metric.name)] = result
        return results

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0., validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Trains the model for `epochs` passes over `(x, y)`.

        Args:
          x: Inputs: an array, a list/tuple of arrays (several inputs) or a dict of arrays.
          y: Targets: an array, a list of arrays (one per output) or a dict keyed by output
            name.
          batch_size: Samples per step (32 by default).
          steps_per_epoch: Steps per epoch; the next epoch goes on where the last stopped.
          validation_split: Fraction of the samples, the last ones before shuffling, kept
            aside to evaluate on after each epoch.
          validation_data: `(x_val, y_val)` or `(x_val, y_val, val_sample_weight)` to
            evaluate on after each epoch instead.
          sample_weight: Weights of each sample's loss (and of the `weighted_metrics`): an
            array of shape (N,), or one per output like `y`.
          class_weight: A dict class index -> weight: each sample's weight is its class's
            (one output only; integer or one-hot labels). Not with `sample_weight`.

        Returns:
          A `History` whose `.history` maps `loss`, metric names and their `val_` versions
          to per-epoch lists.
        """
        _reject_unknown_arguments("fit", kwargs)
        self._assert_compiled("training/testing")
        verbose = 1 if verbose == "auto" else verbose
        _require_targets("fit", x, y)
        batch_size = data_adapter_utils.check_batch_size(batch_size)
        epochs = data_adapter_utils.check_integer(epochs, "epochs")
        initial_epoch = data_adapter_utils.check_integer(initial_epoch, "initial_epoch")
        validation_batch_size = data_adapter_utils.check_batch_size(validation_batch_size,
                                                                    "validation_batch_size")
        validation = None
        if validation_data is not None:
            validation = data_adapter_utils.unpack_validation_data(validation_data)
        elif validation_split:
            if is_tf_dataset(x):
                raise ValueError("`validation_split` is only supported for NumPy arrays and "
                                 "Tensors; with a dataset, pass `validation_data`.")
            # The weights are split with the samples; class weights apply to training only.
            (x, y, sample_weight), validation = data_adapter_utils.train_validation_split(
                (data_adapter_utils.to_arrays(x, "x"), data_adapter_utils.to_arrays(y, "y"),
                 data_adapter_utils.to_arrays(sample_weight, "sample_weight")),
                validation_split)
        # Under a strategy of several replicas: this replica's share of each global batch.
        replica = distributed_training.ReplicaTraining(
            self, x, per_step_logs=verbose == 1 or CallbackList(callbacks).has(
                "on_train_batch_end") or CallbackList(callbacks).has("on_batch_end"))
        epoch_iterator = EpochIterator(x, y, sample_weight=sample_weight,
                                       batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                                       shuffle=shuffle, class_weight=class_weight,
                                       shuffle_seed=replica.shuffle_seed(shuffle))
        if epoch_iterator.data_adapter.num_samples == 0:
            raise ValueError("fit() received empty training data (0 samples).")
        val_iterator = None
        if validation is not None:
            val_iterator = EpochIterator(*validation,
                                         batch_size=None if is_tf_dataset(validation[0])
                                         else validation_batch_size or batch_size,
                                         steps_per_epoch=validation_steps, shuffle=False)

        history = History()
        callback_list = CallbackList(
            ([ProgbarLogger()] if verbose and replica.is_chief else []) +
            as_callback_list(callbacks) + [history],
            model=self, verbose=verbose, epochs=epochs, steps=epoch_iterator.num_batches)
        self.stop_training = False
        # TerminateOnNaN reports a non-finite loss itself (and stops): no second message.
        self._nan_reported = any(isinstance(callback, TerminateOnNaN)
                                 for callback in as_callback_list(callbacks))
        callback_list.call("on_train_begin", None)
        # A callback may move the start (BackupAndRestore resuming): Keras 3's
        # `model._initial_epoch`, and `_initial_step`, the steps of that epoch already run.
        if getattr(self, "_initial_epoch", None) is not None:
            initial_epoch, self._initial_epoch = self._initial_epoch, None
        skip_steps, self._initial_step = getattr(self, "_initial_step", 0), 0
        # Under tf.distribute, where the chief resumes from is where every replica does.
        initial_epoch, skip_steps = replica.agree((initial_epoch, skip_steps))
        batch_hooks = (callback_list.has("on_train_batch_begin")
                       or callback_list.has("on_batch_begin"))
        end_hooks = callback_list.has("on_train_batch_end") or callback_list.has("on_batch_end")
        logs = {}
        train_function = self.make_train_function()
        direct = self._needs_no_replica_context()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.call("on_epoch_begin", epoch, None)
            for step, data in replica.batches(epoch_iterator):
                if skip_steps:  # Run before the interruption that fit now resumes from.
                    skip_steps -= 1
                    continue
                if batch_hooks:
                    callback_list.call("on_train_batch_begin", step, None)
                    callback_list.call("on_batch_begin", step, None)
                logs = (train_function(data) if direct
                        else replica.train_step(train_function, data))
                self._report_nan(logs, epoch, step)
                if end_hooks:
                    callback_list.call("on_train_batch_end", step, logs)
                    callback_list.call("on_batch_end", step, logs)
                if self.stop_training:
                    break
            epoch_logs = pythonify_logs(replica.global_logs(logs))
            if val_iterator is not None and (epoch + 1) % validation_freq == 0:
                val_iterator.reset()  # Each validation starts at the first sample.
                val_logs = self._evaluate_epoch(val_iterator, callback_list, replica)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", logs)
        return history

    def _needs_no_replica_context(self):
        """Whether the steps may be called as they are, outside `strategy.run`: under the
        default strategy, whose replica context is the current one anyway (one replica, no
        split batches, nothing to synchronize). Saves ~2 us a step."""
        return self._distribute_strategy is None and not distribute_lib.has_strategy()

    def _report_nan(self, logs, epoch, step):
        if self._nan_reported:
            return
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._nan_reported = True
            _log.warning("The loss became %s at epoch %d, batch %d. Training goes on unless a "
                         "callback stops it (keras.callbacks.TerminateOnNaN() does); check the "
                         "learning rate and the inputs.", float(loss), epoch + 1, step)

    # -- evaluate / predict -------------------------------------------------------------------
    def _evaluate_epoch(self, epoch_iterator, callback_list, replica):
        self.reset_metrics()
        callback_list.call("on_test_begin", None)
        logs = {}
        test_function = self.make_test_function()
        direct = self._needs_no_replica_context()
        for step, data in replica.batches(epoch_iterator):
            callback_list.call("on_test_batch_begin", step, None)
            logs = (test_function(data) if direct
                    else replica.run(test_function, self.test_step, data))
            callback_list.call("on_test_batch_end", step, logs)
        logs = pythonify_logs(replica.global_logs(logs))
        callback_list.call("on_test_end", logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Returns the loss (a float) or `[loss, *metrics]` on `(x, y)`, batch by batch.

        `sample_weight` weighs each sample's loss and the `weighted_metrics`, as in `fit`.

        With several outputs, the list also holds each output's loss (after the metrics,
        as Keras 3 orders them); `return_dict=True` gives them by name.
        """
        _reject_unknown_arguments("evaluate", kwargs)
        self._assert_compiled("training/testing")
        verbose = 1 if verbose == "auto" else verbose
        _require_targets("evaluate", x, y)
        epoch_iterator = EpochIterator(x, y, sample_weight=sample_weight, batch_size=batch_size,
                                       steps_per_epoch=steps, shuffle=False)
        if epoch_iterator.data_adapter.num_samples == 0:
            raise ValueError("evaluate() received empty data (0 samples).")
        replica = distributed_training.ReplicaTraining(self, x)
        callback_list = CallbackList(([ProgbarLogger()] if verbose and replica.is_chief else []) +
                                     as_callback_list(callbacks),
                                     model=self, verbose=verbose, epochs=1,
                                     steps=epoch_iterator.num_batches)
        logs = self._evaluate_epoch(epoch_iterator, callback_list, replica)
        return _logs_result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """The model's outputs on `x`, computed batch by batch.

        Under a `tf.distribute` strategy of N replicas, each replica predicts its piece of
        every batch (as `fit` splits them) and every replica returns the whole result, in
        the order of the samples.

        Once the step is compiled into a plan that assigns no Variable and draws no random
        numbers, the remaining batches of arrays are spread over the cores (when no callback
        watches each batch): the same outputs, bit for bit (see `parallel_predict`).

        Returns:
          One NumPy array, or, for a model with several outputs, a list/tuple/dict of
          arrays like the model's output; batches are concatenated along the first axis.
        """
        _reject_unknown_arguments("predict", kwargs)
        verbose = 1 if verbose == "auto" else verbose
        epoch_iterator = EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps,
                                       shuffle=False)
        replica = distributed_training.ReplicaTraining(self, x)
        callback_list = CallbackList(([ProgbarLogger()] if verbose and replica.is_chief
                                      else []) + as_callback_list(callbacks),
                                     model=self, verbose=verbose, epochs=1,
                                     steps=epoch_iterator.num_batches)
        callback_list.call("on_predict_begin", None)
        outputs = []
        predict_function = self.make_predict_function()

        def run(data):
            return _to_numpy(replica.run(predict_function, self.predict_step, data))

        threads = (parallel_predict.thread_count(epoch_iterator, callback_list, replica.replicas)
                   if isinstance(predict_function, Function) else 1)
        batches = replica.batches(epoch_iterator)
        for step, data in batches:
            callback_list.call("on_predict_batch_begin", step, None)
            outputs.append(run(data))
            callback_list.call("on_predict_batch_end", step, None)
            if threads > 1 and predict_function.runs_pure_plan(data):
                # Compiled, and each batch's outputs depend on that batch only: the other
                # batches run on every core (parallel_predict.py). Under the default
                # strategy such a plan's call needs no replica context around it.
                outputs += parallel_predict.run_rest(
                    (lambda data: _to_numpy(predict_function(data)))
                    if self._needs_no_replica_context() else run, run,
                    [batch for _, batch in batches], _batch_size(data), threads)
                break
        callback_list.call("on_predict_end", None)
        if not outputs:
            raise ValueError("predict() received empty input (0 samples).")
        return _concatenate(replica.gather_outputs(outputs))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) for it.

        `sample_weight` (or `class_weight`, a dict class index -> weight) weighs each
        sample, as in `fit`.
        """
        self._assert_compiled("training/testing")
        data = _batch_arrays("train_on_batch", x, y, sample_weight, class_weight)
        if reset_metrics:
            self.reset_metrics()
        # In the replica context of the model's strategy, as fit's steps (a no-op without
        # one): under several replicas the gradients are summed over them.
        logs = self.distribute_strategy.run(self.make_train_function(), (data,))
        return _logs_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """The loss (and metrics) on one batch, without training."""
        self._assert_compiled("training/testing")
        data = _batch_arrays("test_on_batch", x, y, sample_weight)
        if reset_metrics:
            self.reset_metrics()
        return _logs_result(self.make_test_function()(data), return_dict)

    def predict_on_batch(self, x):
        """The model's outputs on one batch, as NumPy arrays."""
        data = (data_adapter_utils.to_arrays(x, "x"),)
        return _to_numpy(self.make_predict_function()(data))


def _reject_unknown_arguments(method, kwargs):
    # tf.keras 2 took and dropped some legacy arguments; here none is silently ignored.
    if kwargs:
        raise TypeError(f"{method}() got unexpected keyword argument(s): {sorted(kwargs)}.")


def _require_targets(method, x, y):
    if x is None or (y is None and not is_tf_dataset(x)):  # A dataset holds its targets.
        raise ValueError(f"{method}() needs both `x` and `y`.")


def _batch_arrays(method, x, y, sample_weight=None, class_weight=None):
    """`(x, y[, sample_weight])` as arrays of the same length, for train/test_on_batch."""
    _require_targets(method, x, y)
    x, y = data_adapter_utils.to_arrays(x, "x"), data_adapter_utils.to_arrays(y, "y")
    sample_weight = data_adapter_utils.to_arrays(sample_weight, "sample_weight")
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        data_adapter_utils.check_class_weight(class_weight, y)
        sample_weight = data_adapter_utils.class_weight_to_sample_weights(y, class_weight)
    data = (x, y) if sample_weight is None else (x, y, sample_weight)
    data_adapter_utils.check_data_cardinality(data)
    return data


def _batch_size(x, y_pred=None):
    """The number of samples in a batch: the first dimension of its first input."""
    first = nest.flatten(x)[0] if x is not None else None
    if first is None:
        first = nest.flatten(y_pred)[0]
    return first.shape[0]


_OWN_METRICS = ("_loss_tracker",)


def _accepts_training(method):
    """Whether a bound `compute_loss` takes `training=` (Keras 3.3 added it)."""
    function = getattr(method, "__func__", method)
    if function is Trainer.compute_loss:
        return True
    parameters = inspect.signature(function).parameters.values()
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in parameters)


def pythonify_logs(logs):
    """`logs` with each value a float, or a NumPy array for vector results (Keras 3's).

    >>> import numpy as np
    >>> pythonify_logs({"loss": np.float32(0.5), "f1_score": np.array([0.25, 1.])})
    {'loss': 0.5, 'f1_score': array([0.25, 1.  ])}
    """
    result = {}
    for name, value in logs.items():
        if isinstance(value, tf.Tensor):
            value = value.numpy()
        if isinstance(value, np.ndarray) and value.ndim:
            result[name] = value
        else:
            result[name] = float(value)
    return result


def _logs_result(logs, return_dict):
    """A step's or an evaluation's logs as floats: a dict, one value, or a list in order.

    Vector results (such as `F1Score(average=None)`'s) stay NumPy arrays, as in Keras 3.
    """
    logs = pythonify_logs(logs)
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _to_numpy(outputs):
    if isinstance(outputs, tf.Tensor):
        return outputs.numpy()
    return nest.map_structure(lambda t: t.numpy() if isinstance(t, tf.Tensor) else t, outputs)


def _concatenate(batches):
    """The batches' outputs (arrays or like structures of arrays) joined along axis 0."""
    if len(batches) == 1:
        return batches[0]
    if isinstance(batches[0], np.ndarray):
        return np.concatenate(batches)
    columns = zip(*(nest.flatten(batch) for batch in batches))
    return nest.pack_sequence_as(batches[0], [np.concatenate(parts) for parts in columns])
