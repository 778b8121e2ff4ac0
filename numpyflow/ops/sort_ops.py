"""Ordering ops: top_k, in_top_k, sort, argsort, unique, searchsorted, invert_permutation.

A primitive here has one output, so ops that TF gives several outputs compute them once
and gather or slice the rest: `TopKV2` yields the indices and the values are gathered with
them (which is also how their gradient reaches the input: through the gather); `Unique`
yields idx, the positions of the first occurrences and (`UniqueWithCounts`) the counts in
one packed integer vector, which the public functions slice, gathering y from the input.
"""

import collections

from numpyflow.backend import xp
from numpyflow.framework import dtypes, errors
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, indexing_ops, math_ops
from numpyflow.ops._convert import tensor, tensor_pair
from numpyflow.ops.array_ops import _axis_int, _shape_text

TopKV2Result = collections.namedtuple("TopKV2", ["values", "indices"])
UniqueResult = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCountsResult = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _index_dtype(dtype, op_name, arg):
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype not in (xp.dtype(xp.int32), xp.dtype(xp.int64)):
        raise TypeError(f"{op_name}: {arg} must be int32 or int64; received "
                        f"{dtypes.as_dtype(dtype).name}.")
    return np_dtype


# -- top_k -----------------------------------------------------------------------------------

def _top_k_forward(x, k, index_type):
    if x.ndim < 1:
        raise errors.invalid_argument("TopKV2", f"input must be >= 1-D, got shape "
                                      f"{_shape_text(x.shape)}")
    n = x.shape[-1]
    if k < 0:
        raise errors.invalid_argument("TopKV2", f"Need k >= 0, got {k}")
    if n < k:
        raise errors.invalid_argument("TopKV2", f"input must have at least k columns. Had {n}, "
                                      f"needed {k}")
    if x.dtype.kind == "f" and xp.isnan(x).any():
        x = xp.where(xp.isnan(x), -xp.inf, x)  # NaN ranks last, as in TF.
    # A stable ascending sort of the reversed row, read backwards, is a descending order in
    # which equal values keep their original order (the lower index first, as TF).
    order = xp.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    return (n - 1 - order[..., :k]).astype(index_type)


TopKV2 = Primitive("TopKV2", _top_k_forward)  # Indices: no gradient (values get one).


def _take_along_last_axis(x, indices):
    """x[..., indices] row by row, as one flat gather (so its gradient is a scatter-add).

    The row offsets depend only on the shapes, so a traced plan stays valid for new values.
    """
    shape = x._value.shape
    n = shape[-1]
    rows = int(xp.prod(shape[:-1], dtype=xp.int64))
    k = indices._value.shape[-1]
    offsets = Tensor((xp.arange(rows, dtype=xp.int64) * n).reshape(shape[:-1] + (1,)))
    flat_indices = math_ops.cast(indices, dtypes.int64) + offsets
    flat = indexing_ops.GatherV2(array_ops.reshape(x, [-1]),
                                 array_ops.reshape(flat_indices, [-1]), axis=0)
    return array_ops.reshape(flat, list(shape[:-1]) + [k])


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):  # noqa: A002
    """The `k` largest entries of the last axis, and their indices.

    Ties go to the lower index. The gradient flows to the selected entries.

    Args:
      input: A tensor of rank >= 1.
      k: How many entries to pick (0 <= k <= input.shape[-1]).
      sorted: Ignored: the result is always in descending order (allowed by TF).
      index_type: int32 or int64, the dtype of `indices`.

    Returns:
      A `TopKV2(values, indices)` tuple.

    >>> import numpyflow as tf
    >>> result = tf.math.top_k([3., 1., 3., 2.], k=2)
    >>> result.values.numpy(), result.indices.numpy()
    (array([3., 3.], dtype=float32), array([0, 2], dtype=int32))
    """
    x = tensor(input)
    if x._value.dtype.kind not in "fiu":
        raise TypeError(f"top_k expects a real numeric tensor; received {x.dtype.name}.")
    k = int(k)
    indices = TopKV2(x, k=k, index_type=_index_dtype(index_type, "top_k", "index_type"))
    return TopKV2Result(_take_along_last_axis(x, indices), indices)


# -- in_top_k --------------------------------------------------------------------------------

