"""What the exporters translate: a model's inference computation as a frozen graph.

`trace_for_export(model)` runs the model once on example inputs (`training=False`) while
`tracing` records it, then freezes the graph (`graph.frozen`: weights become constants,
BatchNormalization's statistics fold into one scale and one shift). A second trace at
another batch size tells which dimensions and attributes follow the batch, so exported
models keep a dynamic batch (`-1` in TFLite's shape signature, a `dim_param` in ONNX).

    >>> import numpyflow as tf
    >>> from numpyflow.export.model_graph import trace_for_export
    >>> model = tf.keras.Sequential([tf.keras.Input((4,), name="features"),
    ...                              tf.keras.layers.Dense(2)])
    >>> exported = trace_for_export(model)
    >>> [eq.primitive.name for eq in exported.graph.equations]
    ['MatMul', 'BiasAdd']
    >>> exported.inputs[0][0], exported.dynamic_dims[exported.graph.equations[0].output.name]
    ('features', {0})
"""

import numpy as np

from numpyflow.framework import errors, tracing
from numpyflow.framework.graph import ATOMS, Constant, Equation, Value, frozen

# The batch sizes of the two traces: distinct, and neither 1, which would broadcast.
_BATCH, _OTHER_BATCH = 2, 3
# The initial-state inputs of the fused recurrences: the exporters' recurrence rules make
# zeros of the runtime batch for them (and refuse any other batch-sized constant there).
_REMADE_STATES = {"SimpleRNNSequence": (1,), "GRUSequence": (1,), "LSTMSequence": (1, 2)}


class ExportGraph:
    """A frozen inference graph with the names and dynamic dimensions of its interface.

    Attributes:
      graph: The frozen, pruned `graph.Graph`, traced at batch size 2 (when the batch is
        dynamic) or at the signature's sizes.
      inputs: [(name, Value)]: the model's input names and the graph's argument Values.
      outputs: [(name, atom)]: the model's output names and the atoms they come from.
      dynamic_dims: {value name: set of axes whose size follows the batch size}, for the
        arguments and every equation output (empty sets where none does).
      dynamic_attrs: {(index in graph.body, attribute name)} of attributes that changed
        with the batch size (a Reshape's target shape, say).
      dynamic_constants: {constant name: axes whose size follows the batch size}, for
        constants the Python code made from the batch size (Keras's zero initial states
        of a recurrent layer, `tf.zeros((tf.shape(x)[0], n))`): an exporter must make them
        at run time or refuse them.
      name: The model's (or function's) name.

    Input and output names are distinct (a repeated name gets "_1", "_2", ...).
    """

    def __init__(self, graph, inputs, outputs, dynamic_dims, dynamic_attrs, name,
                 dynamic_constants=None):
        self.graph = graph
        self.inputs = inputs
        self.outputs = outputs
        self.dynamic_dims = dynamic_dims
        self.dynamic_attrs = dynamic_attrs
        self.dynamic_constants = dynamic_constants or {}
        self.name = name

    @staticmethod
    def scope_of(equation):
        """The Keras layer path that computed `equation` ("sequential/dense"), or ""."""
        return equation.scope

    def batch_sized_constants(self, equation):
        """The constants `equation` reads that were made from the traced batch size
        (`dynamic_constants`), other than a recurrence's initial states, which the exporters
        remake at run time: an exporter must refuse them, or the file would keep the traced
        batch size."""
        remade = _REMADE_STATES.get(equation.primitive.name, ())
        return [atom for index, atom in enumerate(equation.operands())
                if isinstance(atom, Constant) and atom.name in self.dynamic_constants
                and index not in remade]

    def batch_sized_constant_error(self, equation):
        """Why `equation` cannot be exported (for `fail`), or None."""
        constants = self.batch_sized_constants(equation)
        if not constants:
            return None
        return (f"it reads {constants[0].name}, a constant of the traced batch size "
                f"{np.shape(constants[0].value)} (made from the batch size in Python, as "
                f"tf.ones((x.shape[0], n)) does), which would keep that size in the file; "
                f"export with an input_signature that fixes the batch size")

    def describe(self, equation):
        """`equation` for an error message: its primitive and the layer it came from."""
        where = f" in layer '{equation.scope}'" if equation.scope else ""
        return f"operation {equation.primitive.name!r}{where}"


