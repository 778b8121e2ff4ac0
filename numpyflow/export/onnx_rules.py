"""ONNX translation rules: one entry per registered primitive, keyed by its name.

`RULES[name]` is either a function `rule(builder, equation)` that adds the ONNX nodes
computing the equation and `define`s its output (see `onnx_builder.OnnxBuilder`), or a
`NotExportable(reason)`: a primitive that cannot occur in an exported inference graph
(gradients, optimizer updates, random ops, strings) or has no ONNX mapping yet. A test
checks that every registered primitive has one or the other.

Layouts: Conv, ConvTranspose, pooling and Resize take and give NCHW; elementwise ops,
Concat, Pad, reductions, Softmax and Transpose compute in the form their inputs already
have (plain, or channels-first for rank >= 3) and map their axis attributes (`_axis_in`);
Reshape keeps the channels-first form when it only adds or drops size-1 spatial axes (how
1D layers reach the 2D kernels) and otherwise reads the plain form, so Flatten sees
Keras's element order; the rest (MatMul, Gather, ...) take and give the plain layout.

    >>> sorted(name for name, rule in RULES.items() if not isinstance(rule, NotExportable))[:4]
    ['Abs', 'Acos', 'Acosh', 'AddV2']
"""

import math

import numpy as np

from numpyflow.export import onnx_rnn
from numpyflow.export.onnx_builder import NCHW, PLAIN, channels_first_perm
from numpyflow.export.rule_table import NotExportable, RuleTable  # noqa: F401 - re-exported
from numpyflow.framework.graph import Constant, Value

_TABLE = RuleTable()
RULES = _TABLE.rules
# Primitive name -> attributes the rule writes correctly when they follow the batch size.
DYNAMIC_ATTRS = _TABLE.dynamic_attrs
rule = _TABLE.rule
_not_exportable = _TABLE.not_exportable


# -- layout helpers ------------------------------------------------------------------------

def _cf_axis(axis, rank):
    """Where plain axis `axis` of a rank-`rank` value sits in its channels-first form."""
    return channels_first_perm(rank).index(axis)


def _axis_in(form, axis, rank):
    axis = axis % rank if rank else 0
    return _cf_axis(axis, rank) if form == NCHW else axis


def _form_of(b, atom):
    """The form a layout-neutral op on `atom` alone computes in."""
    return b.form(atom) if b.rank(atom) >= 3 else PLAIN


def _elementwise_form(b, atoms, out_rank):
    """The form an elementwise op over `atoms` computes in: channels-first when its inputs
    are (mostly) channels-first already, so that no Transpose is needed; plain otherwise."""
    if out_rank < 3:
        return PLAIN
    values = [a for a in atoms if isinstance(a, Value)]
    if any(b.rank(a) not in (0, out_rank) for a in values):
        return PLAIN  # NumPy broadcasting of a lower-rank tensor aligns with plain axes.
    images = [a for a in values if b.rank(a) == out_rank]
    if not images:
        return PLAIN
    only_nchw = any(b.form(a) == NCHW and not b.has_form(a, PLAIN) for a in images)
    all_have_nchw = all(b.has_form(a, NCHW) for a in images)
    return NCHW if only_nchw or all_have_nchw else PLAIN


def _elementwise(b, eq, build, operand_dtype=None):
    """Runs `build(operand names) -> output name` in the best form; defines the output."""
    form = _elementwise_form(b, eq.inputs, len(eq.output.shape))
    dtype = operand_dtype if operand_dtype is not None else eq.output.dtype
    names = [b.in_form(atom, form, dtype if dtype is not False else None,
                       rank=len(eq.output.shape)) for atom in eq.inputs]
    b.define(eq.output, build(names), form)


def _unary(op_type, **attrs):
    def translate(b, eq):
        _elementwise(b, eq, lambda names: b.node(op_type, names, **attrs))
    return translate


def _binary(op_type):
    def translate(b, eq):
        _elementwise(b, eq, lambda names: b.node(op_type, names))
    return translate


def _comparison(op_type, negate=False):
    def translate(b, eq):
        # Operands keep their (common) dtype; the output is bool.
        common = np.result_type(*[b.dtype(a) for a in eq.inputs])

        def build(names):
            out = b.node(op_type, names)
            return b.node("Not", [out]) if negate else out
        _elementwise(b, eq, build, operand_dtype=common)
    return translate


def _scalar_of(b, value, dtype):
    return b.scalar(value, dtype, hint="k")


# -- activations and elementwise math -----------------------------------------------------

