"""`Adam` and `AdamW`: adaptive moment estimation (AdamW adds decoupled weight decay)."""

import numpyflow as tf
from numpyflow.keras.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Adam, in Keras's bias-corrected form.

    With `t` the 1-based step, each step does:
    `m += (g - m) * (1 - beta_1)`, `v += (g**2 - v) * (1 - beta_2)`,
    `variable -= alpha * m / (sqrt(v) + epsilon)` where
    `alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)`.
    With `amsgrad`, the running maximum of `v` replaces `v` in the last step.

    Args:
      learning_rate: A float, a `LearningRateSchedule` or a callable (see `Optimizer`).
      beta_1: Decay rate of the first-moment (mean) estimate.
      beta_2: Decay rate of the second-moment (uncentered variance) estimate.
      epsilon: Added to the denominator for numerical stability.
      amsgrad: Whether to use the AMSGrad variant.
      name: The optimizer's name.
      **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm` (see
        `Optimizer`).

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> _ = tf.keras.optimizers.Adam(learning_rate=0.1).apply_gradients([(tf.constant(5.), v)])
    >>> round(float(v), 4)  # The first step moves by about learning_rate.
    0.9
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="Adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _create_slots(self, variable):
        slots = [self.add_variable_from_reference(variable, "m"),
                 self.add_variable_from_reference(variable, "v")]
        if self.amsgrad:
            slots.append(self.add_variable_from_reference(variable, "vhat"))
        return slots

    def _step_size(self, dtype):
        """The bias-corrected learning rate `alpha` of this step (shared by all variables)."""
        step = tf.cast(self.iterations + 1, dtype)
        beta_1_power = tf.pow(self.beta_1, step)
        beta_2_power = tf.pow(self.beta_2, step)
        learning_rate = self._learning_rate_as(dtype)
        return learning_rate * tf.sqrt(1. - beta_2_power) / (1. - beta_1_power)

    def update_step(self, gradient, variable):
        alpha = self._per_step("adam_alpha", variable.dtype, self._step_size)
        m, v, *v_hat = self._slots_of(variable)
        m.assign_add((gradient - m) * (1. - self.beta_1))
        v.assign_add((tf.square(gradient) - v) * (1. - self.beta_2))
        if self.amsgrad:
            v_hat[0].assign(tf.maximum(v_hat[0], v))
            v = v_hat[0]
        variable.assign_sub((m * alpha) / (tf.sqrt(v) + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      amsgrad=self.amsgrad)
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay: each step first does
    `variable -= variable * weight_decay * learning_rate`, then the Adam update.

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> opt = tf.keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> _ = opt.apply_gradients([(tf.constant(0.), v)])  # Only the decay moves it.
    >>> round(float(v), 4)
    0.95
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float; received "
                             "weight_decay=None.")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)
