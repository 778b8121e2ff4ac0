"""`tf.estimator.Estimator`: train, evaluate and predict with a `model_fn`, checkpointing
in `model_dir`.

How it runs (see `variable_store` for the why): each `train`/`evaluate`/`predict` call
opens a fresh `VariableStore` restored from the latest checkpoint in `model_dir`, then
calls `model_fn(features, labels, mode, params, config)` once per batch of `input_fn`'s
data. In TRAIN mode that call runs under a GradientTape the Estimator opens, so the
`train_op` that `tf.compat.v1.train.*Optimizer.minimize(loss, global_step)` returns can
take the gradient of the loss the `model_fn` computed; the Estimator runs the `train_op`
after `model_fn` returns, as TF's session runs it after building the graph.

Checkpoints are numpyflow's own files (`tf.train` layout): `model_dir/model.ckpt-<step>`,
written atomically, the newest `keep_checkpoint_max` kept and listed in
`model_dir/checkpoint`. Event files for TensorBoard (the loss, `global_step/sec`, and each
evaluation's metrics under `eval/` or `eval_<name>/`) need `numpyflow[tensorboard]`;
without it training runs and logs a warning once.
"""

import inspect
import logging
import os
import tempfile
import time

import numpy as np

from numpyflow.estimator import variable_store
from numpyflow.estimator.model_fn import EstimatorSpec, ModeKeys
from numpyflow.estimator.run_config import RunConfig
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.framework.variable import Variable

_log = logging.getLogger("numpyflow")
CHECKPOINT_NAME = "model.ckpt"
_MODEL_FN_ARGS = ("features", "labels", "mode", "params", "config")


