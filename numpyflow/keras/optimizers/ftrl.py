"""`Ftrl`: Follow The Regularized Leader (FTRL-Proximal), the linear estimators' default."""

import numpyflow as tf
from numpyflow.keras.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal, updating as Keras's `Ftrl` does.

    Per step, with `n` the accumulator and `z` the linear slot:
    `n_new = n + g**2`; `z += g' - (n_new**-p - n**-p) / lr * w` (`g' = g + 2 * l2_shrinkage
    * w`, `p = learning_rate_power`); `w = (clip(z, -l1, l1) - z) / (n_new**-p / lr + 2 * l2')`
    with `l2' = l2 + beta / (2 * lr)`.

    Args:
      learning_rate: A float, a `LearningRateSchedule` or a callable (see `Optimizer`).
      learning_rate_power: <= 0; how the rate shrinks with the accumulated squares.
      initial_accumulator_value: >= 0; the accumulators' starting value.
      l1_regularization_strength, l2_regularization_strength: >= 0.
      l2_shrinkage_regularization_strength: >= 0; an L2 penalty on the weights in the
        gradient (not in the accumulator).
      beta: >= 0; added to the L2 strength as `beta / (2 * learning_rate)`.
      name: The optimizer's name.
      **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`.

    >>> import numpyflow as tf
    >>> v = tf.Variable(0.)
    >>> _ = tf.keras.optimizers.Ftrl(learning_rate=0.1).apply_gradients([(tf.constant(1.), v)])
    >>> round(float(v), 4)  # z = 1; w = -1 / (sqrt(1.1) / 0.1)
    -0.0953
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name="Ftrl", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        checks = {"initial_accumulator_value": initial_accumulator_value,
                  "l1_regularization_strength": l1_regularization_strength,
                  "l2_regularization_strength": l2_regularization_strength,
                  "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength,
                  "beta": beta}
        for option, value in checks.items():
            if value < 0:
                raise ValueError(f"`{option}` needs to be positive or zero. Received: "
                                 f"{option}={value}.")
        if learning_rate_power > 0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def _create_slots(self, variable):
        return (self.add_variable_from_reference(
                    variable, "accumulator", initial_value=self.initial_accumulator_value),
                self.add_variable_from_reference(variable, "linear"))

    def update_step(self, gradient, variable):
        lr = self._learning_rate_as(variable.dtype)
        accumulator, linear = self._slots_of(variable)
        power = self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        gradient_to_use = gradient + 2 * self.l2_shrinkage_regularization_strength * variable
        new_accumulator = accumulator + tf.square(gradient)
        linear.assign_add(gradient_to_use - (tf.pow(new_accumulator, -power) -
                                             tf.pow(accumulator, -power)) / lr * variable)
        quadratic = tf.pow(new_accumulator, -power) / lr + 2 * l2
        clipped = tf.clip_by_value(linear, -self.l1_regularization_strength,
                                   self.l1_regularization_strength)
        variable.assign((clipped - linear) / quadratic)
        accumulator.assign(new_accumulator)

    def get_config(self):
        config = super().get_config()
        config.update(
            learning_rate_power=self.learning_rate_power,
            initial_accumulator_value=self.initial_accumulator_value,
            l1_regularization_strength=self.l1_regularization_strength,
            l2_regularization_strength=self.l2_regularization_strength,
            l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength,
            beta=self.beta)
        return config
