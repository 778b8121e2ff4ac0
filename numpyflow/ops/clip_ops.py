"""Norms and clipping: tf.norm, tf.clip_by_norm, tf.clip_by_global_norm, tf.linalg.global_norm.

All composed from differentiable ops, so gradients (and export) come with them.
"""

import numbers

from numpyflow.backend import xp
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, indexing_ops, math_ops, reduce_ops
from numpyflow.ops._convert import require_float, tensor, tensor_pair


def _norm_axes(axis, ndim):
    """`axis` as None, a positive int (a vector norm) or a pair of positive ints (a matrix norm)."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis._value.tolist()
    axes = [axis] if isinstance(axis, (int, xp.integer)) else list(axis)
    if len(axes) not in (1, 2) or not all(isinstance(a, (int, xp.integer)) for a in axes):
        raise ValueError(f"norm: 'axis' must be None, an integer, or a tuple of 2 unique "
                         f"integers, got {axis!r}")
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"norm: axis {a} is out of range for a tensor of rank {ndim}")
    axes = [int(a) % ndim for a in axes]
    if len(axes) == 2 and axes[0] == axes[1]:
        raise ValueError(f"norm: 'axis' must be None, an integer, or a tuple of 2 unique "
                         f"integers, got {axis!r}")
    return axes[0] if len(axes) == 1 else tuple(axes)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002,F811
    """The vector or matrix norm of `tensor`.

    Args:
      tensor: A floating-point tensor.
      ord: 'euclidean' (default), 'fro' (matrices only), 1, 2, np.inf, or any p > 0 for
        vectors; for matrices (`axis` a pair) 'euclidean'/'fro' (Frobenius), 1 (max
        column sum), 2 (largest singular value) or np.inf (max row sum).
      axis: None (all entries as one vector), an axis (vector norms) or a pair of axes
        (matrix norms).
      keepdims: Whether the reduced axes stay as size-1 axes.

    >>> float(norm([3., 4.]))
    5.0
    >>> float(norm([[1., -2.], [3., 4.]], ord=1, axis=[-2, -1]))
    6.0
    """
    x = _float_tensor(tensor, "norm")
    ndim = x._value.ndim
    axes = _norm_axes(axis, ndim)
    keepdims = bool(keepdims)
    if isinstance(axes, tuple):
        if ord not in ("euclidean", "fro", 1, 2, xp.inf) or isinstance(ord, bool):
            raise ValueError(f"'ord' must be a supported matrix norm in ['euclidean', 'fro', "
                             f"1, 2, inf], got {ord!r}")
        return _matrix_norm(x, ord, axes, keepdims)
    if not (ord == "euclidean" or (isinstance(ord, numbers.Real) and not isinstance(ord, bool)
                                   and ord > 0)):
        raise ValueError(f"'ord' must be a supported vector norm, got {ord!r}")
    reduce_axis = None if axes is None else [axes]
    magnitude = math_ops.abs(x)
    if ord in ("euclidean", 2):
        # Not abs first: the square is smooth, so the gradient is x / norm as in TF.
        result = math_ops.sqrt(reduce_ops.reduce_sum(math_ops.square(x), reduce_axis, True))
    elif ord == 1:
        result = reduce_ops.reduce_sum(magnitude, reduce_axis, True)
    elif ord == xp.inf:
        result = reduce_ops.reduce_max(magnitude, reduce_axis, True)
    else:
        power = math_ops.pow(magnitude, float(ord))
        result = math_ops.pow(reduce_ops.reduce_sum(power, reduce_axis, True), 1.0 / ord)
    if keepdims:
        return result
    return array_ops.reshape(result, () if axes is None else
                             tuple(d for i, d in enumerate(x._value.shape) if i != axes))


def _matrix_norm(x, ord, axes, keepdims):
    rows, cols = axes
    if ord in ("euclidean", "fro"):
        result = math_ops.sqrt(reduce_ops.reduce_sum(math_ops.square(x), list(axes), True))
    elif ord == 1:  # The largest column sum of |x|.
        result = reduce_ops.reduce_max(
            reduce_ops.reduce_sum(math_ops.abs(x), [rows], True), [cols], True)
    elif ord == xp.inf:  # The largest row sum of |x|.
        result = reduce_ops.reduce_max(
            reduce_ops.reduce_sum(math_ops.abs(x), [cols], True), [rows], True)
    else:  # ord == 2: the largest singular value.
        from numpyflow.ops import linalg_ops  # linalg_ops imports this module
        rest = [a for a in range(x._value.ndim) if a not in axes]
        matrices = array_ops.transpose(x, rest + [rows, cols])
        largest = reduce_ops.reduce_max(linalg_ops.svd(matrices, compute_uv=False), [-1])
        shape = list(x._value.shape)
        shape[rows] = shape[cols] = 1
        # Back to the input's axis order, with the two matrix axes as size-1 axes.
        result = array_ops.reshape(largest, tuple(shape))
    if keepdims:
        return result
    return array_ops.reshape(result, tuple(d for i, d in enumerate(x._value.shape)
                                           if i not in axes))


def _float_tensor(value, op_name):
    x = tensor(value)
    require_float(x, op_name)
    return x


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Scales `t` so that its L2 norm over `axes` (all axes by default) is at most
    `clip_norm`: `t * clip_norm / max(norm, clip_norm)`. A negative `clip_norm` counts as
    0 and a tensor one is cast to `t`'s dtype, as in TF.

    >>> clip_by_norm([3., 4.], 1.).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    values = _float_tensor(t, "clip_by_norm")
    if isinstance(clip_norm, (Tensor, xp.ndarray, xp.generic)):
        clip = math_ops.cast(tensor(clip_norm), values.dtype)  # As TF: any dtype, cast.
    else:
        clip = tensor_pair(values, clip_norm, "clip_by_norm")[1]
    # As TF: a negative clip_norm counts as 0 (t becomes zeros, its sign never flips).
    clip = math_ops.maximum(clip, math_ops.cast(0., values.dtype))
    axes = None if axes is None else _axis_list(axes)
    squares = reduce_ops.reduce_sum(math_ops.square(values), axes, True)
    # Where the norm is 0 the sqrt's gradient is infinite; take it of 1 there instead (the
    # result there is 0 anyway), so that zero vectors get a zero gradient, as in TF.
    positive = math_ops.greater(squares, 0.)
    safe = math_ops.sqrt(indexing_ops.where(positive, squares, math_ops.cast(1., values.dtype)))
    l2_norm = indexing_ops.where(positive, safe, squares)
    return math_ops.divide(math_ops.multiply(values, clip), math_ops.maximum(l2_norm, clip))


def _axis_list(axes):
    if isinstance(axes, Tensor):
        axes = axes._value.tolist()
    return [int(axes)] if isinstance(axes, (int, xp.integer)) else [int(a) for a in axes]


def global_norm(t_list, name=None):
    """sqrt(sum of the squared L2 norms of the tensors in `t_list`); None entries are skipped.

    >>> float(global_norm([[3.], [4.]]))
    5.0
    """
    if isinstance(t_list, (Tensor, str)) or not hasattr(t_list, "__iter__"):
        raise TypeError(f"global_norm: `t_list` should be a sequence of tensors; received "
                        f"{type(t_list).__name__}.")
    tensors = [_float_tensor(t, "global_norm") for t in t_list if t is not None]
    if not tensors:
        return Tensor(xp.zeros((), xp.float32))
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype != dtype:
            raise invalid_argument("global_norm", f"all tensors must have one dtype; received "
                                   f"{dtype.name} and {t.dtype.name}")
    squares = [reduce_ops.reduce_sum(math_ops.square(t)) for t in tensors]
    return math_ops.sqrt(math_ops.add_n(squares) if len(squares) > 1 else squares[0])


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales all tensors of `t_list` by one factor so their global norm is at most
    `clip_norm`. Returns `(clipped list, global norm)`; None entries stay None. If the
    global norm is inf or NaN, every value becomes NaN, as in TF.

    >>> clipped, norm_value = clip_by_global_norm([[3.], [4.]], 1.)
    >>> [c.numpy().tolist() for c in clipped], float(norm_value)
    ([[0.6000000238418579], [0.800000011920929]], 5.0)
    """
    if isinstance(t_list, (Tensor, str)) or not hasattr(t_list, "__iter__"):
        raise TypeError(f"clip_by_global_norm: `t_list` should be a sequence of tensors; "
                        f"received {type(t_list).__name__}.")
    items = list(t_list)
    total = global_norm(items) if use_norm is None else tensor(use_norm)
    clip = tensor_pair(total, clip_norm, "clip_by_global_norm")[1]
    one = math_ops.cast(1., total.dtype)
    scale = math_ops.multiply(clip, math_ops.minimum(math_ops.divide(one, total),
                                                     math_ops.divide(one, clip)))
    # An inf or NaN global norm makes every value NaN, as in TF. (A comparison, not
    # `total - total`: inf - inf would warn.)
    finite = math_ops.less_equal(math_ops.abs(total), float(xp.finfo(total._value.dtype).max))
    scale = indexing_ops.where(finite, scale, math_ops.cast(float("nan"), total.dtype))
    clipped = []
    for t in items:
        if t is None:
            clipped.append(None)
            continue
        t = tensor(t)
        factor = scale if t.dtype == scale.dtype else math_ops.cast(scale, t.dtype)
        clipped.append(math_ops.multiply(t, factor))
    return clipped, total
