"""`tf.function`: runs a Python function as a compiled plan once its trace is trusted.

The first calls with a given signature (argument shapes and dtypes, other arguments by
value) run the function eagerly while a `tracing.Trace` records it. When two such traces
agree line for line and constant for constant, their plan is compiled, and later calls
with that signature run the plan: the same array calls in the same order, so the same
results bit for bit, without the per-op Python of eager execution.

What stays eager, as with `tf.config.run_functions_eagerly(True)` in TF:

  * a call made while a GradientTape records (gradients through the function need its
    ops on the tape) or while another function is being traced (in the same thread it
    becomes part of that trace; other threads' ops are never recorded into it);
  * a signature whose traces disagree (the Python code computed something from the data
    outside the ops) or whose Python code read a traced value (`float(t)`, `if t:`);
  * arguments that are not hashable and not tensors.

As in TF, Python side effects (printing, appending to a list) happen only while the
function is traced, here the first two calls per signature.
"""

import functools
import threading
import weakref

import numpy as np

from numpyflow.framework import nest, trace_state, tracing
from numpyflow.framework.errors import OpError
from numpyflow.framework.primitive import open_tapes
from numpyflow.framework import plan as plan_module
from numpyflow.framework import tape as tape_module
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.variable import Variable

# A signature whose traces still disagree after this many calls stays eager.
_MAX_TRACES = 4


class _ExecutionMode:
    """`tf.config.run_functions_eagerly`: a process-wide switch in TF, so one here."""

    run_eagerly = False


_mode = _ExecutionMode()


class _FunctionBodies(threading.local):
    """How many Function bodies this thread runs as Python outside a trace (a tape records,
    the signature stays eager): `tf.executing_eagerly()` is False inside them, as in TF."""

    depth = 0


_bodies = _FunctionBodies()


def run_functions_eagerly(run_eagerly):
    """Makes every Function run its Python code (True) or trace and compile (False)."""
    _mode.run_eagerly = bool(run_eagerly)


def functions_run_eagerly():
    """Whether every Function runs its Python code (`run_functions_eagerly(True)`)."""
    return _mode.run_eagerly


