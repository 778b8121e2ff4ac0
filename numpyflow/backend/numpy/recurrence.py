"""NumPy kernels of the fused recurrences (`ops/rnn_ops.py`): SimpleRNN, LSTM and GRU over
a whole sequence, forward and backward (backpropagation through time).

Forwards take the op's arrays and return (output, saved): the state after every step,
batch-major, in processing order, and the values the backward needs. Backwards take the
upstream gradient, the saved values, kernel, recurrent_kernel and the mask (if any, as a
last positional argument) and return all input gradients packed in one flat vector, in
the op's input order (x's only when `need_x`). Masks are boolean (batch, time).

Inside, everything is time-major (time, batch, ...): the input projection for all steps
first, then one `(batch, units) @ (units, k * units)` GEMM per step. Large enough batches
run as two halves on two cores (`_recurrence_parts`), per-step products in blocks that
OpenBLAS's small-matrix kernel takes (`_row_blocks`), and the weight gradients, summed
over time and batch, as GEMMs split by columns (`_products`).

Keras's weight layouts: kernel (features, k * units), recurrent_kernel (units, k * units),
gate order i, f, c, o for LSTM and z, r, h for GRU; GRU's bias is (2, 3 * units) with
`reset_after` (input bias, recurrent bias) and (3 * units,) without.
"""

import numpy as np

from numpyflow.backend import blas, threads


# -- shared pieces ------------------------------------------------------------------------

def _sigmoid(z, out=None):
    """Logistic sigmoid as 0.5 * tanh(z / 2) + 0.5: no overflow, one transcendental."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


# The second core: a recurrence's batch rows are independent, so its time loop runs as one
# run of rows per core (`backend.threads`), each on one BLAS thread; NumPy's ufuncs (over
# more than 500 elements) and BLAS release the GIL, so the runs overlap except for the
# Python between calls. Only per-step products of at least SPLIT_STEP_ABOVE multiply-adds
# over batches of at least 2 * MIN_SPLIT_ROWS rows split: each run repeats every NumPy
# call of a step on fewer rows (measured, both halves run one after the other on one core:
# the batch-32, 128-unit LSTM's forward and backward cost 10% more CPU than whole, its GRU
# 15%, and at 64 units or batch 8 30-40% more). When the other core is busy (other
# processes), a split costs about that much more than running whole. On the quiet machine
# (2026-11-30, load 0.7-0.9, splitting on and off alternately in one process, ms per
# LSTM(128) training step over 28 rows): batch 32 (2.1 M multiply-adds per step) 8.6 split
# vs 7.3 whole, so it runs whole; batch 128 (8.4 M) 23.4 vs 29.2. Hence 4 M.
SPLIT_STEP_ABOVE = 4_000_000
MIN_SPLIT_ROWS = 8


def _recurrence_parts(batch, units, gates):
    """The (start, stop) batch runs a recurrence's time loop is split into (one, or one per
    core), with BLAS's thread count set for them.

    Whole, the count follows the per-step product (batch, units) @ (units, gates * units)
    (one thread at the usual sizes, see backend/blas.py): measured on the 2 busy cores here,
    a second OpenBLAS thread made the (896, 128).T @ (896, 512) weight gradient 5x slower
    (34 ms against 6 ms). Split, each run uses one BLAS thread.
    """
    per_step = batch * units * gates * units
    count = threads.cores() if (batch >= 2 * MIN_SPLIT_ROWS
                                and per_step >= SPLIT_STEP_ABOVE) else 1
    parts = threads.even_parts(batch, count)
    blas.use_threads_for(0 if len(parts) > 1 else per_step)
    return parts


# OpenBLAS multiplies matrices of at most 100^3 multiply-adds with its small-matrix kernel
# (on AVX-512 CPUs such as this one), much faster per multiply-add than its general path
# just above that size. Measured, (rows, 128) @ (128, 512) on one thread: 8 rows 11.5 us,
# 15 rows 24.4 us, 16 rows 36.6 us, 32 rows 60.6 us, and 32 rows as four blocks of 8
# 45.6 us (as 11/11/10 rows: 54 us). So a per-step product over more rows than fit is
# computed in blocks of SMALL_GEMM_ROWS rows.
SMALL_GEMM = 1_000_000
SMALL_GEMM_ROWS = 8


def _row_blocks(rows, inner, columns):
    """The (start, stop) row blocks in which `_step_product` computes a per-step product
    (rows, inner) @ (inner, columns): blocks of SMALL_GEMM_ROWS rows when the whole is
    above OpenBLAS's small-matrix size and such a block is not, else one block."""
    if (rows * inner * columns <= SMALL_GEMM or SMALL_GEMM_ROWS * inner * columns > SMALL_GEMM
            or not blas.is_controlled()):
        return [(0, rows)]
    return [(lo, min(lo + SMALL_GEMM_ROWS, rows)) for lo in range(0, rows, SMALL_GEMM_ROWS)]


