"""Tracing: one run of a Python function, recorded as a flat plan of array calls.

`tf.function` (function.py) runs the decorated function once with a `Trace` recording.
Every primitive that runs adds one line of Python source calling that primitive's
forward on arrays; Variable reads and assignments are recorded where they happen. The
lines become a plain Python function, the *plan*, that redoes the same array work with
none of the eager machinery around it: no Tensor objects, no tape bookkeeping, no
layers, losses or optimizer loops. Gradient rules are primitives too, so the backward
pass and the optimizer's update are in the plan like everything else.

A trace freezes whatever the Python code decided while it ran. That is only right if
those decisions do not depend on the values flowing through, so a trace notes when
they might:

  * the Python code read a traced value (`float(t)`, `t.numpy()`, `if t: ...`): the
    trace is marked `untraceable` and the function stays eager;
  * an op received a tensor that no recorded op produced (a constant): the plan keeps
    its value. A constant computed outside the primitives from traced data would be
    stale on the next call, so `function.py` trusts a plan only after two traces on
    different calls agree on every line and every constant (`difference`).

Arrays a forward saved for its gradient rule (`saves=True`) are plan values too: when a
gradient rule passes them on (as an input Tensor wrapping the same array, or as an
attribute) the plan passes on the array the forward computes in this run.

Example of a plan's source (`Function.plan_sources()` shows them), for a function that
adds `tf.reduce_sum(x * x)` to a Variable and returns it:

    def total(a0):
        t0 = f_Mul(a0, a0)
        t1 = f_Sum(t0, axis=(0,), keepdims=False)
        del t0
        t1 = asarray(t1)  # NumPy gave a scalar; Primitive.__call__ makes it a 0-d array.
        update(v0, f_AssignAddVariableOp, i_AssignAddVariableOp, t1)
        return Tensor(t1)

`update` adds t1 into v0's own array when nothing else holds that array, and otherwise
binds v0 to a new one, as eager assignments always do. Updates run last: every op that
does not need an updated value runs before the first (`_updates_last`), so that an op
failing on the data (a label out of range) finds every Variable as it was.
"""

import contextlib
import math
import threading
from sys import getrefcount

import numpy as np

from numpyflow.framework import trace_state
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.variable import IN_PLACE_FORMS, Variable

# Attribute values written into the plan's source as literals (the rest are bound by name).
_LITERAL_TYPES = (bool, int, str, type(None))


