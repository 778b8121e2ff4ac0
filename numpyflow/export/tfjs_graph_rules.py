"""TF.js graph-model rules: one entry per registered primitive, keyed by its name.

numpyflow's primitives carry TensorFlow's op names, so most rules write one GraphDef node
of the same op; the work is in the attributes: TF passes axes, shapes and paddings as
int32 `Const` inputs where numpyflow keeps them as attributes, and TF.js reads attributes in
protobuf-JSON form (`{"list": {"i": ["1", "2"]}}`, strings base64-encoded).

`RULES[name]` is either a function `rule(builder, equation)` that adds the nodes computing
the equation and `define`s its output (see `tfjs_graph.GraphDefBuilder`), or a
`NotExportable(reason)`: a primitive that cannot occur in an exported inference graph
(gradients, optimizer updates, random ops, strings) or that TF.js cannot run. The fused
recurrences (LSTM, GRU, SimpleRNN) are unrolled step by step by `tfjs_graph_rnn`. A test
checks that every registered primitive has one or the other. `DYNAMIC_ATTRS[name]` lists
the attributes a rule writes correctly when they follow the batch size (a Reshape's
target shape); any other batch-dependent attribute is an error naming the layer.

    >>> RULES["Conv2D"].__name__, RULES["ReluGrad"]
    ('_conv2d', NotExportable('training-only (gradient)'))
"""

import base64
import math

import numpy as np

from numpyflow.export.rule_table import NotExportable, RuleTable  # noqa: F401 - re-exported

_TABLE = RuleTable()
RULES = _TABLE.rules
# Primitive name -> attributes the rule writes correctly when they follow the batch size.
DYNAMIC_ATTRS = _TABLE.dynamic_attrs
rule = _TABLE.rule
_not_exportable = _TABLE.not_exportable


# -- AttrValue in protobuf-JSON form ----------------------------------------------------------

_DT = {"f": "DT_FLOAT", "i": "DT_INT32", "u": "DT_INT32", "b": "DT_BOOL"}


class UnsupportedDtypeError(TypeError):
    """A dtype TF.js has no tensors of (strings, complex numbers)."""


def dt(dtype):
    """The TF DataType name TF.js runs `dtype` as: its kernels are float32/int32/bool only."""
    dtype = np.dtype(dtype)
    if dtype.kind not in _DT:
        raise UnsupportedDtypeError(f"TensorFlow.js has no dtype for {dtype.name}; it runs "
                                    f"float32, int32 and bool")
    return _DT[dtype.kind]


def type_attr(dtype):
    return {"type": dt(dtype)}


def ints_attr(values):
    return {"list": {"i": [str(int(v)) for v in values]}}


def int_attr(value):
    return {"i": str(int(value))}


def float_attr(value):
    return {"f": float(value)}


def bool_attr(value):
    return {"b": bool(value)}


def str_attr(text):
    return {"s": base64.b64encode(text.encode("utf-8")).decode("ascii")}


def shape_json(shape):
    """A TensorShapeProto in JSON: sizes as strings (int64), -1 for an unknown size."""
    return {"dim": [{"size": str(int(d))} for d in shape]} if len(shape) else {}


# -- helpers -----------------------------------------------------------------------------------

def _op(b, eq, op, inputs, attrs=None, dtype=None):
    """Adds `op` computing `eq`'s output, with `T` = the output's dtype unless given."""
    attrs = dict(attrs or {})
    attrs.setdefault("T", type_attr(eq.output.dtype if dtype is None else dtype))
    b.define(eq.output, b.add(op, inputs, attrs))


def _axes(axis, rank):
    if axis is None:
        return list(range(rank))
    if isinstance(axis, (int, np.integer)):
        return [int(axis) % max(rank, 1)]
    return [int(a) % max(rank, 1) for a in axis]


