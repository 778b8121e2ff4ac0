"""2-D convolution and pooling on NHWC tensors — with gradients: the primitives.

This module checks arguments, works out TF's window geometry (padding, output sizes) and
defines the primitives with TF's names (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter,
MaxPool, MaxPoolGrad, MaxPoolGradGrad, AvgPool, AvgPoolGrad) and their gradient rules, so
nested tapes differentiate through them. The array work (im2col + GEMM + col2im, separable
pooling, the split of large batches across cores) is the backend's: see
`numpyflow/backend/numpy/conv.py` and `pooling.py`.

Grouped convolution (a filter depth of in_channels / G, as TF) is Conv2D with `groups`;
depthwise convolution is the grouped one with a group per channel; separable convolution
adds a 1x1 conv2d; conv1d and the 1-D pools run the 2-D ones on a height-1 image. None of
these needs a primitive of its own.
"""

from numpyflow.backend import conv as conv_kernels
from numpyflow.backend import pooling as pool_kernels
from numpyflow.backend import xp
from numpyflow.framework import errors
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops
from numpyflow.ops._convert import require_float, tensor, tensor_pair
from numpyflow.backend.quiet import quiet

# -- argument checking and window geometry ------------------------------------------------


def _pair(value, what, op_name):
    """TF's int-or-list spatial argument (strides, dilations, ksize) as (height, width).

    Accepts an int, or a list of 1, 2 or 4 ints; with 4, the batch and channel entries
    must be 1.
    """
    if isinstance(value, Tensor):
        value = value._value.tolist()
    if isinstance(value, (int, xp.integer)):
        values = (int(value),) * 2
    else:
        values = tuple(int(v) for v in value)
        if len(values) == 1:
            values *= 2
        elif len(values) == 4:
            if values[0] != 1 or values[3] != 1:
                raise errors.invalid_argument(
                    op_name, f"Current implementation does not yet support {what} in the "
                    f"batch and depth dimensions; received {what}={list(values)} (expected "
                    f"[1, h, w, 1])")
            values = values[1:3]
        elif len(values) != 2:
            raise ValueError(f"{what} should be of length 1, 2 or 4 but was {len(values)} "
                             f"({list(values)}).")
    if min(values) < 1:
        raise errors.invalid_argument(op_name, f"{what} must be positive; received "
                                      f"{list(values)}")
    return values


def _explicit_pads(padding, op_name):
    """Explicit conv2d padding [[0, 0], [top, bottom], [left, right], [0, 0]] as pads."""
    pairs = [tuple(int(p) for p in pair) for pair in padding]
    if len(pairs) != 4 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"When `padding` is a list, it must hold 4 pairs "
                         f"[[0, 0], [top, bottom], [left, right], [0, 0]]; received "
                         f"padding={padding}.")
    if pairs[0] != (0, 0) or pairs[3] != (0, 0):
        raise errors.invalid_argument(op_name, f"Explicit padding of the batch or depth "
                                      f"dimensions is not supported; received {padding}")
    if min(min(pairs[1]), min(pairs[2])) < 0:
        raise errors.invalid_argument(op_name, f"Explicit padding must be non-negative; "
                                      f"received {padding}")
    return pairs[1], pairs[2]


def _axis_geometry(size, kernel, stride, dilation, padding, explicit, op_name):
    """(pad_before, pad_after, output_size) along one spatial axis, by TF's rules."""
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + effective - size, 0)
        before, after = total // 2, total - total // 2
    else:
        before, after = explicit if padding == "EXPLICIT" else (0, 0)
        # TF divides with C++ truncation: a window that does not fit can still give size 0.
        out = int((size + before + after - effective + stride) / stride)
    if out < 0:
        raise errors.invalid_argument(
            op_name, f"Computed output size would be negative: {out} [input_size: {size}, "
            f"effective_filter_size: {effective}, stride: {stride}] (padding {padding})")
    return before, after, out


