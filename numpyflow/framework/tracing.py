"""Tracing: one run of a Python function, recorded as a `graph.Graph`.

`tf.function` (function.py) runs the decorated function once with a `Trace` recording;
the exporters trace a model's call the same way (`trace_graph`). Every primitive that
runs adds an `Equation` (the primitive, its inputs, its attributes, its outputs);
Variable reads and assignments are recorded where they happen. The plan compiler
(plan.py) turns the graph into a plain Python function, the *plan*, that redoes the
same array work with none of the eager machinery around it.

A trace freezes whatever the Python code decided while it ran. That is only right if
those decisions do not depend on the values flowing through, so a trace notes when
they might:

  * the Python code read a traced value (`float(t)`, `t.numpy()`, `if t: ...`): the
    trace is marked `untraceable` and the function stays eager;
  * an op received a tensor that no recorded op produced (a constant): the graph keeps
    its value. A constant computed outside the primitives from traced data would be
    stale on the next call, so `function.py` trusts a plan only after two traces on
    different calls agree on every equation and every constant (`difference`).

Arrays a forward saved for its gradient rule (`saves=True`) are graph values too
(`graph.Saved`): when a gradient rule passes them on (as an input Tensor wrapping the
same array, or as an attribute) the graph refers to what the forward saved in this run.
"""

import contextlib
import math
import threading

import numpy as np

from numpyflow.framework import name_scope, trace_state
from numpyflow.framework.graph import (ATOMS, Assignment, Constant, Equation, Graph, Saved,
                                       Value, VariableRead)
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.variable import Variable


