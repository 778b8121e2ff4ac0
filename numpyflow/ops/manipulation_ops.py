"""More shape ops, composed from the primitives of array_ops/indexing_ops (so gradients and
export come with them): reverse, roll, repeat, slice, strided_slice, boolean_mask,
reverse_sequence, meshgrid, sequence_mask, tensordot, space_to_batch/depth and back, and
the shape helpers (shape_n, broadcast_static_shape, ...); plus UnravelIndex.
"""

import builtins

from numpyflow.backend import xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_shape import TensorShape
from numpyflow.ops import array_ops, indexing_ops, math_ops
from numpyflow.ops._convert import tensor, tensor_pair
from numpyflow.ops.array_ops import _axis_int, _int_vector, _shape_text
from numpyflow.ops.indexing_ops import StridedSlice

_slice = builtins.slice  # This module defines tf.slice.
_as_tensor = tensor  # reverse and boolean_mask take an argument named `tensor`.


def _read(t):
    """A tensor's values for Python code that decides from them (indices, lengths).

    Reads through `.numpy()`, so that a traced tf.function learns its Python code
    depends on the data and runs such calls eagerly instead of baking the values in.
    """
    return tensor(t).numpy()


# -- reverse / roll ---------------------------------------------------------------------

def reverse(tensor, axis, name=None):  # noqa: F811 - TF's argument name
    """Reverses `tensor` along each axis in `axis` (a list of ints).

    >>> reverse([[1., 2.], [3., 4.]], [1]).numpy()
    array([[2., 1.],
           [4., 3.]], dtype=float32)
    """
    x = _as_tensor(tensor)
    ndim = x._value.ndim
    axes = _int_vector([axis] if isinstance(axis, int) else axis, "ReverseV2", "axis")
    key = [_slice(None)] * ndim
    for a in axes:
        if not -ndim <= a < ndim:
            raise invalid_argument("ReverseV2", f"'axis'[{axes.index(a)}] = {a} is out of valid "
                                   f"range [{-ndim}, {ndim}) (input shape "
                                   f"{_shape_text(x._value.shape)})")
        if key[a % ndim] != _slice(None):
            raise invalid_argument("ReverseV2", f"axis {a % ndim} specified more than once "
                                   f"(axis={axes})")
        key[a % ndim] = _slice(None, None, -1)
    if not axes:
        return array_ops._unchanged(x)
    # A negative-step slice: its gradient is the same reversal (StridedSliceGrad).
    return StridedSlice(x, key=tuple(key))


def roll(input, shift, axis, name=None):  # noqa: A002 - TF's name
    """Rolls elements along `axis` by `shift` positions (elements leaving one end re-enter
    at the other). `shift` and `axis` are ints or equal-length lists; shifts of a repeated
    axis add up.

    >>> roll([1., 2., 3., 4.], 1, 0).numpy()
    array([4., 1., 2., 3.], dtype=float32)
    """
    x = tensor(input)
    shape = x._value.shape
    ndim = len(shape)
    shifts = _int_vector([shift] if _is_scalar(shift) else shift, "Roll", "shift")
    axes = _int_vector([axis] if _is_scalar(axis) else axis, "Roll", "axis")
    if len(shifts) != len(axes):
        raise invalid_argument("Roll", f"shift and axis must have the same size; received "
                               f"shift={shifts}, axis={axes}")
    total = {}
    for s, a in zip(shifts, axes):
        if not -ndim <= a < ndim:
            raise invalid_argument("Roll", f"axis {a} is out of range for a tensor of rank "
                                   f"{ndim} (shape {_shape_text(shape)})")
        total[a % ndim] = total.get(a % ndim, 0) + s
    result = x
    for a, s in sorted(total.items()):
        n = shape[a]
        s = s % n if n else 0
        if s:
            # The last s elements move to the front: two slices joined again.
            head = StridedSlice(result, key=array_ops._along(a, _slice(n - s, None)))
            tail = StridedSlice(result, key=array_ops._along(a, _slice(0, n - s)))
            result = array_ops.ConcatV2(head, tail, axis=a)
    return array_ops._unchanged(result)


def _is_scalar(value):
    if isinstance(value, Tensor):
        return value.ndim == 0
    return not isinstance(value, (list, tuple)) and xp.ndim(value) == 0


# -- repeat -----------------------------------------------------------------------------