def _check_padding(padding, op_name, allow_explicit):
    if isinstance(padding, str) and padding in ("SAME", "VALID"):
        return padding, None
    if allow_explicit and isinstance(padding, (list, tuple)):
        return "EXPLICIT", _explicit_pads(padding, op_name)
    allowed = '"SAME", "VALID"' + (', or a list of 4 [before, after] pairs' if allow_explicit
                                   else "")
    raise errors.invalid_argument(op_name, f"Value for attr 'padding' of {padding!r} is not in "
                                  f"the list of allowed values: {allowed}")


def _geometry(input_shape, kernel_hw, strides, dilations, padding, op_name, allow_explicit):
    """Pads ((top, bottom), (left, right)) and output (height, width) for a 4-D input."""
    mode, explicit = _check_padding(padding, op_name, allow_explicit)
    axes = [_axis_geometry(input_shape[1 + a], kernel_hw[a], strides[a], dilations[a], mode,
                           explicit[a] if explicit else None, op_name) for a in range(2)]
    pads = tuple((before, after) for before, after, _ in axes)
    return pads, tuple(out for _, _, out in axes)


def _require_nhwc(data_format, op_name, error_type):
    if data_format not in (None, "NHWC"):
        raise error_type(None, None, f"The {op_name} op currently only supports the NHWC "
                         f"tensor format on the CPU. The op was given the format: "
                         f"{data_format} [Op:{op_name}]")


def _require_rank4(x, what, op_name, layout):
    if x._value.ndim != 4:
        raise errors.invalid_argument(
            op_name, f"{what} must be 4-dimensional {layout}; received shape "
            f"{list(x._value.shape)}")


# -- convolution primitives ---------------------------------------------------------------

# The kernels (and the im2col layout, which benchmarks/conv_floor.py checks its GEMM shapes
# against) under their former names here.
_Layout = conv_kernels._Layout
_conv2d_forward = conv_kernels.conv2d
_backprop_input_forward = conv_kernels.conv2d_backprop_input
_backprop_filter_forward = conv_kernels.conv2d_backprop_filter


def _window_attrs(attrs):
    return {k: attrs[k] for k in ("strides", "dilations", "pads", "groups")}


def _conv2d_grad(node, dy):
    x, filters = node.inputs
    attrs = node.attrs
    dx = dfilters = None
    if node.needs[0]:
        dx = Conv2DBackpropInput(filters, dy, input_shape=x._value.shape, **attrs)
    if node.needs[1]:
        # The forward's column matrix is exactly what the filter gradient needs.
        dfilters = Conv2DBackpropFilter(x, dy, filter_shape=filters._value.shape,
                                        columns=node.saved, **attrs)
    return dx, dfilters


# d/dfilters and d/ddy of <ddx, BackpropInput(filters, dy)> = <Conv2D(ddx, filters), dy>.
def _backprop_input_grad(node, ddx):
    filters, dy = node.inputs
    attrs = _window_attrs(node.attrs)
    return (Conv2DBackpropFilter(ddx, dy, filter_shape=filters._value.shape, **attrs)
            if node.needs[0] else None,
            Conv2D(ddx, filters, **attrs) if node.needs[1] else None)


# d/dx and d/ddy of <ddf, BackpropFilter(x, dy)> = <Conv2D(x, ddf), dy>.
def _backprop_filter_grad(node, ddf):
    x, dy = node.inputs
    attrs = _window_attrs(node.attrs)
    return (Conv2DBackpropInput(ddf, dy, input_shape=x._value.shape, **attrs)
            if node.needs[0] else None,
            Conv2D(x, ddf, **attrs) if node.needs[1] else None)


Conv2D = Primitive("Conv2D", quiet(_conv2d_forward), _conv2d_grad, saves=True)
Conv2DBackpropInput = Primitive("Conv2DBackpropInput", quiet(_backprop_input_forward),
                                _backprop_input_grad)
Conv2DBackpropFilter = Primitive("Conv2DBackpropFilter", quiet(_backprop_filter_forward),
                                 _backprop_filter_grad)


