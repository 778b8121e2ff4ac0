"""Shape ops: reshape, transpose, squeeze, concat/stack/split, tile, pad, shape — with gradients."""

import operator

from numpyflow.backend import xp
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops import _convert
from numpyflow.ops._convert import tensor, tensor_pair
from numpyflow.ops._convert import tensor as _as_tensor
from numpyflow.backend.quiet import quiet


# -- reshape / broadcast ----------------------------------------------------------------

def _reshape_explain(arrays, attrs, error):
    x = arrays[0]
    requested = [int(d) for d in attrs["shape"]]
    return (f"Input to reshape is a tensor with {x.size} values, but the requested shape "
            f"{requested} cannot hold them (input shape {list(x.shape)})")


# The array method, not xp.reshape: the function's dispatch costs more than the reshape.
Reshape = Primitive("Reshape", lambda x, shape: x.reshape(shape),
                    lambda node, dy: (reshape(dy, node.inputs[0]._value.shape),),
                    explain=_reshape_explain, infallible=True)


def _shape_tuple(shape):
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return tuple(-1 if d is None else int(d) for d in shape)


def reshape(tensor, shape, name=None):  # noqa: F811 - TF's argument name
    """Reshapes to `shape`; one dimension may be -1 and is inferred.

    >>> reshape([1., 2., 3., 4.], (2, -1)).shape
    TensorShape([2, 2])
    """
    x = _as_tensor(tensor)
    shape = _reshape_target(shape)
    if x._value.shape == shape and type(x) is Tensor:  # A Variable is read, not aliased.
        return x
    return Reshape(x, shape=shape)


def _reshape_target(shape):
    """`shape` as a tuple of ints (None becomes -1), with TF's errors for what Reshape refuses."""
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    dims = []
    unknown = None
    for i, d in enumerate(shape):
        if d is None:
            d = -1
        elif isinstance(d, Tensor) and d._value.ndim == 0 and d._value.dtype.kind in "iu":
            d = int(d)  # A traced function reads the value here, as before.
        elif not isinstance(d, (int, xp.integer)) or isinstance(d, bool):
            kind = d.dtype.name if isinstance(d, Tensor) else type(d).__name__
            raise invalid_argument("Reshape", f"Value for attr 'Tshape' of {kind} is not in "
                                   f"the list of allowed values: int32, int64")
        if d < 0:
            if d != -1:
                raise invalid_argument("Reshape", f"Size {i} must be non-negative, not {d}")
            if unknown is not None:
                raise invalid_argument("Reshape", f"Only one input size may be -1, not both "
                                       f"{unknown} and {i}")
            unknown = i
        dims.append(int(d))
    return tuple(dims)


# The tape sums the gradient back over the broadcast axes (tape._unbroadcast).
BroadcastTo = Primitive(
    "BroadcastTo", lambda x, shape: xp.broadcast_to(x, shape), lambda node, dy: (dy,),
    explain=lambda arrays, attrs, e: f"Unable to broadcast tensor of shape "
                                     f"{list(arrays[0].shape)} to shape {list(attrs['shape'])}")


def broadcast_to(input, shape, name=None):  # noqa: A002 - TF's name
    """Broadcasts `input` to `shape` (NumPy rules)."""
    x = tensor(input)
    shape = _shape_tuple(shape)
    if x._value.shape == shape and type(x) is Tensor:  # A Variable is read, not aliased.
        return x
    return BroadcastTo(x, shape=shape)


# -- identity and gradient blocking -----------------------------------------------------

Identity = Primitive("Identity", lambda x: x, lambda node, dy: (dy,), infallible=True)
StopGradient = Primitive("StopGradient", lambda x: x, infallible=True)


def identity(input, name=None):  # noqa: A002
    """Returns a tensor with the same value as `input` (gradients pass through)."""
    return Identity(tensor(input))


