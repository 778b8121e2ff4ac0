"""`Variable`: a mutable tensor, the state that training updates."""

import contextlib
import threading

import numpy as np

from numpyflow.framework import dtypes, trace_state
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor, _numpy_text, convert_to_tensor
from numpyflow.framework.tensor_shape import TensorShape

# Assignments are primitives (without gradients) so that a trace records the arithmetic;
# the rebinding of `_value` is reported to the trace separately (`_set`). Eagerly each
# gives a fresh array, never writing in place, so Tensors read earlier keep their value.
AssignVariableOp = Primitive("AssignVariableOp", lambda old, new: np.array(new, copy=True),
                             infallible=True)
AssignAddVariableOp = Primitive("AssignAddVariableOp", np.add)
AssignSubVariableOp = Primitive("AssignSubVariableOp", np.subtract)


def _copy_into(old, new, out):
    np.copyto(out, new)


# Each assignment's in-place form, `form(value, operand, out=value)`: a compiled plan
# writes into the variable's array instead when nothing else holds it, so nothing that
# was read earlier changes either (tracing.py).
IN_PLACE_FORMS = {AssignVariableOp: _copy_into, AssignAddVariableOp: np.add,
                  AssignSubVariableOp: np.subtract}


_creators = threading.local()  # `.stack`: this thread's `variable_creator_scope` creators.
_VARIABLE_ARGS = ("initial_value", "trainable", "name", "dtype", "shape", "constraint")
# What a creator receives for an argument the caller left out (Variable.__init__'s
# defaults): TF passes every argument, so creators may read `kwargs["name"]`.
_VARIABLE_DEFAULTS = {"initial_value": None, "trainable": True, "name": None, "dtype": None,
                      "shape": None, "constraint": None}


@contextlib.contextmanager
def variable_creator_scope(variable_creator):
    """Routes `tf.Variable(...)` calls in this thread through `variable_creator`.

    `variable_creator(next_creator, **kwargs)` receives the constructor's arguments as
    keywords and returns a Variable: usually `next_creator(**kwargs)` (the next creator out,
    finally the constructor), or an existing Variable to share it. Innermost scope first.
    The Estimator uses it to give a `model_fn` the same Variables on every call.

    >>> import numpyflow as tf
    >>> names = []
    >>> def creator(next_creator, **kwargs):
    ...     names.append(kwargs["name"])
    ...     return next_creator(**kwargs)
    >>> with tf.variable_creator_scope(creator):
    ...     _ = tf.Variable(1., name="v")
    >>> names
    ['v']
    """
    stack = getattr(_creators, "stack", None)
    if stack is None:
        stack = _creators.stack = []
    stack.append(variable_creator)
    try:
        yield
    finally:
        stack.pop()


# TF's other `tf.Variable` arguments, with the values that mean what numpyflow does: a
# Variable keeps its shape, lives on the CPU, and is neither restored from a graph proto nor
# aggregated specially (tf.distribute sums gradients itself).
_TF_ONLY_ARGUMENTS = {"validate_shape": True, "caching_device": None, "variable_def": None,
                      "import_scope": None, "synchronization": None, "aggregation": None,
                      "experimental_enable_variable_lifting": True}


def _refuse_unsupported(kwargs):
    for argument, value in kwargs.items():
        if argument not in _TF_ONLY_ARGUMENTS:
            raise TypeError(f"tf.Variable got an unexpected keyword argument {argument!r}.")
        if argument in ("aggregation", "synchronization") and _is_distribution_enum(value):
            continue
        if value is not _TF_ONLY_ARGUMENTS[argument] and value != _TF_ONLY_ARGUMENTS[argument]:
            raise NotImplementedError(
                f"tf.Variable: {argument}={value!r} is not supported by numpyflow (only "
                f"{argument}={_TF_ONLY_ARGUMENTS[argument]!r}).")


def _is_distribution_enum(value):
    """Whether `value` is a `tf.VariableAggregation` or `tf.VariableSynchronization`: how a
    distributed Variable's copies combine; numpyflow's strategies sum gradients themselves,
    so any choice means the same for one copy."""
    from numpyflow.framework.execution import VariableAggregation, VariableSynchronization
    return isinstance(value, (VariableAggregation, VariableSynchronization))


class _VariableMetaclass(type):
    """Applies the `variable_creator_scope` creators to `tf.Variable(...)`, as TF does."""

    def __call__(cls, *args, **kwargs):
        stack = getattr(_creators, "stack", None)
        if not stack or cls is not Variable:
            return super().__call__(*args, **kwargs)
        if len(args) > len(_VARIABLE_ARGS):
            raise TypeError(f"tf.Variable takes at most {len(_VARIABLE_ARGS)} positional "
                            f"arguments; received {len(args)}.")
        kwargs = {**_VARIABLE_DEFAULTS, **dict(zip(_VARIABLE_ARGS, args)), **kwargs}
        creators = list(stack)

        def create(index, **arguments):
            if index < 0:
                return super(_VariableMetaclass, cls).__call__(**arguments)
            return creators[index](lambda **next_arguments: create(index - 1, **next_arguments),
                                   **arguments)

        return create(len(creators) - 1, **kwargs)


