"""Training-mode batch normalization kernels on channels-last arrays seen as (rows, channels).

Batch normalization does a few per-channel multiply-adds per element. On a CNN's
activations (64x32x32x32 floats: 8 MB, which this machine's L3 holds) the time goes to
NumPy's passes over the elements, and NumPy's broadcasts of a 32-value row are slow ones.
The composed ops (`tf.nn.moments` + `tf.nn.batch_normalization` and their gradients) make
~6 such passes forward and ~12 backward; these kernels make 2 and 4:

  * Column sums (a mean, the gradient's `sum(dy)`) are BLAS GEMVs, ~10x faster than
    NumPy's `sum(axis=0)` over few, narrow columns.
  * Chains of elementwise steps run block by block (`BLOCK_BYTES` of rows at a time), so a
    block's intermediate results stay in the cache while the next step reads them.
  * A block of (rows, channels) is viewed as (rows / k, k * channels), with the per-channel
    factors repeated to the block's shape, so NumPy's inner loops run over ~1,000
    contiguous elements of same-shaped operands instead of broadcasting `channels` values
    row by row.
  * On large arrays (`SPLIT_FROM_BYTES`) the blocks are shared out between the cores
    (`backend.threads.run_parts`): in a CNN's step batch normalization runs between the
    split convolutions, on the main thread while the second core idles. Every block is
    computed as on one core and partial sums are added in a fixed order, so the numbers do
    not depend on the split.

Measured (main-thread CPU per CIFAR CNN step, the three BatchNormalization layers at batch
64, load average ~4 on 2 shared cores): ~19 ms composed, ~15 ms with these kernels. Split
(interleaved A/B in one process, load ~0.9-1.5, the four kernels on the CIFAR CNN's layer
shapes): (65536, 32) 5.4 ms whole -> 3.4 ms main-thread CPU, 4.3 ms wall split; (16384, 64)
2.6 -> 1.9 / 2.4; (4096, 128) lost (1.28 whole -> 1.44 wall split), hence the 4 MiB
threshold. The whole CIFAR CNN step on the quiet machine (2026-11-30, load ~1.06, fresh
processes alternated, 6 rounds): 46.3 ms wall unsplit, 44.0 split from 4 MiB (faster in 6
of 6 rounds), 44.6 from 2 MiB.
`tests/backend/test_batch_norm_kernels.py` checks them against NumPy,
`tests/backend/test_batch_norm_split.py` split against whole.
"""

import numpy as np

from numpyflow.backend import blas, threads

# Bytes of each operand per block. A block and its temporaries stay in L2 (1 MiB a core
# here) or at worst L3; smaller blocks pay more per-block NumPy calls (measured: 128 KiB
# ~15% slower over the CIFAR CNN's three layers, 256-512 KiB alike, 1 MiB no better).
BLOCK_BYTES = 256 * 1024
# Inner-loop width to aim for when viewing a block as (rows / k, k * channels).
WIDE_ELEMENTS = 1024
# Arrays of at least this many bytes have their blocks shared out between the cores
# (`backend.threads.run_parts`; each block is computed as when run whole, so the numbers do
# not change). Batch normalization runs between the split convolutions, when the second
# core is otherwise idle. None: never split (for A/B measurements).
SPLIT_FROM_BYTES = 4 * 1024 * 1024
# Parts per core when split: more, smaller parts let the calling thread take over those a
# late worker has not started (a busy machine: at load ~2.3 on 2 cores, layers 1 + 2 of the
# CIFAR CNN, wall ms whole / 1 / 2 / 4 parts per core: 11.6 / 15.3 / 12.5 / 12.0), at ~20-50
# us of hand-off each. 1: the quiet machine's measurement above used it.
PARTS_PER_CORE = 1
# `gradient_sums` sums this many runs of rows apart, then adds them up in order (see there).
GRADIENT_SUM_RUNS = 2


