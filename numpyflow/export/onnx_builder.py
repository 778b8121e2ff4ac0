"""The state of one ONNX translation: nodes, initializers and each value's layouts.

Keras images are NHWC; ONNX's Conv, pooling and Resize are NCHW. Each traced value of
rank 3 or more may exist in the ONNX graph in two forms: *plain* (the axes the traced
value has, NHWC for images) and *channels-first* (`NCHW`: the last axis moved to position
1, `channels_first_perm`; NCW for the rank-3 tensors of 1D layers). A rule asks for the
form it needs (`plain(atom)`, `nchw(atom)`); a missing form is made with one Transpose
node, once, and remembered. Rules that do not care about the axis order (activations,
elementwise arithmetic with constants, BiasAdd, Concat, Pad, Mean over spatial axes,
Softmax) compute in whatever form their inputs already have, mapping their axis
attributes. So a chain of Conv/Pool/BatchNormalization/activation/Add layers stays NCHW,
and Transposes appear only where the layout really changes: after the model's NHWC input
and before a Reshape (Flatten) that must see Keras's NHWC element order.

    >>> import numpy as np
    >>> from numpyflow.framework.graph import Value
    >>> builder = OnnxBuilder(opset=21)
    >>> x = Value("a0", (1, 4, 4, 3), np.float32)
    >>> builder.define(x, "input", PLAIN)
    >>> builder.nchw(x)                      # adds one Transpose
    'a0_nchw'
    >>> [node.op_type for node in builder.nodes]
    ['Transpose']
"""

import numpy as np

from numpyflow.framework.graph import Constant, Saved, Value, VariableRead

PLAIN, NCHW = "plain", "nchw"
TO_NCHW = (0, 3, 1, 2)   # NHWC -> NCHW


def channels_first_perm(rank):
    """The Transpose perm from the plain form of a rank-`rank` value to channels-first."""
    return (0, rank - 1) + tuple(range(1, rank - 1))


def channels_last_perm(rank):
    """The inverse of `channels_first_perm(rank)`."""
    return (0,) + tuple(range(2, rank)) + (1,)


class ExportError(NotImplementedError):
    """An equation the ONNX exporter cannot translate (names the operation and layer)."""


