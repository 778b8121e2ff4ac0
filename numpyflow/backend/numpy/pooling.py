"""NumPy kernels of max and average pooling over NHWC windows, and their gradients.

Pooling is separable: a window's max (or sum) is the max over its rows of the max over its
columns, so each pool is (kernel height + kernel width) vectorized slice operations, and the
max-pool gradient routes through the same two stages. The gradient of a max goes to the
first maximal element of its window in row-major order, as in TF.

Example:
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    >>> y, routing = max_pool(x, (2, 2), (2, 2), ((0, 0), (0, 0)))
    >>> y[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)

Fast path (`tiles_2x2`): 2x2 windows with stride 2 and no padding over an even height and
width, CNNs' usual pool. There NHWC interleaves the windows with runs of only C values
(C = 6 in LeNet-5), and each strided slice above costs NumPy one ~10 ns inner loop per run.
The fast path instead compares every element with its neighbour C values on (right) and
W*C values on (below) over the WHOLE flattened array: each such op is one contiguous run.
At each window's top-left element this gives the window's max and where its first max is
(the rest is junk, never read); one copy then picks the top-left elements out. The
gradient scatters dy to the winners with one fancy-index assignment. Large pools (LeNet-5's
first at batch 128) run by batch halves on two cores (`threads.SPLIT_ABOVE_FEW_CALLS`).
"""

import functools
import math

import numpy as np

from numpyflow.backend import threads
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


# -- fast path: 2x2 windows, stride 2, no padding, even height and width ------------------

def tiles_2x2(shape, ksize, strides, pads):
    """Whether max pooling an NHWC input of `shape` takes the fast path (module docstring)."""
    _, h, w, _ = shape
    return (tuple(ksize) == (2, 2) and tuple(strides) == (2, 2) and not any(pads[0])
            and not any(pads[1]) and h % 2 == 0 and w % 2 == 0 and 0 not in shape)


# Pooled outputs up to this many elements keep their window starts (8 bytes an element)
# across calls; larger ones build them each time rather than hold that much memory.
_CACHED_STARTS_UP_TO = 1 << 20


def _window_starts(shape):
    """The flat index of each window's top-left element, per pooled element (N*OH*OW*C,)."""
    if int(np.prod(shape)) // 4 <= _CACHED_STARTS_UP_TO:
        return _cached_window_starts(shape)
    return _build_window_starts(shape)


# A pure function of the shape, memoized: each training step asks again, and building the
# starts costs as much as the gradient's scatter.
@functools.lru_cache(maxsize=8)
def _cached_window_starts(shape):
    starts = _build_window_starts(shape)
    starts.flags.writeable = False
    return starts


