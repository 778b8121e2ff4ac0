"""The plan compiler: a traced `graph.Graph` becomes a plain Python function.

The plan redoes the graph's array work with none of the eager machinery around it: no
Tensor objects, no tape bookkeeping, no layers, losses or optimizer loops. Gradient
rules are primitives too, so the backward pass and the optimizer's update are in the
plan like everything else. The passes read the graph's equations:

  * `graph.pruned`: only what the outputs and the assignments need;
  * `fusion.fused`: rewrites that give the same numbers with less array work (a ReLU
    before a max pool moves after it, onto the pooled array);
  * `_sharing_saved_results`: a result that another equation's forward saves anyway (the
    sparse cross-entropy's probabilities are its logits' softmax) is read from there;
  * `_updates_last`: every equation that does not need an updated Variable runs before
    the first update, so that an op failing on the data (a label out of range) finds
    every Variable as it was;
  * `_updating_in_place`: `v.assign_add(x)` and friends write into the Variable's array;
  * `_reusing_dead_buffers`: an elementwise op writes into an input that dies with it;
  * `register_plan_kernel`: where an op declares a cheaper call for the shapes and dtypes
    traced (a reduction's ufunc without its wrapper; a Cast to the dtype it has is its
    input), the plan calls that;
  * `del` after each value's last use, so memory goes back early.

A plan runs with NumPy's floating-point error reports off (inf and NaN come silently, as
from TF's kernels), set once per call: it calls the forwards that `backend.quiet` wraps
without their wrappers.

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
binds v0 to a new one, as eager assignments always do.
"""

import operator
from sys import getrefcount

import numpy as np

from numpyflow.backend import quiet
from numpyflow.framework.graph import (ATOMS, Assignment, Constant, Equation, Saved, Value,
                                       VariableRead, base_name, pruned)
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tracing import is_literal
from numpyflow.framework.variable import IN_PLACE_FORMS


def compile_plan(graph, assigned=()):
    """Compiles `graph` into a `Plan`; `assigned` are the Variables it assigns (put back
    if a plan that cannot update in place fails)."""
    from numpyflow.framework.fusion import fused  # Loaded with the first compiled plan.
    graph = fused(pruned(graph))
    source, namespace, first_update_line = _emit(graph)
    exec(compile(source, f"<numpyflow plan {graph.name}>", "exec"), namespace)
    run = namespace[graph.name]
    pure = _is_pure(graph)
    if first_update_line is None:
        return Plan(run, source, assigned, pure=pure)
    # Lines that can fail run before the first update: nothing to put back.
    return Plan(run, source, (), first_update_line, pure=pure)


def _is_pure(graph):
    """Whether the graph neither assigns a Variable nor draws random numbers (nor runs any
    other stateful primitive): its calls may then run in any order, on any thread."""
    return all(isinstance(entry, Equation) and not entry.primitive.stateful
               for entry in graph.body)


class Plan:
    """A compiled graph. Calling it runs the array work and the recorded assignments.

    A call that fails on the data leaves no half-applied update. Either every line that
    can fail runs before the first Variable update (then the plan updates in place), or
    the plan rebinds fresh arrays and, if a line raises, puts back the `rollback`
    Variables' arrays from before the call. Only an error no op expects (an interrupt,
    running out of memory) can stop an in-place plan among its updates; then the updates
    made stand, as they would eagerly (`failed_among_updates`).

    `pure` says whether the plan assigns no Variable and runs no stateful (random)
    primitive: such a plan may be called from several threads at once (`predict` does).
    """

    __slots__ = ("_run", "source", "_rollback", "_first_update_line", "pure")

    def __init__(self, run, source, rollback, first_update_line=None, pure=False):
        self._run = run
        self.source = source
        self._rollback = tuple(rollback)
        self._first_update_line = first_update_line
        self.pure = pure

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
        token = _silence()  # For the whole call: the plan calls quiet forwards unwrapped.
        try:
            if not self._rollback:
                return self._run(*arrays)
            before = [variable._value for variable in self._rollback]
            try:
                return self._run(*arrays)
            except BaseException:
                for variable, value in zip(self._rollback, before):
                    variable._value = value
                raise
        finally:
            _restore(token)


