"""Map functions run as compiled plans, as TF runs them as traced graphs.

TF traces a `Dataset.map` function once into a graph and runs the graph for every element.
numpyflow does the same with `tf.function`: the first calls per element signature run
eagerly while a trace records them, later ones run the plan, without the per-op Python of
eager execution. What cannot be traced stays eager, element by element, with the same
results: functions that read values in Python (`tf.numpy_function`, `if t:`), and elements
with sparse or ragged parts. As in TF, Python side effects of a traced function (a print,
a counter) happen while it is traced, not for every element.
"""

from numpyflow.data import structure
from numpyflow.framework.function import Function
from numpyflow.framework.tensor_spec import TensorSpec

# After this many traces, summed over all element signatures (shapes), the function stays
# eager: a signature takes two agreeing traces before its plan compiles, so this is about 8
# shapes, and a plan per shape would cost more to trace than it saves.
_MAX_TRACES = 16


def traced(func, element_spec):
    """`func` as a callable that runs plans where it can (see module doc)."""
    if isinstance(func, Function):
        return func  # The user's own tf.function.
    leaves = structure.flatten(element_spec)
    if not leaves or not all(type(spec) is TensorSpec for spec in leaves):
        return func
    return _TracedMap(func)


class _TracedMap:
    """Calls a `tf.function` of the map function until it has traced too many shapes."""

    __slots__ = ("_eager", "_function")

    def __init__(self, func):
        self._eager = func
        self._function = Function(func)

    def __call__(self, *args):
        function = self._function
        if function is None:
            return self._eager(*args)
        if function.experimental_get_tracing_count() > _MAX_TRACES:
            self._function = None  # Another shape per element: not worth tracing.
            return self._eager(*args)
        return function(*args)
