"""Shape and indexing ops: reshape, transpose, concat/split, pad, gather, ... — with gradients."""

import operator

import numpy as np

from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops import _convert
from numpyflow.ops._convert import tensor, tensor_pair
from numpyflow.ops._convert import tensor as _as_tensor


# -- reshape / broadcast ----------------------------------------------------------------

def _reshape_explain(arrays, attrs, error):
    x = arrays[0]
    requested = [int(d) for d in attrs["shape"]]
    return (f"Input to reshape is a tensor with {x.size} values, but the requested shape "
            f"{requested} cannot hold them (input shape {list(x.shape)})")


Reshape = Primitive("Reshape", lambda x, shape: np.reshape(x, shape),
                    lambda node, dy: (reshape(dy, node.inputs[0]._value.shape),),
                    explain=_reshape_explain)


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
    shape = _shape_tuple(shape)
    if x._value.shape == shape and type(x) is Tensor:  # A Variable is read, not aliased.
        return x
    return Reshape(x, shape=shape)


# The tape sums the gradient back over the broadcast axes (tape._unbroadcast).
BroadcastTo = Primitive(
    "BroadcastTo", lambda x, shape: np.broadcast_to(x, shape), lambda node, dy: (dy,),
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

Identity = Primitive("Identity", lambda x: x, lambda node, dy: (dy,))
StopGradient = Primitive("StopGradient", lambda x: x)


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


# -- selection --------------------------------------------------------------------------

def _select_grad(node, dy):
    condition = node.inputs[0]
    zero = Tensor(np.zeros((), dy._value.dtype))
    return (None, where(condition, dy, zero), where(condition, zero, dy))


Select = Primitive("SelectV2", lambda c, x, y: np.where(c, x, y), _select_grad,
                   explain=lambda arrays, attrs, e: "condition, x and y must be broadcastable; "
                   "received shapes " + ", ".join(str(list(a.shape)) for a in arrays))


def where(condition, x=None, y=None, name=None):
    """Picks from `x` where `condition` is True, else from `y` (broadcasting all three).

    With only `condition`, returns the int64 coordinates of its True elements, shape
    (num_true, rank), as TF does.
    """
    condition = tensor(condition)
    if condition._value.dtype != np.bool_:
        raise TypeError(f"where: `condition` must be a bool tensor; received dtype "
                        f"{condition.dtype.name}.")
    if x is None and y is None:
        return Tensor(np.argwhere(condition._value).astype(np.int64))
    if x is None or y is None:
        raise ValueError("where: `x` and `y` must both be given, or neither.")
    x, y = tensor_pair(x, y, "SelectV2")
    return Select(condition, x, y)


# -- indexing (tensor[...]) ---------------------------------------------------------------

def _index_key(key):
    """Turns Tensors inside an index into plain ints/arrays NumPy understands."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        value = key._value
        return value.item() if value.ndim == 0 and value.dtype.kind in "iu" else value
    if isinstance(key, list):
        return np.asarray(key)
    return key


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice))
               for p in parts)


def _slice_grad(node, dy):
    return (SliceGrad(dy, key=node.attrs["key"], shape=node.inputs[0]._value.shape),)


def _slice_grad_forward(dy, key, shape):
    result = np.zeros(shape, dtype=dy.dtype)
    if _is_basic(key):
        result[key] = dy
    else:
        np.add.at(result, key, dy)  # Repeated indices accumulate.
    return result


def _index_explain(arrays, attrs, error):
    return f"Index {attrs['key']!r} is invalid for a tensor of shape {list(arrays[0].shape)}: {error}"


StridedSlice = Primitive("StridedSlice", lambda x, key: x[key], _slice_grad,
                         explain=_index_explain)
# The gradient of slicing: scatters the upstream gradient into zeros of the input shape.
SliceGrad = Primitive("StridedSliceGrad", _slice_grad_forward,
                      lambda node, ddy: (StridedSlice(ddy, key=node.attrs["key"]),))


def _getitem(self, key):
    return StridedSlice(self, key=_index_key(key))


Tensor.__getitem__ = _getitem


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
    array = value._value if isinstance(value, Tensor) else np.asarray(value)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"{op_name}: `{arg}` must hold integers; received {value!r} "
                        f"(dtype {array.dtype}).")
    if array.ndim != 1:
        raise invalid_argument(op_name, f"`{arg}` must be a vector of integers; received "
                               f"shape {_shape_text(array.shape)}: {array.tolist()}")
    return [int(v) for v in array.tolist()]


def _index_tensor(indices, op_name):
    """`indices` as an integer Tensor; Python lists become int32 (empty ones too), as in TF."""
    if not isinstance(indices, Tensor):
        indices = convert_to_tensor(indices, dtype_hint=dtypes.int32)
    np_dtype = indices._value.dtype
    if not (np_dtype.kind == "i" or (np_dtype.kind == "u" and np_dtype.itemsize < 8)):
        raise TypeError(f"{op_name}: indices must be an integer tensor (int32 or int64); "
                        f"received dtype {indices.dtype.name}.")
    return indices


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


def _moved(ndim, block, to):
    """The perm that moves the axes in `block` (a range) so that they start at axis `to`."""
    rest = [a for a in range(ndim) if a not in block]
    return tuple(rest[:to] + list(block) + rest[to:])


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
    lambda node, dy: (Transpose(dy, perm=_inverse_permutation(node.attrs["perm"])),))


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
    if isinstance(axis, (list, tuple, np.ndarray)) or (isinstance(axis, Tensor) and axis.ndim):
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


ConcatV2 = Primitive("ConcatV2", lambda *arrays, axis: np.concatenate(arrays, axis=axis),
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


Pack = Primitive("Pack", lambda *arrays, axis: np.stack(arrays, axis=axis), _pack_grad,
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
    return [StridedSlice(x, key=_along(axis, i)) for i in range(count)]


def _split_sizes(num_or_size_splits, length, axis):
    """The piece lengths for `split` of an axis of `length` (TF's Split or SplitV)."""
    if isinstance(num_or_size_splits, (int, np.integer)) or (
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


Tile = Primitive("Tile", lambda x, multiples: np.tile(x, multiples), _tile_grad)


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
    out = np.full(out_shape, constant_values, dtype=x.dtype)
    out[_interior(x.shape, paddings)] = x
    return out


def _pad_grad(node, dy):
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
        grad[_along(axis, slice(edge, edge + before))] += np.flip(
            dy[_along(axis, slice(0, before))], axis)
        grad[_along(axis, slice(n - edge - after, n - edge))] += np.flip(
            dy[_along(axis, slice(before + n, None))], axis)
        dy = grad
    return dy


MirrorPad = Primitive(
    "MirrorPad", lambda x, paddings, mode: np.pad(x, paddings, mode=mode.lower()),
    lambda node, dy: (MirrorPadGrad(dy, **node.attrs),))
# Folding is linear, and its transpose is mirror-padding again.
MirrorPadGrad = Primitive("MirrorPadGrad", _mirror_pad_grad_forward,
                          lambda node, ddy: (MirrorPad(ddy, **node.attrs),))


def _check_paddings(paddings, shape, mode):
    op_name = "Pad" if mode == "CONSTANT" else "MirrorPad"
    array = paddings._value if isinstance(paddings, Tensor) else np.asarray(paddings)
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
    x = _convert.tensor(tensor)
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


# -- gather / gather_nd -------------------------------------------------------------------------

def _gather_grad(node, dy):
    # Scatter-add dy back into the rows it came from (repeated indices accumulate).
    params, indices = node.inputs
    axis = node.attrs["axis"]
    rows = params._value.shape[axis]
    if axis == 0:
        return UnsortedSegmentSum(dy, indices, num_segments=rows), None
    # Move the indices' axes to the front, scatter along axis 0, move the result back.
    front = _moved(dy._value.ndim, range(axis, axis + indices._value.ndim), 0)
    scattered = UnsortedSegmentSum(Transpose(dy, perm=front), indices, num_segments=rows)
    return Transpose(scattered, perm=_moved(scattered._value.ndim, range(1), axis)), None


def _bounds_checked(indices):
    """`indices` ready for NumPy's bounds-checked indexing, which rejects indices past the
    end but would wrap negative ones. Read as unsigned, negative indices become huge and
    are rejected too (NumPy widens up-to-32-bit unsigned values losslessly), so the usual
    int32 indices are checked at no extra cost; 64-bit ones need an explicit test."""
    if indices.dtype.itemsize < 8:
        return indices if indices.dtype.kind == "u" else indices.view(f"u{indices.itemsize}")
    if indices.size and indices.min() < 0:
        raise IndexError("negative index")
    return indices


def _position_text(position):
    """An element's position in an index tensor, as TF prints it: "[1,0]" ("" for a scalar)."""
    return "[" + ",".join(map(str, position)) + "]" if len(position) else ""


def _out_of_range(indices, limit):
    """TF's message for the first index outside [0, limit), or None if there is none."""
    bad = np.argwhere((indices < 0) | (indices >= limit))
    if not len(bad):
        return None
    position = tuple(bad[0])
    return f"indices{_position_text(position)} = {indices[position]} is not in [0, {limit})"


GatherV2 = Primitive(
    "GatherV2", lambda params, indices, axis: params.take(_bounds_checked(indices), axis),
    _gather_grad,
    explain=lambda arrays, attrs, error: (
        _out_of_range(arrays[1], arrays[0].shape[attrs["axis"]]) or str(error)))


def _segment_sum_forward(data, segment_ids, num_segments):
    out = np.zeros((num_segments,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
    np.add.at(out, segment_ids, data)
    return out


# Only used as gather's gradient, so ids are already known to be in [0, num_segments).
# Its own gradient is a gather again, which is what makes nested tapes work.
UnsortedSegmentSum = Primitive(
    "UnsortedSegmentSum", _segment_sum_forward,
    lambda node, ddy: (GatherV2(ddy, node.inputs[1], axis=0), None))


def _with_batch_coordinates(indices, batch_dims):
    """Prepends each index vector's batch position: a batched gather_nd becomes a plain one."""
    outer = indices.shape[:-1]
    trailing = (1,) * (len(outer) - batch_dims)
    positions = [np.broadcast_to(grid.reshape(grid.shape + trailing), outer)
                 for grid in np.indices(outer[:batch_dims], dtype=indices.dtype, sparse=True)]
    return np.concatenate([np.stack(positions, axis=-1), indices], axis=-1)


def _check_batch_shapes(params_shape, indices_shape, batch_dims, op_name):
    if params_shape[:batch_dims] != indices_shape[:batch_dims]:
        raise invalid_argument(op_name, f"params.shape[:{batch_dims}] = "
                               f"{_shape_text(params_shape[:batch_dims])} should equal "
                               f"indices.shape[:{batch_dims}] = "
                               f"{_shape_text(indices_shape[:batch_dims])} for batch_dims="
                               f"{batch_dims}")


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Picks slices of `params` along `axis` at `indices`.

    The output shape is `params.shape[:axis] + indices.shape[batch_dims:] +
    params.shape[axis+1:]`. Indices outside [0, params.shape[axis]) are an error.
    With `batch_dims` = b, the first b axes of `params` and `indices` are batch axes:
    each batch element gathers from its own slice.

    >>> gather([[1., 2.], [3., 4.], [5., 6.]], [2, 0, 2]).numpy()
    array([[5., 6.],
           [1., 2.],
           [5., 6.]], dtype=float32)
    """
    params = tensor(params)
    indices = _index_tensor(indices, "GatherV2")
    p_shape = params._value.shape
    ndim = len(p_shape)
    batch_dims = _axis_int(batch_dims, "GatherV2", "batch_dims")
    if batch_dims < 0:
        batch_dims += indices._value.ndim
    axis = batch_dims if axis is None else _axis_int(axis, "GatherV2")
    if ndim == 0:
        raise invalid_argument("GatherV2", "params must be at least 1 dimensional; received a "
                               "scalar")
    if not -ndim <= axis < ndim:
        raise invalid_argument("GatherV2", f"Expected axis in the range [{-ndim}, {ndim}), but "
                               f"got {axis} (params shape {_shape_text(p_shape)})")
    axis %= ndim
    if batch_dims:
        return _batched_gather(params, indices, axis, batch_dims)
    return GatherV2(params, indices, axis=axis)


def _batched_gather(params, indices, axis, batch_dims):
    """gather with batch_dims > 0: a gather_nd whose index vectors start at the batch position."""
    p_shape, i_shape = params._value.shape, indices._value.shape
    if not 0 <= batch_dims <= len(i_shape):
        raise ValueError(f"gather: batch_dims = {batch_dims} must be in [0, rank(indices) = "
                         f"{len(i_shape)}].")
    if batch_dims > axis:
        raise ValueError(f"gather: batch_dims = {batch_dims} must be less than or equal to "
                         f"axis = {axis}.")
    _check_batch_shapes(p_shape, i_shape, batch_dims, "GatherV2")
    # Checked here so that errors name GatherV2 and the caller's own indices.
    message = _out_of_range(indices._value, p_shape[axis])
    if message:
        raise invalid_argument("GatherV2", message)
    middle = axis - batch_dims  # params axes between the batch axes and `axis`
    if middle:
        # Bring the gathered axis right after the batch axes...
        params = Transpose(params, perm=_moved(len(p_shape), range(axis, axis + 1), batch_dims))
    index_vectors = _with_batch_coordinates(indices._value[..., np.newaxis], batch_dims)
    result = GatherNd(params, Tensor(index_vectors))
    if middle:
        # ...and move the gathered block back behind the axes that preceded it.
        gathered = range(batch_dims, len(i_shape))
        result = Transpose(result, perm=_moved(result._value.ndim, gathered, batch_dims + middle))
    return result


def _coordinates(indices):
    """Index vectors along the last axis -> the tuple of per-axis index arrays NumPy wants."""
    return tuple(indices[..., i] for i in range(indices.shape[-1]))


def _gather_nd_forward(params, indices):
    if indices.shape[-1] == 0:  # Empty index vectors select all of params, once per vector.
        return np.broadcast_to(params, indices.shape[:-1] + params.shape)
    return params[_coordinates(_bounds_checked(indices))]


def _gather_nd_explain(arrays, attrs, error):
    params, indices = arrays
    limits = np.array(params.shape[:indices.shape[-1]])
    bad = np.argwhere(((indices < 0) | (indices >= limits)).any(axis=-1))
    if not len(bad):
        return str(error)
    position = tuple(bad[0])
    return (f"indices{_position_text(position)} = {indices[position].tolist()} does not "
            f"index into param shape {_shape_text(params.shape)}")


def _scatter_nd_forward(indices, updates, shape):
    if indices.shape[-1] == 0:
        return updates.reshape((-1,) + tuple(shape)).sum(axis=0)
    out = np.zeros(shape, dtype=updates.dtype)
    np.add.at(out, _coordinates(indices), updates)  # Repeated indices accumulate.
    return out


GatherNd = Primitive(
    "GatherNd", _gather_nd_forward,
    lambda node, dy: (ScatterNd(node.inputs[1], dy, shape=node.inputs[0]._value.shape), None),
    explain=_gather_nd_explain)
# gather_nd's gradient; its own gradient (w.r.t. the updates) is gather_nd again.
ScatterNd = Primitive("ScatterNd", _scatter_nd_forward,
                      lambda node, ddy: (None, GatherNd(ddy, node.inputs[0])))


def gather_nd(params, indices, batch_dims=0, name=None):
    """Picks elements or slices of `params` addressed by the index vectors in `indices`.

    The last axis of `indices` holds index vectors of length k <= rank(params); the
    output shape is `indices.shape[:-1] + params.shape[batch_dims + k:]`.

    >>> gather_nd([[1., 2.], [3., 4.]], [[1, 0], [0, 1]]).numpy()
    array([3., 2.], dtype=float32)
    >>> gather_nd([[1., 2.], [3., 4.]], [[1]]).numpy()
    array([[3., 4.]], dtype=float32)
    """
    params = tensor(params)
    indices = _index_tensor(indices, "GatherNd")
    p_shape, i_shape = params._value.shape, indices._value.shape
    batch_dims = _axis_int(batch_dims, "GatherNd", "batch_dims")
    if not i_shape:
        raise invalid_argument("GatherNd", "indices must be at least a vector; received a scalar")
    if not 0 <= batch_dims < len(i_shape):
        raise ValueError(f"gather_nd: batch_dims = {batch_dims} must be in [0, rank(indices) - "
                         f"1 = {len(i_shape) - 1}] (indices shape {_shape_text(i_shape)}).")
    if batch_dims + i_shape[-1] > len(p_shape):
        raise invalid_argument("GatherNd", f"index innermost dimension length must be <= params "
                               f"rank; saw: {i_shape[-1]} vs. {len(p_shape) - batch_dims} "
                               f"(params shape {_shape_text(p_shape)}, indices shape "
                               f"{_shape_text(i_shape)}, batch_dims={batch_dims})")
    if batch_dims:
        _check_batch_shapes(p_shape, i_shape, batch_dims, "GatherNd")
        indices = Tensor(_with_batch_coordinates(indices._value, batch_dims))
    return GatherNd(params, indices)


# -- clip_by_value ----------------------------------------------------------------------------

def _clip_grad(node, dy):
    # As TF: t gets dy where min <= t <= max; min (max) gets it where t fell below (above).
    t, low, high = (x._value for x in node.inputs)
    below, above = t < low, t > high
    zero = Tensor(np.zeros((), dy._value.dtype))
    need_t, need_low, need_high = node.needs
    return (Select(Tensor(below | above), zero, dy) if need_t else None,
            Select(Tensor(below), dy, zero) if need_low else None,
            Select(Tensor(above), dy, zero) if need_high else None)


# maximum(minimum(t, max), min), as TF computes it: `min` wins where min > max.
ClipByValue = Primitive("ClipByValue",
                        lambda t, low, high: np.maximum(np.minimum(t, high), low), _clip_grad)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips values of `t` to [clip_value_min, clip_value_max].

    The bounds may be scalars or tensors broadcastable to `t`'s shape (not beyond it).
    The gradient passes to `t` where it was not clipped.

    >>> clip_by_value([-2., 0.5, 3.], -1., 1.).numpy()
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    values = tensor(t)
    low = tensor_pair(values, clip_value_min, "ClipByValue")[1]
    high = tensor_pair(values, clip_value_max, "ClipByValue")[1]
    if low._value.ndim or high._value.ndim:
        shape = values._value.shape
        try:
            merged = np.broadcast_shapes(shape, low._value.shape, high._value.shape)
        except ValueError:
            raise invalid_argument("ClipByValue", f"Incompatible shapes: t {_shape_text(shape)} "
                                   f"vs. clip_value_min {_shape_text(low._value.shape)} vs. "
                                   f"clip_value_max {_shape_text(high._value.shape)}") from None
        if merged != shape:
            raise ValueError(f"clip_by_value: the clip values must not broadcast `t` to a larger "
                             f"shape: t has shape {shape}, the result would have {merged}.")
    return ClipByValue(values, low, high)


# -- one_hot --------------------------------------------------------------------------------------

def _one_hot_forward(indices, on_value, off_value, depth, axis):
    # Negative and too-large indices match no position, giving an all-off vector, as TF.
    hot = indices[..., np.newaxis] == np.arange(depth)
    if axis != -1:
        hot = np.moveaxis(hot, -1, axis)
    return np.where(hot, on_value, off_value)


OneHot = Primitive("OneHot", _one_hot_forward)  # No gradient, as in TF.


_DEFAULT_ON_OFF = {}  # dtype -> (1, 0) as scalar Tensors; Tensors are immutable, so shared.


def _default_on_off(dtype):
    values = _DEFAULT_ON_OFF.get(dtype)
    if values is None:
        values = _DEFAULT_ON_OFF[dtype] = (Tensor(np.ones((), dtype._np)),
                                           Tensor(np.zeros((), dtype._np)))
    return values


def _one_hot_values(on_value, off_value, dtype):
    """on/off values as scalar Tensors of one dtype, with TF's dtype rules."""
    if on_value is None and off_value is None:
        return _default_on_off(dtypes.float32 if dtype is None else dtypes.as_dtype(dtype))
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if on_value is not None:
        on_value = convert_to_tensor(on_value, dtype_hint=dtype)
    if off_value is not None:
        off_value = convert_to_tensor(off_value, dtype_hint=dtype)
    given = [v.dtype for v in (on_value, off_value) if v is not None]
    if dtype is None:
        dtype = given[0] if given else dtypes.float32
    for label, value in (("on_value", on_value), ("off_value", off_value)):
        if value is not None and value.dtype != dtype:
            raise TypeError(f"one_hot: dtype {value.dtype.name} of {label} does not match "
                            f"dtype {dtype.name}")
        if value is not None and value.ndim != 0:
            raise invalid_argument("OneHot", f"{label} must be a scalar, but got shape "
                                   f"{_shape_text(value.shape)}")
    default_on, default_off = _default_on_off(dtype)
    return (default_on if on_value is None else on_value,
            default_off if off_value is None else off_value)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors of length `depth` for `indices`, on a new axis (last by default).

    The dtype is `dtype`, else that of `on_value`/`off_value`, else float32. An index
    outside [0, depth) gives a vector of `off_value` only.

    >>> one_hot([0, 2, 5], depth=3).numpy()
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]], dtype=float32)
    """
    indices = _index_tensor(indices, "OneHot")
    depth = _axis_int(depth, "OneHot", "depth")
    if depth < 0:
        raise invalid_argument("OneHot", f"depth must be non-negative, got: {depth}")
    out_rank = indices._value.ndim + 1
    axis = -1 if axis is None else _axis_int(axis, "OneHot")
    if axis != -1 and not 0 <= axis < out_rank:
        raise invalid_argument("OneHot", f"Expected axis to be -1 or between [0, {out_rank}). "
                               f"But received: {axis}")
    on_value, off_value = _one_hot_values(on_value, off_value, dtype)
    return OneHot(indices, on_value, off_value, depth=depth,
                  axis=-1 if axis == out_rank - 1 else axis)


# -- shape queries (plain values: nothing to differentiate) -----------------------------------

def _shape_dtype(out_type, op_name):
    np_dtype = dtypes.as_dtype(out_type)._np
    if np_dtype not in (np.int32, np.int64):
        raise TypeError(f"{op_name}: out_type must be tf.int32 or tf.int64; received "
                        f"{dtypes.as_dtype(out_type).name}.")
    return np_dtype


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's name
    """The shape of `input` as a 1-D integer Tensor.

    >>> import numpyflow as tf
    >>> shape(tf.zeros((2, 3))).numpy()
    array([2, 3], dtype=int32)
    """
    return Tensor(np.array(tensor(input)._value.shape, dtype=_shape_dtype(out_type, "shape")))


def rank(input, name=None):  # noqa: A002 - TF's name
    """The number of dimensions of `input`, as a scalar int32 Tensor.

    >>> import numpyflow as tf
    >>> int(rank(tf.zeros((2, 3))))
    2
    """
    return Tensor(np.array(tensor(input)._value.ndim, dtype=np.int32))


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's name
    """The number of elements of `input`, as a scalar integer Tensor.

    >>> import numpyflow as tf
    >>> int(size(tf.zeros((2, 3))))
    6
    """
    return Tensor(np.array(tensor(input)._value.size, dtype=_shape_dtype(out_type, "size")))