def _step_product(a, b, out, blocks):
    """out = a @ b, one product per row block of `blocks` (from `_row_blocks`)."""
    for lo, hi in blocks:
        np.matmul(a[lo:hi], b, out=out[lo:hi])


def _transposed(matrix, parts):
    """matrix.T for the backward's per-step products (rows, m) @ matrix.T over the row runs
    `parts`: the view when they run in small-matrix blocks (`_row_blocks`), else a
    contiguous copy. Measured, (32, 512) @ (512, 128): whole 56 us with the copy against
    85 us with the view; in blocks of 8 rows 43 against 46 us. The copy itself costs
    ~150 us (128 x 512 float32: a transposing copy reads with a large stride)."""
    rows = max(hi - lo for lo, hi in parts)
    if len(_row_blocks(rows, matrix.shape[1], matrix.shape[0])) > 1:
        return matrix.T
    return np.ascontiguousarray(matrix.T)


def _products(pairs):
    """[a @ b for a, b in pairs], 2-D. When their total work is large enough
    (`threads.batch_parts`' policy), each b is split by columns into one block per core,
    computed side by side on one BLAS thread each; else they run here on one BLAS thread
    (OpenBLAS's own second thread lost 5x on these shapes, see `_recurrence_parts`)."""
    outs = [np.empty((a.shape[0], b.shape[1]), dtype=b.dtype) for a, b in pairs]
    work = sum(a.shape[0] * a.shape[1] * b.shape[1] for a, b in pairs)
    count = len(threads.batch_parts(min(b.shape[1] for _, b in pairs), work))
    blas.use_threads_for(0)
    if count == 1:
        for (a, b), out in zip(pairs, outs):
            np.matmul(a, b, out=out)
        return outs

    def run(k):
        for (a, b), out in zip(pairs, outs):
            lo, hi = threads.even_parts(b.shape[1], count)[k]
            np.matmul(a, b[:, lo:hi], out=out[:, lo:hi])

    threads.run_parts(run, range(count))
    return outs


def _time_major(x, mask, go_backwards):
    """x as (time, batch, features) in processing order; mask as (time, batch, 1) bool.

    x is copied (contiguous for the GEMMs): the forward saves it for the gradient, and a
    view would share the input's buffer, which a compiled plan may reuse once it is dead.
    """
    xt = x.transpose(1, 0, 2)
    mt = None if mask is None else mask.T[:, :, None]
    if go_backwards:
        xt = xt[::-1]
        mt = None if mt is None else mt[::-1]
    return np.ascontiguousarray(xt), mt


def _mask_time_major(mask, go_backwards):
    """The (batch, time) mask as (time, batch, 1), in processing order."""
    mt = mask.T[:, :, None]
    return mt[::-1] if go_backwards else mt


def _project(xt, kernel, bias, z, lo, hi):
    """z[:, lo:hi] = xt[:, lo:hi] @ kernel (+ bias): the input projection of a run of batch
    rows for all steps, before its time loop (on the run's thread). One product per step
    (NumPy loops over the time axis): at batch 32 this measured faster than the single
    (time * batch, features) GEMM (296 against 351 us), whose inner size is only the
    feature count."""
    rows = z[:, lo:hi]
    np.matmul(xt[:, lo:hi], kernel, out=rows)
    if bias is not None:
        rows += bias


