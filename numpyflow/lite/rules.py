"""TFLite conversion rules: one per primitive, keyed by the primitive's name.

`RULES[name]` is either a function `rule(lowering, equation)` that adds the TFLite
operators computing the equation (see `lowering.Lowering`), or a `NotExportable` saying
why the primitive never appears in an exported model. `tests/lite/test_rules.py` checks
that every registered primitive has an entry.

Fusion, as TF's converter does it: a MatMul or convolution takes over the BiasAdd after
it and then a Relu or Relu6 (TFLite's fused activation functions); ADD, SUB and MUL take
over a Relu or Relu6 after them.
"""

import numpy as np

from numpyflow.export.rule_table import NotExportable
from numpyflow.framework.graph import Constant, Value
from numpyflow.lite import recurrent
from numpyflow.lite.flatbuffer import tensor_type


# ActivationFunctionType values. LiteRT's kernels fuse these two everywhere (TANH only in some).
_FUSED_ACTIVATIONS = {"Relu": 1, "Relu6": 3}
_PADDING_SAME, _PADDING_VALID = 0, 1


# -- helpers -------------------------------------------------------------------------------
def _shape(atom):
    """The shape of a Value or a Constant."""
    return tuple(atom.shape) if hasattr(atom, "shape") else np.shape(atom.value)


def _constant(lowering, eq, atom, what):
    if not isinstance(atom, Constant):
        raise lowering.error(eq, f"its {what} must be a constant (a weight), but it is "
                                 f"computed in the model")
    return np.asarray(atom.value)


def _fuse_bias_and_activation(lowering, eq, value, channels, allow_activation=True):
    """Takes over the BiasAdd (constant bias) and activation after `value`.

    Returns (bias array or None, activation code, the Value the fused op produces).
    """
    bias = None
    bias_eq = lowering.follower(value, ("BiasAdd",))
    if bias_eq is not None and isinstance(bias_eq.inputs[1], Constant) and \
            bias_eq.inputs[0] is value and np.shape(bias_eq.inputs[1].value) == (channels,):
        lowering.take(bias_eq)
        bias = np.asarray(bias_eq.inputs[1].value)
        value = bias_eq.output
    activation = 0
    if allow_activation:
        act_eq = lowering.follower(value, tuple(_FUSED_ACTIVATIONS))
        if act_eq is not None:
            lowering.take(act_eq)
            activation = _FUSED_ACTIVATIONS[act_eq.primitive.name]
            value = act_eq.output
    return bias, activation, value


def _bias_tensor(lowering, eq, bias, channels, dtype):
    if bias is None:
        bias = np.zeros(channels, dtype)
    return lowering.constant(bias.astype(dtype), lowering.name(eq, "bias"))