def stop_gradient(input, name=None):  # noqa: A002
    """Returns `input`'s value, but blocks gradients from flowing through it.

    >>> import numpyflow as tf
    >>> x = tf.constant(2.)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * tf.stop_gradient(x)
    >>> float(tape.gradient(y, x))
    2.0
    """
    return StopGradient(tensor(input))


# -- argument helpers for the ops below -------------------------------------------------

def _shape_text(shape):
    """A shape as TF prints it in error messages: [2,3]."""
    return "[" + ",".join(map(str, shape)) + "]"


def _axis_int(axis, op_name, arg="axis"):
    """A scalar axis (int, NumPy integer or scalar int Tensor) as a Python int."""
    try:
        return operator.index(axis)
    except TypeError:
        raise TypeError(f"{op_name}: `{arg}` must be a scalar integer; received "
                        f"{axis!r}.") from None


def _int_vector(value, op_name, arg):
    """A vector argument (perm, multiples, sizes) as a list of Python ints.

    Accepts a list/tuple of ints, a NumPy array or an integer Tensor.
    """
    if type(value) in (list, tuple) and all(type(v) is int for v in value):
        return list(value)  # The common case, without a round trip through NumPy.
    array = value._value if isinstance(value, Tensor) else xp.asarray(value)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"{op_name}: `{arg}` must hold integers; received {value!r} "
                        f"(dtype {array.dtype}).")
    if array.ndim != 1:
        raise invalid_argument(op_name, f"`{arg}` must be a vector of integers; received "
                               f"shape {_shape_text(array.shape)}: {array.tolist()}")
    return [int(v) for v in array.tolist()]


def _matching_tensors(values, op_name):
    """Converts a list of values to Tensors of one dtype, as TF does for list inputs.

    The first Tensor in the list fixes the dtype (else the first value's inferred one);
    Python values are converted to it, and a Tensor of another dtype is an error.
    """
    items = list(values)
    if not items:
        raise ValueError(f"{op_name} expects a non-empty list of tensors; received {values!r}.")
    first = next((v for v in items if isinstance(v, Tensor)), None)
    if first is None:
        first = convert_to_tensor(items[0])
    np_dtype = first._value.dtype
    result = []
    for i, v in enumerate(items):
        if not isinstance(v, Tensor):
            v = convert_to_tensor(v, dtype=first.dtype)
        elif v._value.dtype != np_dtype:
            raise invalid_argument(
                op_name, f"cannot compute {op_name} as input #{i}(zero-based) was expected to "
                f"be a {_convert._kind_name(np_dtype)} tensor but is a "
                f"{_convert._kind_name(v._value.dtype)} tensor")
        result.append(v)
    return result


def _unchanged(x):
    """The result of an op that changes nothing: `x` itself, but a Variable is read into a
    Tensor, so that assigning to the Variable later does not change the result."""
    return x if type(x) is Tensor else Identity(x)


def _along(axis, index):
    """A NumPy index applying `index` to axis `axis` (all axes before it kept whole)."""
    return (slice(None),) * axis + (index,)


# -- transpose ------------------------------------------------------------------------------

def _inverse_permutation(perm):
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse)


Transpose = Primitive(
    "Transpose", lambda x, perm: x.transpose(perm),
    lambda node, dy: (Transpose(dy, perm=_inverse_permutation(node.attrs["perm"])),),
    infallible=True)