for _name, _op in [("Relu", "Relu"), ("Sigmoid", "Sigmoid"), ("Tanh", "Tanh"), ("Exp", "Exp"),
                   ("Log", "Log"), ("Sqrt", "Sqrt"), ("Neg", "Neg"), ("Abs", "Abs"),
                   ("Floor", "Floor"), ("Sign", "Sign"), ("Erf", "Erf"),
                   ("Reciprocal", "Reciprocal"), ("Softplus", "Softplus"),
                   ("Softsign", "Softsign"), ("Round", "Round"), ("LogicalNot", "Not")]:
    RULES[_name] = _unary(_op)
    DYNAMIC_ATTRS[_name] = ()
RULES["Elu"] = _unary("Elu", alpha=1.0)
# TF's SELU constants (the ONNX defaults are the same numbers rounded to float32).
RULES["Selu"] = _unary("Selu", alpha=1.6732632423543772, gamma=1.0507009873554805)

for _name, _op in [("AddV2", "Add"), ("Sub", "Sub"), ("Mul", "Mul"),
                   ("RealDiv", "Div"), ("Maximum", "Max"), ("Minimum", "Min"),
                   ("Pow", "Pow"), ("LogicalAnd", "And"), ("LogicalOr", "Or")]:
    RULES[_name] = _binary(_op)
    DYNAMIC_ATTRS[_name] = ()
for _name, _op, _negate in [
        ("Equal", "Equal", False), ("NotEqual", "Equal", True), ("Greater", "Greater", False),
        ("GreaterEqual", "GreaterOrEqual", False), ("Less", "Less", False),
        ("LessEqual", "LessOrEqual", False)]:
    RULES[_name] = _comparison(_op, _negate)
    DYNAMIC_ATTRS[_name] = ()


@rule("BiasAdd")
def _bias_add(b, eq):
    x, bias = eq.inputs
    if (isinstance(bias, Constant) and b.rank(x) == 4 and b.form(x) == NCHW and b.uses(x) == 1
            and np.ndim(bias.value) == 1 and b.dtype(bias) == eq.output.dtype):
        convolution = b.producer(b.nchw(x))
        if (convolution is not None and convolution.op_type in ("Conv", "ConvTranspose")
                and len(convolution.input) == 2):
            # The convolution's own bias input: one node instead of Conv + Add.
            convolution.input.append(b.constant(np.asarray(bias.value), f"{bias.name}_bias"))
            b.define(eq.output, convolution.output[0], NCHW)
            return
    _elementwise(b, eq, lambda names: b.node("Add", names))


@rule("LeakyRelu")
def _leaky_relu(b, eq):
    _elementwise(b, eq, lambda names: b.node("LeakyRelu", names, alpha=float(eq.attrs["alpha"])))


@rule("Relu6")
def _relu6(b, eq):
    dtype = eq.output.dtype
    _elementwise(b, eq, lambda names: b.node(
        "Clip", [names[0], _scalar_of(b, 0, dtype), _scalar_of(b, 6, dtype)]))


@rule("Identity", "StopGradient")
def _identity(b, eq):
    b.alias(eq.output, eq.inputs[0])


@rule("Rsqrt")
def _rsqrt(b, eq):
    _elementwise(b, eq, lambda names: b.node("Reciprocal", [b.node("Sqrt", names)]))


@rule("Square")
def _square(b, eq):
    _elementwise(b, eq, lambda names: b.node("Mul", [names[0], names[0]]))


@rule("SquaredDifference")
def _squared_difference(b, eq):
    def build(names):
        difference = b.node("Sub", names)
        return b.node("Mul", [difference, difference])
    _elementwise(b, eq, build)


@rule("Expm1")
def _expm1(b, eq):
    dtype = eq.output.dtype
    _elementwise(b, eq, lambda names: b.node("Sub", [b.node("Exp", names),
                                                     _scalar_of(b, 1, dtype)]))


@rule("Log1p")
def _log1p(b, eq):
    dtype = eq.output.dtype
    _elementwise(b, eq, lambda names: b.node("Log", [b.node("Add", [names[0],
                                                                    _scalar_of(b, 1, dtype)])]))


@rule("Gelu")
def _gelu(b, eq):
    dtype = eq.output.dtype

    def build(names):
        x = names[0]
        half_x = b.node("Mul", [x, _scalar_of(b, 0.5, dtype)])
        if eq.attrs["approximate"]:
            # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            cube = b.node("Mul", [b.node("Mul", [x, x]), x])
            inner = b.node("Add", [x, b.node("Mul", [cube, _scalar_of(b, 0.044715, dtype)])])
            inner = b.node("Mul", [inner, _scalar_of(b, math.sqrt(2 / math.pi), dtype)])
            gate = b.node("Tanh", [inner])
        else:
            # 0.5 x (1 + erf(x / sqrt(2)))
            gate = b.node("Erf", [b.node("Mul", [x, _scalar_of(b, 1 / math.sqrt(2), dtype)])])
        return b.node("Mul", [half_x, b.node("Add", [gate, _scalar_of(b, 1, dtype)])])
    _elementwise(b, eq, build)