def _weight_grads(dz, xt, kernel, go_backwards, need_x, recurrent, use_bias):
    """The gradients of the GEMMs around a recurrence's time loop, from dz (time, batch, k)
    the gradient of x @ kernel (+ bias): dx (batch-major, input order; None unless
    `need_x`), dkernel, dbias (None unless `use_bias`), and [a.T @ d for a, d in
    `recurrent`] (each (time, batch, m) and (time, batch, k'): the recurrent weights'
    gradients, summed over time and batch). All in one `_products` call, so that together
    they split across the cores."""
    steps, batch, features = xt.shape

    def flat(a):
        return a.reshape(steps * batch, a.shape[-1])

    pairs = [(flat(xt).T, flat(dz))] + [(flat(a).T, flat(d)) for a, d in recurrent]
    if use_bias:  # Column sums as a GEMV: ~10x faster than sum(axis=0) for tall matrices.
        pairs.append((np.ones((1, steps * batch), dtype=dz.dtype), flat(dz)))
    if need_x:
        pairs.append((flat(dz), kernel.T))
    outs = _products(pairs)
    dkernel, drecurrent = outs[0], outs[1:1 + len(recurrent)]
    dbias = outs[1 + len(recurrent)][0] if use_bias else None
    dx = None
    if need_x:
        dxt = outs[-1].reshape(steps, batch, features)
        if go_backwards:
            dxt = dxt[::-1]
        dx = np.ascontiguousarray(dxt.transpose(1, 0, 2))
    return dx, dkernel, drecurrent, dbias


# -- SimpleRNN --------------------------------------------------------------------------

def simple_forward(x, h0, kernel, recurrent_kernel, bias, mask, *, activation, go_backwards):
    """The SimpleRNN recurrence: (output (batch, time, units), saved for the gradient)."""
    xt, mt = _time_major(x, mask, go_backwards)
    u = recurrent_kernel
    steps, batch, _ = xt.shape
    units = u.shape[0]
    z = np.empty((steps, batch, units), dtype=xt.dtype)
    states = np.empty((steps + 1, batch, units), dtype=z.dtype)
    states[0] = h0
    activated = np.empty_like(z)  # The new state before masking (for the gradient).

    def run(part):
        lo, hi = part
        _project(xt, kernel, bias, z, lo, hi)
        rows_states, rows_activated, rows_z = states[:, lo:hi], activated[:, lo:hi], z[:, lo:hi]
        blocks = _row_blocks(hi - lo, units, units)
        for s in range(steps):
            a = rows_activated[s]
            _step_product(rows_states[s], u, a, blocks)
            a += rows_z[s]
            if activation == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            rows_states[s + 1] = a
            if mt is not None:
                np.copyto(rows_states[s + 1], rows_states[s], where=~mt[s, lo:hi])

    threads.run_parts(run, _recurrence_parts(batch, units, 1))
    return states[1:].transpose(1, 0, 2), (xt, states, activated)


