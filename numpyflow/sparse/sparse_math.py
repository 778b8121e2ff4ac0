"""Arithmetic on `SparseTensor`s: `tf.sparse.add`, `slice`, `retain`, `fill_empty_rows`,
`transpose`, `maximum`, `minimum`, and the `*` and `/` operators with a dense operand.

Positions are worked out with NumPy; values go through numpyflow's differentiable ops
(gather, gather_nd, broadcast_to), so gradients reach the values and dense operands where TF
defines them. `maximum` and `minimum` have no gradient, as in TF. Results, orders and error
messages follow TF 2.21 (tests/fixtures/sparse/, written by real TF).

    >>> import numpyflow as tf
    >>> a = tf.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0], [2, 3])
    >>> b = tf.SparseTensor([[0, 0], [0, 1]], [-1.0, 3.0], [2, 3])
    >>> tf.sparse.add(a, b, threshold=0.5).indices.numpy().tolist()
    [[0, 1], [1, 2]]
"""

import numpy as np

from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.sparse.sparse_ops import _positions, _shape_text, _sparse
from numpyflow.sparse.sparse_tensor import SparseTensor

__all__ = ["add", "slice", "retain", "fill_empty_rows", "transpose", "maximum", "minimum",
           "sparse_dense_cwise"]

# TF's names for dtypes in kernel messages (DataTypeString).
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _gather(values, positions):
    from numpyflow.ops.indexing_ops import gather
    return gather(values, convert_to_tensor(np.asarray(positions, dtype=np.int64)))


def _with_zero(values):
    """`values` followed by one zero: position `len(values)` stands for "absent"."""
    from numpyflow.ops.array_ops import concat
    from numpyflow.ops.creation_ops import zeros
    return concat([values, zeros([1], dtype=values.dtype)], axis=0)


def _check_same_shape(a_shape, b_shape, op):
    if len(a_shape) != len(b_shape):
        raise invalid_argument(op, "Operands do not have the same ranks; got shapes: "
                               f"{' '.join(map(str, a_shape))} and {' '.join(map(str, b_shape))}")
    for d, (x, y) in enumerate(zip(a_shape, b_shape)):
        if x != y:
            raise invalid_argument(op, f"Operands' shapes do not match: got {x} and {y} for "
                                   f"dimension {d}")


def _check_same_dtype(a, b, op, input_index=4):
    """TF's dtype check; `input_index` is `b`'s input in TF's kernel (the dense operand of
    SparseTensorDenseAdd is #3, the second values of the sparse-sparse ops #4)."""
    if a.dtype != b.dtype:
        def name(dtype):
            return _TF_TYPE_NAMES.get(dtype.name, dtype.name)
        raise invalid_argument(op, f"cannot compute {op} as input #{input_index}(zero-based) "
                               f"was expected to be a {name(a.dtype)} tensor but is a "
                               f"{name(b.dtype)} tensor")
    if a.dtype.name in ("string", "bool"):
        raise TypeError(f"tf.sparse: {op} needs numeric values. Received dtype {a.dtype.name}.")


def _strictly_sorted(indices):
    if len(indices) < 2:
        return True
    diff = np.diff(indices, axis=0)
    first = np.argmax(diff != 0, axis=1)  # first differing column of each consecutive pair
    return bool(np.all(diff[np.arange(len(diff)), first] > 0))


