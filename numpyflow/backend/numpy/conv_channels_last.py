"""Convolutions on channels-last columns: the kernels `conv.py` runs for layers with many
input channels and filters (`conv._channels_last` decides which; see the reasons there).

Rows of the column matrix are (n, oh, ow) and its columns (kh, kw, c), copied from the
zero-padded NHWC input, so the GEMMs carry no junk columns, their output rows are already
NHWC and the upstream gradient is already their (N*OH*OW, O) matrix. `conv2d`,
`conv2d_backprop_input` and `conv2d_backprop_filter` in `conv.py` call `forward`,
`backprop_input` and `backprop_filter` here with their `_Layout` and batch parts.
`tests/backend/test_conv_channels_last.py` checks them against the planes path.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numpyflow.backend import blas, threads
from numpyflow.backend.numpy.conv import _Layout, _buffer, _part_shape, _parts

# A channels-last column matrix is built and multiplied by blocks of whole images, each
# block's columns at most this many bytes, in one buffer that the next block overwrites;
# the filter gradient builds the blocks again from the saved padded input, and the input
# gradient adds each block's contributions (this many bytes at most) while in cache. None:
# whole. Nothing column-sized is then written to memory and read back (the CIFAR CNN's
# 16x16x32 columns are 21 MB at batch 64). Measured (batch 32, one thread, CPU ms,
# interleaved, load average ~1.7, whole -> 2 MiB blocks): 16x16x32 -> 64 forward 5.0 ->
# 4.0, filter gradient 4.7 -> 4.0, input gradient 5.0 -> 4.7; 8x8x64 -> 128 3.7 -> 3.4,
# 3.4 -> 3.4, 3.8 -> 3.8. CIFAR CNN step (batch 64, split in two, load ~0.8): CPU 87.3 ->
# 81.7 ms; blocks of 0.5-4 MiB measured alike.
BLOCK_BYTES = 2 * 1024 * 1024


def _padded_nhwc(layout, x, out=None):
    """NHWC `x` zero-padded: (N, H + top + bottom, W + left + right, C), a new array (it is
    saved for the filter gradient) or `out`."""
    (top, bottom), (left, right) = layout.pads
    shape = (x.shape[0], layout.h + top + bottom, layout.w + left + right, layout.c)
    padded = np.empty(shape, x.dtype) if out is None else out
    # Only the border is zeroed: the interior is written next.
    padded[:, :top] = 0
    padded[:, top + layout.h:] = 0
    padded[:, top:top + layout.h, :left] = 0
    padded[:, top:top + layout.h, left + layout.w:] = 0
    padded[:, top:top + layout.h, left:left + layout.w] = x
    return padded


def _nhwc_windows(layout, padded):
    """A read-only (N, OH, OW, KH, KW, C) view of `padded`: [n, oh, ow, i, j] is the
    window's pixel padded[n, oh*sh + i*dh, ow*sw + j*dw] (with unit stride, a row's KW
    pixels are one run of KW * C values). Copied, it is the column matrix."""
    s_n, s_h, s_w, s_c = padded.strides
    (sh, sw), (dh, dw) = layout.strides, layout.dilations
    shape = (padded.shape[0], layout.oh, layout.ow, layout.kh, layout.kw, layout.c)
    return as_strided(padded, shape, (s_n, sh * s_h, sw * s_w, dh * s_h, dw * s_w, s_c),
                      writeable=False)


def _flat(columns):
    """(N, OH, OW, KH, KW, C) columns as the GEMM's (N*OH*OW, KH*KW*C) matrix."""
    return columns.reshape(-1, int(np.prod(columns.shape[3:])))


