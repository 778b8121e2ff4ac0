"""`tf.estimator.train_and_evaluate` with `TrainSpec` and `EvalSpec` (local, one process).

As TF's local mode: train; whenever a checkpoint is saved at least `throttle_secs` after
the previous evaluation, stop, evaluate that checkpoint, and continue; evaluate once more
at the end. `start_delay_secs` only matters for distributed evaluators and is kept as a
setting.
"""

import collections
import logging
import time

from numpyflow.estimator.hooks import SessionRunArgs, SessionRunHook

_log = logging.getLogger("numpyflow")


class TrainSpec(collections.namedtuple("TrainSpec",
                                       ["input_fn", "max_steps", "hooks", "saving_listeners"])):
    """The training half of `train_and_evaluate`.

    >>> import numpyflow as tf
    >>> tf.estimator.TrainSpec(lambda: None, max_steps=100).max_steps
    100
    """

    def __new__(cls, input_fn, max_steps=None, hooks=None, saving_listeners=None):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        if saving_listeners:
            raise NotImplementedError("TrainSpec: `saving_listeners` are not supported.")
        return super().__new__(cls, input_fn, max_steps, tuple(hooks or ()), ())


class EvalSpec(collections.namedtuple("EvalSpec", ["input_fn", "steps", "name", "hooks",
                                                   "exporters", "start_delay_secs",
                                                   "throttle_secs"])):
    """The evaluation half of `train_and_evaluate`.

    >>> import numpyflow as tf
    >>> spec = tf.estimator.EvalSpec(lambda: None)
    >>> spec.steps, spec.start_delay_secs, spec.throttle_secs
    (100, 120, 600)
    """

    def __new__(cls, input_fn, steps=100, name=None, hooks=None, exporters=None,
                start_delay_secs=120, throttle_secs=600):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if exporters:
            raise NotImplementedError("EvalSpec: `exporters` are not supported (export_saved_"
                                      "model is left out of numpyflow); received "
                                      f"{exporters!r}.")
        if start_delay_secs < 0:
            raise ValueError(f"Must specify start_delay_secs >= 0, given: {start_delay_secs}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        return super().__new__(cls, input_fn, steps, name, tuple(hooks or ()), (),
                               start_delay_secs, throttle_secs)


class _PauseForEvaluationHook(SessionRunHook):
    """Stops `train` after a step that saved a checkpoint once `throttle_secs` passed."""

    def __init__(self, estimator, throttle_secs, last_eval_time):
        self._estimator = estimator
        self._throttle_secs = throttle_secs
        self._last_eval_time = last_eval_time
        self.paused = False

    def before_run(self, run_context):
        return SessionRunArgs("global_step")

    def after_run(self, run_context, run_values):
        every = self._estimator.config.save_checkpoints_steps
        step = int(run_values.results)
        saved_now = every is not None and every > 0 and step % every == 0
        if self._estimator.config.save_checkpoints_secs and \
                time.time() - self._last_eval_time >= self._estimator.config.save_checkpoints_secs:
            saved_now = True
        if saved_now and time.time() - self._last_eval_time >= self._throttle_secs:
            self.paused = True
            run_context.request_stop()


def train_and_evaluate(estimator, train_spec, eval_spec):
    """Trains `estimator` and evaluates it as training goes (see module doc).

    Returns:
      `(eval_result, export_results)`: the last evaluation's dict and `[]` (exporters are
      not supported).
    """
    from numpyflow.estimator.estimator import Estimator
    if not isinstance(estimator, Estimator):
        raise TypeError(f"`estimator` must have type `tf.estimator.Estimator`. Got: "
                        f"{type(estimator)}")
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: "
                        f"{type(train_spec)}")
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: "
                        f"{type(eval_spec)}")
    _log.info("Running training and evaluation locally (non-distributed).")
    last_eval_time = time.time()
    result = None
    while True:
        pause = _PauseForEvaluationHook(estimator, eval_spec.throttle_secs, last_eval_time)
        estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks) + [pause],
                        max_steps=train_spec.max_steps)
        result = estimator.evaluate(eval_spec.input_fn, steps=eval_spec.steps,
                                    hooks=list(eval_spec.hooks), name=eval_spec.name)
        last_eval_time = time.time()
        finished = train_spec.max_steps is not None and \
            int(result["global_step"]) >= train_spec.max_steps
        if finished or not pause.paused:
            break
    return result, []