_silence, _restore = quiet.silence, quiet.restore

# The code of every wrapper `quiet.quiet` makes (one for ufuncs, one for other forwards).
# A plan call silences NumPy once for all its ops, so it calls the wrapped forward itself:
# ~0.3 us less per op (a Python frame and two error-state switches), 11 ops in an MLP step.
_QUIET_WRAPPERS = frozenset({quiet.quiet(np.negative).__code__, quiet.quiet(len).__code__})


def _plan_form(forward):
    """The function a plan calls for `forward`: the forward a quiet wrapper wraps."""
    if getattr(forward, "__code__", None) in _QUIET_WRAPPERS:
        return forward.__wrapped__
    return forward


# -- kernels chosen for the traced shapes and dtypes -----------------------------------------------

class PlanKernel:
    """What a plan calls for one equation instead of its primitive's forward.

    `function(*inputs, *literals, **attrs)` must give the forward's result bit for bit for
    the equation's traced shapes and dtypes (a plan runs with NumPy's error reports off, so
    the kernel need not silence them). `elementwise`: it also takes `out=`, an array of the
    output's shape and dtype, and writes its result there (`_reusing_dead_buffers`).
    """

    __slots__ = ("function", "literals", "attrs", "elementwise")

    def __init__(self, function, literals=(), attrs=None, elementwise=False):
        self.function = function
        self.literals = tuple(literals)
        self.attrs = {} if attrs is None else dict(attrs)
        self.elementwise = elementwise


# What a chooser returns for an equation whose output is its first input itself (a Cast to
# the dtype the input has): the plan binds the input's name and calls nothing.
SAME_AS_INPUT = object()

# {primitive: choose(equation) -> PlanKernel | SAME_AS_INPUT | None}: facts the ops declare
# beside their primitives (`register_plan_kernel`), as `register_saved_result` does.
_PLAN_KERNELS = {}


def register_plan_kernel(primitive, choose):
    """Declares a cheaper call for some of `primitive`'s equations in a compiled plan.

    A forward must handle any shape and dtype, and its Python checks cost ~0.5-1 us a call:
    most of what a small op costs at a training step's batch sizes. A plan knows each
    equation's shapes and dtypes when it is compiled, so it can settle those checks once.
    `choose(equation)` reads the equation's inputs (`Value.shape`, `.dtype`) and attrs and
    returns a `PlanKernel`, `SAME_AS_INPUT`, or None for the forward as it is.
    """
    _PLAN_KERNELS[primitive] = choose


def traced_shape_and_dtype(atom):
    """(shape, dtype) that `atom` has whenever the plan runs, each None where unknown.

    A Value's are the traced ones; a constant's are its value's; a Variable keeps its dtype
    (its shape may change); a saved value's are not recorded.
    """
    if isinstance(atom, Value):
        return atom.shape, atom.dtype
    if isinstance(atom, Constant) and isinstance(atom.value, np.ndarray):
        return atom.value.shape, atom.value.dtype
    if isinstance(atom, VariableRead):
        return None, np.asarray(atom.variable._value).dtype
    return None, None


def _kernel(entry):
    """The `PlanKernel` (or `SAME_AS_INPUT`) a plan uses for `entry`; None: its forward."""
    choose = isinstance(entry, Equation) and _PLAN_KERNELS.get(entry.primitive)
    if not choose or entry.primitive.output_shape_from_data:
        return None  # (Such an op's plan line checks the shape the forward gave.)
    kernel = choose(entry)
    if kernel is SAME_AS_INPUT and (len(entry.outputs) != 1 or entry.scalar_result):
        return None
    return kernel


