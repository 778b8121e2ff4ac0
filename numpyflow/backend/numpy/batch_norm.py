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

Measured (session 7, main-thread CPU per CIFAR CNN step, the three BatchNormalization
layers at batch 64, load average ~4 on 2 shared cores): ~19 ms composed, ~15 ms with
these kernels. `tests/backend/test_batch_norm_kernels.py` checks them against NumPy.
"""

import numpy as np

from numpyflow.backend import blas

# Bytes of each operand per block. A block and its temporaries stay in L2 (1 MiB a core
# here) or at worst L3; smaller blocks pay more per-block NumPy calls (measured: 128 KiB
# ~15% slower over the CIFAR CNN's three layers, 256-512 KiB alike, 1 MiB no better).
BLOCK_BYTES = 256 * 1024
# Inner-loop width to aim for when viewing a block as (rows / k, k * channels).
WIDE_ELEMENTS = 1024


def _layout(x2d):
    """(k, block_rows): the widening factor (it divides the row count) and the rows per
    block (a multiple of k). `x2d` is not empty."""
    rows, channels = x2d.shape
    k = 1
    while k * 2 * channels <= WIDE_ELEMENTS and rows % (k * 2) == 0:
        k *= 2
    block_rows = max(k, BLOCK_BYTES // (channels * x2d.itemsize) // k * k)
    return k, block_rows


def _blocks(rows, block_rows):
    for begin in range(0, rows, block_rows):
        yield begin, min(begin + block_rows, rows)


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
    block_means = np.empty((-(-rows // block_rows), width), dtype=dtype)
    block_counts = np.empty(block_means.shape[0], dtype=dtype)
    squares = np.zeros(width, dtype=dtype)
    scratch = np.empty((block_rows // k, width), dtype=dtype)
    for index, (begin, stop) in enumerate(_blocks(rows, block_rows)):
        block = _wide(x2d[begin:stop], k)
        count = block.shape[0]
        mean = np.divide(_column_sums(ones, block), dtype.type(count), out=block_means[index])
        centered = np.subtract(block, mean, out=scratch[:count])
        squares += np.einsum("ij,ij->j", centered, centered)
        block_counts[index] = count
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
    for begin, stop in _blocks(x2d.shape[0], block_rows):
        target = _wide(out[begin:stop], k)
        count = target.shape[0]
        np.multiply(_wide(x2d[begin:stop], k), wide_scale[:count], out=target)
        target += wide_shift[:count]
    return out


def gradient_sums(dy2d, x2d, mean):
    """(2, channels): per column, `sum(dy)` and `sum(dy * (x - mean))`.

    Whole-array, not blocked: `sum(dy * x) - mean * sum(dy)` is one GEMV and one einsum
    reduction, ~2x faster than centering x block by block (measured on the CIFAR CNN's
    activations). It is the composed gradient's own arithmetic (`tf.nn.moments` +
    `tf.nn.batch_normalization` differentiate to the same uncentered sum), so it loses
    nothing against it; only the variance needs centering (see `moments`).
    """
    rows, channels = x2d.shape
    if x2d.size == 0:
        return np.zeros((2, channels), dtype=x2d.dtype)
    if _is_small(x2d):
        sum_dy = np.add.reduce(dy2d, axis=0)
        return _pair(sum_dy, np.einsum("ij,ij->j", x2d, dy2d) - mean * sum_dy)
    k, _ = _layout(x2d)
    sum_dy = blas.column_sums(dy2d)
    products = _folded(np.einsum("ij,ij->j", _wide(x2d, k), _wide(dy2d, k)), k, channels)
    return _pair(sum_dy, products - mean * sum_dy)


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
    scratch = np.empty((block_rows // k, k * channels), dtype=x2d.dtype)
    for begin, stop in _blocks(rows, block_rows):
        target = _wide(out[begin:stop], k)
        count = target.shape[0]
        np.multiply(_wide(dy2d[begin:stop], k), wide_dy_scale[:count], out=target)
        scaled = np.multiply(_wide(x2d[begin:stop], k), wide_x_scale[:count],
                             out=scratch[:count])
        scaled += wide_shift[:count]
        target += scaled
    return out
