"""`SGD`: gradient descent, optionally with (Nesterov) momentum."""

from numpyflow.keras.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional momentum, updating as Keras does.

    Without momentum: `variable -= learning_rate * gradient`. With momentum:
    `m = momentum * m - learning_rate * gradient`, then `variable += m`, or with
    `nesterov=True`, `variable += momentum * m - learning_rate * gradient` (the new `m`).

    Args:
      learning_rate: A float, a `LearningRateSchedule` or a callable (see `Optimizer`).
      momentum: In [0, 1]; how much of the previous update carries over.
      nesterov: Whether to use Nesterov momentum.
      name: The optimizer's name.
      **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm` (see
        `Optimizer`).

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> _ = opt.apply_gradients([(tf.constant(1.), v)])  # m = -0.1
    >>> _ = opt.apply_gradients([(tf.constant(1.), v)])  # m = 0.9 * -0.1 - 0.1
    >>> round(float(v), 6)
    0.71
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0. <= momentum <= 1.:
            raise ValueError(f"`momentum` must be between [0, 1]; received momentum={momentum}.")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _create_slots(self, variable):
        if self.momentum == 0.:
            return ()
        return (self.add_variable_from_reference(variable, "m"),)

    def update_step(self, gradient, variable):
        step = gradient * self._learning_rate_as(variable.dtype)
        if self.momentum == 0.:
            variable.assign_sub(step)
            return
        (m,) = self._slots_of(variable)
        m.assign(m * self.momentum - step)
        if self.nesterov:
            variable.assign_add(m * self.momentum - step)
        else:
            variable.assign_add(m)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
