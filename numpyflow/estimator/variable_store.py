"""How an Estimator keeps a `model_fn`'s Variables between its calls.

TF builds a graph once per `train`/`evaluate`/`predict` call and runs it for every batch.
numpyflow is eager, so the Estimator calls `model_fn` once per batch instead. Each call
makes new Keras layers, metrics and optimizers, and so asks for new Variables; a
`VariableStore` answers those requests (through `tf.variable_creator_scope`) with the
Variables the first call created, matched by name. Names are made the way a fresh TF graph
makes them: the Keras name counters start afresh for each call (`dense`, `dense_1`, ...),
and a name asked for twice in one call gets `_1`, `_2`, ... appended.

The first time a name is created, its value is restored from the checkpoint the store was
opened with, when the checkpoint has that name (with the same shape and dtype). Variables
created while `local_variables()` is active (the running totals of `tf.compat.v1.metrics`)
are neither restored nor saved, like TF's local variables.

`current()` gives the build context of the `model_fn` call running in this thread: the
store, the GradientTape recording it, and the global step. The Keras name counters are
process-wide, so two Estimators should not build their model_fns at the same moment in
different threads (their layer names could interleave).

Why not once per `train` call as TF? Eager ops compute on the batch they are given, so the
`loss` a `model_fn` returns is that batch's; running `model_fn` per batch is what keeps
model_fns written for TF unchanged. The cost is building the Keras layer objects (and
their discarded initial values) each step, small next to the step's math.
"""

import contextlib
import threading

import numpy as np

from numpyflow.framework.tensor import Tensor
from numpyflow.framework.variable import variable_creator_scope
from numpyflow.keras import backend as keras_backend

_state = threading.local()


def current():
    """The `BuildContext` of the `model_fn` call running in this thread, or None."""
    return getattr(_state, "context", None)


@contextlib.contextmanager
def local_variables():
    """Variables created inside are local: neither restored from nor saved to checkpoints."""
    previous = getattr(_state, "local", False)
    _state.local = True
    try:
        yield
    finally:
        _state.local = previous


class VariableStore:
    """The Variables of one Estimator call, by name, in creation order.

    Args:
      restored: A dict name -> NumPy array (the checkpoint's values), or None.
    """

    def __init__(self, restored=None):
        self.variables = {}          # name -> Variable, creation order.
        self.local_names = set()
        self.restored_names = set()
        self._restored = restored or {}
        self._counts = {}

    def start_call(self):
        self._counts = {}

    def _unique(self, name):
        count = self._counts.get(name, 0)
        self._counts[name] = count + 1
        return name if count == 0 else f"{name}_{count}"

    def creator(self, next_creator, **kwargs):
        """The `variable_creator_scope` creator: share by name, restore on first creation."""
        name = self._unique(str(kwargs.get("name") or "Variable"))
        existing = self.variables.get(name)
        if existing is not None:
            shape = kwargs.get("shape")
            initial = kwargs.get("initial_value")
            if shape is None and isinstance(initial, (Tensor, np.ndarray)):
                shape = initial.shape
            if shape is not None and None not in tuple(shape) and \
                    tuple(shape) != tuple(existing.shape):
                raise ValueError(
                    f"Estimator: the model_fn created the variable {name!r} with shape "
                    f"{tuple(shape)}, but an earlier call made it with shape "
                    f"{tuple(existing.shape)}. A model_fn must build the same variables on "
                    f"every call (its input shapes must not change between batches).")
            return existing
        variable = next_creator(**kwargs)
        if getattr(_state, "local", False):
            self.local_names.add(name)
        elif name in self._restored:
            value = self._restored[name]
            if value.shape != tuple(variable.shape) or value.dtype != variable.dtype._np:
                raise ValueError(
                    f"Estimator: the checkpoint's value for {name!r} has shape {value.shape} "
                    f"and dtype {value.dtype}, but the model_fn created it with shape "
                    f"{tuple(variable.shape)} and dtype {variable.dtype._np}. Was the "
                    f"model_dir written by a different model?")
            variable.assign(value)
            self.restored_names.add(name)
        self.variables[name] = variable
        return variable

    def saved_items(self):
        """`(name, value)` of the Variables a checkpoint keeps, in creation order."""
        return [(name, variable.numpy()) for name, variable in self.variables.items()
                if name not in self.local_names]

    def mark_local(self, variables):
        ids = {id(v) for v in variables}
        for name, variable in self.variables.items():
            if id(variable) in ids:
                self.local_names.add(name)


class BuildContext:
    """One `model_fn` call: its mode, store, tape (TRAIN) and global step.

    `serving` marks the calls of `Estimator.export_saved_model`, which are traced into a
    SavedModel graph: the canned heads then leave out their string predictions, which the
    graph cannot hold (and which they compute from the traced values in NumPy).
    """

    def __init__(self, store, mode, global_step, tape=None, serving=False):
        self.store = store
        self.mode = mode
        self.global_step = global_step
        self.tape = tape
        self.serving = serving
        self.summaries = {}          # `tf.compat.v1.summary.scalar` values of this call.

    @contextlib.contextmanager
    def activate(self):
        """Makes this the running call: shared Variables, fresh Keras names."""
        previous = current()
        saved_counts = keras_backend._name_counts
        keras_backend._name_counts = type(saved_counts)(int)
        self.store.start_call()
        _state.context = self
        try:
            with variable_creator_scope(self.store.creator):
                yield self
        finally:
            _state.context = previous
            keras_backend._name_counts = saved_counts