class Trace:
    """Records primitives, Variable reads and assignments while a function runs."""

    def __init__(self, name="plan"):
        self.name = name
        self.untraceable = None     # Why the plan cannot be trusted, if it cannot.
        self._lines = []            # [_Line]: the plan's body, in execution order.
        self._name_of = {}          # id(Tensor or ndarray) -> its name in the plan.
        self._alive = []            # Keeps everything named alive, so ids stay unique.
        self._bound = {}            # Name -> object the plan reads (forwards, variables, constants).
        self._bound_name_of = {}    # id(forward or Variable) -> its bound name.
        self._assigned = []         # Variables the plan assigns, in first-assignment order.
        self._arguments = []
        self._outputs = None        # Source of the expression the plan returns.
        self._output_names = set()  # The plan values it uses.
        self._fresh = {}            # Plan value -> (shape, dtype), for arrays no one else holds.
        self._counts = {}
        self._thread = None         # The thread whose ops are recorded.

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
            self._name_of = {}

    # -- what the function receives and returns -----------------------------------------------
    def add_argument(self, tensor):
        name = f"a{len(self._arguments)}"
        self._arguments.append(name)
        self._name(tensor, name)
        self._name(tensor._value, name)

    def set_outputs(self, outputs):
        """Records what the function returned (nested lists, tuples and dicts of traced
        tensors, Variables or other objects); the plan builds the same structure. Call it
        inside `recording()`."""
        self._outputs = self._output_source(outputs)

    def _output_source(self, structure):
        kind = type(structure)
        if kind is dict:
            items = {key: self._output_source(structure[key]) for key in sorted(structure)}
            return "{" + ", ".join(f"{self._key_source(key)}: {items[key]}"
                                   for key in structure) + "}"
        if kind is list:
            return "[" + ", ".join(self._output_source(item) for item in structure) + "]"
        if kind is tuple:
            items = [self._output_source(item) for item in structure]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        name = self._name_of.get(id(structure)) if isinstance(structure, Tensor) else None
        if name is not None and not isinstance(structure, Variable):
            self._output_names.add(name.partition("[")[0])
            return f"Tensor({name})"
        if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # A namedtuple.
            items = ", ".join(self._output_source(item) for item in structure)
            return f"{self._bind_constant(kind, 'k')}({items})"
        if isinstance(structure, (dict, list, tuple)):
            self.untraceable = f"the function returns a {kind.__name__}, which plans do not rebuild"
            return "None"
        return self._bind_constant(structure, "k")

    def _key_source(self, key):
        return repr(key) if _is_literal(key) else self._bind_constant(key, "k")

    # -- reports from primitives, Variables and Tensors ---------------------------------------
    def record_op(self, primitive, inputs, attrs, output, saved, was_array):
        """One primitive call: `output = primitive.forward(*inputs, **attrs)`."""
        if threading.get_ident() != self._thread:
            return  # Another thread's work, not the traced function's.
        uses = set()
        arguments = [self._input(x, uses) for x in inputs]
        arguments += [f"{key}={self._attribute(value, uses)}" for key, value in attrs.items()]
        if inputs and not primitive.stateful and all(name.startswith("c") for name in uses):
            # Only constants in: the result is a constant too (its value is in `output`).
            # Keeps the plan free of work like the seed gradient's ones and scalings of it.
            return
        forward = self._bind_once(primitive, f"f_{primitive.name}")
        name = self._new_name("t")
        array = output._value
        if (array.ndim and array.base is None and array.flags.writeable
                and id(array) not in self._name_of and all(array is not x._value for x in inputs)
                and not _holds(saved, array)):
            # A new array of its own: once dead, an elementwise op may write into it.
            self._fresh[name] = (array.shape, array.dtype)
        self._name(output, name)
        self._name(array, name)
        targets = (name,)
        if primitive.saves:
            targets = (name, f"{name}s")
            self._name_saved(saved, targets[1])
        line = _Line(targets, uses, f"{', '.join(targets)} = {forward}({', '.join(arguments)})",
                     primitive=primitive)
        line.call = (forward, arguments)
        if isinstance(primitive.forward, np.ufunc) and not attrs and was_array:
            line.elementwise = (arguments, array.shape, array.dtype)
        self._lines.append(line)
        if not was_array:  # As Primitive.__call__: NumPy scalars become 0-d arrays.
            self._lines.append(_Line((name,), {name}, f"{name} = asarray({name})"))

    def record_assign(self, variable, new_value):
        """`variable` now holds `new_value` (a Tensor some recorded op produced)."""
        if threading.get_ident() != self._thread:
            return  # Another thread's work, not the traced function's.
        uses = set()
        value = self._input(new_value, uses)
        target = self._bind_once(variable, "v")
        if not any(variable is seen for seen in self._assigned):
            self._assigned.append(variable)
        line = _Line((), uses | {target}, f"{target}._value = {value}", effect=True)
        line.assigns = (target, value)
        self._lines.append(line)

    def record_value_read(self, tensor, how):
        """The Python code read a traced value (e.g. `float(t)`): its choices may depend on it."""
        if threading.get_ident() != self._thread:
            return  # Another thread's work, not the traced function's.
        if self.untraceable is None and (id(tensor) in self._name_of or isinstance(tensor, Variable)):
            self.untraceable = (f"the function reads the value of a traced tensor with {how}, "
                                f"so its Python code may depend on the data")

    # -- naming ----------------------------------------------------------------------------------
    def _new_name(self, prefix):
        count = self._counts.get(prefix, 0)
        self._counts[prefix] = count + 1
        return f"{prefix}{count}"

    def _name(self, obj, name):
        self._name_of[id(obj)] = name
        self._alive.append(obj)

    def _name_saved(self, saved, name):
        if isinstance(saved, np.ndarray):
            self._name(saved, name)
        elif isinstance(saved, (tuple, list)):
            for i, item in enumerate(saved):
                if isinstance(item, np.ndarray):
                    self._name(item, f"{name}[{i}]")

    def _bind_once(self, obj, prefix):
        """A name for `obj` (a Variable, or a primitive standing for its forward)."""
        name = self._bound_name_of.get(id(obj))
        if name is None:
            if isinstance(obj, Variable):
                name = self._new_name(prefix)
                self._bound[name] = obj
            else:
                name = prefix
                self._bound[name] = obj.forward
            self._bound_name_of[id(obj)] = name
            self._alive.append(obj)
        return name

    def _bind_constant(self, value, prefix="c"):
        if isinstance(value, Variable):
            return self._bind_once(value, "v")
        name = self._new_name(prefix)
        self._bound[name] = value
        return name

    def _input(self, tensor, uses):
        name = self._name_of.get(id(tensor))
        if name is None:
            if isinstance(tensor, Variable):
                variable = self._bind_once(tensor, "v")
                uses.add(variable)
                return f"{variable}._value"  # Read when the plan gets here, not when traced.
            name = self._name_of.get(id(tensor._value))  # A saved array wrapped anew.
        if name is None:
            name = self._bind_constant(tensor._value)
        uses.add(name.partition("[")[0])
        return name

    def _attribute(self, value, uses):
        if isinstance(value, np.ndarray):
            name = self._name_of.get(id(value)) or self._bind_constant(value)
            uses.add(name.partition("[")[0])
            return name
        if _is_literal(value):
            return repr(value)
        return self._bind_constant(value)

    # -- comparing traces ------------------------------------------------------------------------
    def difference(self, other):
        """How `other` differs from this trace (None if it recorded the same lines,
        variables and constant values, so that one plan serves both)."""
        for mine, theirs in zip(self._lines, other._lines):
            if mine.text != theirs.text:
                return f"line {mine.text!r} became {theirs.text!r}"
        if len(self._lines) != len(other._lines):
            return f"{len(self._lines)} lines became {len(other._lines)}"
        if self._outputs != other._outputs:
            return f"the output {self._outputs} became {other._outputs}"
        for name, value in self._bound.items():
            if name not in other._bound or not _same_value(value, other._bound[name]):
                return f"the value of {name} changed"
        return None

    # -- the plan --------------------------------------------------------------------------------
    def source(self):
        """The plan as Python source: only the lines outputs and assignments need."""
        return self._compile_source()[0]

    def _compile_source(self):
        """(source, the source line number of the first in-place update or None, the
        in-place forms the source names)."""
        lines = _without_unused(self._lines, self._output_names)
        reordered, first_update = _updates_last(lines)
        in_place = all(_infallible(line) for line in reordered[first_update:])
        forms = {}
        if in_place:
            lines = _updating_in_place(reordered, forms)
        lines = _reusing_dead_buffers(lines, self._fresh, self._output_names)
        body = _with_deletions(lines, self._output_names)
        body.append(f"return {self._outputs}")
        header = f"def {self.name}({', '.join(self._arguments)}):"
        source = "\n".join([header] + ["    " + text for text in body]) + "\n"
        effects = [line.text for line in lines if line.effect]
        if not (in_place and effects):
            return source, None, forms
        # The first update's line number, counting the `def` line as line 1.
        return source, body.index(effects[0]) + 2, forms

    def plan(self):
        """The compiled plan: call it with the argument arrays, in `add_argument` order."""
        source, first_update_line, forms = self._compile_source()
        namespace = dict(self._bound, **forms, asarray=np.asarray, Tensor=Tensor, update=_update)
        exec(compile(source, f"<numpyflow plan {self.name}>", "exec"), namespace)
        if first_update_line is None:
            return Plan(namespace[self.name], source, self._assigned)
        # Lines that can fail run before the first update: nothing to put back.
        return Plan(namespace[self.name], source, (), first_update_line)


