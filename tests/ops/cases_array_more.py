"""Op cases for transpose, concat/split, tile, pad, gather, clip_by_value, one_hot, cumsum."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, distinct, rand

x = rand(2, 3, 4)
m = rand(3, 4)
rows = np.array([2, 0, 2, 2], dtype=np.int32)          # repeated: gradients accumulate
grid = np.array([[1, 0], [1, 1], [0, 0]], dtype=np.int64)
labels = np.array([[0, 3], [5, -1]], dtype=np.int32)  # 5 and -1 are out of range for depth 4


def _nested_grad(op, base, dy):
    """The gradient of `op(base)` for upstream `dy`, computed on a tape of its own, so
    that an outer check can differentiate the gradient op itself (a second derivative)."""
    base = tf.constant(base)
    with tf.GradientTape() as tape:
        tape.watch(base)
        y = op(base)
    return tape.gradient(y, base, output_gradients=dy)


def _np_gather_grad(params_shape, index, dy, axis=0):
    out = np.zeros(params_shape)
    np.add.at(np.moveaxis(out, axis, 0), index, np.moveaxis(dy, axis, 0))
    return out


def _np_cumsum(t, axis, exclusive=False, reverse=False):
    if reverse:
        t = np.flip(t, axis)
    out = np.cumsum(t, axis=axis, dtype=t.dtype)
    if exclusive:
        out = np.moveaxis(out, axis, 0)
        out = np.moveaxis(np.concatenate([np.zeros_like(out[:1]), out[:-1]]), 0, axis)
    return np.flip(out, axis) if reverse else out


def _mirror_fold(dy, mode):
    """NumPy reference for MirrorPadGrad: sums each padded position onto its source."""
    return _nested_grad(lambda t: tf.pad(t, [[2, 1]], mode=mode), np.zeros(4), dy)


def _np_one_hot(indices, depth, dtype=np.float32):
    return (indices[..., None] == np.arange(depth)).astype(dtype)


CASES = [
    # transpose
    case("Transpose", tf.transpose, np.transpose, x, id="transpose_default_reverses"),
    case("Transpose", lambda t: tf.transpose(t, perm=[1, 2, 0]),
         lambda t: t.transpose(1, 2, 0), x, id="transpose_perm"),
    case("Transpose", lambda t: tf.transpose(t, tf.constant([0, 2, 1])),
         lambda t: t.transpose(0, 2, 1), x, id="transpose_perm_tensor"),
    # expand_dims / squeeze reuse Reshape
    case("Reshape", lambda t: tf.expand_dims(t, -1), lambda t: t[..., None], x,
         id="expand_dims_negative_axis"),
    case("Reshape", lambda t: tf.expand_dims(t, 1), lambda t: t[:, None], m, id="expand_dims"),
    case("Reshape", tf.squeeze, np.squeeze, rand(1, 3, 1), id="squeeze_all"),
    case("Reshape", lambda t: tf.squeeze(t, axis=[-1]), lambda t: t[..., 0], rand(1, 3, 1),
         id="squeeze_negative_axis"),
    # concat / stack / unstack / split
    case("ConcatV2", lambda a, b, c: tf.concat([a, b, c], axis=1),
         lambda a, b, c: np.concatenate([a, b, c], 1), rand(2, 1, 4), x, rand(2, 2, 4)),
    case("ConcatV2", lambda a, b: tf.concat([a, b], axis=-1),
         lambda a, b: np.concatenate([a, b], -1), m, rand(3, 2), id="concat_negative_axis"),
    case("ConcatV2", lambda a: tf.concat([a, [[1.5, 2.5, 3.5, 4.5]]], 0),
         lambda a: np.concatenate([a, [[1.5, 2.5, 3.5, 4.5]]]), m, id="concat_python_value"),
    case("Pack", lambda a, b: tf.stack([a, b]), lambda a, b: np.stack([a, b]), m, rand(3, 4)),
    case("Pack", lambda a, b: tf.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], -1),
         m, rand(3, 4), id="stack_negative_axis"),
    case("StridedSlice", lambda t: tf.unstack(t, axis=-1)[2], lambda t: t[..., 2], x,
         id="unstack_piece"),
    case("StridedSlice", lambda t: tf.stack(tf.unstack(t, axis=1)[::-1], axis=1),
         lambda t: t[:, ::-1], x, id="unstack_every_piece_has_gradient"),
    case("StridedSlice", lambda t: tf.concat(tf.split(t, 2, axis=-1)[::-1], -1),
         lambda t: np.concatenate(np.split(t, 2, -1)[::-1], -1), x, id="split_num"),
    case("StridedSlice", lambda t: tf.concat(tf.split(t, [1, -1, 1], axis=1)[::-1], 1),
         lambda t: np.concatenate(np.split(t, [1, 2], 1)[::-1], 1), x, id="split_sizes_with_rest"),
    case("StridedSlice", lambda t: tf.split(t, tf.constant([3, 0, 1]), axis=2)[0] * 2.,
         lambda t: t[..., :3] * 2., x, id="split_sizes_tensor"),
    # tile
    case("Tile", lambda t: tf.tile(t, [2, 1, 3]), lambda t: np.tile(t, (2, 1, 3)), x),
    case("Tile", lambda t: tf.tile(t, tf.constant([1, 3])), lambda t: np.tile(t, (1, 3)), m,
         id="tile_multiples_tensor"),
    case("Tile", lambda t: tf.tile(t, [0, 2]), lambda t: np.tile(t, (0, 2)), m, id="tile_zero"),
    # pad
    case("Pad", lambda t: tf.pad(t, [[1, 0], [0, 2], [1, 1]]),
         lambda t: np.pad(t, [(1, 0), (0, 2), (1, 1)]), x),
    case("PadV2", lambda t: tf.pad(t, [[1, 2], [0, 1]], constant_values=-1.5),
         lambda t: np.pad(t, [(1, 2), (0, 1)], constant_values=-1.5), m),
    case("MirrorPad", lambda t: tf.pad(t, [[2, 1], [3, 3]], mode="REFLECT"),
         lambda t: np.pad(t, [(2, 1), (3, 3)], mode="reflect"), m, id="pad_reflect"),
    case("MirrorPad", lambda t: tf.pad(t, [[3, 0], [1, 4]], mode="symmetric"),
         lambda t: np.pad(t, [(3, 0), (1, 4)], mode="symmetric"), m, id="pad_symmetric"),
    case("MirrorPadGrad", lambda dy: _mirror_fold(dy, "REFLECT"),
         lambda dy: np.array([dy[2], dy[1] + dy[3], dy[0] + dy[4] + dy[6], dy[5]]),
         rand(7), id="mirror_pad_grad_is_differentiable"),
    # gather / gather_nd and their scatter-add gradients
    case("GatherV2", lambda p, i: tf.gather(p, i), lambda p, i: p[i], m, rows,
         id="gather_repeated_indices"),
    case("GatherV2", lambda p: tf.gather(p, grid, axis=1), lambda p: np.take(p, grid, 1), x,
         id="gather_axis1_2d_indices"),
    case("GatherV2", lambda p: tf.gather(p, [3, 3, 0], axis=-1), lambda p: p[..., [3, 3, 0]], x,
         id="gather_negative_axis"),
    case("GatherNd", lambda p: tf.gather(p, [[2, 2], [0, 1]], batch_dims=1),
         lambda p: np.stack([p[0][[2, 2]], p[1][[0, 1]]]), x, id="gather_batch_dims"),
    case("GatherNd", lambda p: tf.gather(p, [[1, 1, 0], [3, 0, 0]], axis=2, batch_dims=1),
         lambda p: np.stack([p[0][:, [1, 1, 0]], p[1][:, [3, 0, 0]]]), x,
         id="gather_batch_dims_axis_after_batch"),
    case("UnsortedSegmentSum",
         lambda dy: _nested_grad(lambda t: tf.gather(t, rows), np.zeros((3, 4)), dy),
         lambda dy: _np_gather_grad((3, 4), rows, dy), rand(4, 4),
         id="gather_grad_is_differentiable"),
    case("GatherNd", lambda p: tf.gather_nd(p, [[1, 2], [0, 0], [1, 2]]),
         lambda p: p[[1, 0, 1], [2, 0, 2]], x, id="gather_nd_repeated_indices"),
    case("GatherNd", lambda p: tf.gather_nd(p, grid), lambda p: p[grid[:, 0], grid[:, 1]], m,
         id="gather_nd_elements"),
    case("GatherNd", lambda p: tf.gather_nd(p, [[[1]], [[0]]]), lambda p: p[[[1], [0]]], x,
         id="gather_nd_slices"),
    case("GatherNd", lambda p: tf.gather_nd(p, [[[2], [0]], [[1], [1]]], batch_dims=1),
         lambda p: np.stack([p[0][[2, 0]], p[1][[1, 1]]]), x, id="gather_nd_batch_dims"),
    case("ScatterNd",
         lambda dy: _nested_grad(lambda t: tf.gather_nd(t, grid), np.zeros((3, 4)), dy),
         lambda dy: _np_gather_grad((3, 4), (grid[:, 0], grid[:, 1]), dy), rand(3),
         id="gather_nd_grad_is_differentiable"),
    # clip_by_value (inputs avoid ties with the bounds: the gradient has a kink there)
    case("ClipByValue", lambda t: tf.clip_by_value(t, -0.25, 0.75),
         lambda t: np.clip(t, -0.25, 0.75), distinct(3, 4) * 0.3),
    case("ClipByValue", tf.clip_by_value, np.clip, distinct(3, 4) * 0.3,
         np.array([-0.25, -0.35, 0.05, -1.]), np.array([[0.15], [0.45], [0.65]]),
         id="clip_tensor_bounds_broadcast"),
    case("ClipByValue", lambda t: tf.clip_by_value(t, 0, 5), lambda t: np.clip(t, 0, 5),
         np.array([-3, 2, 9], dtype=np.int32), id="clip_ints"),
    # one_hot (no gradient, as TF)
    case("OneHot", lambda i: tf.one_hot(i, 4), lambda i: _np_one_hot(i, 4), labels),
    case("OneHot", lambda i: tf.one_hot(i, 4, axis=0, on_value=5, off_value=-1),
         lambda i: np.moveaxis(np.where(_np_one_hot(i, 4) > 0, 5, -1).astype(np.int32), -1, 0),
         labels, id="one_hot_axis0_int_values"),
    case("OneHot", lambda on: tf.one_hot(labels, 4, on_value=on, axis=1),
         lambda on: np.moveaxis(_np_one_hot(labels, 4, np.float64) * on, -1, 1), np.array(2.5),
         grad=False, id="one_hot_no_gradient"),
    # cumsum
    case("Cumsum", lambda t: tf.cumsum(t, axis=1), lambda t: np.cumsum(t, 1), x),
    case("Cumsum", lambda t: tf.cumsum(t, axis=-1, exclusive=True),
         lambda t: _np_cumsum(t, 2, exclusive=True), x, id="cumsum_exclusive_negative_axis"),
    case("Cumsum", lambda t: tf.cumsum(t, reverse=True), lambda t: _np_cumsum(t, 0, reverse=True),
         x, id="cumsum_reverse"),
    case("Cumsum", lambda t: tf.math.cumsum(t, 1, exclusive=True, reverse=True),
         lambda t: _np_cumsum(t, 1, exclusive=True, reverse=True), m,
         id="cumsum_exclusive_reverse"),
    case("Cumsum", lambda t: tf.cumsum(t), lambda t: np.cumsum(t, dtype=np.int32),
         np.array([3, -1, 4], dtype=np.int32), id="cumsum_int32_stays_int32"),
]