class Estimator:
    """Trains, evaluates and predicts with a model described by `model_fn`.

    Args:
      model_fn: `model_fn(features, labels, mode, params, config)` returning an
        `EstimatorSpec`; `labels`, `mode`, `params` and `config` are optional arguments.
      model_dir: Where checkpoints and event files go. None: `config.model_dir`, else a
        new temporary directory (logged as a warning).
      config: A `tf.estimator.RunConfig`.
      params: A dict passed to `model_fn` as `params`.
      warm_start_from: A checkpoint prefix or a model_dir: when `model_dir` has no
        checkpoint yet, variables with the same names start from its values.

    >>> import numpyflow as tf
    >>> def model_fn(features, labels, mode):
    ...     w = tf.Variable(0., name="w")
    ...     loss = tf.reduce_mean(tf.square(features["x"] * w - labels))
    ...     optimizer = tf.compat.v1.train.GradientDescentOptimizer(0.1)
    ...     train_op = optimizer.minimize(loss, tf.compat.v1.train.get_global_step())
    ...     return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
    ...                                       predictions=features["x"] * w)
    >>> def input_fn():
    ...     return tf.data.Dataset.from_tensors(({"x": [1., 2.]}, [2., 4.])).repeat()
    >>> estimator = tf.estimator.Estimator(model_fn)  # doctest: +SKIP
    >>> estimator.train(input_fn, steps=50).get_variable_value("w")  # doctest: +SKIP
    2.0
    """

    def __init__(self, model_fn, model_dir=None, config=None, params=None,
                 warm_start_from=None):
        if not callable(model_fn):
            raise ValueError(f"model_fn must be callable; received model_fn={model_fn!r}.")
        if config is None:
            config = RunConfig()
        elif not isinstance(config, RunConfig):
            raise ValueError(f"config must be an instance of `RunConfig`, but provided "
                             f"{config!r}.")
        model_dir = None if model_dir is None else os.fspath(model_dir)
        if model_dir and config.model_dir and model_dir != config.model_dir:
            raise ValueError(f"`model_dir` are set both in constructor and `RunConfig`, but "
                             f"with different values. In constructor: '{model_dir}', in "
                             f"`RunConfig`: '{config.model_dir}' ")
        model_dir = model_dir or config.model_dir
        if not model_dir:
            model_dir = tempfile.mkdtemp()
            _log.warning("Using temporary folder as model directory: %s", model_dir)
        config = config.replace(model_dir=model_dir) if config.model_dir != model_dir else config
        _log.info("Using config: %s", config)
        self._model_fn = model_fn
        self._model_fn_args = _argument_names(model_fn)
        if "features" not in self._model_fn_args:
            raise ValueError(f"model_fn ({model_fn}) must include features argument.")
        if params is not None and "params" not in self._model_fn_args:
            raise ValueError(f"model_fn ({model_fn}) does not include params argument, but "
                             f"params ({params}) are passed to Estimator.")
        if warm_start_from is not None and not isinstance(warm_start_from, (str, os.PathLike)):
            raise NotImplementedError(
                f"Estimator: warm_start_from must be a checkpoint prefix or a directory (a "
                f"string); tf.estimator.WarmStartSettings is not supported. Received "
                f"{warm_start_from!r}.")
        self._model_dir = model_dir
        self._config = config
        self._params = dict(params or {})
        self._warm_start_from = None if warm_start_from is None else os.fspath(warm_start_from)
        self._summary_writers = {}

    # -- properties ------------------------------------------------------------------------
    @property
    def model_dir(self):
        return self._model_dir

    @property
    def config(self):
        return self._config

    @property
    def params(self):
        return dict(self._params)

    @property
    def model_fn(self):
        """The model_fn, bound to this Estimator's params and config."""
        return lambda features, labels, mode, config=None: self._call_model_fn(
            features, labels, mode)

    # -- checkpoints -------------------------------------------------------------------------
    def latest_checkpoint(self):
        """The prefix of the newest checkpoint in `model_dir`, or None."""
        from numpyflow.train import latest_checkpoint
        return latest_checkpoint(self._model_dir)

    def get_variable_names(self):
        """The names of the variables saved in the latest checkpoint."""
        return list(self._read_checkpoint(self._require_checkpoint()))

    def get_variable_value(self, name):
        """The value of variable `name` in the latest checkpoint, as a NumPy array."""
        values = self._read_checkpoint(self._require_checkpoint())
        if name in values and values[name].ndim == 0:
            return values[name][()]  # A NumPy scalar, as TF returns for scalar variables.
        if name not in values:
            raise ValueError(f"Estimator.get_variable_value: the latest checkpoint "
                             f"({self.latest_checkpoint()}) has no variable {name!r}; its "
                             f"variables are {sorted(values)}.")
        return values[name]

    def _require_checkpoint(self):
        path = self.latest_checkpoint()
        if path is None:
            raise ValueError(f"Could not find trained model in model_dir: {self._model_dir}.")
        return path

    @staticmethod
    def _read_checkpoint(prefix):
        from numpyflow.train.checkpoint_file import CheckpointReader
        with CheckpointReader(prefix) as reader:
            return {path: reader.read(path) for path in reader.paths}

    def _restored_values(self, checkpoint_path=None, warm_start=False):
        path = checkpoint_path or self.latest_checkpoint()
        if path is not None:
            _log.info("Restoring parameters from %s", path)
            return self._read_checkpoint(path)
        if warm_start and self._warm_start_from is not None:
            from numpyflow.train import latest_checkpoint
            source = self._warm_start_from
            if os.path.isdir(source):
                source = latest_checkpoint(source)
                if source is None:
                    raise ValueError(f"warm_start_from: no checkpoint in directory "
                                     f"{self._warm_start_from!r}.")
            _log.info("Warm-starting from: %s", source)
            values = self._read_checkpoint(source)
            values.pop("global_step", None)
            return values
        return None

    def _saver(self, store):
        from numpyflow.train import CheckpointManager
        keep = self._config.keep_checkpoint_max or None
        return CheckpointManager(_StoreCheckpoint(store), self._model_dir, max_to_keep=keep,
                                 checkpoint_name=CHECKPOINT_NAME)

    # -- input_fn and model_fn ---------------------------------------------------------------
    def _call_input_fn(self, input_fn, mode):
        if not callable(input_fn):
            raise TypeError(f"input_fn must be callable; received {input_fn!r}.")
        names = _argument_names(input_fn)
        kwargs = {}
        if "mode" in names:
            kwargs["mode"] = mode
        if "params" in names:
            kwargs["params"] = self.params
        if "config" in names:
            kwargs["config"] = self._config
        if "input_context" in names:
            kwargs["input_context"] = None
        return input_fn(**kwargs)

    def _batches(self, input_fn, mode):
        """Yields `(features, labels)` per batch of `input_fn`'s data."""
        result = self._call_input_fn(input_fn, mode)
        if hasattr(result, "element_spec") and hasattr(result, "__iter__"):
            for element in result:
                yield _split_element(element, mode)
        else:
            batch = _split_element(result, mode)
            while True:  # TF reruns an input_fn's tensors every step.
                yield batch
                if mode != ModeKeys.TRAIN:
                    return

    def _call_model_fn(self, features, labels, mode):
        kwargs = {}
        if "labels" in self._model_fn_args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        if "mode" in self._model_fn_args:
            kwargs["mode"] = mode
        if "params" in self._model_fn_args:
            kwargs["params"] = self.params
        if "config" in self._model_fn_args:
            kwargs["config"] = self._config
        spec = self._model_fn(features=features, **kwargs)
        if not isinstance(spec, EstimatorSpec):
            raise ValueError(f"model_fn should return an EstimatorSpec. Given: "
                             f"{type(spec).__name__}.")
        return spec

    def _build(self, context, features, labels, mode, train=False, before_train_op=None):
        """Runs `model_fn` once on a batch inside `context` (shared variables), and then
        with `train=True` its spec's `train_op`, in the same context (optimizer slots
        are shared variables too)."""
        first = not context.store.variables  # TF logs its one build; here the first call.
        if first:
            _log.info("Calling model_fn.")
        with context.activate():
            context.global_step = Variable(0, dtype="int64", trainable=False, name="global_step")
            if context.tape is None:
                spec = self._call_model_fn(features, labels, mode)
            else:
                with context.tape:
                    spec = self._call_model_fn(features, labels, mode)
            if first:
                _log.info("Done calling model_fn.")
            if context.tape is not None:
                _check_variables_are_the_stores(context)
            if train:
                if before_train_op is not None:
                    before_train_op()
                _run_train_op(spec.train_op)
            return spec

    def _seed(self):
        if self._config.tf_random_seed is not None:
            from numpyflow.ops.random_ops import set_seed
            set_seed(self._config.tf_random_seed)

    # -- train -------------------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Trains on `input_fn`'s batches.

        Args:
          input_fn: Returns a `tf.data.Dataset` of `(features, labels)` (or of features),
            or one `(features, labels)` batch, used at every step.
          hooks: `SessionRunHook`s to run.
          steps: Train this many more steps (or until the input ends).
          max_steps: Train until the global step reaches this (skipped if it has).
          saving_listeners: Not supported.

        Returns:
          self.
        """
        if saving_listeners:
            raise NotImplementedError("Estimator.train: `saving_listeners` is not supported; "
                                      f"received {saving_listeners!r}.")
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        restored = self._restored_values(warm_start=True)
        start_step = int(restored.get("global_step", 0)) if restored else 0
        if max_steps is not None and start_step >= max_steps:
            _log.info("Skipping training since max_steps has already saved.")
            return self
        last_step = start_step + steps if steps is not None else max_steps
        self._seed()
        store = variable_store.VariableStore(restored)
        saver = self._saver(store)
        from numpyflow.estimator import hooks as hooks_lib
        hooks = _begun_hooks(hooks or [])
        spec_hooks = None
        run_context = hooks_lib.SessionRunContext()
        logger = _StepLogger(self._config.log_step_count_steps)
        summaries = self._summary_writer(self._model_dir)
        last_save_time = time.time()
        last_saved_step = None
        loss = None
        global_step = start_step
        try:
            for features, labels in self._batches(input_fn, ModeKeys.TRAIN):
                if last_step is not None and global_step >= last_step:
                    break
                fetches = [hook.before_run(run_context) for hook in hooks]
                from numpyflow.framework.tape import GradientTape
                context = variable_store.BuildContext(store, ModeKeys.TRAIN, None,
                                                      GradientTape(persistent=True))
                step_before = global_step
                first = spec_hooks is None

                def save_initial():
                    # TF saves the starting point before the first step.
                    if first and start_step != _saved_step(saver):
                        self._save(saver, start_step)

                spec = self._build(context, features, labels, ModeKeys.TRAIN, train=True,
                                   before_train_op=save_initial)
                gs_variable = context.global_step
                if spec_hooks is None:
                    spec_hooks = _begun_hooks(list(spec.training_chief_hooks)
                                              + list(spec.training_hooks))
                    last_saved_step = start_step
                else:
                    _refresh_hooks(spec_hooks, spec.training_chief_hooks + spec.training_hooks)
                # The spec's hooks ask for this step's tensors (the model_fn just made them).
                fetches += [hook.before_run(run_context) for hook in spec_hooks]
                loss = float(np.asarray(_as_numpy(spec.loss)))
                global_step = int(gs_variable.numpy())
                if global_step == step_before:
                    _warn_global_step_stuck(step_before)
                named = _named_tensors(spec, global_step)
                all_hooks = hooks + spec_hooks
                for hook, args in zip(all_hooks, fetches):
                    values = hooks_lib.SessionRunValues(_resolve(args, named), run_context)
                    hook.after_run(run_context, values)
                logger.step(step_before, loss)
                if summaries is not None and self._config.save_summary_steps and \
                        step_before % self._config.save_summary_steps == 0:
                    scalars = {name: float(np.asarray(_as_numpy(value)))
                               for name, value in context.summaries.items()}
                    self._write_scalars(summaries, {"loss": loss, **scalars}, step_before)
                rate = logger.rate(global_step)
                if rate is not None and summaries is not None:
                    self._write_scalars(summaries, {"global_step/sec": rate}, global_step)
                if self._should_save(global_step, last_saved_step, last_save_time):
                    self._save(saver, global_step)
                    last_saved_step, last_save_time = global_step, time.time()
                if not np.isfinite(loss):
                    raise RuntimeError(f"NaN loss during training (step {step_before}).")
                if run_context.stop_requested:
                    break
        finally:
            if summaries is not None:
                summaries.flush()
        if spec_hooks is None:
            _log.info("Estimator.train: input_fn gave no data; nothing trained.")
            return self
        if last_saved_step != global_step:
            self._save(saver, global_step)
        for hook in hooks + spec_hooks:
            hook.end(None)
        _log.info("Loss for final step: %s.", _loss_text(loss))
        return self

    def _should_save(self, global_step, last_saved_step, last_save_time):
        if self._config.save_checkpoints_steps:
            return global_step - (last_saved_step or 0) >= self._config.save_checkpoints_steps
        if self._config.save_checkpoints_secs:
            return time.time() - last_save_time >= self._config.save_checkpoints_secs
        return False

    def _save(self, saver, step):
        _log.info("Saving checkpoints for %s into %s.", step,
                  os.path.join(self._model_dir, CHECKPOINT_NAME))
        saver.save(checkpoint_number=step)

    # -- evaluate ----------------------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """Evaluates the model on `input_fn`'s batches (all of them, or `steps`).

        Returns:
          A dict: each of the model_fn's `eval_metric_ops` by name, `loss` (the mean of the
          batches' losses) and `global_step` (of the checkpoint evaluated).
        """
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        restored = self._restored_values(checkpoint_path)
        if restored is None:
            _log.info("Could not find trained model in model_dir: %s, running initialization "
                      "to evaluate.", self._model_dir)
        self._seed()
        from numpyflow.estimator import hooks as hooks_lib
        hooks = _begun_hooks(hooks or [])
        store = variable_store.VariableStore(restored)
        run_context = hooks_lib.SessionRunContext()
        losses = []
        spec = None
        spec_hooks = None
        global_step = int(restored.get("global_step", 0)) if restored else 0
        _log.info("Starting evaluation at %s", time.strftime("%Y-%m-%dT%H:%M:%S"))
        started = time.time()
        for count, (features, labels) in enumerate(self._batches(input_fn, ModeKeys.EVAL)):
            if steps is not None and count >= steps:
                break
            fetches = [hook.before_run(run_context) for hook in hooks]
            context = variable_store.BuildContext(store, ModeKeys.EVAL, None)
            spec = self._build(context, features, labels, ModeKeys.EVAL)
            if spec_hooks is None:
                metric_variables = [v for metric in _metric_objects(spec.eval_metric_ops)
                                    for v in metric.variables]
                store.mark_local(metric_variables)
                if any(name in store.restored_names for name in store.local_names):
                    # A metric whose totals were saved by training: start it from zero
                    # and count this batch again.
                    for metric in _metric_objects(spec.eval_metric_ops):
                        metric.reset_state()
                    spec = self._build(context, features, labels, ModeKeys.EVAL)
                spec_hooks = _begun_hooks(spec.evaluation_hooks)
            else:
                _refresh_hooks(spec_hooks, spec.evaluation_hooks)
            fetches += [hook.before_run(run_context) for hook in spec_hooks]
            losses.append(float(np.asarray(_as_numpy(spec.loss))))
            named = _named_tensors(spec, global_step)
            for hook, args in zip(hooks + spec_hooks, fetches):
                hook.after_run(run_context, hooks_lib.SessionRunValues(_resolve(args, named),
                                                                       run_context))
            if steps is not None:
                _log.info("Evaluation [%d/%d]", count + 1, steps)
            if run_context.stop_requested:
                break
        if spec is None:
            raise ValueError("Estimator.evaluate: input_fn gave no data to evaluate.")
        results = {}
        for key, metric in spec.eval_metric_ops.items():
            results[key] = _metric_result(key, metric)
        results["loss"] = np.float32(np.mean(losses))
        results["global_step"] = np.int64(global_step)
        for hook in hooks + spec_hooks:
            hook.end(None)
        _log.info("Inference Time : %.5fs", time.time() - started)
        _log.info("Finished evaluation at %s", time.strftime("%Y-%m-%d-%H:%M:%S"))
        _log.info("Saving dict for global step %d: %s", global_step,
                  ", ".join(f"{k} = {v}" for k, v in sorted(results.items())))
        eval_dir = os.path.join(self._model_dir, "eval" if not name else f"eval_{name}")
        _append_eval_results(eval_dir, results)
        writer = self._summary_writer(eval_dir)
        if writer is not None:
            self._write_scalars(writer, {k: float(v) for k, v in results.items()
                                         if k != "global_step" and np.ndim(v) == 0},
                                global_step)
            writer.flush()
        return results

    # -- predict -----------------------------------------------------------------------------
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None,
                yield_single_examples=True):
        """Yields predictions for `input_fn`'s batches.

        Yields:
          With dict predictions, a dict per example (or per batch when
          `yield_single_examples=False`) restricted to `predict_keys`; otherwise arrays.
        """
        restored = self._restored_values(checkpoint_path)
        if restored is None:
            _log.info("Could not find trained model in model_dir: %s, running initialization "
                      "to predict.", self._model_dir)
        if isinstance(predict_keys, str):
            predict_keys = [predict_keys]
        self._seed()
        from numpyflow.estimator import hooks as hooks_lib
        hooks = _begun_hooks(hooks or [])
        store = variable_store.VariableStore(restored)
        run_context = hooks_lib.SessionRunContext()
        spec_hooks = None
        global_step = int(restored.get("global_step", 0)) if restored else 0
        for features, _ in self._batches(input_fn, ModeKeys.PREDICT):
            fetches = [hook.before_run(run_context) for hook in hooks]
            context = variable_store.BuildContext(store, ModeKeys.PREDICT, None)
            spec = self._build(context, features, None, ModeKeys.PREDICT)
            if spec_hooks is None:
                spec_hooks = _begun_hooks(spec.prediction_hooks)
            else:
                _refresh_hooks(spec_hooks, spec.prediction_hooks)
            fetches += [hook.before_run(run_context) for hook in spec_hooks]
            predictions = _select_predictions(spec.predictions, predict_keys)
            named = _named_tensors(spec, global_step)
            for hook, args in zip(hooks + spec_hooks, fetches):
                hook.after_run(run_context, hooks_lib.SessionRunValues(_resolve(args, named),
                                                                       run_context))
            if not yield_single_examples:
                yield predictions
            elif isinstance(predictions, dict):
                size = _batch_length(predictions)
                for i in range(size):
                    yield {key: value[i] for key, value in predictions.items()}
            else:
                yield from predictions
            if run_context.stop_requested:
                break
        for hook in hooks + (spec_hooks or []):
            hook.end(None)

    def export_saved_model(self, export_dir_base, serving_input_receiver_fn, assets_extra=None,
                           as_text=False, checkpoint_path=None,
                           experimental_mode=ModeKeys.PREDICT):
        """Writes the inference graph as a SavedModel in `export_dir_base/<timestamp>`.

        Calls `serving_input_receiver_fn`, runs the `model_fn` in PREDICT mode on its
        features with the checkpoint's variables, and writes one signature per export
        output the receiver can serve, the weights frozen into the graph (see
        `numpyflow.estimator.export` for how, and for what differs from TF).

        Args:
          export_dir_base: The directory in which to make the timestamped export.
          serving_input_receiver_fn: Returns a `tf.estimator.export.ServingInputReceiver`
            (e.g. from `build_raw_serving_input_receiver_fn`).
          assets_extra: Optional dict {destination under `assets.extra/`: source file}.
          as_text: Write `saved_model.pbtxt` (text format) instead of `saved_model.pb`.
          checkpoint_path: The checkpoint to export; None: the latest in `model_dir`.
          experimental_mode: `ModeKeys.PREDICT` only (the frozen graph cannot train).

        Returns:
          The export directory, as bytes (as TF returns it).

        Raises:
          ValueError: without a receiver fn or a checkpoint, when the checkpoint lacks a
            variable of the model_fn, or when no signature can be served.
          NotImplementedError: for TRAIN or EVAL mode.
        """
        if not serving_input_receiver_fn:
            raise ValueError("An input_receiver_fn must be defined.")
        return self._export_all_saved_models(
            export_dir_base, {experimental_mode: serving_input_receiver_fn}, assets_extra,
            as_text, checkpoint_path)

    def export_savedmodel(self, export_dir_base, serving_input_receiver_fn, assets_extra=None,
                          as_text=False, checkpoint_path=None, strip_default_attrs=False):
        """TF 1's name of `export_saved_model` (default-valued attributes are always
        stripped: numpyflow writes stripped graphs)."""
        if not serving_input_receiver_fn:
            raise ValueError("An input_receiver_fn must be defined.")
        return self._export_all_saved_models(
            export_dir_base, {ModeKeys.PREDICT: serving_input_receiver_fn}, assets_extra,
            as_text, checkpoint_path)

    def experimental_export_all_saved_models(self, export_dir_base, input_receiver_fn_map,
                                             assets_extra=None, as_text=False,
                                             checkpoint_path=None):
        """`export_saved_model` for a {mode: receiver fn} map; only PREDICT is supported."""
        return self._export_all_saved_models(export_dir_base, input_receiver_fn_map,
                                             assets_extra, as_text, checkpoint_path)

    def _export_all_saved_models(self, export_dir_base, input_receiver_fn_map, assets_extra,
                                 as_text, checkpoint_path):
        from numpyflow.estimator import export as export_lib
        from numpyflow.framework.function import function
        from numpyflow.framework.tensor_spec import TensorSpec
        if not isinstance(input_receiver_fn_map, dict):
            raise TypeError(f"input_receiver_fn_map must be a dict {{mode: receiver fn}}; "
                            f"received {input_receiver_fn_map!r}.")
        for mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            if input_receiver_fn_map.get(mode):
                raise NotImplementedError(
                    f"Estimator export in mode {mode!r}: numpyflow's SavedModels hold a frozen "
                    f"serving graph; only ModeKeys.PREDICT ({ModeKeys.PREDICT!r}) is supported.")
        receiver_fn = input_receiver_fn_map.get(ModeKeys.PREDICT)
        if not receiver_fn:
            raise ValueError(f"No valid modes for exporting found. Got "
                             f"{list(input_receiver_fn_map)}.")
        restored = self._restored_values(checkpoint_path, warm_start=True)
        if restored is None:
            raise ValueError(f"Couldn't find trained model at {self._model_dir}.")
        self._seed()
        store = variable_store.VariableStore(restored)
        # The eager run: makes the Variables (from the checkpoint) and the export outputs.
        receiver, specs, fed = export_lib._call_receiver_fn(receiver_fn)
        context = variable_store.BuildContext(store, ModeKeys.PREDICT, None, serving=True)
        spec = self._build(context, receiver.features, None, ModeKeys.PREDICT)
        _check_all_restored(store, checkpoint_path or self.latest_checkpoint())
        included, excluded = export_lib.servable_signatures(receiver.receiver_tensors,
                                                            spec.export_outputs)
        if not included:
            raise ValueError(f"export_saved_model: none of the export outputs can be served "
                             f"with the receiver tensors {sorted(receiver.receiver_tensors)}: "
                             f"{excluded}")
        keys = list(receiver.receiver_tensors)
        input_signature = [TensorSpec(specs[position].shape, specs[position].dtype, name=key)
                           for key, position in zip(keys, fed)]

        def signature_function(signature_key, output_names):
            def serve(*tensors):
                feed = [None] * len(tensors)
                for tensor, position in zip(tensors, fed):
                    feed[position] = tensor
                traced_receiver = export_lib._call_receiver_fn(receiver_fn, feed)[0]
                traced = self._build(
                    variable_store.BuildContext(store, ModeKeys.PREDICT, None, serving=True),
                    traced_receiver.features, None, ModeKeys.PREDICT)
                outputs = traced.export_outputs[signature_key].as_signature_outputs(
                    traced_receiver.receiver_tensors)
                return {name: _as_tensor(outputs[name], name) for name in output_names}
            serve.__name__ = signature_key
            return function(serve, input_signature=input_signature)

        signatures = {key: signature_function(key, names) for key, names in included.items()}
        export_dir = export_lib.get_timestamped_export_dir(export_dir_base)
        export_lib.write_export(signatures, input_signature, export_dir, as_text, assets_extra)
        _log.info("SavedModel written to: %s", os.fsdecode(export_dir))
        return export_dir

    # -- summaries ---------------------------------------------------------------------------
    def _summary_writer(self, logdir):
        if logdir in self._summary_writers:
            return self._summary_writers[logdir]
        writer = None
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            _log.warning("Estimator: TensorBoard event files are not written (`pip install "
                         "numpyflow[tensorboard]` to write them).")
        else:
            from numpyflow.summary import create_file_writer
            writer = create_file_writer(logdir)
        self._summary_writers[logdir] = writer
        return writer

    @staticmethod
    def _write_scalars(writer, scalars, step):
        from numpyflow import summary
        with writer.as_default():
            for name, value in scalars.items():
                summary.scalar(name, value, step=step)


# -- helpers ---------------------------------------------------------------------------------
class _StoreCheckpoint:
    """What `CheckpointManager` needs from a checkpoint: the store's variables by name."""

    def __init__(self, store):
        self._store = store
        self.save_counter = Variable(0, dtype="int64", trainable=False, name="save_counter")

    def _checkpoint_children(self):
        return []

    def write(self, prefix):
        from numpyflow.train import checkpoint_file
        checkpoint_file.write_checkpoint(prefix, self._store.saved_items())
        return prefix