class Variable(Tensor, metaclass=_VariableMetaclass):
    """A tensor whose value can be changed in place with `assign`.

    Variables can be used wherever a Tensor can. Trainable variables are watched by
    `GradientTape` automatically when an op reads them.

    Args:
      initial_value: A Tensor or a value convertible to one, or a zero-argument callable
        returning one.
      trainable: Whether tapes watch it automatically and optimizers update it.
      name: Optional name; `"Variable"` by default (printed as `'Variable:0'`).
      dtype: Optional dtype to convert `initial_value` to.
      shape: Optional; checked against the initial value's shape.
      constraint: Optional projection `constraint(variable) -> Tensor` that optimizers
        apply after each update (`variable.constraint`, as in TF; Keras layers set it from
        `add_weight(constraint=...)`).

    >>> import numpyflow as tf
    >>> v = tf.Variable([1., 2.])
    >>> _ = v.assign_add([1., 1.])
    >>> v.numpy()
    array([2., 3.], dtype=float32)

    Note: a gradient rule reads a Variable's value when `tape.gradient` runs, so assigning
    to a Variable between the forward pass and `gradient()` uses the new value.
    """

    __slots__ = ("_auto_watch", "_name", "_trainable", "_constraint")

    def __init__(self, initial_value=None, trainable=True, name=None, dtype=None, shape=None,
                 constraint=None, **kwargs):
        _refuse_unsupported(kwargs)
        if initial_value is None:
            raise ValueError("The `initial_value` argument of tf.Variable must be specified.")
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument of tf.Variable must be callable. "
                             f"Received: constraint={constraint!r}")
        if callable(initial_value):
            initial_value = initial_value()
        if isinstance(initial_value, Tensor) and dtype is not None:
            value = initial_value._value.astype(dtypes.as_dtype(dtype)._np)
        else:
            value = convert_to_tensor(initial_value, dtype=dtype)._value
        array = np.array(value, copy=True)
        # A shape with unknown dims (or an unknown rank: TensorShape(None)) checks nothing.
        shape = None if shape is None else TensorShape(shape)
        if shape is not None and shape.is_fully_defined() and tuple(shape) != array.shape:
            raise ValueError(f"Variable {name or 'Variable'}: initial value shape {array.shape} "
                             f"does not match the requested shape {tuple(shape)}.")
        super().__init__(array)
        self._trainable = bool(trainable)
        self._auto_watch = self._trainable
        self._name = name or "Variable"
        self._constraint = constraint

    @property
    def constraint(self):
        """The projection optimizers apply after each update, or None."""
        return self._constraint

    @property
    def name(self):
        return f"{self._name}:0"

    @property
    def trainable(self):
        return self._trainable

    def numpy(self):
        """A copy of the current value (later assignments do not change it)."""
        if trace_state.current is not None:
            trace_state.current.record_value_read(self, ".numpy()")
        return self._value.copy()

    def read_value(self):
        """The current value as a new immutable Tensor."""
        return Tensor(self._value.copy())

    def value(self):
        return self.read_value()

    def _checked(self, value, method):
        """`value` as a Tensor of this variable's shape and dtype (or an error saying why not)."""
        array = (value._value if isinstance(value, Tensor)
                 else np.asarray(value))
        if array.shape != self._value.shape:
            raise ValueError(f"Cannot {method} a value of shape {array.shape} to variable "
                             f"'{self.name}' of shape {self._value.shape}.")
        if array.dtype != self._value.dtype:
            if isinstance(value, Tensor) or (array.dtype.kind == "f" and self._value.dtype.kind != "f"):
                raise TypeError(f"Cannot {method} a {dtypes.from_numpy(array.dtype).name} value "
                                f"to variable '{self.name}' of dtype {self.dtype.name}.")
            array = array.astype(self._value.dtype)
        return value if isinstance(value, Tensor) else Tensor(array)

    def assign(self, value, use_locking=False, name=None, read_value=True):
        """Sets the value. Returns the variable (TF returns the new value; both read the same)."""
        self._set(AssignVariableOp(self, self._checked(value, "assign")))
        return self if read_value else None

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        self._set(AssignAddVariableOp(self, self._checked(delta, "assign_add")))
        return self if read_value else None

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        self._set(AssignSubVariableOp(self, self._checked(delta, "assign_sub")))
        return self if read_value else None

    def _set(self, new_value):
        self._value = new_value._value
        if trace_state.current is not None:
            trace_state.current.record_assign(self, new_value)

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}, "
                f"numpy={_numpy_text(self._value, repr)}>")

    def __str__(self):
        return self.__repr__()