def trace_for_export(target, input_signature=None, format_name="export"):
    """Traces a built Keras model or a function for export (see module doc).

    Args:
      target: A built Keras model (Sequential, functional or subclassed after a call), a
        `tf.function` with an `input_signature`, a `ConcreteFunction`
        (`get_concrete_function`), or a Python function of tensors.
      input_signature: Optional list of `tf.TensorSpec`s (one per input; nested structures
        are not supported). The batch may be None; other dimensions must be known.
      format_name: For error messages ("TFLite", "ONNX").

    Returns:
      An `ExportGraph`.

    Raises:
      ValueError: for an unbuilt model, unknown non-batch dimensions, a computation that
        changes with the batch size in its structure, Python code that reads traced
        values (a Lambda that calls NumPy, say), or an op that fails on the example inputs
        (random normal floats, zeros for integer and bool inputs).
    """
    call, specs, input_names, output_names, name = _interface(target, input_signature,
                                                               format_name)
    batch_dynamic = any(spec[0] and spec[0][0] is None for spec in specs)
    graph = _frozen_trace(call, specs, _BATCH, name, format_name)
    dynamic_dims = {value.name: set() for value in _values(graph)}
    dynamic_attrs = set()
    dynamic_constants = {}
    if batch_dynamic:
        other = _frozen_trace(call, specs, _OTHER_BATCH, name, format_name)
        _compare(graph, other, dynamic_dims, dynamic_attrs, dynamic_constants, format_name, name)
    outputs = graph.flat_outputs()
    if not all(isinstance(atom, ATOMS) for atom in outputs):
        raise ValueError(f"Cannot export {name!r} to {format_name}: it returns something other "
                         f"than tensors ({graph.outputs!r}).")
    if isinstance(graph.outputs, dict):
        # The keys name the values, in flat_outputs' (sorted-key) order; a Keras model's
        # output_names list the same keys in insertion order, which would put each name
        # on another output.
        output_names = [str(key) for key in sorted(graph.outputs)]
    if output_names is None or len(output_names) != len(outputs):
        output_names = [f"output_{i}" for i in range(len(outputs))]
    names = _distinct(list(input_names) + list(output_names))
    input_names, output_names = names[:len(input_names)], names[len(input_names):]
    return ExportGraph(graph, list(zip(input_names, graph.arguments)),
                       list(zip(output_names, outputs)), dynamic_dims, dynamic_attrs, name,
                       dynamic_constants)


def _distinct(names):
    """`names` with repeats renamed "name_1", "name_2", ... (never to a name in use)."""
    taken = set(names)
    seen = set()
    result = []
    for name in names:
        if name in seen:
            suffix = 1
            while f"{name}_{suffix}" in taken:
                suffix += 1
            name = f"{name}_{suffix}"
            taken.add(name)
        seen.add(name)
        result.append(name)
    return result


def _interface(target, input_signature, format_name):
    """(call, [(shape, dtype)], input names, output names or None, name)."""
    from numpyflow.framework.function import ConcreteFunction, Function
    name = getattr(target, "name", None) or getattr(target, "__name__", "function")
    if hasattr(target, "get_config") and hasattr(target, "layers"):  # A Keras model.
        if not target.built:
            raise ValueError(f"Cannot export model {name!r} to {format_name}: it has not been "
                             f"built. Call it on data, or start it with a keras.Input, first.")
        _check_layers(target, format_name)
        specs, input_names = _model_specs(target, input_signature, format_name)
        output_names = _model_output_names(target)

        def call(*tensors):
            inputs = tensors[0] if len(tensors) == 1 else list(tensors)
            return target(inputs, training=False)
        return call, specs, input_names, output_names, name
    if isinstance(target, (Function, ConcreteFunction)):
        input_signature = input_signature or target.input_signature
        call = target.python_function
    elif callable(target):
        call = target
    else:
        raise TypeError(f"Cannot export {target!r} to {format_name}: expected a Keras model or "
                        f"a tf.function.")
    if not input_signature:
        raise ValueError(f"Cannot export function {name!r} to {format_name}: it needs an "
                         f"input_signature (a list of tf.TensorSpec), e.g. "
                         f"@tf.function(input_signature=[tf.TensorSpec([None, 784])]).")
    specs, input_names = _signature_specs(input_signature, name, format_name)
    return call, specs, _argument_names(call, input_signature, input_names), None, name


