"""The premade estimators' optimizers and train ops.

`optimizer` may be a name (`"Adagrad"`, `"Adam"`, `"Ftrl"`, `"RMSProp"`, `"SGD"`, made
with the estimator's default learning rate, as TF does), a Keras optimizer (a copy with
its config is made for each `model_fn` call, so its variables live in the Estimator's
checkpoints), a v1 optimizer from `tf.compat.v1.train`, or a zero-argument callable
returning either.
"""

from numpyflow.estimator import variable_store

_NAMES = ("Adagrad", "Adam", "Ftrl", "RMSProp", "SGD")


def _keras_class(name):
    from numpyflow.keras import optimizers
    from numpyflow.keras.optimizers.ftrl import Ftrl
    return {"Adagrad": optimizers.Adagrad, "Adam": optimizers.Adam, "Ftrl": Ftrl,
            "RMSProp": optimizers.RMSprop, "SGD": optimizers.SGD}[name]


def check_optimizer(optimizer, owner):
    """Fails early on an optimizer argument no call could use."""
    if isinstance(optimizer, str) and optimizer not in _NAMES:
        raise ValueError(f"{owner}: Unsupported optimizer name: {optimizer}. Supported names "
                         f"are: {_NAMES}")
    if not isinstance(optimizer, str) and not callable(optimizer) and \
            not hasattr(optimizer, "apply_gradients"):
        raise ValueError(f"{owner}: The given object is not an Optimizer instance. Given: "
                         f"{optimizer!r}")


def make_optimizer(optimizer, learning_rate):
    """A fresh optimizer for one model_fn call (see module doc)."""
    from numpyflow.compat.v1.train import Optimizer as V1Optimizer
    from numpyflow.keras.optimizers import Optimizer as KerasOptimizer
    if isinstance(optimizer, str):
        return _keras_class(optimizer)(learning_rate=learning_rate)
    if isinstance(optimizer, KerasOptimizer):
        return type(optimizer).from_config(optimizer.get_config())
    if isinstance(optimizer, V1Optimizer):
        return optimizer._keras if variable_store.current() is None else \
            type(optimizer._keras).from_config(optimizer._keras.get_config())
    if callable(optimizer):
        return make_optimizer(optimizer(), learning_rate)
    raise ValueError(f"The given object is not an Optimizer instance. Given: {optimizer!r}")


class ApplyGradientsOp:
    """The premade estimators' train op: for each `(optimizer, variables)` part, the
    gradient of the loss on the Estimator's tape, applied; then `global_step += 1`."""

    def __init__(self, loss, parts):
        context = variable_store.current()
        self._tape = context.tape
        self._global_step = context.global_step
        self._loss = loss
        self._parts = [(optimizer, list(variables)) for optimizer, variables in parts]
        self._done = False

    def run(self):
        if self._done:
            return
        self._done = True
        everything = [v for _, variables in self._parts for v in variables]
        gradients = self._tape.gradient(self._loss, everything)
        start = 0
        for optimizer, variables in self._parts:
            grads = gradients[start:start + len(variables)]
            start += len(variables)
            pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
            if pairs:
                optimizer.apply_gradients(pairs)
        self._global_step.assign_add(1)
