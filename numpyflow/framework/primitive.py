"""Primitives: the registered ops, each a forward on arrays plus a gradient rule.

Every differentiable computation in numpyflow bottoms out in a `Primitive`. Its
`forward` takes NumPy arrays (and keyword attributes such as `axis`) and returns an
array. Its `gradient` takes the recorded `Node` and the upstream gradient (a Tensor)
and returns one gradient per input (a Tensor, or None). Gradient rules are written with
numpyflow ops, so that an outer tape records them too: that is how nested tapes give
higher derivatives, and how a later graph tracer can reuse the rules unchanged.

Shapes: gradient rules may return a gradient in the *broadcast* shape; the tape sums
it back to the input's shape in one place (`tape._unbroadcast`).
"""

from numpyflow.backend import xp
from numpyflow.framework import trace_state
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor

# Bound once: the per-op checks below read module globals, not `xp.` attributes.
_asarray, _ndarray, _ufunc = xp.asarray, xp.ndarray, xp.ufunc


# The GradientTapes open in all threads together; tape.py adds and removes them (and owns
# every other piece of tape state). The per-op check is one truthiness test of this module
# global, as cheap as when tapes were not per thread; only while some thread has a tape open
# does `record_on_tapes` look up the current thread's tapes.
open_tapes = []

# `record_on_tapes(primitive, inputs, output, attrs, saved)`: records one op on the current
# thread's tapes. Set by tape.py (which this module cannot import: it imports this one).
record_on_tapes = None

_REGISTRY = {}

# Set by tests to observe which primitives run; None in normal use (costs one test per op).
trace_hook = None


class Node:
    """One recorded application of a primitive: what a gradient rule can look at.

    Attributes:
      primitive: The `Primitive` that ran.
      inputs: The input Tensors (Variables appear as themselves).
      output: The output Tensor.
      attrs: The keyword attributes the forward received (axis, strides, ...).
      saved: Whatever the forward chose to keep for the gradient (or None).
      needs: Set by the tape before calling the gradient rule: for each input, whether
        its gradient is wanted. Rules use it to skip expensive work.
    """

    __slots__ = ("primitive", "inputs", "output", "attrs", "saved", "needs")

    def __init__(self, primitive, inputs, output, attrs, saved):
        self.primitive = primitive
        self.inputs = inputs
        self.output = output
        self.attrs = attrs
        self.saved = saved
        self.needs = None


class Primitive:
    """A registered op. Call it with Tensors (already converted) and keyword attributes.

    Args:
      name: TF's op name ("AddV2", "MatMul", ...); the registry key and the `[Op:...]` tag
        in error messages.
      forward: `forward(*arrays, **attrs) -> array`, or `-> (array, saved)` when `saves`.
      gradient: `gradient(node, upstream) -> tuple` of per-input Tensors or None. Omit it
        for ops without a gradient (comparisons, argmax, floor, ...).
      saves: Whether `forward` also returns values for the gradient rule.
      explain: Optional `explain(arrays, attrs, error) -> str` turning a NumPy error into
        a message saying what was received and what was expected.
      stateful: Whether the forward draws random numbers, so that two calls on the same
        inputs differ (a traced plan never folds such an op into a constant).
      infallible: Whether the forward cannot fail on inputs of shapes and dtypes it has
        run with once (it checks no values, as label ranges or indices). A traced plan
        updates Variables in place only when infallible ops alone follow the first
        update, so that a failing op never finds a step half-applied. NumPy ufuncs
        count as infallible without saying so.
      side_effect: Whether the op runs for what it does besides its output (`tf.print`
        writes, `tf.debugging.assert_*` checks): a traced graph keeps it even when nothing
        reads its output, in its place among the other side effects. Such an op counts as
        stateful too (never folded into a constant, never run out of order).
      output_shape_from_data: Whether the output's shape depends on the input values,
        not only on their shapes (an image decoder: the file says its size). Python code
        after it may have decided things from the traced shape, so a plan checks the
        shape and hands a call with another shape back to eager execution.

    Example (how `ops/math_ops.py` defines `tf.square`; not run here, since a name can be
    registered only once):

        Square = Primitive("Square", np.square,
                           lambda node, dy: (dy * 2. * node.inputs[0],))
        def square(x, name=None):
            return Square(tensor(x))
    """

    __slots__ = ("name", "forward", "gradient", "saves", "explain", "stateful", "infallible",
                 "side_effect", "output_shape_from_data")

    def __init__(self, name, forward, gradient=None, *, saves=False, explain=None,
                 stateful=False, infallible=False, side_effect=False,
                 output_shape_from_data=False):
        if name in _REGISTRY:
            raise ValueError(f"A primitive named {name!r} is already registered.")
        self.name = name
        self.forward = forward
        self.gradient = gradient
        self.saves = saves
        self.explain = explain
        self.stateful = stateful or side_effect
        self.side_effect = side_effect
        self.infallible = infallible or isinstance(forward, _ufunc)
        self.output_shape_from_data = output_shape_from_data
        _REGISTRY[name] = self

    def __call__(self, *inputs, **attrs):
        if trace_hook is not None:
            trace_hook(self.name)
        try:
            result = self.forward(*[x._value for x in inputs], **attrs)
        except (ValueError, IndexError) as error:
            raise self._error(inputs, attrs, error) from None
        except TypeError:
            # NumPy refusing Python bytes (`-t`, `t * t` on tf.string): TF's message.
            if any(x._value.dtype.kind == "O" for x in inputs):
                raise invalid_argument(self.name, f"Value for attr 'T' of string is not in the "
                                       f"list of allowed values of {self.name}: it takes "
                                       f"numeric tensors, not tf.string") from None
            raise
        saved = None
        if self.saves:
            result, saved = result
        was_array = type(result) is _ndarray
        if not was_array:
            result = _asarray(result)  # NumPy returns scalars from 0-d math; keep arrays.
        output = Tensor(result)
        if open_tapes and self.gradient is not None and result.dtype.kind == "f":
            record_on_tapes(self, inputs, output, attrs, saved)
        if trace_state.current is not None:
            trace_state.current.record_op(self, inputs, attrs, output, saved, was_array)
        return output

    def _error(self, inputs, attrs, error):
        arrays = [x._value for x in inputs]
        if self.explain is not None:
            message = self.explain(arrays, attrs, error)
        else:
            shapes = ", ".join(str(list(a.shape)) for a in arrays)
            message = f"{error} (received input shapes: {shapes})"
        return invalid_argument(self.name, message)

    def __repr__(self):
        return f"<Primitive {self.name}>"


def registered_primitives():
    """All registered primitives, by name (a copy)."""
    return dict(_REGISTRY)


def get_primitive(name):
    return _REGISTRY[name]
