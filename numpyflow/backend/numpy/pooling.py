"""NumPy kernels of max and average pooling over NHWC windows, and their gradients.

Pooling is separable: a window's max (or sum) is the max over its rows of the max over its
columns, so each pool is (kernel height + kernel width) vectorized slice operations, and the
max-pool gradient routes through the same two stages. The gradient of a max goes to the
first maximal element of its window in row-major order, as in TF.

Example:
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> y, row_max = max_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)))
    >>> y[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
"""

import numpy as np

from numpyflow.backend.numpy.conv import output_hw

def _window_slice(axis, offset, stride, count):
    """Index selecting, along `axis` of an NHWC array, element `offset` of each of `count`
    windows spaced `stride` apart."""
    stop = offset + stride * (count - 1) + 1 if count else offset
    return (slice(None),) * axis + (slice(offset, stop, stride),)


def _reduce_windows(x, axis, size, stride, count, combine):
    """Combines (np.maximum / np.add) the `size` window elements along one axis."""
    first = x[_window_slice(axis, 0, stride, count)]
    if size == 1:
        return np.array(first)
    # The first combine makes the result (no separate copy of the first slice).
    result = combine(first, x[_window_slice(axis, 1, stride, count)])
    for offset in range(2, size):
        combine(result, x[_window_slice(axis, offset, stride, count)], out=result)
    return result


def _pad_nhwc(x, pads, fill):
    if not any(pads[0]) and not any(pads[1]):
        return x
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    padded = np.full((n, h + top + bottom, w + left + right, c), fill, dtype=x.dtype)
    padded[:, top:top + h, left:left + w] = x
    return padded


def _crop_nhwc(padded, pads, shape):
    (top, _), (left, _) = pads
    return padded[:, top:top + shape[1], left:left + shape[2]]


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _row_maxima(padded, ksize, strides, out_w):
    """The max of each window row, (N, Hp, OW, C): the first of the two separable stages."""
    return _reduce_windows(padded, 2, ksize[1], strides[1], out_w, np.maximum)


def max_pool(x, ksize, strides, pads):
    padded = _pad_nhwc(x, pads, _lowest(x.dtype))
    oh, ow = output_hw(x.shape[1:3], ksize, strides, (1, 1), pads)
    # The row maxima are also what the gradient's routing starts from: saved for it.
    row_max = _row_maxima(padded, ksize, strides, ow)
    return _reduce_windows(row_max, 1, ksize[0], strides[0], oh, np.maximum), row_max


def _first_hits(x, axis, size, stride, count, target):
    """For each window along `axis`, a mask per window offset marking the first element
    equal to `target` (the window's max): TF routes a max-pool gradient to the first max."""
    hits, taken = [], None
    for offset in range(size):
        if offset == size - 1 and taken is not None:
            hit = ~taken  # Some element is the max; if not an earlier one, the last.
        else:
            hit = x[_window_slice(axis, offset, stride, count)] == target
            if taken is not None:
                hit &= ~taken
        taken = hit if taken is None else taken | hit
        hits.append(hit)
    return hits


def _max_routing(x, y, ksize, strides, pads, row_max=None):
    """Where each window's gradient goes, as two stages of first-max masks: within each
    window row, the first column holding the row's max (`column_hits`, over the padded input
    rows), then the first row holding the window max (`row_hits`). Together: the first max
    in row-major window order, as TF."""
    padded = _pad_nhwc(x, pads, _lowest(x.dtype))
    oh, ow = y.shape[1:3]
    if row_max is None:
        row_max = _row_maxima(padded, ksize, strides, ow)
    column_hits = _first_hits(padded, 2, ksize[1], strides[1], ow, row_max)
    row_hits = _first_hits(row_max, 1, ksize[0], strides[0], oh, y)
    return padded.shape, row_max.shape, column_hits, row_hits