class OnnxBuilder:
    """Collects the nodes and initializers of one ONNX graph.

    Args:
      opset: The ONNX opset the nodes are written for.
      dynamic_dims: {value name: axes that follow the batch size} (`ExportGraph`).
      describe: `describe(equation) -> str` for error messages.
    """

    def __init__(self, opset, dynamic_dims=None, describe=None, uses=None):
        from onnx import helper, numpy_helper
        self._helper = helper
        self._numpy_helper = numpy_helper
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.dynamic_dims = dynamic_dims or {}
        self._describe = describe or (lambda eq: f"operation {eq.primitive.name!r}")
        self._forms = {}       # value name -> {PLAIN: onnx name, NCHW: onnx name}
        self._primary = {}     # value name -> the form it was computed in
        self._constants = {}   # (atom name, form) -> initializer name
        self._used_names = set()
        self._outputs = set()
        self._uses = uses or {}  # value name -> how many equations and outputs read it
        self.equation = None   # The equation being translated (for names and errors).
        self.dynamic_attrs = ()  # Attribute names of `equation` that follow the batch.

    # -- names and nodes ----------------------------------------------------------------------
    def unique(self, hint):
        name, count = hint, 1
        while name in self._used_names:
            name, count = f"{hint}_{count}", count + 1
        self._used_names.add(name)
        return name

    def reserve(self, name):
        """Claims `name` (a graph input or output name) so no tensor takes it."""
        if name in self._used_names:
            raise ValueError(f"The ONNX graph would have two tensors named {name!r}.")
        self._used_names.add(name)

    def node(self, op_type, inputs, outputs=1, hint=None, **attrs):
        """Adds a node; returns its output name (or list of names when `outputs` > 1)."""
        base = hint or self._hint(op_type)
        names = [self.unique(base if i == 0 else f"{base}_{i}") for i in range(outputs)]
        scope = getattr(self.equation, "scope", "") if self.equation is not None else ""
        node_name = self.unique(f"{scope}/{op_type}" if scope else op_type)
        self.nodes.append(self._helper.make_node(op_type, list(inputs), names, name=node_name,
                                                 **attrs))
        return names[0] if outputs == 1 else names

    def _hint(self, op_type):
        if self.equation is not None:
            return f"{self.equation.output.name}_{op_type.lower()}"
        return op_type.lower()

    def constant(self, array, hint="const"):
        """An initializer holding `array`; returns its name."""
        array = np.asarray(array)
        name = self.unique(hint)
        # (np.ascontiguousarray would turn a 0-d scalar into shape (1,).)
        self.initializers.append(self._numpy_helper.from_array(array.copy(order="C"), name))
        return name

    def tensor_attribute(self, array, name="value"):
        """`array` as a TensorProto for a node attribute (ConstantOfShape's value)."""
        return self._numpy_helper.from_array(np.asarray(array), name)

    def int64s(self, values, hint="shape"):
        return self.constant(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    def scalar(self, value, dtype, hint="scalar"):
        return self.constant(np.asarray(value, dtype=dtype), hint)

    def uses(self, atom):
        """How many equations (and graph outputs) read `atom`."""
        return self._uses.get(atom.name, 0)

    def producer(self, name):
        """The node that computes the tensor `name`, or None (an input, an initializer)."""
        for node in reversed(self.nodes):
            if name in node.output:
                return node
        return None

    def rename(self, old, new):
        """Renames the tensor `old` to the graph output name `new`, wherever it occurs."""
        for node in self.nodes:
            for field in (node.input, node.output):
                for i, tensor in enumerate(field):
                    if tensor == old:
                        field[i] = new
        for forms in self._forms.values():
            for form, name in forms.items():
                if name == old:
                    forms[form] = new
        self._outputs.add(new)

    def is_output(self, name):
        """Whether `name` was already renamed into a graph output."""
        return name in self._outputs

    # -- errors --------------------------------------------------------------------------------
    def fail(self, why):
        """Raises `ExportError` naming the current equation's operation and layer."""
        what = self._describe(self.equation) if self.equation is not None else "the model"
        raise ExportError(f"Cannot export {what} to ONNX: {why}")

    # -- atoms ---------------------------------------------------------------------------------
    @staticmethod
    def shape(atom):
        if isinstance(atom, Value):
            return atom.shape
        return np.shape(atom.value)

    def rank(self, atom):
        return len(self.shape(atom))

    @staticmethod
    def dtype(atom):
        if isinstance(atom, Value):
            return atom.dtype
        return np.asarray(atom.value).dtype

    def dynamic(self, atom):
        """The axes of `atom` whose size follows the batch size."""
        return set(self.dynamic_dims.get(atom.name, ())) if isinstance(atom, Value) else set()

    def define(self, value, onnx_name, form=PLAIN):
        """`value` (a traced Value) is the ONNX tensor `onnx_name`, in `form`."""
        self._forms[value.name] = {form: onnx_name}
        self._primary[value.name] = form

    def alias(self, value, atom):
        """`value` is the same array as `atom` (Identity): shares its forms, no node."""
        if isinstance(atom, Value):
            self._forms[value.name] = self._forms[atom.name]
            self._primary[value.name] = self._primary[atom.name]
        else:
            self.define(value, self.plain(atom), PLAIN)

    def form(self, atom):
        """The form `atom` was computed in (constants: PLAIN; either form is free for them)."""
        return self._primary.get(atom.name, PLAIN) if isinstance(atom, Value) else PLAIN

    def has_form(self, atom, form):
        return isinstance(atom, Value) and form in self._forms.get(atom.name, {})

    def plain(self, atom, dtype=None):
        """The ONNX name of `atom` in its traced axis order (adds a Transpose if needed)."""
        if not isinstance(atom, Value):
            return self._constant_form(atom, PLAIN, dtype)
        forms = self._known(atom)
        if PLAIN not in forms:
            forms[PLAIN] = self.node("Transpose", [forms[NCHW]], hint=f"{atom.name}_nhwc",
                                     perm=list(channels_last_perm(self.rank(atom))))
        return self._cast(forms[PLAIN], atom.dtype, dtype)

    def nchw(self, atom, dtype=None):
        """The ONNX name of the rank-4 `atom` transposed to NCHW (adds a Transpose if needed)."""
        if self.rank(atom) != 4:
            self.fail(f"expected a rank-4 (NHWC) tensor, received {atom.name} of shape "
                      f"{self.shape(atom)}.")
        return self.channels_first(atom, dtype)

    def channels_first(self, atom, dtype=None):
        """The ONNX name of `atom` (rank >= 3) in channels-first form."""
        rank = self.rank(atom)
        if rank < 3:
            self.fail(f"expected a tensor of rank 3 or more, received {atom.name} of shape "
                      f"{self.shape(atom)}.")
        if not isinstance(atom, Value):
            return self._constant_form(atom, NCHW, dtype)
        forms = self._known(atom)
        if NCHW not in forms:
            forms[NCHW] = self.node("Transpose", [forms[PLAIN]], hint=f"{atom.name}_nchw",
                                    perm=list(channels_first_perm(rank)))
        return self._cast(forms[NCHW], atom.dtype, dtype)

    def in_form(self, atom, form, dtype=None, rank=None):
        """`atom` as an operand of an elementwise op of rank `rank` computing in `form`.

        In channels-first form a constant of lower rank is broadcast NumPy-style against the
        plain axes, so it is first given the op's rank (leading 1s) and then transposed like
        the data.
        """
        if form == PLAIN or self.rank(atom) == 0:
            return self.plain(atom, dtype)
        if not isinstance(atom, Value):
            rank = rank or self.rank(atom)
            array = np.asarray(atom.value)
            array = array.reshape((1,) * (rank - array.ndim) + array.shape)
            array = array.transpose(channels_first_perm(rank))
            array = array.astype(dtype or array.dtype, copy=False)
            return self._cached_constant((atom.name, "nchw-broadcast", str(array.shape),
                                          str(array.dtype)), array, f"{atom.name}_nchw")
        return self.channels_first(atom, dtype)

    def _known(self, atom):
        if isinstance(atom, Saved) or atom.name not in self._forms:
            self.fail(f"its input {atom.name} is not computed by the exported graph "
                      f"(a value a gradient rule saved, or one of another trace).")
        return self._forms[atom.name]

    def _constant_form(self, atom, form, dtype):
        if isinstance(atom, VariableRead):
            self.fail(f"it reads the Variable {atom.variable.name!r} that was not frozen.")
        if not isinstance(atom, Constant):
            self.fail(f"unexpected operand {atom!r}.")
        array = np.asarray(atom.value)
        if array.dtype.kind in "OUS":
            self.fail(f"its operand {atom.name} holds strings, which ONNX models here do "
                      f"not support.")
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        if form == NCHW:
            array = array.transpose(channels_first_perm(array.ndim))
        return self._cached_constant((atom.name, form, str(array.dtype)), array,
                                     atom.name if form == PLAIN else f"{atom.name}_nchw")

    def _cached_constant(self, key, array, hint):
        if key not in self._constants:
            self._constants[key] = self.constant(array, hint)
        return self._constants[key]

    def _cast(self, name, have, want):
        if want is None or np.dtype(want) == np.dtype(have):
            return name
        return self.node("Cast", [name], hint=f"{name}_cast",
                         to=self._helper.np_dtype_to_tensor_dtype(np.dtype(want)))

    def onnx_dtype(self, dtype):
        try:
            return self._helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        except (KeyError, TypeError, ValueError):
            self.fail(f"ONNX has no tensor type for dtype {np.dtype(dtype).name}.")