class Plan:
    """A compiled trace. Calling it runs the array work and the recorded assignments.

    A call that fails on the data leaves no half-applied update. Either every line that
    can fail runs before the first Variable update (then the plan updates in place), or
    the plan rebinds fresh arrays and, if a line raises, puts back the `rollback`
    Variables' arrays from before the call. Only an error no op expects (an interrupt,
    running out of memory) can stop an in-place plan among its updates; then the updates
    made stand, as they would eagerly (`failed_among_updates`).
    """

    __slots__ = ("_run", "source", "_rollback", "_first_update_line")

    def __init__(self, run, source, rollback, first_update_line=None):
        self._run = run
        self.source = source
        self._rollback = tuple(rollback)
        self._first_update_line = first_update_line

    def __reduce__(self):
        # Its code is bound to the traced Variables: a copy would update the original's.
        raise TypeError("A compiled plan cannot be pickled or copied: it is bound to the "
                        "Variables it was traced with. Copy the tf.function that holds it "
                        "instead (the copy traces its own plans).")

    def failed_among_updates(self, error):
        """Whether `error`, raised by this plan, stopped it after its first in-place update."""
        if self._first_update_line is None:
            return False
        traceback = error.__traceback__
        while traceback is not None:
            if traceback.tb_frame.f_code is self._run.__code__:
                return traceback.tb_lineno >= self._first_update_line
            traceback = traceback.tb_next
        return False

    def __call__(self, arrays):
        if not self._rollback:
            return self._run(*arrays)
        before = [variable._value for variable in self._rollback]
        try:
            return self._run(*arrays)
        except BaseException:
            for variable, value in zip(self._rollback, before):
                variable._value = value
            raise


