"""Selection ops: tensor[...], where, gather/gather_nd, scatter_nd and tensor_scatter_nd_*,
one_hot, clip_by_value — with gradients."""

from numpyflow.backend import xp
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops import math_ops
from numpyflow.ops._convert import tensor, tensor_pair
from numpyflow.backend.quiet import quiet
from numpyflow.ops.array_ops import Transpose, _axis_int, _shape_text


# -- selection --------------------------------------------------------------------------

def _select_grad(node, dy):
    condition = node.inputs[0]
    zero = Tensor(xp.zeros((), dy._value.dtype))
    return (None, where(condition, dy, zero), where(condition, zero, dy))


def _select_forward(c, x, y):
    if c.ndim == 0 and x.shape == y.shape and x.dtype == y.dtype:
        # One condition for the whole tensor (a stateless random flip's coin, per image of
        # an input pipeline): a copy of one side, without `where`'s broadcasting (half its
        # cost at 32x32).
        return (x if c else y).copy()
    return xp.where(c, x, y)


Select = Primitive("SelectV2", _select_forward, _select_grad,
                   explain=lambda arrays, attrs, e: "condition, x and y must be broadcastable; "
                   "received shapes " + ", ".join(str(list(a.shape)) for a in arrays))


def where(condition, x=None, y=None, name=None):
    """Picks from `x` where `condition` is True, else from `y` (broadcasting all three).

    With only `condition`, returns the int64 coordinates of its True elements, shape
    (num_true, rank), as TF does.
    """
    condition = tensor(condition)
    if condition._value.dtype != xp.bool_:
        raise TypeError(f"where: `condition` must be a bool tensor; received dtype "
                        f"{condition.dtype.name}.")
    if x is None and y is None:
        return Tensor(xp.argwhere(condition._value).astype(xp.int64))
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
        return xp.asarray(key)
    return key


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, xp.integer, slice))
               for p in parts)


def _slice_grad(node, dy):
    return (SliceGrad(dy, key=node.attrs["key"], shape=node.inputs[0]._value.shape),)


def _slice_grad_forward(dy, key, shape):
    result = xp.zeros(shape, dtype=dy.dtype)
    if _is_basic(key):
        result[key] = dy
    else:
        xp.add.at(result, key, dy)  # Repeated indices accumulate.
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

def _index_tensor(indices, op_name):
    """`indices` as an integer Tensor; Python lists become int32 (empty ones too), as in TF."""
    if not isinstance(indices, Tensor):
        indices = convert_to_tensor(indices, dtype_hint=dtypes.int32)
    np_dtype = indices._value.dtype
    if not (np_dtype.kind == "i" or (np_dtype.kind == "u" and np_dtype.itemsize < 8)):
        raise TypeError(f"{op_name}: indices must be an integer tensor (int32 or int64); "
                        f"received dtype {indices.dtype.name}.")
    return indices


def _moved(ndim, block, to):
    """The perm that moves the axes in `block` (a range) so that they start at axis `to`."""
    rest = [a for a in range(ndim) if a not in block]
    return tuple(rest[:to] + list(block) + rest[to:])


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
    bad = xp.argwhere((indices < 0) | (indices >= limit))
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
    # The hot path of embedding gradients ((vocab, dim) tables). xp.add.at over whole rows
    # is ~3.5x slower than over single elements, so each row's elements get their own flat
    # index: same additions, same order, same result.
    inner_shape = data.shape[segment_ids.ndim:]
    inner = int(xp.prod(inner_shape, dtype=xp.int64))
    out = xp.zeros(num_segments * inner, dtype=data.dtype)
    rows = segment_ids.reshape(-1).astype(xp.intp, copy=False)
    flat = rows if inner == 1 else (rows[:, None] * inner + xp.arange(inner)).reshape(-1)
    xp.add.at(out, flat, data.reshape(-1))
    return out.reshape((num_segments,) + inner_shape)