def _check_permutation(perm, ndim):
    if sorted(perm) == list(range(ndim)):
        return
    if len(perm) != ndim:
        raise invalid_argument("Transpose", f"transpose expects a vector of size {ndim}. But "
                               f"input(1) is a vector of size {len(perm)} (perm={perm})")
    for d in perm:
        if not 0 <= d < ndim:
            raise invalid_argument("Transpose", f"{d} is out of range [0 .. {ndim}) "
                                   f"(perm={perm} for an input of rank {ndim})")
    missing = sorted(set(range(ndim)) - set(perm))
    if missing:
        raise invalid_argument("Transpose", f"{missing[0]} is missing from "
                               f"{{{','.join(map(str, perm))}}}.")


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permutes the axes of `a`: output axis i is input axis `perm[i]`.

    `perm` defaults to reversing the axes. `conjugate` has no effect: numpyflow has no
    complex dtypes.

    >>> import numpyflow as tf
    >>> transpose([[1., 2., 3.]]).shape
    TensorShape([3, 1])
    >>> transpose(tf.zeros((2, 3, 4)), perm=[1, 2, 0]).shape
    TensorShape([3, 4, 2])
    """
    x = tensor(a)
    ndim = x._value.ndim
    if perm is None:
        perm = tuple(range(ndim - 1, -1, -1))
    else:
        perm = tuple(_int_vector(perm, "Transpose", "perm"))
        _check_permutation(perm, ndim)
    if perm == tuple(range(ndim)):
        return _unchanged(x)
    return Transpose(x, perm=perm)


# -- expand_dims / squeeze (both are reshapes) ----------------------------------------------

def expand_dims(input, axis, name=None):  # noqa: A002 - TF's name
    """Inserts a dimension of size 1 at `axis` (in [-rank-1, rank]; negative counts from the end).

    >>> expand_dims([1., 2.], -1).shape
    TensorShape([2, 1])
    """
    x = tensor(input)
    if isinstance(axis, (list, tuple, xp.ndarray)) or (isinstance(axis, Tensor) and axis.ndim):
        # TF accepts a one-element vector here too.
        values = _int_vector(axis, "ExpandDims", "axis")
        if len(values) != 1:
            raise invalid_argument("ExpandDims", f"'dim' must be a tensor with a single value; "
                                   f"received axis={values}")
        axis = values[0]
    axis = _axis_int(axis, "ExpandDims")
    shape = x._value.shape
    ndim = len(shape)
    if not -ndim - 1 <= axis <= ndim:
        raise invalid_argument("ExpandDims", f"Tried to expand dim index {axis} for tensor with "
                               f"{ndim} dimensions (expected an axis in [{-ndim - 1}, {ndim}])")
    if axis < 0:
        axis += ndim + 1
    return Reshape(x, shape=shape[:axis] + (1,) + shape[axis:])


def squeeze(input, axis=None, name=None):  # noqa: A002 - TF's name
    """Removes dimensions of size 1: all of them, or those listed in `axis` (int or list).

    >>> import numpyflow as tf
    >>> squeeze(tf.zeros((1, 2, 1))).shape
    TensorShape([2])
    >>> squeeze(tf.zeros((1, 2, 1)), axis=-1).shape
    TensorShape([1, 2])
    """
    x = tensor(input)
    shape = x._value.shape
    if axis is None:
        new_shape = tuple(d for d in shape if d != 1)
    else:
        ndim = len(shape)
        axes = [axis] if not isinstance(axis, (list, tuple)) else axis
        dropped = set()
        for a in axes:
            a = _axis_int(a, "Squeeze")
            if not -ndim <= a < ndim:
                raise invalid_argument("Squeeze", f"Tried to squeeze dim index {a} for tensor "
                                       f"with {ndim} dimensions (shape {_shape_text(shape)})")
            a %= ndim
            if shape[a] != 1:
                raise invalid_argument("Squeeze", f"Can not squeeze dim[{a}], expected a "
                                       f"dimension of 1, got {shape[a]} (shape "
                                       f"{_shape_text(shape)})")
            dropped.add(a)
        new_shape = tuple(d for i, d in enumerate(shape) if i not in dropped)
    if new_shape == shape:
        return _unchanged(x)
    return Reshape(x, shape=new_shape)


# -- concat / stack / unstack / split ---------------------------------------------------------

def _concat_grad(node, dy):
    # Each input's gradient is its own slab of dy along the concatenation axis.
    from numpyflow.ops.indexing_ops import StridedSlice  # indexing_ops imports this module
    axis = node.attrs["axis"]
    grads = []
    start = 0
    for x, needed in zip(node.inputs, node.needs):
        stop = start + x._value.shape[axis]
        grads.append(StridedSlice(dy, key=_along(axis, slice(start, stop))) if needed else None)
        start = stop
    return tuple(grads)


def _concat_explain(arrays, attrs, error):
    axis = attrs["axis"]
    first = arrays[0].shape
    for i, a in enumerate(arrays[1:], 1):
        if a.ndim != len(first):
            return (f"ConcatOp : Ranks of all input tensors should match: shape[0] = "
                    f"{_shape_text(first)} vs. shape[{i}] = {_shape_text(a.shape)}")
        for d in range(len(first)):
            if d != axis and a.shape[d] != first[d]:
                return (f"ConcatOp : Dimension {d} in both shapes must be equal: shape[0] = "
                        f"{_shape_text(first)} vs. shape[{i}] = {_shape_text(a.shape)} "
                        f"(concatenating along axis {axis})")
    return str(error)


ConcatV2 = Primitive("ConcatV2", lambda *arrays, axis: xp.concatenate(arrays, axis=axis),
                     _concat_grad, explain=_concat_explain)


def concat(values, axis, name="concat"):
    """Joins tensors along an existing axis; all other dimensions must match.

    >>> concat([[[1., 2.]], [[3., 4.]]], axis=-1).numpy()
    array([[1., 2., 3., 4.]], dtype=float32)
    """
    if isinstance(values, Tensor):
        values = [values]
    tensors = _matching_tensors(values, "ConcatV2")
    axis = _axis_int(axis, "ConcatV2")
    if len(tensors) == 1:
        return identity(tensors[0])
    ndim = tensors[0]._value.ndim
    if ndim == 0:
        raise invalid_argument("ConcatV2", "ConcatOp : Can't concatenate scalars (use tf.stack "
                               "instead)")
    if not -ndim <= axis < ndim:
        raise invalid_argument("ConcatV2", f"ConcatOp : Expected concatenating dimensions in the "
                               f"range [{-ndim}, {ndim}), but got {axis}")
    return ConcatV2(*tensors, axis=axis % ndim)


def _pack_grad(node, dy):
    # Input i is slice i of dy along the new axis.
    from numpyflow.ops.indexing_ops import StridedSlice  # indexing_ops imports this module
    axis = node.attrs["axis"]
    return tuple(StridedSlice(dy, key=_along(axis, i)) if needed else None
                 for i, needed in enumerate(node.needs))


def _pack_explain(arrays, attrs, error):
    for i, a in enumerate(arrays[1:], 1):
        if a.shape != arrays[0].shape:
            return (f"Shapes of all inputs must match: values[0].shape = "
                    f"{_shape_text(arrays[0].shape)} != values[{i}].shape = "
                    f"{_shape_text(a.shape)}")
    return str(error)


Pack = Primitive("Pack", lambda *arrays, axis: xp.stack(arrays, axis=axis), _pack_grad,
                 explain=_pack_explain)


def stack(values, axis=0, name="stack"):
    """Stacks same-shaped tensors along a new axis (in [-(rank+1), rank+1)).

    >>> stack([[1., 2.], [3., 4.]], axis=1).numpy()
    array([[1., 3.],
           [2., 4.]], dtype=float32)
    """
    tensors = _matching_tensors(values, "Pack")
    axis = _axis_int(axis, "Pack")
    rank = tensors[0]._value.ndim + 1
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank}) (stacking "
                         f"tensors of shape {_shape_text(tensors[0]._value.shape)})")
    return Pack(*tensors, axis=axis % rank)


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits `value` along `axis` into a list of tensors of one lower rank.

    Each piece is a slice of `value`, so gradients flow back through every piece.

    >>> [t.numpy() for t in unstack([[1., 2.], [3., 4.]], axis=1)]
    [array([1., 3.], dtype=float32), array([2., 4.], dtype=float32)]
    """
    x = tensor(value)
    shape = x._value.shape
    ndim = len(shape)
    axis = _axis_int(axis, "Unpack")
    if not -ndim <= axis < ndim:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-ndim}, {ndim}) (unstacking "
                         f"a tensor of shape {_shape_text(shape)})")
    axis %= ndim
    count = shape[axis]
    if num is not None and num != count:
        raise invalid_argument("Unpack", f"Input shape axis {axis} must equal {num}, got shape "
                               f"{_shape_text(shape)}")
    from numpyflow.ops.indexing_ops import StridedSlice  # indexing_ops imports this module
    return [StridedSlice(x, key=_along(axis, i)) for i in range(count)]