def _check_all_restored(store, checkpoint):
    """Every trainable variable an export's model_fn made must come from the checkpoint
    (as TF's restore requires); other variables missing there (an optimizer's step count
    that a rebuilt Keras model makes) are only logged, since serving seldom reads them."""
    missing = [name for name, variable in store.variables.items() if name != "global_step"
               and name not in store.local_names and name not in store.restored_names]
    others = [name for name in missing if not store.variables[name].trainable]
    if others:
        _log.warning("Export: the checkpoint %s has no values for the non-trainable "
                     "variables %s; their initial values are used.", checkpoint, others)
    missing = [name for name in missing if name not in others]
    if missing:
        raise ValueError(f"Could not load all requested variables from checkpoint. Please "
                         f"make sure your model_fn does not expect variables that were not "
                         f"saved in the checkpoint. The checkpoint {checkpoint} has no "
                         f"{missing}.")


def _saved_step(saver):
    latest = saver.latest_checkpoint
    if latest is None:
        return None
    suffix = latest.rsplit("-", 1)[-1]
    return int(suffix) if suffix.isdigit() else None


class _StepLogger:
    """Logs `loss = ..., step = ...` and `global_step/sec` every `every` steps, as TF."""

    def __init__(self, every):
        self._every = every
        self._last_time = None
        self._last_step = None

    def step(self, step, loss):
        if not self._every:
            return
        now = time.time()
        if self._last_time is None:
            _log.info("loss = %s, step = %d", _loss_text(loss), step)
            self._last_time, self._last_step = now, step
            self._rate_time, self._rate_step = now, step
        elif step - self._last_step >= self._every:
            _log.info("loss = %s, step = %d (%.3f sec)", _loss_text(loss), step,
                      now - self._last_time)
            self._last_time, self._last_step = now, step

    def rate(self, global_step):
        """steps/sec since the last report, every `every` steps (else None)."""
        if not self._every or self._last_time is None or \
                global_step - self._rate_step < self._every:
            return None
        now = time.time()
        rate = (global_step - self._rate_step) / max(now - self._rate_time, 1e-9)
        _log.info("global_step/sec: %g", rate)
        self._rate_time, self._rate_step = now, global_step
        return rate


