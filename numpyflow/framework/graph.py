"""The traced computation as a graph of equations: the one representation of a trace.

A `tracing.Trace` records one run of a Python function as a `Graph`: its arguments, the
primitives that ran (`Equation`: a primitive, its inputs, its attributes as values, its
outputs), the Variables it assigned (`Assignment`) and what it returned. Everything that
reads a traced computation reads this graph:

  * the plan compiler (`plan.py`) prunes, reorders and rewrites it into a fast plan for
    `tf.function`;
  * the exporters (`numpyflow.export`, `numpyflow.lite`) translate it equation by
    equation into TFLite and ONNX operators, through tables keyed by primitive name.

The operands of an equation are *atoms*:

  * `Value`: an array the graph receives (an argument, named `a0`, `a1`, ...) or computes
    (an equation's output, `t0`, `t1`, ...), with the shape and dtype it had when traced;
  * `Saved`: what a `saves=True` forward kept for its gradient rule (`t3s`), or one item of
    it (`t3s[1]`), when a gradient rule passes it on;
  * `VariableRead`: a `tf.Variable`, read when the equation runs (`v0`, ...);
  * `Constant`: a value the graph holds (`c0`, ...): a tensor no recorded op produced.

Attributes are plain Python values (ints, tuples, strings, dtypes); an array attribute
is an atom like an input.

    >>> import numpyflow as tf
    >>> from numpyflow.framework import tracing
    >>> v = tf.Variable(2.)
    >>> graph = tracing.trace_graph(lambda x: tf.nn.relu(x * v), tf.zeros((4, 3)))
    >>> [eq.primitive.name for eq in graph.equations]
    ['Mul', 'Relu']
    >>> print(graph)
    graph lambda(a0: float32[4,3]):
      t0: float32[4,3] = Mul(a0, v0)
      t1: float32[4,3] = Relu(t0)
      return t1
"""

import numpy as np


class Value:
    """An array of the graph: an argument or an equation's output.

    Attributes:
      name: Its name in the graph (`a0` for arguments, `t0` for computed values).
      shape: Its shape when traced (a tuple of ints).
      dtype: Its NumPy dtype.
      exclusive: Whether the traced array was new and shared with nothing (no view, no
        input, nothing a gradient rule saved): a dead one may be overwritten.
    """

    __slots__ = ("name", "shape", "dtype", "exclusive")

    def __init__(self, name, shape, dtype, exclusive=False):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.exclusive = exclusive

    def __repr__(self):
        return self.name


class Saved:
    """What a forward saved for its gradient rule (`index` None), or one item of it."""

    __slots__ = ("name", "index", "base")

    def __init__(self, name, index=None, base=None):
        self.name = name        # "t3s" (the whole saved value) or "t3s[1]".
        self.index = index
        self.base = base        # For an item: the whole `Saved` it belongs to.

    def __repr__(self):
        return self.name


class Constant:
    """A value the graph holds: a tensor or attribute that no recorded op produced."""

    __slots__ = ("name", "value")

    def __init__(self, name, value):
        self.name = name
        self.value = value

    def __repr__(self):
        return self.name


class VariableRead:
    """A `tf.Variable` of the graph: read where an equation uses it, set by `Assignment`s."""

    __slots__ = ("name", "variable")

    def __init__(self, name, variable):
        self.name = name
        self.variable = variable

    def __repr__(self):
        return self.name


ATOMS = (Value, Saved, Constant, VariableRead)


class Equation:
    """`outputs = primitive(*inputs, **attrs)`.

    Attributes:
      primitive: The `Primitive` that ran.
      inputs: Its operands (atoms), in order.
      attrs: Its keyword attributes: plain values, or atoms for arrays.
      outputs: `(Value,)`, or `(Value, Saved)` for a primitive that `saves`.
      scalar_result: Whether the forward returned a NumPy scalar, which the primitive
        turned into a 0-d array.
      scope: The `tf.name_scope`s open when it ran, joined by "/" (Keras opens one per
        layer call while tracing: "sequential/dense"); "" for none.
    """

    __slots__ = ("primitive", "inputs", "attrs", "outputs", "scalar_result", "scope")

    def __init__(self, primitive, inputs, attrs, outputs, scalar_result=False, scope=""):
        self.primitive = primitive
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs)
        self.outputs = tuple(outputs)
        self.scalar_result = scalar_result
        self.scope = scope

    @property
    def output(self):
        """The array the primitive computes (`outputs[0]`)."""
        return self.outputs[0]

    def operands(self):
        """Every atom the equation reads: inputs, then array attributes."""
        return list(self.inputs) + [value for value in self.attrs.values()
                                    if isinstance(value, ATOMS)]

    def __repr__(self):
        arguments = [atom.name for atom in self.inputs]
        arguments += [f"{key}={value.name if isinstance(value, ATOMS) else repr(value)}"
                      for key, value in self.attrs.items()]
        targets = ", ".join(f"{v.name}: {_type_string(v)}" if isinstance(v, Value) else v.name
                            for v in self.outputs)
        return f"{targets} = {self.primitive.name}({', '.join(arguments)})"


class Assignment:
    """`variable` now holds `value` (`variable.assign(...)` and friends)."""

    __slots__ = ("variable", "value")

    def __init__(self, variable, value):
        self.variable = variable    # A VariableRead.
        self.value = value          # An atom.

    def operands(self):
        return [self.variable, self.value]

    def __repr__(self):
        return f"{self.variable.name} := {self.value.name}"