def _update(variable, forward, in_place, operand):
    """`variable._value = forward(variable._value, operand)`, written into the variable's
    array when nothing else holds it: the same numbers, without a new array each step
    (whose changing address makes steady training loops run unsteadily). An array that
    something else holds (a Tensor, a view, a NumPy alias) keeps its value.
    """
    if getrefcount(variable._value) == _SOLE_HOLDER:
        value = variable._value
        if value.base is None and value.flags.writeable:
            if value.ndim:
                in_place(value, operand, out=value)
                return
            # A metric's total or count, the step counter: a ufunc on 0-d arrays costs
            # ~0.5 us of NumPy overhead, Python numbers ~0.1 (see _EXACT_IN_PYTHON).
            python_form = _PYTHON_SCALAR_FORMS.get(in_place)
            dtype = value.dtype
            bounds = _EXACT_IN_PYTHON.get(dtype, _INEXACT)
            if (python_form is not None and bounds is not _INEXACT and operand.dtype is dtype
                    and not operand.ndim):
                result = python_form(value.item(), operand.item())
                if bounds is None or bounds[0] <= result <= bounds[1]:
                    value[()] = result
                    return
            # Other scalars, integers that wrap around. (NumPy's `out=` handling would cost
            # ~0.3 us more than this.)
            value[()] = forward(value, operand)
            return
    variable._value = np.asarray(forward(variable._value, operand))


# The in-place forms whose 0-d updates `_update` computes with Python numbers.
_PYTHON_SCALAR_FORMS = {np.add: operator.add, np.subtract: operator.sub}
_INEXACT = object()  # What `_EXACT_IN_PYTHON` gives for any other dtype.


def _integer_bounds(dtype):
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


# The dtypes for which Python numbers give NumPy's result bit for bit, with the range an
# integer result must lie in (None: floats). Integers: Python's are exact; outside the
# range NumPy's wrap, so `_update` leaves those to NumPy. Floats: a sum or difference of
# floats of at most 24 bits, computed in Python's 53 and rounded again to the dtype, is the
# correctly rounded one NumPy computes (Figueroa: 53 >= 2 * 24 + 2); float64 is Python's.
_EXACT_IN_PYTHON = {
    **{np.dtype(kind): None for kind in (np.float16, np.float32, np.float64)},
    **{np.dtype(kind): _integer_bounds(kind)
       for kind in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                    np.uint64)},
}


def _count_holders(variable):
    return getrefcount(variable._value)  # The same expression as in `_update`.


class _Holder:
    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value


# What `getrefcount(variable._value)` says when only the variable holds its array.
_SOLE_HOLDER = _count_holders(_Holder(np.zeros(1)))


class ShapeChanged(Exception):
    """A plan's op whose output shape comes from the data (an image decoder) gave another
    shape than when traced; the call runs eagerly instead (`Function.__call__`)."""

    def __init__(self, op_name, traced, received):
        super().__init__(f"{op_name} gave shape {tuple(received)}; the plan was traced with "
                         f"{traced}")


class _InPlaceUpdate:
    """`variable._value = producer(variable._value, operand)`, fused by `_updating_in_place`."""

    __slots__ = ("variable", "producer", "operand")

    def __init__(self, variable, producer, operand):
        self.variable = variable
        self.producer = producer
        self.operand = operand

    def operands(self):
        return [self.variable] + self.producer.operands()[1:]


# -- results that a forward saves anyway -----------------------------------------------------------

# {saving primitive: [(computed primitive, attrs_for_rank)]}: facts the ops declare
# (`register_saved_result`), as variable.py declares the in-place forms of assignments.
_SAVED_RESULTS = {}


def register_saved_result(saving, computed, attrs_for_rank):
    """Declares that what `saving`'s forward saves is, bit for bit, the output of
    `computed` on the same first input with attributes `attrs_for_rank(rank of that input)`.

    A plan that holds both then computes only `saving` (`_sharing_saved_results`).
    """
    _SAVED_RESULTS.setdefault(saving, []).append((computed, attrs_for_rank))


