"""Op cases for numpyflow.ops.conv_ops, against direct-loop NumPy references.

The references below loop over output positions, each window's sum written out directly;
test_nn_more.py reuses them for LeNet-sized float32 checks.
"""

import numpy as np

import numpyflow as tf
from tests.ops.cases_activation import grad_at
from tests.ops.opcheck import case, distinct, rand

# -- references ---------------------------------------------------------------------------


def same_pads(size, kernel, stride, dilation=1):
    """TF's SAME padding (before, after) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pads_for(padding, x_shape, kernel_hw, strides, dilations=(1, 1)):
    if padding == "VALID":
        return (0, 0), (0, 0)
    if padding == "SAME":
        return tuple(same_pads(x_shape[1 + a], kernel_hw[a], strides[a], dilations[a])
                     for a in range(2))
    return tuple(tuple(p) for p in padding[1:3])


def run_conv_kernels(x_shape, f_shape, strides, dilations, padding, dtype):
    """The backend conv kernels on seeded random data: (what the forward saved, [y, dx,
    the filter gradient from the saved columns, the filter gradient recomputed]), for
    tests comparing the kernels' modes (threads, chunks, blocks) with each other."""
    from numpyflow.backend.numpy import conv
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    f = rng.standard_normal(f_shape).astype(dtype)
    pads = pads_for(padding, x_shape, f_shape[:2], strides, dilations)
    groups = x_shape[3] // f_shape[2]
    y, saved = conv.conv2d(x, f, strides, dilations, pads, groups)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = conv.conv2d_backprop_input(f, dy, x_shape, strides, dilations, pads, groups)
    df_saved = conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads, groups,
                                           columns=saved)
    df = conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads, groups)
    return saved, [y, dx, df_saved, df]


def _out_size(padded, kernel, stride, dilation):
    return (padded - (kernel - 1) * dilation - 1) // stride + 1


def _windows(padded_hw, kernel_hw, strides, dilations):
    """Yields (oh, ow, rows, cols): each output position and the (dilated) slices of the
    padded input its window covers."""
    oh = _out_size(padded_hw[0], kernel_hw[0], strides[0], dilations[0])
    ow = _out_size(padded_hw[1], kernel_hw[1], strides[1], dilations[1])
    for r in range(oh):
        for s in range(ow):
            top, left = r * strides[0], s * strides[1]
            yield r, s, slice(top, top + (kernel_hw[0] - 1) * dilations[0] + 1, dilations[0]), \
                slice(left, left + (kernel_hw[1] - 1) * dilations[1] + 1, dilations[1])


def np_conv2d(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    pads = pads_for(padding, x.shape, w.shape[:2], strides, dilations)
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh = _out_size(xp.shape[1], w.shape[0], strides[0], dilations[0])
    ow = _out_size(xp.shape[2], w.shape[1], strides[1], dilations[1])
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]), dtype=np.result_type(x, w))
    for r, s, rows, cols in _windows(xp.shape[1:3], w.shape[:2], strides, dilations):
        out[:, r, s] = np.tensordot(xp[:, rows, cols], w, axes=3)
    return out


def np_conv2d_backprop_input(input_shape, w, dy, strides=(1, 1), padding="VALID",
                             dilations=(1, 1)):
    pads = pads_for(padding, input_shape, w.shape[:2], strides, dilations)
    n, h, wd, c = input_shape
    dxp = np.zeros((n, h + sum(pads[0]), wd + sum(pads[1]), c), dtype=dy.dtype)
    for r, s, rows, cols in _windows(dxp.shape[1:3], w.shape[:2], strides, dilations):
        dxp[:, rows, cols] += np.tensordot(dy[:, r, s], w, axes=([1], [3]))
    return dxp[:, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + wd]


