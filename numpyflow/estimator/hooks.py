"""Session run hooks: code an Estimator runs around each training/evaluation step.

As in TF, a hook's `before_run(run_context)` may return `SessionRunArgs(fetches)`; after
the step, `after_run(run_context, run_values)` receives their values in
`run_values.results`. A fetch is a Tensor the `model_fn` made (pass the hook in
`EstimatorSpec(training_hooks=[...])`) or a name: `"loss"`, `"global_step"` or a key of
the spec's predictions. `run_context.request_stop()` ends the loop after the step.

    >>> import numpyflow as tf
    >>> hook = tf.estimator.StopAtStepHook(last_step=100)
    >>> isinstance(hook, tf.estimator.SessionRunHook)
    True
"""

import collections
import logging
import os
import time

import numpy as np

_log = logging.getLogger("numpyflow")


class SessionRunHook:
    """Base class: override the steps you need (each does nothing here)."""

    def begin(self):
        """Called once before the first step."""

    def after_create_session(self, session, coord):
        """Called once after the variables exist (numpyflow passes None, None)."""

    def before_run(self, run_context):
        """Called before each step; may return `SessionRunArgs`."""
        return None

    def after_run(self, run_context, run_values):
        """Called after each step with the values of the fetches."""

    def end(self, session):
        """Called once at the end (numpyflow passes None)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What `before_run` asks for: `fetches` (a Tensor or name, or a list/dict of them)."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        if feed_dict is not None or options is not None:
            raise NotImplementedError("SessionRunArgs: `feed_dict` and `options` are not "
                                      "supported in numpyflow (eager; nothing to feed).")
        return super().__new__(cls, fetches, None, None)


SessionRunValues = collections.namedtuple("SessionRunValues", ["results", "run_context"])


class SessionRunContext:
    """Lets a hook stop the loop: `request_stop()`."""

    def __init__(self):
        self._stop_requested = False

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        self._stop_requested = True

    @property
    def session(self):
        return None

    @property
    def original_args(self):
        return None


class StopAtStepHook(SessionRunHook):
    """Requests a stop once the global step reaches `last_step` (or `num_steps` more).

    >>> import numpyflow as tf
    >>> tf.estimator.StopAtStepHook(num_steps=10)._num_steps
    10
    """

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps = num_steps
        self._last_step = last_step

    def before_run(self, run_context):
        return SessionRunArgs("global_step")

    def after_run(self, run_context, run_values):
        step = int(run_values.results)
        if self._last_step is None:
            self._last_step = step - 1 + self._num_steps  # The step this one started from.
        if step >= self._last_step:
            run_context.request_stop()


class LoggingTensorHook(SessionRunHook):
    """Logs tensors every `every_n_iter` steps or `every_n_secs` seconds (or at the end).

    Args:
      tensors: A dict tag -> Tensor or name, or a list of names/Tensors.
      every_n_iter, every_n_secs: How often (exactly one, unless `at_end`).
      at_end: Also log the last values at the end.
      formatter: Optional `formatter(dict tag -> value) -> str`.

    >>> import numpyflow as tf
    >>> hook = tf.estimator.LoggingTensorHook({"loss": "loss"}, every_n_iter=10)
    >>> hook._tags
    ['loss']
    """

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        if not at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and "
                             "every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if not isinstance(tensors, dict):
            tensors = {(item if isinstance(item, str) else f"tensor_{i}"): item
                       for i, item in enumerate(tensors)}
        self._tags = sorted(tensors)
        self._tensors = dict(tensors)
        self._every_n_iter = every_n_iter
        self._every_n_secs = every_n_secs
        self._at_end = at_end
        self._formatter = formatter
        self._iteration = 0
        self._last_time = None
        self._last_values = None

    def _refresh_from(self, newer):
        self._tensors = dict(newer._tensors)

    def begin(self):
        self._iteration = 0
        self._last_time = None

    def before_run(self, run_context):
        return SessionRunArgs(dict(self._tensors))

    def _due(self):
        if self._every_n_iter is not None:
            return self._iteration % self._every_n_iter == 0
        if self._every_n_secs is not None:
            return self._last_time is None or \
                time.time() - self._last_time >= self._every_n_secs
        return False

    def after_run(self, run_context, run_values):
        self._last_values = run_values.results
        if self._due():
            self._log(run_values.results)
            self._last_time = time.time()
        self._iteration += 1

    def _log(self, values):
        if self._formatter is not None:
            _log.info(self._formatter(values))
        else:
            np_options = np.get_printoptions()
            np.set_printoptions(suppress=True)
            try:
                _log.info(", ".join(f"{tag} = {values[tag]}" for tag in self._tags))
            finally:
                np.set_printoptions(**np_options)

    def end(self, session):
        if self._at_end and self._last_values is not None:
            self._log(self._last_values)


class CheckpointSaverHook(SessionRunHook):
    """Not needed in numpyflow: the Estimator saves by `RunConfig`'s schedule itself.

    Raises NotImplementedError when created, pointing to `RunConfig`.
    """

    def __init__(self, checkpoint_dir=None, save_secs=None, save_steps=None, saver=None,
                 checkpoint_basename="model.ckpt", scaffold=None, listeners=None,
                 save_graph_def=True):
        raise NotImplementedError(
            "tf.estimator.CheckpointSaverHook is not supported: the numpyflow Estimator saves "
            "checkpoints itself; set RunConfig(save_checkpoints_steps=...) or "
            "save_checkpoints_secs instead.")


# -- early stopping (tf.estimator.experimental) -------------------------------------------------
def _read_eval_results(eval_dir):
    import json
    path = os.path.join(eval_dir, "eval_results.jsonl")
    results = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    record = json.loads(line)
                    results[int(record["global_step"])] = record
    except FileNotFoundError:
        pass
    return dict(sorted(results.items()))


class _StopOnPredicateHook(SessionRunHook):
    """Checks `should_stop_fn()` every `run_every_steps` steps or `run_every_secs`."""

    def __init__(self, should_stop_fn, run_every_secs=60, run_every_steps=None):
        if not callable(should_stop_fn):
            raise TypeError(f"`should_stop_fn` must be callable; received {should_stop_fn!r}.")
        self._should_stop_fn = should_stop_fn
        self._every_steps = run_every_steps
        self._every_secs = None if run_every_steps is not None else run_every_secs
        self._last_time = time.time()
        self._last_step = None

    def before_run(self, run_context):
        return SessionRunArgs("global_step")

    def after_run(self, run_context, run_values):
        step = int(run_values.results)
        due = False
        if self._every_steps is not None:
            due = self._last_step is None or step - self._last_step >= self._every_steps
        elif self._every_secs is not None:
            due = time.time() - self._last_time >= self._every_secs
        if due:
            self._last_step, self._last_time = step, time.time()
            if self._should_stop_fn():
                _log.info("Requesting early stopping at global step %d", step)
                run_context.request_stop()


def make_early_stopping_hook(estimator, should_stop_fn, run_every_secs=60,
                             run_every_steps=None):
    """A hook that stops training when `should_stop_fn()` returns True."""
    return _StopOnPredicateHook(should_stop_fn, run_every_secs, run_every_steps)


def _stop_if_no_metric_improvement_hook(estimator, metric_name, max_steps_without_improvement,
                                        higher_is_better, eval_dir, min_steps, run_every_secs,
                                        run_every_steps):
    eval_dir = eval_dir or os.path.join(estimator.model_dir, "eval")

    def stop_if_no_improvement():
        results = _read_eval_results(eval_dir)
        best_value = best_step = None
        for step, metrics in results.items():
            if step < min_steps:
                continue
            if metric_name not in metrics:
                raise ValueError(f"Metric {metric_name!r} not found in the evaluation results "
                                 f"for step {step}; available metrics: {sorted(metrics)}.")
            value = metrics[metric_name]
            if best_value is None or (value > best_value if higher_is_better
                                      else value < best_value):
                best_value, best_step = value, step
            if step - best_step >= max_steps_without_improvement:
                _log.info("No %s in metric %r for %d steps, which is greater than or equal to "
                          "max steps (%d) configured for early stopping.",
                          "increase" if higher_is_better else "decrease", metric_name,
                          step - best_step, max_steps_without_improvement)
                return True
        return False

    return make_early_stopping_hook(estimator, stop_if_no_improvement, run_every_secs,
                                    run_every_steps)


def stop_if_no_decrease_hook(estimator, metric_name, max_steps_without_decrease, eval_dir=None,
                             min_steps=0, run_every_secs=60, run_every_steps=None):
    """Stops training when `metric_name` of the evaluations has not decreased for
    `max_steps_without_decrease` global steps (checked every `run_every_secs` seconds or
    `run_every_steps` steps; evaluations before `min_steps` are ignored)."""
    return _stop_if_no_metric_improvement_hook(estimator, metric_name, max_steps_without_decrease,
                                               False, eval_dir, min_steps, run_every_secs,
                                               run_every_steps)


def stop_if_no_increase_hook(estimator, metric_name, max_steps_without_increase, eval_dir=None,
                             min_steps=0, run_every_secs=60, run_every_steps=None):
    """As `stop_if_no_decrease_hook`, for a metric that should increase (accuracy)."""
    return _stop_if_no_metric_improvement_hook(estimator, metric_name, max_steps_without_increase,
                                               True, eval_dir, min_steps, run_every_secs,
                                               run_every_steps)


def stop_if_higher_hook(estimator, metric_name, threshold, eval_dir=None, min_steps=0,
                        run_every_secs=60, run_every_steps=None):
    """Stops training once the latest evaluation's `metric_name` is above `threshold`."""
    return _threshold_hook(estimator, metric_name, threshold, True, eval_dir, min_steps,
                           run_every_secs, run_every_steps)


def stop_if_lower_hook(estimator, metric_name, threshold, eval_dir=None, min_steps=0,
                       run_every_secs=60, run_every_steps=None):
    """Stops training once the latest evaluation's `metric_name` is below `threshold`."""
    return _threshold_hook(estimator, metric_name, threshold, False, eval_dir, min_steps,
                           run_every_secs, run_every_steps)


def _threshold_hook(estimator, metric_name, threshold, higher, eval_dir, min_steps,
                    run_every_secs, run_every_steps):
    eval_dir = eval_dir or os.path.join(estimator.model_dir, "eval")

    def crossed():
        for step, metrics in _read_eval_results(eval_dir).items():
            if step >= min_steps and metric_name in metrics:
                value = metrics[metric_name]
                if (value > threshold) if higher else (value < threshold):
                    return True
        return False

    return make_early_stopping_hook(estimator, crossed, run_every_secs, run_every_steps)