def _explain_segment_ids(arrays, attrs, error):
    """TF's message for ids past num_segments (the scatter's IndexError), found only once
    the scatter has failed, so that the embedding-gradient hot path checks nothing."""
    from numpyflow.ops.segment_ops import out_of_range_message  # segment_ops imports us.
    data, ids = arrays
    message = out_of_range_message(ids, attrs["num_segments"], negative_ids_allowed=False)
    if message is None:
        message = f"{error} (received input shapes: {list(data.shape)}, {list(ids.shape)})"
    return message


# Gather's gradient (ids known to be in [0, num_segments)) and, behind
# tf.math.unsorted_segment_sum (negative ids masked out first), the public op, whose ids
# past the end get TF's message from `explain`. Its own gradient is a gather again, which
# is what makes nested tapes work.
UnsortedSegmentSum = Primitive(
    "UnsortedSegmentSum", quiet(_segment_sum_forward),
    lambda node, ddy: (GatherV2(ddy, node.inputs[1], axis=0), None),
    explain=_explain_segment_ids)


def _with_batch_coordinates(indices, batch_dims):
    """Prepends each index vector's batch position: a batched gather_nd becomes a plain one."""
    outer = indices.shape[:-1]
    trailing = (1,) * (len(outer) - batch_dims)
    positions = [xp.broadcast_to(grid.reshape(grid.shape + trailing), outer)
                 for grid in xp.indices(outer[:batch_dims], dtype=indices.dtype, sparse=True)]
    return xp.concatenate([xp.stack(positions, axis=-1), indices], axis=-1)


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
    index_vectors = _with_batch_coordinates(indices._value[..., xp.newaxis], batch_dims)
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
        return xp.broadcast_to(params, indices.shape[:-1] + params.shape)
    return params[_coordinates(_bounds_checked(indices))]


def _gather_nd_explain(arrays, attrs, error):
    params, indices = arrays
    limits = xp.array(params.shape[:indices.shape[-1]])
    bad = xp.argwhere(((indices < 0) | (indices >= limits)).any(axis=-1))
    if not len(bad):
        return str(error)
    position = tuple(bad[0])
    return (f"indices{_position_text(position)} = {indices[position].tolist()} does not "
            f"index into param shape {_shape_text(params.shape)}")


def _scatter_nd_forward(indices, updates, shape):
    if indices.shape[-1] == 0:
        return updates.reshape((-1,) + tuple(shape)).sum(axis=0)
    out = xp.zeros(shape, dtype=updates.dtype)
    # Bounds-checked (negative indices too), since tf.scatter_nd's plans call this directly.
    xp.add.at(out, _coordinates(_bounds_checked(indices)), updates)  # Repeats accumulate.
    return out


GatherNd = Primitive(
    "GatherNd", _gather_nd_forward,
    lambda node, dy: (ScatterNd(node.inputs[1], dy, shape=node.inputs[0]._value.shape), None),
    explain=_gather_nd_explain)
