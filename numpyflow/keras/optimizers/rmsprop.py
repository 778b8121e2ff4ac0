"""`RMSprop`: divides the gradient by a running root-mean-square of recent gradients."""

import numpyflow as tf
from numpyflow.keras.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop, as Keras 2.11+ / Keras 3 update (epsilon inside the square root).

    Each step: `velocity = rho * velocity + (1 - rho) * g**2`, then
    `increment = learning_rate * g / sqrt(velocity + epsilon)` (centered: the variance
    `velocity - mean_g**2` replaces `velocity`, where `mean_g` is a running mean of `g`),
    and `variable -= increment`, or with momentum,
    `m = momentum * m + increment; variable -= m`.

    Args:
      learning_rate: A float, a `LearningRateSchedule` or a callable (see `Optimizer`).
      rho: Decay rate of the running average of squared gradients.
      momentum: Momentum of the updates (0 for none).
      epsilon: Added inside the square root for numerical stability.
      centered: Whether to normalize by the estimated variance instead of the second moment.
      name: The optimizer's name.
      **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm` (see
        `Optimizer`).

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> _ = tf.keras.optimizers.RMSprop(learning_rate=0.1).apply_gradients(
    ...     [(tf.constant(2.), v)])  # 1 - 0.1 * 2 / sqrt(0.1 * 4)
    >>> round(float(v), 4)
    0.6838
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="RMSprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def _create_slots(self, variable):
        # (velocity, momentum, average gradient); the last two only when used.
        return (self.add_variable_from_reference(variable, "velocity"),
                self.add_variable_from_reference(variable, "momentum")
                if self.momentum > 0. else None,
                self.add_variable_from_reference(variable, "average_gradient")
                if self.centered else None)

    def update_step(self, gradient, variable):
        learning_rate = self._learning_rate_as(variable.dtype)
        velocity, momentum, average = self._slots_of(variable)
        velocity.assign(self.rho * velocity + (1. - self.rho) * tf.square(gradient))
        if average is not None:
            average.assign(self.rho * average + (1. - self.rho) * gradient)
            denominator = velocity - tf.square(average) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = learning_rate * gradient / tf.sqrt(denominator)
        if momentum is not None:
            momentum.assign(self.momentum * momentum + increment)
            variable.assign_sub(momentum)
        else:
            variable.assign_sub(increment)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config