def _argument_names(call, input_signature, names):
    """A function's input names as TF gives them: the spec's name, else the argument's."""
    import inspect
    try:
        parameters = list(inspect.signature(call).parameters)
    except (TypeError, ValueError):
        return names
    return [spec.name or (parameters[i] if i < len(parameters) else names[i])
            for i, spec in enumerate(input_signature)]


def _model_output_names(model):
    """Keras's output names: dict keys, else the output layers' names (None if unknown)."""
    names = getattr(model, "output_names", None)
    if names:
        return list(names)
    outputs = getattr(model, "outputs", None)
    if outputs:
        return [x._keras_history[0].name for x in outputs]
    return None


def _signature_specs(input_signature, name, format_name):
    """[(shape, dtype)] and names of a flat list of TensorSpecs."""
    from numpyflow.framework.tensor_spec import TensorSpec
    if not isinstance(input_signature, (list, tuple)):
        input_signature = [input_signature]
    specs = []
    for i, spec in enumerate(input_signature):
        if not isinstance(spec, TensorSpec) or spec.shape.rank is None:
            raise TypeError(f"Cannot export {name!r} to {format_name}: input_signature must be a "
                            f"flat list of tf.TensorSpec of known rank. Received: {spec!r} at "
                            f"position {i}.")
        specs.append(_checked_shape(tuple(spec.shape.as_list()), spec.dtype.as_numpy_dtype,
                                    f"input {i} of {name!r}", format_name))
    names = [spec.name or f"input_{i}" for i, spec in enumerate(input_signature)]
    return specs, names


def _model_specs(model, input_signature, format_name):
    inputs = getattr(model, "inputs", None)
    if input_signature is not None:
        specs, names = _signature_specs(input_signature, model.name, format_name)
        if inputs and len(specs) != len(inputs):
            expected = [x._keras_history[0].name for x in inputs]
            raise ValueError(f"Cannot export model {model.name!r} to {format_name}: "
                             f"input_signature has {len(specs)} specs, but the model takes "
                             f"{len(inputs)} input{'s' if len(inputs) != 1 else ''} "
                             f"({expected}).")
        return specs, names
    if inputs:
        specs = [_checked_shape(tuple(x.shape), np.dtype(getattr(x.dtype, "as_numpy_dtype", x.dtype)),
                                f"input {x._keras_history[0].name!r}", format_name)
                 for x in inputs]
        return specs, [x._keras_history[0].name for x in inputs]
    shapes = getattr(model, "_build_shapes", None)
    if shapes is None:
        raise ValueError(f"Cannot export model {model.name!r} to {format_name}: its input shape "
                         f"is unknown. Call the model on data once, or pass input_signature.")
    if isinstance(shapes, dict):
        # The exporters call the model on a list of tensors, one per input.
        raise ValueError(f"Cannot export model {model.name!r} to {format_name}: it was called "
                         f"on a dict ({sorted(shapes)}), and a subclassed model's dict inputs "
                         f"are not supported. Build a functional model with one keras.Input "
                         f"per key, or export a tf.function taking the tensors in order.")
    if not isinstance(shapes, (list, tuple)) or (shapes and not isinstance(shapes[0], (list, tuple))):
        shapes = [shapes]
    # float32: a subclassed model casts what it is called on to its float dtype.
    specs = [_checked_shape((None,) + tuple(shape)[1:], np.dtype("float32"),
                            f"input {i} of {model.name!r}", format_name)
             for i, shape in enumerate(shapes)]
    return specs, [f"input_{i}" for i in range(len(specs))]


def _checked_shape(shape, dtype, what, format_name):
    if any(dim is None for dim in shape[1:]):
        raise ValueError(f"Cannot export to {format_name}: {what} has the shape {shape}; only the "
                         f"batch dimension may be unknown. Pass input_signature with the other "
                         f"dimensions set.")
    return shape, np.dtype(dtype)


