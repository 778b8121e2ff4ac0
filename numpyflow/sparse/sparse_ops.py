"""`tf.sparse` functions on `SparseTensor`s.

`to_dense`, `from_dense`, `reorder`, `concat`, `reduce_sum` and `sparse_dense_matmul` are built
from numpyflow's differentiable ops (scatter, gather, segment sum), so gradients flow to the
values (and to the dense operand of `sparse_dense_matmul`), as in TF. `reshape` and
`to_indicator` compute positions only.

    >>> import numpyflow as tf
    >>> sp = tf.sparse.from_dense([[0, 3], [4, 0]])
    >>> sp.indices.numpy().tolist()
    [[0, 1], [1, 0]]
"""

import numpy as np

from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.sparse.sparse_tensor import SparseTensor

__all__ = ["to_dense", "from_dense", "reorder", "reshape", "reduce_sum", "sparse_dense_matmul",
           "to_indicator", "concat"]


def _sparse(value, op):
    if isinstance(value, SparseTensor):
        return value
    if all(hasattr(value, f) for f in ("indices", "values", "dense_shape")):
        return SparseTensor.from_value(value)
    raise TypeError(f"{op}: Input must be a SparseTensor. Received: {type(value).__name__}")


def _positions(sp):
    return np.asarray(sp.indices.numpy()), tuple(int(d) for d in sp.dense_shape.numpy())


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _check_indices(indices, shape, ordered, op):
    """TF's index checks: in bounds and, when `ordered`, strictly increasing row-major."""
    for i, index in enumerate(indices):
        if np.any(index < 0) or np.any(index >= np.asarray(shape)):
            raise invalid_argument(op, f"indices[{i}] = {_shape_text(index)} is out of bounds: "
                                   f"need 0 <= index < {_shape_text(shape)}")
        if ordered and i:
            previous = tuple(indices[i - 1])
            if tuple(index) == previous:
                raise invalid_argument(op, f"indices[{i}] = {_shape_text(index)} is repeated")
            if tuple(index) < previous:
                raise invalid_argument(
                    op, f"indices[{i}] = {_shape_text(index)} is out of order. Many sparse "
                    "ops require sorted indices.\n    Use `tf.sparse.reorder` to create a "
                    "correctly ordered copy.\n\n")