def simple_backward(dy, xt, states, activated, kernel, recurrent_kernel, *mask,
                    activation, use_bias, go_backwards, need_x=True):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    dyt = dy.transpose(1, 0, 2)
    steps, batch, units = activated.shape
    da_all = np.empty_like(activated)
    dh_first = np.zeros((batch, units), dtype=dy.dtype)  # The gradient of h0.
    parts = _recurrence_parts(batch, units, 1)
    u_t = _transposed(recurrent_kernel, parts)

    def run(part):
        lo, hi = part
        dh = dh_first[lo:hi]
        blocks = _row_blocks(hi - lo, units, units)
        for s in range(steps - 1, -1, -1):
            dh += dyt[s, lo:hi]
            if mt is not None:
                dh_new = dh * mt[s, lo:hi]
                dh_keep = dh - dh_new
            else:
                dh_new = dh
            a = activated[s, lo:hi]
            da = da_all[s, lo:hi]
            if activation == "tanh":
                np.multiply(a, a, out=da)
                np.subtract(1, da, out=da)
                da *= dh_new
            else:
                np.multiply(dh_new, a > 0, out=da)
            _step_product(da, u_t, dh, blocks)
            if mt is not None:
                dh += dh_keep

    threads.run_parts(run, parts)
    dx, dkernel, (drecurrent,), dbias = _weight_grads(
        da_all, xt, kernel, go_backwards, need_x, [(states[:-1], da_all)], use_bias)
    pieces = [dx, dh_first, dkernel, drecurrent, dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- LSTM -------------------------------------------------------------------------------

def lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, mask, *, go_backwards):
    """The LSTM recurrence: (output (batch, time, 2 * units) [h, c], saved for the
    gradient)."""
    xt, mt = _time_major(x, mask, go_backwards)
    steps, batch, _ = xt.shape
    n = recurrent_kernel.shape[0]
    # sigmoid(v) = 0.5 * tanh(v / 2) + 0.5: halving the i, f, o columns of the weights
    # (exact in floating point) lets one tanh over all four gates activate them.
    dtype = xt.dtype
    scale = np.full(4 * n, 0.5, dtype=dtype)
    scale[2 * n:3 * n] = 1
    offset = np.where(scale == 1, 0, 0.5).astype(dtype)
    kernel, u = kernel * scale, recurrent_kernel * scale
    bias = None if bias is None else bias * scale
    parts = _recurrence_parts(batch, n, 4)
    # Per step, scale and offset as whole (rows, 4 * units) arrays: NumPy multiplies by a
    # broadcast (4 * units,) row at half the speed (measured 3.8 and 4.8 us against 2.0 and
    # 2.1 us per step at batch 32, 128 units).
    rows = max(hi - lo for lo, hi in parts)
    scale = np.ascontiguousarray(np.broadcast_to(scale, (rows, 4 * n)))
    offset = np.ascontiguousarray(np.broadcast_to(offset, (rows, 4 * n)))
    states = np.empty((steps + 1, batch, 2 * n), dtype=dtype)  # [h, c] per step.
    states[0, :, :n] = h0
    states[0, :, n:] = c0
    z = np.empty((steps, batch, 4 * n), dtype=dtype)  # The input projections.
    gates = np.empty_like(z)  # Activated i, f, g (candidate), o.
    tanh_c = np.empty((steps, batch, n), dtype=dtype)

    def run(part):
        lo, hi = part
        _project(xt, kernel, bias, z, lo, hi)
        rows_states, rows_gates = states[:, lo:hi], gates[:, lo:hi]
        rows_z, rows_tanh_c = z[:, lo:hi], tanh_c[:, lo:hi]
        product = np.empty((hi - lo, n), dtype=dtype)  # i * g
        rows_scale, rows_offset = scale[:hi - lo], offset[:hi - lo]
        blocks = _row_blocks(hi - lo, n, 4 * n)
        for s in range(steps):
            h, c = rows_states[s, :, :n], rows_states[s, :, n:]
            g = rows_gates[s]
            _step_product(h, u, g, blocks)
            g += rows_z[s]
            np.tanh(g, out=g)
            g *= rows_scale
            g += rows_offset
            new_h, new_c = rows_states[s + 1, :, :n], rows_states[s + 1, :, n:]
            np.multiply(g[:, n:2 * n], c, out=new_c)
            np.multiply(g[:, :n], g[:, 2 * n:3 * n], out=product)
            new_c += product
            np.tanh(new_c, out=rows_tanh_c[s])
            np.multiply(g[:, 3 * n:], rows_tanh_c[s], out=new_h)
            if mt is not None:
                skip = ~mt[s, lo:hi]
                np.copyto(new_h, h, where=skip)
                np.copyto(new_c, c, where=skip)

    threads.run_parts(run, parts)
    return states[1:].transpose(1, 0, 2), (xt, states, gates, tanh_c)