def _sharing_saved_results(body, output_names):
    """Drops each equation whose result an equation of the body saves anyway (see
    `register_saved_result`); its readers read the saved value instead.

    Only where every reader comes after the saving equation (the saved value exists by
    then) and the result is not an output of the plan. Sharing the array is safe: no
    equation writes into a saved value (`_reusing_dead_buffers` reuses only Values).
    """
    savers = {}  # (computed primitive, first input's name) -> [(index, Saved, attrs)]
    for index, entry in enumerate(body):
        if isinstance(entry, Equation) and entry.primitive in _SAVED_RESULTS:
            first = entry.inputs[0]
            if isinstance(first, Value):
                for computed, attrs_for_rank in _SAVED_RESULTS[entry.primitive]:
                    savers.setdefault((computed, first.name), []).append(
                        (index, entry.outputs[1], attrs_for_rank(len(first.shape))))
    if not savers:
        return body
    readers = {}
    for index, entry in enumerate(body):
        for name in _uses(entry):
            readers.setdefault(name, []).append(index)
    shared = {}  # Name of a result no longer computed -> the Saved atom holding it.
    dropped = set()
    for index, entry in enumerate(body):
        if not isinstance(entry, Equation) or len(entry.inputs) != 1:
            continue
        for saver_index, saved, attrs in savers.get((entry.primitive, entry.inputs[0].name), ()):
            name = entry.output.name
            if (entry.attrs == attrs and name not in output_names
                    and all(reader > saver_index for reader in readers.get(name, ()))):
                shared[name] = saved
                dropped.add(index)
                break
    return [_reading_shared(entry, shared) for index, entry in enumerate(body)
            if index not in dropped]


def _reading_shared(entry, shared):
    """`entry` reading `shared[name]` wherever it read the Value `name`."""
    if not shared or _uses(entry).isdisjoint(shared):
        return entry

    def swap(atom):
        return shared.get(atom.name, atom) if isinstance(atom, Value) else atom

    if isinstance(entry, Assignment):
        return Assignment(entry.variable, swap(entry.value))
    attrs = {key: swap(value) if isinstance(value, ATOMS) else value
             for key, value in entry.attrs.items()}
    return Equation(entry.primitive, [swap(atom) for atom in entry.inputs], attrs,
                    entry.outputs, entry.scalar_result, entry.scope)


# -- the passes ------------------------------------------------------------------------------------

def _updates_last(body):
    """Moves each equation that need not wait for a Variable update before the first update.

    Ops are free of side effects, so an op that reads no updated Variable, and no value
    computed from one, may run earlier; random ops keep their order among themselves.
    Returns (entries, index of the first entry that waits).
    """
    assigned = set()  # Variables updated so far.
    late = set()      # Values computed after an update, from its result.
    random_waits = False
    early, waiting = [], []
    for entry in body:
        uses = _uses(entry)
        random = isinstance(entry, Equation) and entry.primitive.stateful
        if (isinstance(entry, Assignment) or not assigned.isdisjoint(uses)
                or not late.isdisjoint(uses) or (random and random_waits)):
            waiting.append(entry)
            late.update(_targets(entry))
            if isinstance(entry, Assignment):
                assigned.add(entry.variable.name)
            random_waits = random_waits or random
        else:
            early.append(entry)
    return early + waiting, len(early)


def _infallible(entry):
    return not isinstance(entry, Equation) or entry.primitive.infallible


def _updating_in_place(body):
    """Turns each `tK = AssignXVariableOp(vN, x)` ... `vN := tK` pair into one
    `_InPlaceUpdate` at the assignment (`update(vN, ...)` in the source), which writes into
    vN's array when nothing else holds it (`_update`).

    The computation moves down to the assignment; vN cannot change in between, since only
    its own assignment does.
    """
    defined_at = {}
    readers = {}
    for index, entry in enumerate(body):
        for name in _targets(entry):
            defined_at.setdefault(name, index)
        for name in _uses(entry):
            readers.setdefault(name, []).append(index)
    dropped = set()
    replaced = {}
    for index, entry in enumerate(body):
        if not isinstance(entry, Assignment) or entry.value.name not in defined_at:
            continue  # Not an assignment, or one of an argument or a constant.
        producer = body[defined_at[entry.value.name]]
        if (producer.primitive not in IN_PLACE_FORMS or producer.inputs[0] is not entry.variable
                or readers[entry.value.name] != [index]):
            continue  # Something else reads the result; keep the plain assignment.
        replaced[index] = _InPlaceUpdate(entry.variable, producer, producer.inputs[1])
        dropped.add(defined_at[entry.value.name])
    return [replaced.get(index, entry) for index, entry in enumerate(body)
            if index not in dropped]


