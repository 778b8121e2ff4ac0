"""Op cases for the session-7 array API: scatter ops, unravel_index, the tf.linalg
primitives, and the composed array ops (reverse, roll, repeat, slices, boolean_mask, ...)."""

import numpy as np

from numpyflow.ops import clip_ops, indexing_ops, linalg_ops, manipulation_ops
from tests.ops.opcheck import case, distinct, rand

x = rand(2, 3, 4)
tall = rand(2, 4, 3)
square = rand(2, 3, 3)
rows = np.array([[2], [0], [2]], dtype=np.int32)  # a repeated index vector
spots = np.array([[1, 0], [0, 3]], dtype=np.int64)
mask = np.array([[True, False, True], [False, False, True]])


def _t(m):
    """Transposes the last two axes of an array or Tensor."""
    return np.swapaxes(m, -1, -2) if isinstance(m, np.ndarray) else linalg_ops._mT(m)


def _spd(m):
    """A symmetric positive-definite matrix made from any square one (differentiably)."""
    return m @ _t(m) + 3. * np.eye(m.shape[-1])


def _np_scatter_update(t, indices, updates):
    out = t.copy()
    out[tuple(indices.T)] = updates
    return out


def _np_scatter_extreme(t, indices, updates, ufunc):
    out = t.copy()
    ufunc.at(out, tuple(indices.T), updates)
    return out


def _np_reverse_sequence(t, lengths):
    out = t.copy()
    for b, n in enumerate(lengths):
        out[b, :n] = t[b, :n][::-1]
    return out


def _squares(*tensors):
    """Sign-invariant outputs of a decomposition (eigen/singular vectors are defined up to
    sign), flattened and joined, so that one case checks all of them."""
    import numpyflow as tf
    parts = [tf.reshape(t * t, (t.shape[0], -1)) for t in tensors]
    return tf.concat(parts, axis=-1)


def _np_squares(*arrays):
    return np.concatenate([(a * a).reshape(a.shape[0], -1) for a in arrays], axis=-1)


def _np_svd(m):
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    return s, u, _t(vt)