def np_conv2d_backprop_filter(x, filter_shape, dy, strides=(1, 1), padding="VALID",
                              dilations=(1, 1)):
    pads = pads_for(padding, x.shape, filter_shape[:2], strides, dilations)
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    dw = np.zeros(filter_shape, dtype=dy.dtype)
    for r, s, rows, cols in _windows(xp.shape[1:3], filter_shape[:2], strides, dilations):
        dw += np.tensordot(xp[:, rows, cols], dy[:, r, s], axes=([0], [0]))
    return dw


def np_grouped_conv2d(x, w, groups, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    """Grouped convolution: group g convolves its run of input channels with its run of
    filters, each an ordinary `np_conv2d`."""
    c_in, c_out = x.shape[3] // groups, w.shape[3] // groups
    return np.concatenate([
        np_conv2d(x[..., g * c_in:(g + 1) * c_in], w[..., g * c_out:(g + 1) * c_out],
                  strides, padding, dilations) for g in range(groups)], axis=-1)


def np_depthwise_conv2d(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    """Channel c convolved with w[:, :, c, m] gives output channel c * multiplier + m."""
    per_channel = [np_conv2d(x[..., c:c + 1], w[:, :, c:c + 1], strides, padding, dilations)
                   for c in range(x.shape[3])]
    return np.concatenate(per_channel, axis=-1)


def np_conv1d(x, w, stride=1, padding="VALID", dilation=1):
    return np_conv2d(x[:, None], w[None], (1, stride), padding, (1, dilation))[:, 0]


def _pool_windows(x, ksize, strides, padding):
    """Yields (oh, ow, rows, cols): each output cell and the real input cells it covers."""
    pads = pads_for(padding, x.shape, ksize, strides)
    oh = _out_size(x.shape[1] + sum(pads[0]), ksize[0], strides[0], 1)
    ow = _out_size(x.shape[2] + sum(pads[1]), ksize[1], strides[1], 1)
    for r in range(oh):
        for s in range(ow):
            top, left = r * strides[0] - pads[0][0], s * strides[1] - pads[1][0]
            yield r, s, slice(max(top, 0), min(top + ksize[0], x.shape[1])), \
                slice(max(left, 0), min(left + ksize[1], x.shape[2]))


def np_pool(x, ksize, strides, padding, reduce):
    cells = list(_pool_windows(x, ksize, strides, padding))
    oh, ow = cells[-1][0] + 1, cells[-1][1] + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    for r, s, rows, cols in cells:
        out[:, r, s] = reduce(x[:, rows, cols], axis=(1, 2))
    return out


def np_max_pool_grad(x, dy, ksize, strides, padding):
    """Routes each window's gradient to its first maximum in row-major order (as TF)."""
    dx = np.zeros_like(x)
    for r, s, rows, cols in _pool_windows(x, ksize, strides, padding):
        window = x[:, rows, cols]
        flat = window.reshape(x.shape[0], -1, x.shape[3])
        first = flat.argmax(axis=1)                        # (n, c)
        ii, jj = np.unravel_index(first, window.shape[1:3])
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                dx[n, rows.start + ii[n, c], cols.start + jj[n, c], c] += dy[n, r, s, c]
    return dx


def np_max_pool_grad_grad(x, ddx, ksize, strides, padding):
    """Gathers `ddx` at each window's first maximum."""
    cells = list(_pool_windows(x, ksize, strides, padding))
    out = np.zeros((x.shape[0], cells[-1][0] + 1, cells[-1][1] + 1, x.shape[3]), x.dtype)
    for r, s, rows, cols in cells:
        window = x[:, rows, cols]
        first = window.reshape(x.shape[0], -1, x.shape[3]).argmax(axis=1)
        values = ddx[:, rows, cols].reshape(x.shape[0], -1, x.shape[3])
        out[:, r, s] = np.take_along_axis(values, first[:, None], axis=1)[:, 0]
    return out


def np_avg_pool_grad(input_shape, dy, ksize, strides, padding):
    dx = np.zeros(input_shape, dtype=dy.dtype)
    for r, s, rows, cols in _pool_windows(dx, ksize, strides, padding):
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, rows, cols] += dy[:, r, s][:, None, None] / count
    return dx


# -- nested-tape helpers for the backward primitives --------------------------------------

def filter_grad_of(filter_shape, strides, padding, dilations=1):
    """fn(x, dy) = d/dfilters sum(conv2d(x, filters) * dy) — runs Conv2DBackpropFilter."""
    def fn(x, dy):
        filters = tf.constant(np.zeros(filter_shape))  # dfilters does not depend on them
        with tf.GradientTape() as tape:
            tape.watch(filters)
            y = tf.nn.conv2d(x, filters, strides, padding, dilations=dilations)
        return tape.gradient(y, filters, output_gradients=dy)
    return fn


def input_grad_of(x_shape, strides, padding, dilations=1):
    """fn(filters, dy) = d/dx sum(conv2d(x, filters) * dy) — runs Conv2DBackpropInput (for
    grouped filters, which conv2d_transpose does not take)."""
    def fn(filters, dy):
        x = tf.constant(np.zeros(x_shape))  # dx does not depend on x
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, filters, strides, padding, dilations=dilations)
        return tape.gradient(y, x, output_gradients=dy)
    return fn


