"""`Adagrad`: per-coordinate learning rates shrinking with the sum of squared gradients."""

import numpyflow as tf
from numpyflow.keras.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad: `accumulator += g**2; variable -= lr * g / sqrt(accumulator + epsilon)`.

    Args:
      learning_rate: A float, a `LearningRateSchedule` or a callable (see `Optimizer`).
      initial_accumulator_value: The accumulators' starting value.
      epsilon: Added inside the square root for numerical stability.
      name: The optimizer's name.
      **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm` (see
        `Optimizer`).

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> _ = tf.keras.optimizers.Adagrad(learning_rate=0.5).apply_gradients(
    ...     [(tf.constant(1.), v)])  # 1 - 0.5 * 1 / sqrt(0.1 + 1)
    >>> round(float(v), 4)
    0.5233
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _create_slots(self, variable):
        return (self.add_variable_from_reference(
            variable, "accumulator", initial_value=self.initial_accumulator_value),)

    def update_step(self, gradient, variable):
        learning_rate = self._learning_rate_as(variable.dtype)
        (accumulator,) = self._slots_of(variable)
        accumulator.assign_add(tf.square(gradient))
        variable.assign_sub(learning_rate * gradient / tf.sqrt(accumulator + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value,
                      epsilon=self.epsilon)
        return config