def _reusing_dead_buffers(body, held, kernels):
    """Which input each elementwise equation may write its result into (`out=`), as
    in-place NumPy code would: no new array, and memory that is still in the cache.

    Only arrays the plan made and nobody else holds qualify: not arguments, Variables'
    values, constants, views, plan outputs or values assigned to a Variable. `kernels`:
    {index: the equation's `PlanKernel`}, which says whether it takes `out=`. Returns
    {index of the equation: the input Value}.
    """
    last_use = _last_uses(body)
    reuse = {}
    for index, entry in enumerate(body):
        kernel = kernels.get(index)
        if kernel is None:
            if not _elementwise(entry):
                continue
        elif not (isinstance(kernel, PlanKernel) and kernel.elementwise):
            continue
        out = entry.output
        for atom in entry.inputs:
            if (isinstance(atom, Value) and atom.exclusive and atom.shape == out.shape
                    and atom.dtype == out.dtype and last_use.get(atom.name) == index
                    and atom.name not in held):
                reuse[index] = atom
                break
    return reuse


def _elementwise(entry):
    # Quiet ufuncs (Exp, RealDiv, Sqrt...) too: the plan calls the ufunc itself.
    return (isinstance(entry, Equation)
            and isinstance(_plan_form(entry.primitive.forward), np.ufunc)
            and not entry.attrs and not entry.scalar_result)


# -- emitting the source ---------------------------------------------------------------------------

def _emit(graph):
    """(source, namespace, the source line of the first in-place update or None) of a
    pruned graph."""
    output_names = {base_name(atom) for atom in graph.flat_outputs() if isinstance(atom, ATOMS)}
    body, first_update = _updates_last(_sharing_saved_results(graph.body, output_names))
    in_place = all(_infallible(entry) for entry in body[first_update:])
    if in_place:
        body = _updating_in_place(body)
    held = set(output_names)
    for entry in body:
        if not isinstance(entry, Equation):
            held.update(_uses(entry))
    kernels = {index: _kernel(entry) for index, entry in enumerate(body)}
    kernels = {index: kernel for index, kernel in kernels.items() if kernel is not None}
    reuse = _reusing_dead_buffers(body, held, kernels)
    namespace = {"asarray": np.asarray, "Tensor": Tensor, "update": _update}
    writer = _SourceWriter(namespace)
    lines = []
    last_use = _last_uses(body)
    for index, entry in enumerate(body):
        for name in _targets(entry):
            last_use.setdefault(name, index)  # Defined but unused: free right away.
    first_update_line = None
    for index, entry in enumerate(body):
        if not isinstance(entry, Equation) and first_update_line is None:
            first_update_line = len(lines) + 2  # Counting the `def` line as line 1.
        lines += writer.entry(entry, reuse.get(index), kernels.get(index))
        dead = sorted(name for name in _uses(entry) | set(_targets(entry))
                      if last_use.get(name) == index and name not in output_names
                      and name.startswith("t"))  # Plan values (not arguments or bound names).
        if dead:
            lines.append(f"del {', '.join(dead)}")
    lines.append(f"return {writer.structure(graph.outputs)}")
    header = f"def {graph.name}({', '.join(a.name for a in graph.arguments)}):"
    source = "\n".join([header] + ["    " + line for line in lines]) + "\n"
    if not (in_place and first_update_line is not None):
        first_update_line = None
    return source, namespace, first_update_line