def _update(variable, forward, in_place, operand):
    """`variable._value = forward(variable._value, operand)`, written into the variable's
    array when nothing else holds it: the same numbers, without a new array each step
    (whose changing address makes steady training loops run unsteadily). An array that
    something else holds (a Tensor, a view, a NumPy alias) keeps its value.
    """
    if getrefcount(variable._value) == _SOLE_HOLDER:
        value = variable._value
        if value.base is None and value.flags.writeable:
            in_place(value, operand, out=value)
            return
    variable._value = np.asarray(forward(variable._value, operand))


def _count_holders(variable):
    return getrefcount(variable._value)  # The same expression as in `_update`.


class _Holder:
    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value


# What `getrefcount(variable._value)` says when only the variable holds its array.
_SOLE_HOLDER = _count_holders(_Holder(np.zeros(1)))


class _Line:
    __slots__ = ("targets", "uses", "text", "effect", "elementwise", "primitive", "call",
                 "assigns")

    def __init__(self, targets, uses, text, effect=False, primitive=None):
        self.targets = targets
        self.uses = uses
        self.text = text
        self.effect = effect
        self.primitive = primitive  # The primitive a call line runs (None for other lines).
        # For a NumPy ufunc on arrays: (argument names, output shape, output dtype).
        self.elementwise = None
        self.call = None     # For a primitive call: (bound forward name, argument sources).
        self.assigns = None  # For `vN._value = tK`: ("vN", "tK").


def _without_unused(lines, output_names):
    """Drops lines whose results nothing needs (primitives have no side effects)."""
    needed = set(output_names)
    kept = []
    for line in reversed(lines):
        if line.effect or needed.intersection(line.targets):
            kept.append(line)
            needed.update(line.uses)
    kept.reverse()
    return kept


def _updates_last(lines):
    """Moves each line that need not wait for a Variable update before the first update.

    Ops are free of side effects, so an op that reads no updated Variable, and no value
    computed from one, may run earlier; random ops keep their order among themselves.
    Lines that can fail on the data (label checks in a metric, say) then run before any
    Variable changes. Returns (lines, index of the first line that waits).
    """
    assigned = set()  # Variables updated so far.
    late = set()      # Values computed after an update, from its result.
    random_waits = False
    early, waiting = [], []
    for line in lines:
        random = line.primitive is not None and line.primitive.stateful
        if (line.effect or not assigned.isdisjoint(line.uses) or not late.isdisjoint(line.uses)
                or (random and random_waits)):
            waiting.append(line)
            late.update(line.targets)
            if line.assigns is not None:
                assigned.add(line.assigns[0])
            random_waits = random_waits or random
        else:
            early.append(line)
    return early + waiting, len(early)