def _split_sizes(num_or_size_splits, length, axis):
    """The piece lengths for `split` of an axis of `length` (TF's Split or SplitV)."""
    if isinstance(num_or_size_splits, (int, xp.integer)) or (
            isinstance(num_or_size_splits, Tensor) and num_or_size_splits.ndim == 0):
        num = _axis_int(num_or_size_splits, "Split", "num_or_size_splits")
        if num <= 0:
            raise ValueError(f"split: num_or_size_splits must be a positive integer or a list "
                             f"of sizes; received {num}.")
        if length % num:
            raise invalid_argument("Split", f"Number of ways to split should evenly divide the "
                                   f"split dimension, but got split_dim {axis} (size = "
                                   f"{length}) and num_split {num}")
        return [length // num] * num
    sizes = _int_vector(num_or_size_splits, "SplitV", "num_or_size_splits")
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1:
        raise invalid_argument("SplitV", f"There can only be one -1 in the input; received "
                               f"size_splits={sizes}")
    for i, s in enumerate(sizes):
        if s < -1:
            raise invalid_argument("SplitV", f"Split size at index {i} must be >= 0. Got: {s} "
                                   f"(size_splits={sizes})")
    known = sum(s for s in sizes if s != -1)
    fits = known <= length if unknown else known == length
    if not fits:
        raise invalid_argument(
            "SplitV", f"Determined shape must either match input shape along split_dim exactly "
            f"if fully specified, or be less than the size of the input along split_dim if not "
            f"fully specified. Got: {known} for size_splits={sizes} and split_dim {axis} of "
            f"size {length}")
    if unknown:
        sizes[unknown[0]] = length - known
    return sizes


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits `value` along `axis` into a list of pieces.

    Args:
      value: The tensor to split.
      num_or_size_splits: An int N (N equal pieces; must divide the axis length), or a
        list / 1-D int Tensor of piece lengths, one of which may be -1 (the rest).
      axis: The axis to split (negative counts from the end).
      num: Unused (the number of pieces is always known here); kept for TF compatibility.

    >>> import numpyflow as tf
    >>> [t.shape for t in split(tf.zeros((2, 5)), [1, -1, 2], axis=1)]
    [TensorShape([2, 1]), TensorShape([2, 2]), TensorShape([2, 2])]
    """
    x = tensor(value)
    shape = x._value.shape
    ndim = len(shape)
    axis = _axis_int(axis, "Split")
    if not -ndim <= axis < ndim:
        raise invalid_argument("Split", f"-input rank(-{ndim}) <= split_dim < input rank "
                               f"({ndim}), but got {axis} (input shape {_shape_text(shape)})")
    axis %= ndim
    from numpyflow.ops.indexing_ops import StridedSlice  # indexing_ops imports this module
    pieces = []
    start = 0
    for size in _split_sizes(num_or_size_splits, shape[axis], axis):
        pieces.append(StridedSlice(x, key=_along(axis, slice(start, start + size))))
        start += size
    return pieces


# -- tile / pad -----------------------------------------------------------------------------

def _tile_grad(node, dy):
    # Output axis i holds multiples[i] copies of input axis i back to back: view it as
    # (copies, length) and sum the copies away.
    from numpyflow.ops import reduce_ops  # reduce_ops imports this module
    split_shape, copy_axes = [], []
    for m, d in zip(node.attrs["multiples"], node.inputs[0]._value.shape):
        if m != 1:
            copy_axes.append(len(split_shape))
            split_shape.append(m)
        split_shape.append(d)
    split_dy = Reshape(dy, shape=tuple(split_shape))
    return (reduce_ops.Sum(split_dy, axis=tuple(copy_axes), keepdims=False),)


Tile = Primitive("Tile", lambda x, multiples: xp.tile(x, multiples), _tile_grad)


def tile(input, multiples, name=None):  # noqa: A002 - TF's name
    """Repeats `input` `multiples[i]` times along each axis i.

    >>> tile([[1., 2.]], [2, 2]).numpy()
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]], dtype=float32)
    """
    x = tensor(input)
    multiples = tuple(_int_vector(multiples, "Tile", "multiples"))
    ndim = x._value.ndim
    if len(multiples) != ndim:
        raise invalid_argument("Tile", f"Expected multiples argument to be a vector of length "
                               f"{ndim} but got length {len(multiples)} (input shape "
                               f"{_shape_text(x._value.shape)}, multiples={list(multiples)})")
    for i, m in enumerate(multiples):
        if m < 0:
            raise invalid_argument("Tile", f"Expected multiples[{i}] >= 0, but got {m}")
    if all(m == 1 for m in multiples):
        return _unchanged(x)
    return Tile(x, multiples=multiples)


def _interior(shape, paddings):
    """The index of the original values inside a padded array."""
    return tuple(slice(before, before + d) for d, (before, _) in zip(shape, paddings))


def _pad_forward(x, paddings, constant_values):
    out_shape = tuple(before + d + after for d, (before, after) in zip(x.shape, paddings))
    out = xp.full(out_shape, constant_values, dtype=x.dtype)
    out[_interior(x.shape, paddings)] = x
    return out


def _pad_grad(node, dy):
    from numpyflow.ops.indexing_ops import StridedSlice  # indexing_ops imports this module
    return (StridedSlice(dy, key=_interior(node.inputs[0]._value.shape,
                                           node.attrs["paddings"])),)


# TF has no gradient for the padding value (PadV2's constant_values), so it is an attribute.
Pad = Primitive("Pad", lambda x, paddings: _pad_forward(x, paddings, 0), _pad_grad)
PadV2 = Primitive("PadV2", _pad_forward, _pad_grad)


def _mirror_pad_grad_forward(dy, paddings, mode):
    # Folds each padded border back onto the values it mirrors, one axis at a time.
    # REFLECT mirrors around the edge value (not repeated); SYMMETRIC repeats it.
    edge = 1 if mode == "REFLECT" else 0
    for axis, (before, after) in enumerate(paddings):
        if not before and not after:
            continue
        n = dy.shape[axis] - before - after
        grad = dy[_along(axis, slice(before, before + n))].copy()
        grad[_along(axis, slice(edge, edge + before))] += xp.flip(
            dy[_along(axis, slice(0, before))], axis)
        grad[_along(axis, slice(n - edge - after, n - edge))] += xp.flip(
            dy[_along(axis, slice(before + n, None))], axis)
        dy = grad
    return dy


MirrorPad = Primitive(
    "MirrorPad", lambda x, paddings, mode: xp.pad(x, paddings, mode=mode.lower()),
    lambda node, dy: (MirrorPadGrad(dy, **node.attrs),))
# Folding is linear, and its transpose is mirror-padding again.
MirrorPadGrad = Primitive("MirrorPadGrad", quiet(_mirror_pad_grad_forward),
                          lambda node, ddy: (MirrorPad(ddy, **node.attrs),))


def _check_paddings(paddings, shape, mode):
    op_name = "Pad" if mode == "CONSTANT" else "MirrorPad"
    array = paddings._value if isinstance(paddings, Tensor) else xp.asarray(paddings)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"pad: `paddings` must hold integers; received {paddings!r}.")
    if array.shape != (len(shape), 2):
        raise invalid_argument(op_name, f"paddings must have shape [{len(shape)}, 2] (a "
                               f"[before, after] pair per input dimension, input shape "
                               f"{_shape_text(shape)}); received shape "
                               f"{_shape_text(array.shape)}: {array.tolist()}")
    pairs = tuple((int(b), int(a)) for b, a in array.tolist())
    for d, (before, after) in zip(shape, pairs):
        if before < 0 or after < 0:
            raise invalid_argument(op_name, f"Paddings must be non-negative: {before} {after}")
        if mode == "REFLECT" and (before >= d or after >= d):
            raise invalid_argument(op_name, f"paddings must be less than the dimension size "
                                   f"for REFLECT: {before}, {after} not less than {d}")
        if mode == "SYMMETRIC" and (before > d or after > d):
            raise invalid_argument(op_name, f"paddings must be no greater than the dimension "
                                   f"size for SYMMETRIC: {before}, {after} greater than {d}")
    return pairs


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads `tensor` with `paddings[i] = [before, after]` values along each axis i.

    Args:
      tensor: The tensor to pad.
      paddings: An int array-like or Tensor of shape [rank, 2].
      mode: "CONSTANT" (fill with `constant_values`), "REFLECT" (mirror, edge not
        repeated) or "SYMMETRIC" (mirror, edge repeated); case-insensitive.
      constant_values: The fill value for CONSTANT mode (no gradient flows to it, as in TF).

    >>> pad([[1., 2.]], [[1, 0], [0, 1]]).numpy()
    array([[0., 0., 0.],
           [1., 2., 0.]], dtype=float32)
    >>> pad([1., 2., 3.], [[2, 1]], mode="REFLECT").numpy()
    array([3., 2., 1., 2., 3., 2.], dtype=float32)
    """
    x = _as_tensor(tensor)
    mode_name = str(mode).upper()
    if mode_name not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f'Value of argument `mode` expected to be one of "CONSTANT", '
                         f'"REFLECT", or "SYMMETRIC". Received `mode` = {mode}')
    pairs = _check_paddings(paddings, x._value.shape, mode_name)
    if mode_name != "CONSTANT":
        return MirrorPad(x, paddings=pairs, mode=mode_name)
    if type(constant_values) in (int, float) and constant_values == 0:
        return Pad(x, paddings=pairs)
    fill = tensor_pair(x, constant_values, "PadV2")[1]._value
    if fill.ndim != 0:
        raise invalid_argument("PadV2", f"constant_values must be a scalar. Got: shape "
                               f"{_shape_text(fill.shape)}")
    return PadV2(x, paddings=pairs, constant_values=fill)