# gather_nd's gradient; its own gradient (w.r.t. the updates) is gather_nd again.
ScatterNd = Primitive("ScatterNd", quiet(_scatter_nd_forward),
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


# -- scatter_nd / tensor_scatter_nd_* -----------------------------------------------------------

def _check_scatter(indices, updates, shape, op_name):
    """TF's checks of a scatter: index vectors that fit `shape`, updates of the right shape."""
    i_shape, u_shape = indices._value.shape, updates._value.shape
    if not i_shape:
        raise invalid_argument(op_name, "indices must be at least a vector; received a scalar")
    depth = i_shape[-1]
    if depth > len(shape):
        raise invalid_argument(op_name, f"Dimensions [0,{depth}) of indices[shape="
                               f"{_shape_text(i_shape)}] = {depth} must be <= the rank of the "
                               f"output ({len(shape)}, shape {_shape_text(shape)})")
    expected = tuple(i_shape[:-1]) + tuple(shape[depth:])
    if u_shape != expected:
        raise invalid_argument(op_name, f"updates must have shape indices.shape[:-1] + "
                               f"shape[indices.shape[-1]:] = {_shape_text(expected)}; received "
                               f"updates shape {_shape_text(u_shape)} (indices shape "
                               f"{_shape_text(i_shape)}, shape {_shape_text(shape)})")
    values = indices._value
    if depth and values.size:
        limits = xp.array(shape[:depth])
        bad = xp.argwhere(((values < 0) | (values >= limits)).any(axis=-1))
        if len(bad):
            position = tuple(bad[0])
            raise invalid_argument(op_name, f"indices{_position_text(position)} = "
                                   f"{values[position].tolist()} does not index into shape "
                                   f"{_shape_text(shape)}")


def scatter_nd(indices, updates, shape, name=None):
    """A tensor of zeros of shape `shape` with `updates` added at the index vectors in
    `indices` (repeated indices add up).

    >>> scatter_nd([[1], [3]], [9., 10.], [5]).numpy()
    array([ 0.,  9.,  0., 10.,  0.], dtype=float32)
    """
    indices = _index_tensor(indices, "ScatterNd")
    updates = tensor(updates)
    shape = tuple(int(d) for d in (shape._value.tolist() if isinstance(shape, Tensor)
                                   else shape))
    if any(d < 0 for d in shape):
        raise invalid_argument("ScatterNd", f"shape must not have negative dimensions; "
                               f"received {list(shape)}")
    _check_scatter(indices, updates, shape, "ScatterNd")
    return ScatterNd(indices, updates, shape=shape)


def _scatter_target(tensor_, indices, updates, op_name):
    target = tensor(tensor_)
    indices = _index_tensor(indices, op_name)
    updates = tensor_pair(target, updates, op_name)[1]
    _check_scatter(indices, updates, target._value.shape, op_name)
    return target, indices, updates


def tensor_scatter_nd_add(tensor, indices, updates, name=None):  # noqa: F811 - TF's name
    """`tensor` with `updates` added at the index vectors in `indices` (repeats add up).

    >>> tensor_scatter_nd_add([1., 1., 1.], [[0], [0]], [2., 3.]).numpy()
    array([6., 1., 1.], dtype=float32)
    """
    target, indices, updates = _scatter_target(tensor, indices, updates, "TensorScatterAdd")
    return math_ops.add(target, ScatterNd(indices, updates, shape=target._value.shape))


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):  # noqa: F811 - TF's name
    """`tensor` with `updates` subtracted at the index vectors in `indices`.

    >>> tensor_scatter_nd_sub([1., 1., 1.], [[2]], [5.]).numpy()
    array([ 1.,  1., -4.], dtype=float32)
    """
    target, indices, updates = _scatter_target(tensor, indices, updates, "TensorScatterSub")
    return math_ops.subtract(target, ScatterNd(indices, updates, shape=target._value.shape))


def _scatter_update_forward(target, indices, updates):
    out = target.copy()
    if indices.shape[-1] == 0:  # Each update replaces the whole tensor.
        stacked = updates.reshape((-1,) + target.shape)
        if len(stacked):
            out[...] = stacked[-1]
        return out
    out[_coordinates(_bounds_checked(indices))] = updates  # Of repeats, the last wins.
    return out


def _scatter_update_grad(node, dy):
    _, indices, updates = node.inputs
    zeros = Tensor(xp.zeros(updates._value.shape, dy._value.dtype))
    need_target, _, need_updates = node.needs
    return (TensorScatterUpdate(dy, indices, zeros) if need_target else None, None,
            GatherNd(dy, indices) if need_updates else None)


TensorScatterUpdate = Primitive("TensorScatterUpdate", quiet(_scatter_update_forward),
                                _scatter_update_grad)


def tensor_scatter_nd_update(tensor, indices, updates, name=None):  # noqa: F811 - TF's name
    """`tensor` with the entries (or slices) at the index vectors in `indices` replaced by
    `updates`. The gradient of the replaced entries goes to `updates`.

    >>> tensor_scatter_nd_update([1., 1., 1.], [[1]], [7.]).numpy()
    array([1., 7., 1.], dtype=float32)
    """
    target, indices, updates = _scatter_target(tensor, indices, updates, "TensorScatterUpdate")
    return TensorScatterUpdate(target, indices, updates)


