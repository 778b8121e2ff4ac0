"""`tf.custom_gradient`, `tf.grad_pass_through`, `tf.recompute_grad`, `tf.gradients`.

A custom gradient replaces the tape's record of what a function computed by one node
whose gradient rule is the user's `grad_fn`. The function runs with this thread's tapes
paused (so its inner ops are not differentiated), inside a private tape that notes the
trainable Variables it reads: those are the `variables` TF passes to `grad_fn`. Each
output then gets one node on the tapes, whose inputs are the function's tensor inputs
and those Variables.

A function of several outputs gets one node per output; each calls `grad_fn` with that
output's upstream gradient and zeros for the others. Gradients are linear in the
upstream gradients, so the tape's sum over the outputs is `grad_fn` of all of them.
"""

import functools
import inspect

from numpyflow.backend import xp
from numpyflow.framework import nest, primitive
from numpyflow.framework import tape as tape_module
from numpyflow.framework.tensor import Tensor, convert_to_tensor


class _CustomGradientRule:
    """Stands in for a `Primitive` in a tape node: `gradient(node, upstream)` calls the
    user's `grad_fn` (see module doc)."""

    name = "CustomGradient"
    __slots__ = ("grad_fn", "outputs", "index", "input_count", "variables")

    def __init__(self, grad_fn, outputs, index, input_count, variables):
        self.grad_fn = grad_fn
        self.outputs = outputs
        self.index = index
        self.input_count = input_count
        self.variables = variables

    def gradient(self, node, upstream):
        upstreams = [upstream if i == self.index else _zeros_like(output)
                     for i, output in enumerate(self.outputs)]
        if self.variables:
            result = self.grad_fn(*upstreams, variables=list(self.variables))
            if not isinstance(result, (list, tuple)) or len(result) != 2:
                raise ValueError("@tf.custom_gradient: grad_fn of a function that reads "
                                 "Variables must return (input_gradients, "
                                 "variable_gradients).")
            input_grads, variable_grads = result
            input_grads = _as_list(input_grads)
            variable_grads = list(variable_grads)
            if len(variable_grads) != len(self.variables):
                raise ValueError(f"@tf.custom_gradient: grad_fn returned "
                                 f"{len(variable_grads)} variable gradients for "
                                 f"{len(self.variables)} variables.")
        else:
            input_grads, variable_grads = _as_list(self.grad_fn(*upstreams)), []
        if len(input_grads) != self.input_count:
            raise ValueError(f"@tf.custom_gradient: grad_fn returned {len(input_grads)} "
                             f"gradients for {self.input_count} tensor inputs.")
        return tuple(_as_gradient(g, x)
                     for g, x in zip(input_grads + variable_grads, node.inputs))


def _as_gradient(grad, x):
    """`grad_fn`'s gradient for input `x` as a tensor: a Python number or array takes a
    floating `x`'s dtype (TF gives a float64 input a float64 gradient)."""
    if grad is None or isinstance(grad, Tensor):
        return grad
    if x._value.dtype.kind in "fc":
        return convert_to_tensor(grad, dtype=x.dtype)
    return convert_to_tensor(grad)


def _as_list(grads):
    return list(grads) if isinstance(grads, (list, tuple)) else [grads]


def _zeros_like(tensor):
    return Tensor(xp.zeros_like(tensor._value))


def custom_gradient(f=None):
    """Decorates `f(*x)` returning `(y, grad_fn)`: the tape differentiates `y` by calling
    `grad_fn(*dy)`, which returns the gradient for each tensor argument of `f`.

    When `f` reads trainable Variables, `grad_fn` must accept a `variables` keyword and
    return `(input_gradients, variable_gradients)`, one per Variable in the given list.

    Example:
        >>> import numpyflow as tf
        >>> @tf.custom_gradient
        ... def clip_gradient(x):
        ...     def grad_fn(dy):
        ...         return tf.clip_by_value(dy, -1., 1.)
        ...     return tf.identity(x), grad_fn
        >>> x = tf.constant(2.)
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = 10. * clip_gradient(x)
        >>> float(tape.gradient(y, x))
        1.0
    """
    if f is None:
        return custom_gradient
    return _CustomGradientFunction(f)