def _merge(a, b, shape):
    """TF's merge of two index lists (as its SparseAdd and SparseSparseMaximum kernels walk
    them): the pairs (i, j) of the output's entries; `len(a)` / `len(b)` mark an absent side.

    Inputs in row-major order give their sorted union. Unsorted inputs give what TF's walk
    gives (entries may repeat), so results match TF for any input.
    """
    n_a, n_b = len(a), len(b)
    total = int(np.prod(shape, dtype=np.float64))
    if (_strictly_sorted(a) and _strictly_sorted(b) and total < 2 ** 62
            and np.all((a >= 0) & (a < shape)) and np.all((b >= 0) & (b < shape))):
        keys_a = np.ravel_multi_index(tuple(a.T), shape) if n_a else np.zeros(0, np.int64)
        keys_b = np.ravel_multi_index(tuple(b.T), shape) if n_b else np.zeros(0, np.int64)
        keys = np.union1d(keys_a, keys_b)
        ia = np.searchsorted(keys_a, keys)
        ib = np.searchsorted(keys_b, keys)
        ia = np.where((ia < n_a) & (keys_a[np.minimum(ia, n_a - 1)] == keys) if n_a else False,
                      ia, n_a)
        ib = np.where((ib < n_b) & (keys_b[np.minimum(ib, n_b - 1)] == keys) if n_b else False,
                      ib, n_b)
        return ia.astype(np.int64), ib.astype(np.int64)
    pairs, i, j = [], 0, 0
    while i < n_a and j < n_b:
        left, right = tuple(a[i]), tuple(b[j])
        if left < right:
            pairs.append((i, n_b))
            i += 1
        elif left > right:
            pairs.append((n_a, j))
            j += 1
        else:
            pairs.append((i, j))
            i += 1
            j += 1
    pairs += [(k, n_b) for k in range(i, n_a)] + [(n_a, k) for k in range(j, n_b)]
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _merged_indices(a_indices, b_indices, ia, ib):
    return np.where((ia < len(a_indices))[:, None],
                    _with_row(a_indices)[ia], _with_row(b_indices)[ib]).astype(np.int64)


def _with_row(indices):
    return np.concatenate([indices, np.zeros((1, indices.shape[1]), np.int64)])


def _add_sparse(a, b, threshold):
    op = "SparseAdd"
    _check_same_dtype(a, b, op)
    a_indices, shape = _positions(a)
    b_indices, b_shape = _positions(b)
    _check_same_shape(shape, b_shape, op)
    ia, ib = _merge(a_indices, b_indices, shape)
    if len(ia):
        both = (ia < len(a_indices)) & (ib < len(b_indices))
        a_np, b_np = a.values.numpy(), b.values.numpy()
        sums = (np.append(a_np, a_np.dtype.type(0))[ia] + np.append(b_np, b_np.dtype.type(0))[ib])
        limit = np.asarray(threshold.numpy() if isinstance(threshold, Tensor) else threshold,
                           dtype=a_np.dtype)
        keep = ~both | (np.abs(sums) >= limit)  # TF drops only summed entries below it
        ia, ib = ia[keep], ib[keep]
    values = _gather(_with_zero(a.values), ia) + _gather(_with_zero(b.values), ib)
    return SparseTensor(_merged_indices(a_indices, b_indices, ia, ib), values,
                        np.asarray(shape, np.int64))


def _add_dense(sp, dense):
    from numpyflow.ops.indexing_ops import ScatterNd
    indices, shape = _positions(sp)
    dense = dense if isinstance(dense, Tensor) else convert_to_tensor(dense, dtype=sp.dtype)
    op = "SparseTensorDenseAdd"
    _check_same_dtype(sp, dense, op, input_index=3)
    dense_shape = dense.shape.as_list()
    if len(dense_shape) != len(shape):
        raise invalid_argument(op, f"Two operands have different ranks; received: {len(shape)} "
                               f"and {len(dense_shape)}")
    for d, (x, y) in enumerate(zip(shape, dense_shape)):
        if x != y:
            raise invalid_argument(op, f"Dimension {d} does not equal (no broadcasting is "
                                   f"supported): sparse side {x} vs dense side {y}")
    bad = np.flatnonzero(np.any((indices < 0) | (indices >= np.asarray(shape)), axis=1))
    if len(bad):
        raise invalid_argument(op, f"Index {_shape_text(indices[bad[0]])} is out of bounds of "
                               f"the shape {_shape_text(shape)}")
    return dense + ScatterNd(convert_to_tensor(indices), sp.values, shape=shape)


