"""Linear algebra (tf.linalg): decompositions and solves as primitives with gradient
rules, the rest (diag, band_part, trace, lstsq, pinv, ...) composed from other ops.

All ops work on the last two axes; leading axes are a batch. Ops with several outputs
(slogdet, qr, svd, eigh) are one primitive whose output packs them, flattened per batch
entry along the last axis; the public function slices them out again (differentiable
slices), so the gradient rule receives all upstream gradients at once.
"""

from numpyflow.backend import xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, clip_ops, indexing_ops, math_ops, reduce_ops
from numpyflow.ops._convert import tensor, tensor_pair
from numpyflow.ops.array_ops import _shape_text
from numpyflow.ops.indexing_ops import StridedSlice


_as_tensor = tensor  # Some functions take an argument named `tensor`, as in TF.


# -- helpers ------------------------------------------------------------------------------

def _mT(x):
    """Transposes the last two axes (adjoint: numpyflow has no complex dtypes)."""
    ndim = x._value.ndim
    return array_ops.Transpose(x, perm=tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


def _mm(a, b, transpose_a=False, transpose_b=False):
    return math_ops.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)


def _matrices(value, op_name, square=False):
    """`value` as a float32/float64 tensor of rank >= 2 (square when asked), else TF's error."""
    x = tensor(value)
    if x._value.dtype not in (xp.float32, xp.float64):
        raise invalid_argument(op_name, f"{op_name} takes float32 or float64 matrices; received "
                               f"dtype {x.dtype.name}")
    shape = x._value.shape
    if len(shape) < 2:
        raise invalid_argument(op_name, f"Input must have rank >= 2, got {len(shape)} (shape "
                               f"{_shape_text(shape)})")
    if square and shape[-1] != shape[-2]:
        raise invalid_argument(op_name, f"Input matrix must be square; received shape "
                               f"{_shape_text(shape)}")
    return x


def _mask(shape, dtype, lower, upper):
    """A constant 0/1 matrix keeping the band [-lower, upper] around the diagonal (-1: all)."""
    rows, cols = shape[-2:]
    offset = xp.arange(cols)[None, :] - xp.arange(rows)[:, None]
    keep = xp.ones((rows, cols), bool)
    if lower >= 0:
        keep &= offset >= -lower
    if upper >= 0:
        keep &= offset <= upper
    return keep.astype(dtype)


def _pack(arrays):
    """Flattens each array's last `core` axes and joins them along one last axis."""
    pieces = [a.reshape(a.shape[:batch] + (-1,)) for a, batch in arrays]
    return xp.concatenate(pieces, axis=-1)


def _unpack(packed, core_shapes):
    """The tensors `_pack` joined, sliced out of the packed tensor (differentiable)."""
    batch = packed._value.shape[:-1]
    start, pieces = 0, []
    for core in core_shapes:
        size = int(xp.prod(core, dtype=xp.int64))
        piece = StridedSlice(packed, key=(Ellipsis, slice(start, start + size)))
        pieces.append(array_ops.Reshape(piece, shape=batch + tuple(core)))
        start += size
    return pieces


def _linalg_explain(message):
    def explain(arrays, attrs, error):
        return f"{message} (input shapes {', '.join(_shape_text(a.shape) for a in arrays)})"
    return explain


# -- inverse / determinants -----------------------------------------------------------------

# d(A^-1) = -A^-1 dA A^-1, so dA = -Y^T dY Y^T with Y = A^-1.
MatrixInverse = Primitive(
    "MatrixInverse", quiet(lambda x: xp.linalg.inv(x)),
    lambda node, dy: (math_ops.negative(_mm(_mm(node.output, dy, transpose_a=True),
                                            node.output, transpose_b=True)),),
    explain=_linalg_explain("Input is not invertible."))