def _same_pads(in_size, kernel, stride, dilation):
    """TF's SAME padding (before, after) for one spatial axis."""
    effective = (kernel - 1) * dilation + 1
    out = -(-in_size // stride)
    total = max((out - 1) * stride + effective - in_size, 0)
    return total // 2, total - total // 2


def _padding(b, eq, in_hw, ksize, strides, dilations, pads, explicit_ok=True):
    """`{"padding": ...}` (+ `explicit_paddings`, which `explicit_ok` ops carry, empty unless
    EXPLICIT, as TF writes them) for numpyflow's explicit `pads`."""
    pads = tuple(tuple(int(p) for p in pair) for pair in pads)
    none = {"explicit_paddings": {"list": {}}} if explicit_ok else {}
    if all(p == 0 for pair in pads for p in pair):
        return {"padding": str_attr("VALID"), **none}
    same = tuple(_same_pads(n, k, s, d) for n, k, s, d in zip(in_hw, ksize, strides, dilations))
    if pads == same:
        return {"padding": str_attr("SAME"), **none}
    if not explicit_ok:
        b.fail(f"its padding {pads} is neither VALID nor SAME, which TF.js's "
               f"{eq.primitive.name} cannot express")
    flat = [0, 0] + [p for pair in pads for p in pair] + [0, 0]
    return {"padding": str_attr("EXPLICIT"), "explicit_paddings": ints_attr(flat)}


def _nhwc(values):
    return [1] + [int(v) for v in values] + [1]


# -- elementwise -------------------------------------------------------------------------------

_UNARY = ("Abs", "Elu", "Erf", "Exp", "Expm1", "Floor", "Log", "Log1p", "Neg", "Reciprocal",
          "Relu", "Relu6", "Rsqrt", "Selu", "Sigmoid", "Sign", "Softplus", "Sqrt", "Square",
          "Tanh")


@rule(*_UNARY)
def _unary(b, eq):
    _op(b, eq, eq.primitive.name, [b.tensor(eq.inputs[0])])


@rule("Round")
def _round(b, eq):
    if eq.attrs.get("decimals", 0) != 0:
        b.fail(f"Round with decimals={eq.attrs['decimals']} has no TF op")
    _op(b, eq, "Round", [b.tensor(eq.inputs[0])])


@rule("LogicalNot")
def _logical_not(b, eq):
    b.define(eq.output, b.add("LogicalNot", [b.tensor(eq.inputs[0])], {}))


@rule("Identity", "StopGradient")
def _identity(b, eq):
    # At inference StopGradient is the identity; TF.js runs both, Identity is the plainer.
    _op(b, eq, "Identity", [b.tensor(eq.inputs[0])])


@rule("LeakyRelu")
def _leaky_relu(b, eq):
    _op(b, eq, "LeakyRelu", [b.tensor(eq.inputs[0])], {"alpha": float_attr(eq.attrs["alpha"])})


@rule("Softsign")
def _softsign(b, eq):
    # TF.js has no Softsign kernel: x / (1 + |x|).
    x = b.tensor(eq.inputs[0])
    t = type_attr(eq.output.dtype)
    one = b.const(np.ones((), eq.output.dtype), "one")
    denominator = b.add("AddV2", [b.add("Abs", [x], {"T": t}), one], {"T": t})
    b.define(eq.output, b.add("RealDiv", [x, denominator], {"T": t}))


@rule("Gelu")
def _gelu(b, eq):
    # TF.js has no Gelu kernel: x * cdf(x), the cdf through Erf or Tanh as the forward does.
    x = b.tensor(eq.inputs[0])
    dtype = eq.output.dtype
    t = {"T": type_attr(dtype)}

    def scalar(value, hint):
        return b.const(np.asarray(value, dtype), hint)

    if eq.attrs["approximate"]:
        cube = b.add("Mul", [b.add("Square", [x], t), x], t)
        inner = b.add("AddV2", [x, b.add("Mul", [cube, scalar(0.044715, "cubic")], t)], t)
        inner = b.add("Mul", [inner, scalar(math.sqrt(2 / math.pi), "scale")], t)
        curve = b.add("Tanh", [inner], t)
    else:
        curve = b.add("Erf", [b.add("Mul", [x, scalar(math.sqrt(0.5), "sqrt_half")], t)], t)
    cdf = b.add("Mul", [b.add("AddV2", [curve, scalar(1.0, "one")], t), scalar(0.5, "half")], t)
    b.define(eq.output, b.add("Mul", [x, cdf], t))


_BINARY = ("AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Pow", "SquaredDifference",
           "FloorDiv", "FloorMod", "DivNoNan")
_COMPARISONS = ("Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual")


@rule(*_BINARY)
def _binary(b, eq):
    _op(b, eq, eq.primitive.name, [b.tensor(a) for a in eq.inputs[:2]])


@rule(*_COMPARISONS)
def _comparison(b, eq):
    _op(b, eq, eq.primitive.name, [b.tensor(a) for a in eq.inputs[:2]],
        dtype=b.dtype(eq.inputs[0]))


@rule("LogicalAnd", "LogicalOr")
def _logical(b, eq):
    b.define(eq.output, b.add(eq.primitive.name, [b.tensor(a) for a in eq.inputs[:2]], {}))


@rule("BiasAdd")
def _bias_add(b, eq):
    x, bias = eq.inputs[:2]
    rank, bias_shape = len(b.shape(x)), b.shape(bias)
    # TF's BiasAdd adds a vector along the last axis; anything else is a broadcast add.
    if rank >= 2 and len(bias_shape) == 1 and bias_shape[0] == b.shape(x)[-1]:
        _op(b, eq, "BiasAdd", [b.tensor(x), b.tensor(bias)],
            {"data_format": str_attr("NHWC")})
    else:
        _op(b, eq, "AddV2", [b.tensor(x), b.tensor(bias)])


@rule("ClipByValue")
def _clip(b, eq):
    _op(b, eq, "ClipByValue", [b.tensor(a) for a in eq.inputs[:3]])


@rule("SelectV2")
def _select(b, eq):
    _op(b, eq, "SelectV2", [b.tensor(a) for a in eq.inputs[:3]])


@rule("Cast")
def _cast(b, eq):
    source = b.dtype(eq.inputs[0])
    b.define(eq.output, b.add("Cast", [b.tensor(eq.inputs[0])],
                              {"SrcT": type_attr(source), "DstT": type_attr(eq.output.dtype),
                               "Truncate": bool_attr(False)}))


# -- softmax, matmul ---------------------------------------------------------------------------

@rule("Softmax", "LogSoftmax")
def _softmax(b, eq):
    x = eq.inputs[0]
    rank = len(b.shape(x))
    axis = eq.attrs["axis"] % rank
    t = {"T": type_attr(eq.output.dtype)}
    if axis == rank - 1:
        b.define(eq.output, b.add(eq.primitive.name, [b.tensor(x)], t))
        return
    # TF's Softmax normalizes the last axis: move `axis` there and back.
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    perm_const = b.const(np.asarray(perm, np.int32), "perm")
    moved = b.add("Transpose", [b.tensor(x), perm_const], dict(t, Tperm=type_attr(np.int32)))
    result = b.add(eq.primitive.name, [moved], t)
    b.define(eq.output, b.add("Transpose", [result, perm_const],
                              dict(t, Tperm=type_attr(np.int32))))


@rule("MatMul")
def _matmul(b, eq):
    a, c = eq.inputs[:2]
    ta, tb = bool(eq.attrs.get("transpose_a", False)), bool(eq.attrs.get("transpose_b", False))
    if len(b.shape(a)) == 2 and len(b.shape(c)) == 2:
        _op(b, eq, "MatMul", [b.tensor(a), b.tensor(c)],
            {"transpose_a": bool_attr(ta), "transpose_b": bool_attr(tb)})
    elif len(b.shape(a)) >= 2 and len(b.shape(c)) >= 2:
        _op(b, eq, "BatchMatMulV2", [b.tensor(a), b.tensor(c)],
            {"adj_x": bool_attr(ta), "adj_y": bool_attr(tb)})
    else:
        b.fail("MatMul of a vector has no TF op; reshape it to a matrix first")


@rule("Einsum")
def _einsum(b, eq):
    _op(b, eq, "Einsum", [b.tensor(a) for a in eq.inputs],
        {"equation": str_attr(eq.attrs["equation"]), "N": int_attr(len(eq.inputs))})


# -- convolution and pooling ------------------------------------------------------------------

@rule("Conv2D")
def _conv2d(b, eq):
    x, kernel = eq.inputs[:2]
    n, h, w, channels = b.shape(x)
    kh, kw, per_group, filters = b.shape(kernel)
    strides, dilations = eq.attrs["strides"], eq.attrs["dilations"]
    attrs = {"strides": ints_attr(_nhwc(strides)), "dilations": ints_attr(_nhwc(dilations)),
             "data_format": str_attr("NHWC")}
    attrs.update(_padding(b, eq, (h, w), (kh, kw), strides, dilations, eq.attrs["pads"]))
    groups = eq.attrs.get("groups", 1)
    if groups == 1:
        attrs["use_cudnn_on_gpu"] = bool_attr(True)
        _op(b, eq, "Conv2D", [b.tensor(x), b.tensor(kernel)], attrs)
    elif groups == channels and per_group == 1:
        # A depthwise convolution: output channel c * multiplier + m reads input channel c,
        # which is TF's depthwise filter [kh, kw, channels, multiplier] read in order.
        filt = b.reshaped(kernel, (kh, kw, channels, filters // channels))
        _op(b, eq, "DepthwiseConv2dNative", [b.tensor(x), filt], attrs)
    else:
        b.fail(f"a grouped convolution (groups={groups}) has no TF.js kernel; only groups=1 "
               f"and depthwise (groups = input channels) run")


@rule("Conv2DBackpropInput", dynamic=("input_shape",))
def _conv2d_transpose(b, eq):
    kernel, dy = eq.inputs[:2]
    shape = tuple(int(d) for d in eq.attrs["input_shape"])
    strides, dilations = eq.attrs["strides"], eq.attrs["dilations"]
    if eq.attrs.get("groups", 1) != 1:
        b.fail(f"a grouped transposed convolution (groups={eq.attrs['groups']}) has no "
               f"TF.js kernel")
    if tuple(dilations) != (1, 1):
        b.fail(f"TF.js's Conv2DBackpropInput runs without dilation; received "
               f"dilations={tuple(dilations)}")
    kh, kw = b.shape(kernel)[:2]
    attrs = {"strides": ints_attr(_nhwc(strides)), "dilations": ints_attr(_nhwc(dilations)),
             "data_format": str_attr("NHWC"), "use_cudnn_on_gpu": bool_attr(True)}
    attrs.update(_padding(b, eq, shape[1:3], (kh, kw), strides, dilations, eq.attrs["pads"]))
    if b.is_dynamic(eq, "input_shape"):
        if b.dynamic_axes(eq.output) != {0}:
            b.fail("its output shape follows the batch size in axes other than the batch")
        # The output's batch is dy's: Shape(dy)[0:1] joined with the fixed sizes.
        batch = b.batch_of(dy)
        sizes = b.add("ConcatV2", [batch, b.const(np.asarray(shape[1:], np.int32), "sizes"),
                                   b.const(np.asarray(0, np.int32), "axis")],
                      {"N": int_attr(2), "T": type_attr(np.int32), "Tidx": type_attr(np.int32)})
    else:
        sizes = b.const(np.asarray(shape, np.int32), "input_sizes")
    _op(b, eq, "Conv2DBackpropInput", [sizes, b.tensor(kernel), b.tensor(dy)], attrs)


@rule("MaxPool", "AvgPool")
def _pool(b, eq):
    x = eq.inputs[0]
    ksize, strides = eq.attrs["ksize"], eq.attrs["strides"]
    attrs = {"ksize": ints_attr(_nhwc(ksize)), "strides": ints_attr(_nhwc(strides)),
             "data_format": str_attr("NHWC")}
    attrs.update(_padding(b, eq, b.shape(x)[1:3], ksize, strides, (1, 1), eq.attrs["pads"],
                          explicit_ok=False))
    if eq.primitive.name == "MaxPool":  # TF's MaxPool has the attribute; TF.js runs it unset.
        attrs["explicit_paddings"] = {"list": {}}
    _op(b, eq, eq.primitive.name, [b.tensor(x)], attrs)


@rule("ResizeBilinear", "ResizeNearestNeighbor")
def _resize(b, eq):
    # numpyflow resizes as TF2's tf.image.resize: half-pixel centres, corners not aligned.
    size = b.const(np.asarray(eq.attrs["size"], np.int32), "size")
    _op(b, eq, eq.primitive.name, [b.tensor(eq.inputs[0]), size],
        {"align_corners": bool_attr(False), "half_pixel_centers": bool_attr(True)})


# -- shapes and layout -------------------------------------------------------------------------

@rule("Reshape", dynamic=("shape",))
def _reshape(b, eq):
    target = [int(d) for d in eq.attrs["shape"]]
    if b.is_dynamic(eq, "shape"):
        axes = b.dynamic_axes(eq.output)
        if len(axes) != 1:
            b.fail(f"its target shape follows the batch size in {len(axes)} axes; TF.js can "
                   f"infer one (-1)")
        target[next(iter(axes))] = -1
    shape = b.const(np.asarray(target, np.int32), "shape")
    _op(b, eq, "Reshape", [b.tensor(eq.inputs[0]), shape], {"Tshape": type_attr(np.int32)})


@rule("Transpose")
def _transpose(b, eq):
    perm = b.const(np.asarray(eq.attrs["perm"], np.int32), "perm")
    _op(b, eq, "Transpose", [b.tensor(eq.inputs[0]), perm], {"Tperm": type_attr(np.int32)})


@rule("ConcatV2")
def _concat(b, eq):
    rank = len(eq.output.shape)
    axis = b.const(np.asarray(eq.attrs["axis"] % rank, np.int32), "axis")
    _op(b, eq, "ConcatV2", [b.tensor(a) for a in eq.inputs] + [axis],
        {"N": int_attr(len(eq.inputs)), "Tidx": type_attr(np.int32)})


@rule("Pack")
def _pack(b, eq):
    _op(b, eq, "Pack", [b.tensor(a) for a in eq.inputs],
        {"N": int_attr(len(eq.inputs)), "axis": int_attr(eq.attrs["axis"])})


@rule("Pad", "PadV2", "MirrorPad")
def _pad(b, eq):
    paddings = b.const(np.asarray(eq.attrs["paddings"], np.int32).reshape(-1, 2), "paddings")
    inputs = [b.tensor(eq.inputs[0]), paddings]
    attrs = {"Tpaddings": type_attr(np.int32)}
    if eq.primitive.name == "PadV2":
        inputs.append(b.tensor_or_const(eq.attrs["constant_values"], eq.output.dtype))
    elif eq.primitive.name == "MirrorPad":
        attrs["mode"] = str_attr(eq.attrs["mode"])
    _op(b, eq, eq.primitive.name, inputs, attrs)


@rule("Tile")
def _tile(b, eq):
    multiples = b.const(np.asarray(eq.attrs["multiples"], np.int32), "multiples")
    _op(b, eq, "Tile", [b.tensor(eq.inputs[0]), multiples], {"Tmultiples": type_attr(np.int32)})


@rule("BroadcastTo")
def _broadcast_to(b, eq):
    shape = b.const(np.asarray(eq.attrs["shape"], np.int32), "shape")
    _op(b, eq, "BroadcastTo", [b.tensor(eq.inputs[0]), shape], {"Tidx": type_attr(np.int32)})


@rule("StridedSlice")
def _strided_slice(b, eq):
    begin, end, strides, masks = _slice_spec(b, eq.attrs["key"])
    consts = [b.const(np.asarray(v, np.int32), hint)
              for v, hint in ((begin, "begin"), (end, "end"), (strides, "strides"))]
    # TF.js 4.22's StridedSlice reads the wrong elements when an index (shrink_axis_mask)
    # meets a negative stride: slice with the axis kept (size 1), then reshape it away.
    reshape = masks["shrink_axis_mask"] and any(step < 0 for step in strides)
    if reshape:
        masks["shrink_axis_mask"] = 0
    attrs = {key: int_attr(value) for key, value in masks.items()}
    attrs["Index"] = type_attr(np.int32)
    if not reshape:
        _op(b, eq, "StridedSlice", [b.tensor(eq.inputs[0])] + consts, attrs)
        return
    attrs["T"] = type_attr(eq.output.dtype)
    sliced = b.add("StridedSlice", [b.tensor(eq.inputs[0])] + consts, attrs)
    target = b.dynamic_shape(eq.output)
    if target.count(-1) > 1:
        b.fail("an index with a negative stride on a value with several batch-sized axes")
    shape = b.const(np.asarray(target, np.int32), "shape")
    _op(b, eq, "Reshape", [sliced, shape], {"Tshape": type_attr(np.int32)})


def _slice_spec(b, key):
    """TF's StridedSlice begin/end/strides and masks for a basic NumPy index `key`."""
    key = key if isinstance(key, tuple) else (key,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                           "shrink_axis_mask"), 0)
    for i, part in enumerate(key):
        bit = 1 << i
        if part is Ellipsis:
            masks["ellipsis_mask"] |= bit
            begin.append(0), end.append(0), strides.append(1)
        elif part is None:
            masks["new_axis_mask"] |= bit
            begin.append(0), end.append(0), strides.append(1)
        elif isinstance(part, slice):
            for value in (part.start, part.stop, part.step):
                if value is not None and not isinstance(value, (int, np.integer)):
                    b.fail(f"slice bounds must be Python ints; received {part!r}")
            begin.append(0 if part.start is None else int(part.start))
            end.append(0 if part.stop is None else int(part.stop))
            strides.append(1 if part.step is None else int(part.step))
            masks["begin_mask"] |= bit if part.start is None else 0
            masks["end_mask"] |= bit if part.stop is None else 0
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            masks["shrink_axis_mask"] |= bit
            begin.append(int(part)), end.append(int(part) + 1), strides.append(1)
            if int(part) == -1:  # end 0 would be empty: run to the end of the axis.
                masks["end_mask"] |= bit
        else:
            b.fail(f"only basic indexing (ints, slices, None, ...) exports; received an index "
                   f"of type {type(part).__name__}")
    return begin, end, strides, masks


# -- reductions, gathers -----------------------------------------------------------------------

@rule("Mean", "Sum", "Max", "Min", "Prod", "All", "Any")
def _reduce(b, eq):
    x = eq.inputs[0]
    axes = b.const(np.asarray(_axes(eq.attrs["axis"], len(b.shape(x))), np.int32),
                   "reduction_indices")
    attrs = {"keep_dims": bool_attr(eq.attrs["keepdims"]), "Tidx": type_attr(np.int32)}
    if eq.primitive.name in ("All", "Any"):
        b.define(eq.output, b.add(eq.primitive.name, [b.tensor(x), axes], attrs))
    elif eq.primitive.name == "Mean" and eq.output.dtype.kind in "iu":
        _integer_mean(b, eq, axes, attrs)
    else:
        _op(b, eq, eq.primitive.name, [b.tensor(x), axes], attrs)


def _integer_mean(b, eq, axes, attrs):
    """TF's integer Mean, sum / count truncated toward zero, in int32 ops: TF.js's Mean of
    int32 returns float32. sign(sum) * floor(|sum| / count); the count is a Sum of ones, so
    it follows the batch when a reduced axis does."""
    x = b.tensor(eq.inputs[0])
    t = {"T": type_attr(eq.output.dtype)}
    total = b.add("Sum", [x, axes], dict(attrs, **t))
    count = b.add("Sum", [b.add("OnesLike", [x], t), axes], dict(attrs, **t))
    magnitude = b.add("FloorDiv", [b.add("Abs", [total], t), count], t)
    b.define(eq.output, b.add("Mul", [b.add("Sign", [total], t), magnitude], t))


@rule("ArgMax", "ArgMin")
def _arg(b, eq):
    x = eq.inputs[0]
    axis = b.const(np.asarray(_axes(eq.attrs["axis"], len(b.shape(x)))[0], np.int32),
                   "dimension")
    _op(b, eq, eq.primitive.name, [b.tensor(x), axis],
        {"Tidx": type_attr(np.int32), "output_type": type_attr(eq.output.dtype)},
        dtype=b.dtype(x))


@rule("Cumsum")
def _cumsum(b, eq):
    axis = b.const(np.asarray(eq.attrs["axis"], np.int32), "axis")
    _op(b, eq, "Cumsum", [b.tensor(eq.inputs[0]), axis],
        {"exclusive": bool_attr(eq.attrs["exclusive"]), "reverse": bool_attr(eq.attrs["reverse"]),
         "Tidx": type_attr(np.int32)})


@rule("GatherV2")
def _gather(b, eq):
    params, indices = eq.inputs[:2]
    axis = b.const(np.asarray(eq.attrs["axis"] % len(b.shape(params)), np.int32), "axis")
    _op(b, eq, "GatherV2", [b.tensor(params), b.tensor(indices), axis],
        {"Tparams": type_attr(eq.output.dtype), "Tindices": type_attr(np.int32),
         "Taxis": type_attr(np.int32), "batch_dims": int_attr(0)})


@rule("GatherNd")
def _gather_nd(b, eq):
    params, indices = eq.inputs[:2]
    _op(b, eq, "GatherNd", [b.tensor(params), b.tensor(indices)],
        {"Tparams": type_attr(eq.output.dtype), "Tindices": type_attr(np.int32)})


@rule("OneHot")
def _one_hot(b, eq):
    indices = eq.inputs[0]
    rank = len(eq.output.shape)
    if eq.attrs["axis"] not in (-1, rank - 1):
        b.fail(f"TF.js's OneHot writes the last axis; received axis={eq.attrs['axis']}")
    depth = b.const(np.asarray(eq.attrs["depth"], np.int32), "depth")
    on, off = eq.inputs[1:3]
    _op(b, eq, "OneHot", [b.tensor(indices), depth, b.tensor(on), b.tensor(off)],
        {"axis": int_attr(-1), "TI": type_attr(np.int32)})


@rule("ScatterNd")
def _scatter_nd(b, eq):
    indices, updates = eq.inputs[:2]
    shape = b.const(np.asarray(eq.attrs["shape"], np.int32), "shape")
    _op(b, eq, "ScatterNd", [b.tensor(indices), b.tensor(updates), shape],
        {"Tindices": type_attr(np.int32)})


# -- recurrences (unrolled: tfjs_graph_rnn) -----------------------------------------------

def _recurrence(kind):
    def translate(b, eq):
        # Imported here: tfjs_graph_rnn builds on this module's attribute helpers.
        from numpyflow.export import tfjs_graph_rnn
        getattr(tfjs_graph_rnn, kind)(b, eq)
    translate.__name__ = f"_{kind}"
    return translate


RULES["SimpleRNNSequence"] = _recurrence("simple_rnn")
RULES["LSTMSequence"] = _recurrence("lstm")
RULES["GRUSequence"] = _recurrence("gru")
for _name in ("SimpleRNNSequence", "LSTMSequence", "GRUSequence"):
    DYNAMIC_ATTRS[_name] = ()


# -- not exportable ----------------------------------------------------------------------------

_not_exportable("training-only (gradient)",
                "AvgPoolGrad", "Conv2DBackpropFilter", "EluGrad", "ImageProjectiveTransformV3Grad",
                "LeakyReluGrad", "MaxPoolGrad", "MaxPoolGradGrad", "MirrorPadGrad", "Relu6Grad",
                "ReluGrad", "ResizeBilinearGrad", "ResizeNearestNeighborGrad", "SeluGrad",
                "SigmoidGrad", "StridedSliceGrad", "TanhGrad", "GRUSequenceGrad",
                "LSTMSequenceGrad", "SimpleRNNSequenceGrad", "SoftmaxCrossEntropyBackprop",
                "SparseSoftmaxCrossEntropyBackprop")
_not_exportable("training-only (optimizer update)",
                "AssignAddVariableOp", "AssignSubVariableOp", "AssignVariableOp")
_not_exportable("training-only (loss)", "L2Loss", "SoftmaxCrossEntropyWithLogits",
                "SparseSoftmaxCrossEntropyWithLogits")
_not_exportable("random op (an exported graph model is deterministic)",
                "DropoutMask", "RandomShuffle", "RandomStandardNormal", "RandomUniform",
                "RandomUniformInt", "TruncatedNormal", "StatelessMultinomial",
                "StatelessParameterizedTruncatedNormal", "StatelessRandom",
                "StatelessRandomBinomial", "StatelessRandomGammaV3", "StatelessRandomPoisson")
_not_exportable("image augmentation transform (RandomRotation/Zoom/Translation: the identity "
                "at inference); no TF.js graph rule yet",
                "AnglesToProjectiveTransforms", "ImageProjectiveTransformV3")
# tf.linalg, the tensor scatters and unravel_index (helper "arrays").
_not_exportable("not converted yet (no TF.js graph kernel for it)", "Cholesky",
                "LogMatrixDeterminant", "MatrixDeterminant", "MatrixInverse", "MatrixSolve",
                "MatrixTriangularSolve", "Qr", "SelfAdjointEigV2", "Svd", "UnravelIndex")
_not_exportable("not converted yet (TensorScatterUpdate/Max/Min)", "TensorScatterUpdate",
                "TensorScatterMax", "TensorScatterMin")
_not_exportable("strings (no TF.js kernels for them)",
                "AsString", "ReduceJoin", "RegexFullMatch", "StaticRegexReplace", "StringJoin",
                "StringLength", "StringLower", "StringStrip", "StringToHashBucketFast",
                "StringToHashBucketStrong", "StringToNumber", "StringUpper", "Substr")
_not_exportable("file reading and image decoding (tf.io): not a tensor computation TF.js runs",
                "ReadFile", "DecodeImage", "DecodeJpeg", "DecodePng")
_not_exportable("collective all-reduce (tf.distribute training)", "CollectiveReduceV2")
_not_exportable("tf.print / tf.debugging check (a debugging aid: remove it from the exported "
                "model)", "PrintV2", "Assert", "CheckNumerics")
_not_exportable("no TF.js kernel", "UnsortedSegmentSum")
# The fused training-mode batch norm (ops/normalization_ops.py): an inference graph folds
# BatchNormalization with its moving statistics instead.
_not_exportable("training-only (batch statistics)", "BatchMoments", "BatchNormTraining",
                "BatchNormTrainingGradSums", "BatchNormTrainingInputGrad")
# tf.image.random_flip_* in one op (ops/image_ops.py), and the flips of its gradient.
_not_exportable("random op (an exported graph model is deterministic)", "RandomFlip")
_not_exportable("training-only (gradient)", "FlipWhere")
# The tf.math gap fill (ops/math_more_ops.py, sort_ops.py, segment_ops.py; session 7):
# TF.js runs these TF ops under their TF names.
rule("Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
     "Ceil")(_unary)
rule("Atan2")(_binary)


@rule("IsNan", "IsInf", "IsFinite")
def _float_test(b, eq):
    # T is the operand's float dtype; the output is bool.
    _op(b, eq, eq.primitive.name, [b.tensor(eq.inputs[0])], dtype=b.dtype(eq.inputs[0]))


_not_exportable("not converted yet (math gap fill: no TF.js graph rule written)",
                "Rint", "Lgamma", "Digamma", "Polygamma", "Erfc", "Erfinv", "Ndtri", "Xlogy",
                "Xlog1py", "Xdivy", "MulNoNan", "TruncateDiv", "TruncateMod", "Cumprod",
                "CumulativeLogsumexp", "TopKV2", "InTopKV2", "Unique", "UniqueWithCounts",
                "LowerBound", "UpperBound", "InvertPermutation", "SegmentSum", "SegmentMean",
                "SegmentMax", "SegmentMin", "SegmentProd", "UnsortedSegmentMax",
                "UnsortedSegmentMin", "UnsortedSegmentProd", "DenseBincount",
                "HistogramFixedWidth")
# The tf.image gap fill (ops/detection_ops.py; session 7): each primitive is one output of
# a multi-output TF op, which a TF.js graph node cannot express alone.
_not_exportable("not converted yet (image gap fill: no TF.js graph rule written)",
                "NonMaxSuppressionV5", "NonMaxSuppressionWithOverlaps",
                "CombinedNonMaxSuppression", "DrawBoundingBoxesV2")
# tf.bitwise (ops/bitwise_ops.py): TF.js has BitwiseAnd alone.
_not_exportable("not converted yet (tf.bitwise: no TF.js graph rule written)",
                "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Invert", "LeftShift", "RightShift")