def _scatter_extreme_forward(target, indices, updates, ufunc):
    out = target.copy()
    if indices.shape[-1] == 0:  # Each update applies to the whole tensor.
        stacked = updates.reshape((-1,) + target.shape)
        return ufunc(out, ufunc.reduce(stacked, axis=0)) if len(stacked) else out
    ufunc.at(out, _coordinates(_bounds_checked(indices)), updates)
    return out


def _scatter_extreme_grad(node, dy):
    # The gradient goes to the values that won (target entries or updates equal to the
    # output); ties share it equally, as TF does.
    target, indices, updates = (x._value for x in node.inputs)
    output = node.output._value
    from_target = (target == output).astype(dy._value.dtype)
    coordinates = _coordinates(indices) if indices.shape[-1] else ()
    from_updates = (updates == output[coordinates]).astype(dy._value.dtype)
    winners = from_target.copy()
    xp.add.at(winners, coordinates, from_updates)
    share = Tensor(1.0 / winners)
    return (math_ops.multiply(dy, Tensor(from_target / winners)), None,
            math_ops.multiply(GatherNd(math_ops.multiply(dy, share), node.inputs[1]),
                              Tensor(from_updates)))


TensorScatterMax = Primitive(
    "TensorScatterMax", quiet(lambda t, i, u: _scatter_extreme_forward(t, i, u, xp.maximum)),
    _scatter_extreme_grad)
TensorScatterMin = Primitive(
    "TensorScatterMin", quiet(lambda t, i, u: _scatter_extreme_forward(t, i, u, xp.minimum)),
    _scatter_extreme_grad)


def tensor_scatter_nd_max(tensor, indices, updates, name=None):  # noqa: F811 - TF's name
    """`tensor` with each entry at an index vector replaced by the max of it and its updates.

    >>> tensor_scatter_nd_max([1., 5., 1.], [[1], [2]], [3., 4.]).numpy()
    array([1., 5., 4.], dtype=float32)
    """
    target, indices, updates = _scatter_target(tensor, indices, updates, "TensorScatterMax")
    return TensorScatterMax(target, indices, updates)


def tensor_scatter_nd_min(tensor, indices, updates, name=None):  # noqa: F811 - TF's name
    """`tensor` with each entry at an index vector replaced by the min of it and its updates.

    >>> tensor_scatter_nd_min([1., 5., 1.], [[1], [2]], [3., 4.]).numpy()
    array([1., 3., 1.], dtype=float32)
    """
    target, indices, updates = _scatter_target(tensor, indices, updates, "TensorScatterMin")
    return TensorScatterMin(target, indices, updates)

# -- clip_by_value ----------------------------------------------------------------------------

def _clip_grad(node, dy):
    # As TF: t gets dy where min <= t <= max; min (max) gets it where t fell below (above).
    t, low, high = (x._value for x in node.inputs)
    below, above = t < low, t > high
    zero = Tensor(xp.zeros((), dy._value.dtype))
    need_t, need_low, need_high = node.needs
    return (Select(Tensor(below | above), zero, dy) if need_t else None,
            Select(Tensor(below), dy, zero) if need_low else None,
            Select(Tensor(above), dy, zero) if need_high else None)


# maximum(minimum(t, max), min), as TF computes it: `min` wins where min > max.
ClipByValue = Primitive("ClipByValue",
                        lambda t, low, high: xp.maximum(xp.minimum(t, high), low), _clip_grad)


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
            merged = xp.broadcast_shapes(shape, low._value.shape, high._value.shape)
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
    hot = indices[..., xp.newaxis] == xp.arange(depth)
    if axis != -1:
        hot = xp.moveaxis(hot, -1, axis)
    return xp.where(hot, on_value, off_value)


OneHot = Primitive("OneHot", _one_hot_forward)  # No gradient, as in TF.


_DEFAULT_ON_OFF = {}  # dtype -> (1, 0) as scalar Tensors; Tensors are immutable, so shared.


def _default_on_off(dtype):
    values = _DEFAULT_ON_OFF.get(dtype)
    if values is None:
        values = _DEFAULT_ON_OFF[dtype] = (Tensor(xp.ones((), dtype._np)),
                                           Tensor(xp.zeros((), dtype._np)))
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