def repeat(input, repeats, axis=None, name=None):  # noqa: A002 - TF's name
    """Repeats each element of `input` `repeats` times along `axis` (flattened first when
    `axis` is None). `repeats` is an int or one count per element along the axis.

    >>> repeat([[1., 2.], [3., 4.]], [1, 2], axis=0).numpy()
    array([[1., 2.],
           [3., 4.],
           [3., 4.]], dtype=float32)
    """
    x = tensor(input)
    if axis is None:
        x = array_ops.reshape(x, (-1,))
        axis = 0
    ndim = x._value.ndim
    axis = _axis_int(axis, "Repeat")
    if not -ndim <= axis < ndim:
        raise invalid_argument("Repeat", f"axis {axis} is out of range for a tensor of rank "
                               f"{ndim}")
    axis %= ndim
    counts = _read(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: `repeats` must hold integers; received {repeats!r}.")
    n = x._value.shape[axis]
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, n)):
        raise invalid_argument("Repeat", f"`repeats` must be a scalar or a vector of length "
                               f"{n} (the size of axis {axis}); received shape "
                               f"{_shape_text(counts.shape)}")
    if (counts < 0).any():
        raise invalid_argument("Repeat", f"`repeats` must be non-negative; received "
                               f"{counts.tolist()}")
    shape = x._value.shape
    if counts.size == 1 and x._value.size:
        # One count for all: insert an axis after `axis`, broadcast it to the count, merge
        # the two. Cheaper than a gather, and the gradient (the tape's sum over the
        # broadcast axis) needs no scatter.
        count = int(counts.reshape(-1)[0])
        spread = array_ops.Reshape(x, shape=shape[:axis + 1] + (1,) + shape[axis + 1:])
        tiled = array_ops.BroadcastTo(spread, shape=shape[:axis + 1] + (count,) +
                                      shape[axis + 1:])
        return array_ops.Reshape(tiled, shape=shape[:axis] + (n * count,) + shape[axis + 1:])
    # A gather of each position `count` times: its gradient sums the copies back.
    positions = xp.repeat(xp.arange(n, dtype=xp.int32), counts.reshape(-1) if counts.ndim else counts)
    return indexing_ops.GatherV2(x, Tensor(positions), axis=axis)


# -- slice / strided_slice ----------------------------------------------------------------

def slice(input_, begin, size, name=None):  # noqa: A001 - TF's name
    """The block of `input_` starting at `begin` with extent `size` (-1: to the end).

    >>> slice([[1., 2., 3.], [4., 5., 6.]], [0, 1], [2, -1]).numpy()
    array([[2., 3.],
           [5., 6.]], dtype=float32)
    """
    x = tensor(input_)
    shape = x._value.shape
    begin = _int_vector(begin, "Slice", "begin")
    size = _int_vector(size, "Slice", "size")
    if len(begin) != len(shape) or len(size) != len(shape):
        raise invalid_argument("Slice", f"Expected begin and size arguments to be 1-D tensors "
                               f"of size {len(shape)}, but got shapes [{len(begin)}] and "
                               f"[{len(size)}] instead (input shape {_shape_text(shape)})")
    key = []
    for i, (b, s, d) in enumerate(zip(begin, size, shape)):
        end = d if s == -1 else b + s
        if b < 0 or s < -1 or end > d:
            raise invalid_argument("Slice", f"Expected begin[{i}] in [0, {d}] and size[{i}] in "
                                   f"[0, {d - b}], but got {b} and {s} (input shape "
                                   f"{_shape_text(shape)})")
        # "To the end" stays open, so a traced slice of a batch axis fits any batch size.
        key.append(_slice(b, None if s == -1 else end))
    return StridedSlice(x, key=tuple(key))


def _bit(mask, i):
    return (mask >> i) & 1


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """`input_[begin:end:strides]` per axis, with TF's masks: bit i of `begin_mask`
    (`end_mask`) ignores begin[i] (end[i]); of `ellipsis_mask` puts `...` at i; of
    `new_axis_mask` inserts a new axis; of `shrink_axis_mask` takes index begin[i] and
    drops the axis.

    >>> strided_slice([[1., 2., 3.], [4., 5., 6.]], [0, 2], [2, 0], [1, -1]).numpy()
    array([[3., 2.],
           [6., 5.]], dtype=float32)
    """
    x = tensor(input_)
    begin = _int_vector(begin, "StridedSlice", "begin")
    end = _int_vector(end, "StridedSlice", "end")
    strides = [1] * len(begin) if strides is None else _int_vector(strides, "StridedSlice",
                                                                     "strides")
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"strided_slice: begin, end and strides must have the same length; "
                         f"received {begin}, {end}, {strides}.")
    if 0 in strides:
        raise ValueError(f"strided_slice: strides must be non-zero; received {strides}.")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if _bit(ellipsis_mask, i):
            key.append(Ellipsis)
        elif _bit(new_axis_mask, i):
            key.append(None)
        elif _bit(shrink_axis_mask, i):
            key.append(b)
        else:
            key.append(_slice(None if _bit(begin_mask, i) else b,
                              None if _bit(end_mask, i) else e, s))
    return StridedSlice(x, key=tuple(key))