class Function:
    """A Python function compiled into a plan per input signature (see module doc).

    Made by `tf.function`; callable like the function it wraps. Pickling or
    `copy.deepcopy` gives a Function without plans, which traces its own.
    """

    def __init__(self, python_function, input_signature=None):
        functools.update_wrapper(self, python_function)
        if not hasattr(self, "__name__"):  # A callable object, a functools.partial.
            self.__name__ = type(python_function).__name__
        self.python_function = python_function
        self.input_signature = input_signature
        self._signatures = {}   # Signature key -> _Signature.
        self._methods = weakref.WeakKeyDictionary()
        self._tracing_count = 0
        self._bound_to = None  # For a method: (a weak ref to the instance, the attribute name).

    def __reduce__(self):
        # Pickling or `copy.deepcopy` gives a Function with no plans: plans are generated
        # code bound to the Variables they were traced with (a copy sharing them would
        # update the original's weights), so the copy traces its own anew.
        if self._bound_to is not None:
            instance_ref, name = self._bound_to
            return getattr, (instance_ref(), name)
        return Function, (self.python_function, self.input_signature)

    def __get__(self, instance, owner):
        # `@tf.function` on a method: one Function (and plan cache) per instance, holding
        # the instance weakly so the cache does not keep it alive.
        if instance is None:
            return self
        try:
            bound = self._methods.get(instance)
        except TypeError:  # Unhashable or not weak-referenceable: run it eagerly.
            return functools.partial(self.python_function, instance)
        if bound is None:
            instance_ref = weakref.ref(instance)
            python_function = self.python_function

            @functools.wraps(python_function)
            def method(*args, **kwargs):
                return python_function(instance_ref(), *args, **kwargs)

            bound = self._methods[instance] = Function(method, self.input_signature)
            bound._bound_to = (instance_ref, python_function.__name__)
        return bound

    def __call__(self, *args, **kwargs):
        if self.input_signature is not None:
            args, kwargs = self._bind_signature(args, kwargs)
        if _mode.run_eagerly:
            return self.python_function(*args, **kwargs)
        # `open_tapes` lists every thread's open tapes: when it is empty (training steps
        # under fit), no tape can record here, and is_recording()'s walk (~0.3 us) is skipped.
        if trace_state.current is not None or (open_tapes and tape_module.is_recording()):
            return self._run_body(args, kwargs)
        arrays = []
        key = _call_key(args, kwargs, arrays)
        signature = self._signatures.get(key) if key is not None else None
        if signature is not None and signature.plan is not None:
            # The plan computes inf and NaN silently, as TF's kernels do (it sets NumPy's
            # error state itself, see plan.py).
            try:
                return signature.plan(arrays)
            except Exception as error:
                if signature.plan.failed_among_updates(error):
                    raise  # Running it again would repeat the updates already made.
                if isinstance(error, OpError):
                    raise  # Already the op's own message (a failed tf.debugging assertion).
                # Running it again repeats any tf.print before the failure: an error path.
                # No variable has changed (or the plan put them back): the eager run
                # raises the op's own error message (bad labels, say).
                return self._run_body(nest.map_structure(_as_tensor, args),
                                      nest.map_structure(_as_tensor, kwargs))
        args, kwargs = nest.map_structure(_as_tensor, (args, kwargs))
        if key is None:
            return self._run_body(args, kwargs)
        if signature is None:
            signature = self._signatures[key] = _Signature(args, kwargs)
        if signature.eager_reason is not None:
            return self._run_body(args, kwargs)
        return self._trace(signature, args, kwargs)

    def _bind_signature(self, args, kwargs):
        """The arguments as TF binds them to `input_signature`: keyword arguments in their
        parameter's place, each value a tensor of its spec's dtype (Python values and NumPy
        arrays are converted), or TF's TypeError for a wrong count, dtype or shape."""
        from numpyflow.framework.tensor import convert_to_tensor
        from numpyflow.framework.tensor_spec import TensorSpec
        specs = self.input_signature
        if kwargs:
            import inspect
            parameters = list(inspect.signature(self.python_function).parameters)
            if self._bound_to is not None:
                parameters = parameters[1:]  # `self`, which the bound method passes itself.
            args = list(args)
            for name in parameters[len(args):len(specs)]:
                if name not in kwargs:
                    break
                args.append(kwargs.pop(name))
            if kwargs:
                self._binding_error(f"unexpected keyword arguments {sorted(kwargs)}", args, kwargs)
        if len(args) > len(specs):
            self._binding_error("too many positional arguments", args, kwargs)
        if len(args) < len(specs):
            self._binding_error(f"missing a required argument for {specs[len(args)]}", args,
                                kwargs)

        def conform(value, spec):
            if not isinstance(spec, TensorSpec):
                return value
            if not isinstance(value, Tensor):
                try:
                    return convert_to_tensor(value, dtype=spec.dtype)
                except (TypeError, ValueError) as error:
                    self._binding_error(f"Can not convert {value!r} to {spec}: {error}",
                                        args, kwargs)
            if value.dtype != spec.dtype or not spec.shape.is_compatible_with(value.shape):
                self._binding_error(f"Can not cast {TensorSpec.from_tensor(value)} to {spec}",
                                    args, kwargs)
            return value

        bound = []
        for value, spec in zip(args, specs):
            if isinstance(spec, TensorSpec):  # A list is one tensor's value here, as in TF.
                bound.append(conform(value, spec))
                continue
            values, spec_leaves = nest.flatten(value), nest.flatten(spec)
            if len(values) != len(spec_leaves):
                self._binding_error(f"{value!r} is not structured like {spec}", args, kwargs)
            bound.append(nest.pack_sequence_as(
                spec, [conform(v, s) for v, s in zip(values, spec_leaves)]))
        return tuple(bound), {}

    def _binding_error(self, reason, args, kwargs):
        raise TypeError(f"Binding inputs to tf.function {self.__name__!r} failed due to "
                        f"`{reason}`. Received args: {tuple(args)!r} and kwargs: {kwargs!r} for "
                        f"signature: {self.input_signature}.")

    def _run_body(self, args, kwargs):
        """Runs the Python function as the function's body, without tracing it."""
        _bodies.depth += 1
        try:
            return self.python_function(*args, **kwargs)
        finally:
            _bodies.depth -= 1

    def _trace(self, signature, args, kwargs):
        trace = tracing.Trace(_identifier(self.__name__))
        for leaf in nest.flatten((args, kwargs)):
            if _is_argument(leaf):
                trace.add_argument(leaf)
        with trace.recording() as recording:
            outputs = self.python_function(*args, **kwargs)
            if not recording:  # Another thread is tracing: this call simply ran eagerly.
                return outputs
            trace.set_outputs(outputs)
        self._tracing_count += 1
        signature.learn(trace)
        return outputs

    def get_concrete_function(self, *args, **kwargs):
        """The function specialised to one input signature (`tf.function`'s API).

        Call it with `tf.TensorSpec`s (or tensors, whose specs are taken), or with no
        arguments when the function has an `input_signature`. numpyflow compiles plans per
        signature on its own; a `ConcreteFunction` is what exporters take
        (`tf.lite.TFLiteConverter.from_concrete_functions`).

        >>> import numpyflow as tf
        >>> @tf.function(input_signature=[tf.TensorSpec([None, 3])])
        ... def total(x):
        ...     return tf.reduce_sum(x, axis=1)
        >>> total.get_concrete_function().structured_input_signature
        ((TensorSpec(shape=(None, 3), dtype=tf.float32, name=None),), {})
        """
        from numpyflow.framework.tensor_spec import TensorSpec
        if kwargs:
            raise NotImplementedError(
                f"get_concrete_function of {self.__name__!r}: keyword arguments are not "
                f"supported; pass the TensorSpecs positionally. Received: {sorted(kwargs)}")
        if args:
            signature = []
            for arg in args:
                if isinstance(arg, TensorSpec):
                    signature.append(arg)
                elif isinstance(arg, (Tensor, np.ndarray)):
                    signature.append(TensorSpec.from_tensor(_as_tensor(arg)))
                else:
                    raise TypeError(f"get_concrete_function of {self.__name__!r}: expected "
                                    f"tf.TensorSpec or tensors. Received: {arg!r}")
        elif self.input_signature is not None:
            signature = list(self.input_signature)
        else:
            raise ValueError(f"get_concrete_function of {self.__name__!r} needs the input "
                             f"TensorSpecs: pass them, or give tf.function an input_signature.")
        return ConcreteFunction(self, signature)

    def experimental_get_tracing_count(self):
        """How many times the Python function ran to be traced."""
        return self._tracing_count

    def runs_pure_plan(self, *args, **kwargs):
        """Whether a call with these arguments, made now from this thread, would run a
        compiled plan that assigns no Variable and draws no random numbers.

        Calls of such a plan give the same results in any order and on any thread: `predict`
        spreads its batches over the cores when this holds.

        >>> import numpyflow as tf
        >>> double = tf.function(lambda x: x * 2.)
        >>> x = tf.ones((2,))
        >>> before = double.runs_pure_plan(x)
        >>> _, _ = double(x), double(x)  # Two traces that agree: compiled.
        >>> before, double.runs_pure_plan(x)
        (False, True)
        """
        if trace_state.current is not None or (open_tapes and tape_module.is_recording()):
            return False
        key = _call_key(args, kwargs, [])
        signature = self._signatures.get(key) if key is not None else None
        return signature is not None and signature.plan is not None and signature.plan.pure

    def plan_sources(self):
        """The Python source of each compiled plan (numpyflow's view of TF's graphs)."""
        return [s.plan.source for s in self._signatures.values() if s.plan is not None]

    def eager_reasons(self):
        """Why some signatures run eagerly, if any do."""
        return [s.eager_reason for s in self._signatures.values() if s.eager_reason is not None]