@rule("ClipByValue")
def _clip(b, eq):
    _elementwise(b, eq, lambda names: b.node("Max", [b.node("Min", names[:3:2]), names[1]]))


@rule("SelectV2")
def _select(b, eq):
    rank = len(eq.output.shape)
    form = _elementwise_form(b, eq.inputs, rank)
    condition = b.in_form(eq.inputs[0], form, np.bool_, rank)
    x, y = (b.in_form(a, form, eq.output.dtype, rank) for a in eq.inputs[1:])
    b.define(eq.output, b.node("Where", [condition, x, y]), form)


@rule("DivNoNan")
def _div_no_nan(b, eq):
    dtype = eq.output.dtype

    def build(names):
        x, y = names
        zero = _scalar_of(b, 0, dtype)
        # Divide by 1 where y == 0 so no inf/NaN is formed, then pick 0 there.
        is_zero = b.node("Equal", [y, zero])
        safe = b.node("Where", [is_zero, _scalar_of(b, 1, dtype), y])
        return b.node("Where", [is_zero, zero, b.node("Div", [x, safe])])
    _elementwise(b, eq, build)


@rule("FloorDiv")
def _floor_div(b, eq):
    if eq.output.dtype.kind == "f":
        _elementwise(b, eq, lambda names: b.node("Floor", [b.node("Div", names)]))
        return

    def build(names):
        # ONNX's Div of integers truncates toward zero. x - FloorMod(x, y) is a multiple of
        # y, so dividing it is exact: the floored quotient, as TF's FloorDiv.
        x, y = names
        return b.node("Div", [b.node("Sub", [x, b.node("Mod", [x, y], fmod=0)]), y])
    _elementwise(b, eq, build)


@rule("FloorMod")
def _floor_mod(b, eq):
    if eq.output.dtype.kind == "f":
        # x - floor(x / y) * y: the sign of y, as TF's FloorMod.
        def build(names):
            x, y = names
            quotient = b.node("Floor", [b.node("Div", [x, y])])
            return b.node("Sub", [x, b.node("Mul", [quotient, y])])
        _elementwise(b, eq, build)
    else:
        _elementwise(b, eq, lambda names: b.node("Mod", names, fmod=0))


@rule("Cast")
def _cast(b, eq):
    to = b.onnx_dtype(eq.output.dtype)
    _elementwise(b, eq, lambda names: b.node("Cast", names, to=to), operand_dtype=False)


@rule("Softmax", "LogSoftmax")
def _softmax(b, eq):
    rank = len(eq.output.shape)
    form = _form_of(b, eq.inputs[0])
    x = b.in_form(eq.inputs[0], form)
    axis = _axis_in(form, eq.attrs["axis"], rank)
    b.define(eq.output, b.node(eq.primitive.name, [x], axis=axis), form)


# -- convolution, pooling, resizing (NCHW) --------------------------------------------------

def _pads(pads):
    """TF's ((top, bottom), (left, right)) as ONNX's [top, left, bottom, right]."""
    (top, bottom), (left, right) = pads
    return [int(top), int(left), int(bottom), int(right)]


def _filter(b, atom, hint):
    """A TF filter (kh, kw, in / groups, out) as ONNX's (out, in / groups, kh, kw)."""
    if isinstance(atom, Constant):
        return b.constant(np.asarray(atom.value).transpose(3, 2, 0, 1), hint)
    return b.node("Transpose", [b.plain(atom)], hint=hint, perm=[3, 2, 0, 1])


@rule("Conv2D")
def _conv2d(b, eq):
    x, filters = eq.inputs
    kh, kw = b.shape(filters)[:2]
    out = b.node("Conv", [b.nchw(x), _filter(b, filters, f"{eq.output.name}_kernel")],
                 kernel_shape=[int(kh), int(kw)], strides=list(eq.attrs["strides"]),
                 dilations=list(eq.attrs["dilations"]), pads=_pads(eq.attrs["pads"]),
                 group=int(eq.attrs["groups"]))
    b.define(eq.output, out, NCHW)