def _loss_text(loss):
    return str(np.float32(loss))


def _warn_global_step_stuck(step):
    _log.warning("It seems that global step (tf.train.get_global_step) has not been "
                 "increased. Current value (could be stable): %d vs previous value: %d. You "
                 "could increase the global step by passing tf.train.get_global_step() to "
                 "Optimizer.apply_gradients or Optimizer.minimize.", step, step)


def _check_variables_are_the_stores(context):
    """Every trainable Variable the model_fn read must be one it created (so it is saved)."""
    own = {id(v) for v in context.store.variables.values()}
    foreign = [v.name for v in context.tape.watched_variables() if id(v) not in own]
    if foreign:
        raise ValueError(
            f"Estimator: the model_fn used the variables {foreign}, which it did not create "
            f"in this call (e.g. a Keras model or layer built outside the model_fn, or "
            f"during an earlier train/evaluate call). The Estimator could not save or "
            f"restore them: create the layers inside the model_fn.")


def _argument_names(fn):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    return tuple(signature.parameters)


def _as_tensors(value):
    if isinstance(value, dict):
        return {key: _as_tensor(item, key) for key, item in value.items()}
    return _as_tensor(value, None)


def _as_tensor(value, key):
    if isinstance(value, Tensor):
        return value
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError) as error:
        where = f"feature {key!r}" if key is not None else "input_fn's value"
        raise TypeError(f"Estimator: {where} is not convertible to a Tensor: "
                        f"{error}") from error