class ConcreteFunction:
    """A `tf.function` with a fixed input signature (`Function.get_concrete_function`).

    Calling it calls the function. Exporters trace `python_function` on inputs of the
    `input_signature`.
    """

    def __init__(self, function, input_signature):
        self.function = function
        self.input_signature = list(input_signature)
        self.name = function.__name__

    @property
    def python_function(self):
        return self.function.python_function

    @property
    def structured_input_signature(self):
        return tuple(self.input_signature), {}

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __repr__(self):
        return f"<ConcreteFunction {self.name} signature={self.input_signature}>"


class _Signature:
    """What one input signature has learned: its last trace, then its plan (or why not)."""

    __slots__ = ("plan", "eager_reason", "_last_trace", "_traces", "_pinned")

    def __init__(self, args, kwargs):
        self.plan = None
        self.eager_reason = None
        self._last_trace = None
        self._traces = 0
        # Variables in the key are keyed by id: keep them alive so no other takes their id.
        self._pinned = [leaf for leaf in nest.flatten((args, kwargs)) if isinstance(leaf, Variable)]

    def learn(self, trace):
        self._traces += 1
        if trace.untraceable is not None:
            self.eager_reason = trace.untraceable
            return
        difference = "first trace" if self._last_trace is None else self._last_trace.difference(trace)
        if difference is None:
            self.plan = plan_module.compile_plan(trace.graph, trace.assigned)
            self._last_trace = None
        elif self._traces >= _MAX_TRACES:
            self.eager_reason = (f"{self._traces} traces differed (last: {difference}): the "
                                 f"Python code computes something from the data outside "
                                 f"numpyflow ops")
            self._last_trace = None
        else:
            self._last_trace = trace