def _in_top_k_forward(predictions, targets, k):
    if predictions.ndim != 2 or targets.ndim != 1 or predictions.shape[0] != targets.shape[0]:
        raise errors.invalid_argument(
            "InTopKV2", f"predictions must be 2-D [batch, classes] and targets 1-D [batch]; "
            f"received shapes {_shape_text(predictions.shape)} and "
            f"{_shape_text(targets.shape)}")
    classes = predictions.shape[1]
    valid = (targets >= 0) & (targets < classes)
    safe_targets = xp.where(valid, targets, 0)
    target_scores = predictions[xp.arange(len(targets)), safe_targets]
    # In the top k when fewer than k classes score strictly higher: all classes tied at the
    # boundary count as in, as TF's kernel. A non-finite target score is never in.
    higher = (predictions > target_scores[:, None]).sum(axis=1)
    return valid & xp.isfinite(target_scores) & (higher < k)


InTopKV2 = Primitive("InTopKV2", _in_top_k_forward)


def in_top_k(targets, predictions, k, name=None):
    """Whether each target class is among the `k` highest predictions of its row.

    Classes tied with the k-th highest score count as in the top k. Out-of-range targets
    and non-finite target scores give False.

    Args:
      targets: int32/int64 class ids, shape [batch].
      predictions: float scores, shape [batch, classes].
      k: How many top classes count.

    >>> import numpyflow as tf
    >>> tf.math.in_top_k([0, 1], [[0.9, 0.1], [0.8, 0.2]], k=1).numpy()
    array([ True, False])
    """
    predictions = tensor(predictions)
    targets = indexing_ops._index_tensor(targets, "InTopKV2")
    if predictions._value.dtype.kind != "f":
        raise errors.invalid_argument("InTopKV2", f"predictions must be float32; received "
                                      f"{predictions.dtype.name}")
    return InTopKV2(predictions, targets, k=int(k))


# -- sort / argsort --------------------------------------------------------------------------

_DIRECTIONS = ("ASCENDING", "DESCENDING")


def _descending_key(x, direction):
    """A tensor whose descending order is `x`'s order in `direction`, ties kept stable."""
    if direction == "DESCENDING":
        return x
    kind = x._value.dtype.kind
    if kind == "f":
        return math_ops.negative(x)
    if kind == "i":
        # ~x = -x - 1 reverses the order with no overflow (-x alone overflows at the minimum).
        return math_ops.subtract(math_ops.negative(x), 1)
    return math_ops.subtract(Tensor(xp.asarray(xp.iinfo(x._value.dtype).max, x._value.dtype)), x)