@rule("Conv2DBackpropInput", dynamic=("input_shape",))
def _conv2d_transpose(b, eq):
    # The gradient of Conv2D with respect to its input is ONNX's ConvTranspose with the same
    # filter: (kh, kw, in, out) of the forward conv is (C = out, M / group = in, kh, kw).
    filters, dy = eq.inputs
    kh, kw = (int(k) for k in b.shape(filters)[:2])
    strides, dilations = eq.attrs["strides"], eq.attrs["dilations"]
    pads = eq.attrs["pads"]
    out_hw = eq.attrs["input_shape"][1:3]
    output_padding = []
    for axis, kernel in enumerate((kh, kw)):
        covered = (strides[axis] * (dy.shape[1 + axis] - 1) + (kernel - 1) * dilations[axis] + 1
                   - sum(pads[axis]))
        output_padding.append(int(out_hw[axis] - covered))
    out = b.node("ConvTranspose", [b.nchw(dy), _filter(b, filters, f"{eq.output.name}_kernel")],
                 kernel_shape=[kh, kw], strides=list(strides), dilations=list(dilations),
                 pads=_pads(pads), output_padding=output_padding,
                 group=int(eq.attrs["groups"]))
    b.define(eq.output, out, NCHW)


@rule("MaxPool")
def _max_pool(b, eq):
    out = b.node("MaxPool", [b.nchw(eq.inputs[0])], kernel_shape=list(eq.attrs["ksize"]),
                 strides=list(eq.attrs["strides"]), pads=_pads(eq.attrs["pads"]))
    b.define(eq.output, out, NCHW)


@rule("AvgPool")
def _avg_pool(b, eq):
    # TF averages over the real elements of each window: padding is not counted.
    out = b.node("AveragePool", [b.nchw(eq.inputs[0])], kernel_shape=list(eq.attrs["ksize"]),
                 strides=list(eq.attrs["strides"]), pads=_pads(eq.attrs["pads"]),
                 count_include_pad=0)
    b.define(eq.output, out, NCHW)


@rule("ResizeBilinear", "ResizeNearestNeighbor")
def _resize(b, eq):
    # TF2's resize samples at half-pixel centres: bilinear reads (i + 0.5) * in / out - 0.5
    # ("half_pixel"); nearest copies floor((i + 0.5) * in / out), which is that same
    # coordinate rounded half up ("round_prefer_ceil"; ONNX's "tf_half_pixel_for_nn" says
    # the same but is deprecated, and ONNX Runtime warns on every load).
    modes = dict(mode="linear" if eq.primitive.name == "ResizeBilinear" else "nearest",
                 coordinate_transformation_mode="half_pixel")
    if eq.primitive.name == "ResizeNearestNeighbor":
        modes["nearest_mode"] = "round_prefer_ceil"
    x = b.nchw(eq.inputs[0])
    # Sizes for all four axes (batch and channels from the input's shape): ONNX Runtime's
    # transpose optimizer mishandles Resize's `axes` attribute.
    batch_channels = b.node("Shape", [x], start=0, end=2)
    sizes = b.node("Concat", [batch_channels, b.int64s(eq.attrs["size"], "hw")], axis=0)
    out = b.node("Resize", [x, "", "", sizes], **modes)
    b.define(eq.output, out, NCHW)


# -- shapes, layout-neutral structure ops ---------------------------------------------------

def _target_shape(b, value):
    """`value`'s shape for Reshape/Expand-like ops: the batch-dependent axis as -1."""
    dynamic = b.dynamic(value)
    if len(dynamic) > 1:
        b.fail(f"its result {value.name} has several axes {sorted(dynamic)} that follow the "
               f"batch size; export with an input_signature that fixes the batch size.")
    return [-1 if axis in dynamic else int(dim) for axis, dim in enumerate(value.shape)]


@rule("Reshape", dynamic=("shape",))
def _reshape(b, eq):
    x, out_shape = eq.inputs[0], eq.output.shape
    if b.rank(x) >= 3 and b.form(x) == NCHW and _only_size_one_spatial_axes_change(b, x, eq.output):
        # (N, W, C) <-> (N, 1, W, C) and the like: the channels-first form reshapes the same
        # way, so a chain of 1D layers (run as 2D kernels) stays channels-first.
        target = _target_shape(b, eq.output)
        if len(out_shape) >= 3:
            target = [target[axis] for axis in channels_first_perm(len(out_shape))]
        out = b.node("Reshape", [b.channels_first(x), b.int64s(target, "shape")])
        b.define(eq.output, out, NCHW if len(out_shape) >= 3 else PLAIN)
        return
    # Otherwise in the traced (NHWC) order: Flatten must see Keras's element order.
    out = b.node("Reshape", [b.plain(x), b.int64s(_target_shape(b, eq.output), "shape")])
    b.define(eq.output, out)


def _only_size_one_spatial_axes_change(b, x, y):
    """Whether reshaping `x` to `y` keeps the batch and channel axes and only adds or drops
    spatial axes of size 1 (so the element order is the same channels-first)."""
    before, after = b.shape(x), y.shape
    return (len(after) >= 2 and before[0] == after[0] and before[-1] == after[-1]
            and b.dynamic(x) <= {0} and b.dynamic(y) == b.dynamic(x)
            and [d for d in before[1:-1] if d != 1] == [d for d in after[1:-1] if d != 1])


