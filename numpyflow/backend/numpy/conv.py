"""NumPy kernels of 2-D convolution: im2col, one GEMM, col2im (NHWC input, HWIO filters).

The input is first copied into zero-padded planes laid out (C, Hp + 1, N, Wp): per channel,
padded row by padded row, the rows of all N images side by side (plus one spare row). A
kernel offset (i, j) is then a fixed shift inside the planes, so all windows form one
strided view (KH, KW, C, OH, N, width), and one copy of that view is the column matrix; its
rows, ordered (oh, n, ow), are the GEMM's output rows. With unit stride along W, `width` is
the whole padded row Wp rather than the output width OW: each (kernel offset, channel) then
reads or writes ONE contiguous run of OH * N * Wp values, instead of OH * N runs of OW
values. NumPy pays ~10-100 ns per run, so for small images this is several times faster, at
the price of Wp - OW junk columns per output row that are computed and dropped (they read
past the end of a row; the spare row keeps the last ones inside the array).

The same layout serves the backward pass:
  * filter gradient: one GEMM of the forward's columns (saved, not recomputed) with the
    upstream gradient;
  * input gradient: one GEMM giving every window's contribution, then col2im: one in-place
    add per kernel offset, each a long contiguous run per channel. (A transposed convolution
    would also be one GEMM, but its column matrix is ~3x larger for LeNet-sized images;
    np.add.at or np.bincount scatter-adds measured ~10x slower than these adds.)

Narrow GEMMs (6 or 16 filters) run by blocks of rows, each block's columns small enough
to stay in the core's L2 cache (`GEMM_BLOCK_BYTES`); OpenBLAS runs them whole at about half
speed. Unit-stride convolutions go further (`COLUMNS_BY_BLOCKS`): every run of rows of the
column matrix is one contiguous run of the planes per (kernel offset, channel)
(`_Layout.row_windows`), so the forward builds the columns one block at a time into one
small buffer and multiplies each block while it is in cache; nothing column-sized is
written to memory, and the filter gradient builds the blocks again from the saved planes
(~1/KH*KW of the columns' size) rather than reading saved columns back.

Grouped convolution (a filter depth of in_channels / G) uses the same column matrix, split
by channel into G blocks: each GEMM becomes a batch of G products.

With many input channels (`CHANNELS_LAST_MIN_CHANNELS`, e.g. the CIFAR CNN's 32 and 64) the
planes' long runs no longer matter, while their junk columns still cost GEMM time (25% of
an 8-wide layer's): such convolutions use the ordinary channels-last column matrix instead,
rows (n, oh, ow), columns (kh, kw, c), copied from the zero-padded NHWC input in runs of
KW * C values, and no junk, by blocks of images (`CHANNELS_LAST_BLOCK_BYTES`; the forward
saves the padded input, the filter gradient builds the blocks again). Its GEMM output is
already NHWC, the upstream gradient already its rows, and the input gradient is one GEMM per
kernel offset, each added in place.

Large kernels are split by batch across the cores (`backend.threads`): each thread builds
its images' columns, multiplies them on one BLAS thread and writes its rows of the result;
the forward then saves the per-part column matrices stacked, and the filter gradient sums
the parts' products; their temporaries (padded planes, gradient rows, col2im planes) are
per-thread buffers kept across steps (`_buffer`). Which kernels split is `threads`'
policy, from their estimated time on one core (narrow GEMMs are slow per multiply-add):
LeNet-5 splits from batch 128; smaller ones run whole, with `blas.matmul`'s policy and
fresh temporaries (and, with unit strides, their columns built by blocks). Batches whose
intermediates outgrow the caches run as equal chunks of images, one after another
(`FORWARD_CHUNK_BYTES`, `INPUT_GRADIENT_CHUNK_BYTES`); a split forward saves its chunks'
planes stacked.

Example:
    >>> x = np.ones((1, 3, 3, 1), np.float32)
    >>> y, columns = conv2d(x, np.ones((2, 2, 1, 1), np.float32), (1, 1), (1, 1),
    ...                     ((0, 0), (0, 0)))
    >>> y[0, :, :, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numpyflow.backend import allocator, blas, threads

# -- im2col / col2im ----------------------------------------------------------------------


def output_hw(in_hw, kernel_hw, strides, dilations, pads):
    """Output (height, width) of windows over an input of `in_hw`: 0 where the window does
    not fit (TF then returns an empty output)."""
    return tuple(max((in_hw[a] + sum(pads[a]) - (kernel_hw[a] - 1) * dilations[a] - 1)
                     // strides[a] + 1, 0) for a in range(2))


def _row_width(out_w, stride_w, padded_w):
    """How many columns each window row spans in the column matrix (see module docstring)."""
    return padded_w if stride_w == 1 else out_w


def _buffer(reuse, tag, shape, dtype, zeroed):
    """A temporary array: a per-thread buffer kept across steps (`allocator.scratch`) when
    `reuse`, else a fresh one.

    Only split kernels reuse: on the pool's threads, fresh multi-megabyte arrays come from a
    glibc arena that unmaps them on free, so each step page-faults them anew (~0.6-0.9 ms per
    array at batch 128). On the calling thread, glibc hands the block just freed back out,
    still in cache: reused buffers (more memory touched per step) measured ~5% slower for
    LeNet-5's batch-32 epoch.
    """
    if reuse:
        return allocator.scratch(tag, shape, dtype, zeroed=zeroed)
    return (np.zeros if zeroed else np.empty)(shape, dtype)


def _planes_shape(x_shape, pads):
    n, h, w, c = x_shape
    (top, bottom), (left, right) = pads
    return (c, h + top + bottom + 1, n, w + left + right)


def _planes(x, pads, reuse=False, out=None):
    """NHWC `x` copied, zero-padded, into planes (C, Hp + 1, N, Wp); the last row is spare.
    Written into `out` when given (zero where the padding goes)."""
    _, h, w, _ = x.shape
    (top, _), (left, _) = pads
    # A reused buffer's padding stays zero (only the interior is written). Keyed by the pads
    # too: another conv with planes of this shape but other pads would write its interior
    # over this one's padding.
    planes = out if out is not None else _buffer(reuse, ("planes", pads),
                                                 _planes_shape(x.shape, pads), x.dtype,
                                                 zeroed=True)
    planes[:, top:top + h, :, left:left + w] = x.transpose(3, 1, 0, 2)
    return planes


def _windows(planes, kernel_hw, strides, dilations, out_h, width):
    """A (KH, KW, C, OH, N, width) view: [i, j, c, oh, n, ow] is planes[c, oh*sh + i*dh, n,
    ow*sw + j*dw]. With width = Wp, a row's last columns run into the next image's row (or,
    for the last image, the next row): junk, computed and dropped."""
    s_c, s_h, s_n, s_w = planes.strides
    shape = (kernel_hw[0], kernel_hw[1], planes.shape[0], out_h, planes.shape[2], width)
    strides = (dilations[0] * s_h, dilations[1] * s_w, s_c, strides[0] * s_h, s_n,
               strides[1] * s_w)
    return as_strided(planes, shape, strides)


class _Layout:
    """Sizes and data movement shared by the forward and backward convolutions.

    GEMM rows are ordered (oh, n, ow) over `width` columns per window row: the order in
    which a kernel offset's windows lie in the planes.

    With `groups` > 1 (grouped and depthwise convolution) the input channels split into
    `groups` runs of C / groups, each convolved with its own run of O / groups filters: the
    column matrix, filters and GEMM rows then carry a leading group axis, and each GEMM is
    a batch of one product per group. groups == 1 keeps the plain 2-D matrices, untouched.
    """

    def __init__(self, input_shape, filter_shape, strides, dilations, pads, groups=1,
                 reuse=False):
        self.n, self.h, self.w, self.c = input_shape
        self.kh, self.kw, _, self.o = filter_shape
        self.oh, self.ow = output_hw((self.h, self.w), (self.kh, self.kw), strides,
                                      dilations, pads)
        self.width = _row_width(self.ow, strides[1], self.w + sum(pads[1]))
        self.strides, self.dilations, self.pads = strides, dilations, pads
        self.groups = groups
        self.reuse = reuse  # Temporaries from per-thread buffers (`_buffer`).

    def _window_view(self, planes):
        return _windows(planes, (self.kh, self.kw), self.strides, self.dilations, self.oh,
                        self.width)

    def row_windows(self, planes):
        """With unit strides: the column matrix as a (KH, KW, C, OH*N*Wp) view of `planes`.

        Row (oh, n, w) of kernel offset (i, j) and channel c is planes[c, oh + i*dh, n,
        w + j*dw], and rows run consecutively through the planes: any run of rows lo:hi is
        one contiguous run of the planes per (i, j, c), so blocks of rows copy as fast as
        the whole matrix.
        """
        s_c, s_h, _, s_w = planes.strides
        shape = (self.kh, self.kw, self.c, self.oh * self.n * self.width)
        return as_strided(planes, shape, (self.dilations[0] * s_h, self.dilations[1] * s_w,
                                          s_c, s_w))

    def column_shape(self):
        """The shape of `columns`' result."""
        rows = self.kh * self.kw * self.c // self.groups
        size = self.oh * self.n * self.width
        return (rows, size) if self.groups == 1 else (self.groups, rows, size)

    def columns(self, x, out=None):
        """The column matrix (KH*KW*C, OH*N*width) of NHWC input `x`; grouped, one
        (KH*KW*C/G, OH*N*width) matrix per group, stacked. Written into `out` when given."""
        view = self._window_view(_planes(x, self.pads, self.reuse))
        if self.groups > 1:
            g = self.groups
            view = view.reshape((self.kh, self.kw, g, self.c // g) + view.shape[3:])
            view = view.transpose(2, 0, 1, 3, 4, 5, 6)
        if out is None:
            return np.ascontiguousarray(view).reshape(self.column_shape())
        np.copyto(out.reshape(view.shape), view)
        return out

    def filter_matrix(self, filters):
        """HWIO filters as the GEMM's (KH*KW*C/G, O) matrix; grouped, (G, KH*KW*C/G, O/G)."""
        matrix = filters.reshape(-1, self.o)
        if self.groups == 1:
            return matrix
        return matrix.reshape(matrix.shape[0], self.groups, -1).transpose(1, 0, 2)

    def filter_from_matrix(self, matrix, filter_shape):
        """The inverse of `filter_matrix`."""
        if self.groups > 1:
            matrix = matrix.transpose(1, 0, 2).reshape(matrix.shape[1], self.o)
        return np.ascontiguousarray(matrix.reshape(filter_shape))  # Small: copying is cheap.

    def rows(self, dy):
        """Upstream gradient (N, OH, OW, O) as a (OH*N*width, O) matrix (junk columns 0);
        grouped, (G, OH*N*width, O/G)."""
        # A reused buffer (only the real columns are written: the junk ones stay 0), which
        # the caller consumes before its next call.
        # Keyed by the real width too, so that the junk columns are the same ones.
        rows = _buffer(self.reuse, ("rows", self.ow), (self.oh, self.n, self.width, self.o),
                       dy.dtype, zeroed=True)
        rows[:, :, :self.ow] = dy.transpose(1, 0, 2, 3)
        rows = rows.reshape(-1, self.o)
        if self.groups == 1:
            return rows
        return rows.reshape(rows.shape[0], self.groups, -1).transpose(1, 0, 2)

    def output(self, rows, out=None):
        """GEMM result rows (OH*N*width, O) -> NHWC output, dropping the junk columns
        (written into `out` when given)."""
        if self.groups > 1:  # (G, rows, O/G): the groups' filters side by side.
            rows = rows.transpose(1, 0, 2)
        view = rows.reshape(self.oh, self.n, self.width, self.o)[:, :, :self.ow]
        return _into(out, view.transpose(1, 0, 2, 3))

    def col2im(self, contributions, out=None):
        """Sums per-window contributions (KH*KW*C, OH*N*width) back into an NHWC input;
        grouped, from (G, KH*KW*C/G, OH*N*width)."""
        if self.groups > 1:
            contributions = contributions.reshape(
                self.groups, self.kh, self.kw, self.c // self.groups, -1).transpose(
                1, 2, 0, 3, 4)
        contributions = contributions.reshape(self.kh, self.kw, self.c, self.oh, self.n,
                                              self.width)
        shape = (self.c, self.h + sum(self.pads[0]) + 1, self.n, self.w + sum(self.pads[1]))
        if self.reuse:
            planes = allocator.scratch("col2im", shape, contributions.dtype)
            planes.fill(0)  # The adds below accumulate.
        else:
            planes = np.zeros(shape, contributions.dtype)
        view = self._window_view(planes)
        # Windows of different kernel offsets overlap, so offsets are added one at a time;
        # within one offset the targets are distinct, and (unit stride) each channel's are
        # one contiguous run, so each add is a single fast vectorized op.
        for i in range(self.kh):
            for j in range(self.kw):
                view[i, j] += contributions[i, j]
        (top, _), (left, _) = self.pads
        inner = planes[:, top:top + self.h, :, left:left + self.w]
        return _into(out, inner.transpose(2, 1, 3, 0))


def _into(out, view):
    """`view` as a new C-contiguous array, or copied into `out`."""
    if out is None:
        return np.ascontiguousarray(view)
    np.copyto(out, view)
    return out


# -- GEMMs by row blocks ------------------------------------------------------------------

# A narrow GEMM (a side below `blas.MIN_THREADED_SIDE`, so on one BLAS thread anyway) whose
# column matrix is larger than this many bytes runs as a batch of products over blocks of
# its rows (the (oh, n, width) windows), each block's columns this many bytes at most; None:
# always whole. OpenBLAS runs a tall product with 6 or 16 filters at ~half speed once its
# columns exceed the core's L2 cache; a block's stay in it. Measured on this 2-core EPYC
# (1 MiB L2 per core; one thread, load average ~5; whole -> blocked, ms): LeNet-5 batch 32's
# conv1 28672x25x6 forward 0.40 -> 0.27, filter gradient 0.37 -> 0.19; conv2 4480x150x16
# forward 0.45 -> 0.27, filter gradient 0.36 -> 0.22 (128-192 KiB best, 512 KiB no gain).
GEMM_BLOCK_BYTES = 192 * 1024


# The same for the kernels' parts split across the cores (`threads`), built by blocks:
# each block costs the part's thread its Python between two NumPy calls, which holds the
# GIL that the other part's thread may be waiting for (a wait costs it a wake-up too), so
# fewer, larger blocks may pay there while they do not on one thread.
SPLIT_GEMM_BLOCK_BYTES = GEMM_BLOCK_BYTES


def _row_blocks(inner, rows, narrow_side, itemsize, block_bytes=None):
    """How a GEMM over `rows` column-matrix rows of `inner` values splits into row blocks
    of at most `block_bytes` of columns (None: `GEMM_BLOCK_BYTES`): [(lo, hi, count)],
    rows lo:hi as `count` equal blocks; None to run it whole."""
    block_bytes = GEMM_BLOCK_BYTES if block_bytes is None else block_bytes
    if block_bytes is None or narrow_side >= blas.MIN_THREADED_SIDE:
        return None
    size = max(block_bytes // (inner * itemsize), 1)
    count, extra = divmod(rows, size)
    if count < 2:
        return None
    spans = [(0, count * size, count)]
    if extra:
        spans.append((count * size, rows, 1))
    return spans


def _blocks(matrix, lo, hi, count):
    """Columns lo:hi of a (K, M) matrix as `count` (K, block) matrices: (count, K, block)."""
    return matrix[:, lo:hi].reshape(matrix.shape[0], count, -1).transpose(1, 0, 2)


def _forward_product(columns, filter_matrix, gemm):
    """columns.T @ filter_matrix: the forward's GEMM rows (OH*N*width, O)."""
    spans = columns.ndim == 2 and _row_blocks(*columns.shape, filter_matrix.shape[1],
                                              columns.itemsize)
    if not spans:
        return gemm(_transposed(columns), filter_matrix)
    out = np.empty((columns.shape[1], filter_matrix.shape[1]),
                   np.result_type(columns, filter_matrix))
    blas.use_threads_for(0)
    for lo, hi, count in spans:
        np.matmul(_blocks(columns, lo, hi, count).transpose(0, 2, 1), filter_matrix,
                  out=out[lo:hi].reshape(count, -1, out.shape[1]))
    return out


def _filter_product(columns, rows, gemm):
    """columns @ rows: the filter gradient's (KH*KW*C, O) matrix."""
    spans = columns.ndim == 2 and _row_blocks(*columns.shape, rows.shape[1], columns.itemsize)
    if not spans:
        return gemm(columns, rows)
    blas.use_threads_for(0)
    total = None
    for lo, hi, count in spans:
        blocks = np.matmul(_blocks(columns, lo, hi, count),
                           rows[lo:hi].reshape(count, -1, rows.shape[1]))
        part = blocks.sum(axis=0)
        total = part if total is None else np.add(total, part, out=total)
    return total


# Whether unit-stride convolutions build their column matrix block by block, each block
# multiplied while in cache and then overwritten, instead of whole (and save the padded
# planes instead of columns: the filter gradient builds the blocks again from them). A
# whole column matrix (LeNet-5 batch 32: 2.9 MB for conv1, 2.7 MB for conv2) is written to
# memory and read back once per GEMM. Measured (LeNet-5 batch-32 `fit` step, CPU time,
# interleaved A/B, load average ~8): 3.90 -> 3.53 ms.
COLUMNS_BY_BLOCKS = True


def _block_rows(layout, narrow_side, itemsize):
    """Rows per block of a unit-stride convolution's columns built by blocks, or None to
    build them whole."""
    if not COLUMNS_BY_BLOCKS or layout.groups != 1 or tuple(layout.strides) != (1, 1):
        return None
    inner = layout.kh * layout.kw * layout.c
    # Split parts (and only they) reuse per-thread buffers.
    block_bytes = SPLIT_GEMM_BLOCK_BYTES if layout.reuse else GEMM_BLOCK_BYTES
    if block_bytes is None:
        return None
    spans = _row_blocks(inner, layout.oh * layout.n * layout.width, narrow_side, itemsize,
                        block_bytes)
    return spans and spans[0][1] // spans[0][2]


def _block_rows_or_all(layout, itemsize):
    """`_block_rows`, or all rows in one block (for planes saved while blocks were on)."""
    return _block_rows(layout, layout.o, itemsize) or layout.oh * layout.n * layout.width


def _column_blocks(layout, planes, size):
    """Yields (lo, hi, block): the column matrix's rows lo:hi as a (KH*KW*C, hi - lo)
    matrix, built from `planes` in one buffer that the next block overwrites."""
    windows = layout.row_windows(planes)
    rows = windows.shape[-1]
    buffer = _buffer(layout.reuse, "block", windows.shape[:3] + (size,), planes.dtype,
                     zeroed=False)
    for lo in range(0, rows, size):
        hi = min(lo + size, rows)
        block = buffer[..., :hi - lo]
        np.copyto(block, windows[..., lo:hi])
        yield lo, hi, block.reshape(-1, hi - lo)


def _forward_by_blocks(layout, planes, filter_matrix, size):
    # A reused buffer (split kernels) is consumed by the caller before its next call.
    out = _buffer(layout.reuse, "rows by blocks", (layout.oh * layout.n * layout.width,
                                                   layout.o),
                  np.result_type(planes, filter_matrix), zeroed=False)
    blas.use_threads_for(0)
    for lo, hi, block in _column_blocks(layout, planes, size):
        np.matmul(block.T, filter_matrix, out=out[lo:hi])
    return out


def _filter_gradient_by_blocks(layout, planes, rows, size):
    total = product = None
    blas.use_threads_for(0)
    for lo, hi, block in _column_blocks(layout, planes, size):
        if total is None:
            total = np.matmul(block, rows[lo:hi])
            product = np.empty_like(total)
        else:
            total += np.matmul(block, rows[lo:hi], out=product)
    return total


# -- channels-last columns ----------------------------------------------------------------

# Convolutions with at least this many input channels and filters (and one group) build
# their column matrix channels-last instead of from planes: rows (n, oh, ow), columns
# (kh, kw, c), read straight from the zero-padded NHWC input. Each copied run is then a
# window row's KW * C values (unit stride) instead of a plane row, which is long enough once
# C is, and the GEMMs carry no junk columns (the planes' Wp - OW per row: 6%, 12% and 25% of
# the CIFAR CNN's 32, 16 and 8-wide layers); their output rows are already NHWC and the
# upstream gradient is already their (N*OH*OW, O) matrix. Few channels (LeNet-5's 1 and 6,
# an RGB input's 3) make runs of a few values; fewer filters than `blas.MIN_THREADED_SIDE`
# (64) are where the planes' GEMMs run by row blocks (`GEMM_BLOCK_BYTES`), which beat
# channels-last there on all but small images: both keep the planes. Measured (batch 32, 3x3
# SAME unless noted, one thread, CPU ms of forward + both gradients, interleaved, load
# average ~2.8, planes -> channels-last): 64 filters: 16x16x32 18.0 -> 15.3, 32x32x16
# 38.5 -> 33.4, 28x28x24 39.6 -> 37.5, 14x14x16 5x5 19.3 -> 16.2, 16x16x8 4.7 -> 4.4;
# 8x8x64 -> 128 15.3 -> 11.6 (the CIFAR CNN's are 16x16x32 -> 64 and 8x8x64 -> 128);
# 32 filters: 16x16x16 4.7 -> 4.5 but 32x32x16 20.6 -> 21.7, 28x28x24 21.1 -> 25.4;
# 16 filters: 32x32x16 13.6 -> 18.5. None: never.
CHANNELS_LAST_MIN_CHANNELS = 16
CHANNELS_LAST_MIN_FILTERS = 64


def _channels_last(layout):
    """Whether `layout`'s convolution runs on channels-last columns (see above)."""
    return (CHANNELS_LAST_MIN_CHANNELS is not None and layout.groups == 1
            and layout.c >= CHANNELS_LAST_MIN_CHANNELS
            and layout.o >= CHANNELS_LAST_MIN_FILTERS
            and layout.n * layout.oh * layout.ow > 0)


def _channels_last_kernels():
    # Their own module, loaded by the first such convolution: LeNet-5-sized models and
    # `import numpyflow` never need it.
    from numpyflow.backend.numpy import conv_channels_last
    return conv_channels_last


# -- kernels ------------------------------------------------------------------------------

def _transposed(matrix):
    """A matrix, or a stack of them (grouped), with its last two axes swapped."""
    return matrix.T if matrix.ndim == 2 else matrix.transpose(0, 2, 1)


def _work(layout):
    """Multiply-adds of one of the convolution's GEMMs (each of its three has this many)."""
    return (layout.n * layout.oh * layout.ow * layout.kh * layout.kw * layout.c
            // layout.groups * layout.o)


def _narrow_side(layout):
    """The smallest side of the convolution's GEMMs: its filters per group, or its window
    size (KH*KW*C/G) when that is smaller."""
    return min(layout.kh * layout.kw * layout.c // layout.groups, layout.o // layout.groups)


def _part_shape(shape, part):
    return (part[1] - part[0],) + tuple(shape[1:])


def _parts(layout):
    """The batch runs a kernel splits into: equal ones only (a batch that does not divide
    evenly, e.g. an odd last batch, runs whole), so that the forward's per-part column
    matrices stack into one array."""
    work = threads.full_speed_work(_work(layout), _narrow_side(layout), moves_data=True)
    parts = threads.batch_parts(layout.n, work)
    if len({hi - lo for lo, hi in parts}) > 1:
        return [(0, layout.n)]
    return parts


# Batches whose kernel intermediates outgrow the caches run as equal chunks of images, one
# after another (within each thread's part when split): the GEMM rows that the forward
# turns into NHWC and the filter gradient builds from dy, and above all the input
# gradient's per-window contributions, are then written and read back while in cache
# instead of memory. Per chunk at most about this many bytes of the forward's GEMM rows
# (OH * width * O per image) and of the input gradient's contributions (KH * KW * C * OH *
# width); None: never. Measured (LeNet-5 batch 128 run whole, one thread, CPU ms,
# interleaved, load average ~1.6, no chunks -> these): conv2's input gradient 2.51 -> 1.84
# (10.7 MB of contributions whole; 2 chunks of 64 images and 4 of 32 alike, 8 of 16 2.63:
# each chunk pays its ~26 NumPy calls again); conv1's forward 1.17 -> 1.15 and filter
# gradient 1.24 -> 1.11 (2.75 MB of rows whole). At batch 64 (5.4 and 1.4 MB; and each half
# of a split batch 128) chunks measured no gain (input gradient 0.89 whole, 0.93 in two):
# these budgets keep those whole.
FORWARD_CHUNK_BYTES = 2 * 1024 * 1024
INPUT_GRADIENT_CHUNK_BYTES = 6 * 1024 * 1024


def _chunks_per_part(images, image_bytes, budget):
    """How many equal chunks a part of `images` images runs in, each at most ~`budget`
    bytes (`image_bytes` per image): the smallest divisor of `images` from the count the
    budget asks for (at most one chunk per image) to twice that, or 1 (whole) when none is
    (a prime batch)."""
    if budget is None or images * image_bytes <= budget:
        return 1
    wanted = min(-(-images * image_bytes // budget), images)
    for count in range(wanted, min(2 * wanted, images) + 1):
        if images % count == 0:
            return count
    return 1


def _chunking(n, thread_count, chunks_per_thread):
    """The chunks' (start, stop) images, and the chunk indices each thread runs, in order."""
    chunk = n // (thread_count * chunks_per_thread)
    bounds = [(i * chunk, (i + 1) * chunk) for i in range(thread_count * chunks_per_thread)]
    groups = [list(range(t * chunks_per_thread, (t + 1) * chunks_per_thread))
              for t in range(thread_count)]
    return bounds, groups


def _run_chunks(groups, fn):
    """[fn(chunk index) for every chunk], each group of chunks one after another on one
    thread (several groups: across the cores, `threads.run_parts`)."""
    if len(groups) == 1:
        return [fn(index) for index in groups[0]]
    per_group = threads.run_parts(lambda group: [fn(index) for index in group], groups)
    return [result for results in per_group for result in results]


def _forward_by_chunks(layout, x, filters, thread_count):
    """`conv2d` of a unit-stride convolution whose columns are built by blocks: by equal
    chunks of images (`FORWARD_CHUNK_BYTES`) on `thread_count` threads. Saves the padded
    planes for the filter gradient: (C, Hp + 1, N, Wp) when in one chunk, else the chunks'
    planes stacked (5-D)."""
    chunks = _chunks_per_part(layout.n // thread_count,
                              layout.oh * layout.width * layout.o * x.itemsize,
                              FORWARD_CHUNK_BYTES)
    if thread_count == 1 and chunks == 1:
        planes = _planes(x, layout.pads)
        rows = _forward_by_blocks(layout, planes, layout.filter_matrix(filters),
                                  _block_rows_or_all(layout, x.itemsize))
        return layout.output(rows), planes
    bounds, groups = _chunking(layout.n, thread_count, chunks)
    piece = _Layout(_part_shape(x.shape, bounds[0]), filters.shape, layout.strides,
                    layout.dilations, layout.pads, reuse=thread_count > 1)
    size = _block_rows_or_all(piece, x.itemsize)
    filter_matrix = piece.filter_matrix(filters)
    result = np.empty((layout.n, layout.oh, layout.ow, layout.o), dtype=x.dtype)
    planes = np.zeros((len(bounds),) + _planes_shape(_part_shape(x.shape, bounds[0]),
                                                     layout.pads), x.dtype)

    def run(index):
        lo, hi = bounds[index]
        _planes(x[lo:hi], layout.pads, out=planes[index])
        rows = _forward_by_blocks(piece, planes[index], filter_matrix, size)
        piece.output(rows, out=result[lo:hi])
    _run_chunks(groups, run)
    return result, planes


def conv2d(x, filters, strides, dilations, pads, groups=1):
    """The convolution of NHWC `x` with HWIO `filters`, and what its filter gradient needs.

    Args:
      x: Array (N, H, W, C).
      filters: Array (KH, KW, C / groups, O).
      strides, dilations: (height, width) pairs.
      pads: ((top, bottom), (left, right)).
      groups: Channel groups (1: a plain convolution).

    Returns:
      (output (N, OH, OW, O), columns): the column matrix, or, when the work was split
      across cores, the per-part column matrices stacked on a new leading axis; when the
      columns were built by blocks (`COLUMNS_BY_BLOCKS`), the padded planes
      (C, Hp + 1, N, Wp) they were built from (split or chunked: the chunks' planes,
      stacked), for the filter gradient to build them again; with channels-last columns
      (`CHANNELS_LAST_MIN_CHANNELS`), a read-only (N, OH, OW, KH, KW, C) view of the
      padded input: the columns, unflattened, not copied.
    """
    layout = _Layout(x.shape, filters.shape, strides, dilations, pads, groups)
    parts = _parts(layout)
    if _channels_last(layout):
        return _channels_last_kernels().forward(layout, x, filters, parts)
    if _block_rows(layout, layout.o, x.itemsize):
        return _forward_by_chunks(layout, x, filters, len(parts))
    if len(parts) == 1:
        columns = layout.columns(x)
        out = _forward_product(columns, layout.filter_matrix(filters), blas.matmul)
        return layout.output(out), columns
    result = np.empty((layout.n, layout.oh, layout.ow, layout.o), dtype=x.dtype)
    piece = _Layout(_part_shape(x.shape, parts[0]), filters.shape, strides, dilations, pads,
                    groups, reuse=True)
    # Equal parts (see `_parts`): one array of per-part column matrices, saved as one value.
    columns = np.empty((len(parts),) + piece.column_shape(), dtype=x.dtype)

    def run(index):
        lo, hi = parts[index]
        piece.columns(x[lo:hi], out=columns[index])
        rows = _forward_product(columns[index], piece.filter_matrix(filters),
                                blas.matmul_one_thread)
        piece.output(rows, out=result[lo:hi])
    threads.run_parts(run, range(len(parts)))
    return result, columns


def _input_contributions(layout, filters, dy, gemm):
    filter_matrix, rows = layout.filter_matrix(filters), _transposed(layout.rows(dy))
    if filter_matrix.ndim == 3 and filter_matrix.shape[2] == 1:
        # Depthwise (one filter per group): each group's product is an outer product, which
        # a broadcast multiply computes several times faster than a batched GEMM.
        return filter_matrix * rows
    # (Not by row blocks: blocks writing into the (KH*KW*C, OH*N*width) result measured
    # ~25% slower for LeNet-5's conv2.)
    return gemm(filter_matrix, rows)


def conv2d_backprop_input(filters, dy, input_shape, strides, dilations, pads, groups=1):
    """The gradient of `conv2d` with respect to its input: an array of `input_shape`."""
    layout = _Layout(input_shape, filters.shape, strides, dilations, pads, groups)
    parts = _parts(layout)
    if _channels_last(layout):
        return _channels_last_kernels().backprop_input(layout, filters, dy, parts)
    chunks = _chunks_per_part(
        layout.n // len(parts),
        layout.kh * layout.kw * layout.c * layout.oh * layout.width * dy.itemsize,
        INPUT_GRADIENT_CHUNK_BYTES)
    if len(parts) == 1 and chunks == 1:
        return layout.col2im(_input_contributions(layout, filters, dy, blas.matmul))
    bounds, chunk_groups = _chunking(layout.n, len(parts), chunks)
    split = len(parts) > 1
    piece = _Layout(_part_shape(input_shape, bounds[0]), filters.shape, strides, dilations,
                    pads, groups, reuse=split)
    gemm = blas.matmul_one_thread if split else blas.matmul
    result = np.empty(input_shape, dtype=dy.dtype)

    def run(index):
        lo, hi = bounds[index]
        contributions = _input_contributions(piece, filters, dy[lo:hi], gemm)
        piece.col2im(contributions, out=result[lo:hi])
    _run_chunks(chunk_groups, run)
    return result


def conv2d_backprop_filter(x, dy, filter_shape, strides, dilations, pads, groups=1,
                           columns=None):
    """The gradient of `conv2d` with respect to its filters: an array of `filter_shape`.

    `columns` is what `conv2d` returned for `x` (built again when None, by blocks where
    `COLUMNS_BY_BLOCKS` applies): the column matrix, or per-part ones stacked (one more
    axis), whose products are summed, or the padded planes to build it from by blocks, or
    channels-last columns (6-D).
    """
    layout = _Layout(x.shape, filter_shape, strides, dilations, pads, groups)
    if (columns.ndim == 6 if columns is not None else _channels_last(layout)):
        return _channels_last_kernels().backprop_filter(layout, x, dy, filter_shape, columns)
    whole_ndim = 2 if groups == 1 else 3
    if groups == 1 and columns is not None and columns.ndim == 4:  # Planes (`conv2d`).
        total = _filter_gradient_by_blocks(layout, columns, layout.rows(dy),
                                           _block_rows_or_all(layout, x.itemsize))
        return layout.filter_from_matrix(total, filter_shape)
    if groups == 1 and columns is not None and columns.ndim == 5:  # Per-chunk planes.
        count = columns.shape[0]
        thread_count = len(_parts(layout))
        if count % thread_count:
            thread_count = 1
        bounds, chunk_groups = _chunking(layout.n, thread_count, count // thread_count)
        piece = _Layout(_part_shape(x.shape, bounds[0]), filter_shape, strides, dilations,
                        pads, groups, reuse=thread_count > 1)
        size = _block_rows_or_all(piece, x.itemsize)

        def run_by_blocks(index):
            lo, hi = bounds[index]
            return _filter_gradient_by_blocks(piece, columns[index], piece.rows(dy[lo:hi]),
                                              size)
        products = _run_chunks(chunk_groups, run_by_blocks)
        return layout.filter_from_matrix(sum(products[1:], products[0]), filter_shape)
    if columns is None:
        count = len(_parts(layout))
    else:
        count = columns.shape[0] if columns.ndim > whole_ndim else 1
    if count == 1:
        size = _block_rows(layout, layout.o, x.itemsize) if columns is None else None
        if size:
            total = _filter_gradient_by_blocks(layout, _planes(x, pads), layout.rows(dy),
                                               size)
            return layout.filter_from_matrix(total, filter_shape)
        if columns is None:
            columns = layout.columns(x)
        return layout.filter_from_matrix(_filter_product(columns, layout.rows(dy), blas.matmul),
                                         filter_shape)
    parts = threads.even_parts(layout.n, count)
    piece = _Layout(_part_shape(x.shape, parts[0]), filter_shape, strides, dilations, pads,
                    groups, reuse=True)

    def run(index):
        lo, hi = parts[index]
        part_columns = piece.columns(x[lo:hi]) if columns is None else columns[index]
        return _filter_product(part_columns, piece.rows(dy[lo:hi]), blas.matmul_one_thread)
    products = threads.run_parts(run, range(count))
    total = products[0]
    for product in products[1:]:
        total += product
    return layout.filter_from_matrix(total, filter_shape)
