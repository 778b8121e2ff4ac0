"""`keras.optimizers.schedules`: learning rates that change with the step number.

A schedule is called with the optimizer's step count (`iterations`, the number of steps
already applied) and returns the learning rate for the next step.

    >>> import numpyflow as tf
    >>> schedule = tf.keras.optimizers.schedules.ExponentialDecay(
    ...     0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(schedule(10)), 6)
    0.05
    >>> optimizer = tf.keras.optimizers.SGD(learning_rate=schedule)
"""

import math

import numpyflow as tf
from numpyflow.keras.utils.serialization import deserialize_from_tables, serialize_keras_object


def _cos(x):
    if hasattr(tf.math, "cos"):
        return tf.math.cos(x)
    # Until tf.math.cos exists: the step is a non-differentiable scalar, so Python's cos
    # on its value gives the same number.
    return tf.constant(math.cos(float(x)), dtype=x.dtype)


class LearningRateSchedule:
    """Base class: `schedule(step)` returns the learning rate (a float32 Tensor) at `step`."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__(step)`.")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must implement `get_config()`.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _float_step(step):
    return tf.cast(tf.convert_to_tensor(step), tf.float32)


def _positive_decay_steps(decay_steps, who):
    if decay_steps <= 0:
        raise ValueError(f"{who}: `decay_steps` must be positive; received "
                         f"decay_steps={decay_steps}.")
    return decay_steps


class _DecayPerSteps(LearningRateSchedule):
    """The arguments and progress count of `ExponentialDecay` and `InverseTimeDecay`."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_decay_steps(decay_steps, type(self).__name__)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _progress(self, step):
        """`step / decay_steps`, rounded down with `staircase`."""
        progress = _float_step(step) / float(self.decay_steps)
        return tf.floor(progress) if self.staircase else progress

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecayPerSteps):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
      initial_learning_rate: The rate at step 0.
      decay_steps: Steps over which the rate is multiplied by `decay_rate`.
      decay_rate: The decay factor.
      staircase: If True, decays in whole intervals (`floor(step / decay_steps)`).

    >>> import numpyflow as tf
    >>> schedule = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
    >>> [float(schedule(step)) for step in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __call__(self, step):
        return self.initial_learning_rate * tf.pow(float(self.decay_rate), self._progress(step))


class InverseTimeDecay(_DecayPerSteps):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Takes the arguments of `ExponentialDecay`.

    >>> import numpyflow as tf
    >>> schedule = InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
    >>> [float(schedule(step)) for step in range(3)]
    [1.0, 0.5, 0.3333333432674408]
    """

    def __call__(self, step):
        return self.initial_learning_rate / (1. + float(self.decay_rate) * self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` up to `boundaries[0]` (inclusive), `values[1]` up to `boundaries[1]`, ...

    >>> import numpyflow as tf
    >>> schedule = PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    >>> [round(float(schedule(step)), 2) for step in range(6)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: `values` must have one more element "
                             f"than `boundaries`; received {len(boundaries)} boundaries and "
                             f"{len(values)} values.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        step = _float_step(step)
        rate = tf.constant(float(self.values[-1]), dtype=tf.float32)
        # From the last interval back: each earlier boundary overrides the later values.
        for boundary, value in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            rate = tf.where(step <= float(boundary), float(value), rate)
        return rate

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Decays from `initial_learning_rate` to `end_learning_rate` over `decay_steps` steps.

    `(initial - end) * (1 - step / decay_steps) ** power + end`, with `step` capped at
    `decay_steps` (or, with `cycle`, `decay_steps` stretched to the next multiple).

    >>> import numpyflow as tf
    >>> schedule = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
    >>> [float(schedule(step)) for step in (0, 2, 4, 8)]
    [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name=None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_decay_steps(decay_steps, "PolynomialDecay")
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _float_step(step)
        decay_steps = tf.constant(float(self.decay_steps), dtype=tf.float32)
        if self.cycle:
            # ceil(step / decay_steps) periods, at least one (also at step 0).
            periods = -tf.floor(-step / decay_steps)
            decay_steps = decay_steps * tf.maximum(periods, 1.)
        else:
            step = tf.minimum(step, decay_steps)
        remaining = 1. - step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * tf.pow(remaining, float(self.power)) + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from `initial_learning_rate` to `alpha * initial_learning_rate`.

    With `warmup_steps`, first rises linearly to `warmup_target`, then decays from it.

    >>> import numpyflow as tf
    >>> schedule = CosineDecay(1.0, decay_steps=4)
    >>> [round(float(schedule(step)), 4) for step in (0, 2, 4, 6)]
    [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_decay_steps(decay_steps, "CosineDecay")
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decayed(self, start_rate, steps_into_decay):
        fraction = tf.minimum(steps_into_decay, float(self.decay_steps)) / float(self.decay_steps)
        cosine = 0.5 * (1. + _cos(math.pi * fraction))
        return start_rate * ((1. - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _float_step(step)
        if self.warmup_target is None:
            return self._decayed(float(self.initial_learning_rate), step)
        warmup_steps = float(self.warmup_steps)
        rise = float(self.warmup_target) - float(self.initial_learning_rate)
        warming = self.initial_learning_rate + rise * step / max(warmup_steps, 1.)
        decaying = self._decayed(float(self.warmup_target), tf.maximum(step - warmup_steps, 0.))
        return tf.where(step < warmup_steps, warming, decaying)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_CLASSES = {cls.__name__: cls for cls in (
    LearningRateSchedule, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
    PolynomialDecay, CosineDecay)}


def serialize(schedule):
    """The Keras 3 config of a schedule.

    >>> serialize(ExponentialDecay(0.1, 100, 0.9))["module"]
    'keras.optimizers.schedules'
    """
    return serialize_keras_object(schedule)


def deserialize(config, custom_objects=None):
    """The schedule a `serialize` result (Keras 3 or older form) describes.

    >>> deserialize({"class_name": "InverseTimeDecay", "config": {
    ...     "initial_learning_rate": 1.0, "decay_steps": 1, "decay_rate": 0.5}}).decay_rate
    0.5
    """
    if not isinstance(config, dict):
        raise ValueError(f"Could not deserialize learning rate schedule: expected a config "
                         f"dict. Received: {config!r}")
    return deserialize_from_tables(config, _CLASSES, kind="learning rate schedule",
                                   custom_objects=custom_objects)