@rule("Transpose")
def _transpose(b, eq):
    x = eq.inputs[0]
    perm = [int(p) % len(eq.output.shape) for p in eq.attrs["perm"]]
    rank = b.rank(x)
    if rank >= 3 and b.form(x) == NCHW and not b.has_form(x, PLAIN):
        # Compose with the layout: read the channels-first form directly.
        out = b.node("Transpose", [b.channels_first(x)], perm=[_cf_axis(p, rank) for p in perm])
    else:
        out = b.node("Transpose", [b.plain(x)], perm=perm)
    b.define(eq.output, out)


@rule("ConcatV2")
def _concat(b, eq):
    rank = len(eq.output.shape)
    form = _elementwise_form(b, eq.inputs, rank)
    names = [b.in_form(a, form, eq.output.dtype, rank) for a in eq.inputs]
    b.define(eq.output, b.node("Concat", names, axis=_axis_in(form, eq.attrs["axis"], rank)), form)


@rule("Pack")
def _pack(b, eq):
    axis = eq.attrs["axis"] % len(eq.output.shape)
    axes = b.int64s([axis], "axes")
    parts = [b.node("Unsqueeze", [b.plain(a, eq.output.dtype), axes]) for a in eq.inputs]
    b.define(eq.output, b.node("Concat", parts, axis=axis))


def _paddings(b, eq, form):
    paddings = [tuple(int(p) for p in pair) for pair in eq.attrs["paddings"]]
    if form == NCHW:
        paddings = [paddings[axis] for axis in channels_first_perm(len(paddings))]
    return b.int64s([p[0] for p in paddings] + [p[1] for p in paddings], "pads")


def _pad_form(b, eq):
    return _form_of(b, eq.inputs[0])


@rule("Pad")
def _pad(b, eq):
    form = _pad_form(b, eq)
    out = b.node("Pad", [b.in_form(eq.inputs[0], form), _paddings(b, eq, form)], mode="constant")
    b.define(eq.output, out, form)


@rule("PadV2")
def _pad_v2(b, eq):
    form = _pad_form(b, eq)
    value = eq.attrs["constant_values"]
    if isinstance(value, Value):
        fill = b.plain(value, eq.output.dtype)
    else:
        fill = b.scalar(getattr(value, "value", value), eq.output.dtype, "pad_value")
    out = b.node("Pad", [b.in_form(eq.inputs[0], form), _paddings(b, eq, form), fill],
                 mode="constant")
    b.define(eq.output, out, form)


@rule("MirrorPad")
def _mirror_pad(b, eq):
    if eq.attrs["mode"] != "REFLECT":
        b.fail(f"MirrorPad mode {eq.attrs['mode']!r} has no ONNX Pad mode (ONNX's 'reflect' "
               f"is TF's 'REFLECT'; 'edge' repeats only the border element).")
    form = _pad_form(b, eq)
    out = b.node("Pad", [b.in_form(eq.inputs[0], form), _paddings(b, eq, form)], mode="reflect")
    b.define(eq.output, out, form)


def _reduce(op_type):
    def translate(b, eq):
        x = eq.inputs[0]
        rank = b.rank(x)
        axis = eq.attrs["axis"]
        axes = (list(range(rank)) if axis is None
                else [a % rank for a in (axis if isinstance(axis, (tuple, list)) else [axis])])
        if not axes:
            # TF reduces nothing over axis=[]; an ONNX reduction with empty axes reduces
            # every axis (unless noop_with_empty_axes), so no node at all.
            b.alias(eq.output, x)
            return
        keepdims = bool(eq.attrs["keepdims"])
        form = _form_of(b, x)
        if form == NCHW and not keepdims:
            kept = [a for a in channels_first_perm(rank) if a not in axes]
            if kept != sorted(kept):   # The result's axes would come out in NCHW order.
                form = PLAIN
        mapped = sorted(_axis_in(form, a, rank) for a in axes)
        data = b.in_form(x, form)
        boolean = x.dtype == np.bool_ if isinstance(x, Value) else False
        if boolean:   # ONNX reductions take numbers: All = min, Any = max over 0/1.
            data = b.node("Cast", [data], to=b.onnx_dtype(np.int32))
        out = b.node(op_type, [data, b.int64s(mapped, "axes")], keepdims=int(keepdims))
        if boolean:
            out = b.node("Cast", [out], to=b.onnx_dtype(np.bool_))
        b.define(eq.output, out, form if keepdims else PLAIN)
    return translate