CASES = [
    # scatter
    case("ScatterNd", lambda u: indexing_ops.scatter_nd(rows, u, [3, 4]),
         lambda u: _np_scatter_extreme(np.zeros((3, 4)), rows, u, np.add), rand(3, 4),
         id="scatter_nd_rows_repeated"),
    case("TensorScatterUpdate", lambda t, u: indexing_ops.tensor_scatter_nd_update(t, spots, u),
         lambda t, u: _np_scatter_update(t, spots, u), rand(2, 4), rand(2),
         id="tensor_scatter_nd_update"),
    case("TensorScatterUpdate", lambda t, u: indexing_ops.tensor_scatter_nd_update(t, [[1]], u),
         lambda t, u: _np_scatter_update(t, np.array([[1]]), u), rand(3, 2), rand(1, 2),
         id="tensor_scatter_nd_update_rows"),
    case("TensorScatterMax", lambda t, u: indexing_ops.tensor_scatter_nd_max(t, spots, u),
         lambda t, u: _np_scatter_extreme(t, spots, u, np.maximum), distinct(2, 4),
         distinct(2) + 0.1, id="tensor_scatter_nd_max"),
    case("TensorScatterMin", lambda t, u: indexing_ops.tensor_scatter_nd_min(t, rows, u),
         lambda t, u: _np_scatter_extreme(t, rows, u, np.minimum), distinct(3, 2),
         distinct(3, 2) + 0.1, id="tensor_scatter_nd_min_repeated"),
    case("ScatterNd", lambda t, u: indexing_ops.tensor_scatter_nd_add(t, rows, u),
         lambda t, u: _np_scatter_extreme(t, rows, u, np.add), rand(3, 4), rand(3, 4),
         id="tensor_scatter_nd_add"),
    case("ScatterNd", lambda t, u: indexing_ops.tensor_scatter_nd_sub(t, spots, u),
         lambda t, u: _np_scatter_extreme(t, spots, -u, np.add), rand(2, 4), rand(2),
         id="tensor_scatter_nd_sub"),
    case("UnravelIndex", manipulation_ops.unravel_index,
         lambda i, d: np.stack(np.unravel_index(i, tuple(d))).astype(np.int32),
         np.array([0, 5, 11], np.int32), np.array([3, 4], np.int32), id="unravel_index"),
    # composed array ops
    case("StridedSlice", lambda t: manipulation_ops.reverse(t, [0, -1]),
         lambda t: t[::-1, :, ::-1], x, id="reverse"),
    case("ConcatV2", lambda t: manipulation_ops.roll(t, [1, -1, 3], [2, 1, 2]),
         lambda t: np.roll(t, [1, -1, 3], [2, 1, 2]), x, id="roll"),
    case("GatherV2", lambda t: manipulation_ops.repeat(t, [2, 0, 1], axis=1),
         lambda t: np.repeat(t, [2, 0, 1], axis=1), x, id="repeat"),
    case("BroadcastTo", lambda t: manipulation_ops.repeat(t, 3, axis=-1),
         lambda t: np.repeat(t, 3, axis=-1), x, id="repeat_scalar"),
    case("BroadcastTo", lambda t: manipulation_ops.repeat(t, [2]),
         lambda t: np.repeat(t, 2), x, id="repeat_flat_one_count"),
    case("StridedSlice", lambda t: manipulation_ops.slice(t, [1, 0, 1], [1, -1, 2]),
         lambda t: t[1:2, :, 1:3], x, id="slice"),
    case("StridedSlice", lambda t: manipulation_ops.strided_slice(
        t, [0, 2, 0], [2, 0, 4], [1, -1, 2], end_mask=1, shrink_axis_mask=4),
         lambda t: t[:, 2:0:-1, 0], x, id="strided_slice_masks"),
    case("GatherV2", lambda t: manipulation_ops.boolean_mask(t, mask),
         lambda t: t[mask], x, id="boolean_mask"),
    case("GatherV2", lambda t: manipulation_ops.boolean_mask(t, mask[0], axis=1),
         lambda t: t[:, mask[0]], x, id="boolean_mask_axis"),
    case("GatherNd", lambda t: manipulation_ops.reverse_sequence(t, [3, 1], seq_axis=1),
         lambda t: _np_reverse_sequence(t, [3, 1]), x, id="reverse_sequence"),
    case("MatMul", lambda a, b: manipulation_ops.tensordot(a, b, [[1, 2], [0, 2]]),
         lambda a, b: np.tensordot(a, b, [[1, 2], [0, 2]]), x, rand(3, 5, 4), id="tensordot"),
    case("Transpose", lambda t: manipulation_ops.space_to_depth(t, 2),
         lambda t: t.reshape(2, 2, 2, 2, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 2, 12),
         rand(2, 4, 4, 3), id="space_to_depth"),
    case("Transpose", lambda t: manipulation_ops.batch_to_space(
        manipulation_ops.space_to_batch_nd(t, [2, 1], [[1, 1], [0, 0]]), [2, 1], [[1, 1], [0, 0]]),
         lambda t: t, rand(2, 4, 3, 1), id="space_to_batch_round_trip"),
    # norms and clipping
    case("Sqrt", lambda t: clip_ops.norm(t, axis=[-2, -1]), lambda t: np.linalg.norm(t, axis=(1, 2)),
         x, id="norm_fro"),
    case("Max", lambda t: clip_ops.norm(t, ord=np.inf, axis=1),
         lambda t: np.linalg.norm(t, ord=np.inf, axis=1), distinct(2, 3, 4), id="norm_inf"),
    case("Pow", lambda t: clip_ops.norm(t, ord=3, axis=2, keepdims=True),
         lambda t: np.linalg.norm(t, ord=3, axis=2, keepdims=True), x, id="norm_p"),
    case("Svd", lambda t: clip_ops.norm(t, ord=2, axis=[0, 2]),
         lambda t: np.linalg.norm(t.transpose(1, 0, 2), ord=2, axis=(1, 2)), x, id="norm_2_matrix"),
    case("Maximum", lambda t: clip_ops.clip_by_norm(t, 1.5, axes=[2]),
         lambda t: t * 1.5 / np.maximum(np.linalg.norm(t, axis=2, keepdims=True), 1.5), x,
         id="clip_by_norm"),
    case("Mul", lambda a, b: clip_ops.clip_by_global_norm([a, b], 2.)[0][1],
         lambda a, b: b * 2. / max(np.sqrt((a * a).sum() + (b * b).sum()), 2.),
         rand(3), rand(2, 2), id="clip_by_global_norm"),
    # linalg primitives
    case("MatrixInverse", linalg_ops.inv, np.linalg.inv, square, id="inv"),
    case("MatrixInverse", lambda m: linalg_ops.inv(m, adjoint=True),
         lambda m: np.linalg.inv(_t(m)), square, id="inv_adjoint"),
    case("MatrixDeterminant", linalg_ops.det, np.linalg.det, square, id="det"),
    case("LogMatrixDeterminant", lambda m: linalg_ops.slogdet(m)[1],
         lambda m: np.linalg.slogdet(m)[1], square, id="slogdet"),
    case("LogMatrixDeterminant", lambda m: linalg_ops.slogdet(m)[0],
         lambda m: np.linalg.slogdet(m)[0], square, id="slogdet_sign"),
    case("Cholesky", lambda m: linalg_ops.cholesky(_spd(m)),
         lambda m: np.linalg.cholesky(_spd(m)), square, id="cholesky"),
    case("Cholesky", lambda m: linalg_ops.logdet(_spd(m)),
         lambda m: np.linalg.slogdet(_spd(m))[1], square, id="logdet"),
    case("MatrixSolve", linalg_ops.solve, np.linalg.solve, square, rand(2, 3, 2), id="solve"),
    case("MatrixSolve", lambda a, b: linalg_ops.solve(a, b, adjoint=True),
         lambda a, b: np.linalg.solve(_t(a), b), square, rand(2, 3, 2), id="solve_adjoint"),
    case("MatrixTriangularSolve", lambda a, b: linalg_ops.triangular_solve(a + 4., b),
         lambda a, b: np.linalg.solve(np.tril(a + 4.), b), square, rand(2, 3, 2),
         id="triangular_solve_lower"),
    case("MatrixTriangularSolve",
         lambda a, b: linalg_ops.triangular_solve(a + 4., b, lower=False, adjoint=True),
         lambda a, b: np.linalg.solve(_t(np.triu(a + 4.)), b), square, rand(2, 3, 2),
         id="triangular_solve_upper_adjoint"),
    case("MatrixTriangularSolve", lambda m, b: linalg_ops.cholesky_solve(
        linalg_ops.cholesky(_spd(m)), b), lambda m, b: np.linalg.solve(_spd(m), b),
         square, rand(2, 3, 1), id="cholesky_solve"),
    case("Cholesky", lambda a, b: linalg_ops.lstsq(a, b),
         lambda a, b: np.stack([np.linalg.lstsq(a[i], b[i], rcond=None)[0] for i in range(2)]),
         tall, rand(2, 4, 2), id="lstsq_tall"),
    case("Svd", lambda a, b: linalg_ops.lstsq(_t(a), b, fast=False),
         lambda a, b: np.stack([np.linalg.lstsq(_t(a)[i], b[i], rcond=None)[0] for i in range(2)]),
         tall, rand(2, 3, 2), id="lstsq_wide_robust"),
    case("Qr", lambda m: linalg_ops.qr(m)[0], lambda m: np.linalg.qr(m)[0], tall, id="qr_q"),
    case("Qr", lambda m: linalg_ops.qr(m)[1], lambda m: np.linalg.qr(m)[1], tall, id="qr_r"),
    case("Qr", lambda m: linalg_ops.qr(_t(m))[0], lambda m: np.linalg.qr(_t(m))[0], tall,
         id="qr_q_wide"),
    case("Qr", lambda m: linalg_ops.qr(_t(m), full_matrices=True)[1],
         lambda m: np.linalg.qr(_t(m))[1], tall, id="qr_r_wide"),
    case("Qr", lambda m: linalg_ops.matmul(*linalg_ops.qr(m)), lambda m: m, square,
         id="qr_square_product"),
    case("Svd", lambda m: linalg_ops.svd(m, compute_uv=False),
         lambda m: np.linalg.svd(m, compute_uv=False), tall, id="svd_values"),
    case("Svd", lambda m: _squares(*linalg_ops.svd(m)), lambda m: _np_squares(*_np_svd(m)),
         tall, id="svd_tall"),
    case("Svd", lambda m: _squares(*linalg_ops.svd(_t(m))),
         lambda m: _np_squares(*_np_svd(_t(m))), tall, id="svd_wide"),
    case("Svd", linalg_ops.pinv, np.linalg.pinv, tall, id="pinv"),
    case("SelfAdjointEigV2", lambda m: linalg_ops.eigvalsh(m + _t(m)),
         lambda m: np.linalg.eigvalsh(m + _t(m)), square, id="eigvalsh"),
    case("SelfAdjointEigV2", lambda m: _squares(*linalg_ops.eigh(m)),
         lambda m: _np_squares(*np.linalg.eigh(m)), square, id="eigh_lower_triangle"),
    # linalg, composed
    case("SelectV2", linalg_ops.trace, lambda m: np.trace(m, axis1=1, axis2=2), x,
         id="trace"),
    case("SelectV2", lambda m: linalg_ops.band_part(m, 1, 0),
         lambda m: m * (np.tril(np.ones((3, 4))) - np.tril(np.ones((3, 4)), -2)), x,
         id="band_part"),
    case("SelectV2", lambda m, d: linalg_ops.set_diag(m, d),
         lambda m, d: np.where(np.eye(3, 4, dtype=bool), np.pad(d, [(0, 0), (0, 1)])[:, None], m),
         x, rand(2, 3), id="set_diag_wide"),
    case("Sum", linalg_ops.diag_part, lambda m: np.diagonal(m, axis1=-2, axis2=-1), tall,
         id="diag_part_tall"),
    case("SelectV2", linalg_ops.diag, lambda d: d[..., None] * np.eye(3), rand(2, 3), id="diag"),
    case("Sum", lambda m: linalg_ops.diag_part(m, k=1),
         lambda m: np.diagonal(m, offset=1, axis1=-2, axis2=-1), x, id="diag_part_above"),
    case("Sum", lambda m: linalg_ops.diag_part(m, k=-2),
         lambda m: np.diagonal(m, offset=-2, axis1=-2, axis2=-1), tall, id="diag_part_below"),
    case("SelectV2", lambda d: linalg_ops.diag(d, k=-1),
         lambda d: np.stack([np.diag(v, k=-1) for v in d]), rand(2, 3), id="diag_below"),
    case("SelectV2", lambda m, d: linalg_ops.set_diag(m, d, k=1),
         lambda m, d: np.where(np.eye(3, 4, k=1, dtype=bool), np.pad(d, [(0, 0), (1, 0)])[:, None],
                               m), x, rand(2, 3), id="set_diag_above"),
    case("Pack", linalg_ops.cross, np.cross, rand(4, 3), rand(4, 3), id="cross"),
    case("MatMul", linalg_ops.matvec, lambda a, b: np.einsum("bij,bj->bi", a, b), x, rand(2, 4),
         id="matvec"),
]