def _split_element(element, mode):
    """`(features, labels)` from one input_fn element (a pair, or features alone)."""
    if isinstance(element, (tuple, list)):
        if len(element) != 2:
            raise ValueError(
                f"input_fn must return a tf.data.Dataset of (features, labels) pairs or of "
                f"features, or a (features, labels) tuple; received a {type(element).__name__} "
                f"of {len(element)} elements. Features must be a dict of Tensors or a Tensor.")
        features, labels = element
    elif isinstance(element, (dict, Tensor, np.ndarray)):
        features, labels = element, None
    else:
        raise ValueError(f"input_fn must return a tf.data.Dataset of (features, labels) pairs "
                         f"or of features, or a (features, labels) tuple; received "
                         f"{type(element).__name__}: {element!r:.200}")
    if not isinstance(features, (dict, Tensor, np.ndarray, list)):
        raise ValueError(f"input_fn's features must be a dict of Tensors or a Tensor; "
                         f"received {type(features).__name__}.")
    labels = None if labels is None else _as_tensors(labels)
    return _as_tensors(features), labels


def _as_numpy(value):
    if isinstance(value, Tensor):
        return value.numpy()
    return np.asarray(value)


def _run_train_op(train_op):
    if isinstance(train_op, (list, tuple)):
        for op in train_op:
            _run_train_op(op)
    elif hasattr(train_op, "run") and callable(train_op.run):
        train_op.run()
    elif isinstance(train_op, Tensor):
        pass  # An update the model_fn already ran eagerly (e.g. `global_step.assign_add(1)`).
    elif callable(train_op):
        train_op()
    else:
        raise TypeError(f"EstimatorSpec.train_op must be the op an optimizer's minimize() "
                        f"returned, a list of them, or a Tensor; received {train_op!r}.")