class _SourceWriter:
    """Writes equations as source, binding forwards, Variables and constants by name."""

    def __init__(self, namespace):
        self.namespace = namespace
        self._attribute_count = 0

    def entry(self, entry, reuse=None, kernel=None):
        if kernel is SAME_AS_INPUT:
            return [f"{entry.output.name} = {self.operand(entry.inputs[0])}"]
        if kernel is not None:
            return self._kernel_call(entry, reuse, kernel)
        if isinstance(entry, Assignment):
            self._bind(entry.variable)
            return [f"{entry.variable.name}._value = {self.operand(entry.value)}"]
        if isinstance(entry, _InPlaceUpdate):
            name = entry.producer.primitive.name
            self.namespace[f"i_{name}"] = IN_PLACE_FORMS[entry.producer.primitive]
            self._bind(entry.variable)
            return [f"update({entry.variable.name}, {self._forward(entry.producer)}, "
                    f"i_{name}, {self.operand(entry.operand)})"]
        arguments = [self.operand(atom) for atom in entry.inputs]
        arguments += [f"{key}={self.attribute(value)}" for key, value in entry.attrs.items()]
        if reuse is not None:
            arguments.append(f"out={reuse.name}")
        targets = ", ".join(target.name for target in entry.outputs)
        lines = [f"{targets} = {self._forward(entry)}({', '.join(arguments)})"]
        if entry.scalar_result:  # As Primitive.__call__: NumPy scalars become 0-d arrays.
            lines.append(f"{entry.output.name} = asarray({entry.output.name})")
        if entry.primitive.output_shape_from_data:
            # What the Python code decided from the traced shape holds for this shape only.
            output = entry.output
            self.namespace["ShapeChanged"] = ShapeChanged
            lines.append(f"if {output.name}.shape != {output.shape!r}: "
                         f"raise ShapeChanged({entry.primitive.name!r}, {output.shape!r}, "
                         f"{output.name}.shape)")
        return lines

    def _kernel_call(self, entry, reuse, kernel):
        arguments = [self.operand(atom) for atom in entry.inputs]
        arguments += [self.attribute(value) for value in kernel.literals]
        arguments += [f"{key}={self.attribute(value)}" for key, value in kernel.attrs.items()]
        if reuse is not None:
            arguments.append(f"out={reuse.name}")
        name = self._name_for(f"f_{entry.primitive.name}", kernel.function)
        targets = ", ".join(target.name for target in entry.outputs)
        lines = [f"{targets} = {name}({', '.join(arguments)})"]
        if entry.scalar_result:
            lines.append(f"{entry.output.name} = asarray({entry.output.name})")
        return lines

    def operand(self, atom):
        if isinstance(atom, VariableRead):
            self._bind(atom)
            return f"{atom.name}._value"  # Read when the plan gets here, not when traced.
        if isinstance(atom, Constant):
            self._bind(atom)
        return atom.name

    def attribute(self, value):
        if isinstance(value, ATOMS):
            return self.operand(value)
        if is_literal(value):
            return repr(value)
        name = f"b{self._attribute_count}"
        self._attribute_count += 1
        self.namespace[name] = value
        return name

    def structure(self, structure):
        kind = type(structure)
        if kind is dict:
            return "{" + ", ".join(f"{self._key(key)}: {self.structure(item)}"
                                   for key, item in structure.items()) + "}"
        if kind is list:
            return "[" + ", ".join(self.structure(item) for item in structure) + "]"
        if kind is tuple:
            items = [self.structure(item) for item in structure]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # A namedtuple.
            items = ", ".join(self.structure(item) for item in structure)
            return f"{self.attribute(kind)}({items})"
        if isinstance(structure, (Value, Saved)):
            return f"Tensor({structure.name})"
        if isinstance(structure, ATOMS):  # A Variable or a constant: returned as it is.
            self._bind(structure)
            return structure.name
        return "None"

    def _key(self, key):
        return repr(key) if is_literal(key) else self.attribute(key)

    def _bind(self, atom):
        self.namespace[atom.name] = (atom.variable if isinstance(atom, VariableRead)
                                     else atom.value)

    def _forward(self, equation):
        return self._name_for(f"f_{equation.primitive.name}",
                              _plan_form(equation.primitive.forward))

    def _name_for(self, name, function):
        """`name` bound to `function`, or `name_1`, `name_2`... where another function of the
        same primitive (a kernel or its forward) holds `name` already."""
        candidate, count = name, 0
        while self.namespace.get(candidate, function) is not function:
            count += 1
            candidate = f"{name}_{count}"
        self.namespace[candidate] = function
        return candidate


# -- names -----------------------------------------------------------------------------------------

def _uses(entry):
    return {base_name(atom) for atom in entry.operands()}


def _targets(entry):
    return [target.name for target in entry.outputs] if isinstance(entry, Equation) else []


def _last_uses(body):
    """Plan value -> the index of the last entry that reads it."""
    last_use = {}
    for index, entry in enumerate(body):
        for name in _uses(entry):
            last_use[name] = index
    return last_use