# -- boolean_mask / reverse_sequence -----------------------------------------------------------

def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):  # noqa: F811 - TF's name
    """The elements (or slices) of `tensor` where the bool `mask` is True.

    `mask` covers axes `axis` .. `axis + rank(mask) - 1` of `tensor` (axis 0 by default);
    those axes become one axis holding the selected entries in row-major order.

    >>> boolean_mask([[1., 2.], [3., 4.], [5., 6.]], [True, False, True]).numpy()
    array([[1., 2.],
           [5., 6.]], dtype=float32)
    """
    x = _as_tensor(tensor)
    mask_values = _read(mask)
    if mask_values.dtype != xp.bool_:
        raise TypeError(f"boolean_mask: `mask` must be a bool tensor; received dtype "
                        f"{mask_values.dtype}.")
    shape = x._value.shape
    k = mask_values.ndim
    axis = 0 if axis is None else _axis_int(axis, "boolean_mask")
    if axis < 0:
        axis += len(shape)
    if k == 0:
        raise ValueError("boolean_mask: mask cannot be a scalar.")
    if not 0 <= axis <= len(shape) - k or shape[axis:axis + k] != mask_values.shape:
        raise ValueError(f"boolean_mask: mask of shape {_shape_text(mask_values.shape)} does not "
                         f"match the dimensions {axis}..{axis + k - 1} of tensor of shape "
                         f"{_shape_text(shape)}.")
    # Collapse the masked axes into one, then gather the True positions along it.
    collapsed = array_ops.reshape(x, shape[:axis] + (-1,) + shape[axis + k:])
    positions = xp.flatnonzero(mask_values).astype(xp.int64)
    return indexing_ops.GatherV2(collapsed, Tensor(positions), axis=axis)


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None):  # noqa: A002
    """Reverses the first `seq_lengths[b]` entries along `seq_axis` of each batch entry b
    (along `batch_axis`); the entries past each length stay in place.

    >>> reverse_sequence([[1., 2., 3.], [4., 5., 6.]], [2, 3], seq_axis=1).numpy()
    array([[2., 1., 3.],
           [6., 5., 4.]], dtype=float32)
    """
    x = tensor(input)
    if seq_axis is None:
        raise ValueError("reverse_sequence: `seq_axis` must be given.")
    batch_axis = 0 if batch_axis is None else _axis_int(batch_axis, "ReverseSequence")
    seq_axis = _axis_int(seq_axis, "ReverseSequence")
    shape = x._value.shape
    ndim = len(shape)
    for label, a in (("seq_axis", seq_axis), ("batch_axis", batch_axis)):
        if not -ndim <= a < ndim:
            raise invalid_argument("ReverseSequence", f"{label} = {a} is out of range for an "
                                   f"input of rank {ndim}")
    seq_axis, batch_axis = seq_axis % ndim, batch_axis % ndim
    if seq_axis == batch_axis:
        raise invalid_argument("ReverseSequence", f"seq_axis == batch_axis == {seq_axis}")
    lengths = _read(seq_lengths)
    if lengths.shape != (shape[batch_axis],):
        raise invalid_argument("ReverseSequence", f"len(seq_lengths) != input.dims({batch_axis})"
                               f", ({lengths.size} vs. {shape[batch_axis]})")
    if lengths.size and (lengths.min() < 0 or lengths.max() > shape[seq_axis]):
        raise invalid_argument("ReverseSequence", f"seq_lengths must be in [0, "
                               f"{shape[seq_axis]}]; received {lengths.tolist()}")
    steps = xp.arange(shape[seq_axis])
    lengths = lengths.astype(xp.int64)[:, None]
    # Position j of batch entry b reads position length-1-j while j < length.
    source = xp.where(steps < lengths, lengths - 1 - steps, steps)
    # With the batch axis first and the sequence axis second, a batched gather does it.
    front = array_ops._unchanged(x)
    perm = [batch_axis, seq_axis] + [a for a in range(ndim) if a not in (batch_axis, seq_axis)]
    if perm != list(range(ndim)):
        front = array_ops.Transpose(x, perm=tuple(perm))
    gathered = indexing_ops.gather(front, Tensor(source), axis=1, batch_dims=1)
    if perm == list(range(ndim)):
        return gathered
    return array_ops.Transpose(gathered, perm=array_ops._inverse_permutation(perm))