def add(a, b, threshold=0):
    """Adds two SparseTensors (a SparseTensor), or a SparseTensor and a dense Tensor (a dense
    Tensor).

    Args:
        a: A `SparseTensor` or a dense Tensor.
        b: A `SparseTensor` or a dense Tensor; at least one of `a`, `b` must be sparse.
        threshold: For sparse + sparse: an entry where both have a value is dropped when its
            sum's magnitude is below `threshold` (entries from one side are always kept, as
            in TF's kernel). Not used with a dense operand (as in TF).

    Returns:
        A SparseTensor (the indices of both, in row-major order for ordered inputs) or a
        dense Tensor. Differentiable with respect to the values and the dense operand.

    Raises:
        TypeError: Neither operand is sparse.
        tf.errors.InvalidArgumentError: The shapes or dtypes differ.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 1]], [5.0], [2, 2])
        >>> tf.sparse.add(sp, tf.ones([2, 2])).numpy().tolist()
        [[1.0, 6.0], [1.0, 1.0]]
    """
    a_sparse = isinstance(a, SparseTensor) or _is_sparse_value(a)
    b_sparse = isinstance(b, SparseTensor) or _is_sparse_value(b)
    if not a_sparse and not b_sparse:
        raise TypeError("At least one input should be SparseTensor; do you mean to use "
                        "tf.add()?")
    if a_sparse and b_sparse:
        return _add_sparse(_sparse(a, "tf.sparse.add"), _sparse(b, "tf.sparse.add"), threshold)
    sp, dense = (a, b) if a_sparse else (b, a)
    return _add_dense(_sparse(sp, "tf.sparse.add"), dense)


def _is_sparse_value(value):
    return not isinstance(value, Tensor) and all(
        hasattr(value, f) for f in ("indices", "values", "dense_shape"))


def _vector(value, what, rank, op):
    vector = np.asarray(value.numpy() if isinstance(value, Tensor) else value,
                        dtype=np.int64).reshape(-1)
    if len(vector) != rank:
        raise invalid_argument(op, f"Expected {what} to be a vector of length {rank} but got "
                               f"length {len(vector)}")
    return vector


def slice(sp_input, start, size, name=None):  # noqa: A001 - TF's name
    """The entries of `sp_input` inside the box `[start, start + size)`, shifted by `start`.

    The result's dense shape is `size` cut off at the input's bounds (never negative).
    Differentiable with respect to the values.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 1], [1, 0], [2, 3]], [1.0, 2.0, 3.0], [3, 4])
        >>> tf.sparse.slice(sp, [1, 0], [2, 3]).indices.numpy().tolist()
        [[0, 0]]
    """
    del name
    op = "SparseSlice"
    sp = _sparse(sp_input, "tf.sparse.slice")
    indices, shape = _positions(sp)
    start = _vector(start, "start", len(shape), op)
    size = _vector(size, "size", len(shape), op)
    if np.any(size < 0):
        raise invalid_argument(op, f"Expected a non-negative size, got {size[size < 0][0]}")
    inside = np.all((indices >= start) & (indices < start + size), axis=1)
    positions = np.flatnonzero(inside)
    out_shape = np.maximum(0, np.minimum(start + size, np.asarray(shape, np.int64)) - start)
    return SparseTensor((indices[positions] - start).reshape(-1, len(shape)),
                        _gather(sp.values, positions), out_shape.astype(np.int64))


def retain(sp_input, to_retain):
    """The entries of `sp_input` where the bool vector `to_retain` is True, in order.

    Differentiable with respect to the values.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0], [2]], [1.0, 2.0], [3])
        >>> tf.sparse.retain(sp, [False, True]).values.numpy().tolist()
        [2.0]
    """
    sp = _sparse(sp_input, "tf.sparse.retain")
    indices, shape = _positions(sp)
    keep = np.asarray(to_retain.numpy() if isinstance(to_retain, Tensor) else to_retain)
    if keep.ndim != 1:
        raise ValueError(f"tf.sparse.retain: to_retain must be a vector. Received shape "
                         f"{list(keep.shape)}.")
    if len(keep) != len(indices):
        raise ValueError(f"Dimensions {len(indices)} and {len(keep)} are not compatible")
    if keep.dtype != np.bool_:
        raise TypeError(f"tf.sparse.retain: to_retain must be bool. Received dtype "
                        f"{keep.dtype}.")
    positions = np.flatnonzero(keep)
    return SparseTensor(indices[positions].reshape(-1, len(shape)),
                        _gather(sp.values, positions), np.asarray(shape, np.int64))


