"""Translates an export graph into TFLite operators, equation by equation.

`lower(export_graph)` folds BatchNormalization into the kernels before it
(`folding.py`), then hands each equation to its rule in `rules.RULES` (keyed by primitive
name). A rule reads the equation, may take over the equations right after it that it
fuses (a BiasAdd and an activation after a convolution), and adds operators to the
`ModelWriter` through the `Lowering` it receives.

Batch sizes: the graph was traced at a fixed batch; the dimensions that follow it
(`export_graph.dynamic_dims`) are written with size 1 and `shape_signature` -1, as TF
writes them, so `Interpreter.resize_tensor_input` can change the batch.
"""

import numpy as np

from numpyflow.framework.graph import ATOMS, Constant, Equation
from numpyflow.lite import flatbuffer, folding


class ConversionError(ValueError):
    """An equation cannot be written as TFLite operators (its layer is named)."""


class Lowering:
    """The state of one translation: tensors written so far, equations taken over.

    Attributes:
      writer: The `flatbuffer.ModelWriter` receiving tensors and operators.
      graph: The graph being translated (after BatchNormalization folding).
      value_of_tensor: Tensor index -> name of the graph Value whose values it holds
        (what calibration measures for full-integer quantization).
    """

    def __init__(self, export_graph, target_name="TFLite"):
        self.export_graph = export_graph
        self.target_name = target_name
        self.graph, self._origin = folding.fold_batch_norm(export_graph.graph)
        self.writer = flatbuffer.ModelWriter()
        self.value_of_tensor = {}
        self._tensor_of = {}       # Atom name -> tensor index.
        self._readers = {}
        for entry in self.graph.body:
            for atom in entry.operands():
                self._readers.setdefault(atom.name, []).append(entry)
        self._outputs = {atom.name for _, atom in export_graph.outputs
                         if isinstance(atom, ATOMS)}
        self._taken = set()         # ids of equations a rule took over.
        self._dynamic_attrs = {}
        body = export_graph.graph.body
        for (index, attr) in getattr(export_graph, "dynamic_attrs", {}) or {}:
            if 0 <= index < len(body):
                self._dynamic_attrs.setdefault(id(body[index]), set()).add(attr)

    # -- the walk --------------------------------------------------------------------------
    def run(self, rules):
        """Translates every equation; returns (signature inputs, signature outputs)."""
        from numpyflow.lite.rules import NotExportable
        inputs = []
        for name, value in self.export_graph.inputs:
            index = self.new_tensor(value, f"serving_default_{name}:0")
            inputs.append((name, index))
        for eq in self.graph.body:
            if not isinstance(eq, Equation) or id(eq) in self._taken:
                continue
            rule = rules.get(eq.primitive.name)
            if rule is None:
                raise self.error(eq, f"the op {eq.primitive.name} has no TFLite conversion rule")
            if isinstance(rule, NotExportable):
                raise self.error(eq, f"the op {eq.primitive.name} is not exportable "
                                     f"({rule.reason})")
            batch_sized = self.export_graph.batch_sized_constant_error(
                self._origin.get(id(eq), eq))
            if batch_sized is not None:
                raise self.error(eq, batch_sized)
            rule(self, eq)
        outputs = []
        for position, (_, atom) in enumerate(self.export_graph.outputs):
            index = self.tensor(atom)
            if any(index == i for _, i in inputs) or any(index == i for _, i in outputs):
                # A signature output must be its own tensor.
                copy = self.writer.add_tensor(f"Identity_{position}", *self._type_of(index))
                self.value_of_tensor[copy] = self.value_of_tensor.get(index)
                self.op("RESHAPE", [index, self.int_constant(self.writer.tensors[index].signature
                                                             or self.writer.tensors[index].shape,
                                                             f"Identity_{position}/shape")],
                        [copy])
                index = copy
            self.writer.tensors[index].name = f"StatefulPartitionedCall:{position}"
            outputs.append((f"output_{position}", index))
        return inputs, outputs

    # -- what rules use ---------------------------------------------------------------------
    def scope(self, eq):
        """The Keras layer path of `eq` ("sequential/dense"), or "" when unknown."""
        original = self._origin.get(id(eq), eq)
        scope_of = getattr(self.export_graph, "scope_of", None)
        try:
            return (scope_of(original) if scope_of is not None else "") or ""
        except (KeyError, ValueError):
            return ""

    def name(self, eq, suffix=None):
        scope = self.scope(eq)
        suffix = suffix or eq.primitive.name
        return f"{scope}/{suffix}" if scope else suffix

    def error(self, eq, message):
        scope = self.scope(eq)
        where = f"Layer '{scope.split('/')[-1]}'" if scope else f"Op {eq.primitive.name}"
        if scope:
            where += f" ({scope})"
        return ConversionError(f"{where} cannot be exported to {self.target_name}: {message}.")

    def follower(self, value, names):
        """The equation right after `value` that reads it, if it is the only reader, its
        primitive is one of `names` and `value` is no model output; the caller then
        translates it together with its own equation (fusion)."""
        users = self._readers.get(value.name, [])
        if (len(users) == 1 and isinstance(users[0], Equation)
                and users[0].primitive.name in names and value.name not in self._outputs
                and id(users[0]) not in self._taken):
            return users[0]
        return None

    def take(self, eq):
        """Marks `eq` as translated by the current rule."""
        self._taken.add(id(eq))

    def tensor(self, atom):
        """The tensor index holding `atom` (a constant is written on first use)."""
        if atom.name in self._tensor_of:
            return self._tensor_of[atom.name]
        if isinstance(atom, Constant):
            array = np.asarray(atom.value)
            readers = self._readers.get(atom.name)
            name = self.name(readers[0], atom.name) if readers else atom.name
            index = self.constant(array, name)
            self._tensor_of[atom.name] = index
            return index
        raise ConversionError(f"The graph uses {atom.name!r} before computing it; expected a "
                              f"frozen inference graph.")

    def constant(self, array, name, dtype=None):
        """A new constant tensor holding `array`."""
        array = np.asarray(array, dtype=dtype)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        return self.writer.add_tensor(name, array.dtype, array.shape, data=array)

    def int_constant(self, values, name):
        return self.constant(np.asarray(values, np.int32), name)

    def new_tensor(self, value, name):
        """A new tensor for the graph Value `value` (its dynamic dimensions as -1)."""
        shape, signature = self.shape_of(value)
        index = self.writer.add_tensor(name, value.dtype, shape, signature=signature)
        self._tensor_of[value.name] = index
        self.value_of_tensor[index] = value.name
        return index

    def intermediate(self, name, dtype, shape, dynamic_axes=(), like=None):
        """A new tensor no graph Value holds (a rule's step), with `dynamic_axes` as -1;
        calibrated like the Value named `like` (for full-integer quantization)."""
        shape = tuple(int(d) for d in shape)
        signature = None
        if dynamic_axes:
            signature = tuple(-1 if axis in dynamic_axes else d for axis, d in enumerate(shape))
            shape = tuple(1 if axis in dynamic_axes else d for axis, d in enumerate(shape))
        index = self.writer.add_tensor(name, dtype, shape, signature=signature)
        self.value_of_tensor[index] = like
        return index

    def alias(self, value, index):
        """`value` is held by the existing tensor `index` (Identity and friends)."""
        self._tensor_of[value.name] = index

    def shape_of(self, value):
        """(static shape with dynamic dimensions as 1, shape signature or None)."""
        dynamic = self.dynamic_axes(value)
        if not dynamic:
            return value.shape, None
        shape = tuple(1 if axis in dynamic else d for axis, d in enumerate(value.shape))
        signature = tuple(-1 if axis in dynamic else d for axis, d in enumerate(value.shape))
        return shape, signature

    def dynamic_axes(self, value):
        return set((getattr(self.export_graph, "dynamic_dims", {}) or {}).get(value.name, ()))

    def dynamic_attr(self, eq, attr):
        """Whether the attribute `attr` of `eq` changed with the batch size."""
        original = self._origin.get(id(eq), eq)
        return attr in self._dynamic_attrs.get(id(original), ())

    def op(self, opcode, inputs, outputs, options=None, version=1):
        return self.writer.add_operator(opcode, inputs, outputs, options, version)

    def output(self, eq, value=None, suffix=None):
        """A new tensor for `value` (default: `eq`'s output), named after `eq`'s layer."""
        value = value if value is not None else eq.output
        return self.new_tensor(value, self.name(eq, suffix))

    def _type_of(self, index):
        record = self.writer.tensors[index]
        return record.dtype, record.shape, record.signature


def lower(export_graph, rules, target_name="TFLite"):
    """Returns `(Lowering, signature inputs, signature outputs)` for `export_graph`."""
    lowering = Lowering(export_graph, target_name)
    inputs, outputs = lowering.run(rules)
    return lowering, inputs, outputs