for _name, _op in [("Mean", "ReduceMean"), ("Sum", "ReduceSum"), ("Max", "ReduceMax"),
                   ("Min", "ReduceMin"), ("Prod", "ReduceProd"), ("All", "ReduceMin"),
                   ("Any", "ReduceMax")]:
    RULES[_name] = _reduce(_op)
    DYNAMIC_ATTRS[_name] = ()


@rule("L2Loss")
def _l2_loss(b, eq):
    total = b.node("ReduceSumSquare", [b.plain(eq.inputs[0])], keepdims=0)
    b.define(eq.output, b.node("Mul", [total, _scalar_of(b, 0.5, eq.output.dtype)]))


@rule("ArgMax", "ArgMin")
def _arg_reduce(b, eq):
    x = eq.inputs[0]
    out = b.node(eq.primitive.name, [b.plain(x)], axis=int(eq.attrs["axis"]) % b.rank(x),
                 keepdims=0)
    if eq.output.dtype != np.int64:
        out = b.node("Cast", [out], to=b.onnx_dtype(eq.output.dtype))
    b.define(eq.output, out)


@rule("MatMul")
def _matmul(b, eq):
    operands = []
    for atom, transposed in zip(eq.inputs, (eq.attrs.get("transpose_a"),
                                            eq.attrs.get("transpose_b"))):
        rank = b.rank(atom)
        if transposed and isinstance(atom, Constant):
            operands.append(b.constant(np.swapaxes(np.asarray(atom.value), -1, -2), "matrix"))
        elif transposed:
            perm = list(range(rank - 2)) + [rank - 1, rank - 2]
            operands.append(b.node("Transpose", [b.plain(atom)], perm=perm))
        else:
            operands.append(b.plain(atom))
    b.define(eq.output, b.node("MatMul", operands))


@rule("Einsum")
def _einsum(b, eq):
    names = [b.plain(a, eq.output.dtype) for a in eq.inputs]
    b.define(eq.output, b.node("Einsum", names, equation=eq.attrs["equation"].replace(" ", "")))


@rule("Tile")
def _tile(b, eq):
    multiples = eq.attrs["multiples"]
    if isinstance(multiples, Value):
        repeats = b.plain(multiples, np.int64)
    else:
        repeats = b.int64s(np.asarray(getattr(multiples, "value", multiples)), "repeats")
    b.define(eq.output, b.node("Tile", [b.plain(eq.inputs[0]), repeats]))


@rule("BroadcastTo", dynamic=("shape",))
def _broadcast_to(b, eq):
    x = eq.inputs[0]
    shape = _target_shape(b, eq.output)
    # Expand broadcasts: a 1 keeps the input's size, which is how the batch axis stays dynamic.
    offset = len(shape) - b.rank(x)
    shape = [1 if dim == -1 and axis >= offset and b.shape(x)[axis - offset] != 1 else dim
             for axis, dim in enumerate(shape)]
    if -1 in shape:
        b.fail("it broadcasts a size-1 axis to the batch size; export with an "
               "input_signature that fixes the batch size.")
    b.define(eq.output, b.node("Expand", [b.plain(x), b.int64s(shape, "shape")]))


@rule("GatherV2")
def _gather(b, eq):
    params, indices = eq.inputs
    axis = eq.attrs["axis"] % b.rank(params)
    b.define(eq.output, b.node("Gather", [b.plain(params), b.plain(indices)], axis=axis))


@rule("GatherNd")
def _gather_nd(b, eq):
    params, indices = eq.inputs
    b.define(eq.output, b.node("GatherND", [b.plain(params), b.plain(indices, np.int64)]))


@rule("Cumsum")
def _cumsum(b, eq):
    x = eq.inputs[0]
    axis = b.scalar(int(eq.attrs["axis"]) % b.rank(x), np.int64, "axis")
    out = b.node("CumSum", [b.plain(x), axis], exclusive=int(bool(eq.attrs["exclusive"])),
                 reverse=int(bool(eq.attrs["reverse"])))
    b.define(eq.output, out)


@rule("OneHot")
def _one_hot(b, eq):
    indices, on_value, off_value = eq.inputs
    dtype = eq.output.dtype
    values = b.node("Concat", [b.node("Reshape", [b.plain(a, dtype), b.int64s([1], "one")])
                               for a in (off_value, on_value)], axis=0)
    depth = b.scalar(int(eq.attrs["depth"]), np.int64, "depth")
    # int64 indices and depth: the combination every runtime implements for any value type.
    ids = b.plain(indices, np.int64)
    # ONNX's OneHot counts a negative index from the end; TF's gives all off_value for any
    # index outside [0, depth): move negative indices to `depth`, which is outside too.
    negative = b.node("Less", [ids, b.scalar(0, np.int64, "zero")])
    ids = b.node("Where", [negative, depth, ids])
    out = b.node("OneHot", [ids, depth, values], axis=int(eq.attrs["axis"]))
    b.define(eq.output, out)