def _sorted_indices(x, axis, direction, op_name):
    if direction not in _DIRECTIONS:
        raise ValueError(f"Argument `direction` should be one of {', '.join(_DIRECTIONS)}. "
                         f"Received: direction={direction}")
    if x._value.dtype.kind not in "fiu":
        raise TypeError(f"{op_name} expects a real numeric tensor; received {x.dtype.name}.")
    ndim = x._value.ndim
    if ndim == 0:
        raise ValueError(f"{op_name}: values must have rank >= 1; received a scalar.")
    axis = _axis_int(axis, op_name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op_name}: axis {axis} is out of range for a tensor of rank {ndim}.")
    axis %= ndim
    perm = None
    if axis != ndim - 1:
        perm = list(range(ndim))
        perm[axis], perm[-1] = perm[-1], perm[axis]  # A swap: its own inverse.
        x = array_ops.transpose(x, perm)
    n = x._value.shape[-1]
    indices = TopKV2(_descending_key(x, direction), k=n, index_type=xp.dtype(xp.int32))
    return x, indices, perm


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """`values` sorted along `axis`; the gradient flows back to the original positions.

    >>> import numpyflow as tf
    >>> tf.sort([3, 1, 2]).numpy()
    array([1, 2, 3], dtype=int32)
    >>> tf.sort([3., 1., 2.], direction="DESCENDING").numpy()
    array([3., 2., 1.], dtype=float32)
    """
    x, indices, perm = _sorted_indices(tensor(values), axis, direction, "sort")
    result = _take_along_last_axis(x, indices)
    return result if perm is None else array_ops.transpose(result, perm)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 indices that sort `values` along `axis`.

    The sort is always stable (equal values keep their order), which `stable=False` allows.

    >>> import numpyflow as tf
    >>> tf.argsort([3, 1, 3, 1]).numpy()
    array([1, 3, 0, 2], dtype=int32)
    """
    _, indices, perm = _sorted_indices(tensor(values), axis, direction, "argsort")
    return indices if perm is None else array_ops.transpose(indices, perm)


def _approx_k(operand, k, reduction_dimension, direction, public_name):
    x = tensor(operand)
    ndim = x._value.ndim
    axis = _axis_int(reduction_dimension, public_name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{public_name}: reduction_dimension {axis} is out of range for a "
                         f"tensor of rank {ndim}.")
    x, indices, perm = _sorted_indices(x, axis, direction, public_name)
    k = int(k)
    if not 0 <= k <= x._value.shape[-1]:
        raise ValueError(f"{public_name}: k = {k} must be in [0, {x._value.shape[-1]}].")
    indices = indices[..., :k]
    values = _take_along_last_axis(x, indices)
    if perm is not None:
        values, indices = array_ops.transpose(values, perm), array_ops.transpose(indices, perm)
    return values, indices


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The `k` largest entries along `reduction_dimension` and their int32 indices.

    TF approximates on TPUs; on CPUs, as here, the result is exact (`recall_target` and the
    other tuning arguments have no effect).

    >>> import numpyflow as tf
    >>> values, indices = tf.math.approx_max_k([[1., 5., 3.]], 2)
    >>> values.numpy(), indices.numpy()
    (array([[5., 3.]], dtype=float32), array([[1, 2]], dtype=int32))
    """
    return _approx_k(operand, k, reduction_dimension, "DESCENDING", "approx_max_k")


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The `k` smallest entries along `reduction_dimension` and their int32 indices (exact,
    as `approx_max_k`).

    >>> import numpyflow as tf
    >>> tf.math.approx_min_k([[1., 5., 3.]], 2)[0].numpy()
    array([[1., 3.]], dtype=float32)
    """
    return _approx_k(operand, k, reduction_dimension, "ASCENDING", "approx_min_k")


# -- unique ----------------------------------------------------------------------------------

def _unique_forward(x, out_idx, with_counts):
    """[idx (len(x)), first positions (k), counts (k, if with_counts)] as one out_idx
    vector, for the k distinct values of x in order of first appearance."""
    if x.ndim != 1:
        op_name = "UniqueWithCounts" if with_counts else "Unique"
        raise errors.invalid_argument(op_name, f"unique expects a 1D vector; received shape "
                                      f"{_shape_text(x.shape)}.")
    options = {"equal_nan": False} if x.dtype.kind == "f" else {}  # Each NaN distinct, as TF.
    _, first, inverse, counts = xp.unique(
        x, return_index=True, return_inverse=True, return_counts=True, **options)
    # NumPy sorts the unique values; TF lists them in order of first appearance.
    order = xp.argsort(first, kind="stable")
    rank = xp.empty_like(order)
    rank[order] = xp.arange(len(order))
    parts = [rank[inverse.reshape(-1)], first[order]]
    if with_counts:
        parts.append(counts[order])
    return xp.concatenate(parts).astype(out_idx, copy=False)


# No gradient, as in TF (which has none registered for Unique).
Unique = Primitive("Unique", _unique_forward, output_shape_from_data=True)
UniqueWithCounts = Primitive("UniqueWithCounts", _unique_forward, output_shape_from_data=True)


def _unpack_unique(x, packed, with_counts):
    """(y, idx, count or None) from a Unique/UniqueWithCounts output."""
    n = x._value.shape[0]
    k = (packed._value.shape[0] - n) // (2 if with_counts else 1)
    idx, first = packed[:n], packed[n:n + k]
    # y is x at the first occurrences; stop_gradient keeps Unique without a gradient.
    y = indexing_ops.GatherV2(array_ops.stop_gradient(x), first, axis=0)
    return y, idx, (packed[n + k:] if with_counts else None)


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct values of the 1-D `x` in order of appearance, and each entry's index
    into them.

    Returns:
      A `Unique(y, idx)` tuple: `y[idx] == x`.

    >>> import numpyflow as tf
    >>> y, idx = tf.unique([1, 1, 2, 4, 4, 1])
    >>> y.numpy(), idx.numpy()
    (array([1, 2, 4], dtype=int32), array([0, 0, 1, 2, 2, 0], dtype=int32))
    """
    x = tensor(x)
    out_idx = _index_dtype(out_idx, "unique", "out_idx")
    y, idx, _ = _unpack_unique(x, Unique(x, out_idx=out_idx, with_counts=False), False)
    return UniqueResult(y, idx)


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """As `tf.unique`, plus how often each distinct value occurs.

    Returns:
      A `UniqueWithCounts(y, idx, count)` tuple.

    >>> import numpyflow as tf
    >>> tf.unique_with_counts([1, 1, 2]).count.numpy()
    array([2, 1], dtype=int32)
    """
    x = tensor(x)
    out_idx = _index_dtype(out_idx, "unique_with_counts", "out_idx")
    packed = UniqueWithCounts(x, out_idx=out_idx, with_counts=True)
    return UniqueWithCountsResult(*_unpack_unique(x, packed, True))