class _CustomGradientFunction:
    """`f` decorated by `custom_gradient`; on a class, bound methods differentiate their
    arguments only (`self` is no input), as in TF."""

    def __init__(self, f):
        functools.update_wrapper(self, f, updated=())
        self._f = f

    def __call__(self, *args, **kwargs):
        return _call_with_custom_gradient(self._f, args, kwargs)

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return _CustomGradientFunction(functools.partial(self._f, instance))


def _call_with_custom_gradient(f, args, kwargs):
    outer_tapes = tape_module.recording_tapes()
    for tape in outer_tapes:
        tape._paused += 1  # f's own ops are not what the outer tapes differentiate.
    try:
        with tape_module.GradientTape() as variable_watcher:  # Notes Variables f reads.
            outputs, grad_fn = f(*args, **kwargs)
        # New tensors for the outputs (an output may be an input itself, `return x, grad`):
        # Identity is a primitive, so a trace records them too.
        identity = primitive.get_primitive("Identity")
        flat_outputs = [identity(convert_to_tensor(o)) for o in nest.flatten(outputs)]
    finally:
        for tape in outer_tapes:
            tape._paused -= 1
    if not callable(grad_fn):
        raise TypeError(f"@tf.custom_gradient: {getattr(f, '__name__', f)!r} must return "
                        f"(outputs, grad_fn) with a callable grad_fn. Received: {grad_fn!r}")
    if outer_tapes:
        inputs = [x for x in nest.flatten((args, kwargs)) if isinstance(x, Tensor)]
        variables = [v for v in variable_watcher.watched_variables()
                     if v.trainable and not any(v is x for x in inputs)]
        if variables and not _accepts_variables(grad_fn):
            raise TypeError(f"@tf.custom_gradient grad_fn must accept keyword argument "
                            f"'variables', since function uses variables: {variables}")
        # As TF: one gradient per flattened positional argument, numbers included.
        tensor_inputs = [_as_input(x, f) for x in nest.flatten(args)]
        for index, output in enumerate(flat_outputs):
            if output._value.dtype.kind != "f":
                continue  # Integer outputs carry no gradient, as for primitives.
            rule = _CustomGradientRule(grad_fn, flat_outputs, index, len(tensor_inputs),
                                       variables)
            primitive.record_on_tapes(rule, tensor_inputs + variables, output, {}, None)
    return nest.pack_sequence_as(outputs, flat_outputs)


def _as_input(value, f):
    if isinstance(value, Tensor):
        return value
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(f"@tf.custom_gradient: the positional arguments of "
                        f"{getattr(f, '__name__', f)!r} must be tensors or convertible to "
                        f"tensors (each gets a gradient). Received: {value!r}") from None


def _accepts_variables(grad_fn):
    try:
        parameters = inspect.signature(grad_fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in parameters)


def grad_pass_through(f):
    """`f`, differentiated as the identity (`tf.grad_pass_through`): the upstream
    gradient passes to `f`'s input unchanged, as a straight-through estimator. Keyword
    arguments pass to `f`; Variables that `f` reads get no gradient, as in TF.

    Example:
        >>> import numpyflow as tf
        >>> x = tf.constant(1.5)
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = tf.grad_pass_through(tf.round)(x)
        >>> float(y), float(tape.gradient(y, x))
        (2.0, 1.0)
    """
    @custom_gradient
    def through(*args, **kwargs):
        def grad(*upstream, variables=None):
            if variables is not None:
                # Variables `f` reads get no gradient, as in TF.
                return upstream, [None] * len(variables)
            return upstream
        return f(*args, **kwargs), grad

    return functools.wraps(f)(lambda *args, **kwargs: through(*args, **kwargs))


def recompute_grad(f):
    """`tf.recompute_grad`: TF recomputes `f` on the backward pass to save memory;
    numpyflow keeps `f`'s intermediates, so this returns `f` itself (same gradients)."""
    return f


def gradients(ys, xs, grad_ys=None, name="gradients", gate_gradients=False,
              aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """`tf.gradients` builds graph gradients, which TF2 refuses eagerly; numpyflow does
    too (it has no graph mode). Use `tf.GradientTape`."""
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. "
                       "Use tf.GradientTape instead.")