def fill_empty_rows(sp_input, default_value, name=None):
    """Gives each empty row (first dimension) of `sp_input` one entry, `default_value`, at
    column 0.

    Args:
        sp_input: A SparseTensor of rank >= 1.
        default_value: A scalar of the values' dtype.
        name: Unused op name (TF's).

    Returns:
        `(sp_output, empty_row_indicator)`: the filled SparseTensor (entries grouped by row,
        each row's entries in input order) and a bool vector marking the rows that were
        empty. Differentiable with respect to the values and `default_value`.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[1, 0]], [5.0], [3, 2])
        >>> out, empty = tf.sparse.fill_empty_rows(sp, -1.0)
        >>> out.values.numpy().tolist(), empty.numpy().tolist()
        ([-1.0, 5.0, -1.0], [True, False, True])
    """
    del name
    from numpyflow.ops.array_ops import concat, reshape
    sp = _sparse(sp_input, "tf.sparse.fill_empty_rows")
    indices, shape = _positions(sp)
    if not shape:
        raise ValueError("tf.sparse.fill_empty_rows: sp_input must have rank >= 1.")
    default = (default_value if isinstance(default_value, Tensor)
               else convert_to_tensor(default_value, dtype=sp.dtype))
    if default.shape.rank != 0:
        raise invalid_argument("SparseFillEmptyRows", f"default_value must be a scalar, got "
                               f"shape {_shape_text(default.shape.as_list())}")
    if default.dtype != sp.dtype:
        raise TypeError(f"tf.sparse.fill_empty_rows: default_value has dtype "
                        f"{default.dtype.name} but the values have {sp.dtype.name}.")
    rows = shape[0]
    bad = np.flatnonzero((indices[:, 0] < 0) | (indices[:, 0] >= rows))
    if len(bad):
        raise invalid_argument("SparseFillEmptyRows", f"indices({bad[0]}, 0) is invalid: "
                               f"{indices[bad[0], 0]} >= {rows}")
    empty = np.ones(rows, dtype=bool)
    empty[indices[:, 0]] = False
    empty_rows = np.flatnonzero(empty)
    filled = np.zeros((len(empty_rows), len(shape)), np.int64)
    filled[:, 0] = empty_rows
    all_indices = np.concatenate([indices, filled])
    order = np.argsort(all_indices[:, 0], kind="stable")  # by row, input order within a row
    defaults = _gather(reshape(default, [1]), np.zeros(len(empty_rows), np.int64))
    values = _gather(concat([sp.values, defaults], axis=0), order)
    return (SparseTensor(all_indices[order], values, np.asarray(shape, np.int64)),
            convert_to_tensor(empty))


def transpose(sp_input, perm=None, name=None):
    """`sp_input` with its dimensions permuted by `perm` (reversed by default), the result's
    indices in row-major order. Differentiable with respect to the values.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 1], [1, 0]], [1.0, 2.0], [2, 3])
        >>> tf.sparse.transpose(sp).indices.numpy().tolist()
        [[0, 1], [1, 0]]
    """
    del name
    from numpyflow.sparse.sparse_ops import _order
    sp = _sparse(sp_input, "tf.sparse.transpose")
    indices, shape = _positions(sp)
    rank = len(shape)
    perm = (np.arange(rank)[::-1] if perm is None else
            np.asarray(perm.numpy() if isinstance(perm, Tensor) else perm, np.int64).reshape(-1))
    if len(perm) != rank:
        raise ValueError(f"Dimensions {len(perm)} and {rank} are not compatible")
    if sorted(perm.tolist()) != list(range(rank)):
        raise invalid_argument("SparseTranspose", f"perm must be a permutation of "
                               f"0..{rank - 1}. Received: {perm.tolist()}")
    new_indices = indices[:, perm]
    order = _order(new_indices)
    return SparseTensor(new_indices[order], _gather(sp.values, order),
                        np.asarray(shape, np.int64)[perm])


def _extremum(sp_a, sp_b, pick, op, public):
    a, b = _sparse(sp_a, public), _sparse(sp_b, public)
    a_indices, shape = _positions(a)
    b_indices, b_shape = _positions(b)
    _check_same_shape(shape, b_shape, op)
    _check_same_dtype(a, b, op)
    ia, ib = _merge(a_indices, b_indices, shape)
    a_np, b_np = a.values.numpy(), b.values.numpy()
    # An absent entry counts as 0. TF defines no gradient here, so the values are constants.
    values = pick(np.append(a_np, a_np.dtype.type(0))[ia], np.append(b_np, b_np.dtype.type(0))[ib])
    return SparseTensor(_merged_indices(a_indices, b_indices, ia, ib),
                        convert_to_tensor(values.astype(a_np.dtype)), np.asarray(shape, np.int64))