def _scatter(values, hits, axis, stride, count, shape):
    """Sends `values` to the hit positions: the transpose of gathering with `hits`."""
    overlapping = stride < len(hits)
    # Windows that tile the axis exactly write every element below: no zeroing needed.
    tiled = stride == len(hits) and stride * count == shape[axis]
    out = (np.empty if tiled else np.zeros)(shape, dtype=values.dtype)
    for offset, hit in enumerate(hits):
        target = out[_window_slice(axis, offset, stride, count)]
        if overlapping:
            target += values * hit
        else:  # Each input element is in one window at most: write in place, no temporary.
            np.multiply(values, hit, out=target)
    return out


def _gather(values, hits, axis, stride, count):
    """The values at the hit positions, one per window."""
    result = None
    for offset, hit in enumerate(hits):
        picked = values[_window_slice(axis, offset, stride, count)] * hit
        result = picked if result is None else np.add(result, picked, out=result)
    return result


def max_pool_grad(x, y, dy, ksize, strides, pads, row_max=None):
    padded_shape, row_shape, column_hits, row_hits = _max_routing(x, y, ksize, strides, pads,
                                                                  row_max)
    oh, ow = y.shape[1:3]
    d_rows = _scatter(dy, row_hits, 1, strides[0], oh, row_shape)
    d_padded = _scatter(d_rows, column_hits, 2, strides[1], ow, padded_shape)
    return np.ascontiguousarray(_crop_nhwc(d_padded, pads, x.shape))


def max_pool_grad_grad(x, y, ddx, ksize, strides, pads, row_max=None):
    _, _, column_hits, row_hits = _max_routing(x, y, ksize, strides, pads, row_max)
    oh, ow = y.shape[1:3]
    padded = _pad_nhwc(ddx, pads, 0)
    rows = _gather(padded, column_hits, 2, strides[1], ow)
    return _gather(rows, row_hits, 1, strides[0], oh)




def _window_counts(in_hw, ksize, strides, pads, out_hw):
    """How many real (unpadded) input elements each window covers, shape (OH, OW, 1)."""
    per_axis = []
    for a in range(2):
        starts = np.arange(out_hw[a]) * strides[a] - pads[a][0]
        ends = np.minimum(starts + ksize[a], in_hw[a])
        per_axis.append(ends - np.maximum(starts, 0))
    return (per_axis[0][:, None] * per_axis[1][None, :])[:, :, None]


def avg_pool(x, ksize, strides, pads):
    oh, ow = output_hw(x.shape[1:3], ksize, strides, (1, 1), pads)
    padded = _pad_nhwc(x, pads, 0)
    rows = _reduce_windows(padded, 1, ksize[0], strides[0], oh, np.add)
    sums = _reduce_windows(rows, 2, ksize[1], strides[1], ow, np.add)
    counts = _window_counts(x.shape[1:3], ksize, strides, pads, (oh, ow))
    sums /= counts.astype(x.dtype)
    return sums


def avg_pool_grad(dy, input_shape, ksize, strides, pads):
    counts = _window_counts(input_shape[1:3], ksize, strides, pads, dy.shape[1:3])
    share = dy / counts.astype(dy.dtype)
    n, h, w, c = input_shape
    padded_hw = (h + sum(pads[0]), w + sum(pads[1]))
    d_rows = _spread(share, 2, ksize[1], strides[1], (n, dy.shape[1], padded_hw[1], c))
    d_padded = _spread(d_rows, 1, ksize[0], strides[0], (n,) + padded_hw + (c,))
    return np.ascontiguousarray(_crop_nhwc(d_padded, pads, input_shape))


def _spread(values, axis, size, stride, shape):
    """Adds `values` to every element of its window along `axis` (the adjoint of a sum)."""
    out = np.zeros(shape, dtype=values.dtype)
    count = values.shape[axis]
    for offset in range(size):
        index = _window_slice(axis, offset, stride, count)
        if stride < size:   # Overlapping windows accumulate.
            out[index] += values
        else:
            out[index] = values
    return out
