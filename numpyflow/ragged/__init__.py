"""`tf.ragged`: building RaggedTensors from nested lists, and applying ops to their values.

    >>> import numpyflow as tf
    >>> rt = tf.ragged.constant([["a", "b"], ["c"]])
    >>> tf.ragged.map_flat_values(tf.strings.upper, rt)
    <tf.RaggedTensor [[b'A', b'B'], [b'C']]>
"""

import numpy as np

from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ragged.ragged_tensor import RaggedTensor, is_ragged

__all__ = ["RaggedTensor", "constant", "map_flat_values", "is_ragged"]


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None,
             row_splits_dtype=dtypes.int64):
    """A RaggedTensor from a nested Python list, as `tf.ragged.constant`.

    Args:
        pylist: Nested lists (or tuples) whose scalars all sit at the same depth.
        dtype: The element type; inferred as `tf.constant` does when omitted (float32
            for a list with no scalars).
        ragged_rank: The number of ragged dimensions; by default every dimension below
            the first, except the `inner_shape` ones.
        inner_shape: The shape of the uniform innermost dimensions (default: none, or as
            implied by `ragged_rank`).
        name: Unused; kept for TF compatibility.
        row_splits_dtype: Must be int64 (numpyflow's only row splits type).

    Returns:
        A RaggedTensor, or a Tensor when `pylist` has no nesting to make ragged.

    Example:
        >>> tf.ragged.constant([[1, 2], [3]])
        <tf.RaggedTensor [[1, 2], [3]]>
    """
    if dtypes.as_dtype(row_splits_dtype) != dtypes.int64:
        raise NotImplementedError("tf.ragged.constant: numpyflow supports "
                                  "row_splits_dtype=tf.int64 only.")
    if isinstance(pylist, (Tensor, RaggedTensor)):
        raise TypeError("tf.ragged.constant expects a nested Python list; received a "
                        f"{type(pylist).__name__}.")
    if isinstance(pylist, np.ndarray):
        pylist = pylist.tolist()
    depth = _scalar_depth(pylist)
    inner_rank = 0 if inner_shape is None else len(inner_shape)
    if depth is None:  # No scalars at all: nesting depth is the deepest list.
        depth = _list_depth(pylist) + inner_rank
    if ragged_rank is None:
        ragged_rank = max(0, depth - 1 - inner_rank)
    if ragged_rank < 0 or (depth > 0 and ragged_rank >= depth):
        raise ValueError(f"tf.ragged.constant: ragged_rank={ragged_rank} must be in "
                         f"[0, {max(depth - 1, 0)}] for a list nested {depth} deep.")
    flat = _scalars(pylist)
    if dtype is None:
        dtype = convert_to_tensor(flat).dtype if flat else dtypes.float32
    dtype = dtypes.as_dtype(dtype)
    if inner_shape is None:
        inner_shape = _inner_shape(pylist, ragged_rank, depth)
    return _build(pylist, ragged_rank, dtype, tuple(inner_shape))


def _scalar_depth(value, level=0):
    """The depth of the scalars (None if there are none); all must agree, as in TF."""
    if not isinstance(value, (list, tuple)):
        return level
    depths = {d for item in value for d in [_scalar_depth(item, level + 1)] if d is not None}
    if len(depths) > 1:
        raise ValueError("all scalar values must have the same nesting depth")
    return depths.pop() if depths else None


def _list_depth(value):
    if not isinstance(value, (list, tuple)):
        return 0
    return 1 + max((_list_depth(item) for item in value), default=0)


def _scalars(value):
    if not isinstance(value, (list, tuple)):
        return [value]
    return [leaf for item in value for leaf in _scalars(item)]


def _inner_shape(pylist, ragged_rank, depth):
    """The uniform shape below the ragged dimensions, from the first element found there."""
    rank = depth - 1 - ragged_rank
    if rank <= 0:
        return ()
    items = [pylist]
    for _ in range(ragged_rank + 1):
        items = [x for item in items for x in item]
    if not items:
        return (0,) * rank if rank else ()
    return np.shape(items[0]) if rank else ()


def _build(pylist, ragged_rank, dtype, inner_shape):
    if ragged_rank == 0:
        if not pylist and isinstance(pylist, (list, tuple)):
            zeros = np.zeros((0,) + inner_shape, dtype=dtype._np)
            return Tensor(zeros) if not dtype.is_string else Tensor(zeros.astype(object))
        try:
            return convert_to_tensor(pylist, dtype=dtype)
        except ValueError:
            raise ValueError("tf.ragged.constant: inner values have different shapes; all "
                             "dimensions below `ragged_rank` must be uniform.") from None
    lengths = [len(row) for row in pylist]
    values = [item for row in pylist for item in row]
    inner = _build(values, ragged_rank - 1, dtype, inner_shape)
    return RaggedTensor.from_row_lengths(inner, lengths)


def map_flat_values(op, *args, **kwargs):
    """Applies `op` to the flat_values of the RaggedTensor arguments, keeping their rows.

    Every RaggedTensor argument must have the same row partitions (compared by value).

    Example:
        >>> tf.ragged.map_flat_values(lambda x: x * 2, tf.ragged.constant([[1], [2, 3]]))
        <tf.RaggedTensor [[2], [4, 6]]>
    """
    found = []

    def unwrap(value):
        if isinstance(value, RaggedTensor):
            found.append(value)
            return value.flat_values
        if isinstance(value, (list, tuple)):
            return type(value)(unwrap(v) for v in value)
        if isinstance(value, dict):
            return {k: unwrap(v) for k, v in value.items()}
        return value

    args = unwrap(list(args))
    kwargs = unwrap(kwargs)
    if not found:
        return op(*args, **kwargs)
    first = found[0].nested_row_splits
    for other in found[1:]:
        splits = other.nested_row_splits
        if len(splits) != len(first) or not all(
                np.array_equal(a._value, b._value) for a, b in zip(first, splits)):
            raise ValueError("map_flat_values: all RaggedTensor arguments must have the same "
                             "row partitions.")
    result = op(*args, **kwargs)
    if not isinstance(result, (Tensor, RaggedTensor)):
        result = convert_to_tensor(result)
    rows = found[0].flat_values.shape[0]
    if result.shape.rank == 0 or result.shape[0] != rows:
        shape = tuple(result.shape)
        raise ValueError(f"map_flat_values: `op` must return a Tensor with the same outer "
                         f"dimension size as the flat_values of the ragged inputs (output "
                         f"shape: {shape}; expected outer dimension size: {rows}).")
    return found[0].with_flat_values(result)