def inside_function():
    """Whether the calling code runs while a function is traced (`tf.inside_function`).

    Code that only matters to the traced graph checks it, as Keras layers do to name the
    operations they record (`tf.name_scope`).

    >>> import numpyflow as tf
    >>> tf.inside_function()
    False
    """
    return trace_state.current is not None


def executing_eagerly():
    """Whether ops run one by one now (`tf.executing_eagerly`): False inside a
    `tf.function`'s body (while it is traced, or run as Python because a tape records),
    True everywhere under `tf.config.run_functions_eagerly(True)`, as in TF.

    >>> import numpyflow as tf
    >>> tf.executing_eagerly()
    True
    """
    return _mode.run_eagerly or (trace_state.current is None and not _bodies.depth)


def _as_tensor(value):
    # As in TF, NumPy arrays passed to a function become tensors (and plan arguments).
    return Tensor(value) if type(value) is np.ndarray else value


def _is_argument(leaf):
    return isinstance(leaf, Tensor) and not isinstance(leaf, Variable)


def _call_key(args, kwargs, arrays):
    """The signature key of a call `(*args, **kwargs)` (see `_signature_key`).

    A call without keyword arguments, the usual one, is keyed by `args` alone: one level
    of structure less to walk on every call. Calls with keyword arguments get a key of
    another form, so that `f(a, b)` and `f(*a, **b)` never share a plan.
    """
    if not kwargs:
        return _signature_key(args, arrays)
    args_key = _signature_key(args, arrays)
    kwargs_key = _signature_key(kwargs, arrays)
    if args_key is None or kwargs_key is None:
        return None
    return ("keywords", args_key, kwargs_key)


def _signature_key(structure, arrays):
    """A hashable key: tensors by shape and dtype, Variables by identity, the rest by value.

    Appends the arrays of the tensors (the plan's arguments) to `arrays`, in
    `nest.flatten` order. None when some part is neither a tensor nor hashable.
    """
    kind = type(structure)
    if kind is np.ndarray:
        arrays.append(structure)
        return (structure.shape, structure.dtype)
    if kind is tuple or kind is list:  # Loops, not generators: this runs on every call.
        keys = [kind]
        for item in structure:
            if type(item) is np.ndarray:  # The usual leaf (a batch's arrays): no call.
                arrays.append(item)
                keys.append((item.shape, item.dtype))
                continue
            key = _signature_key(item, arrays)
            if key is None:
                return None
            keys.append(key)
        return tuple(keys)
    if kind is dict and not structure:
        return kind
    if isinstance(structure, Tensor):
        if isinstance(structure, Variable):
            return ("variable", id(structure))
        arrays.append(structure._value)
        return (structure._value.shape, structure._value.dtype)
    if isinstance(structure, (dict, list, tuple)):
        keys = sorted(structure) if isinstance(structure, dict) else range(len(structure))
        items = tuple((key, _signature_key(structure[key], arrays)) for key in keys)
        return None if any(k is None for _, k in items) else (kind, items)
    try:
        hash(structure)
    except TypeError:
        return None
    return ("value", kind, structure)


def _identifier(name):
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name)
    return cleaned if cleaned.isidentifier() else f"plan_{cleaned}"


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """Compiles `func` into a plan of array calls per input signature (see module doc).

    Usable as `@tf.function` or `@tf.function(...)`; TF's other arguments are accepted
    and do not change anything here.

    >>> import numpyflow as tf
    >>> @tf.function
    ... def double(x):
    ...     return x * 2.
    >>> float(double(tf.constant(3.)))
    6.0
    """
    def decorate(python_function):
        return Function(python_function, input_signature)

    return decorate if func is None else decorate(func)