def lstm_backward(dy, xt, states, gates, tanh_c, kernel, recurrent_kernel, *mask,
                  use_bias, go_backwards, need_x=True):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    dyt = dy.transpose(1, 0, 2)
    steps, batch, four = gates.shape
    n = four // 4
    dtype = gates.dtype
    parts = _recurrence_parts(batch, n, 4)
    # The local derivatives of every step, computed before the loop over time:
    #   d c'/d z = [cand * i(1-i), c * f(1-f), i (1-cand^2)] (for i, f, cand), times dc_total,
    #   d h'/d z_o = tanh(c') o(1-o), d h'/d c' = o (1 - tanh(c')^2).
    through_c = np.empty((steps, batch, 3, n), dtype=dtype)
    through_o = np.empty((steps, batch, n), dtype=dtype)
    h_to_c = np.empty((steps, batch, n), dtype=dtype)
    scratch = np.empty((steps, batch, n), dtype=dtype)
    dz_all = np.empty_like(gates)
    dh_first = np.zeros((batch, n), dtype=dtype)  # The gradients of h0 and c0.
    dc_first = np.zeros((batch, n), dtype=dtype)
    u_t = _transposed(recurrent_kernel, parts)
    # Steps whose output gradient is zero (all but the last without return_sequences).
    live = dy.any(axis=(0, 2))

    def run(part):
        lo, hi = part
        g4 = gates[:, lo:hi].reshape(steps, hi - lo, 4, n)
        i, f, cand, o = g4[:, :, 0], g4[:, :, 1], g4[:, :, 2], g4[:, :, 3]
        tc, t = tanh_c[:, lo:hi], scratch[:, lo:hi]
        rows_c, rows_o, rows_hc = through_c[:, lo:hi], through_o[:, lo:hi], h_to_c[:, lo:hi]
        # In place (out=) into buffers made on the calling thread: large temporaries made
        # on a pool thread come from its own glibc arena and page-fault afresh each time
        # (see backend/allocator.py). s(1 - s) of every gate first, over whole rows of
        # `gates` into dz's buffer (the loop overwrites it): one gate's values are strided,
        # and NumPy takes ~3x as long per value over those (measured 33 against 12 us).
        rows_dz = dz_all[:, lo:hi]
        dz4 = rows_dz.reshape(steps, hi - lo, 4, n)
        np.subtract(1, gates[:, lo:hi], out=rows_dz)
        rows_dz *= gates[:, lo:hi]
        np.multiply(dz4[:, :, 0], cand, out=rows_c[:, :, 0])
        np.multiply(dz4[:, :, 1], states[:-1, lo:hi, n:], out=rows_c[:, :, 1])
        np.multiply(dz4[:, :, 3], tc, out=rows_o)
        np.multiply(cand, cand, out=t)
        np.subtract(1, t, out=t)
        np.multiply(t, i, out=rows_c[:, :, 2])
        np.multiply(tc, tc, out=t)
        np.subtract(1, t, out=t)
        np.multiply(t, o, out=rows_hc)
        rows_dy = dyt[:, lo:hi]
        dh, dc = dh_first[lo:hi], dc_first[lo:hi]
        dcn = np.empty_like(dh)  # The gradient of the step's new c, all paths summed.
        blocks = _row_blocks(hi - lo, 4 * n, n)
        for s in range(steps - 1, -1, -1):
            if live[s]:
                dh += rows_dy[s, :, :n]
                dc += rows_dy[s, :, n:]
            if mt is not None:
                keep = mt[s, lo:hi]
                dh_new, dc_new = dh * keep, dc * keep
                dh_keep, dc_keep = dh - dh_new, dc - dc_new
            else:
                dh_new, dc_new = dh, dc
            np.multiply(dh_new, rows_hc[s], out=dcn)
            dcn += dc_new
            np.multiply(dcn[:, None, :], rows_c[s], out=dz4[s, :, :3])
            np.multiply(dh_new, rows_o[s], out=dz4[s, :, 3])
            np.multiply(dcn, f[s], out=dc)
            _step_product(rows_dz[s], u_t, dh, blocks)
            if mt is not None:
                dh += dh_keep
                dc += dc_keep

    threads.run_parts(run, parts)
    dx, dkernel, (drec,), dbias = _weight_grads(
        dz_all, xt, kernel, go_backwards, need_x, [(states[:-1, :, :n], dz_all)], use_bias)
    pieces = [dx, dh_first, dc_first, dkernel, drec, dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- GRU --------------------------------------------------------------------------------

def gru_forward(x, h0, kernel, recurrent_kernel, bias, mask, *, go_backwards, reset_after):
    """The GRU recurrence: (output (batch, time, units), saved for the gradient)."""
    xt, mt = _time_major(x, mask, go_backwards)
    u, bias = recurrent_kernel, bias
    input_bias, recurrent_bias = ((bias[0], bias[1]) if (reset_after and bias is not None)
                                  else (bias, None))
    steps, batch, _ = xt.shape
    n = u.shape[0]
    three = 3 * n
    z = np.empty((steps, batch, three), dtype=xt.dtype)
    states = np.empty((steps + 1, batch, n), dtype=z.dtype)
    states[0] = h0
    gates = np.empty_like(z)       # Activated z (update), r (reset), hh (candidate).
    recurrent = np.empty((steps, batch, n), dtype=z.dtype)  # h @ U_h (+ b) or r * h.

    def run(part):
        lo, hi = part
        _project(xt, kernel, input_bias, z, lo, hi)
        inner = np.empty((hi - lo, three if reset_after else 2 * n), dtype=z.dtype)
        pre = np.empty((hi - lo, n), dtype=z.dtype)  # The candidate before its tanh.
        blocks = _row_blocks(hi - lo, n, three)
        for s in range(steps):
            h, g, zs, rec = states[s, lo:hi], gates[s, lo:hi], z[s, lo:hi], recurrent[s, lo:hi]
            if reset_after:
                _step_product(h, u, inner, blocks)
                if recurrent_bias is not None:
                    inner += recurrent_bias
                np.add(zs[:, :2 * n], inner[:, :2 * n], out=g[:, :2 * n])
                _sigmoid(g[:, :2 * n], out=g[:, :2 * n])
                rec[...] = inner[:, 2 * n:]
                np.multiply(g[:, n:2 * n], rec, out=pre)
            else:
                np.matmul(h, u[:, :2 * n], out=inner)
                np.add(zs[:, :2 * n], inner, out=g[:, :2 * n])
                _sigmoid(g[:, :2 * n], out=g[:, :2 * n])
                np.multiply(g[:, n:2 * n], h, out=rec)
                np.matmul(rec, u[:, 2 * n:], out=pre)
            pre += zs[:, 2 * n:]
            np.tanh(pre, out=g[:, 2 * n:])
            update, cand = g[:, :n], g[:, 2 * n:]
            new_h = states[s + 1, lo:hi]
            np.subtract(h, cand, out=new_h)
            new_h *= update
            new_h += cand
            if mt is not None:
                np.copyto(new_h, h, where=~mt[s, lo:hi])

    threads.run_parts(run, _recurrence_parts(batch, n, 3))
    return states[1:].transpose(1, 0, 2), (xt, states, gates, recurrent)


def gru_backward(dy, xt, states, gates, recurrent, kernel, recurrent_kernel, *mask,
                 use_bias, go_backwards, reset_after, need_x=True):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    dyt = dy.transpose(1, 0, 2)
    steps, batch, three = gates.shape
    n = three // 3
    dx_all = np.empty_like(gates)                           # d of x @ kernel (+ input bias).
    dinner_all = np.empty_like(gates) if reset_after else None  # d of h @ U (+ rec. bias).
    dh_first = np.empty((batch, n), dtype=dy.dtype)  # The gradient of h0.
    parts = _recurrence_parts(batch, n, 3)
    u = recurrent_kernel
    u_t = _transposed(u, parts) if reset_after else None
    # Contiguous transposes (see `_transposed`).
    u_zr_t = None if reset_after else np.ascontiguousarray(u[:, :2 * n].T)
    u_h_t = None if reset_after else np.ascontiguousarray(u[:, 2 * n:].T)

    def run(part):
        lo, hi = part
        dh = np.zeros((hi - lo, n), dtype=dy.dtype)
        blocks = _row_blocks(hi - lo, three, n)
        product = np.empty((hi - lo, n), dtype=dy.dtype) if reset_after else None
        for s in range(steps - 1, -1, -1):
            dh = dh + dyt[s, lo:hi]
            if mt is not None:
                dh_new = dh * mt[s, lo:hi]
                dh_keep = dh - dh_new
            else:
                dh_new = dh
            h = states[s, lo:hi]
            g = gates[s, lo:hi]
            update, reset, cand = g[:, :n], g[:, n:2 * n], g[:, 2 * n:]
            dxs = dx_all[s, lo:hi]
            dcand_pre = dxs[:, 2 * n:]
            np.multiply(dh_new * (1 - update), 1 - cand * cand, out=dcand_pre)
            np.multiply(dh_new * (h - cand), update * (1 - update), out=dxs[:, :n])
            dh_prev = dh_new * update
            if reset_after:
                np.multiply(dcand_pre * recurrent[s, lo:hi], reset * (1 - reset),
                            out=dxs[:, n:2 * n])
                dinner = dinner_all[s, lo:hi]
                dinner[:, :2 * n] = dxs[:, :2 * n]
                np.multiply(dcand_pre, reset, out=dinner[:, 2 * n:])
                _step_product(dinner, u_t, product, blocks)
                dh_prev += product
            else:
                drh = np.matmul(dcand_pre, u_h_t)     # d of (r * h).
                np.multiply(drh * h, reset * (1 - reset), out=dxs[:, n:2 * n])
                dh_prev += drh * reset
                dh_prev += np.matmul(dxs[:, :2 * n], u_zr_t)
            dh = dh_prev + dh_keep if mt is not None else dh_prev
        dh_first[lo:hi] = dh

    threads.run_parts(run, parts)
    if reset_after:
        ones = np.ones((steps, batch, 1), dtype=dy.dtype)  # Column sums: the recurrent bias.
        recurrent_pairs = [(states[:-1], dinner_all)] + ([(ones, dinner_all)] if use_bias else [])
    else:
        recurrent_pairs = [(states[:-1], dx_all[:, :, :2 * n]), (recurrent, dx_all[:, :, 2 * n:])]
    dx, dkernel, drec, dbias = _weight_grads(dx_all, xt, kernel, go_backwards, need_x,
                                             recurrent_pairs, use_bias)
    if reset_after:
        drecurrent = drec[0]
        if use_bias:
            dbias = np.stack([dbias, drec[1][0]])
    else:
        drecurrent = np.concatenate(drec, axis=1)
    pieces = [dx, dh_first, dkernel, drecurrent, dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])
