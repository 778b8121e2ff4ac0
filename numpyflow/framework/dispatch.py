"""Public ops applied to symbolic tensors: how `tf.nn.relu(keras_input)` builds a model.

Keras's functional API calls layers and ops on `KerasTensor`s, which stand for values
that do not exist yet. numpyflow's low-level layer knows nothing of Keras; it knows only
`SymbolicTensor`, the base class such placeholders derive from:

  * converting a symbolic tensor to an array (`convert_to_tensor`, `np.asarray`) raises
    `SymbolicInputError`, so no op ever computes on one;
  * each public op function (`tf.concat`, `tf.nn.relu`, `tf.math.add`, ...) is wrapped by
    `add_dispatch_support`: when the op raises `SymbolicInputError`, the call is handed to
    the symbolic tensor's class (`symbolic_op_call`), which records it instead.

The wrapper costs one Python call on the eager path and nothing inside compiled plans,
which call primitives directly.

    >>> class Placeholder(SymbolicTensor):
    ...     @classmethod
    ...     def symbolic_op_call(cls, op, op_name, args, kwargs):
    ...         return f"recorded {op_name}"
    >>> import numpyflow as tf
    >>> tf.nn.relu(Placeholder())
    'recorded nn.relu'
"""

import functools
import inspect

from numpyflow.framework import nest


class SymbolicInputError(TypeError):
    """Raised when an op receives a symbolic tensor, which has no value to compute with."""


class SymbolicTensor:
    """Base class of placeholders for values not computed yet (Keras's `KerasTensor`)."""

    __slots__ = ()
    # NumPy defers `ndarray + placeholder` to the placeholder's own operators.
    __array_ufunc__ = None

    def __array__(self, dtype=None, copy=None):
        raise SymbolicInputError(
            f"{self!r} is a symbolic placeholder (e.g. a `keras.Input`), not a value: it can "
            f"be passed to Keras layers and numpyflow ops to build a model, but has no "
            f"values to convert to an array.")

    @classmethod
    def symbolic_op_call(cls, op, op_name, args, kwargs):
        """Records `op(*args, **kwargs)` on symbolic inputs; returns its symbolic outputs."""
        raise NotImplementedError


def add_dispatch_support(op, op_name):
    """`op`, made to hand calls on symbolic tensors to their class (see module doc).

    One wrapper per op, kept on the op, so that `tf.sigmoid is tf.math.sigmoid` as in TF.
    """
    existing = getattr(op, "__dispatching_op__", None)
    if existing is not None:
        return existing

    @functools.wraps(op)
    def dispatching_op(*args, **kwargs):
        try:
            return op(*args, **kwargs)
        except SymbolicInputError:
            symbolic = _first_symbolic((args, kwargs))
            if symbolic is None:
                raise
            return type(symbolic).symbolic_op_call(op, op_name, args, kwargs)

    dispatching_op.__dispatching_op__ = dispatching_op
    op.__dispatching_op__ = dispatching_op
    return dispatching_op


def dispatch_namespace(namespace, prefix=""):
    """Wraps every public function defined in numpyflow's ops in `namespace` (a module's
    globals), naming each `prefix + name` (e.g. "nn.relu")."""
    for name, value in list(namespace.items()):
        if name.startswith("_") or not inspect.isfunction(value):
            continue
        if value.__module__.startswith("numpyflow.ops."):
            namespace[name] = add_dispatch_support(value, prefix + name)


def _first_symbolic(structure):
    for leaf in nest.flatten(structure):
        if isinstance(leaf, SymbolicTensor):
            return leaf
    return None
