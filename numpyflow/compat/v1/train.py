"""`tf.compat.v1.train`: the global step and the v1 optimizers, on numpyflow's Keras ones.

In an Estimator `model_fn`, `optimizer.minimize(loss, global_step=...)` returns a train op
the Estimator runs after `model_fn` returns: it takes the gradient of `loss` on the
GradientTape the Estimator opened around `model_fn` (TF's graph is eager here, so the loss
is a value already computed, and only that tape knows how), applies it, then adds 1 to
`global_step`. This keeps model_fns written for TF 1.x/2.x Estimators unchanged.

Outside an Estimator, pass `loss` as a zero-argument callable (as Keras's `minimize`
takes it): the step runs at once and the returned op is already done.

The update rules are those of the Keras optimizers each wraps (`AdamOptimizer` -> `Adam`
with `beta_1=beta1`, ...); TF 1's Adam put epsilon slightly differently ("epsilon hat"),
which changes results only in the last digits for the default epsilon.

    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> op = tf.compat.v1.train.GradientDescentOptimizer(0.5).minimize(lambda: v * v)
    >>> float(v)  # 1 - 0.5 * 2
    0.0
"""

import threading

from numpyflow.estimator import variable_store
from numpyflow.framework.tape import GradientTape
from numpyflow.framework.variable import Variable

_default = threading.local()


def get_global_step(graph=None):
    """The global step Variable: the running Estimator's, else the one
    `get_or_create_global_step` made in this thread, else None."""
    if graph is not None:
        raise NotImplementedError("get_global_step: `graph` is not supported (no graphs).")
    context = variable_store.current()
    if context is not None:
        return context.global_step
    return getattr(_default, "global_step", None)


def get_or_create_global_step(graph=None):
    """The global step Variable (int64, named `global_step`), created if there is none."""
    step = get_global_step(graph)
    if step is None:
        step = Variable(0, dtype="int64", trainable=False, name="global_step")
        _default.global_step = step
    return step


def create_global_step(graph=None):
    """Creates the global step of this thread (outside an Estimator)."""
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    return get_or_create_global_step(graph)


class TrainOp:
    """A deferred training step: `run()` applies it (once). Returned by `minimize` and
    `apply_gradients`; the Estimator runs the `train_op` of each `EstimatorSpec`."""

    def __init__(self, step_fn, name=None):
        self._step_fn = step_fn
        self._done = False
        self.name = name

    def run(self):
        if not self._done:
            self._done = True
            self._step_fn()

    @property
    def done(self):
        return self._done

    def __repr__(self):
        return f"<TrainOp {self.name!r} {'done' if self._done else 'pending'}>"


def _refuse_outside_training(name):
    def run():
        raise RuntimeError(f"{name}: this train op was made by a model_fn called in EVAL or "
                           f"PREDICT mode; only a TRAIN-mode train op can be run.")
    return run


