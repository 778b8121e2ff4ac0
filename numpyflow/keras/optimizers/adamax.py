"""`Adamax`: the infinity-norm variant of Adam."""

import numpyflow as tf
from numpyflow.keras.optimizers.optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax: `m += (g - m) * (1 - beta_1)`, `u = max(beta_2 * u, |g|)`,
    `variable -= lr * m / ((1 - beta_1**t) * (u + epsilon))` at 1-based step `t`.

    Args:
      learning_rate: A float, a `LearningRateSchedule` or a callable (see `Optimizer`).
      beta_1: Decay rate of the first-moment estimate.
      beta_2: Decay rate of the infinity norm.
      epsilon: Added to the denominator for numerical stability.
      name: The optimizer's name.
      **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm` (see
        `Optimizer`).

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> _ = tf.keras.optimizers.Adamax(learning_rate=0.1).apply_gradients(
    ...     [(tf.constant(3.), v)])
    >>> round(float(v), 4)
    0.9
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def _create_slots(self, variable):
        return (self.add_variable_from_reference(variable, "m"),
                self.add_variable_from_reference(variable, "u"))

    def _bias_correction(self, dtype):
        """`1 - beta_1**t` for this step's 1-based `t`."""
        return 1. - tf.pow(self.beta_1, tf.cast(self.iterations + 1, dtype))

    def update_step(self, gradient, variable):
        learning_rate = self._learning_rate_as(variable.dtype)
        correction = self._per_step("adamax_correction", variable.dtype, self._bias_correction)
        m, u = self._slots_of(variable)
        m.assign_add((gradient - m) * (1. - self.beta_1))
        u.assign(tf.maximum(self.beta_2 * u, tf.abs(gradient)))
        variable.assign_sub((learning_rate * m) / (correction * (u + self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