def _build_window_starts(shape):
    n, h, w, c = shape
    starts = (np.arange(n * h // 2)[:, None, None] * (2 * w * c)
              + np.arange(w // 2)[None, :, None] * (2 * c)
              + np.arange(c)[None, None, :]).reshape(-1)
    return starts


def _top_left(values, shape, out=None):
    """The elements of flat `values` (NHWC `shape`'s size) at each window's top-left, as an
    (N, OH, OW, C) array (written into `out` when given)."""
    n, h, w, c = shape
    # A pixel's C values as ONE element of a C-values-wide type: the copy then moves
    # N*OH*OW elements, instead of N*OH*OW runs of C values (~3x faster for C = 6).
    wide = (np.void, c * values.itemsize)
    picked = values.reshape(n * h // 2, 2, w // 2, 2, c).view(wide)[:, 0, :, 0]
    if out is None:
        return np.ascontiguousarray(picked).view(values.dtype).reshape(n, h // 2, w // 2, c)
    np.copyto(out.reshape(n * h // 2, w // 2, c).view(wide), picked)
    return out


# The fast path's input elements per full-speed multiply-add of `threads`' policy: LeNet-5's
# first pool at batch 128 (602,112 elements) takes 0.41 ms forward and 0.41 ms gradient on
# one core, as long as ~20 M multiply-adds of a large GEMM.
POOL_WORK_PER_ELEMENT = 33


# A part of the fast path's forward above this many bytes runs in runs of whole images of
# about RUN_BYTES, one after another: its full-size temporaries (row and window maxima,
# three masks) then stay in a core's L2 cache (1 MiB here) instead of streaming through L3.
# Measured (helper cnn, interleaved A/B, medians of 40, load ~1.8-2.1 on 2 shared cores;
# ms wall, whole / split in two parts): (64, 32, 32, 32) float32 3.33 -> 1.50 / 3.34 -> 1.81;
# (64, 16, 16, 64) 1.34 -> 0.67 / 1.03 -> 1.03; LeNet-5's (128, 28, 28, 6) 0.48 -> 0.42 /
# 0.42 -> 0.43. Runs of 1 MiB over parts from 1 MiB were alike or slightly worse.
RUNS_ABOVE_BYTES = 2 << 20
RUN_BYTES = 1 << 20


def _pool_parts(shape):
    """The batch runs a fast-path pool over NHWC `shape` splits into across the cores (few
    long NumPy calls per part: `threads.SPLIT_ABOVE_FEW_CALLS`)."""
    work = math.prod(shape) * POOL_WORK_PER_ELEMENT
    return threads.batch_parts(shape[0], work, few_calls=True)


def _routing_dtype(w):
    return np.uint8 if w < 255 else np.uint32


def _max_pool_2x2(x):
    """The fast path's forward: (y, routing), by batch parts across the cores when large.

    `routing` is flat, read at each window's top-left only (each part's window starts lie
    inside its own run of it, so the parts' runs, written in place, make the whole's).
    """
    parts = _pool_parts(x.shape)
    n, h, w, c = x.shape
    per_image = h * w * c
    # Runs of whole images of ~RUN_BYTES, one after another within a part (see there).
    per_run = max(1, RUN_BYTES // (per_image * x.itemsize))
    if len(parts) == 1 and (x.nbytes <= RUNS_ABOVE_BYTES or per_run >= n):
        return _max_pool_2x2_part(x)
    x = np.ascontiguousarray(x)
    y = np.empty((n, h // 2, w // 2, c), x.dtype)
    routing = np.empty(n * per_image, _routing_dtype(w))

    def run(part):
        lo, hi = part
        if x[lo:hi].nbytes <= RUNS_ABOVE_BYTES:
            per = hi - lo
        else:
            per = per_run
        for begin in range(lo, hi, per):
            stop = min(begin + per, hi)
            _max_pool_2x2_part(x[begin:stop], y[begin:stop],
                               routing[begin * per_image:stop * per_image])
    threads.run_parts(run, parts)
    return y, routing


def _max_pool_2x2_part(x, y=None, routing_out=None):
    """The fast path's forward over all of `x`: (y, routing), written into `y` and the
    start of `routing_out` when given.

    `routing` (flat, read at each window's top-left only) is W * top + left: whether the
    window's first max is in its top row, and whether it is the left one of that row. That
    makes the winner's flat index linear in it (`_winners`): a lookup table indexed by
    uint8 measured 5x slower than the arithmetic.
    """
    _, _, w, c = x.shape
    flat = np.ascontiguousarray(x).reshape(-1)
    row = w * c
    right_of = (flat[:-c], flat[c:])
    # At a window row's left element: the row's max, and whether the left element holds it
    # (>=: the first max wins ties; a NaN max goes to the last element, as `_first_hits`).
    row_max = np.maximum(*right_of)
    left = np.greater_equal(*right_of)
    below_of = (row_max[:-row], row_max[row:])
    # At a window's top-left: its max (written into a full-size array, so that
    # `_top_left` can reshape it), and whether its top row holds it.
    window_max = np.empty(flat.size, x.dtype)
    np.maximum(*below_of, out=window_max[:below_of[0].size])
    top = np.greater_equal(*below_of)
    # The chosen row's `left`: left[p] if top else left[p + row], as bit operations.
    chosen_left = np.bitwise_xor(left[:-row], left[row:])
    chosen_left &= top
    chosen_left ^= left[row:]
    # (As bytes: NumPy's bool-to-integer casts are several times slower than byte math.)
    routing = top.view(np.uint8) if _routing_dtype(w) == np.uint8 else top.astype(np.uint32)
    if routing_out is None:
        routing = routing * w
    else:
        routing = np.multiply(routing, w, out=routing_out[:routing.size], dtype=routing.dtype)
    routing += chosen_left.view(np.uint8)
    return _top_left(window_max, x.shape, y), routing


def _winners(shape, routing):
    """The flat index of each window's first max, per pooled element."""
    c = shape[3]
    starts = _window_starts(tuple(shape))
    # The bottom-right element is W * C + C after the top-left; the winner is C * routing
    # (W * C * top + C * left) before that.
    winners = routing[starts].astype(np.intp)
    winners *= -c
    winners += starts
    winners += (shape[2] + 1) * c
    return winners


def _max_pool_2x2_grad(dy, shape, routing):
    """dy scattered to the winners, by batch parts across the cores when large (each part's
    winners from its own run of `routing`, whichever way the forward ran)."""
    parts = _pool_parts(shape)
    if len(parts) == 1:
        dx = np.zeros(math.prod(shape), dy.dtype)
        dx[_winners(shape, routing)] = dy.reshape(-1)
        return dx.reshape(shape)
    dx = np.empty(math.prod(shape), dy.dtype)
    per_image = math.prod(shape[1:])

    def run(part):
        lo, hi = part
        target = dx[lo * per_image:hi * per_image]
        target.fill(0)
        target[_winners((hi - lo,) + tuple(shape[1:]), routing[lo * per_image:])] = \
            dy[lo:hi].reshape(-1)
    threads.run_parts(run, parts)
    return dx.reshape(shape)


def _max_pool_2x2_grad_grad(ddx, shape, routing):
    picked = np.ascontiguousarray(ddx).reshape(-1)[_winners(shape, routing)]
    return picked.reshape(shape[0], shape[1] // 2, shape[2] // 2, shape[3])


# -- max pooling ----------------------------------------------------------------------------

def max_pool(x, ksize, strides, pads):
    """Max pooling: (y, routing), where `routing` is what `max_pool_grad` reuses (the fast
    path's routing codes, or the separable path's row maxima)."""
    if tiles_2x2(x.shape, ksize, strides, pads):
        return _max_pool_2x2(x)
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


def max_pool_grad(x, y, dy, ksize, strides, pads, routing=None):
    """The gradient of `max_pool` (`routing`: its second result, or None to recompute)."""
    if tiles_2x2(x.shape, ksize, strides, pads):
        if routing is None:
            routing = _max_pool_2x2(x)[1]
        return _max_pool_2x2_grad(dy, x.shape, routing)
    padded_shape, row_shape, column_hits, row_hits = _max_routing(x, y, ksize, strides, pads,
                                                                  routing)
    oh, ow = y.shape[1:3]
    d_rows = _scatter(dy, row_hits, 1, strides[0], oh, row_shape)
    d_padded = _scatter(d_rows, column_hits, 2, strides[1], ow, padded_shape)
    return np.ascontiguousarray(_crop_nhwc(d_padded, pads, x.shape))


def max_pool_grad_grad(x, y, ddx, ksize, strides, pads, routing=None):
    """The gradient of `max_pool_grad` with respect to dy: ddx at the routed elements."""
    if tiles_2x2(x.shape, ksize, strides, pads):
        if routing is None:
            routing = _max_pool_2x2(x)[1]
        return _max_pool_2x2_grad_grad(ddx, x.shape, routing)
    _, _, column_hits, row_hits = _max_routing(x, y, ksize, strides, pads, routing)
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