def _check_layers(model, format_name):
    """Layers that cannot be traced into an inference graph, named before tracing."""
    for layer in model._flatten_layers():
        if getattr(layer, "stateful", False) is True:  # Recurrent layers (Layer has none).
            raise ValueError(f"Cannot export layer {layer.name!r} ({type(layer).__name__}) to "
                             f"{format_name}: stateful=True keeps state between calls.")


def _frozen_trace(call, specs, batch, name, format_name):
    rng = np.random.default_rng(0)
    examples = []
    for shape, dtype in specs:
        concrete = tuple(batch if dim is None else dim for dim in shape)
        if dtype.kind == "f":
            examples.append(rng.standard_normal(concrete).astype(dtype))
        else:
            examples.append(np.zeros(concrete, dtype))
    try:
        graph = tracing.trace_graph(call, *examples, name=name)
    except tracing.UntraceableError as error:
        raise ValueError(f"Cannot export {name!r} to {format_name}: {error.reason} (NumPy "
                         f"calls, tf.numpy_function and Python that branches on values cannot "
                         f"be exported).") from None
    except errors.OpError as error:
        raise ValueError(f"Cannot export {name!r} to {format_name}: running it on example "
                         f"inputs (random normal floats, zeros for integer and bool inputs) of "
                         f"shapes {[tuple(x.shape) for x in examples]} to trace it failed: "
                         f"{error}") from error
    return frozen(graph)


def _values(graph):
    values = list(graph.arguments)
    for entry in graph.body:
        values += [v for v in entry.outputs if isinstance(v, Value)]
    return values


def _compare(graph, other, dynamic_dims, dynamic_attrs, dynamic_constants, format_name, name):
    """Fills the dims, attributes and constants that differ between the traces at two
    batch sizes."""
    def fail(why):
        raise ValueError(f"Cannot export {name!r} to {format_name} with a dynamic batch size: "
                         f"{why}. Pass input_signature with a fixed batch size.")

    if len(graph.body) != len(other.body):
        fail(f"its computation has {len(graph.body)} operations at batch size {_BATCH} and "
             f"{len(other.body)} at {_OTHER_BATCH}")
    for a, b in zip(graph.arguments, other.arguments):
        dynamic_dims[a.name] = {axis for axis, (m, n) in enumerate(zip(a.shape, b.shape)) if m != n}
    for index, (a, b) in enumerate(zip(graph.body, other.body)):
        if not (isinstance(a, Equation) and isinstance(b, Equation)
                and a.primitive is b.primitive and len(a.outputs) == len(b.outputs)
                and [x.name for x in a.operands()] == [x.name for x in b.operands()]
                and list(a.attrs) == list(b.attrs)):
            fail(f"operation {index} ({a!r}) differs from the other trace's ({b!r})")
        for value, twin in zip(a.outputs, b.outputs):
            if isinstance(value, Value):
                if len(value.shape) != len(twin.shape):
                    fail(f"the rank of {value.name} changes with the batch size")
                dynamic_dims[value.name] = {axis for axis, (m, n)
                                            in enumerate(zip(value.shape, twin.shape)) if m != n}
        for key, value in a.attrs.items():
            if not isinstance(value, ATOMS) and not tracing.same_value(value, b.attrs[key]):
                dynamic_attrs.add((index, key))
        for atom, twin in zip(a.operands(), b.operands()):
            if isinstance(atom, Constant):
                shape, twin_shape = np.shape(atom.value), np.shape(twin.value)
                if len(shape) != len(twin_shape):
                    fail(f"the rank of the constant {atom.name} changes with the batch size")
                axes = {axis for axis, (m, n) in enumerate(zip(shape, twin_shape)) if m != n}
                if axes:
                    dynamic_constants[atom.name] = axes
    # An output that is itself a constant (everything before it folded away) is read by
    # no equation, so the operand check above never sees it.
    for position, (atom, twin) in enumerate(zip(graph.flat_outputs(), other.flat_outputs())):
        if isinstance(atom, Constant) and isinstance(twin, Constant) and \
                np.shape(atom.value) != np.shape(twin.value):
            fail(f"output {position} is a constant of the traced batch size "
                 f"{np.shape(atom.value)} (made from the batch size in Python, as "
                 f"tf.ones((x.shape[0], n)) does)")