# -- shape queries (plain values: nothing to differentiate) -----------------------------------

def _shape_dtype(out_type, op_name):
    np_dtype = dtypes.as_dtype(out_type)._np
    if np_dtype not in (xp.int32, xp.int64):
        raise TypeError(f"{op_name}: out_type must be tf.int32 or tf.int64; received "
                        f"{dtypes.as_dtype(out_type).name}.")
    return np_dtype


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's name
    """The shape of `input` as a 1-D integer Tensor.

    >>> import numpyflow as tf
    >>> shape(tf.zeros((2, 3))).numpy()
    array([2, 3], dtype=int32)
    """
    return Tensor(xp.array(tensor(input)._value.shape, dtype=_shape_dtype(out_type, "shape")))


def rank(input, name=None):  # noqa: A002 - TF's name
    """The number of dimensions of `input`, as a scalar int32 Tensor.

    >>> import numpyflow as tf
    >>> int(rank(tf.zeros((2, 3))))
    2
    """
    return Tensor(xp.array(tensor(input)._value.ndim, dtype=xp.int32))


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's name
    """The number of elements of `input`, as a scalar integer Tensor.

    >>> import numpyflow as tf
    >>> int(size(tf.zeros((2, 3))))
    6
    """
    return Tensor(xp.array(tensor(input)._value.size, dtype=_shape_dtype(out_type, "size")))