def _metric_objects(eval_metric_ops):
    found = []
    for value in eval_metric_ops.values():
        metric = getattr(value, "metric", value)
        if hasattr(metric, "result") and hasattr(metric, "reset_state"):
            found.append(metric)
    return found


def _metric_result(key, value):
    metric = getattr(value, "metric", value)
    if hasattr(metric, "result"):
        result = metric.result()
        return np.asarray(_as_numpy(result))[()]
    raise TypeError(f"eval_metric_ops[{key!r}] must be a Keras Metric object (updated in the "
                    f"model_fn) or a (value, update_op) pair from tf.compat.v1.metrics; "
                    f"received {type(value).__name__}.")


def _named_tensors(spec, global_step):
    named = {"global_step": np.int64(global_step)}
    if spec.loss is not None:
        named["loss"] = spec.loss
    if isinstance(spec.predictions, dict):
        named.update(spec.predictions)
    return named


def _resolve(args, named):
    """The values of a hook's `SessionRunArgs` fetches (names or Tensors)."""
    fetches = getattr(args, "fetches", None) if args is not None else None
    if fetches is None:
        return None

    def value(fetch):
        if isinstance(fetch, str):
            if fetch not in named:
                raise ValueError(f"SessionRunArgs: no tensor named {fetch!r} in this step; "
                                 f"known names: {sorted(named)} (the loss, global_step and "
                                 f"the prediction keys).")
            fetch = named[fetch]
        return _as_numpy(fetch)

    if isinstance(fetches, dict):
        return {key: value(item) for key, item in fetches.items()}
    if isinstance(fetches, (list, tuple)):
        return type(fetches)(value(item) for item in fetches)
    return value(fetches)