def max_pool_grad_grad_at(x, ksize, strides, padding):
    """fn(ddx) = d/ddy sum(MaxPoolGrad(x, dy) * ddx) — runs MaxPoolGradGrad."""
    pool = lambda t: tf.nn.max_pool2d(t, ksize, strides, padding)  # noqa: E731
    y_shape = pool(tf.constant(x)).shape

    def fn(ddx):
        x_t, dy = tf.constant(x), tf.constant(np.zeros(y_shape))
        with tf.GradientTape() as outer:
            outer.watch(dy)
            with tf.GradientTape() as inner:
                inner.watch(x_t)
                y = pool(x_t)
            dx = inner.gradient(y, x_t, output_gradients=dy)
        return outer.gradient(dx, dy, output_gradients=ddx)
    return fn


# -- cases --------------------------------------------------------------------------------

x_small, w_small = rand(2, 5, 5, 2), rand(3, 3, 2, 3)
x_wide, w_wide = rand(1, 6, 7, 3), rand(2, 3, 3, 4)
x_grouped, w_grouped = rand(2, 5, 6, 4), rand(3, 2, 2, 6)
x_depthwise, w_depthwise = rand(1, 6, 5, 3), rand(3, 3, 3, 2)
pool_x = distinct(2, 5, 6, 2)
pool_x_odd = distinct(1, 5, 5, 3)