def inv(input, adjoint=False, name=None):  # noqa: A002 - TF's name
    """The inverse of each square matrix (of its adjoint when `adjoint`).

    >>> inv([[2., 0.], [0., 4.]]).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    x = _matrices(input, "MatrixInverse", square=True)
    return MatrixInverse(_mT(x) if adjoint else x)


def _det_grad(node, dy):
    # d det(A) = det(A) tr(A^-1 dA): dA = dy det(A) A^-T.
    scale = math_ops.multiply(dy, node.output)[..., None, None]
    return (math_ops.multiply(scale, _mT(MatrixInverse(node.inputs[0]))),)


MatrixDeterminant = Primitive("MatrixDeterminant", quiet(lambda x: xp.linalg.det(x)),
                              _det_grad)


def det(input, name=None):  # noqa: A002 - TF's name
    """The determinant of each square matrix.

    >>> float(det([[1., 2.], [3., 4.]]))
    -2.0
    """
    return MatrixDeterminant(_matrices(input, "MatrixDeterminant", square=True))


def _slogdet_forward(x):
    sign, log_abs = xp.linalg.slogdet(x)
    return xp.stack([sign.astype(x.dtype), log_abs.astype(x.dtype)], axis=-1)


def _slogdet_grad(node, dy):
    # Only log|det| varies (the sign is piecewise constant): d log|det A| = tr(A^-1 dA).
    d_log = StridedSlice(dy, key=(Ellipsis, 1))[..., None, None]
    return (math_ops.multiply(d_log, _mT(MatrixInverse(node.inputs[0]))),)


# Output (..., 2): [sign, log|det|] per matrix.
LogMatrixDeterminant = Primitive("LogMatrixDeterminant", quiet(_slogdet_forward), _slogdet_grad)


def slogdet(input, name=None):  # noqa: A002 - TF's name
    """`(sign, log|det|)` of each square matrix: the determinant without overflow.

    >>> sign, log_abs = slogdet([[1., 2.], [3., 4.]])
    >>> float(sign), round(float(log_abs), 4)
    (-1.0, 0.6931)
    """
    packed = LogMatrixDeterminant(_matrices(input, "LogMatrixDeterminant", square=True))
    return StridedSlice(packed, key=(Ellipsis, 0)), StridedSlice(packed, key=(Ellipsis, 1))


def logdet(matrix, name=None):
    """log(det(matrix)) of each Hermitian positive-definite matrix, via its Cholesky factor.

    >>> round(float(logdet([[2., 0.], [0., 3.]])), 4)
    1.7918
    """
    factor = cholesky(matrix)
    return math_ops.multiply(2., reduce_ops.reduce_sum(math_ops.log(diag_part(factor)), [-1]))


# -- cholesky / solves -----------------------------------------------------------------------

def _cholesky_grad(node, dy):
    # With A = L L^T: dA = L^-T Phi(L^T dL) L^-1, Phi keeping the lower triangle with the
    # diagonal halved; then made symmetric, since A is.
    factor = node.output
    shape, dtype = factor._value.shape, factor._value.dtype
    identity = Tensor(xp.broadcast_to(xp.eye(shape[-1], dtype=dtype), shape))
    inverse = MatrixTriangularSolve(factor, identity, lower=True, adjoint=False)
    phi = _mask(shape, dtype, -1, 0) - 0.5 * xp.eye(shape[-1], dtype=dtype)
    middle = math_ops.multiply(_mm(factor, dy, transpose_a=True), Tensor(phi))
    grad = _mm(_mm(inverse, middle, transpose_a=True), inverse)
    return (math_ops.multiply(0.5, math_ops.add(grad, _mT(grad))),)


def _cholesky_forward(x):
    try:
        return xp.linalg.cholesky(x)
    except xp.linalg.LinAlgError:
        pass
    # As TF, a matrix that is not positive definite gets NaN in its lower triangle (the
    # others in the batch are still factored) rather than an error.
    batch = x.reshape((-1,) + x.shape[-2:])
    factors = xp.empty_like(batch)
    nan_lower = xp.where(xp.tri(x.shape[-1], dtype=bool), xp.nan, 0.).astype(x.dtype)
    for i, matrix in enumerate(batch):
        try:
            factors[i] = xp.linalg.cholesky(matrix)
        except xp.linalg.LinAlgError:
            factors[i] = nan_lower
    return factors.reshape(x.shape)


Cholesky = Primitive("Cholesky", quiet(_cholesky_forward), _cholesky_grad)


def cholesky(input, name=None):  # noqa: A002 - TF's name
    """The lower-triangular L with L L^T = input, for symmetric positive-definite matrices
    (only the lower triangle of `input` is read). A matrix that is not positive definite
    gives NaN in the lower triangle, as in TF.

    >>> cholesky([[4., 2.], [2., 2.]]).numpy()
    array([[2., 0.],
           [1., 1.]], dtype=float32)
    """
    return Cholesky(_matrices(input, "Cholesky", square=True))


def _solve_forward(a, b, adjoint):
    if b.ndim == a.ndim - 1:  # NumPy would read a stack of vectors; TF needs matrices.
        raise ValueError("rhs must be a matrix")
    return xp.linalg.solve(xp.swapaxes(a, -1, -2) if adjoint else a, b)


def _solve_grad(node, dy):
    # X = A^-1 B: dB = A^-T dX, dA = -dB X^T (with A^T for A when adjoint).
    a, _ = node.inputs
    adjoint = node.attrs["adjoint"]
    d_b = MatrixSolve(a, dy, adjoint=not adjoint)
    d_a = (_mm(node.output, d_b, transpose_b=True) if adjoint
           else _mm(d_b, node.output, transpose_b=True))
    return math_ops.negative(d_a), d_b


MatrixSolve = Primitive("MatrixSolve", quiet(_solve_forward), _solve_grad,
                        explain=_linalg_explain("Input matrix is not invertible, or matrix and "
                                                "rhs shapes do not match."))


def _matrix_and_rhs(matrix, rhs, op_name):
    a = _matrices(matrix, op_name, square=True)
    b = tensor_pair(a, rhs, op_name)[1]
    if b._value.ndim < 2 or b._value.shape[-2] != a._value.shape[-1]:
        raise invalid_argument(op_name, f"Input matrix and right-hand side must have the same "
                               f"number of rows: matrix shape {_shape_text(a._value.shape)}, "
                               f"rhs shape {_shape_text(b._value.shape)}")
    return a, b


def solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix @ X = rhs (adjoint(matrix) @ X = rhs when `adjoint`).

    >>> solve([[2., 0.], [0., 4.]], [[2.], [8.]]).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    a, b = _matrix_and_rhs(matrix, rhs, "MatrixSolve")
    return MatrixSolve(a, b, adjoint=bool(adjoint))


def _triangular_forward(a, b, lower, adjoint):
    # Reads only the named triangle of `a`, as TF does. (A general solve of the masked
    # matrix: NumPy has no triangular solver, and this avoids a SciPy dependency.)
    triangle = xp.tril(a) if lower else xp.triu(a)
    if adjoint:
        triangle = xp.swapaxes(triangle, -1, -2)
    return xp.linalg.solve(triangle, b)


def _triangular_grad(node, dy):
    a, _ = node.inputs
    lower, adjoint = node.attrs["lower"], node.attrs["adjoint"]
    d_b = MatrixTriangularSolve(a, dy, lower=lower, adjoint=not adjoint)
    d_a = (_mm(node.output, d_b, transpose_b=True) if adjoint
           else _mm(d_b, node.output, transpose_b=True))
    band = _mask(a._value.shape, a._value.dtype, -1, 0) if lower else \
        _mask(a._value.shape, a._value.dtype, 0, -1)
    return math_ops.multiply(math_ops.negative(d_a), Tensor(band)), d_b


MatrixTriangularSolve = Primitive(
    "MatrixTriangularSolve", quiet(_triangular_forward), _triangular_grad,
    explain=_linalg_explain("Input matrix is not invertible (a zero on its diagonal), or "
                            "matrix and rhs shapes do not match."))


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with T @ X = rhs, T the lower (or upper) triangle of `matrix` (adjoint(T) when
    `adjoint`); the other triangle is not read.

    >>> triangular_solve([[2., 0.], [1., 1.]], [[2.], [3.]]).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    a, b = _matrix_and_rhs(matrix, rhs, "MatrixTriangularSolve")
    return MatrixTriangularSolve(a, b, lower=bool(lower), adjoint=bool(adjoint))


def cholesky_solve(chol, rhs, name=None):
    """X with A @ X = rhs, given `chol` = cholesky(A).

    >>> cholesky_solve(cholesky([[4., 2.], [2., 2.]]), [[6.], [4.]]).numpy()
    array([[1.],
           [1.]], dtype=float32)
    """
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """The least-squares solution X of matrix @ X ~ rhs (minimizing ||matrix @ X - rhs||^2
    + l2_regularizer ||X||^2), through the regularized normal equations as TF's `fast`
    path: tall matrices solve (A^T A + l2 I) X = A^T rhs, wide ones X = A^T (A A^T + l2 I)^-1 rhs.

    With `fast=False` the solution is the minimum-norm one from the pseudo-inverse (TF's
    robust path, for rank-deficient matrices), and as in TF `l2_regularizer` is then ignored.
    (TF gives that path no gradient; here it is the pseudo-inverse's.)

    >>> lstsq([[1., 0.], [0., 1.], [1., 1.]], [[1.], [1.], [2.]]).numpy().round(4)
    array([[1.],
           [1.]], dtype=float32)
    >>> lstsq([[1., 1.], [1., 1.]], [[1.], [1.]], fast=False).numpy().round(4)
    array([[0.5],
           [0.5]], dtype=float32)
    """
    a = _matrices(matrix, "MatrixSolveLs")
    b = tensor_pair(a, rhs, "MatrixSolveLs")[1]
    rows, cols = a._value.shape[-2:]
    if b._value.ndim < 2 or b._value.shape[-2] != rows:
        raise invalid_argument("MatrixSolveLs", f"matrix and rhs must have the same number of "
                               f"rows; received shapes {_shape_text(a._value.shape)} and "
                               f"{_shape_text(b._value.shape)}")
    if not fast:
        return _mm(pinv(a), b)
    tall = rows >= cols
    gram = _mm(a, a, transpose_a=True) if tall else _mm(a, a, transpose_b=True)
    size = cols if tall else rows
    regularizer = math_ops.multiply(tensor_pair(a, l2_regularizer, "MatrixSolveLs")[1],
                                    Tensor(xp.eye(size, dtype=a._value.dtype)))
    factor = cholesky(math_ops.add(gram, regularizer))
    if tall:
        return cholesky_solve(factor, _mm(a, b, transpose_a=True))
    return _mm(a, cholesky_solve(factor, b), transpose_a=True)


# -- QR ---------------------------------------------------------------------------------------

def _qr_shapes(shape, full_matrices):
    rows, cols = shape[-2:]
    k = rows if full_matrices else min(rows, cols)
    return (rows, k), (k, cols)


def _qr_forward(x, full_matrices):
    batch = x.ndim - 2
    q, r = xp.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return _pack([(q, batch), (r, batch)])


def _triangular_right_solve(x, r):
    """x R^-T for upper-triangular R (a solve with R from the right)."""
    return _mT(MatrixTriangularSolve(r, _mT(x), lower=False, adjoint=False))


def _qr_grad_deep(q, r, d_q, d_r):
    # For A = QR with rows >= cols (Q: m x n, R: n x n upper triangular), after Walter and
    # Lehmann / Seeger et al.: M = R dR^T - dQ^T Q; dA = (dQ + Q copyltu(M)) R^-T, where
    # copyltu mirrors M's lower triangle. Written in TF's equivalent form.
    cols = r._value.shape[-1]
    q_dq = _mm(q, d_q, transpose_a=True)
    r_dr = _mm(r, d_r, transpose_b=True)
    lower = Tensor(_mask((cols, cols), r._value.dtype, -1, 0))
    tril = math_ops.multiply(math_ops.add(math_ops.subtract(q_dq, _mT(q_dq)),
                                          math_ops.subtract(r_dr, _mT(r_dr))), lower)
    from_r = _mm(q, math_ops.add(d_r, _triangular_right_solve(tril, r)))
    from_q = _triangular_right_solve(math_ops.subtract(d_q, _mm(q, q_dq)), r)
    return math_ops.add(from_r, from_q)


def _qr_grad(node, dy):
    x = node.inputs[0]
    shape = x._value.shape
    rows, cols = shape[-2:]
    q_shape, r_shape = _qr_shapes(shape, node.attrs["full_matrices"])
    if rows > cols and q_shape[1] != cols:
        raise NotImplementedError(
            f"QrGrad: the gradient of tf.linalg.qr of a matrix with more rows than columns is "
            f"implemented for full_matrices=False only, as in TF; received shape "
            f"{_shape_text(shape)}, full_matrices={node.attrs['full_matrices']}")
    q, r = _unpack(node.output, (q_shape, r_shape))
    d_q, d_r = _unpack(dy, (q_shape, r_shape))
    if rows >= cols:
        return (_qr_grad_deep(q, r, d_q, d_r),)
    # A wide matrix [X | Y] = Q [U | V]: X = QU is a square QR and V = Q^T Y (TF's rule).
    y, u = x[..., :, rows:], r[..., :, :rows]
    d_u, d_v = d_r[..., :, :rows], d_r[..., :, rows:]
    d_x = _qr_grad_deep(q, u, math_ops.add(d_q, _mm(y, d_v, transpose_b=True)), d_u)
    return (array_ops.concat([d_x, _mm(q, d_v)], -1),)


# Output: Q and R of each matrix, flattened and joined along the last axis.
Qr = Primitive("Qr", quiet(_qr_forward), _qr_grad)


def qr(input, full_matrices=False, name=None):  # noqa: A002 - TF's name
    """`(q, r)`: orthonormal columns q and upper-triangular r with input = q @ r.

    Gradients are implemented as in TF: for any matrix, except ones with more rows than
    columns under full_matrices=True.

    >>> q, r = qr([[3., 0.], [4., 5.]])
    >>> q.shape, r.shape
    (TensorShape([2, 2]), TensorShape([2, 2]))
    """
    x = _matrices(input, "Qr")
    packed = Qr(x, full_matrices=bool(full_matrices))
    q, r = _unpack(packed, _qr_shapes(x._value.shape, bool(full_matrices)))
    return q, r


# -- SVD --------------------------------------------------------------------------------------

def _svd_shapes(shape, full_matrices):
    rows, cols = shape[-2:]
    k = min(rows, cols)
    return (k,), (rows, rows if full_matrices else k), (cols, cols if full_matrices else k)


def _svd_forward(x, full_matrices, compute_uv):
    if not compute_uv:
        return xp.linalg.svd(x, compute_uv=False)
    u, s, vt = xp.linalg.svd(x, full_matrices=full_matrices)
    batch = x.ndim - 2
    return _pack([(s, batch), (u, batch), (xp.swapaxes(vt, -1, -2), batch)])


def _svd_grad(node, dy):
    x = node.inputs[0]
    shape, dtype = x._value.shape, x._value.dtype
    full_matrices, compute_uv = node.attrs["full_matrices"], node.attrs["compute_uv"]
    if not compute_uv:
        # ds only: dA = U diag(ds) V^T, with U, V from a second decomposition (of x itself,
        # so that an outer tape differentiates through them: second derivatives).
        _, u, v = svd(x, full_matrices=False)
        return (_mm(math_ops.multiply(u, dy[..., None, :]), v, transpose_b=True),)
    rows, cols = shape[-2:]
    if full_matrices and rows != cols:
        raise NotImplementedError(f"SvdGrad: the gradient of tf.linalg.svd with "
                                  f"full_matrices=True is implemented for square matrices "
                                  f"only; received shape {_shape_text(shape)}")
    s, u, v = _unpack(node.output, _svd_shapes(shape, full_matrices))
    d_s, d_u, d_v = _unpack(dy, _svd_shapes(shape, full_matrices))
    if rows > cols:  # Work on the wide transpose: A^T = V S U^T.
        u, v, d_u, d_v = v, u, d_v, d_u
    # Now A = U S V^T with U: m x m, V: n x m, m <= n (Townsend, "Differentiating the
    # Singular Value Decomposition", 2016), with F_ij = 1 / (s_j^2 - s_i^2) off the diagonal.
    k = min(rows, cols)
    off_diagonal = Tensor(1. - xp.eye(k, dtype=dtype))
    s2 = math_ops.square(s)
    gaps = math_ops.subtract(s2[..., None, :], s2[..., :, None])
    safe_gaps = indexing_ops.where(Tensor(xp.eye(k, dtype=bool)), math_ops.cast(1., x.dtype),
                                   gaps)
    f = math_ops.multiply(math_ops.reciprocal(safe_gaps), off_diagonal)
    f_u = math_ops.multiply(f, _mm(u, d_u, transpose_a=True))
    f_v = math_ops.multiply(f, _mm(v, d_v, transpose_a=True))
    s_column, s_row = s[..., :, None], s[..., None, :]
    inner = math_ops.add(
        math_ops.multiply(d_s[..., None, :], Tensor(xp.eye(k, dtype=dtype))),
        math_ops.add(math_ops.multiply(math_ops.add(f_u, _mT(f_u)), s_row),
                     math_ops.multiply(s_column, math_ops.add(f_v, _mT(f_v)))))
    grad = _mm(u, _mm(inner, v, transpose_b=True))
    if k < max(rows, cols):
        # The part of dV outside V's span: U S^-1 (dV^T - dV^T V V^T).
        d_vt = _mT(d_v)
        outside = math_ops.subtract(d_vt, _mm(_mm(d_vt, v), v, transpose_b=True))
        grad = math_ops.add(grad, _mm(math_ops.divide(u, s_row), outside))
    return (_mT(grad) if rows > cols else grad,)


# Output: s, or s, U and V of each matrix flattened and joined along the last axis.
Svd = Primitive("Svd", quiet(_svd_forward), _svd_grad,
                explain=_linalg_explain("SVD did not converge."))


def svd(tensor, full_matrices=False, compute_uv=True, name=None):  # noqa: F811 - TF's name
    """The singular value decomposition tensor = u @ diag(s) @ v^T.

    Returns `(s, u, v)` (singular values in descending order), or `s` alone when not
    `compute_uv`. Gradients: through s always; through u and v for full_matrices=False (or
    square matrices) with distinct singular values, as in TF.

    >>> s, u, v = svd([[3., 0.], [0., -2.]])
    >>> s.numpy()
    array([3., 2.], dtype=float32)
    """
    x = _matrices(tensor, "Svd")
    packed = Svd(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return packed
    return tuple(_unpack(packed, _svd_shapes(x._value.shape, bool(full_matrices))))


def pinv(a, rcond=None, validate_args=False, name=None):
    """The Moore-Penrose pseudo-inverse, from the SVD; singular values at most
    rcond * max(s) count as zero (rcond defaults to 10 * max(rows, cols) * eps).

    >>> pinv([[2., 0.], [0., 0.]]).numpy()
    array([[0.5, 0. ],
           [0. , 0. ]], dtype=float32)
    """
    x = _matrices(a, "pinv")
    rows, cols = x._value.shape[-2:]
    if rcond is None:
        rcond = 10. * max(rows, cols) * float(xp.finfo(x._value.dtype).eps)
    s, u, v = svd(x, full_matrices=False)
    cutoff = math_ops.multiply(rcond, reduce_ops.reduce_max(s, [-1], keepdims=True))
    kept = math_ops.greater(s, cutoff)
    one = math_ops.cast(1., x.dtype)
    zero = math_ops.cast(0., x.dtype)
    # 1/s where kept (computed on a safe value, so no inf reaches the gradient), else 0.
    s_inverse = indexing_ops.where(kept, math_ops.reciprocal(indexing_ops.where(kept, s, one)),
                                   zero)
    return _mm(math_ops.multiply(v, s_inverse[..., None, :]), u, transpose_b=True)


# -- eigh -----------------------------------------------------------------------------------

def _eigh_forward(x, compute_v):
    if not compute_v:
        return xp.linalg.eigvalsh(x)
    values, vectors = xp.linalg.eigh(x)
    return xp.concatenate([values[..., None, :], vectors], axis=-2)


def _eigh_grad(node, dy):
    x = node.inputs[0]
    n, dtype = x._value.shape[-1], x._value.dtype
    if node.attrs["compute_v"]:
        e, v = node.output[..., 0, :], node.output[..., 1:, :]
        d_e, d_v = dy[..., 0, :], dy[..., 1:, :]
    else:
        e, v = eigh(x)  # Differentiable, for an outer tape (second derivatives).
        d_e, d_v = dy, None
    # dA = V (diag(de) + F o (V^T dV)) V^T with F_ij = 1 / (e_j - e_i) off the diagonal...
    inner = math_ops.multiply(d_e[..., None, :], Tensor(xp.eye(n, dtype=dtype)))
    if d_v is not None:
        gaps = math_ops.subtract(e[..., None, :], e[..., :, None])
        safe_gaps = indexing_ops.where(Tensor(xp.eye(n, dtype=bool)),
                                       math_ops.cast(1., x.dtype), gaps)
        f = math_ops.multiply(math_ops.reciprocal(safe_gaps), Tensor(1. - xp.eye(n, dtype=dtype)))
        inner = math_ops.add(inner, math_ops.multiply(f, _mm(v, d_v, transpose_a=True)))
    grad = _mm(v, _mm(inner, v, transpose_b=True))
    # ...then onto the lower triangle, the only part eigh reads: an off-diagonal entry
    # stands for both mirrored entries.
    grad = math_ops.add(grad, _mT(grad))
    band = _mask((n, n), dtype, -1, 0) - 0.5 * xp.eye(n, dtype=dtype)
    return (math_ops.multiply(grad, Tensor(band)),)


# Output: (..., n + 1, n): the eigenvalues in row 0, the eigenvectors (columns) below; or
# just the eigenvalues when not compute_v.
SelfAdjointEigV2 = Primitive("SelfAdjointEigV2", quiet(_eigh_forward), _eigh_grad,
                             explain=_linalg_explain("Self-adjoint eigen decomposition was "
                                                     "not successful."))


def eigh(tensor, name=None):  # noqa: F811 - TF's name
    """`(e, v)`: the eigenvalues (ascending) and eigenvectors (columns of v) of each
    symmetric matrix; only its lower triangle is read.

    >>> e, v = eigh([[2., 1.], [1., 2.]])
    >>> e.numpy()
    array([1., 3.], dtype=float32)
    """
    x = _matrices(tensor, "SelfAdjointEigV2", square=True)
    packed = SelfAdjointEigV2(x, compute_v=True)
    return packed[..., 0, :], packed[..., 1:, :]


def eigvalsh(tensor, name=None):  # noqa: F811 - TF's name
    """The eigenvalues (ascending) of each symmetric matrix (lower triangle read).

    >>> eigvalsh([[2., 1.], [1., 2.]]).numpy()
    array([1., 3.], dtype=float32)
    """
    return SelfAdjointEigV2(_matrices(tensor, "SelfAdjointEigV2", square=True), compute_v=False)


# -- diagonals, bands, traces (composed) --------------------------------------------------------

def _one_diagonal(k, op_name):
    """The diagonal offset `k` names (an int, or a pair of equal ints, as TF allows)."""
    if isinstance(k, (tuple, list)) or getattr(k, "ndim", 0) == 1:
        pair = [int(v) for v in (k.numpy() if hasattr(k, "numpy") else k)]
        if len(pair) == 1 or (len(pair) == 2 and pair[0] == pair[1]):
            return pair[0]
        raise NotImplementedError(f"{op_name}: only one diagonal (an int k, or k=(d, d)) is "
                                  f"implemented, not a band of them; received k={tuple(pair)}.")
    return int(k)


def _check_offset(k, rows, cols, op_name):
    if k != 0 and not -rows < k < cols:  # As TF: the main diagonal is always allowed.
        raise invalid_argument(op_name, f"lower_diag_index is out of bound: {k}. It must be "
                               f"between {-rows} and {cols}")


def _on_row(d, k, cols):
    """Pads (..., n) diagonal values to (..., cols) so that entry c is the value at column c
    of the k-th diagonal (the padding lands off the diagonal)."""
    left = max(k, 0)
    right = cols - d._value.shape[-1] - left
    if left == 0 and right == 0:
        return d
    return array_ops.pad(d, [[0, 0]] * (d._value.ndim - 1) + [[left, right]])


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT"):
    """Matrices with `diagonal` (..., n) on their k-th diagonal and `padding_value` elsewhere.

    The matrices are square (n + |k|) unless `num_rows`/`num_cols` say otherwise. A single
    diagonal is implemented (`k` an int or a pair of equal ints); `align` only places the
    diagonals of a band, so it has no effect here.

    >>> diag([1., 2.]).numpy()
    array([[1., 0.],
           [0., 2.]], dtype=float32)
    >>> diag([1, 2], k=1).numpy()
    array([[0, 1, 0],
           [0, 0, 2],
           [0, 0, 0]], dtype=int32)
    """
    k = _one_diagonal(k, "MatrixDiagV3")
    d = tensor(diagonal)
    if d._value.ndim < 1:
        raise invalid_argument("MatrixDiagV3", "diagonal must be at least 1-dim; received a "
                               "scalar")
    n = d._value.shape[-1]
    min_rows, min_cols = n + max(-k, 0), n + max(k, 0)
    rows = -1 if num_rows is None else int(num_rows)
    cols = -1 if num_cols is None else int(num_cols)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if not ((rows == min_rows and cols >= min_cols) or (cols == min_cols and rows >= min_rows)):
        raise invalid_argument("MatrixDiagV3", f"num_rows={rows} and num_cols={cols} do not fit "
                               f"a diagonal of length {n} at k={k} (num_rows must be {min_rows} "
                               f"or num_cols {min_cols}, and neither less)")
    padding = tensor_pair(d, padding_value, "MatrixDiagV3")[1]
    eye_mask = Tensor(xp.eye(rows, cols, k=k, dtype=bool))
    return indexing_ops.where(eye_mask, _on_row(d, k, cols)[..., None, :], padding)


def _diagonal_length(rows, cols, k):
    return min(rows + min(k, 0), cols - max(k, 0))


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):  # noqa: A002
    """The k-th diagonal of each matrix: shape (..., its length).

    A single diagonal is implemented (`k` an int or a pair of equal ints), which fills its
    length exactly, so `padding_value` and `align` (for bands) have no effect here.

    >>> diag_part([[1., 2.], [3., 4.]]).numpy()
    array([1., 4.], dtype=float32)
    >>> diag_part([[1, 2, 3], [4, 5, 6]], k=1).numpy()
    array([2, 6], dtype=int32)
    """
    k = _one_diagonal(k, "MatrixDiagPartV3")
    x = tensor(input)
    if x._value.ndim < 2:
        raise invalid_argument("MatrixDiagPartV3", f"input must be at least 2-dim; received "
                               f"shape {_shape_text(x._value.shape)}")
    rows, cols = x._value.shape[-2:]
    _check_offset(k, rows, cols, "MatrixDiagPartV3")
    # Zero all but the diagonal, then sum along the longer axis: plain ops that export for
    # any batch size (an index with arrays would not), and a select keeps NaN elsewhere out.
    on_diagonal = indexing_ops.where(Tensor(xp.eye(rows, cols, k=k, dtype=bool)), x,
                                     math_ops.cast(0, x.dtype))
    if k == 0:
        return reduce_ops.reduce_sum(on_diagonal, [-1 if rows <= cols else -2])
    # Summing the rows leaves column c holding the entry at (c - k, c).
    length, start = _diagonal_length(rows, cols, k), max(k, 0)
    return reduce_ops.reduce_sum(on_diagonal, [-2])[..., start:start + length]


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):  # noqa: A002
    """`input` with its k-th diagonal replaced by `diagonal` (..., that diagonal's length).

    A single diagonal is implemented (`k` an int or a pair of equal ints); `align` only places
    the diagonals of a band, so it has no effect here.

    >>> set_diag([[1., 2.], [3., 4.]], [0., 0.]).numpy()
    array([[0., 2.],
           [3., 0.]], dtype=float32)
    >>> set_diag([[1, 2, 3], [4, 5, 6]], [0], k=2).numpy()
    array([[1, 2, 0],
           [4, 5, 6]], dtype=int32)
    """
    k = _one_diagonal(k, "MatrixSetDiagV3")
    x = tensor(input)
    d = tensor_pair(x, diagonal, "MatrixSetDiagV3")[1]
    shape = x._value.shape
    if len(shape) < 2:
        raise invalid_argument("MatrixSetDiagV3", f"input must be at least 2-dim; received "
                               f"shape {_shape_text(shape)}")
    rows, cols = shape[-2:]
    _check_offset(k, rows, cols, "MatrixSetDiagV3")
    expected = shape[:-2] + (_diagonal_length(rows, cols, k),)
    if d._value.shape != expected:
        raise invalid_argument("MatrixSetDiagV3", f"diagonal must have shape "
                               f"{_shape_text(expected)} for input of shape {_shape_text(shape)} "
                               f"and k={k}; received {_shape_text(d._value.shape)}")
    return indexing_ops.where(Tensor(xp.eye(rows, cols, k=k, dtype=bool)),
                              _on_row(d, k, cols)[..., None, :], x)


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002 - TF's name
    """Keeps entries within `num_lower` below and `num_upper` above the diagonal (-1: all),
    zeroing the rest. band_part(x, -1, 0) is the lower triangle.

    >>> band_part([[1., 2.], [3., 4.]], 0, -1).numpy()
    array([[1., 2.],
           [0., 4.]], dtype=float32)
    """
    x = tensor(input)
    if x._value.ndim < 2:
        raise invalid_argument("MatrixBandPart", f"input must be at least 2-dim; received "
                               f"shape {_shape_text(x._value.shape)}")
    lower, upper = int(num_lower), int(num_upper)
    keep = _mask(x._value.shape, bool, lower, upper)
    # A select, not a product with the mask: NaN/inf outside the band still become 0.
    return indexing_ops.where(Tensor(keep), x, math_ops.cast(0, x.dtype))


def trace(x, name=None):
    """The sum of each matrix's diagonal.

    >>> float(trace([[1., 2.], [3., 4.]]))
    5.0
    """
    return reduce_ops.reduce_sum(diag_part(x), [-1])


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swaps the last two axes.

    >>> matrix_transpose([[1., 2., 3.]]).shape
    TensorShape([3, 1])
    """
    x = tensor(a)
    if x._value.ndim < 2:
        raise ValueError(f"matrix_transpose: argument must be at least 2-dim; received shape "
                         f"{_shape_text(x._value.shape)}")
    return _mT(x)


def adjoint(matrix, name=None):
    """The conjugate transpose of the last two axes (the transpose: no complex dtypes)."""
    return matrix_transpose(matrix)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """`tf.linalg.matmul`: `tf.matmul` (see `numpyflow.ops.math_ops.matmul`).

    >>> matmul([[1., 2.]], [[3., 4.]], adjoint_b=True).numpy()
    array([[11.]], dtype=float32)
    >>> import numpyflow as tf
    >>> a = tf.constant([[100, 100]], tf.int8)
    >>> matmul(a, a, transpose_b=True, output_type=tf.int32).numpy()
    array([[20000]], dtype=int32)
    """
    return math_ops.matmul(a, b, transpose_a, transpose_b, adjoint_a, adjoint_b, a_is_sparse,
                           b_is_sparse, output_type)


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None):
    """Matrix-vector products: a (..., m, n) times b (..., n) gives (..., m).

    >>> matvec([[1., 2.], [3., 4.]], [1., 1.]).numpy()
    array([3., 7.], dtype=float32)
    """
    a, b = tensor_pair(a, b, "MatMul")
    product = math_ops.matmul(a, array_ops.expand_dims(b, -1),
                              transpose_a=bool(transpose_a or adjoint_a))
    return array_ops.squeeze(product, -1)


def cross(a, b, name=None):
    """The cross product of 3-vectors along the last axis.

    >>> cross([1., 0., 0.], [0., 1., 0.]).numpy()
    array([0., 0., 1.], dtype=float32)
    """
    a, b = tensor_pair(a, b, "Cross")
    if a._value.shape[-1:] != (3,) or b._value.shape[-1:] != (3,):
        raise invalid_argument("Cross", f"inputs must have 3 elements in their last dimension; "
                               f"received shapes {_shape_text(a._value.shape)} and "
                               f"{_shape_text(b._value.shape)}")
    a_parts = array_ops.unstack(a, axis=-1)
    b_parts = array_ops.unstack(b, axis=-1)

    def component(i, j):
        return math_ops.subtract(math_ops.multiply(a_parts[i], b_parts[j]),
                                 math_ops.multiply(a_parts[j], b_parts[i]))

    return array_ops.stack([component(1, 2), component(2, 0), component(0, 1)], axis=-1)


def normalize(tensor, ord="euclidean", axis=None, name=None):  # noqa: A002,F811 - TF's names
    """`(tensor / norm, norm)`, the norm kept with size-1 reduced axes.

    >>> normalized, norm_value = normalize([3., 4.])
    >>> normalized.numpy(), norm_value.numpy()
    (array([0.6, 0.8], dtype=float32), array([5.], dtype=float32))
    """
    x = _as_tensor(tensor)
    norm_value = clip_ops.norm(x, ord=ord, axis=axis, keepdims=True)
    return math_ops.divide(x, norm_value), norm_value