def _nhwc_blocks(layout, windows):
    """Yields (lo, hi, block): images lo:hi of `windows` (a part's) as their (rows,
    KH*KW*C) column matrix, copied into one buffer that the next block overwrites."""
    n = windows.shape[0]
    per_image = int(np.prod(windows.shape[1:])) * windows.itemsize
    size = n if BLOCK_BYTES is None else max(
        1, min(n, BLOCK_BYTES // per_image))
    buffer = _buffer(layout.reuse, "channels-last block", (size,) + windows.shape[1:],
                     windows.dtype, zeroed=False)
    for lo in range(0, n, size):
        hi = min(lo + size, n)
        block = buffer[:hi - lo]
        np.copyto(block, windows[lo:hi])
        yield lo, hi, _flat(block)


def _use_threads(split, rows, inner, columns):
    """BLAS threads for a block's product: one in a split part (the parts fill the cores),
    else as `blas.matmul` picks them."""
    narrow = min(rows, inner, columns) < blas.MIN_THREADED_SIDE
    blas.use_threads_for(0 if split or narrow else rows * inner * columns)


def forward(layout, x, filters, parts):
    """`conv2d` on channels-last columns: (output, the (N, OH, OW, KH, KW, C) windows of
    the padded input, a read-only view for the filter gradient to build the columns from)."""
    filter_matrix = filters.reshape(-1, layout.o)
    padded = np.empty((layout.n, layout.h + sum(layout.pads[0]), layout.w + sum(layout.pads[1]),
                       layout.c), x.dtype)
    result = np.empty((layout.n, layout.oh, layout.ow, layout.o),
                      np.result_type(x, filters))
    split = len(parts) > 1
    piece = _Layout(_part_shape(x.shape, parts[0]), filters.shape, layout.strides,
                    layout.dilations, layout.pads, reuse=split)

    def run(part):
        lo, hi = part
        windows = _nhwc_windows(piece, _padded_nhwc(piece, x[lo:hi], out=padded[lo:hi]))
        out = result[lo:hi]
        for block_lo, block_hi, block in _nhwc_blocks(piece, windows):
            _use_threads(split, *block.shape, layout.o)
            np.matmul(block, filter_matrix, out=out[block_lo:block_hi].reshape(-1, layout.o))
    threads.run_parts(run, parts)
    return result, _nhwc_windows(layout, padded)


def _clipped_span(offset, pad, stride, out_size, in_size):
    """Along one axis, which outputs a kernel offset's contributions go to real (not
    padding) input positions: (first output, end output, first input position), inputs then
    every `stride` positions; first output == end output when none."""
    first = max(0, -((offset - pad) // stride))  # ceil((pad - offset) / stride)
    end = min(out_size, (in_size - 1 + pad - offset) // stride + 1)
    return first, max(first, end), first * stride + offset - pad


def backprop_input(layout, filters, dy, parts):
    """`conv2d_backprop_input` on channels-last columns.

    One batched GEMM gives each kernel offset's contributions as an (N*OH*OW, C) matrix,
    i.e. (N, OH, OW, C) in the input's layout: each offset then adds them into its window
    of the gradient in runs of OW * C values (unit stride). A single (N*OH*OW, KH*KW*C)
    product would leave runs of only C values to add. The windows are clipped to the real
    input (contributions to padding are dropped), so the gradient is written in place,
    without a padded buffer to zero and copy out; an offset whose window covers the whole
    input (the centre of a unit-stride SAME convolution) is assigned instead of zeroing.
    """
    # (KH*KW, O, C): offset (i, j)'s filters transposed.
    per_offset = np.ascontiguousarray(
        filters.reshape(layout.kh * layout.kw, layout.c, layout.o).transpose(0, 2, 1))
    result = np.empty((layout.n, layout.h, layout.w, layout.c), np.result_type(filters, dy))
    (sh, sw), (dh, dw) = layout.strides, layout.dilations
    (top, _), (left, _) = layout.pads
    writes = []  # (i, j, output rows, output columns, input rows, input columns)
    for i in range(layout.kh):
        r0, r1, h0 = _clipped_span(i * dh, top, sh, layout.oh, layout.h)
        for j in range(layout.kw):
            c0, c1, w0 = _clipped_span(j * dw, left, sw, layout.ow, layout.w)
            if r1 > r0 and c1 > c0:
                writes.append((i, j, slice(r0, r1), slice(c0, c1),
                               slice(h0, h0 + (r1 - r0 - 1) * sh + 1, sh),
                               slice(w0, w0 + (c1 - c0 - 1) * sw + 1, sw)))
    covering = [w for w in writes if (w[4].stop - w[4].start, w[5].stop - w[5].start,
                                      w[4].step, w[5].step) == (layout.h, layout.w, 1, 1)]
    if covering:  # Assigned first: every other offset then adds.
        writes.remove(covering[0])
        writes.insert(0, covering[0])

    split = len(parts) > 1
    reuse = split  # Per-thread buffers for split parts (see `_buffer`).
    rows_per_image = layout.oh * layout.ow
    per_image = per_offset.shape[0] * rows_per_image * layout.c * result.itemsize
    count = parts[0][1] - parts[0][0]
    size = count if BLOCK_BYTES is None else max(
        1, min(count, BLOCK_BYTES // per_image))

    def run(part):
        # By blocks of images: each block's contributions are added while in cache.
        lo, hi = part
        rows = dy[lo:hi].reshape(-1, layout.o)
        buffer = _buffer(reuse, "channels-last contributions",
                         (per_offset.shape[0], size * rows_per_image, layout.c), result.dtype,
                         zeroed=False)
        for block_lo in range(0, hi - lo, size):
            block_hi = min(block_lo + size, hi - lo)
            block_rows = rows[block_lo * rows_per_image:block_hi * rows_per_image]
            _use_threads(split, block_rows.shape[0], layout.o, layout.c)
            contributions = buffer[:, :block_rows.shape[0]]
            np.matmul(block_rows, per_offset, out=contributions)
            contributions = contributions.reshape(layout.kh, layout.kw, block_hi - block_lo,
                                                  layout.oh, layout.ow, layout.c)
            out = result[lo + block_lo:lo + block_hi]
            if not covering:
                out.fill(0)  # The adds below accumulate.
            # Offsets overlap, so they are added one at a time; within one the targets
            # differ.
            for index, (i, j, out_h, out_w, in_h, in_w) in enumerate(writes):
                source = contributions[i, j, :, out_h, out_w]
                if covering and index == 0:
                    np.copyto(out, source)
                else:
                    out[:, in_h, in_w] += source
    threads.run_parts(run, parts)
    return result


def backprop_filter(layout, x, dy, filter_shape, windows):
    """`conv2d_backprop_filter` on channels-last columns, built by blocks from `windows`
    (what `conv2d` saved) or from `x` again."""
    if windows is None:
        windows = _nhwc_windows(layout, _padded_nhwc(layout, x))
    parts = _parts(layout)
    split = len(parts) > 1
    piece = _Layout(_part_shape(x.shape, parts[0]), filter_shape, layout.strides,
                    layout.dilations, layout.pads, reuse=split)
    rows_per_image = layout.oh * layout.ow

    def run(part):
        lo, hi = part
        rows = dy[lo:hi].reshape(-1, layout.o)
        total = product = None
        for block_lo, block_hi, block in _nhwc_blocks(piece, windows[lo:hi]):
            _use_threads(split, block.shape[1], block.shape[0], layout.o)
            block_rows = rows[block_lo * rows_per_image:block_hi * rows_per_image]
            if total is None:
                total = np.matmul(block.T, block_rows)
                product = np.empty_like(total)
            else:
                total += np.matmul(block.T, block_rows, out=product)
        return total
    products = threads.run_parts(run, parts)
    total = products[0]
    for product in products[1:]:
        total += product
    return np.ascontiguousarray(total.reshape(filter_shape))