CASES = [
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"), np_conv2d, x_small, w_small,
         id="conv2d_valid"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"),
         lambda x, w: np_conv2d(x, w, padding="SAME"), x_small, w_small, id="conv2d_same"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"),
         lambda x, w: np_conv2d(x, w, (2, 2), "SAME"), rand(1, 7, 6, 2), w_small,
         id="conv2d_stride2_same"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, [2], "VALID"),
         lambda x, w: np_conv2d(x, w, (2, 2)), rand(1, 6, 7, 2), rand(2, 2, 2, 3),
         id="conv2d_stride2_valid"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", dilations=2),
         lambda x, w: np_conv2d(x, w, padding="SAME", dilations=(2, 2)), rand(1, 7, 7, 1),
         rand(3, 3, 1, 2), id="conv2d_dilation2_same"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, (2, 1), "VALID", dilations=[1, 2]),
         lambda x, w: np_conv2d(x, w, (2, 1), dilations=(1, 2)), x_wide, w_wide,
         id="conv2d_multichannel_mixed_stride_dilation"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 2], [0, 1], [0, 0]]),
         lambda x, w: np_conv2d(x, w, padding=[[0, 0], [1, 2], [0, 1], [0, 0]]), rand(1, 4, 5, 2),
         rand(3, 2, 2, 2), id="conv2d_explicit_padding"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"),
         lambda x, w: np_conv2d(x, w, padding="SAME"), x_small.astype(np.float32),
         w_small.astype(np.float32), rtol=1e-5, atol=1e-5, id="conv2d_float32"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"),
         lambda x, w: np_conv2d(x.reshape(-1, 4, 4, 2), w).reshape(2, 1, 3, 3, 2),
         rand(2, 1, 4, 4, 2), rand(2, 2, 2, 2), id="conv2d_extra_batch_dims"),
    case("Conv2DBackpropInput",
         lambda dy, w: tf.nn.conv2d_transpose(dy, w, [2, 5, 5, 2], 1, "SAME"),
         lambda dy, w: np_conv2d_backprop_input((2, 5, 5, 2), w, dy, padding="SAME"),
         rand(2, 5, 5, 3), w_small, id="conv2d_transpose_same"),
    case("Conv2DBackpropInput",
         lambda dy, w: tf.nn.conv2d_transpose(dy, w, [1, 6, 7, 3], (2, 1), "VALID",
                                              dilations=(1, 2)),
         lambda dy, w: np_conv2d_backprop_input((1, 6, 7, 3), w, dy, (2, 1),
                                                dilations=(1, 2)),
         rand(1, 3, 3, 4), w_wide, id="conv2d_transpose_strided_dilated"),
    case("Conv2DBackpropFilter", filter_grad_of((3, 3, 2, 3), 1, "SAME"),
         lambda x, dy: np_conv2d_backprop_filter(x, (3, 3, 2, 3), dy, padding="SAME"),
         x_small, rand(2, 5, 5, 3), id="conv2d_filter_grad_same"),
    case("Conv2DBackpropFilter", filter_grad_of((2, 3, 3, 4), (2, 1), "VALID", (1, 2)),
         lambda x, dy: np_conv2d_backprop_filter(x, (2, 3, 3, 4), dy, (2, 1),
                                                 dilations=(1, 2)),
         x_wide, rand(1, 3, 3, 4), id="conv2d_filter_grad_strided_dilated"),

    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"),
         lambda x, w: np_grouped_conv2d(x, w, 2, padding="SAME"), x_grouped, w_grouped,
         id="conv2d_grouped_same"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, (2, 1), "VALID", dilations=(1, 2)),
         lambda x, w: np_grouped_conv2d(x, w, 2, (2, 1), dilations=(1, 2)), rand(1, 6, 7, 4),
         rand(2, 2, 2, 4), id="conv2d_grouped_strided_dilated"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"),
         lambda x, w: np_grouped_conv2d(x, w, 4), rand(1, 4, 4, 4), rand(2, 2, 1, 4),
         id="conv2d_grouped_one_channel_per_group"),
    case("Conv2DBackpropInput", input_grad_of((2, 5, 6, 4), 1, "SAME"),
         lambda w, dy: np.concatenate([np_conv2d_backprop_input(
             (2, 5, 6, 2), w[..., 3 * g:3 * g + 3], dy[..., 3 * g:3 * g + 3], padding="SAME")
             for g in range(2)], axis=-1), w_grouped, rand(2, 5, 6, 6),
         id="conv2d_input_grad_grouped"),
    case("Conv2DBackpropFilter", filter_grad_of((3, 2, 2, 6), (2, 1), "VALID"),
         lambda x, dy: np.concatenate([np_conv2d_backprop_filter(
             x[..., 2 * g:2 * g + 2], (3, 2, 2, 3), dy[..., 3 * g:3 * g + 3], (2, 1))
             for g in range(2)], axis=-1), x_grouped, rand(2, 2, 5, 6),
         id="conv2d_filter_grad_grouped"),
    case("Conv2D", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME"),
         lambda x, w: np_depthwise_conv2d(x, w, padding="SAME"), x_depthwise, w_depthwise,
         id="depthwise_conv2d_same"),
    case("Conv2D", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "VALID"),
         lambda x, w: np_depthwise_conv2d(x, w, (2, 2)), x_depthwise, w_depthwise,
         id="depthwise_conv2d_stride2"),
    case("Conv2D", lambda x, w: tf.nn.depthwise_conv2d(x, w, 1, "VALID", dilations=[2, 1]),
         lambda x, w: np_depthwise_conv2d(x, w, dilations=(2, 1)), x_depthwise,
         rand(2, 3, 3, 1), id="depthwise_conv2d_dilated"),
    case("Conv2D", lambda x, d, p: tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "SAME"),
         lambda x, d, p: np_conv2d(np_depthwise_conv2d(x, d, padding="SAME"), p), x_depthwise,
         w_depthwise, rand(1, 1, 6, 4), id="separable_conv2d"),
    case("Conv2D", lambda x, w: tf.nn.conv1d(x, w, 1, "SAME"),
         lambda x, w: np_conv1d(x, w, padding="SAME"), rand(2, 7, 3), rand(3, 3, 2),
         id="conv1d_same"),
    case("Conv2D", lambda x, w: tf.nn.conv1d(x, w, [1, 2, 1], "VALID", dilations=1),
         lambda x, w: np_conv1d(x, w, 2), rand(2, 8, 2), rand(2, 2, 3), id="conv1d_stride2"),
    case("Conv2D", lambda x, w: tf.nn.conv1d(x, w, 1, "VALID", dilations=2),
         lambda x, w: np_grouped_conv2d(x[:, None], w[None], 2, dilations=(1, 2))[:, 0],
         rand(1, 8, 4), rand(3, 2, 4), id="conv1d_grouped_dilated"),
    case("Conv2DBackpropInput",
         lambda dy, w: tf.nn.conv1d_transpose(dy, w, [2, 9, 2], 2, "SAME"),
         lambda dy, w: np_conv2d_backprop_input((2, 1, 9, 2), w[None], dy[:, None], (1, 2),
                                                "SAME")[:, 0], rand(2, 5, 3), rand(3, 2, 3),
         id="conv1d_transpose_strided_same"),

    case("MaxPool", lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"),
         lambda x: np_pool(x, (2, 2), (2, 2), "VALID", np.max), pool_x, id="max_pool_2x2"),
    case("MaxPool", lambda x: tf.nn.max_pool1d(x, 3, 2, "SAME"),
         lambda x: np_pool(x[:, None], (1, 3), (1, 2), "SAME", np.max)[:, 0], pool_x[:, 0],
         id="max_pool1d_same"),
    case("AvgPool", lambda x: tf.nn.avg_pool1d(x, [2], [1, 1, 1], "VALID"),
         lambda x: np_pool(x[:, None], (1, 2), (1, 1), "VALID", np.mean)[:, 0], pool_x[:, 0],
         id="avg_pool1d_overlapping"),
    case("MaxPool", lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"),
         lambda x: np_pool(x, (3, 3), (2, 2), "SAME", np.max), pool_x_odd,
         id="max_pool_3x3_stride2_same"),
    case("MaxPool", lambda x: tf.nn.max_pool(x, [1, 2, 3, 1], [1, 1, 2, 1], "SAME"),
         lambda x: np_pool(x, (2, 3), (1, 2), "SAME", np.max), pool_x,
         id="max_pool_overlapping_rows"),
    case("MaxPool", lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"),
         lambda x: np_pool(x, (2, 2), (2, 2), "VALID", np.max), pool_x.astype(np.float32),
         id="max_pool_float32"),
    case("MaxPoolGrad", grad_at(lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"), pool_x_odd),
         lambda dy: np_max_pool_grad(pool_x_odd, dy, (3, 3), (2, 2), "SAME"), rand(1, 3, 3, 3),
         id="max_pool_grad_overlapping"),
    case("MaxPoolGradGrad", max_pool_grad_grad_at(pool_x, (2, 3), (1, 2), "SAME"),
         lambda ddx: np_max_pool_grad_grad(pool_x, ddx, (2, 3), (1, 2), "SAME"),
         rand(2, 5, 6, 2)),
    case("AvgPool", lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID"),
         lambda x: np_pool(x, (2, 2), (2, 2), "VALID", np.mean), pool_x, id="avg_pool_2x2"),
    case("AvgPool", lambda x: tf.nn.avg_pool(x, 3, 2, "SAME"),
         lambda x: np_pool(x, (3, 3), (2, 2), "SAME", np.mean), pool_x_odd,
         id="avg_pool_same_counts_real_cells"),
    case("AvgPool", lambda x: tf.nn.avg_pool2d(x, (2, 3), (1, 2), "SAME"),
         lambda x: np_pool(x, (2, 3), (1, 2), "SAME", np.mean), pool_x,
         id="avg_pool_overlapping_rows"),
    case("AvgPoolGrad", grad_at(lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), pool_x_odd),
         lambda dy: np_avg_pool_grad(pool_x_odd.shape, dy, (3, 3), (2, 2), "SAME"),
         rand(1, 3, 3, 3)),
    # 2x2 windows, stride 2, even sizes: the kernels' fast path (pooling.tiles_2x2).
    case("MaxPool", lambda x: tf.nn.max_pool2d(x, 2, 2, "SAME"),
         lambda x: np_pool(x, (2, 2), (2, 2), "SAME", np.max), distinct(2, 4, 6, 3),
         id="max_pool_2x2_fast_path"),
    case("MaxPoolGrad", grad_at(lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), pool_x[:, :4]),
         lambda dy: np_max_pool_grad(pool_x[:, :4], dy, (2, 2), (2, 2), "VALID"),
         rand(2, 2, 3, 2), id="max_pool_grad_2x2_fast_path"),
    case("MaxPoolGradGrad", max_pool_grad_grad_at(pool_x[:, :4], 2, 2, "VALID"),
         lambda ddx: np_max_pool_grad_grad(pool_x[:, :4], ddx, (2, 2), (2, 2), "VALID"),
         rand(2, 4, 6, 2), id="max_pool_grad_grad_2x2_fast_path"),
    # 16 input channels, 64 filters: the kernels' channels-last columns
    # (conv.CHANNELS_LAST_MIN_CHANNELS / _MIN_FILTERS); small windows keep the checks quick.
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"),
         lambda x, w: np_conv2d(x, w, padding="SAME"), rand(2, 3, 3, 16), rand(2, 1, 16, 64),
         id="conv2d_channels_last_same"),
    case("Conv2D", lambda x, w: tf.nn.conv2d(x, w, (2, 1), "SAME", dilations=(1, 2)),
         lambda x, w: np_conv2d(x, w, (2, 1), "SAME", dilations=(1, 2)), rand(1, 3, 4, 16),
         rand(1, 2, 16, 64), id="conv2d_channels_last_strided_dilated"),
    case("Conv2DBackpropInput",
         lambda dy, w: tf.nn.conv2d_transpose(dy, w, [1, 3, 3, 16], 2, "SAME"),
         lambda dy, w: np_conv2d_backprop_input((1, 3, 3, 16), w, dy, (2, 2), "SAME"),
         rand(1, 2, 2, 64), rand(2, 1, 16, 64), id="conv2d_input_grad_channels_last"),
    case("Conv2DBackpropFilter", filter_grad_of((1, 2, 16, 64), (1, 2), "VALID", (1, 2)),
         lambda x, dy: np_conv2d_backprop_filter(x, (1, 2, 16, 64), dy, (1, 2),
                                                 dilations=(1, 2)),
         rand(1, 2, 4, 16), rand(1, 2, 1, 64), id="conv2d_filter_grad_channels_last"),
]