def _infallible(line):
    return line.primitive is None or line.primitive.infallible


def _updating_in_place(lines, forms):
    """Turns each `tK = f_AssignXVariableOp(vN._value, x)` ... `vN._value = tK` pair into
    one `update(vN, f_AssignXVariableOp, i_AssignXVariableOp, x)` at the assignment,
    which writes into vN's array when nothing else holds it (`_update`). Adds the
    in-place forms it names to `forms`.

    The computation moves down to the assignment; vN cannot change in between, since only
    its own assignment does.
    """
    defined_at = {}
    readers = {}
    for index, line in enumerate(lines):
        for name in line.targets:
            defined_at.setdefault(name, index)
        for name in line.uses:
            readers.setdefault(name, []).append(index)
    dropped = set()
    replaced = {}
    for index, line in enumerate(lines):
        if line.assigns is None:
            continue
        variable, value = line.assigns
        if value not in defined_at:
            continue  # An argument or a constant.
        producer = lines[defined_at[value]]
        form = IN_PLACE_FORMS.get(producer.primitive)
        if form is None or producer.call[1][0] != f"{variable}._value":
            continue
        users = [lines[i] for i in readers[value] if i != index]
        if any(user.text != f"{value} = asarray({value})" for user in users):
            continue  # Something else reads the result; keep the plain assignment.
        forward, arguments = producer.call
        in_place = f"i_{producer.primitive.name}"
        forms[in_place] = form
        fused = _Line((), producer.uses | {variable},
                      f"update({variable}, {forward}, {in_place}, {arguments[1]})", effect=True)
        replaced[index] = fused
        dropped.add(defined_at[value])
        dropped.update(readers[value])
        dropped.discard(index)
    return [replaced.get(index, line) for index, line in enumerate(lines)
            if index not in dropped]


def _reusing_dead_buffers(lines, fresh, output_names):
    """Lets elementwise ops write into an input that dies with them (`out=`), as in-place
    NumPy code would: no new array, and memory that is still in the cache.

    Only arrays the plan made and nobody else holds qualify: not arguments, Variables'
    values, constants, views, plan outputs or values assigned to a Variable.
    """
    last_use = _last_uses(lines)
    held = set(output_names)
    for line in lines:
        if line.effect:
            held.update(line.uses)
    rewritten = []
    for index, line in enumerate(lines):
        if line.elementwise is not None:
            arguments, shape, dtype = line.elementwise
            for name in arguments:
                if (fresh.get(name) == (shape, dtype) and last_use.get(name) == index
                        and name not in held):
                    line = _Line(line.targets, line.uses, f"{line.text[:-1]}, out={name})")
                    break
        rewritten.append(line)
    return rewritten


def _with_deletions(lines, keep):
    """The lines' text, with `del` after each value's last use so memory goes back early."""
    last_use = _last_uses(lines)
    for index, line in enumerate(lines):
        for name in line.targets:
            last_use.setdefault(name, index)  # Defined but unused: free right away.
    body = []
    for index, line in enumerate(lines):
        body.append(line.text)
        dead = sorted(name for name in set(line.uses) | set(line.targets)
                      if last_use.get(name) == index and name not in keep
                      and name.startswith("t"))  # Plan values (not arguments or bound names).
        if dead:
            body.append(f"del {', '.join(dead)}")
    return body


def _last_uses(lines):
    """Plan value -> the index of the last line that reads it."""
    last_use = {}
    for index, line in enumerate(lines):
        for name in line.uses:
            last_use[name] = index
    return last_use


def _holds(saved, array):
    if isinstance(saved, (tuple, list)):
        return any(item is array for item in saved)
    return saved is array


def _is_literal(value):
    if type(value) is float:
        return math.isfinite(value)
    if type(value) in _LITERAL_TYPES:
        return True
    if type(value) in (tuple, list):
        return all(_is_literal(item) for item in value)
    return False


def _same_value(a, b):
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (type(a) is type(b) and not isinstance(a, Variable)
                and _same_value(a._value, b._value))
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # Objects whose == raises or is ambiguous are not provably the same.
        return False