# -- meshgrid / sequence_mask -----------------------------------------------------------------

def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D tensors: `indexing="xy"` (default; the first two outputs'
    axes swapped, as in plotting) or `"ij"` (matrix indexing).

    >>> x, y = meshgrid([1., 2., 3.], [4., 5.])
    >>> x.shape, y.numpy()[:, 0].tolist()
    (TensorShape([2, 3]), [4.0, 5.0])
    """
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}.")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij'; received {indexing!r}.")
    inputs = [array_ops.reshape(tensor(a), (-1,)) for a in args]
    if not inputs:
        return []
    sizes = [t._value.shape[0] for t in inputs]
    if indexing == "xy" and len(inputs) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    outputs = []
    for i, t in enumerate(inputs):
        position = i
        if indexing == "xy" and i < 2 and len(inputs) > 1:
            position = 1 - i
        view = [1] * len(inputs)
        view[position] = sizes[position]
        outputs.append(array_ops.broadcast_to(array_ops.reshape(t, tuple(view)), tuple(sizes)))
    return outputs


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """`mask[..., j] = j < lengths[...]`, with `maxlen` columns (default: max(lengths)).

    >>> sequence_mask([1, 3], 4).numpy()
    array([[ True, False, False, False],
           [ True,  True,  True, False]])
    """
    lengths = tensor(lengths)
    if lengths._value.dtype.kind not in "iuf":
        raise TypeError(f"sequence_mask: `lengths` must be a numeric tensor; received dtype "
                        f"{lengths.dtype.name}.")
    if maxlen is None:
        # Reading the lengths decides the output shape, as in TF's eager mode (which counts
        # the columns as range(max) does: a float maximum rounds up).
        maxlen = int(xp.ceil(_read(lengths).max())) if lengths._value.size else 0
    else:
        maxlen = _axis_int(int(maxlen) if isinstance(maxlen, Tensor) else maxlen,
                           "sequence_mask", "maxlen")
        if maxlen < 0:
            raise invalid_argument("Range", f"Requires maxlen >= 0; received {maxlen}")
    columns = Tensor(xp.arange(maxlen, dtype=lengths._value.dtype))
    mask = math_ops.less(columns, array_ops.expand_dims(lengths, -1))
    dtype = dtypes.as_dtype(dtype)
    return mask if dtype == dtypes.bool else math_ops.cast(mask, dtype)


# -- tensordot --------------------------------------------------------------------------------

def _tensordot_axes(axes, a_ndim, b_ndim):
    if isinstance(axes, Tensor):
        axes = axes._value.tolist()
    if isinstance(axes, (int, xp.integer)):
        n = int(axes)
        if not 0 <= n <= min(a_ndim, b_ndim):
            raise ValueError(f"tensordot: axes = {n} must be in [0, min(rank(a), rank(b)) = "
                             f"{min(a_ndim, b_ndim)}].")
        return list(range(a_ndim - n, a_ndim)), list(range(n))
    axes = list(axes)
    if len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists; received "
                         f"{axes!r}.")
    a_axes, b_axes = ([v] if isinstance(v, (int, xp.integer)) else list(v) for v in axes)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: the two axis lists must have the same length; received "
                         f"{a_axes} and {b_axes}.")
    return [int(v) % a_ndim for v in a_axes], [int(v) % b_ndim for v in b_axes]


def tensordot(a, b, axes, name=None):
    """Sums the products of `a` and `b` over the paired axes `axes` (an int n: the last n
    of `a` with the first n of `b`; or a pair of axis lists).

    >>> tensordot([[1., 2.], [3., 4.]], [1., 1.], axes=1).numpy()
    array([3., 7.], dtype=float32)
    """
    a, b = tensor_pair(a, b, "MatMul")
    a_shape, b_shape = a._value.shape, b._value.shape
    a_axes, b_axes = _tensordot_axes(axes, len(a_shape), len(b_shape))
    for i, j in zip(a_axes, b_axes):
        if a_shape[i] != b_shape[j]:
            raise invalid_argument("MatMul", f"tensordot: dimension {i} of a (size "
                                   f"{a_shape[i]}) does not match dimension {j} of b (size "
                                   f"{b_shape[j]}); shapes {_shape_text(a_shape)} and "
                                   f"{_shape_text(b_shape)}")
    a_free = [i for i in range(len(a_shape)) if i not in a_axes]
    b_free = [j for j in range(len(b_shape)) if j not in b_axes]
    # (free_a, contracted) @ (contracted, free_b): one matrix product.
    inner = int(xp.prod([a_shape[i] for i in a_axes], dtype=xp.int64))

    def free_size(shape, axes):
        # -1 keeps a traced plan free in the batch size; a reshape cannot infer a size next
        # to a 0, though, so an empty contraction gives the size itself.
        return int(xp.prod([shape[i] for i in axes], dtype=xp.int64)) if inner == 0 else -1

    a_matrix = array_ops.reshape(array_ops.transpose(a, a_free + a_axes),
                                 (free_size(a_shape, a_free), inner))
    b_matrix = array_ops.reshape(array_ops.transpose(b, b_axes + b_free),
                                 (inner, free_size(b_shape, b_free)))
    product = math_ops.matmul(a_matrix, b_matrix)
    return array_ops.reshape(product, tuple(a_shape[i] for i in a_free) +
                             tuple(b_shape[j] for j in b_free))


# -- space_to_batch / batch_to_space / space_to_depth / depth_to_space -------------------------

def _block_vector(block_shape, op_name):
    block = _int_vector([block_shape] if _is_scalar(block_shape) else block_shape, op_name,
                        "block_shape")
    if any(b < 1 for b in block):
        raise invalid_argument(op_name, f"All values in block_shape must be positive, got "
                               f"value, {block}")
    return block


def space_to_batch_nd(input, block_shape, paddings, name=None):  # noqa: A002
    """Pads the spatial axes 1..m of `input` by `paddings`, then moves each `block_shape`
    block of positions into the batch axis (batch index = block offset * batch + b).

    >>> space_to_batch_nd([[[[1.], [2.]], [[3.], [4.]]]], [2, 2], [[0, 0], [0, 0]]).shape
    TensorShape([4, 1, 1, 1])
    """
    x = tensor(input)
    block = _block_vector(block_shape, "SpaceToBatchND")
    m = len(block)
    shape = x._value.shape
    pads = xp.asarray(_read(paddings)).reshape(-1, 2) if m else xp.zeros((0, 2), int)
    if len(shape) < m + 1 or pads.shape != (m, 2):
        raise invalid_argument("SpaceToBatchND", f"input rank should be >= {m + 1} and paddings "
                               f"of shape [{m}, 2]; received input shape {_shape_text(shape)}, "
                               f"paddings {pads.tolist()}")
    pairs = [[0, 0]] + pads.astype(int).tolist() + [[0, 0]] * (len(shape) - m - 1)
    padded = array_ops.pad(x, pairs) if pads.any() else x
    p_shape = padded._value.shape
    split = [p_shape[0]]
    for i, b in enumerate(block):
        if p_shape[1 + i] % b:
            raise invalid_argument("SpaceToBatchND", f"padded_shape[{i}]={p_shape[1 + i]} is "
                                   f"not divisible by block_shape[{i}]={b}")
        split += [p_shape[1 + i] // b, b]
    rest = list(p_shape[1 + m:])
    # (batch, h1, b1, h2, b2, ..., rest) -> (b1, b2, ..., batch, h1, h2, ..., rest)
    grid = array_ops.reshape(padded, tuple(split + rest))
    perm = ([2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] +
            list(range(1 + 2 * m, 1 + 2 * m + len(rest))))
    moved = array_ops.transpose(grid, perm)
    batch = p_shape[0] * int(xp.prod(block, dtype=xp.int64))
    return array_ops.reshape(moved, (batch,) + tuple(split[1::2]) + tuple(rest))


def space_to_batch(input, block_shape, paddings, name=None):  # noqa: A002
    """`tf.space_to_batch`: the same as `space_to_batch_nd`."""
    return space_to_batch_nd(input, block_shape, paddings)


def batch_to_space(input, block_shape, crops, name=None):  # noqa: A002
    """The inverse of `space_to_batch_nd`: moves blocks of the batch axis back into the
    spatial axes 1..m, then crops them by `crops` ([m, 2]).

    >>> import numpyflow as tf
    >>> batch_to_space(tf.zeros((4, 1, 1, 1)), [2, 2], [[0, 0], [0, 0]]).shape
    TensorShape([1, 2, 2, 1])
    """
    x = tensor(input)
    block = _block_vector(block_shape, "BatchToSpaceND")
    m = len(block)
    shape = x._value.shape
    crop = xp.asarray(_read(crops)).reshape(-1, 2).astype(int) if m else xp.zeros((0, 2), int)
    count = int(xp.prod(block, dtype=xp.int64))
    if len(shape) < m + 1 or crop.shape != (m, 2) or shape[0] % count:
        raise invalid_argument("BatchToSpaceND", f"input batch {shape[0] if shape else None} "
                               f"must be divisible by prod(block_shape) = {count}, input rank "
                               f">= {m + 1} and crops of shape [{m}, 2]; received input shape "
                               f"{_shape_text(shape)}, crops {crop.tolist()}")
    batch = shape[0] // count
    rest = list(shape[1 + m:])
    grid = array_ops.reshape(x, tuple(block) + (batch,) + shape[1:])
    # (b1, ..., bm, batch, h1, ..., hm, rest) -> (batch, h1, b1, ..., hm, bm, rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    moved = array_ops.transpose(grid, perm)
    full = array_ops.reshape(moved, (batch,) + tuple(shape[1 + i] * b for i, b in
                                                     enumerate(block)) + tuple(rest))
    if not crop.any():
        return full
    key = [_slice(None)]
    for i, (before, after) in enumerate(crop.tolist()):
        size = full._value.shape[1 + i]
        if before < 0 or after < 0 or before + after > size:
            raise invalid_argument("BatchToSpaceND", f"crops must be non-negative and at most "
                                   f"the size of dimension {i + 1} ({size}); received "
                                   f"{crop.tolist()}")
        key.append(_slice(before, size - after))
    return StridedSlice(full, key=tuple(key))


def _check_nhwc(x, block_size, op_name):
    block_size = _axis_int(block_size, op_name, "block_size")
    if block_size < 2:
        raise ValueError(f"{op_name}: block_size should be > 1; received {block_size}.")
    if x._value.ndim != 4:
        raise invalid_argument(op_name, f"input rank should be 4 (NHWC); received shape "
                               f"{_shape_text(x._value.shape)}")
    return block_size


def space_to_depth(input, block_size, data_format="NHWC", name=None):  # noqa: A002
    """Moves each block_size x block_size spatial block into the channels (NHWC).

    >>> import numpyflow as tf
    >>> space_to_depth(tf.zeros((1, 4, 4, 3)), 2).shape
    TensorShape([1, 2, 2, 12])
    """
    x = tensor(input)
    if data_format != "NHWC":
        raise ValueError(f"space_to_depth: only data_format='NHWC' is supported; received "
                         f"{data_format!r}.")
    b = _check_nhwc(x, block_size, "SpaceToDepth")
    n, h, w, c = x._value.shape
    if h % b or w % b:
        raise invalid_argument("SpaceToDepth", f"Image height {h} and width {w} should be "
                               f"divisible by block_size: {b}")
    blocks = array_ops.reshape(x, (n, h // b, b, w // b, b, c))
    moved = array_ops.transpose(blocks, [0, 1, 3, 2, 4, 5])
    return array_ops.reshape(moved, (n, h // b, w // b, b * b * c))


def depth_to_space(input, block_size, data_format="NHWC", name=None):  # noqa: A002
    """The inverse of `space_to_depth`: spreads channel blocks over the space (NHWC).

    >>> import numpyflow as tf
    >>> depth_to_space(tf.zeros((1, 2, 2, 12)), 2).shape
    TensorShape([1, 4, 4, 3])
    """
    x = tensor(input)
    if data_format != "NHWC":
        raise ValueError(f"depth_to_space: only data_format='NHWC' is supported; received "
                         f"{data_format!r}.")
    b = _check_nhwc(x, block_size, "DepthToSpace")
    n, h, w, c = x._value.shape
    if c % (b * b):
        raise invalid_argument("DepthToSpace", f"Input depth dimension {c} should be divisible "
                               f"by: {b * b}")
    blocks = array_ops.reshape(x, (n, h, w, b, b, c // (b * b)))
    moved = array_ops.transpose(blocks, [0, 1, 3, 2, 4, 5])
    return array_ops.reshape(moved, (n, h * b, w * b, c // (b * b)))


# -- small helpers on lists and shapes -----------------------------------------------------------

def identity_n(input, name=None):  # noqa: A002 - TF's name
    """`tf.identity` of each tensor in the list `input`."""
    return [array_ops.identity(t) for t in input]


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's name
    """`tf.shape` of each tensor in the list `input`."""
    return [array_ops.shape(t, out_type=out_type) for t in input]


def parallel_stack(values, name="parallel_stack"):
    """`tf.stack(values, axis=0)` (TF's version runs the copies in parallel)."""
    return array_ops.stack(values, axis=0)


def broadcast_static_shape(shape_x, shape_y):
    """The TensorShape both shapes broadcast to (None dimensions stay unknown).

    >>> import numpyflow as tf
    >>> broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3]))
    TensorShape([2, 3])
    """
    x, y = list(TensorShape(shape_x)), list(TensorShape(shape_y))
    length = max(len(x), len(y))
    x, y = [1] * (length - len(x)) + x, [1] * (length - len(y)) + y
    result = []
    for a, b in zip(x, y):
        if a == 1 or a == b:
            result.append(b)
        elif b == 1:
            result.append(a)
        elif a is None or b is None:
            result.append(a if b is None else b)
        else:
            raise ValueError(f"Incompatible shapes for broadcasting: {TensorShape(shape_x)} and "
                             f"{TensorShape(shape_y)}")
    return TensorShape(result)


def broadcast_dynamic_shape(shape_x, shape_y):
    """The shape (a 1-D int Tensor) both shape vectors broadcast to.

    >>> broadcast_dynamic_shape([2, 1], [3]).numpy()
    array([2, 3], dtype=int32)
    """
    x_values, y_values = _read(shape_x), _read(shape_y)
    dtype = x_values.dtype if x_values.dtype.kind in "iu" and x_values.size else xp.int32
    try:
        merged = xp.broadcast_shapes(tuple(int(d) for d in x_values.reshape(-1)),
                                     tuple(int(d) for d in y_values.reshape(-1)))
    except ValueError:
        raise invalid_argument("BroadcastArgs", f"Incompatible shapes: "
                               f"{_shape_text(x_values.tolist())} vs. "
                               f"{_shape_text(y_values.tolist())}") from None
    return Tensor(xp.array(merged, dtype=dtype))


# -- unravel_index ---------------------------------------------------------------------------

def _unravel_forward(indices, dims):
    return xp.stack(xp.unravel_index(indices, tuple(dims.tolist())), axis=0).astype(
        indices.dtype)


def _unravel_explain(arrays, attrs, error):
    indices, dims = arrays
    if (dims < 0).any():
        return f"dims must be non-negative; received {dims.tolist()}"
    return (f"index out of bounds: indices {indices.tolist()} must be in [0, "
            f"{int(xp.prod(dims))}) for dims {dims.tolist()}")


# A primitive, not Python on the values, so a traced function computes it on each call's data.
UnravelIndex = Primitive("UnravelIndex", quiet(_unravel_forward), explain=_unravel_explain)


def unravel_index(indices, dims, name=None):
    """Converts flat `indices` into coordinate arrays for an array of shape `dims`; the
    result has shape `[len(dims)] + indices.shape`.

    >>> unravel_index([1, 5], [2, 3]).numpy()
    array([[0, 1],
           [1, 2]], dtype=int32)
    """
    indices, dims = tensor(indices), tensor(dims)
    if indices._value.dtype.kind not in "iu" or dims._value.dtype != indices._value.dtype:
        raise TypeError(f"unravel_index: `indices` and `dims` must be integer tensors of one "
                        f"dtype; received {indices.dtype.name} and {dims.dtype.name}.")
    if dims._value.ndim != 1 or indices._value.ndim > 1:
        raise invalid_argument("UnravelIndex", f"indices must be a scalar or vector and dims a "
                               f"vector; received shapes {_shape_text(indices._value.shape)} "
                               f"and {_shape_text(dims._value.shape)}")
    return UnravelIndex(indices, dims)