_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


@rule("StridedSlice", dynamic=())
def _strided_slice(b, eq):
    # `key` is a Python index: slices, ints, None (new axis) and Ellipsis. Slice every sliced
    # axis at once, then Reshape to the result's shape (drops int axes, adds None axes).
    x = eq.inputs[0]
    key = eq.attrs["key"]
    key = key if isinstance(key, tuple) else (key,)
    rank = b.rank(x)
    explicit = sum(1 for item in key if item is not None and item is not Ellipsis)
    starts, ends, axes, steps = [], [], [], []
    axis = 0
    for item in key:
        if item is Ellipsis:
            axis += rank - explicit
        elif item is None:
            continue
        elif isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if item != slice(None):
                starts.append(int(item.start) if item.start is not None
                              else (0 if step > 0 else _INT64_MAX))
                ends.append(int(item.stop) if item.stop is not None
                            else (_INT64_MAX if step > 0 else _INT64_MIN))
                axes.append(axis)
                steps.append(step)
            axis += 1
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            index = int(item)
            starts.append(index)
            ends.append(index + 1 if index != -1 else _INT64_MAX)
            axes.append(axis)
            steps.append(1)
            axis += 1
        else:
            b.fail(f"indexing with {type(item).__name__} is not supported (expected slices, "
                   f"integers, None and Ellipsis). Received: key={eq.attrs['key']!r}")
    out = b.plain(x)
    if axes:
        out = b.node("Slice", [out, b.int64s(starts, "starts"), b.int64s(ends, "ends"),
                               b.int64s(axes, "axes"), b.int64s(steps, "steps")])
    if list(eq.output.shape) != list(_sliced_shape(b, x, axes, starts, ends, steps)):
        out = b.node("Reshape", [out, b.int64s(_target_shape(b, eq.output), "shape")])
    b.define(eq.output, out)


def _sliced_shape(b, x, axes, starts, ends, steps):
    shape = list(b.shape(x))
    for axis, start, end, step in zip(axes, starts, ends, steps):
        shape[axis] = len(range(*slice(start, end, step).indices(shape[axis])))
    return shape


# -- primitives that cannot be (or are not yet) exported ------------------------------------

_not_exportable(
    "training-only (gradient)",
    "AvgPoolGrad", "Conv2DBackpropFilter", "EluGrad", "LeakyReluGrad", "MaxPoolGrad",
    "MaxPoolGradGrad", "MirrorPadGrad", "Relu6Grad", "ReluGrad", "ResizeBilinearGrad",
    "ResizeNearestNeighborGrad", "SeluGrad", "SigmoidGrad", "TanhGrad", "StridedSliceGrad",
    "GRUSequenceGrad", "LSTMSequenceGrad", "SimpleRNNSequenceGrad",
    "SoftmaxCrossEntropyBackprop", "SparseSoftmaxCrossEntropyBackprop",
    "ImageProjectiveTransformV3Grad")
_not_exportable("training-only (loss)", "SoftmaxCrossEntropyWithLogits",
                "SparseSoftmaxCrossEntropyWithLogits")
_not_exportable("training-only (variable update)", "AssignVariableOp", "AssignAddVariableOp",
                "AssignSubVariableOp")
_not_exportable("random op", "DropoutMask", "RandomShuffle", "RandomStandardNormal",
                "RandomUniform", "RandomUniformInt", "TruncatedNormal", "StatelessMultinomial",
                "StatelessRandom", "StatelessRandomGammaV3", "StatelessRandomPoisson",
                "StatelessParameterizedTruncatedNormal", "StatelessRandomBinomial")
_not_exportable("strings", "AsString", "ReduceJoin", "RegexFullMatch", "StaticRegexReplace",
                "StringJoin", "StringLength", "StringLower", "StringStrip",
                "StringToHashBucketFast", "StringToHashBucketStrong", "StringToNumber",
                "StringUpper", "Substr")
_not_exportable("distributed training (collective all-reduce)", "CollectiveReduceV2")
_not_exportable("tf.print / tf.debugging check (a debugging aid: remove it from the exported "
                "model)", "PrintV2", "Assert", "CheckNumerics")
_not_exportable("file reading and image decoding (input pipeline)", "ReadFile", "DecodePng",
                "DecodeJpeg", "DecodeImage")
_not_exportable("image augmentation (active in training only)", "ImageProjectiveTransformV3",
                "AnglesToProjectiveTransforms")
# The fused recurrences, unrolled over the traced number of steps (onnx_rnn.py).
RULES["SimpleRNNSequence"] = onnx_rnn.simple_rnn
RULES["LSTMSequence"] = onnx_rnn.lstm
RULES["GRUSequence"] = onnx_rnn.gru
for _name in ("SimpleRNNSequence", "LSTMSequence", "GRUSequence"):
    DYNAMIC_ATTRS[_name] = ()