class Trace:
    """Records primitives, Variable reads and assignments while a function runs."""

    def __init__(self, name="plan"):
        self.graph = Graph(name)
        self.untraceable = None     # Why the plan cannot be trusted, if it cannot.
        self._atom_of = {}          # id(Tensor or ndarray) -> its atom in the graph.
        self._alive = []            # Keeps everything named alive, so ids stay unique.
        self._variables = {}        # id(Variable) -> its VariableRead.
        self.assigned = []          # Variables the graph assigns, in first-assignment order.
        self._counts = {}
        self._thread = None         # The thread whose ops are recorded.

    @property
    def name(self):
        return self.graph.name

    @contextlib.contextmanager
    def recording(self):
        """Makes this the trace that primitives and Variables report to.

        Yields True, or False (recording nothing) while another thread's trace records.
        """
        if not trace_state.lock.acquire(blocking=False):
            yield False
            return
        self._thread = threading.get_ident()
        trace_state.current = self
        try:
            yield True
        finally:
            trace_state.current = None
            trace_state.lock.release()
            # The traced values were needed only to name them; drop them (and the memory).
            self._alive = []
            self._atom_of = {}

    # -- what the function receives and returns -----------------------------------------------
    def add_argument(self, tensor):
        value = Value(f"a{len(self.graph.arguments)}", tensor._value.shape, tensor._value.dtype)
        self.graph.arguments.append(value)
        self._name(tensor, value)
        self._name(tensor._value, value)

    def set_outputs(self, outputs):
        """Records what the function returned (nested lists, tuples and dicts of traced
        tensors, Variables or other objects). Call it inside `recording()`."""
        self.graph.outputs = self._output(outputs)

    def _output(self, structure):
        kind = type(structure)
        if kind is dict:
            return {key: self._output(structure[key]) for key in structure}
        if kind is list:
            return [self._output(item) for item in structure]
        if kind is tuple:
            return tuple(self._output(item) for item in structure)
        if isinstance(structure, Tensor):
            if isinstance(structure, Variable):
                return self._variable(structure)
            atom = self._atom_of.get(id(structure))
            if atom is not None:
                return atom
        elif isinstance(structure, tuple) and hasattr(structure, "_fields"):  # A namedtuple.
            return kind(*[self._output(item) for item in structure])
        elif isinstance(structure, (dict, list, tuple)) or _is_composite_tensor(structure):
            # A SparseTensor or RaggedTensor holds traced tensors a constant would freeze.
            self.untraceable = f"the function returns a {kind.__name__}, which plans do not rebuild"
            return None
        return self._constant(structure, "k")

    # -- reports from primitives, Variables and Tensors ---------------------------------------
    def record_op(self, primitive, inputs, attrs, output, saved, was_array):
        """One primitive call: `output = primitive.forward(*inputs, **attrs)`."""
        if threading.get_ident() != self._thread:
            return  # Another thread's work, not the traced function's.
        operands = [self._input(x) for x in inputs]
        attributes = {key: self._attribute(value) for key, value in attrs.items()}
        if (inputs and not primitive.stateful
                and all(isinstance(atom, Constant) for atom in operands)
                and not any(isinstance(v, ATOMS) and not isinstance(v, Constant)
                            for v in attributes.values())):
            # Only constants in: the result is a constant too (its value is in `output`).
            # Keeps the graph free of work like the seed gradient's ones and scalings of it.
            return
        array = output._value
        exclusive = bool(array.ndim and array.base is None and array.flags.writeable
                         and id(array) not in self._atom_of
                         and all(array is not x._value for x in inputs)
                         and not _holds(saved, array))
        value = Value(self._new_name("t"), array.shape, array.dtype, exclusive)
        self._name(output, value)
        self._name(array, value)
        outputs = (value,)
        if primitive.saves:
            whole = Saved(f"{value.name}s")
            outputs = (value, whole)
            self._name_saved(saved, whole)
        self.graph.body.append(Equation(primitive, operands, attributes, outputs,
                                        scalar_result=not was_array,
                                        scope=name_scope.current_scope()))

    def record_assign(self, variable, new_value):
        """`variable` now holds `new_value` (a Tensor some recorded op produced)."""
        if threading.get_ident() != self._thread:
            return  # Another thread's work, not the traced function's.
        value = self._input(new_value)
        target = self._variable(variable)
        if not any(variable is seen for seen in self.assigned):
            self.assigned.append(variable)
        self.graph.body.append(Assignment(target, value))

    def record_value_read(self, tensor, how):
        """The Python code read a traced value (e.g. `float(t)`): its choices may depend on it."""
        if threading.get_ident() != self._thread:
            return  # Another thread's work, not the traced function's.
        if self.untraceable is None and (id(tensor) in self._atom_of or isinstance(tensor, Variable)):
            scope = name_scope.current_scope()
            where = f" (in '{scope}')" if scope else ""
            self.untraceable = (f"the function reads the value of a traced tensor with "
                                f"{how}{where}, so its Python code may depend on the data")

    # -- naming ----------------------------------------------------------------------------------
    def _new_name(self, prefix):
        count = self._counts.get(prefix, 0)
        self._counts[prefix] = count + 1
        return f"{prefix}{count}"

    def _name(self, obj, atom):
        self._atom_of[id(obj)] = atom
        self._alive.append(obj)

    def _name_saved(self, saved, whole):
        if isinstance(saved, np.ndarray):
            self._name(saved, whole)
        elif isinstance(saved, (tuple, list)):
            for i, item in enumerate(saved):
                if isinstance(item, np.ndarray):
                    self._name(item, Saved(f"{whole.name}[{i}]", i, whole))

    def _variable(self, variable):
        atom = self._variables.get(id(variable))
        if atom is None:
            atom = self._variables[id(variable)] = VariableRead(self._new_name("v"), variable)
            self._alive.append(variable)
        return atom

    def _constant(self, value, prefix="c"):
        return Constant(self._new_name(prefix), value)

    def _input(self, tensor):
        atom = self._atom_of.get(id(tensor))
        if atom is None:
            if isinstance(tensor, Variable):
                return self._variable(tensor)  # Read when the plan gets here, not when traced.
            atom = self._atom_of.get(id(tensor._value))  # A saved array wrapped anew.
        return atom if atom is not None else self._constant(tensor._value)

    def _attribute(self, value):
        if isinstance(value, np.ndarray):
            return self._atom_of.get(id(value)) or self._constant(value)
        return value

    # -- comparing traces ------------------------------------------------------------------------
    def difference(self, other):
        """How `other` differs from this trace (None if it recorded the same equations,
        variables and constant values, so that one plan serves both)."""
        mine, theirs = self.graph, other.graph
        for a, b in zip(mine.body, theirs.body):
            if _entry_key(a) != _entry_key(b):
                return f"{a!r} became {b!r}"
        if len(mine.body) != len(theirs.body):
            return f"{len(mine.body)} equations became {len(theirs.body)}"
        if _structure_key(mine.outputs) != _structure_key(theirs.outputs):
            return "the outputs' structure changed"
        for a, b in zip(_constants(mine), _constants(theirs)):
            if not same_value(a.value, b.value):
                return f"the value of {a.name} changed"
        for a, b in zip(mine.variables(), theirs.variables()):
            if a.variable is not b.variable:
                return f"{a.name} is another Variable"
        return None