class Optimizer:
    """Base of the v1 optimizers: `minimize`, `compute_gradients`, `apply_gradients`.

    Subclasses set `self._keras` (the numpyflow Keras optimizer doing the updates).
    """

    def __init__(self, use_locking, name):
        self._use_locking = use_locking
        self._name = name

    def get_name(self):
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=1,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """Returns an op that applies the gradient of `loss` and increments `global_step`.

        Args:
          loss: The scalar loss Tensor computed in the model_fn (or, outside an Estimator,
            a zero-argument callable returning it).
          global_step: Optional Variable to add 1 to after the update.
          var_list: The Variables to update (default: the trainable ones the loss read).
        """
        if aggregation_method is not None or grad_loss is not None:
            raise NotImplementedError(f"{self._name}.minimize: `aggregation_method` and "
                                      f"`grad_loss` are not supported.")
        context = variable_store.current()
        if context is not None and context.tape is None and not callable(loss):
            # EVAL/PREDICT: TF builds the train op into the graph and never runs it.
            return TrainOp(_refuse_outside_training(self._name), name or self._name)
        grads_and_vars = self.compute_gradients(loss, var_list)
        if not [g for g, _ in grads_and_vars if g is not None]:
            raise ValueError(f"No gradients provided for any variable, check your graph for "
                             f"ops that do not support gradients, between variables "
                             f"{[v.name for _, v in grads_and_vars]} and loss {loss!r}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=1, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """`[(gradient, variable)]` of `loss` (see `minimize`)."""
        if callable(loss):
            with GradientTape() as tape:
                value = loss()
            variables = list(var_list) if var_list is not None else tape.watched_variables()
            return list(zip(tape.gradient(value, variables), variables))
        context = variable_store.current()
        if context is None or context.tape is None:
            raise RuntimeError(
                f"{self._name}.minimize/compute_gradients: `loss` is a Tensor, so this must "
                f"run inside an Estimator's model_fn in TRAIN mode (whose GradientTape "
                f"recorded it). Outside one, pass a zero-argument callable returning the loss.")
        tape = context.tape
        variables = list(var_list) if var_list is not None else \
            [v for v in tape.watched_variables() if v.trainable]
        if not variables:
            raise ValueError("No variables to optimize.")
        return list(zip(tape.gradient(loss, variables), variables))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """An op that applies `grads_and_vars` and then increments `global_step`. Inside an
        Estimator it runs when the Estimator runs the train op; outside, at once."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        keras_optimizer = self._keras

        def step():
            keras_optimizer.apply_gradients(pairs)
            if global_step is not None:
                global_step.assign_add(1)

        op = TrainOp(step, name or self._name)
        if variable_store.current() is None:
            op.run()
        return op

    def variables(self):
        return list(self._keras.variables)


class GradientDescentOptimizer(Optimizer):
    """Plain gradient descent (Keras `SGD`)."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        from numpyflow.keras.optimizers import SGD
        self._keras = SGD(learning_rate=_rate(learning_rate))


class MomentumOptimizer(Optimizer):
    """Momentum (Keras `SGD(momentum=..., nesterov=...)`)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        from numpyflow.keras.optimizers import SGD
        self._keras = SGD(learning_rate=_rate(learning_rate), momentum=momentum,
                          nesterov=use_nesterov)


class AdamOptimizer(Optimizer):
    """Adam (Keras `Adam`; see the module doc about epsilon)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        from numpyflow.keras.optimizers import Adam
        self._keras = Adam(learning_rate=_rate(learning_rate), beta_1=beta1, beta_2=beta2,
                           epsilon=epsilon)


class AdagradOptimizer(Optimizer):
    """Adagrad (Keras `Adagrad`)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        super().__init__(use_locking, name)
        from numpyflow.keras.optimizers import Adagrad
        self._keras = Adagrad(learning_rate=_rate(learning_rate),
                              initial_accumulator_value=initial_accumulator_value)


class RMSPropOptimizer(Optimizer):
    """RMSProp (Keras `RMSprop` with `rho=decay`)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        from numpyflow.keras.optimizers import RMSprop
        self._keras = RMSprop(learning_rate=_rate(learning_rate), rho=decay, momentum=momentum,
                              epsilon=epsilon, centered=centered)


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (Keras `Ftrl`)."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", l2_shrinkage_regularization_strength=0.0,
                 beta=None):
        super().__init__(use_locking, name)
        from numpyflow.keras.optimizers.ftrl import Ftrl
        self._keras = Ftrl(learning_rate=_rate(learning_rate),
                           learning_rate_power=learning_rate_power,
                           initial_accumulator_value=initial_accumulator_value,
                           l1_regularization_strength=l1_regularization_strength,
                           l2_regularization_strength=l2_regularization_strength,
                           l2_shrinkage_regularization_strength=(
                               l2_shrinkage_regularization_strength),
                           beta=beta or 0.0)


def _rate(learning_rate):
    # A zero-argument callable, not a number: the Keras optimizer then keeps no
    # learning-rate Variable, so a checkpoint cannot override the rate the model_fn asks
    # for (v1 optimizers kept it out of checkpoints too). A Tensor computed in the model_fn
    # from the global step (a decayed rate) works, since model_fn runs every step.
    if callable(learning_rate):
        return learning_rate
    return lambda: learning_rate


def __getattr__(name):
    # `tf.compat.v1.train.Checkpoint`, `latest_checkpoint`, ... are tf.train's.
    import numpyflow.train as train
    return getattr(train, name)