def _same_pads(in_size, kernel, stride, dilation):
    effective = (kernel - 1) * dilation + 1
    out = -(-in_size // stride)
    total = max((out - 1) * stride + effective - in_size, 0)
    return (total // 2, total - total // 2)


def _padding(lowering, eq, x_value, kernel_hw, strides, dilations, pads):
    """TFLite's SAME or VALID for explicit `pads`; None when neither matches."""
    pads = tuple(tuple(p) for p in pads)
    if all(p == (0, 0) for p in pads):
        return _PADDING_VALID
    same = tuple(_same_pads(x_value.shape[1 + i], kernel_hw[i], strides[i], dilations[i])
                 for i in range(2))
    if pads == same:
        return _PADDING_SAME
    return None


def _explicit_pad(lowering, eq, x_index, x_value, pads):
    """A PAD operator adding `pads` (height, width) to an NHWC tensor; returns its index."""
    paddings = [(0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)]
    shape = list(x_value.shape)
    shape[1] += sum(pads[0])
    shape[2] += sum(pads[1])
    padded = Value(f"{x_value.name}_padded", shape, x_value.dtype)
    out = lowering.new_tensor(padded, lowering.name(eq, "Pad"))
    # Same values as the input plus zeros: calibrate it like the input.
    lowering.value_of_tensor[out] = None
    lowering.op("PAD", [x_index, lowering.int_constant(paddings, lowering.name(eq, "paddings"))],
                [out], ("PadOptions", {}))
    return out


# -- dense and convolutions ----------------------------------------------------------------
def _matmul(lowering, eq):
    a, b = eq.inputs
    if eq.attrs.get("transpose_a") or not isinstance(b, Constant) or len(_shape(a)) != 2:
        return _batch_matmul(lowering, eq)
    kernel = np.asarray(b.value)
    if not eq.attrs.get("transpose_b"):
        kernel = kernel.T       # TFLite wants (units, input_dim).
    units = kernel.shape[0]
    bias, activation, value = _fuse_bias_and_activation(lowering, eq, eq.output, units)
    weights = lowering.constant(kernel, lowering.name(eq, "MatMul/kernel"))
    bias_index = _bias_tensor(lowering, eq, bias, units, kernel.dtype)
    out = lowering.output(eq, value, "MatMul")
    lowering.op("FULLY_CONNECTED", [lowering.tensor(a), weights, bias_index], [out],
                ("FullyConnectedOptions", {"FusedActivationFunction": activation}))


def _batch_matmul(lowering, eq):
    a, b = eq.inputs
    out = lowering.output(eq)
    lowering.op("BATCH_MATMUL", [lowering.tensor(a), lowering.tensor(b)], [out],
                ("BatchMatMulOptions", {"AdjX": bool(eq.attrs.get("transpose_a")),
                                        "AdjY": bool(eq.attrs.get("transpose_b"))}))


def _conv2d(lowering, eq):
    x, kernel_atom = eq.inputs
    kernel = _constant(lowering, eq, kernel_atom, "kernel")
    groups = eq.attrs.get("groups", 1)
    strides, dilations = eq.attrs["strides"], eq.attrs["dilations"]
    in_channels = x.shape[-1]
    out_channels = kernel.shape[-1]
    x_index = lowering.tensor(x)
    padding = _padding(lowering, eq, x, kernel.shape[:2], strides, dilations, eq.attrs["pads"])
    if padding is None:
        x_index = _explicit_pad(lowering, eq, x_index, x, eq.attrs["pads"])
        padding = _PADDING_VALID
    bias, activation, value = _fuse_bias_and_activation(lowering, eq, eq.output, out_channels)
    options = {"Padding": padding, "StrideW": strides[1], "StrideH": strides[0],
               "FusedActivationFunction": activation,
               "DilationWFactor": dilations[1], "DilationHFactor": dilations[0]}
    if groups == 1:
        weights = lowering.constant(kernel.transpose(3, 0, 1, 2),  # HWIO -> OHWI
                                    lowering.name(eq, "Conv2D/kernel"))
        bias_index = _bias_tensor(lowering, eq, bias, out_channels, kernel.dtype)
        out = lowering.output(eq, value, "Conv2D")
        lowering.op("CONV_2D", [x_index, weights, bias_index], [out],
                    ("Conv2DOptions", options))
    elif groups == in_channels and kernel.shape[2] == 1:
        # Depthwise: (H, W, 1, C * multiplier) -> (1, H, W, C * multiplier).
        weights = lowering.constant(kernel.transpose(2, 0, 1, 3),
                                    lowering.name(eq, "depthwise/kernel"))
        bias_index = _bias_tensor(lowering, eq, bias, out_channels, kernel.dtype)
        out = lowering.output(eq, value, "depthwise")
        options["DepthMultiplier"] = out_channels // in_channels
        version = 2 if tuple(dilations) != (1, 1) else 1
        lowering.op("DEPTHWISE_CONV_2D", [x_index, weights, bias_index], [out],
                    ("DepthwiseConv2DOptions", options), version=version)
    else:
        raise lowering.error(eq, f"a grouped convolution (groups={groups}, {in_channels} "
                                 f"input channels) has no TFLite operator; expected groups=1 "
                                 f"or groups equal to the input channels (depthwise)")


def _conv2d_transpose(lowering, eq):
    kernel_atom, x = eq.inputs
    kernel = _constant(lowering, eq, kernel_atom, "kernel")   # (H, W, out, in)
    if eq.attrs.get("groups", 1) != 1 or tuple(eq.attrs["dilations"]) != (1, 1):
        raise lowering.error(eq, f"TRANSPOSE_CONV takes no groups or dilation; received "
                                 f"groups={eq.attrs.get('groups', 1)}, "
                                 f"dilations={tuple(eq.attrs['dilations'])}")
    output_shape = tuple(eq.attrs["input_shape"])
    strides = eq.attrs["strides"]
    pads = tuple(tuple(p) for p in eq.attrs["pads"])
    same = tuple(_same_pads(output_shape[1 + i], kernel.shape[i], strides[i], 1)
                 for i in range(2))
    valid_hw = tuple((x.shape[1 + i] - 1) * strides[i] + kernel.shape[i] for i in range(2))
    if pads == same and all(x.shape[1 + i] == -(-output_shape[1 + i] // strides[i])
                            for i in range(2)):
        padding = _PADDING_SAME
    elif all(p == (0, 0) for p in pads) and tuple(output_shape[1:3]) == valid_hw:
        padding = _PADDING_VALID
    else:
        raise lowering.error(eq, f"its padding {pads} is neither SAME nor VALID, the only "
                                 f"ones TRANSPOSE_CONV has")
    out_channels = kernel.shape[2]
    bias, _, value = _fuse_bias_and_activation(lowering, eq, eq.output, out_channels,
                                               allow_activation=False)
    shape_index = _output_shape(lowering, eq, x, output_shape)
    weights = lowering.constant(kernel.transpose(2, 0, 1, 3),   # -> (out, H, W, in)
                                lowering.name(eq, "conv_transpose/kernel"))
    bias_index = _bias_tensor(lowering, eq, bias, out_channels, kernel.dtype)
    out = lowering.output(eq, value, "conv_transpose")
    lowering.op("TRANSPOSE_CONV", [shape_index, weights, lowering.tensor(x), bias_index], [out],
                ("TransposeConvOptions", {"Padding": padding, "StrideW": strides[1],
                                          "StrideH": strides[0]}), version=3)


def _output_shape(lowering, eq, x, static_shape):
    """An int32 tensor holding `static_shape`, its batch taken from `x` at run time when
    the batch is dynamic (SHAPE, STRIDED_SLICE, CONCATENATION, as TF writes it)."""
    if 0 not in lowering.dynamic_axes(x):
        return lowering.int_constant(static_shape, lowering.name(eq, "output_shape"))
    name = lowering.name(eq, "output_shape")
    shape = lowering.writer.add_tensor(f"{name}/Shape", np.int32, (len(x.shape),))
    lowering.op("SHAPE", [lowering.tensor(x)], [shape], ("ShapeOptions", {"OutType": 2}))
    batch = lowering.writer.add_tensor(f"{name}/batch", np.int32, (1,))
    lowering.op("STRIDED_SLICE", [shape, lowering.int_constant([0], f"{name}/begin"),
                                  lowering.int_constant([1], f"{name}/end"),
                                  lowering.int_constant([1], f"{name}/strides")], [batch],
                ("StridedSliceOptions", {}))
    rest = lowering.int_constant(static_shape[1:], f"{name}/rest")
    full = lowering.writer.add_tensor(name, np.int32, (len(static_shape),))
    lowering.op("CONCATENATION", [batch, rest], [full],
                ("ConcatenationOptions", {"Axis": 0}))
    return full


def _pool(opcode):
    def rule(lowering, eq):
        (x,) = eq.inputs
        ksize, strides = eq.attrs["ksize"], eq.attrs["strides"]
        padding = _padding(lowering, eq, x, ksize, strides, (1, 1), eq.attrs["pads"])
        if padding is None:
            raise lowering.error(eq, f"its padding {eq.attrs['pads']} is neither SAME nor "
                                     f"VALID, the only ones {opcode} has")
        out = lowering.output(eq)
        lowering.op(opcode, [lowering.tensor(x)], [out],
                    ("Pool2DOptions", {"Padding": padding, "StrideW": strides[1],
                                       "StrideH": strides[0], "FilterWidth": ksize[1],
                                       "FilterHeight": ksize[0]}))
    return rule


# -- element-wise --------------------------------------------------------------------------
_BINARY_OPTIONS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions",
                   "DIV": "DivOptions"}


def _identity_operand(opcode, eq):
    """The operand `eq` passes through unchanged (x + 0, x - 0, x * 1, x / 1), or None."""
    neutral = {"ADD": 0, "SUB": 0, "MUL": 1, "DIV": 1}.get(opcode)
    if neutral is None:
        return None
    a, b = eq.inputs
    pairs = [(a, b), (b, a)] if opcode in ("ADD", "MUL") else [(a, b)]
    for kept, other in pairs:
        if (isinstance(other, Constant) and not isinstance(kept, Constant)
                and tuple(kept.shape) == tuple(eq.output.shape) and kept.dtype == eq.output.dtype
                and np.all(np.asarray(other.value) == neutral)):
            return kept
    return None


def _binary(opcode):
    def rule(lowering, eq):
        a, b = eq.inputs
        kept = _identity_operand(opcode, eq)
        if kept is not None:   # Rescaling(1/255) adds an offset of 0: no ADD for it.
            lowering.alias(eq.output, lowering.tensor(kept))
            return
        options = None
        value = eq.output
        if opcode in _BINARY_OPTIONS:
            _, activation, value = _fuse_bias_and_activation(lowering, eq, eq.output, 0)
            options = (_BINARY_OPTIONS[opcode], {"FusedActivationFunction": activation})
        out = lowering.output(eq, value)
        lowering.op(opcode, [lowering.tensor(a), lowering.tensor(b)], [out], options)
    return rule


def _bias_add(lowering, eq):
    x, bias = eq.inputs
    _, activation, value = _fuse_bias_and_activation(lowering, eq, eq.output, 0)
    out = lowering.output(eq, value, "BiasAdd")
    lowering.op("ADD", [lowering.tensor(x), lowering.tensor(bias)], [out],
                ("AddOptions", {"FusedActivationFunction": activation}))


def _unary(opcode, options=None):
    def rule(lowering, eq):
        out = lowering.output(eq)
        lowering.op(opcode, [lowering.tensor(eq.inputs[0])], [out], options)
    return rule


def _identity(lowering, eq):
    lowering.alias(eq.output, lowering.tensor(eq.inputs[0]))


def _leaky_relu(lowering, eq):
    out = lowering.output(eq)
    lowering.op("LEAKY_RELU", [lowering.tensor(eq.inputs[0])], [out],
                ("LeakyReluOptions", {"Alpha": float(eq.attrs["alpha"])}))


def _gelu(lowering, eq):
    out = lowering.output(eq)
    lowering.op("GELU", [lowering.tensor(eq.inputs[0])], [out],
                ("GeluOptions", {"Approximate": bool(eq.attrs.get("approximate", False))}))


def _softmax(opcode):
    def rule(lowering, eq):
        (x,) = eq.inputs
        rank = len(_shape(x))
        axis = eq.attrs.get("axis", -1)
        axis = axis + rank if axis < 0 else axis
        options = (("SoftmaxOptions", {"Beta": 1.0}) if opcode == "SOFTMAX"
                   else ("LogSoftmaxOptions", {}))
        if axis == rank - 1:
            lowering.op(opcode, [lowering.tensor(x)], [lowering.output(eq)], options)
            return
        # The kernels work on the last axis: swap `axis` there and back (as TF's graph does).
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        dynamic = {perm.index(a) for a in lowering.dynamic_axes(x)}
        shape = [_shape(x)[p] for p in perm]
        moved = lowering.intermediate(lowering.name(eq, "transpose"), x.dtype, shape,
                                      dynamic, x.name)
        result = lowering.intermediate(lowering.name(eq, opcode.lower()), eq.output.dtype,
                                       shape, dynamic, eq.output.name)
        perm_index = lowering.int_constant(perm, lowering.name(eq, "perm"))
        lowering.op("TRANSPOSE", [lowering.tensor(x), perm_index], [moved],
                    ("TransposeOptions", {}))
        lowering.op(opcode, [moved], [result], options)
        lowering.op("TRANSPOSE", [result, perm_index], [lowering.output(eq)],
                    ("TransposeOptions", {}))
    return rule


def _clip_by_value(lowering, eq):
    x, low, high = eq.inputs
    middle = Value(f"{eq.output.name}_min", eq.output.shape, eq.output.dtype)
    upper = lowering.new_tensor(middle, lowering.name(eq, "clip_by_value/Minimum"))
    lowering.value_of_tensor[upper] = eq.output.name
    lowering.op("MINIMUM", [lowering.tensor(x), lowering.tensor(high)], [upper])
    out = lowering.output(eq)
    lowering.op("MAXIMUM", [upper, lowering.tensor(low)], [out])


def _cast(lowering, eq):
    out = lowering.output(eq)
    lowering.op("CAST", [lowering.tensor(eq.inputs[0])], [out])


# -- shapes --------------------------------------------------------------------------------
def _reshape(lowering, eq):
    (x,) = eq.inputs
    shape = [int(d) for d in eq.attrs["shape"]]
    dynamic = lowering.dynamic_axes(eq.output)
    if dynamic or lowering.dynamic_attr(eq, "shape"):
        if len(dynamic) != 1:
            raise lowering.error(eq, f"a reshape to {tuple(eq.output.shape)} whose dimensions "
                                     f"{sorted(dynamic)} follow the batch size cannot be "
                                     f"written with one -1")
        shape[next(iter(dynamic))] = -1
    out = lowering.output(eq)
    lowering.op("RESHAPE", [lowering.tensor(x), lowering.int_constant(shape, lowering.name(
        eq, "Reshape/shape"))], [out])


def _concat(lowering, eq):
    axis = eq.attrs["axis"]
    rank = len(eq.output.shape)
    axis = axis + rank if axis < 0 else axis
    # No fused activation: LiteRT's CONCATENATION kernel requires none.
    out = lowering.output(eq, None, "concat")
    lowering.op("CONCATENATION", [lowering.tensor(a) for a in eq.inputs], [out],
                ("ConcatenationOptions", {"Axis": axis}))


def _reduce(opcode):
    def rule(lowering, eq):
        (x,) = eq.inputs
        axis = eq.attrs.get("axis")
        rank = len(_shape(x))
        axes = list(range(rank)) if axis is None else [
            a + rank if a < 0 else a for a in np.atleast_1d(axis).tolist()]
        out = lowering.output(eq)
        lowering.op(opcode, [lowering.tensor(x), lowering.int_constant(axes, lowering.name(
            eq, "reduction_indices"))], [out],
            ("ReducerOptions", {"KeepDims": bool(eq.attrs.get("keepdims", False))}))
    return rule


def _pad(lowering, eq):
    (x,) = eq.inputs[:1]
    paddings = lowering.int_constant(np.asarray(eq.attrs["paddings"]),
                                     lowering.name(eq, "paddings"))
    out = lowering.output(eq)
    if eq.primitive.name == "PadV2":
        fill = eq.attrs["constant_values"]   # A traced array attribute: a Constant atom.
        if isinstance(fill, Value):
            raise lowering.error(eq, "its constant_values must be a constant, but it is "
                                     "computed in the model")
        value = np.asarray(fill.value if isinstance(fill, Constant) else fill,
                           x.dtype).reshape(())
        if value == 0:
            lowering.op("PAD", [lowering.tensor(x), paddings], [out], ("PadOptions", {}))
            return
        lowering.op("PADV2", [lowering.tensor(x), paddings,
                              lowering.constant(value, lowering.name(eq, "constant_values"))],
                    [out], ("PadV2Options", {}))
        return
    lowering.op("PAD", [lowering.tensor(x), paddings], [out], ("PadOptions", {}))


def _resize(opcode, options_table):
    def rule(lowering, eq):
        (x,) = eq.inputs
        size = lowering.int_constant(list(eq.attrs["size"]), lowering.name(eq, "size"))
        out = lowering.output(eq)
        options = {"HalfPixelCenters": True}
        if opcode == "RESIZE_BILINEAR":
            options["AlignCorners"] = False
        lowering.op(opcode, [lowering.tensor(x), size], [out], (options_table, options),
                    version=3)
    return rule


def _transpose(lowering, eq):
    perm = lowering.int_constant(list(eq.attrs["perm"]), lowering.name(eq, "perm"))
    out = lowering.output(eq)
    lowering.op("TRANSPOSE", [lowering.tensor(eq.inputs[0]), perm], [out],
                ("TransposeOptions", {}))


def _pack(lowering, eq):
    axis = eq.attrs["axis"]
    rank = len(eq.output.shape)
    out = lowering.output(eq)
    lowering.op("PACK", [lowering.tensor(a) for a in eq.inputs], [out],
                ("PackOptions", {"ValuesCount": len(eq.inputs),
                                 "Axis": axis + rank if axis < 0 else axis}))


def _gather(lowering, eq):
    params, indices = eq.inputs
    rank = len(_shape(params))
    axis = eq.attrs.get("axis", 0)
    out = lowering.output(eq)
    lowering.op("GATHER", [lowering.tensor(params), lowering.tensor(indices)], [out],
                ("GatherOptions", {"Axis": axis + rank if axis < 0 else axis}))


def _gather_nd(lowering, eq):
    out = lowering.output(eq)
    lowering.op("GATHER_ND", [lowering.tensor(a) for a in eq.inputs], [out])


def _select(lowering, eq):
    out = lowering.output(eq)
    lowering.op("SELECT_V2", [lowering.tensor(a) for a in eq.inputs], [out])


def _arg_reduce(opcode, options_table):
    def rule(lowering, eq):
        (x,) = eq.inputs
        output_type = np.dtype(eq.attrs["output_type"])
        if output_type not in (np.int32, np.int64):
            raise lowering.error(eq, f"{opcode} returns int32 or int64; received "
                                     f"output_type={output_type.name}")
        out = lowering.output(eq)
        lowering.op(opcode, [lowering.tensor(x), lowering.int_constant(
            [eq.attrs["axis"]], lowering.name(eq, "dimension"))], [out],
            (options_table, {"OutputType": tensor_type(output_type)}))
    return rule


def _tile(lowering, eq):
    if 0 in lowering.dynamic_axes(eq.inputs[0]) and eq.attrs["multiples"][0] != 1:
        raise lowering.error(eq, "tiling the batch dimension changes with the batch size")
    out = lowering.output(eq)
    lowering.op("TILE", [lowering.tensor(eq.inputs[0]), lowering.int_constant(
        list(eq.attrs["multiples"]), lowering.name(eq, "multiples"))], [out])


def _broadcast_to(lowering, eq):
    shape = list(eq.attrs["shape"])
    dynamic = lowering.dynamic_axes(eq.output)
    if dynamic:
        raise lowering.error(eq, f"broadcasting to {tuple(shape)}, whose dimensions "
                                 f"{sorted(dynamic)} follow the batch size, needs a shape "
                                 f"computed at run time; export with a fixed batch size")
    out = lowering.output(eq)
    lowering.op("BROADCAST_TO", [lowering.tensor(eq.inputs[0]), lowering.int_constant(
        shape, lowering.name(eq, "shape"))], [out])


def _mirror_pad(lowering, eq):
    mode = str(eq.attrs["mode"]).upper()
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise lowering.error(eq, f"MIRROR_PAD has modes REFLECT and SYMMETRIC; received {mode}")
    out = lowering.output(eq)
    lowering.op("MIRROR_PAD", [lowering.tensor(eq.inputs[0]), lowering.int_constant(
        np.asarray(eq.attrs["paddings"]), lowering.name(eq, "paddings"))], [out],
        ("MirrorPadOptions", {"Mode": 0 if mode == "REFLECT" else 1}))


def _cumsum(lowering, eq):
    out = lowering.output(eq)
    axis = eq.attrs["axis"]
    lowering.op("CUMSUM", [lowering.tensor(eq.inputs[0]), lowering.int_constant(
        axis, lowering.name(eq, "axis"))], [out],
        ("CumsumOptions", {"Exclusive": bool(eq.attrs["exclusive"]),
                           "Reverse": bool(eq.attrs["reverse"])}))


def _strided_slice(lowering, eq):
    (x,) = eq.inputs
    key = eq.attrs["key"]
    key = key if isinstance(key, tuple) else (key,)
    begin, end, strides = [], [], []
    masks = {"BeginMask": 0, "EndMask": 0, "EllipsisMask": 0, "NewAxisMask": 0,
             "ShrinkAxisMask": 0}
    for position, item in enumerate(key):
        bit = 1 << position
        if isinstance(item, slice):
            for part in (item.start, item.stop, item.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    raise lowering.error(eq, f"slice bounds must be Python ints; received "
                                             f"{item!r}")
            begin.append(item.start or 0)
            end.append(item.stop or 0)
            strides.append(item.step or 1)
            if item.start is None:
                masks["BeginMask"] |= bit
            if item.stop is None:
                masks["EndMask"] |= bit
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            # With the shrink bit, kernels take one element at `begin` and ignore `end`.
            begin.append(int(item))
            end.append(int(item) + 1)
            strides.append(1)
            masks["ShrinkAxisMask"] |= bit
        elif item is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["NewAxisMask"] |= bit
        elif item is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["EllipsisMask"] |= bit
        else:
            raise lowering.error(eq, f"indexing with {type(item).__name__} (gather-style "
                                     f"indexing) has no STRIDED_SLICE form; expected slices, "
                                     f"ints, None or ...")
    out = lowering.output(eq)
    version = 6 if masks["EllipsisMask"] or masks["NewAxisMask"] else (
        4 if len(_shape(x)) > 4 else 1)
    lowering.op("STRIDED_SLICE", [lowering.tensor(x),
                                  lowering.int_constant(begin, lowering.name(eq, "begin")),
                                  lowering.int_constant(end, lowering.name(eq, "end")),
                                  lowering.int_constant(strides, lowering.name(eq, "strides"))],
                [out], ("StridedSliceOptions", masks), version=version)


def _einsum(lowering, eq):
    """A two-operand einsum as TRANSPOSE/RESHAPE around one matrix product: BATCH_MATMUL,
    or FULLY_CONNECTED when the right operand is a constant without batch letters (the
    EinsumDense projections of attention layers)."""
    equation = eq.attrs["equation"]
    if len(eq.inputs) != 2 or "." in equation or "->" not in equation:
        raise lowering.error(eq, f"only two-operand einsum equations without '...' are "
                                 f"converted; received {equation!r} with {len(eq.inputs)} "
                                 f"operands")
    operands, out = equation.split("->")
    sa, sb = operands.split(",")
    for term in (sa, sb, out):
        if len(set(term)) != len(term):
            raise lowering.error(eq, f"einsum {equation!r} repeats a letter in one term "
                                     f"(a diagonal), which is not converted")
    if any(letter not in sb and letter not in out for letter in sa) or \
            any(letter not in sa and letter not in out for letter in sb):
        raise lowering.error(eq, f"einsum {equation!r} sums a letter of one operand alone, "
                                 f"which is not converted")
    a, b = eq.inputs
    sizes = dict(zip(sa, _shape(a)))
    sizes.update(zip(sb, _shape(b)))
    dynamic = {sa[axis] for axis in _dynamic(lowering, a)} | {
        sb[axis] for axis in _dynamic(lowering, b)}
    batch = [c for c in out if c in sa and c in sb]
    free_a = [c for c in sa if c not in sb]
    free_b = [c for c in sb if c not in sa]
    contract = [c for c in sa if c in sb and c not in out]

    def group_shape(groups):
        shape, axes = [], set()
        for position, group in enumerate(groups):
            shape.append(int(np.prod([sizes[c] for c in group])) if group else 1)
            if any(c in dynamic for c in group):
                axes.add(position)
        return shape, axes

    def arrange(atom, term, order, groups, what):
        """`atom` transposed to `order` and reshaped to the merged `groups`."""
        shape, axes = group_shape(groups)
        if isinstance(atom, Constant):
            array = np.asarray(atom.value).transpose([term.index(c) for c in order])
            return lowering.constant(array.reshape(shape), lowering.name(eq, f"einsum/{what}"))
        index = lowering.tensor(atom)
        like = atom.name
        if list(term) != order:
            moved = lowering.intermediate(
                lowering.name(eq, f"einsum/{what}/transpose"), atom.dtype,
                [sizes[c] for c in order], {i for i, c in enumerate(order) if c in dynamic}, like)
            lowering.op("TRANSPOSE", [index, lowering.int_constant(
                [term.index(c) for c in order], lowering.name(eq, f"einsum/{what}/perm"))],
                [moved], ("TransposeOptions", {}))
            index = moved
        merged = [sizes[c] for c in order]
        if merged != shape:
            flat = lowering.intermediate(lowering.name(eq, f"einsum/{what}/reshape"),
                                         atom.dtype, shape, axes, like)
            target = [-1 if i in axes else d for i, d in enumerate(shape)]
            lowering.op("RESHAPE", [index, lowering.int_constant(
                target, lowering.name(eq, f"einsum/{what}/shape"))], [flat])
            index = flat
        return index

    product_dims = batch + free_a + free_b
    product_shape = [sizes[c] for c in product_dims]
    product_dynamic = {i for i, c in enumerate(product_dims) if c in dynamic}
    fully_connected = isinstance(b, Constant) and not batch
    if fully_connected:
        left = arrange(a, sa, free_a + contract, [free_a, contract], "lhs")
        right = arrange(b, sb, free_b + contract, [free_b, contract], "kernel")
        units = int(np.prod([sizes[c] for c in free_b])) if free_b else 1
        shape, axes = group_shape([free_a, free_b])
        product = lowering.intermediate(lowering.name(eq, "einsum/MatMul"), eq.output.dtype,
                                        shape, axes, eq.output.name)
        lowering.op("FULLY_CONNECTED", [left, right, _bias_tensor(
            lowering, eq, None, units, eq.output.dtype)], [product],
            ("FullyConnectedOptions", {"FusedActivationFunction": 0}))
    else:
        left = arrange(a, sa, batch + free_a + contract, [batch, free_a, contract], "lhs")
        right = arrange(b, sb, batch + contract + free_b, [batch, contract, free_b], "rhs")
        shape, axes = group_shape([batch, free_a, free_b])
        product = lowering.intermediate(lowering.name(eq, "einsum/MatMul"), eq.output.dtype,
                                        shape, axes, eq.output.name)
        lowering.op("BATCH_MATMUL", [left, right], [product],
                    ("BatchMatMulOptions", {"AdjX": False, "AdjY": False}))
    index = product
    if product_dims != list(out):
        if lowering.writer.tensors[product].shape != tuple(
                1 if i in product_dynamic else d for i, d in enumerate(product_shape)):
            unflat = lowering.intermediate(lowering.name(eq, "einsum/unflatten"),
                                           eq.output.dtype, product_shape, product_dynamic,
                                           eq.output.name)
            lowering.op("RESHAPE", [index, lowering.int_constant(
                [-1 if i in product_dynamic else d for i, d in enumerate(product_shape)],
                lowering.name(eq, "einsum/unflatten/shape"))], [unflat])
            index = unflat
        out_index = lowering.output(eq, None, "einsum")
        lowering.op("TRANSPOSE", [index, lowering.int_constant(
            [product_dims.index(c) for c in out], lowering.name(eq, "einsum/perm"))],
            [out_index], ("TransposeOptions", {}))
    elif lowering.writer.tensors[index].shape == lowering.shape_of(eq.output)[0]:
        lowering.alias(eq.output, index)   # The product already has the output's layout.
    else:
        out_index = lowering.output(eq, None, "einsum")
        lowering.op("RESHAPE", [index, lowering.int_constant(
            [-1 if i in product_dynamic else d for i, d in enumerate(product_shape)],
            lowering.name(eq, "einsum/shape"))], [out_index])


def _dynamic(lowering, atom):
    return lowering.dynamic_axes(atom) if isinstance(atom, Value) else set()


_TRAINING = NotExportable("training-only (gradient)")
_RANDOM = NotExportable("random op: an exported model computes the same outputs every run")
_VARIABLES = NotExportable("assigns a Variable: an exported model does not train")
_STRINGS = NotExportable("strings: TFLite builtins compute on numbers")
_DEBUGGING = NotExportable("tf.print / tf.debugging check (a debugging aid: remove it "
                           "from the exported model)")

RULES = {
    # Dense and convolutions.
    "MatMul": _matmul,
    "Conv2D": _conv2d,
    "Conv2DBackpropInput": _conv2d_transpose,
    "MaxPool": _pool("MAX_POOL_2D"),
    "AvgPool": _pool("AVERAGE_POOL_2D"),
    "BiasAdd": _bias_add,
    # Element-wise arithmetic.
    "AddV2": _binary("ADD"),
    "Sub": _binary("SUB"),
    "Mul": _binary("MUL"),
    "RealDiv": _binary("DIV"),
    "Maximum": _binary("MAXIMUM"),
    "Minimum": _binary("MINIMUM"),
    "SquaredDifference": _binary("SQUARED_DIFFERENCE"),
    "Pow": _binary("POW"),
    "FloorDiv": _binary("FLOOR_DIV"),
    "FloorMod": _binary("FLOOR_MOD"),
    "Equal": _binary("EQUAL"),
    "NotEqual": _binary("NOT_EQUAL"),
    "Greater": _binary("GREATER"),
    "GreaterEqual": _binary("GREATER_EQUAL"),
    "Less": _binary("LESS"),
    "LessEqual": _binary("LESS_EQUAL"),
    "LogicalAnd": _binary("LOGICAL_AND"),
    "LogicalOr": _binary("LOGICAL_OR"),
    "LogicalNot": _unary("LOGICAL_NOT"),
    "Neg": _unary("NEG"),
    "Abs": _unary("ABS"),
    "Exp": _unary("EXP"),
    "Log": _unary("LOG"),
    "Sqrt": _unary("SQRT"),
    "Rsqrt": _unary("RSQRT"),
    "Square": _unary("SQUARE"),
    "Floor": _unary("FLOOR"),
    "Round": _unary("ROUND"),
    "Sign": _unary("SIGN"),
    "Cast": _cast,
    "ClipByValue": _clip_by_value,
    "Identity": _identity,
    "StopGradient": _identity,
    # Activations.
    "Relu": _unary("RELU"),
    "Relu6": _unary("RELU6"),
    "Sigmoid": _unary("LOGISTIC"),
    "Tanh": _unary("TANH"),
    "Elu": _unary("ELU"),
    "LeakyRelu": _leaky_relu,
    "Gelu": _gelu,
    "Softmax": _softmax("SOFTMAX"),
    "LogSoftmax": _softmax("LOG_SOFTMAX"),
    # Shapes and layout.
    "Reshape": _reshape,
    "ConcatV2": _concat,
    "Pack": _pack,
    "Transpose": _transpose,
    "Pad": _pad,
    "PadV2": _pad,
    "Mean": _reduce("MEAN"),
    "Sum": _reduce("SUM"),
    "Max": _reduce("REDUCE_MAX"),
    "Min": _reduce("REDUCE_MIN"),
    "Prod": _reduce("REDUCE_PROD"),
    "ResizeBilinear": _resize("RESIZE_BILINEAR", "ResizeBilinearOptions"),
    "ResizeNearestNeighbor": _resize("RESIZE_NEAREST_NEIGHBOR",
                                     "ResizeNearestNeighborOptions"),
    "StridedSlice": _strided_slice,
    "GatherV2": _gather,
    "GatherNd": _gather_nd,
    "SelectV2": _select,
    "ArgMax": _arg_reduce("ARG_MAX", "ArgMaxOptions"),
    "ArgMin": _arg_reduce("ARG_MIN", "ArgMinOptions"),
    "Any": _reduce("REDUCE_ANY"),
    "All": _reduce("REDUCE_ALL"),
    "Tile": _tile,
    "BroadcastTo": _broadcast_to,
    "MirrorPad": _mirror_pad,
    "Cumsum": _cumsum,
    # No TFLite builtin computes these; TF's converter would need Select TF ops.
    "Einsum": _einsum,
    "Erf": NotExportable("no TFLite builtin operator (Erf)"),
    "Expm1": NotExportable("no TFLite builtin operator (Expm1)"),
    "Log1p": NotExportable("no TFLite builtin operator (Log1p)"),
    "Softplus": NotExportable("no TFLite builtin operator (Softplus)"),
    "Softsign": NotExportable("no TFLite builtin operator (Softsign)"),
    "Selu": NotExportable("no TFLite builtin operator (Selu)"),
    "Reciprocal": NotExportable("no TFLite builtin operator (Reciprocal)"),
    "DivNoNan": NotExportable("no TFLite builtin operator (DivNoNan)"),
    "OneHot": NotExportable("not converted yet (ONE_HOT takes its depth and values as tensors)"),
    "ScatterNd": NotExportable("not converted yet (SCATTER_ND)"),
    "UnsortedSegmentSum": NotExportable("not converted yet (UNSORTED_SEGMENT_SUM)"),
    # tf.linalg, the tensor scatters and unravel_index (helper "arrays"): no TFLite builtins.
    **{name: NotExportable(f"no TFLite builtin operator ({name})") for name in (
        "Cholesky", "LogMatrixDeterminant", "MatrixDeterminant", "MatrixInverse", "MatrixSolve",
        "MatrixTriangularSolve", "Qr", "SelfAdjointEigV2", "Svd", "TensorScatterMax",
        "TensorScatterMin", "TensorScatterUpdate", "UnravelIndex")},
    # Recurrent layers, unrolled over the traced sequence length (recurrent.py).
    "LSTMSequence": recurrent.lstm,
    "GRUSequence": recurrent.gru,
    "SimpleRNNSequence": recurrent.simple_rnn,
    "LSTMSequenceGrad": NotExportable("training-only (gradient)"),
    "GRUSequenceGrad": NotExportable("training-only (gradient)"),
    "SimpleRNNSequenceGrad": NotExportable("training-only (gradient)"),
    "AnglesToProjectiveTransforms": NotExportable(
        "image augmentation (RandomRotation and friends), active only in training"),
    "ImageProjectiveTransformV3": NotExportable(
        "image augmentation (RandomRotation and friends), active only in training"),
    "CollectiveReduceV2": NotExportable("distributed training (all-reduce)"),
    "PrintV2": _DEBUGGING,
    "Assert": _DEBUGGING,
    "CheckNumerics": _DEBUGGING,
    "StatelessRandomGammaV3": NotExportable(
        "random op: an exported model computes the same outputs every run"),
    "StatelessParameterizedTruncatedNormal": NotExportable(
        "random op: an exported model computes the same outputs every run"),
    "StatelessRandomBinomial": NotExportable(
        "random op: an exported model computes the same outputs every run"),
    "StatelessRandomPoisson": NotExportable(
        "random op: an exported model computes the same outputs every run"),
    # Never in an inference graph.
    "AvgPoolGrad": _TRAINING,
    "Conv2DBackpropFilter": _TRAINING,
    "EluGrad": _TRAINING,
    "LeakyReluGrad": _TRAINING,
    "MaxPoolGrad": _TRAINING,
    "MaxPoolGradGrad": _TRAINING,
    "MirrorPadGrad": _TRAINING,
    "Relu6Grad": _TRAINING,
    "ReluGrad": _TRAINING,
    "ResizeBilinearGrad": _TRAINING,
    "ResizeNearestNeighborGrad": _TRAINING,
    "SeluGrad": _TRAINING,
    "SigmoidGrad": _TRAINING,
    "TanhGrad": _TRAINING,
    "StridedSliceGrad": _TRAINING,
    "ImageProjectiveTransformV3Grad": _TRAINING,
    "SoftmaxCrossEntropyBackprop": _TRAINING,
    "SparseSoftmaxCrossEntropyBackprop": _TRAINING,
    "SoftmaxCrossEntropyWithLogits": NotExportable("training-only (a loss)"),
    "SparseSoftmaxCrossEntropyWithLogits": NotExportable("training-only (a loss)"),
    "L2Loss": NotExportable("training-only (a regularization loss)"),
    "AssignAddVariableOp": _VARIABLES,
    "AssignSubVariableOp": _VARIABLES,
    "AssignVariableOp": _VARIABLES,
    "DropoutMask": _RANDOM,
    "RandomShuffle": _RANDOM,
    "RandomStandardNormal": _RANDOM,
    "RandomUniform": _RANDOM,
    "RandomUniformInt": _RANDOM,
    "TruncatedNormal": _RANDOM,
    "StatelessMultinomial": _RANDOM,
    "StatelessRandom": _RANDOM,
    "ReadFile": NotExportable("file reading and image decoding (input pipeline)"),
    "DecodeImage": NotExportable("file reading and image decoding (input pipeline)"),
    "DecodeJpeg": NotExportable("file reading and image decoding (input pipeline)"),
    "DecodePng": NotExportable("file reading and image decoding (input pipeline)"),
    "AsString": _STRINGS,
    "ReduceJoin": _STRINGS,
    "RegexFullMatch": _STRINGS,
    "StaticRegexReplace": _STRINGS,
    "StringJoin": _STRINGS,
    "StringLength": _STRINGS,
    "StringLower": _STRINGS,
    "StringStrip": _STRINGS,
    "StringToHashBucketFast": _STRINGS,
    "StringToHashBucketStrong": _STRINGS,
    "StringToNumber": _STRINGS,
    "StringUpper": _STRINGS,
    "Substr": _STRINGS,
}
# The fused training-mode batch norm (ops/normalization_ops.py): an inference graph folds
# BatchNormalization with its moving statistics instead.
for _name in ("BatchMoments", "BatchNormTraining", "BatchNormTrainingGradSums",
              "BatchNormTrainingInputGrad"):
    RULES[_name] = NotExportable("training-only (batch statistics)")
# tf.image.random_flip_* in one op (ops/image_ops.py), and the flips of its gradient.
RULES["RandomFlip"] = _RANDOM
RULES["FlipWhere"] = _TRAINING
# The tf.math gap fill (ops/math_more_ops.py, sort_ops.py, segment_ops.py; session 7).
RULES["Sin"] = _unary("SIN")
RULES["Cos"] = _unary("COS")
RULES["Ceil"] = _unary("CEIL")
RULES["Rint"] = _unary("ROUND")  # TFLite's ROUND rounds halves to even, as Rint.
for _name in ("Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
              "Atan2", "IsNan", "IsInf", "IsFinite", "Lgamma", "Digamma", "Polygamma", "Erfc",
              "Erfinv", "Ndtri", "Xlogy", "Xlog1py", "Xdivy", "MulNoNan", "TruncateDiv",
              "TruncateMod", "Cumprod", "CumulativeLogsumexp", "InTopKV2", "Unique",
              "UniqueWithCounts", "LowerBound", "UpperBound", "InvertPermutation",
              "SegmentSum", "SegmentMean", "SegmentMax", "SegmentMin", "SegmentProd",
              "UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd",
              "DenseBincount", "HistogramFixedWidth"):
    RULES[_name] = NotExportable(f"not converted yet (no TFLite builtin rule for {_name})")
RULES["TopKV2"] = NotExportable("not converted yet (TOPK_V2 gives values and indices; the "
                                "graph has the indices alone)")
# The tf.image gap fill (ops/detection_ops.py; session 7): suppression and box drawing.
for _name in ("NonMaxSuppressionV5", "NonMaxSuppressionWithOverlaps",
              "CombinedNonMaxSuppression", "DrawBoundingBoxesV2"):
    RULES[_name] = NotExportable(f"not converted yet (no TFLite rule written for {_name})")
# tf.bitwise (ops/bitwise_ops.py).
for _name in ("BitwiseAnd", "BitwiseOr", "BitwiseXor", "Invert", "LeftShift", "RightShift"):
    RULES[_name] = NotExportable(f"not converted yet (no TFLite rule written for {_name})")