# -- searchsorted ----------------------------------------------------------------------------

def _bound_forward(side):
    op_name = "LowerBound" if side == "left" else "UpperBound"

    def forward(sorted_inputs, values, out_type):
        if sorted_inputs.ndim < 1 or values.ndim < 1:
            raise errors.invalid_argument(op_name, "sorted_sequence and values must have rank "
                                          ">= 1")
        if sorted_inputs.shape[:-1] != values.shape[:-1]:
            raise errors.invalid_argument(op_name, "Leading dim_size of both tensors must "
                                          "match.")
        if sorted_inputs.ndim == 1:
            return xp.searchsorted(sorted_inputs, values, side=side).astype(out_type)
        rows_in = sorted_inputs.reshape(-1, sorted_inputs.shape[-1])
        rows_values = values.reshape(-1, values.shape[-1])
        out = xp.empty(rows_values.shape, out_type)
        for row, (sequence, queries) in enumerate(zip(rows_in, rows_values)):
            out[row] = xp.searchsorted(sequence, queries, side=side)
        return out.reshape(values.shape)
    return forward


LowerBound = Primitive("LowerBound", _bound_forward("left"))
UpperBound = Primitive("UpperBound", _bound_forward("right"))


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """Where each of `values` would go in `sorted_sequence` (sorted along its last axis) to
    keep it sorted; leading axes are batch axes and must match.

    Args:
      side: "left" (the first suitable position) or "right" (the last).

    >>> import numpyflow as tf
    >>> tf.searchsorted([0., 3., 9.], [2., 9.]).numpy()
    array([1, 2], dtype=int32)
    >>> tf.searchsorted([0., 3., 9.], [2., 9.], side="right").numpy()
    array([1, 3], dtype=int32)
    """
    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: "
                         f"`side` = {side}.")
    sequence, values = tensor_pair(sorted_sequence, values, "LowerBound")
    out_type = _index_dtype(out_type, "searchsorted", "out_type")
    primitive = LowerBound if side == "left" else UpperBound
    return primitive(sequence, values, out_type=out_type)


# -- invert_permutation ----------------------------------------------------------------------

def _invert_permutation_forward(x):
    if x.ndim != 1:
        raise errors.invalid_argument("InvertPermutation", f"invert_permutation expects a 1D "
                                      f"vector; received shape {_shape_text(x.shape)}")
    n = len(x)
    outside = (x < 0) | (x >= n)
    if outside.any():
        raise errors.invalid_argument("InvertPermutation",
                                      f"{x[outside][0]} is not between 0 and {n}")
    inverse = xp.full(n, -1, x.dtype)
    inverse[x] = xp.arange(n, dtype=x.dtype)
    if (inverse < 0).any():  # Some value was written twice, so another never was.
        seen = xp.zeros(n, bool)
        for value in x:
            if seen[value]:
                raise errors.invalid_argument("InvertPermutation",
                                              f"{value} is duplicated in the input.")
            seen[value] = True
    return inverse


InvertPermutation = Primitive("InvertPermutation", _invert_permutation_forward)


def invert_permutation(x, name=None):
    """The inverse of the permutation `x`: y[x[i]] = i.

    >>> import numpyflow as tf
    >>> tf.math.invert_permutation([2, 0, 1]).numpy()
    array([1, 2, 0], dtype=int32)
    """
    x = indexing_ops._index_tensor(x, "InvertPermutation")
    return InvertPermutation(x)