def trace_graph(fn, *args, name=None, **kwargs):
    """Runs `fn(*args, **kwargs)` once, recording it; returns the `graph.Graph`.

    Tensors and NumPy arrays among `args`/`kwargs` (nested) become the graph's arguments,
    in `nest.flatten` order; everything else is passed through as it is.

    Raises:
      UntraceableError: (a ValueError) if the function's Python code may depend on the
        traced values (it reads one with `float(t)`, `if t:`, ...) or it returns what a
        graph cannot hold.
    """
    from numpyflow.framework import nest
    args, kwargs = nest.map_structure(
        lambda leaf: Tensor(leaf) if type(leaf) is np.ndarray else leaf, (args, kwargs))
    label = name or getattr(fn, "__name__", "graph")
    trace = Trace("".join(ch if ch.isalnum() else "_" for ch in label).strip("_") or "graph")
    for leaf in nest.flatten((args, kwargs)):
        if isinstance(leaf, Tensor) and not isinstance(leaf, Variable):
            trace.add_argument(leaf)
    with trace.recording() as recording:
        if not recording:
            raise RuntimeError(f"Cannot trace {label!r}: another thread is tracing.")
        outputs = fn(*args, **kwargs)
        trace.set_outputs(outputs)
    if trace.untraceable is not None:
        raise UntraceableError(label, trace.untraceable)
    return trace.graph


class UntraceableError(ValueError):
    """`trace_graph` found that the function's Python code may depend on traced values."""

    def __init__(self, label, reason):
        super().__init__(f"Cannot trace {label!r} into a graph: {reason}.")
        self.reason = reason


def _is_composite_tensor(value):
    import numpyflow  # The package's tf.is_tensor knows the sparse and ragged types.
    return numpyflow.is_tensor(value)


def _entry_key(entry):
    if isinstance(entry, Assignment):
        return ("assign", entry.variable.name, entry.value.name)
    attrs = tuple((key, value.name if isinstance(value, ATOMS) else _attr_key(value))
                  for key, value in entry.attrs.items())
    return (entry.primitive.name, tuple(atom.name for atom in entry.inputs), attrs,
            entry.scalar_result, tuple(_type_key(v) for v in entry.outputs))


def _type_key(value):
    return (value.shape, value.dtype) if isinstance(value, Value) else value.name


class _Opaque:
    """Compares an attribute that is no literal by value (`same_value`)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _Opaque) and same_value(self.value, other.value)

    __hash__ = None


def _attr_key(value):
    return value if is_literal(value) else _Opaque(value)


def _structure_key(structure):
    if isinstance(structure, dict):
        return ("dict", tuple((key, _structure_key(item)) for key, item in structure.items()))
    if isinstance(structure, (list, tuple)):
        return (type(structure), tuple(_structure_key(item) for item in structure))
    return structure.name if isinstance(structure, ATOMS) else structure


def _constants(graph):
    """The graph's Constants, in the order they appear (body, then outputs)."""
    found = []
    for entry in graph.body:
        found += [atom for atom in entry.operands() if isinstance(atom, Constant)]
    found += [atom for atom in graph.flat_outputs() if isinstance(atom, Constant)]
    return found


def _holds(saved, array):
    if isinstance(saved, (tuple, list)):
        return any(item is array for item in saved)
    return saved is array


# Attribute values written into a plan's source as literals (the rest are bound by name).
_LITERAL_TYPES = (bool, int, str, type(None))


def is_literal(value):
    """Whether `value` can be written into source as a literal that reads back equal."""
    if type(value) is float:
        return math.isfinite(value)
    if type(value) in _LITERAL_TYPES:
        return True
    if type(value) in (tuple, list):
        return all(is_literal(item) for item in value)
    return False


def same_value(a, b):
    """Whether two traced constants or attributes are provably the same value."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (type(a) is type(b) and not isinstance(a, Variable)
                and same_value(a._value, b._value))
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # Objects whose == raises or is ambiguous are not provably the same.
        return False