class Graph:
    """A traced computation: arguments, equations and assignments in order, outputs.

    Attributes:
      name: The traced function's name.
      arguments: The argument `Value`s, in the order the function receives their arrays.
      body: `Equation`s and `Assignment`s, in the order they ran.
      outputs: What the function returned, as a structure (lists, tuples, dicts,
        namedtuples) whose leaves are atoms (tensors) or `Constant`s (anything else).
    """

    def __init__(self, name="graph"):
        self.name = name
        self.arguments = []
        self.body = []
        self.outputs = None

    @property
    def equations(self):
        """The body's equations (without the assignments), in order."""
        return [entry for entry in self.body if isinstance(entry, Equation)]

    @property
    def assignments(self):
        return [entry for entry in self.body if isinstance(entry, Assignment)]

    def flat_outputs(self):
        """The outputs' leaves, in `nest.flatten` order (dicts by sorted key)."""
        leaves = []
        _flatten(self.outputs, leaves)
        return leaves

    def variables(self):
        """The `VariableRead`s the body uses, in first-use order."""
        seen = {}
        for entry in self.body:
            for atom in entry.operands():
                if isinstance(atom, VariableRead):
                    seen.setdefault(atom.name, atom)
        return list(seen.values())

    def __str__(self):
        arguments = ", ".join(f"{a.name}: {_type_string(a)}" for a in self.arguments)
        lines = [f"graph {self.name}({arguments}):"]
        lines += [f"  {entry!r}" for entry in self.body]
        lines.append(f"  return {_structure_string(self.outputs)}")
        return "\n".join(lines)


def frozen(graph):
    """A copy of `graph` for inference and export: Variables read as constants (their
    current values), every equation whose inputs are all constants computed now, and only
    what the outputs need kept. Assignments are dropped (an exported model does not train).

    A stateful (random) equation is never folded.
    """
    result = Graph(graph.name)
    result.arguments = list(graph.arguments)
    known = {}  # name of a folded atom -> its Constant
    counter = [0]

    def constant(value):
        counter[0] += 1
        return Constant(f"f{counter[0] - 1}", value)

    def resolve(atom):
        if isinstance(atom, Saved) and atom.base is not None and atom.base.name in known:
            return constant(known[atom.base.name].value[atom.index])
        if isinstance(atom, VariableRead):
            if atom.name not in known:
                known[atom.name] = constant(np.asarray(atom.variable._value))
            return known[atom.name]
        return known.get(atom.name, atom)

    for entry in graph.body:
        if not isinstance(entry, Equation):
            continue
        inputs = [resolve(atom) for atom in entry.inputs]
        attrs = {key: resolve(value) if isinstance(value, ATOMS) else value
                 for key, value in entry.attrs.items()}
        operands = inputs + [v for v in attrs.values() if isinstance(v, ATOMS)]
        if (not entry.primitive.stateful and all(isinstance(a, Constant) for a in operands)):
            arrays = [np.asarray(a.value) for a in inputs]
            plain = {k: (v.value if isinstance(v, Constant) else v) for k, v in attrs.items()}
            out = entry.primitive.forward(*arrays, **plain)
            if entry.primitive.saves:
                out, saved = out
                known[entry.outputs[1].name] = constant(saved)
            known[entry.output.name] = constant(np.asarray(out))
            continue
        result.body.append(Equation(entry.primitive, inputs, attrs, entry.outputs,
                                    entry.scalar_result, entry.scope))
    result.outputs = _map_structure(graph.outputs, resolve)
    return pruned(result)


def pruned(graph):
    """`graph` without the equations that no output, no assignment and no side effect
    (`tf.print`, an assertion) needs."""
    needed = {atom.name for atom in graph.flat_outputs() if isinstance(atom, ATOMS)}
    kept = []
    for entry in reversed(graph.body):
        if (isinstance(entry, Assignment) or entry.primitive.side_effect
                or any(base_name(v) in needed for v in entry.outputs)):
            kept.append(entry)
            needed.update(base_name(atom) for atom in entry.operands())
    result = Graph(graph.name)
    result.arguments = list(graph.arguments)
    result.body = kept[::-1]
    result.outputs = graph.outputs
    return result


def consumers(graph):
    """Name of each atom -> the equations (and assignments) that read it, in order."""
    readers = {}
    for entry in graph.body:
        for atom in entry.operands():
            readers.setdefault(base_name(atom), []).append(entry)
    return readers


def base_name(atom):
    """The name of what `atom` reads: its own, or for an item of a saved tuple the tuple's
    (the name a plan binds, and the one `consumers` files its readers under)."""
    return atom.base.name if isinstance(atom, Saved) and atom.base is not None else atom.name


def _type_string(value):
    return f"{value.dtype.name}[{','.join(str(d) for d in value.shape)}]"


def _flatten(structure, leaves):
    if isinstance(structure, dict):
        for key in sorted(structure):
            _flatten(structure[key], leaves)
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            _flatten(item, leaves)
    else:
        leaves.append(structure)


def _map_structure(structure, fn):
    if isinstance(structure, dict):
        return {key: _map_structure(item, fn) for key, item in structure.items()}
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_map_structure(item, fn) for item in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_structure(item, fn) for item in structure)
    return fn(structure) if isinstance(structure, ATOMS) else structure


def _structure_string(structure):
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k!r}: {_structure_string(v)}" for k, v in structure.items()) + "}"
    if isinstance(structure, (list, tuple)):
        return "[" + ", ".join(_structure_string(item) for item in structure) + "]"
    return structure.name if isinstance(structure, ATOMS) else repr(structure)