def _conv_arguments(filters, strides, dilations, data_format, op_name):
    _require_nhwc(data_format, op_name, errors.UnimplementedError)
    _require_rank4(filters, "filter", op_name, "[height, width, in_channels, out_channels]")
    strides = _pair(strides, "strides", op_name)
    dilations = _pair(1 if dilations is None else dilations, "dilations", op_name)
    return strides, dilations


def _check_depth(in_channels, filters, op_name):
    filter_depth = filters._value.shape[2]
    if in_channels != filter_depth:
        raise errors.invalid_argument(
            op_name, f"input depth must be evenly divisible by filter depth: {in_channels} vs "
            f"{filter_depth} (the input has {in_channels} channels, the filter expects "
            f"{filter_depth}; grouped convolution is not supported)")


def _groups(in_channels, filters, op_name):
    """How many channel groups a conv2d of `filters` over `in_channels` channels has.

    As in TF, a filter of depth in_channels / G (for an integer G) means a grouped
    convolution: G groups of filters, each seeing its own run of input channels and making
    its own run of out_channels / G output channels.
    """
    filter_depth, out_channels = filters._value.shape[2:]
    if filter_depth == 0 or in_channels % filter_depth:
        raise errors.invalid_argument(
            op_name, f"input depth must be evenly divisible by filter depth: {in_channels} vs "
            f"{filter_depth} (the input has {in_channels} channels; the filter's depth, its "
            f"third dimension, must be in_channels / groups)")
    groups = in_channels // filter_depth
    if out_channels % groups:
        raise errors.invalid_argument(
            op_name, f"The number of output channels must be evenly divisible by the number "
            f"of groups: the filter has {out_channels} output channels for {groups} groups "
            f"(input depth {in_channels} / filter depth {filter_depth})")
    return groups


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None):
    """2-D convolution (cross-correlation, as in TF) of an NHWC input with HWIO filters.

    Args:
      input: Float tensor of shape [batch, height, width, in_channels]; extra leading batch
        dimensions are allowed, as in TF.
      filters: Tensor of shape [filter_height, filter_width, in_channels / groups,
        out_channels]: a filter depth that divides in_channels makes a grouped convolution
        (each of the groups convolves its run of input channels with its run of
        out_channels / groups filters), as in TF.
      strides: An int or a list of 1, 2 or 4 ints (batch and channel entries 1).
      padding: "VALID", "SAME" (TF's rule: output = ceil(input / stride), the extra padding
        going after), or explicit [[0, 0], [top, bottom], [left, right], [0, 0]].
      data_format: Only "NHWC", as TF on CPU.
      dilations: An int or a list of 1, 2 or 4 ints; 1 (the default) is no dilation.

    Returns:
      A tensor of shape [batch, out_height, out_width, out_channels].

    >>> import numpy as np
    >>> x = np.ones((1, 3, 3, 1), np.float32)
    >>> conv2d(x, np.ones((2, 2, 1, 1), np.float32), 1, "VALID").numpy()[0, :, :, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    """
    x, filters = tensor_pair(input, filters, "Conv2D")
    require_float(x, "Conv2D")
    strides, dilations = _conv_arguments(filters, strides, dilations, data_format, "Conv2D")
    shape = x._value.shape
    if len(shape) < 4:
        _require_rank4(x, "input", "Conv2D", "[batch, height, width, channels]")
    if len(shape) > 4:  # Leading batch dimensions are folded into one, as in TF.
        x = array_ops.reshape(x, (-1,) + shape[-3:])
    groups = _groups(shape[-1], filters, "Conv2D")
    kernel_hw = filters._value.shape[:2]
    pads, _ = _geometry(x._value.shape, kernel_hw, strides, dilations, padding, "Conv2D", True)
    out = Conv2D(x, filters, strides=strides, dilations=dilations, pads=pads, groups=groups)
    if len(shape) > 4:
        out = array_ops.reshape(out, shape[:-3] + out._value.shape[1:])
    return out


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None):
    """The gradient of `conv2d` with respect to its input ("deconvolution").

    Args:
      input: Tensor of shape [batch, height, width, out_channels] (a conv2d output).
      filters: Tensor of shape [height, width, in_channels, out_channels] — the conv2d
        filter whose transpose is applied.
      output_shape: The conv2d input shape [batch, height, width, in_channels] to produce.
      strides, padding, data_format, dilations: As for `conv2d`.

    >>> import numpy as np
    >>> y = np.ones((1, 2, 2, 1), np.float32)
    >>> conv2d_transpose(y, np.ones((2, 2, 1, 1), np.float32), [1, 3, 3, 1], 1, "VALID"
    ...                  ).numpy()[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """
    dy, filters = tensor_pair(input, filters, "Conv2DBackpropInput")
    require_float(dy, "Conv2DBackpropInput")
    strides, dilations = _conv_arguments(filters, strides, dilations, data_format,
                                         "Conv2DBackpropInput")
    _require_rank4(dy, "input", "Conv2DBackpropInput", "[batch, height, width, channels]")
    if isinstance(output_shape, Tensor):
        output_shape = output_shape._value.tolist()
    output_shape = tuple(int(d) for d in output_shape)
    if len(output_shape) != 4:
        raise ValueError(f"output_shape must have 4 elements; received {list(output_shape)}.")
    _check_depth(output_shape[3], filters, "Conv2DBackpropInput")
    pads, out_hw = _geometry(output_shape, filters._value.shape[:2], strides, dilations,
                             padding, "Conv2DBackpropInput", True)
    expected = (output_shape[0],) + out_hw + (filters._value.shape[3],)
    if dy._value.shape != expected:
        raise errors.invalid_argument(
            "Conv2DBackpropInput", f"Conv2DCustomBackpropInput: Size of out_backprop doesn't "
            f"match computed: received input shape {list(dy._value.shape)}, but a conv2d of "
            f"output_shape {list(output_shape)} gives {list(expected)}")
    return Conv2DBackpropInput(filters, dy, input_shape=output_shape, strides=strides,
                               dilations=dilations, pads=pads, groups=1)