def _layout(x2d):
    """(k, block_rows): the widening factor (it divides the row count) and the rows per
    block (a multiple of k). `x2d` is not empty."""
    rows, channels = x2d.shape
    k = 1
    while k * 2 * channels <= WIDE_ELEMENTS and rows % (k * 2) == 0:
        k *= 2
    block_rows = max(k, BLOCK_BYTES // (channels * x2d.itemsize) // k * k)
    return k, block_rows


def _splits(x2d):
    """Whether the cores share the work on `x2d` (see `SPLIT_FROM_BYTES`)."""
    return SPLIT_FROM_BYTES is not None and x2d.size * x2d.itemsize >= SPLIT_FROM_BYTES


def _block_parts(x2d, block_rows):
    """Runs of block indices, (start, stop): one per core for a large `x2d`, else one."""
    count = -(-x2d.shape[0] // block_rows)
    return threads.even_parts(count, threads.cores() * PARTS_PER_CORE if _splits(x2d) else 1)


def _each_block(x2d, block_rows, block_fn, scratch_shape):
    """Calls `block_fn(index, begin, stop, scratch)` for every block of `x2d`'s rows, the
    blocks shared out between the cores when `x2d` is large. `block_fn` writes its own
    block's results only; `scratch` (of `scratch_shape`, `x2d`'s dtype) is its part's."""
    rows = x2d.shape[0]

    def run(part):
        scratch = np.empty(scratch_shape, dtype=x2d.dtype)
        for index in range(*part):
            begin = index * block_rows
            block_fn(index, begin, min(begin + block_rows, rows), scratch)

    threads.run_parts(run, _block_parts(x2d, block_rows))


def _wide(block, k):
    return block.reshape(-1, k * block.shape[1])


def _tiled(vector, k, block_rows, dtype):
    """A per-channel vector repeated to a whole wide block's shape: NumPy multiplies two
    arrays of one shape ~1.5x faster than it broadcasts a row over a block (measured on
    256 KiB blocks in cache), and the copy is one block, made once per call."""
    return np.tile(np.asarray(vector, dtype=dtype), (block_rows // k, k))


def _is_small(x2d):
    """Whether `x2d` fits in one block: then plain broadcasting NumPy, whose few calls cost
    less than the blocks' setup (a Dense layer's (32, 64) activations: ~5x less)."""
    return x2d.size * x2d.itemsize <= BLOCK_BYTES


def _folded(wide_sums, k, channels):
    """Per-channel totals of sums over a (., k * channels) view."""
    return wide_sums.reshape(k, channels).sum(axis=0)


def _pair(first, second):
    """(2, channels) from two per-channel vectors (np.stack's checks cost more, small)."""
    out = np.empty((2,) + first.shape, dtype=first.dtype)
    out[0], out[1] = first, second
    return out


def _ones(rows, dtype):
    return np.ones((1, rows), dtype=dtype)


def _column_sums(ones, block):
    """Column sums of a block as a one-thread GEMV: ~10x NumPy's `sum(axis=0)` over
    narrow columns (see `blas.column_sums`)."""
    return blas.matmul_one_thread(ones[:, :block.shape[0]], block)[0]


def moments(x2d):
    """(2, channels): each column's mean and biased variance, in one pass over `x2d`.

    Each block's squares are of values centered on the block's own mean (no
    `E[x^2] - E[x]^2` cancellation); the blocks' (count, mean, sum of squares) are merged
    at the end with Chan et al.'s pairwise formula, all blocks at once.
    """
    rows, channels = x2d.shape
    if x2d.size == 0:  # NaN statistics of no values (NumPy's mean of nothing), or none.
        return np.full((2, channels), np.nan, dtype=x2d.dtype)
    if _is_small(x2d):
        count = x2d.dtype.type(rows)
        mean = np.add.reduce(x2d, axis=0) / count
        centered = x2d - mean
        return _pair(mean, np.einsum("ij,ij->j", centered, centered) / count)
    k, block_rows = _layout(x2d)
    dtype, width = x2d.dtype, k * channels
    ones = _ones(block_rows // k, dtype)
    block_count = -(-rows // block_rows)
    block_means = np.empty((block_count, width), dtype=dtype)
    block_counts = np.empty(block_count, dtype=dtype)
    block_squares = np.empty((block_count, width), dtype=dtype)

    def block_moments(index, begin, stop, scratch):
        block = _wide(x2d[begin:stop], k)
        count = block.shape[0]
        mean = np.divide(_column_sums(ones, block), dtype.type(count), out=block_means[index])
        centered = np.subtract(block, mean, out=scratch[:count])
        np.einsum("ij,ij->j", centered, centered, out=block_squares[index])
        block_counts[index] = count

    _each_block(x2d, block_rows, block_moments, (block_rows // k, width))
    # Block by block, in order: the same sums as one thread adding them up as it went.
    squares = np.zeros(width, dtype=dtype)
    for block_sum in block_squares:
        squares += block_sum
    # Merge the blocks, then the k wide columns of each channel (equal counts).
    total = dtype.type(rows // k)
    wide_mean = block_counts @ block_means / total
    deviations = block_means - wide_mean
    squares += block_counts @ (deviations * deviations)
    wide_mean = wide_mean.reshape(k, channels)
    mean = wide_mean.mean(axis=0)
    squares = _folded(squares, k, channels) + total * ((wide_mean - mean) ** 2).sum(axis=0)
    return _pair(mean, squares / dtype.type(rows))


def scale_and_shift(x2d, scale, shift):
    """`x2d * scale + shift` with per-column `scale` and `shift`."""
    if x2d.size == 0:
        return np.empty_like(x2d)
    if _is_small(x2d):
        out = x2d * scale
        out += shift
        return out
    k, block_rows = _layout(x2d)
    wide_scale = _tiled(scale, k, block_rows, x2d.dtype)
    wide_shift = _tiled(shift, k, block_rows, x2d.dtype)
    out = np.empty_like(x2d)

    def block_scale_and_shift(index, begin, stop, scratch):
        target = _wide(out[begin:stop], k)
        count = target.shape[0]
        np.multiply(_wide(x2d[begin:stop], k), wide_scale[:count], out=target)
        target += wide_shift[:count]

    _each_block(x2d, block_rows, block_scale_and_shift, (0,))
    return out


def gradient_sums(dy2d, x2d, mean):
    """(2, channels): per column, `sum(dy)` and `sum(dy * (x - mean))`.

    As `sum(dy * x) - mean * sum(dy)`, over whole runs of rows, not blocks: one GEMV and
    one einsum reduction per run, ~2x faster than centering x block by block and ~1.7x
    faster than summing block by block (measured on the CIFAR CNN's activations). It is
    the composed gradient's own arithmetic (`tf.nn.moments` + `tf.nn.batch_normalization`
    differentiate to the same uncentered sum), so it loses nothing against it; only the
    variance needs centering (see `moments`). Always `GRADIENT_SUM_RUNS` runs, their sums
    added in order, whether the cores share them or one core takes them all: the result
    does not depend on the core count.
    """
    rows, channels = x2d.shape
    if x2d.size == 0:
        return np.zeros((2, channels), dtype=x2d.dtype)
    if _is_small(x2d):
        sum_dy = np.add.reduce(dy2d, axis=0)
        return _pair(sum_dy, np.einsum("ij,ij->j", x2d, dy2d) - mean * sum_dy)
    k, _ = _layout(x2d)
    # Run boundaries on multiples of k, so that each run has a (rows / k, k * channels) view.
    runs = [(begin * k, stop * k) for begin, stop in threads.even_parts(rows // k,
                                                                        GRADIENT_SUM_RUNS)]
    cores = threads.cores() if _splits(x2d) else 1

    def run_sums(run):
        dy_run, x_run = dy2d[run[0]:run[1]], x2d[run[0]:run[1]]
        products = np.einsum("ij,ij->j", _wide(x_run, k), _wide(dy_run, k))
        return blas.column_sums(dy_run), products

    def part_sums(part):
        return [run_sums(run) for run in runs[part[0]:part[1]]]

    parts = threads.run_parts(part_sums, threads.even_parts(len(runs), cores))
    per_run = [sums for part in parts for sums in part]
    sum_dy, products = per_run[0]
    for run_dy, run_products in per_run[1:]:
        sum_dy = sum_dy + run_dy
        products = products + run_products
    return _pair(sum_dy, _folded(products, k, channels) - mean * sum_dy)


def input_gradient(dy2d, x2d, dy_scale, x_scale, shift):
    """`dy * dy_scale + x * x_scale + shift` with per-column factors."""
    rows, channels = x2d.shape
    if x2d.size == 0:
        return np.empty_like(x2d)
    if _is_small(x2d):
        out = dy2d * dy_scale
        scaled = x2d * x_scale
        scaled += shift
        out += scaled
        return out
    k, block_rows = _layout(x2d)
    wide_dy_scale = _tiled(dy_scale, k, block_rows, x2d.dtype)
    wide_x_scale = _tiled(x_scale, k, block_rows, x2d.dtype)
    wide_shift = _tiled(shift, k, block_rows, x2d.dtype)
    out = np.empty_like(x2d)

    def block_input_gradient(index, begin, stop, scratch):
        target = _wide(out[begin:stop], k)
        count = target.shape[0]
        np.multiply(_wide(dy2d[begin:stop], k), wide_dy_scale[:count], out=target)
        scaled = np.multiply(_wide(x2d[begin:stop], k), wide_x_scale[:count],
                             out=scratch[:count])
        scaled += wide_shift[:count]
        target += scaled

    _each_block(x2d, block_rows, block_input_gradient, (block_rows // k, k * channels))
    return out