def to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense Tensor of `sp_input`, with `default_value` where it has no value.

    Args:
        sp_input: A `SparseTensor`.
        default_value: The value of absent elements (0, or b"" for strings, by default).
        validate_indices: Whether to check that the indices are sorted and unique (TF's
            row-major order); out-of-bounds indices are always an error.
        name: Unused op name (TF's).

    Returns:
        A Tensor of shape `dense_shape`; differentiable with respect to the values.

    Raises:
        tf.errors.InvalidArgumentError: An index is out of bounds, or (with
            `validate_indices`) out of order or repeated.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 0], [1, 2]], [1, 2], [2, 3])
        >>> tf.sparse.to_dense(sp, default_value=-1).numpy().tolist()
        [[1, -1, -1], [-1, -1, 2]]
    """
    del name
    sp = _sparse(sp_input, "tf.sparse.to_dense")
    indices, shape = _positions(sp)
    _check_indices(indices, shape, validate_indices, "SparseToDense")
    values = sp.values
    if values.dtype.name == "string":
        fill = b"" if default_value is None else default_value
        if isinstance(fill, str):
            fill = fill.encode("utf-8")
        dense = np.full(shape, fill, dtype=object)
        if len(indices):
            dense[tuple(indices.T)] = values.numpy()
        return convert_to_tensor(dense)
    from numpyflow.ops.indexing_ops import ScatterNd
    dense = ScatterNd(convert_to_tensor(indices), values, shape=shape)
    if default_value is None or default_value == 0:
        return dense
    fill = np.full(shape, default_value, dtype=values.dtype.as_numpy_dtype)
    if len(indices):
        fill[tuple(indices.T)] = 0
    return dense + convert_to_tensor(fill)


def from_dense(tensor, name=None):
    """A SparseTensor of the non-zero (non-empty for strings) elements of `tensor`.

    Example:
        >>> import numpyflow as tf
        >>> tf.sparse.from_dense([[0, 3], [4, 0]]).values.numpy().tolist()
        [3, 4]
    """
    del name
    from numpyflow.ops.indexing_ops import gather_nd
    tensor = tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor)
    array = np.asarray(tensor.numpy())
    if array.ndim == 0:  # TF's from_dense runs tf.where, which refuses a scalar.
        raise invalid_argument("Where", "WhereOp : Unhandled input dimensions: 0")
    zero = b"" if tensor.dtype.name == "string" else 0
    indices = np.argwhere(array != zero).astype(np.int64).reshape(-1, array.ndim)
    values = gather_nd(tensor, convert_to_tensor(indices))
    return SparseTensor(indices, values, np.asarray(array.shape, dtype=np.int64))


def _order(indices):
    """The permutation sorting `indices` rows in row-major order (stable)."""
    if not len(indices) or not indices.shape[1]:
        return np.arange(len(indices))
    return np.lexsort(indices.T[::-1])


def _take(values, permutation):
    from numpyflow.ops.indexing_ops import gather
    return gather(values, convert_to_tensor(permutation.astype(np.int64)))


def reorder(sp_input, name=None):
    """`sp_input` with its indices (and values) in row-major order, as most ops need.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.sparse.reorder(tf.SparseTensor([[1, 0], [0, 1]], [1.0, 2.0], [2, 2]))
        >>> sp.values.numpy().tolist()
        [2.0, 1.0]
    """
    del name
    sp = _sparse(sp_input, "tf.sparse.reorder")
    indices, _ = _positions(sp)
    permutation = _order(indices)
    return SparseTensor(indices[permutation], _take(sp.values, permutation), sp.dense_shape)


def reshape(sp_input, shape, name=None):
    """`sp_input` with a new dense shape (one dimension may be -1), keeping row-major order.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 0], [1, 2]], [1, 2], [3, 4])
        >>> tf.sparse.reshape(sp, [4, 3]).indices.numpy().tolist()
        [[0, 0], [2, 0]]
    """
    del name
    sp = _sparse(sp_input, "tf.sparse.reshape")
    indices, old_shape = _positions(sp)
    new_shape = [int(d) for d in np.asarray(
        shape.numpy() if hasattr(shape, "numpy") else shape).reshape(-1)]
    total = int(np.prod(old_shape, dtype=np.int64))
    unknown = [i for i, d in enumerate(new_shape) if d == -1]
    if len(unknown) > 1:
        raise invalid_argument("SparseReshape", f"only one output dimension may be -1, not "
                               f"both {unknown[0]} and {unknown[1]}")
    known = int(np.prod([d for d in new_shape if d != -1], dtype=np.int64))
    if unknown:
        if known == 0 or total % known:
            raise invalid_argument("SparseReshape", f"Input to reshape is a SparseTensor with "
                                   f"{total} dense values, but the requested shape requires a "
                                   f"multiple of {known}.")
        new_shape[unknown[0]] = total // known
    elif known != total:
        raise invalid_argument("SparseReshape", f"Input to reshape is a tensor with {total} "
                               f"dense values, but the requested shape has {known}. "
                               f"input_shape={_shape_text(old_shape)} "
                               f"output_shape={_shape_text(new_shape)}")
    flat = (np.ravel_multi_index(tuple(indices.T), old_shape) if len(indices)
            else np.zeros(0, np.int64))
    new_indices = np.stack(np.unravel_index(flat, new_shape), axis=-1) if len(indices) else \
        np.zeros((0, len(new_shape)), np.int64)
    return SparseTensor(new_indices.astype(np.int64), sp.values,
                        np.asarray(new_shape, dtype=np.int64))


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """Sums the values of `sp_input` over `axis` (all axes when None), as a dense Tensor.

    Repeated indices add up. Differentiable with respect to the values.

    Args:
        sp_input: A `SparseTensor`.
        axis: An int or list of ints; None sums everything.
        keepdims: Whether to keep the reduced axes with length 1.
        output_is_sparse: Must be False: the sparse output is not implemented.
        name: Unused op name (TF's).

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 0], [1, 2]], [1, 2], [3, 4])
        >>> tf.sparse.reduce_sum(sp, axis=1).numpy().tolist()
        [1, 2, 0]
    """
    del name
    if output_is_sparse:
        raise NotImplementedError("tf.sparse.reduce_sum: output_is_sparse=True is not "
                                  "supported by numpyflow; use the dense result "
                                  "(output_is_sparse=False) with tf.sparse.from_dense.")
    from numpyflow.ops.reduce_ops import reduce_sum as dense_sum
    dense = to_dense(_sparse(sp_input, "tf.sparse.reduce_sum"), validate_indices=False)
    total = dense_sum(dense, axis=axis, keepdims=bool(keepdims))
    if total.dtype != dense.dtype:  # TF keeps the values' dtype (int32 stays int32).
        from numpyflow.ops.math_ops import cast
        total = cast(total, dense.dtype)
    return total


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """The matrix product of the rank-2 SparseTensor `sp_a` and the dense matrix `b`.

    Differentiable with respect to `sp_a`'s values and to `b`.

    Args:
        sp_a: A rank-2 `SparseTensor` `[m, k]` (`[k, m]` with `adjoint_a`).
        b: A dense matrix `[k, n]` (`[n, k]` with `adjoint_b`) of the same dtype.
        adjoint_a: Whether to transpose `sp_a` (real dtypes: adjoint = transpose).
        adjoint_b: Whether to transpose `b`.
        name: Unused op name (TF's).

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 1], [1, 0]], [2.0, 1.0], [2, 2])
        >>> tf.sparse.sparse_dense_matmul(sp, [[1.0, 2.0], [3.0, 4.0]]).numpy().tolist()
        [[6.0, 8.0], [1.0, 2.0]]
    """
    del name
    from numpyflow.ops.array_ops import transpose
    from numpyflow.ops.indexing_ops import UnsortedSegmentSum, gather
    from numpyflow.ops.array_ops import expand_dims
    sp = _sparse(sp_a, "tf.sparse.sparse_dense_matmul")
    indices, shape = _positions(sp)
    b = b if isinstance(b, Tensor) else convert_to_tensor(b, dtype=sp.dtype)
    if len(shape) != 2 or b.shape.rank != 2:
        raise ValueError(f"tf.sparse.sparse_dense_matmul: both operands must be matrices; "
                         f"received sp_a of rank {len(shape)} and b of rank {b.shape.rank}.")
    if b.dtype != sp.dtype:
        raise TypeError(f"tf.sparse.sparse_dense_matmul: sp_a has dtype {sp.dtype.name} but b "
                        f"has dtype {b.dtype.name}.")
    rows, cols = (indices[:, 1], indices[:, 0]) if adjoint_a else (indices[:, 0], indices[:, 1])
    m, k = (shape[1], shape[0]) if adjoint_a else shape
    if adjoint_b:
        b = transpose(b)
    if b.shape[0] != k:
        raise invalid_argument("SparseTensorDenseMatMul", f"Cannot multiply A and B because "
                               f"inner dimension does not match: {k} vs. {b.shape[0]}.  Did you "
                               f"forget a transpose?  Dimensions of A: [{m}, {k}).  "
                               "Dimensions of B: "
                               f"{_shape_text(b.shape.as_list())}")
    _check_indices(indices, shape, False, "SparseTensorDenseMatMul")
    products = expand_dims(sp.values, 1) * gather(b, convert_to_tensor(cols))
    return UnsortedSegmentSum(products, convert_to_tensor(rows), num_segments=m)


def to_indicator(sp_input, vocab_size, name=None):
    """A bool Tensor marking, per row, which ids in `[0, vocab_size)` the row's values hold.

    The output shape is `dense_shape[:-1] + [vocab_size]`; ids outside the range are an error.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [0, 2, 1], [2, 3])
        >>> tf.sparse.to_indicator(sp, 3).numpy().tolist()
        [[True, False, True], [False, True, False]]
    """
    del name
    sp = _sparse(sp_input, "tf.sparse.to_indicator")
    indices, shape = _positions(sp)
    ids = np.asarray(sp.values.numpy())
    if ids.dtype.kind not in "iu":
        raise TypeError(f"tf.sparse.to_indicator: values must be integer ids. Received dtype "
                        f"{sp.dtype.name}.")
    vocab_size = int(vocab_size)
    bad = np.flatnonzero((ids < 0) | (ids >= vocab_size))
    if len(bad):
        raise invalid_argument("SparseToDense", f"Indices are not valid (out of bounds): "
                               f"tf.sparse.to_indicator's values[{bad[0]}] = {ids[bad[0]]} is "
                               f"not in [0, {vocab_size})")
    out = np.zeros(shape[:-1] + (vocab_size,), dtype=bool)
    if len(ids):
        out[tuple(indices[:, :-1].T) + (ids,)] = True
    return convert_to_tensor(out)


def concat(axis, sp_inputs, expand_nonconcat_dims=False, name=None):
    """Concatenates SparseTensors along `axis`; the result's indices are in row-major order.

    Args:
        axis: The axis to join along.
        sp_inputs: A list of SparseTensors of one rank and dtype.
        expand_nonconcat_dims: Whether other dimensions may differ (the result takes the
            largest); otherwise they must match.
        name: Unused op name (TF's).

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 0]], [1], [1, 2])
        >>> tf.sparse.concat(1, [sp, sp]).indices.numpy().tolist()
        [[0, 0], [0, 2]]
    """
    del name
    from numpyflow.ops.array_ops import concat as dense_concat
    inputs = [_sparse(sp, "tf.sparse.concat") for sp in sp_inputs]
    if not inputs:
        raise ValueError("tf.sparse.concat: sp_inputs must not be empty.")
    shapes = [_positions(sp)[1] for sp in inputs]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ValueError(f"tf.sparse.concat: all inputs must have the same rank. Received "
                         f"shapes {[list(s) for s in shapes]}.")
    axis = int(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"tf.sparse.concat: axis {axis} is out of range for rank {rank}.")
    axis %= rank
    if not expand_nonconcat_dims:
        for position, shape in enumerate(shapes):
            for d in range(rank):
                if d != axis and shape[d] != shapes[0][d]:
                    raise invalid_argument(
                        "SparseConcat", f"Input shapes must match: expected {shapes[0][d]} "
                        f"for dimension {d} but got {shape[d]} at position {position}")
    out_shape = [max(s[d] for s in shapes) for d in range(rank)]
    out_shape[axis] = sum(s[axis] for s in shapes)
    pieces, offset = [], 0
    for sp, s in zip(inputs, shapes):
        indices = _positions(sp)[0].copy()
        indices[:, axis] += offset
        offset += s[axis]
        pieces.append(indices)
    indices = np.concatenate(pieces).astype(np.int64)
    values = dense_concat([sp.values for sp in inputs], axis=0)
    permutation = _order(indices)
    return SparseTensor(indices[permutation], _take(values, permutation),
                        np.asarray(out_shape, dtype=np.int64))