def _begun_hooks(hooks):
    """`hooks` as a list, each checked to be a SessionRunHook, then each `begin()`-ed."""
    from numpyflow.estimator.hooks import SessionRunHook
    hooks = list(hooks)
    for hook in hooks:
        if not isinstance(hook, SessionRunHook):
            raise TypeError(f"All hooks must be SessionRunHook instances, given: {hook!r}")
    for hook in hooks:
        hook.begin()
    return hooks


def _refresh_hooks(active, newer):
    """Points the first call's hooks at this call's tensors (the model_fn made new ones)."""
    for hook, fresh in zip(active, newer):
        refresh = getattr(hook, "_refresh_from", None)
        if refresh is not None and fresh is not hook:
            refresh(fresh)


def _select_predictions(predictions, predict_keys):
    if not isinstance(predictions, dict):
        if predict_keys:
            raise ValueError("predict_keys argument is not valid in case of non-dict "
                             "predictions.")
        return _as_numpy(predictions)
    if predict_keys:
        missing = [key for key in predict_keys if key not in predictions]
        if missing:
            raise ValueError(f"Expected to run at least one output from "
                             f"{sorted(predictions)}, provided {list(predict_keys)}.")
        predictions = {key: predictions[key] for key in predict_keys}
    return {key: _as_numpy(value) for key, value in predictions.items()}


def _batch_length(predictions):
    lengths = {key: (value.shape[0] if np.ndim(value) else None)
               for key, value in predictions.items()}
    sizes = set(lengths.values())
    if None in sizes or len(sizes) != 1:
        raise ValueError(f"Batch length of predictions should be same. Received the batch "
                         f"lengths {lengths}; use yield_single_examples=False for "
                         f"predictions that are not per example.")
    return sizes.pop()


def _append_eval_results(eval_dir, results):
    """Appends an evaluation's results to `eval_dir/eval_results.jsonl` (read by the
    early-stopping hooks; TF reads its event files instead)."""
    import json
    os.makedirs(eval_dir, exist_ok=True)
    line = {key: (value.tolist() if hasattr(value, "tolist") else value)
            for key, value in results.items()}
    with open(os.path.join(eval_dir, "eval_results.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