def maximum(sp_a, sp_b, name=None):
    """The element-wise maximum of two SparseTensors of one shape (absent entries count as
    0); no gradient, as in TF.

    Example:
        >>> import numpyflow as tf
        >>> a = tf.SparseTensor([[0], [1]], [1.0, -2.0], [2])
        >>> tf.sparse.maximum(a, tf.SparseTensor([[0]], [3.0], [2])).values.numpy().tolist()
        [3.0, 0.0]
    """
    del name
    return _extremum(sp_a, sp_b, np.maximum, "SparseSparseMaximum", "tf.sparse.maximum")


def minimum(sp_a, sp_b, name=None):
    """The element-wise minimum of two SparseTensors of one shape (absent entries count as
    0); no gradient, as in TF.

    Example:
        >>> import numpyflow as tf
        >>> a = tf.SparseTensor([[0], [1]], [1.0, -2.0], [2])
        >>> tf.sparse.minimum(a, tf.SparseTensor([[0]], [3.0], [2])).values.numpy().tolist()
        [1.0, -2.0]
    """
    del name
    return _extremum(sp_a, sp_b, np.minimum, "SparseSparseMinimum", "tf.sparse.minimum")


# TF's true division: integers become floats first (8/16-bit -> float32, 32/64-bit -> float64).
_TRUEDIV_FLOAT = {"int8": "float32", "uint8": "float32", "int16": "float32",
                  "uint16": "float32", "int32": "float64", "int64": "float64"}


def sparse_dense_cwise(sp, other, operation):
    """`sp * other` or `sp / other` (`operation` "mul" or "truediv"): the dense `other`
    broadcast to the sparse shape and read at the sparse positions; a SparseTensor with the
    same indices. What `SparseTensor.__mul__` and `__truediv__` call."""
    from numpyflow.ops.array_ops import broadcast_to
    from numpyflow.ops.indexing_ops import gather_nd
    from numpyflow.ops.math_ops import cast
    if isinstance(other, SparseTensor):
        raise ValueError(f"Attempt to convert a value ({other!r}) with an unsupported type "
                         f"({type(other)}) to a Tensor.")
    op = "SparseDenseCwiseMul" if operation == "mul" else "SparseDenseCwiseDiv"
    values = sp.values
    if isinstance(other, Tensor) and other.dtype != values.dtype:
        raise ValueError(f"y: Tensor conversion requested dtype {values.dtype.name} for Tensor "
                         f"with dtype {other.dtype.name}: {other!r}")
    other = other if isinstance(other, Tensor) else convert_to_tensor(other, dtype=values.dtype)
    if operation == "truediv" and values.dtype.name in _TRUEDIV_FLOAT:
        values = cast(values, _TRUEDIV_FLOAT[values.dtype.name])
        other = cast(other, values.dtype)
    indices, shape = _positions(sp)
    dense_shape = other.shape.as_list()
    compatible = len(dense_shape) <= len(shape) and all(
        d in (1, s) for d, s in zip(dense_shape[::-1], shape[::-1]))
    if not compatible:
        raise invalid_argument(op, f"SparseDenseBinaryOpShared broadcasts dense to sparse only; "
                               f"got incompatible shapes: {_shape_text(shape)} vs. "
                               f"{_shape_text(dense_shape)}")
    if np.any((indices < 0) | (indices >= np.asarray(shape, np.int64))):
        raise invalid_argument(op, "Provided indices are out-of-bounds w.r.t. dense side with "
                               "broadcasted shape")
    at_entries = gather_nd(broadcast_to(other, list(shape)), convert_to_tensor(indices))
    if operation == "mul":
        return SparseTensor(indices, values * at_entries, np.asarray(shape, np.int64))
    if np.any(at_entries.numpy() == 0):
        raise invalid_argument(op, "SparseDenseCwiseDiv cannot divide by zero,but input dense "
                               "tensor contains zero")
    return SparseTensor(indices, values / at_entries, np.asarray(shape, np.int64))