# -- convolutions composed from Conv2D ----------------------------------------------------

def depthwise_conv2d(input, filter, strides, padding, data_format=None,  # noqa: A002
                     dilations=None, name=None):
    """Depthwise 2-D convolution: each input channel convolved with its own filters.

    Channel c of the input is convolved with `filter[:, :, c, m]` for each of the
    channel_multiplier values m, giving output channel c * channel_multiplier + m. It is a
    grouped `conv2d` with one group per input channel (the filter reshaped to
    [height, width, 1, in_channels * channel_multiplier]).

    Args:
      input: Float tensor of shape [batch, height, width, in_channels].
      filter: Tensor of shape [filter_height, filter_width, in_channels,
        channel_multiplier].
      strides: An int or a list of 1, 2 or 4 ints, as for `conv2d`.
      padding: "VALID", "SAME" or explicit padding, as for `conv2d`.
      data_format: Only "NHWC" (or None), as TF on CPU.
      dilations: An int or a list of 1 or 2 ints; 1 is no dilation.

    Returns:
      A tensor of shape [batch, out_height, out_width, in_channels * channel_multiplier].

    >>> import numpy as np
    >>> x = np.ones((1, 3, 3, 2), np.float32)
    >>> w = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))], -1)[..., None].astype(np.float32)
    >>> depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID").numpy()[0, 0, 0]
    array([4., 8.], dtype=float32)
    """
    op_name = "DepthwiseConv2dNative"
    x, filters = tensor_pair(input, filter, op_name)
    require_float(x, op_name)
    _require_rank4(x, "input", op_name, "[batch, height, width, in_channels]")
    _require_rank4(filters, "filter", op_name,
                   "[height, width, in_channels, channel_multiplier]")
    kh, kw, depth, multiplier = filters._value.shape
    channels = x._value.shape[3]
    if depth != channels:
        raise errors.invalid_argument(
            op_name, f"input and filter must have the same depth: {channels} vs {depth} (the "
            f"input has {channels} channels; the filter's third dimension must match it)")
    grouped = array_ops.reshape(filters, (kh, kw, 1, depth * multiplier))
    return conv2d(x, grouped, strides, padding, data_format or "NHWC", dilations)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     data_format=None, dilations=None, name=None):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution mixing channels.

    Args:
      input: Float tensor of shape [batch, height, width, in_channels].
      depthwise_filter: [filter_height, filter_width, in_channels, channel_multiplier].
      pointwise_filter: [1, 1, in_channels * channel_multiplier, out_channels].
      strides, padding, data_format, dilations: Those of the depthwise convolution, as
        for `depthwise_conv2d`.

    >>> import numpy as np
    >>> x = np.ones((1, 3, 3, 2), np.float32)
    >>> separable_conv2d(x, np.ones((2, 2, 2, 1), np.float32),
    ...                  np.ones((1, 1, 2, 3), np.float32), 1, "VALID").shape
    TensorShape([1, 2, 2, 3])
    """
    pointwise = tensor(pointwise_filter)
    shape = pointwise._value.shape
    if len(shape) != 4 or shape[:2] != (1, 1):
        raise errors.invalid_argument(
            "separable_conv2d", f"pointwise_filter must have shape [1, 1, in_channels * "
            f"channel_multiplier, out_channels]; received shape {list(shape)}")
    depthwise = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format,
                                 dilations)
    return conv2d(depthwise, pointwise, 1, "VALID")


def _single(value, what, op_name):
    """TF's 1-D int-or-list argument (stride, dilations, ksize): an int, or a list of 1 or
    3 ints whose batch and channel entries are 1."""
    if isinstance(value, Tensor):
        value = value._value.tolist()
    if isinstance(value, (int, xp.integer)):
        return int(value)
    values = [int(v) for v in value]
    if len(values) == 3:
        if values[0] != 1 or values[2] != 1:
            raise errors.invalid_argument(
                op_name, f"{what} in the batch and depth dimensions must be 1; received "
                f"{what}={values} (expected [1, w, 1])")
        return values[1]
    if len(values) != 1:
        raise ValueError(f"{what} should be of length 1 or 3 but was {len(values)} "
                         f"({values}).")
    return values[0]


def _require_nwc(data_format, op_name):
    if data_format not in (None, "NWC"):
        raise errors.UnimplementedError(
            None, None, f"The {op_name} op currently only supports the NWC tensor format on "
            f"the CPU. The op was given the format: {data_format} [Op:{op_name}]")


def _string_padding(padding, op_name):
    if not (isinstance(padding, str) and padding in ("SAME", "VALID")):
        raise errors.invalid_argument(op_name, f"Value for attr 'padding' of {padding!r} is "
                                      f"not in the list of allowed values: \"SAME\", \"VALID\"")
    return padding


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None,  # noqa: A002
           name=None):
    """1-D convolution of an NWC input, as a `conv2d` over a height-1 image.

    Args:
      input: Float tensor of shape [batch, in_width, in_channels] (extra leading batch
        dimensions allowed).
      filters: Tensor of shape [filter_width, in_channels / groups, out_channels]; a depth
        that divides in_channels makes a grouped convolution, as for `conv2d`.
      stride: An int or a list of 1 or 3 ints.
      padding: "VALID" or "SAME".
      data_format: Only "NWC".
      dilations: An int or a list of 1 or 3 ints; 1 (the default) is no dilation.

    Returns:
      A tensor of shape [batch, out_width, out_channels].

    >>> import numpy as np
    >>> x = np.arange(5, dtype=np.float32).reshape(1, 5, 1)
    >>> conv1d(x, np.ones((2, 1, 1), np.float32), 1, "VALID").numpy()[0, :, 0]
    array([1., 3., 5., 7.], dtype=float32)
    """
    op_name = "Conv1D"
    x, filters = tensor_pair(input, filters, op_name)
    _require_nwc(data_format, op_name)
    if x._value.ndim < 3:
        raise errors.invalid_argument(op_name, f"input must be at least 3-dimensional "
                                      f"[batch, width, channels]; received shape "
                                      f"{list(x._value.shape)}")
    if filters._value.ndim != 3:
        raise errors.invalid_argument(op_name, f"filters must be 3-dimensional [width, "
                                      f"in_channels, out_channels]; received shape "
                                      f"{list(filters._value.shape)}")
    stride = _single(stride, "stride", op_name)
    dilation = _single(1 if dilations is None else dilations, "dilations", op_name)
    padding = _string_padding(padding, op_name)
    out = conv2d(array_ops.expand_dims(x, -3), array_ops.expand_dims(filters, 0),
                 (1, stride), padding, dilations=(1, dilation))
    return array_ops.squeeze(out, -3)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NWC", dilations=None, name=None):
    """The gradient of `conv1d` with respect to its input, as a `conv2d_transpose` over a
    height-1 image.

    Args:
      input: Tensor of shape [batch, width, out_channels] (a conv1d output).
      filters: Tensor of shape [width, in_channels, out_channels]: the conv1d filter.
      output_shape: The conv1d input shape [batch, width, in_channels] to produce.
      strides: An int or a list of 1 or 3 ints.
      padding: "VALID" or "SAME".
      data_format: Only "NWC".
      dilations: An int or a list of 1 or 3 ints.

    >>> import numpy as np
    >>> conv1d_transpose(np.ones((1, 2, 1), np.float32), np.ones((2, 1, 1), np.float32),
    ...                  [1, 3, 1], 1, "VALID").numpy()[0, :, 0]
    array([1., 2., 1.], dtype=float32)
    """
    op_name = "Conv1DTranspose"
    dy, filters = tensor_pair(input, filters, op_name)
    _require_nwc(data_format, op_name)
    for value, what in ((dy, "input"), (filters, "filters")):
        if value._value.ndim != 3:
            raise errors.invalid_argument(op_name, f"{what} must be 3-dimensional; received "
                                          f"shape {list(value._value.shape)}")
    if isinstance(output_shape, Tensor):
        output_shape = output_shape._value.tolist()
    output_shape = [int(d) for d in output_shape]
    if len(output_shape) != 3:
        raise ValueError(f"output_shape must have 3 elements; received {output_shape}.")
    stride = _single(strides, "strides", op_name)
    dilation = _single(1 if dilations is None else dilations, "dilations", op_name)
    out = conv2d_transpose(array_ops.expand_dims(dy, 1), array_ops.expand_dims(filters, 0),
                           [output_shape[0], 1] + output_shape[1:], (1, stride),
                           _string_padding(padding, op_name), dilations=(1, dilation))
    return array_ops.squeeze(out, 1)


# -- pooling ------------------------------------------------------------------------------

_max_pool_forward = pool_kernels.max_pool
_max_pool_grad_forward = pool_kernels.max_pool_grad
_max_pool_grad_grad_forward = pool_kernels.max_pool_grad_grad
_avg_pool_forward = pool_kernels.avg_pool
_avg_pool_grad_forward = pool_kernels.avg_pool_grad

def _pool_attrs(attrs):
    return {k: attrs[k] for k in ("ksize", "strides", "pads")}


# The routing is piecewise constant in x (and y), so only the routed values have gradients.
# `routing` (optional) passes the forward's routing (see `pool_kernels.max_pool`) along, to
# skip recomputing it.
MaxPool = Primitive("MaxPool", _max_pool_forward, lambda node, dy: (
    MaxPoolGrad(node.inputs[0], node.output, dy, routing=node.saved, **node.attrs),),
    saves=True)
MaxPoolGrad = Primitive("MaxPoolGrad", quiet(_max_pool_grad_forward), lambda node, ddx: (
    None, None, MaxPoolGradGrad(node.inputs[0], node.inputs[1], ddx, **node.attrs)))
MaxPoolGradGrad = Primitive(
    "MaxPoolGradGrad", quiet(_max_pool_grad_grad_forward), lambda node, d: (
        None, None, MaxPoolGrad(node.inputs[0], node.inputs[1], d, **node.attrs)))



AvgPool = Primitive("AvgPool", quiet(_avg_pool_forward), lambda node, dy: (
    AvgPoolGrad(dy, input_shape=node.inputs[0]._value.shape, **node.attrs),))
# AvgPoolGrad is linear in dy; its adjoint is average pooling again.
AvgPoolGrad = Primitive("AvgPoolGrad", quiet(_avg_pool_grad_forward), lambda node, ddx: (
    AvgPool(ddx, **_pool_attrs(node.attrs)),))


def _pool(primitive, input, ksize, strides, padding, data_format):  # noqa: A002
    name = primitive.name
    x = tensor(input)
    if primitive is AvgPool:
        require_float(x, name)
    if data_format not in (None, "NHWC"):
        raise errors.invalid_argument(name, f"Default {name}Op only supports NHWC on device "
                                      f"type CPU; received data_format={data_format!r}")
    _require_rank4(x, "input", name, "[batch, height, width, channels]")
    ksize = _pair(ksize, "ksize", name)
    strides = _pair(strides, "strides", name)
    pads, _ = _geometry(x._value.shape, ksize, strides, (1, 1), padding, name, False)
    return primitive(x, ksize=ksize, strides=strides, pads=pads)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Max pooling over NHWC windows.

    The gradient goes to the first maximal element of each window in row-major order, as in
    TF (overlapping windows add up their gradients).

    Args:
      input: Tensor of shape [batch, height, width, channels].
      ksize: Window size: an int or a list of 1, 2 or 4 ints.
      strides: Window stride: an int or a list of 1, 2 or 4 ints.
      padding: "VALID" or "SAME" (padded elements are never the max).
      data_format: Only "NHWC", as TF on CPU.

    >>> import numpy as np
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> max_pool2d(x, 2, 2, "VALID").numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return _pool(MaxPool, input, ksize, strides, padding, data_format)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Average pooling over NHWC windows.

    With "SAME" padding, each window averages only its real (unpadded) elements, as TF.

    Args: as `max_pool2d`.

    >>> import numpy as np
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> avg_pool2d(x, 2, 2, "VALID").numpy()[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    return _pool(AvgPool, input, ksize, strides, padding, data_format)


def _rank4_pool(pool_2d, tf_name):
    def pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
        rank = tensor(input)._value.ndim
        if rank != 4:
            raise ValueError(f"{tf_name}: only 4-D (NHWC) inputs are supported; received an "
                             f"input of rank {rank}.")
        return pool_2d(input, ksize, strides, padding, data_format or "NHWC")
    pool.__doc__ = f"`tf.nn.{tf_name}` for 4-D NHWC inputs: the same as `{pool_2d.__name__}`."
    return pool


max_pool = _rank4_pool(max_pool2d, "max_pool")
avg_pool = _rank4_pool(avg_pool2d, "avg_pool")


def _pool1d(pool_2d, op_name, input, ksize, strides, padding, data_format):  # noqa: A002
    x = tensor(input)
    _require_nwc(data_format, op_name)
    if x._value.ndim != 3:
        raise errors.invalid_argument(op_name, f"input must be 3-dimensional [batch, width, "
                                      f"channels]; received shape {list(x._value.shape)}")
    ksize = _single(ksize, "ksize", op_name)
    strides = _single(strides, "strides", op_name)
    out = pool_2d(array_ops.expand_dims(x, 1), (1, ksize), (1, strides), padding)
    return array_ops.squeeze(out, 1)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Max pooling over windows of an NWC input, as `max_pool2d` over a height-1 image.

    Args:
      input: Tensor of shape [batch, width, channels].
      ksize, strides: An int or a list of 1 or 3 ints.
      padding: "VALID" or "SAME".
      data_format: Only "NWC".

    >>> max_pool1d([[[1.], [3.], [2.], [0.]]], 2, 2, "VALID").numpy()[0, :, 0]
    array([3., 2.], dtype=float32)
    """
    return _pool1d(max_pool2d, "MaxPool1D", input, ksize, strides, padding, data_format)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Average pooling over windows of an NWC input (arguments as `max_pool1d`).

    >>> avg_pool1d([[[1.], [3.], [2.], [0.]]], 2, 2, "VALID").numpy()[0, :, 0]
    array([2., 1.], dtype=float32)
    """
    return _pool1d(avg_pool2d, "AvgPool1D", input, ksize, strides, padding, data_format)