_not_exportable("no ONNX rule yet (scatter with repeated indices)", "ScatterNd",
                "UnsortedSegmentSum")


# tf.linalg and the tensor scatters (ops/linalg_ops.py, ops/indexing_ops.py; helper "arrays").
@rule("MatrixDeterminant")
def _determinant(b, eq):
    # ONNX Det, like TF, reads the last two axes of the plain (channels-last) layout.
    b.define(eq.output, b.node("Det", [b.plain(eq.inputs[0])]))


_not_exportable("not converted yet (no ONNX operator; a decomposition or solve)",
                "Cholesky", "LogMatrixDeterminant", "MatrixInverse", "MatrixSolve",
                "MatrixTriangularSolve", "Qr", "SelfAdjointEigV2", "Svd")
_not_exportable("not converted yet (ScatterND with reduction)", "TensorScatterUpdate",
                "TensorScatterMax", "TensorScatterMin")
_not_exportable("not converted yet (UnravelIndex)", "UnravelIndex")
# The fused training-mode batch norm (ops/normalization_ops.py): an inference graph folds
# BatchNormalization with its moving statistics instead.
_not_exportable("training-only (batch statistics)", "BatchMoments", "BatchNormTraining",
                "BatchNormTrainingGradSums", "BatchNormTrainingInputGrad")
# tf.image.random_flip_* in one op (ops/image_ops.py), and the flips of its gradient.
_not_exportable("random op", "RandomFlip")
_not_exportable("training-only (gradient)", "FlipWhere")
# The tf.math gap fill (ops/math_more_ops.py, sort_ops.py, segment_ops.py; session 7).
for _name, _op in [("Sin", "Sin"), ("Cos", "Cos"), ("Tan", "Tan"), ("Asin", "Asin"),
                   ("Acos", "Acos"), ("Atan", "Atan"), ("Sinh", "Sinh"), ("Cosh", "Cosh"),
                   ("Asinh", "Asinh"), ("Acosh", "Acosh"), ("Atanh", "Atanh"),
                   ("Ceil", "Ceil"), ("Rint", "Round")]:  # ONNX Round: halves to even too.
    RULES[_name] = _unary(_op)
    DYNAMIC_ATTRS[_name] = ()


def _float_test(op_type):
    def translate(b, eq):
        # The operand keeps its float dtype; the output is bool.
        _elementwise(b, eq, lambda names: b.node(op_type, names),
                     operand_dtype=b.dtype(eq.inputs[0]))
    return translate


for _name, _op in [("IsNan", "IsNaN"), ("IsInf", "IsInf")]:
    RULES[_name] = _float_test(_op)
    DYNAMIC_ATTRS[_name] = ()
_not_exportable("not converted yet (math gap fill: no ONNX rule written)",
                "Atan2", "IsFinite", "Lgamma", "Digamma", "Polygamma", "Erfc", "Erfinv",
                "Ndtri", "Xlogy", "Xlog1py", "Xdivy", "MulNoNan", "TruncateDiv", "TruncateMod",
                "Cumprod", "CumulativeLogsumexp", "TopKV2", "InTopKV2", "Unique",
                "UniqueWithCounts", "LowerBound", "UpperBound", "InvertPermutation",
                "SegmentSum", "SegmentMean", "SegmentMax", "SegmentMin", "SegmentProd",
                "UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd",
                "DenseBincount", "HistogramFixedWidth")
# The tf.image gap fill (ops/detection_ops.py; session 7): ONNX's NonMaxSuppression gives
# (batch, class, box) triples, not these one-output primitives.
_not_exportable("not converted yet (image gap fill: no ONNX rule written)",
                "NonMaxSuppressionV5", "NonMaxSuppressionWithOverlaps",
                "CombinedNonMaxSuppression", "DrawBoundingBoxesV2")
# tf.bitwise (ops/bitwise_ops.py): ONNX's bitwise ops (opset 18) match TF's;
# its BitShift takes unsigned types only and leaves shifts past the bit width undefined,
# where TF clamps the amount.
for _name, _op in [("BitwiseAnd", "BitwiseAnd"), ("BitwiseOr", "BitwiseOr"),
                   ("BitwiseXor", "BitwiseXor")]:
    RULES[_name] = _binary(_op)
    DYNAMIC_ATTRS[_name] = ()
RULES["Invert"] = _unary("BitwiseNot")
DYNAMIC_ATTRS["Invert"] = ()
_not_exportable("not converted yet (ONNX BitShift is unsigned-only and does not clamp the "
                "shift amount as TF does)", "LeftShift", "RightShift")
