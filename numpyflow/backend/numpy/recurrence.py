"""NumPy kernels of the fused recurrences (`ops/rnn_ops.py`): SimpleRNN, LSTM and GRU over
a whole sequence, forward and backward (backpropagation through time).

Forwards take the op's arrays and return (output, saved): the state after every step,
batch-major, in processing order, and the values the backward needs. Backwards take the
upstream gradient, the saved values, kernel, recurrent_kernel and the mask (if any, as a
last positional argument) and return all input gradients packed in one flat vector, in
the op's input order (x's only when `need_x`, the initial states' only when
`need_states`: without them the last step back needs no product with the recurrent
kernel). Masks are boolean (batch, time).

Inside, everything is time-major (time, batch, ...): the input projection for all steps
first, then one `(batch, units) @ (units, k * units)` GEMM per step (the LSTM's gates
gate-major, `_GATE_ORDER`). Large enough batches run as two halves on two cores
(`_recurrence_parts`), per-step products in blocks that OpenBLAS's small-matrix kernel
takes (`_row_blocks`), and the weight gradients, summed over time and batch, as GEMMs
split by columns (`_products`). A whole-batch LSTM loop instead has a pool thread beside
it (`PIPELINE_*`): projecting steps ahead of the forward, and in the backward preparing
later steps ahead of the loop and taking the weight gradients of finished steps behind it.
Where a partner process runs (`backend/partner.py`, `PARTNER_STEP_ABOVE`), the LSTM's
halves of the batch run in two processes instead, without the GIL between them; its
saved gates then have a leading axis of halves, which tells the backward to split too.

Keras's weight layouts: kernel (features, k * units), recurrent_kernel (units, k * units),
gate order i, f, c, o for LSTM and z, r, h for GRU; GRU's bias is (2, 3 * units) with
`reset_after` (input bias, recurrent bias) and (3 * units,) without.
"""

import numpy as np

from numpyflow.backend import blas, partner, threads


# -- shared pieces ------------------------------------------------------------------------

def _sigmoid(z, out=None):
    """Logistic sigmoid as 0.5 * tanh(z / 2) + 0.5: no overflow, one transcendental."""
    out = np.multiply(z, 0.5, out)
    np.tanh(out, out)
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


# The second core without the GIL (`backend/partner.py`): a recurrence whose per-step
# product has at least PARTNER_STEP_ABOVE multiply-adds, over at least 2 * MIN_SPLIT_ROWS
# rows, runs each half of its batch in its own process, the whole time loop of each half
# at once, the two meeting once per kernel call (then before SPLIT_STEP_ABOVE's threads).
# Measured on the quiet machine here (2026-11-30, Keras `fit` over 28 rows of 28, ms per
# training step, whole or thread-split vs halves in two processes): LSTM(128) batch 32
# 6.3 vs 4.5, batch 128 24.1 (threads) vs 16.8; GRU(128) batch 32 6.3 vs 4.8, batch 128
# 21.0 vs 15.4; SimpleRNN(256) batch 32 8.8 vs 5.7; LSTM(64) batch 32 (524 K per step)
# 2.8 vs 2.1-2.5, batch 16 (262 K) 1.71 vs 1.53; LSTM(32) batch 32 (131 K) 1.55 either
# way. Hence 250 K. Calls the partner is not up for yet run as before.
PARTNER_STEP_ABOVE = 250_000


def _partner_for(batch, units, gates):
    """The partner process a recurrence over `batch` rows splits with, or None."""
    if batch < 2 * MIN_SPLIT_ROWS or batch * units * gates * units < PARTNER_STEP_ABOVE:
        return None
    return partner.partner()


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
        np.matmul(a[lo:hi], b, out[lo:hi])


def _transposed(matrix, parts, empty=np.empty):
    """matrix.T for the backward's per-step products (rows, m) @ matrix.T over the row runs
    `parts`: the view when they run in small-matrix blocks (`_row_blocks`), else a
    contiguous copy (arrays from `empty`: np.empty or a partner arena's). Measured,
    (32, 512) @ (512, 128): whole 56 us with the copy against 85 us with the view; in
    blocks of 8 rows 43 against 46 us. The copy itself costs ~150 us (128 x 512 float32:
    a transposing copy reads with a large stride)."""
    rows = max(hi - lo for lo, hi in parts)
    if len(_row_blocks(rows, matrix.shape[1], matrix.shape[0])) > 1:
        return matrix.T if empty is np.empty else _copy(matrix, empty).T
    return _copy(matrix.T, empty)


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


def _time_major(x, mask, go_backwards, empty=np.empty, ones=False):
    """x as (time, batch, features) in processing order; mask as (time, batch, 1) bool.
    Both copied into arrays from `empty` (np.empty, or a partner arena's). With `ones`,
    x gains a last feature of ones: (time, batch, features + 1), so that one GEMM with the
    kernel and the bias stacked adds the bias (`_with_bias_row`, `_gate_major`).

    x is copied (contiguous for the GEMMs): the forward saves it for the gradient, and a
    view would share the input's buffer, which a compiled plan may reuse once it is dead.
    """
    xt = x.transpose(1, 0, 2)
    mt = None if mask is None else mask.T[:, :, None]
    if go_backwards:
        xt = xt[::-1]
        mt = None if mt is None else mt[::-1]
    if ones:
        steps, batch, features = xt.shape
        out = empty((steps, batch, features + 1), xt.dtype)
        np.copyto(out[:, :, :features], xt)
        out[:, :, features] = 1
        xt = out
    else:
        xt = _copy(xt, empty)
    return xt, (None if mt is None else _copy(mt, empty))


def _copy(array, empty=np.empty):
    """A C-contiguous copy of `array` in an array from `empty`."""
    out = empty(array.shape, array.dtype)
    np.copyto(out, array)
    return out


def _through_step(grad, mt, s, lo, hi):
    """A state's gradient at step s split by the mask (time, batch, 1) of the rows lo:hi:
    (what flows into the step, what is carried past it: None without a mask)."""
    if mt is None:
        return grad, None
    through = grad * mt[s, lo:hi]
    return through, grad - through


def _run_rows(task, arrays, options, helper, parts):
    """task(arrays, options, lo, hi) over a batch: its two halves in this process and in
    `helper`'s (a partner process, `_partner_for`), or else over the row runs `parts` on
    the thread pool (`_recurrence_parts`)."""
    if helper is not None:
        batch = max(hi for _, hi in parts)
        helper.run_split(task, arrays, options, *threads.even_parts(batch, 2))
    else:
        threads.run_parts(lambda part: task(arrays, options, *part), parts)


def _shared(array, helper):
    """`array` where `helper`'s process can read it: a copy in its arena (None: as is)."""
    return array if helper is None or array is None else _copy(array, helper.arena.empty)


def _live_steps(dy):
    """The time steps (in processing order) where the output gradient dy (batch, time, k)
    is not all zero: without return_sequences, only the last. Or-ing the values' bits per
    row took 32 us at the LSTM benchmark's size against 59 us for `dy.any` (a -0.0 counts
    as live: that only adds a step of zeros)."""
    bits = dy.view(np.dtype(f"u{dy.itemsize}"))
    return np.flatnonzero(np.bitwise_or.reduce(bits, axis=2).any(axis=0)).tolist()


def _live_gradients(dy, dy_slice, shape, empty=np.empty):
    """(the steps with an output gradient, their gradients (steps, batch, width)
    time-major, in an array from `empty`), of an output of `shape` (batch, time, width).
    `dy` is the output gradient; or, with `dy_slice` (a basic index whose time component
    is an int: see `framework/fusion.py`'s `sliced_output_gradient`), its values there
    only, zeros elsewhere: then no dense gradient is made, nor searched for live steps."""
    if dy_slice is None:
        live, dyt = _live_steps(dy), dy.transpose(1, 0, 2)
        if empty is np.empty and len(live) == len(dyt):
            return live, dyt  # Every step (return_sequences), read here: no copy.
        return live, _copy(dyt[live], empty)
    batch, steps, width = shape
    live_dy = empty((1, batch, width), dy.dtype)
    live_dy.fill(0)
    live_dy[0][(dy_slice[0],) + tuple(dy_slice[2:])] = dy
    return [dy_slice[1] % steps], live_dy


def _step_gradients(live, live_dy, rows):
    """{step: its output gradient for the batch rows `rows`} from `_live_gradients`."""
    return {s: live_dy[j, rows] for j, s in enumerate(live)}


def _mask_time_major(mask, go_backwards):
    """The (batch, time) mask as (time, batch, 1), in processing order."""
    mt = mask.T[:, :, None]
    return mt[::-1] if go_backwards else mt


def _project(xt, kernel, z, lo, hi):
    """z[:, lo:hi] = xt[:, lo:hi] @ kernel: the input projection of a run of batch rows for
    all steps, before its time loop (on the run's thread; the bias, if any, is xt's ones
    column times the kernel's last row, see `_with_bias_row`). One product per step
    (NumPy loops over the time axis): at batch 32 this measured faster than the single
    (time * batch, features) GEMM (296 against 351 us), whose inner size is only the
    feature count."""
    np.matmul(xt[:, lo:hi], kernel, out=z[:, lo:hi])


def _with_bias_row(kernel, bias):
    """The kernel (features, k) with the bias (k,) as an extra last row (None: as is), for
    an xt with a ones column (`_time_major`): one GEMM adds the bias to every projection,
    where adding it after took as long as a fifth of the GEMM (a broadcast over (steps,
    rows, k)), and the bias gradient is the last row of the kernel's (`_weight_grads`)."""
    return kernel if bias is None else np.concatenate([kernel, bias.reshape(1, -1)])


def _weight_grads(dz, xt, kernel, go_backwards, need_x, recurrent, use_bias):
    """The gradients of the GEMMs around a recurrence's time loop, from dz (time, batch, k)
    the gradient of x @ kernel (+ bias): dx (batch-major, input order; None unless
    `need_x`), dkernel, dbias (None unless `use_bias`), and [a.T @ d for a, d in
    `recurrent`] (each (time, batch, m) and (time, batch, k'): the recurrent weights'
    gradients, summed over time and batch). All in one `_products` call, so that together
    they split across the cores. With `use_bias`, xt has a ones column (`_time_major`):
    the bias gradient is the last row of x.T @ dz."""
    steps, batch, _ = xt.shape
    features = kernel.shape[0]

    def flat(a):
        return a.reshape(steps * batch, a.shape[-1])

    pairs = [(flat(xt).T, flat(dz))] + [(flat(a).T, flat(d)) for a, d in recurrent]
    if need_x:
        pairs.append((flat(dz), kernel.T))
    outs = _products(pairs)
    dkernel, drecurrent = outs[0][:features], outs[1:1 + len(recurrent)]
    dbias = outs[0][features] if use_bias else None
    dx = None
    if need_x:
        dxt = outs[-1].reshape(steps, batch, features)
        if go_backwards:
            dxt = dxt[::-1]
        dx = np.ascontiguousarray(dxt.transpose(1, 0, 2))
    return dx, dkernel, drecurrent, dbias


# Without a partner process (see PARTNER_STEP_ABOVE: other platforms, or before it is up):
# the second core beside a whole-batch time loop (issue #14). At batch 32 the loop itself
# cannot split (see SPLIT_STEP_ABOVE), but the GEMMs around it need not wait for it: the
# input projection of a step is needed only when the loop reaches it, and the weight
# gradients of a step can be taken as soon as the backward loop has passed it. So a pool
# thread projects the forward's later steps while the calling thread runs the first ones,
# and in the backward it prepares the local derivatives of later steps ahead of the loop,
# then takes the weight-gradient GEMMs of finished steps behind it. In chunks of steps
# (`_ahead_chunks`, `_behind_chunks`): the work ahead (quick: ~13 us a step) in chunks
# that double from PIPELINE_FIRST_STEPS (the loop's own first chunk: it needs it at
# once); the work behind (~55 us a step, against ~85 us of loop) in chunks of
# PIPELINE_BEHIND_STEPS, so that it keeps up with the loop from early on, the last one
# halved (the caller waits for it after its loop). Halving chunks (14, 7, 4, 2, 1 steps)
# made fewer hand-offs but left the side thread idle early and behind at the end (a
# ~0.4 ms wait, modelled from those costs). A few coarse hand-offs per pass, since every
# Python statement of the pool thread takes the GIL from the loop's. The loop never
# waits for a chunk of work ahead that the pool thread has claimed but not finished (it
# may have lost its core to another process): it computes its own copy (`threads.Handoff`); and
# `threads.run_parts` runs the whole side part on the calling thread, after the loop,
# when no worker picks it up. The weight gradients are summed chunk by chunk in one
# fixed order, so the result does not depend on which thread ran what (it differs from
# one whole GEMM only by float rounding). Measured on the quiet machine (2026-11-30, load
# ~1.1, interleaved fresh processes, 6 rounds of 200 LSTM(128) training steps at batch 32,
# medians): 6.11 ms per step with the pipeline, 6.95 without, 7.42 before the per-gate
# layout below; the calling thread's CPU 5.34 ms against 6.86.
# Flip these to False to A/B each side of it.
PIPELINE_FORWARD = True
PIPELINE_BACKWARD = True
PIPELINE_FIRST_STEPS = 2
PIPELINE_BEHIND_STEPS = 4


def _pipelined(flag, parts, steps, batch, features, units, gates):
    """Whether a recurrence runs with `PIPELINE_*`'s side thread: the loop runs whole
    (`parts` is one run), there is more than one chunk of steps, and its weight-gradient
    GEMMs are large enough to split across the cores by `threads.batch_parts`' policy
    (the same measure for the forward: its projection is a fixed share of them)."""
    if not flag or len(parts) > 1 or steps <= PIPELINE_FIRST_STEPS:
        return False
    work = steps * batch * (features + units + 1) * gates * units
    return len(threads.batch_parts(gates * units, work)) > 1


def _ahead_chunks(steps):
    """(start, stop) positions in loop order (0 = the loop's first step) of the chunks of
    work ahead of the loop: PIPELINE_FIRST_STEPS, then doubling; the last takes the rest.
    28 steps: 2, 2, 4, 8, 12."""
    chunks, start, size = [], 0, PIPELINE_FIRST_STEPS
    while start < steps:
        chunks.append((start, min(start + size, steps)))
        start, size = chunks[-1][1], size * (2 if chunks[1:] else 1)
    return chunks


def _behind_chunks(steps):
    """(start, stop) positions in loop order of the chunks of work behind the loop:
    PIPELINE_BEHIND_STEPS each, the last one halved. 28 steps: 4 x 6, 2, 2."""
    k = PIPELINE_BEHIND_STEPS
    chunks = [(start, min(start + k, steps)) for start in range(0, steps, k)]
    start, stop = chunks[-1]
    if stop - start > 1:
        chunks[-1:] = [(start, (start + stop) // 2), ((start + stop) // 2, stop)]
    return chunks


def _accumulate(pairs, sums, scratch, first, into=None):
    """sums[k] (+)= a @ b for (a, b) in `pairs` (2-D; `first`: assign), via `scratch[k]`
    buffers of the sums' shapes (made on the calling thread: see `lstm_backward`); with
    `into`, the results go to into[k] instead (sums[k] is then left as it was, or unset)."""
    for (a, b), total, tmp, out in zip(pairs, sums, scratch, into or sums):
        if first:
            np.matmul(a, b, out=out)
        else:
            np.matmul(a, b, out=tmp)
            np.add(total, tmp, out=out)


# -- SimpleRNN --------------------------------------------------------------------------

@partner.task
def _simple_forward_rows(arrays, options, lo, hi):
    """The SimpleRNN forward of the batch rows lo:hi (`simple_forward`'s arrays by name):
    their input projections, then their loop over time."""
    a = arrays
    xt, z, states, activated, u, mt = (a.get(k) for k in ("xt", "z", "states", "activated",
                                                           "u", "mt"))
    _project(xt, a["kernel"], z, lo, hi)
    rows_states, rows_activated, rows_z = states[:, lo:hi], activated[:, lo:hi], z[:, lo:hi]
    blocks = _row_blocks(hi - lo, u.shape[0], u.shape[0])
    for s in range(len(xt)):
        act = rows_activated[s]
        _step_product(rows_states[s], u, act, blocks)
        act += rows_z[s]
        if options["activation"] == "tanh":
            np.tanh(act, act)
        else:
            np.maximum(act, 0, out=act)
        rows_states[s + 1] = act
        if mt is not None:
            np.copyto(rows_states[s + 1], rows_states[s], where=~mt[s, lo:hi])


def simple_forward(x, h0, kernel, recurrent_kernel, bias, mask, *, activation, go_backwards):
    """The SimpleRNN recurrence: (output (batch, time, units), saved for the gradient)."""
    batch, steps = x.shape[:2]
    units = recurrent_kernel.shape[0]
    helper = _partner_for(batch, units, 1)
    empty = helper.arena.empty if helper is not None else np.empty
    xt, mt = _time_major(x, mask, go_backwards, empty, ones=bias is not None)
    states = empty((steps + 1, batch, units), xt.dtype)
    states[0] = h0
    arrays = dict(xt=xt, mt=mt, kernel=_shared(_with_bias_row(kernel, bias), helper),
                  u=_shared(recurrent_kernel, helper), states=states,
                  z=empty((steps, batch, units), xt.dtype),
                  # The new state before masking (for the gradient).
                  activated=empty((steps, batch, units), xt.dtype))
    _run_rows(_simple_forward_rows, arrays, {"activation": activation}, helper,
              _recurrence_parts(batch, units, 1))
    return states[1:].transpose(1, 0, 2), (xt, states, arrays["activated"])


@partner.task
def _simple_backward_rows(arrays, options, lo, hi):
    """The SimpleRNN backward's loop over time for the batch rows lo:hi (`simple_backward`'s
    arrays by name): the gradients of the pre-activations and of h0."""
    a = arrays
    activated, da_all, u_t, mt = (a.get(k) for k in ("activated", "da_all", "u_t", "mt"))
    dy_steps = _step_gradients(options["live_steps"], a["dy_live"], slice(lo, hi))
    dh = a["dh_first"][lo:hi]
    blocks = _row_blocks(hi - lo, u_t.shape[0], u_t.shape[1])
    for s in range(len(activated) - 1, -1, -1):
        dy = dy_steps.get(s)
        if dy is not None:
            dh += dy
        dh_new, dh_keep = _through_step(dh, mt, s, lo, hi)
        act = activated[s, lo:hi]
        da = da_all[s, lo:hi]
        if options["activation"] == "tanh":
            np.multiply(act, act, da)
            np.subtract(1, da, da)
            da *= dh_new
        else:
            np.multiply(dh_new, act > 0, da)
        if s or options["need_states"]:
            _step_product(da, u_t, dh, blocks)
        if mt is not None:
            dh += dh_keep


def simple_backward(dy, xt, states, activated, kernel, recurrent_kernel, *mask,
                    activation, use_bias, go_backwards, need_x=True, need_states=True,
                    dy_slice=None):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    steps, batch, units = activated.shape
    helper = _partner_for(batch, units, 1)
    if helper is not None and not all(helper.arena.owns(a) for a in (xt, states, activated)):
        helper = None  # The forward did not split (its partner was not up yet).
    empty = helper.arena.empty if helper is not None else np.empty
    parts = (threads.even_parts(batch, 2) if helper is not None
             else _recurrence_parts(batch, units, 1))
    dh_first = empty((batch, units), dy.dtype)  # The gradient of h0.
    dh_first.fill(0)
    live, live_dy = _live_gradients(dy, dy_slice, (batch, steps, units), empty)
    arrays = dict(dy_live=live_dy, mt=_shared(mt, helper),
                  activated=activated, da_all=empty(activated.shape, activated.dtype),
                  u_t=_transposed(recurrent_kernel, parts, empty), dh_first=dh_first)
    options = {"activation": activation, "need_states": need_states, "live_steps": live}
    _run_rows(_simple_backward_rows, arrays, options, helper, parts)
    da_all = arrays["da_all"]
    dx, dkernel, (drecurrent,), dbias = _weight_grads(
        da_all, xt, kernel, go_backwards, need_x, [(states[:-1], da_all)], use_bias)
    pieces = [dx, dh_first if need_states else None, dkernel, drecurrent, dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- LSTM -------------------------------------------------------------------------------

# Inside the LSTM kernels the gates are stored gate-major, (time, 4, batch, units), in the
# order i, f, o, cand (Keras's weights: i, f, cand, o): each gate of a step is one
# contiguous (batch, units) block, and the three sigmoid gates one (3, batch, units) block.
# NumPy takes 2-3x as long per value over a gate's columns of a batch-major
# (batch, 4 * units) row block (measured at batch 32, 128 units: 2.8 against 1.0 us per
# multiply, 3.6 against 2.0 us per tanh), and the per-step product as one stacked matmul
# (batch, units) @ (4, units, units) took 37.8 us against 42.4 us in four 8-row blocks.
_GATE_ORDER = [0, 1, 3, 2]


def _gate_major(empty, *weights):
    """LSTM weights (rows, 4 * units) in Keras's gate order (several: their rows stacked)
    as (4, rows, units) in _GATE_ORDER, in an array from `empty`. sigmoid(v) = 0.5 *
    tanh(v / 2) + 0.5: the i, f and o weights come halved (exact in floating point), so
    that one tanh over all four gates activates them."""
    n = weights[0].shape[1] // 4
    out = empty((4, sum(w.shape[0] for w in weights), n), weights[0].dtype)
    for k, source in enumerate(_GATE_ORDER):
        start = 0
        for w in weights:
            np.multiply(w[:, source * n:(source + 1) * n], 0.5 if k < 3 else 1,
                        out=out[k, start:start + w.shape[0]])
            start += w.shape[0]
    return out


def _keras_transposed(u):
    """The recurrent kernel's transpose (4 * units, units) in Keras's gate order, contiguous,
    from its gate-major form (`_gate_major`, the forward's): the split backward's part 1
    makes its own from the array its forward read, where the calling process would
    otherwise copy the kernel into shared memory again (writing into a block the partner
    read last step waits on that core: 40-130 us in `fit`). Contiguous, the per-step
    products take it faster than a transposed view (16 rows in two 8-row blocks: 21.4
    against 24.3 us), which about pays for making it (~50 us). Halving is exact, and so is
    doubling back (barring subnormal weights, below 1.2e-38)."""
    n = u.shape[-1]
    out = np.empty((4 * n, u.shape[1]), u.dtype)
    for k, source in enumerate(_GATE_ORDER):
        np.multiply(u[k].T, 2 if k < 3 else 1, out[source * n:(source + 1) * n])
    return out


def _lstm_project(xt, kernel, out, s0, s1, lo, hi):
    """out = the input projections (steps, 4, rows, units) of steps [s0, s1) for the batch
    rows lo:hi (the bias, if any, is xt's ones column times kernel's last row)."""
    np.matmul(xt[s0:s1, None, lo:hi], kernel, out=out)


def _lstm_steps(states, rows_gates, tanh_c, u, mt, lo, hi, zero_start=False):
    """The forward's loop over the batch rows lo:hi, as a function advance(s0, s1, z_steps)
    running steps [s0, s1) with their input projections `z_steps` (from step s0; None: they
    are in `rows_gates` already), writing their activated gates into `rows_gates` (steps,
    4, hi - lo, units). `zero_start`: the initial h is all zeros (step 0 needs no product).

    Written for the interpreter as much as for NumPy: at 16 rows a step's dozen NumPy
    calls take ~30 us, and each index, attribute lookup or branch of the loop adds to
    them (measured, the 16-row half of the LSTM(128) benchmark: 1.18 ms a forward pass
    with per-step indexing of h, c and the blocks, 1.11 ms as below). The per-step loops
    here pass `out` positionally: a two-input ufunc took 0.64 us against 0.93 us with
    `out=` (NumPy 2.4, 16 x 128 float32)."""
    n = u.shape[-1]
    rows_states = states[:, lo:hi]
    hs, cs = rows_states[:, :, :n], rows_states[:, :, n:]
    rows_tanh_c = tanh_c[:, lo:hi]
    product = np.empty((hi - lo, n), dtype=states.dtype)  # i * cand
    recurrent = np.empty((4, hi - lo, n), dtype=states.dtype)  # h @ u, per gate
    half = np.array(0.5, states.dtype)  # (0-d: ~0.3 us less per call than a Python float)
    blocks = _row_blocks(hi - lo, n, n)  # Of each gate's product.
    block_out = [recurrent[:, b0:b1] for b0, b1 in blocks]
    matmul, add, multiply, tanh = np.matmul, np.add, np.multiply, np.tanh

    def advance(s0, s1, z_steps):
        h, c = hs[s0], cs[s0]
        for s in range(s0, s1):
            g = rows_gates[s]
            if s or not zero_start:
                if len(blocks) == 1:
                    matmul(h, u, recurrent)
                else:
                    for (b0, b1), out in zip(blocks, block_out):
                        matmul(h[b0:b1], u, out)
                add(recurrent, g if z_steps is None else z_steps[s - s0], g)
            elif z_steps is not None:
                np.copyto(g, z_steps[0])
            tanh(g, g)
            sigmoids = g[:3]
            multiply(sigmoids, half, sigmoids)
            add(sigmoids, half, sigmoids)
            i, f, o, cand = g
            new_h, new_c, tanh_new_c = hs[s + 1], cs[s + 1], rows_tanh_c[s]
            multiply(f, c, new_c)
            multiply(i, cand, product)
            add(new_c, product, new_c)
            tanh(new_c, tanh_new_c)
            multiply(o, tanh_new_c, new_h)
            if mt is not None:
                skip = ~mt[s, lo:hi]
                np.copyto(new_h, h, where=skip)
                np.copyto(new_c, c, where=skip)
            h, c = new_h, new_c
    return advance


@partner.task
def _lstm_forward_rows(arrays, options, lo, hi, part):
    """The forward of the batch rows lo:hi, half `part` of a split (`lstm_forward`'s
    arrays by name): their input projections, then their loop over time."""
    a, count = arrays, hi - lo
    gates = a["gates"][part, :, :, :count]  # Holding each step's projection until it runs.
    steps = gates.shape[0]
    _lstm_project(a["xt"], a["kernel"], gates, 0, steps, lo, hi)
    _lstm_steps(a["states"], gates, a["tanh_c"], a["u"], a.get("mt"), lo, hi,
                options["zero_start"])(0, steps, None)


def lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, mask, *, go_backwards):
    """The LSTM recurrence: (output (batch, time, 2 * units) [h, c], saved for the
    gradient)."""
    steps, features = x.shape[1], x.shape[2]
    batch, n = x.shape[0], recurrent_kernel.shape[0]
    helper = _partner_for(batch, n, 4)
    empty = helper.arena.empty if helper is not None else np.empty
    # With a bias, xt has a ones column and the kernel the bias as its last row (see
    # `_with_bias_row`): adding it to every projection took 43 us at 16 rows (a broadcast
    # over (28, 4, 16, 128)), the wider GEMM 6 us more.
    xt, mt = _time_major(x, mask, go_backwards, empty, ones=bias is not None)
    dtype = xt.dtype
    u = _gate_major(empty, recurrent_kernel)
    kernel = _gate_major(empty, *([kernel] if bias is None else [kernel, bias.reshape(1, -1)]))
    states = empty((steps + 1, batch, 2 * n), dtype)  # [h, c] per step.
    states[0, :, :n] = h0
    states[0, :, n:] = c0
    tanh_c = empty((steps, batch, n), dtype)
    if helper is not None:
        # The activated gates, gate-major (see _GATE_ORDER), one block per half: as a rows
        # slice of one batch, each half's loop took 1.34 ms against 1.08 ms on its own
        # block (16 rows of 32 here). Each half projects its inputs into that block, each
        # step's projection overwritten by its activated gates: a separate (steps, 4,
        # rows, units) array of projections cost ~5% of the training step (measured,
        # LSTM(128) at batch 32, alternating runs: 5.23 against 4.99 ms), the step's
        # arrays then outgrowing each core's 1 MB L2 cache.
        halves = threads.even_parts(batch, 2)
        rows = max(hi - lo for lo, hi in halves)
        gates = empty((2, steps, 4, rows, n), dtype)
        arrays = dict(xt=xt, kernel=kernel, u=u, states=states, gates=gates, tanh_c=tanh_c,
                      mt=mt)
        options = {"zero_start": not h0.any()}
        helper.run_split(_lstm_forward_rows, arrays, options,
                         *[(lo, hi, k) for k, (lo, hi) in enumerate(halves)])
        return states[1:].transpose(1, 0, 2), (xt, states, gates, tanh_c, u)
    z = empty((steps, 4, batch, n), dtype)  # The input projections.
    gates = empty((steps, 4, batch, n), dtype)  # Activated, gate-major (see _GATE_ORDER).
    parts = _recurrence_parts(batch, n, 4)
    if _pipelined(PIPELINE_FORWARD, parts, steps, batch, features, n, 4):
        chunks = _ahead_chunks(steps)
        projected = threads.Handoff(len(chunks))
        advance = _lstm_steps(states, gates, tanh_c, u, mt, 0, batch)
        own = np.empty((max(s1 - s0 for s0, s1 in chunks), 4, batch, n), dtype=dtype)

        def projector(s0, s1):
            return lambda out: _lstm_project(xt, kernel, out, s0, s1, 0, batch)

        def loop():
            for index, (s0, s1) in enumerate(chunks):
                advance(s0, s1, projected.needed(index, projector(s0, s1), z[s0:s1],
                                                 own[:s1 - s0]))

        def ahead():  # Chunk 0 is the loop's own: it needs it at once.
            for index in range(1, len(chunks)):
                s0, s1 = chunks[index]
                projected.run(index, projector(s0, s1), z[s0:s1])

        threads.side_by_side(loop, ahead)
    else:
        def run(part):
            lo, hi = part
            rows_z = z[:, :, lo:hi]
            _lstm_project(xt, kernel, rows_z, 0, steps, lo, hi)
            _lstm_steps(states, gates[:, :, lo:hi], tanh_c, u, mt, lo, hi)(0, steps, rows_z)

        threads.run_parts(run, parts)
    return states[1:].transpose(1, 0, 2), (xt, states, gates, tanh_c, u)


def _lstm_local_derivatives(gates, c, tanh_c, out, s_gates, t):
    """The local derivatives of LSTM steps, for the backward's loop over time, from their
    activated `gates` (steps, 4, rows, units; gate-major, see _GATE_ORDER), cell states `c`
    (steps, rows, units) before the steps and `tanh_c` after them, into `out` =
    (through_c (steps, rows, 3, units), through_o, h_to_c (steps, rows, units)):
      d c'/d z = [cand * i(1-i), c * f(1-f), i (1-cand^2)] (for i, f, cand), times dc',
      d h'/d z_o = tanh(c') o(1-o), d h'/d c' = o (1 - tanh(c')^2).
    s_gates (steps, 3, rows, units) and t (as tanh_c) are scratch."""
    through_c, through_o, h_to_c = out
    i, o, cand = gates[:, 0], gates[:, 2], gates[:, 3]
    one = np.array(1, gates.dtype)
    np.subtract(one, gates[:, :3], s_gates)  # s(1 - s) of the three sigmoid gates.
    s_gates *= gates[:, :3]
    np.multiply(s_gates[:, 0], cand, through_c[..., 0, :])
    np.multiply(s_gates[:, 1], c, through_c[..., 1, :])
    np.multiply(s_gates[:, 2], tanh_c, through_o)
    np.multiply(cand, cand, t)
    np.subtract(one, t, t)
    np.multiply(t, i, through_c[..., 2, :])
    np.multiply(tanh_c, tanh_c, t)
    np.subtract(one, t, t)
    np.multiply(t, o, h_to_c)


def _lstm_backward_steps(f, dz, dy_steps, mt, dh, dc, u_t, dz_from_base=False,
                         need_states=True):
    """The backward's loop over a run of batch rows, as a function back(s0, s1,
    through_steps, base) running steps s1 - 1 down to s0 with their local derivatives
    `through_steps` (from step `base`, `_lstm_local_derivatives`; a call with the same
    object as the last call's reuses its views). The rows' forget gates `f` (steps, rows,
    units); `dz` (steps, rows, 4 * units) receives the gradients of the gate
    pre-activations (`dz_from_base`: only each call's steps, from `base`); `dy_steps` maps
    the steps with an output gradient to it (rows, 2 * units); `mt` the rows' mask (steps,
    rows, 1) or None; dh and dc carry the state's gradients (in and out; without
    `need_states` those of the initial states are left unfinished).

    Every view a step uses is made before the loop (as in `_lstm_steps`)."""
    steps, rows, four = dz.shape
    n = four // 4
    dz4 = dz.reshape(steps, rows, 4, n)
    dcn = np.empty_like(dh)  # The gradient of the step's new c, all paths summed.
    dcn_each_gate = dcn[:, None, :]
    blocks = _row_blocks(rows, four, n)
    dz_c, dz_o = list(dz4[:, :, :3]), list(dz4[:, :, 3])
    dz_blocks = [[dz[d, b0:b1] for b0, b1 in blocks] for d in range(steps)]
    dh_blocks = [dh[b0:b1] for b0, b1 in blocks]
    forget = list(f)
    add, multiply, matmul = np.add, np.multiply, np.matmul
    last = [None, None]  # The last call's through_steps, and its views per step.

    def back(s0, s1, through_steps, base):
        if through_steps is not last[0]:
            last[:] = through_steps, [list(t) for t in through_steps]
        rows_c, rows_o, rows_hc = last[1]  # Step s at s - base.
        for s in range(s1 - 1, s0 - 1, -1):
            dy = dy_steps.get(s)
            if dy is not None:
                add(dh, dy[:, :n], dh)
                add(dc, dy[:, n:], dc)
            if mt is not None:
                keep = mt[s]
                dh_new, dc_new = dh * keep, dc * keep
                dh_keep, dc_keep = dh - dh_new, dc - dc_new
            else:
                dh_new, dc_new = dh, dc
            k = s - base
            d = k if dz_from_base else s
            multiply(dh_new, rows_hc[k], dcn)
            add(dcn, dc_new, dcn)
            multiply(dcn_each_gate, rows_c[k], dz_c[d])
            multiply(dh_new, rows_o[k], dz_o[d])
            if s == 0 and not need_states:
                break
            multiply(dcn, forget[s], dc)
            for dz_block, dh_block in zip(dz_blocks[d], dh_blocks):
                matmul(dz_block, u_t, dh_block)
            if mt is not None:
                add(dh, dh_keep, dh)
                add(dc, dc_keep, dc)
    return back


def lstm_backward(dy, xt, states, gates, tanh_c, u, kernel, recurrent_kernel, *mask,
                  use_bias, go_backwards, need_x=True, need_states=True, dy_slice=None):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    if gates.ndim == 5:  # The forward ran split (`_lstm_forward_rows`): so does this.
        return _lstm_backward_split(dy, xt, states, gates, tanh_c, u, kernel, recurrent_kernel,
                                    mt, use_bias, go_backwards, need_x, need_states, dy_slice)
    steps, _, batch, n = gates.shape
    features, four = kernel.shape[0], 4 * n
    dtype = gates.dtype
    parts = _recurrence_parts(batch, n, 4)
    # The local derivatives of every step (`_lstm_local_derivatives`), all computed before
    # the loop over time, or a chunk at a time ahead of it (`_lstm_backward_pipelined`).
    # All buffers are made here, on the calling thread: large temporaries made on a pool
    # thread come from its own glibc arena and page-fault afresh each time (see
    # backend/allocator.py).
    through = (np.empty((steps, batch, 3, n), dtype),  # through_c, through_o, h_to_c
               np.empty((steps, batch, n), dtype), np.empty((steps, batch, n), dtype))
    dz_all = np.empty((steps, batch, four), dtype=dtype)  # Keras's gate order, batch-major.
    dh_first = np.zeros((batch, n), dtype=dtype)  # The gradients of h0 and c0.
    dc_first = np.zeros((batch, n), dtype=dtype)
    u_t = _transposed(recurrent_kernel, parts)
    live, live_dy = _live_gradients(dy, dy_slice, (batch, steps, 2 * n))

    def time_loop(lo, hi):
        return _lstm_backward_steps(gates[:, 1, lo:hi], dz_all[:, lo:hi],
                                    _step_gradients(live, live_dy, slice(lo, hi)),
                                    None if mt is None else mt[:, lo:hi],
                                    dh_first[lo:hi], dc_first[lo:hi], u_t,
                                    need_states=need_states)

    if _pipelined(PIPELINE_BACKWARD, parts, steps, batch, features, n, 4):
        return _lstm_backward_pipelined(time_loop(0, batch), through, dz_all, xt, states,
                                        gates, tanh_c, kernel, go_backwards, need_x,
                                        use_bias, dh_first if need_states else None,
                                        dc_first if need_states else None)

    s_gates, scratch = np.empty((steps, 3, batch, n), dtype), np.empty((steps, batch, n), dtype)

    def run(part):
        lo, hi = part
        rows = slice(lo, hi)
        _lstm_local_derivatives(gates[:, :, rows], states[:-1, rows, n:], tanh_c[:, rows],
                                [a[:, rows] for a in through], s_gates[:, :, rows],
                                scratch[:, rows])
        time_loop(lo, hi)(0, steps, [a[:, rows] for a in through], 0)

    threads.run_parts(run, parts)
    dx, dkernel, (drec,), dbias = _weight_grads(
        dz_all, xt, kernel, go_backwards, need_x, [(states[:-1, :, :n], dz_all)], use_bias)
    pieces = [dx] + ([dh_first, dc_first] if need_states else []) + [dkernel, drec, dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])


# The split backward runs its steps in chunks of BACKWARD_CHUNK_STEPS, from the last: the
# chunk's local derivatives, its loop, then its share of the weight gradients (summed
# chunk by chunk), so that its derivatives and gate gradients are reused while in cache
# instead of making (steps, rows, ...) arrays of each. Measured (LSTM(128), batch 32, 28
# steps, Keras `fit`, alternating runs): chunks of 7 steps 4.84 ms a training step
# against 5.02 for all 28 at once (the derivatives only) and 4.94 vs 5.15 with the weight
# gradients too; chunks of 4 were even with 7.
BACKWARD_CHUNK_STEPS = 7


@partner.task
def _lstm_backward_rows(arrays, options, lo, hi, part):
    """The backward of the batch rows lo:hi, half `part` of a split (arrays by
    `_lstm_backward_split`'s names): their local derivatives, their loop over time, and
    their share of the weight gradients, into the sums of `part`."""
    a = arrays
    states, xt = a["states"], a["xt"]
    rows, count = slice(lo, hi), hi - lo
    gates = a["gates"][part, :, :, :count]
    steps, _, _, n = gates.shape
    dtype = gates.dtype
    k = min(steps, BACKWARD_CHUNK_STEPS)
    through = (np.empty((k, count, 3, n), dtype), np.empty((k, count, n), dtype),
               np.empty((k, count, n), dtype))
    scratch = np.empty((k, 3, count, n), dtype), np.empty((k, count, n), dtype)
    dz = np.empty((k, count, 4 * n), dtype)
    dy_steps = _step_gradients(options["live_steps"], a["dy_live"], rows)
    mt = a.get("mt")
    if options["need_states"]:
        dh, dc = a["dh_first"][rows], a["dc_first"][rows]
    else:  # Only this process's running gradients.
        dh, dc = np.zeros((count, n), dtype), np.zeros((count, n), dtype)
    back = _lstm_backward_steps(gates[:, 1], dz, dy_steps, None if mt is None else mt[:, rows],
                                dh, dc, a["u_t"] if part == 0 else _keras_transposed(a["u"]),
                                dz_from_base=True,
                                need_states=options["need_states"])
    tanh_c, width = a["tanh_c"], xt.shape[-1]
    shared_sums = [a["dkernel"][part], a["drecurrent"][part]]
    # The partner's half (part 1) sums in its own memory, its last chunk's sums going to
    # the shared block: the calling process read that half's block at the end of the
    # previous step, and every store of the GEMMs into it then waited for that core's
    # copy to be dropped (measured: the partner's weight gradients 0.98-1.00 ms against
    # this process's 0.88-0.90 for its own half; 0.95 with a copy of the sums at the end).
    sums = [np.empty_like(total) for total in shared_sums] if part else shared_sums
    partial = [np.empty_like(total) for total in sums]
    for s1 in range(steps, 0, -k):
        s0 = max(0, s1 - k)
        chunk = [t[:s1 - s0] for t in through]
        _lstm_local_derivatives(gates[s0:s1], states[s0:s1, rows, n:], tanh_c[s0:s1, rows],
                                chunk, *[t[:s1 - s0] for t in scratch])
        back(s0, s1, through, s0)  # (`chunk` is its start: the same views each chunk.)
        # This chunk's share of the weight gradients, while its dz is still in cache. With
        # a zero initial h, step 0 adds nothing to the recurrent kernel's.
        flat_dz = dz[:s1 - s0].reshape(-1, 4 * n)
        skip = count if s0 == 0 and options["zero_start"] else 0
        pairs = [(xt[s0:s1, rows].reshape(-1, width).T, flat_dz),
                 (states[s0:s1, rows, :n].reshape(-1, n)[skip:].T, flat_dz[skip:])]
        _accumulate(pairs, sums, partial, first=s1 == steps,
                    into=shared_sums if s0 == 0 else None)
        if "dxt" in a:
            np.matmul(dz[:s1 - s0], a["kernel_t"], out=a["dxt"][s0:s1, rows])


def _lstm_backward_split(dy, xt, states, gates, tanh_c, u, kernel, recurrent_kernel, mt,
                         use_bias, go_backwards, need_x, need_states, dy_slice):
    """`lstm_backward` after a split forward: each half of the batch in its own process
    (both here when the partner is gone), every array either reads or writes in shared
    memory; the halves' weight-gradient sums added here."""
    _, steps, _, _, n = gates.shape
    batch = states.shape[1]
    helper = partner.partner()
    # The forward's arrays all come from one arena: if this one does not hold them, the
    # forward's partner was replaced (shut down) since.
    if helper is not None and not helper.arena.owns(gates):
        helper = None
    empty = np.empty if helper is None else helper.arena.empty
    features, four, dtype = kernel.shape[0], 4 * n, gates.dtype
    live, live_dy = _live_gradients(dy, dy_slice, (batch, steps, 2 * n), empty)
    # The recurrent kernel of the per-step products: part 0, run here, reads this
    # process's own transposed (they run in 8-row blocks, see `_transposed`); part 1
    # makes its own from the forward's gate-major copy (`_keras_transposed`). In training
    # the kernel is C-ordered (Keras's Orthogonal initializer gives Fortran order, but the
    # first step's update gives the variable a fresh C-ordered array, which the compiled
    # plan then updates in place), so this transpose is a strided view: 22.1 us a 16-row
    # step product against 21.1 from a C-contiguous one (~28 us over 28 steps), less than
    # a contiguous copy would cost (150 us transposing whole, ~50 as `_keras_transposed`
    # does it gate by gate). The forward's gate-major copy reads C order fastest (21 us
    # against 53 from Fortran order, isolated).
    local = {"u_t": recurrent_kernel.T}
    arrays = dict(dy_live=live_dy, xt=xt, states=states, gates=gates, tanh_c=tanh_c, u=u,
                  mt=None if mt is None else _copy(mt, empty),
                  # With a bias, its gradient is the last row: xt has a ones column.
                  dkernel=empty((2, xt.shape[-1], four), dtype),
                  drecurrent=empty((2, n, four), dtype))
    if need_x:
        arrays["kernel_t"] = _copy(kernel, empty).T
        arrays["dxt"] = empty((steps, batch, features), dtype)
    if need_states:
        arrays["dh_first"], arrays["dc_first"] = (empty((batch, n), dtype) for _ in range(2))
        arrays["dh_first"].fill(0)
        arrays["dc_first"].fill(0)
    halves = [(lo, hi, k) for k, (lo, hi) in enumerate(threads.even_parts(batch, 2))]
    options = {"live_steps": live, "zero_start": not states[0, :, :n].any(),
               "need_states": need_states}
    if helper is None:
        for rows in halves:
            _lstm_backward_rows({**arrays, **local}, options, *rows)
    else:
        helper.run_split(_lstm_backward_rows, arrays, options, *halves, local=local)
    # The flat result (see the module docstring), the halves' sums added into it.
    pieces = [arrays["dh_first"], arrays["dc_first"]] if need_states else []
    if need_x:  # Batch-major, in input order.
        dxt = arrays["dxt"]
        pieces.insert(0, (dxt[::-1] if go_backwards else dxt).transpose(1, 0, 2))
    dkernel = arrays["dkernel"]
    sums = [dkernel[:, :features], arrays["drecurrent"]] + ([dkernel[:, features:]]
                                                             if use_bias else [])
    flat = np.empty(sum(p.size for p in pieces) + sum(s[0].size for s in sums), dtype)
    offset = 0
    for piece in pieces:
        flat[offset:offset + piece.size].reshape(piece.shape)[...] = piece
        offset += piece.size
    for first, second in sums:
        np.add(first, second, out=flat[offset:offset + first.size].reshape(first.shape))
        offset += first.size
    return flat


def _lstm_backward_pipelined(back, through, dz_all, xt, states, gates, tanh_c, kernel,
                             go_backwards, need_x, use_bias, dh_first, dc_first):
    """`lstm_backward`'s loop (`back`) with `PIPELINE_*`'s side thread: it computes the
    local derivatives (`through`) of later steps ahead of the loop, then the weight-
    gradient GEMMs of the steps the loop has finished (`_weight_grads`' work)."""
    steps, batch, four = dz_all.shape
    n, features = four // 4, kernel.shape[0]
    dtype = dz_all.dtype
    # Loop positions p are steps steps - 1 - p: chunks as step ranges, in loop order.
    ahead = [(steps - p1, steps - p0) for p0, p1 in _ahead_chunks(steps)]
    behind = [(steps - p1, steps - p0) for p0, p1 in _behind_chunks(steps)]
    prepared, finished = threads.Handoff(len(ahead)), threads.Finished(len(behind))
    k = max(s1 - s0 for s0, s1 in ahead)
    # Scratch per thread role (the loop may also compute a chunk the side thread holds).
    loop_scratch = [np.empty((k, 3, batch, n), dtype), np.empty((k, batch, n), dtype)]
    side_scratch = [np.empty((k, 3, batch, n), dtype), np.empty((k, batch, n), dtype)]
    own = [np.empty((k,) + a.shape[1:], dtype) for a in through]
    # The bias gradient is the last row of the kernel's: xt has a ones column.
    sums = [np.empty((xt.shape[-1], four), dtype), np.empty((n, four), dtype)]
    sums_scratch = [np.empty_like(total) for total in sums]
    dxt = np.empty((steps, batch, features), dtype=dtype) if need_x else None
    kernel_t = kernel.T

    def flat(a):
        return a.reshape(-1, a.shape[-1])

    def deriver(s0, s1, scratch):
        def derive(out):
            _lstm_local_derivatives(gates[s0:s1], states[s0:s1, :, n:], tanh_c[s0:s1], out,
                                    scratch[0][:s1 - s0], scratch[1][:s1 - s0])
        return derive

    def loop():
        try:
            next_behind = 0
            for index, (s0, s1) in enumerate(ahead):
                through_steps = prepared.needed(index, deriver(s0, s1, loop_scratch),
                                                [a[s0:s1] for a in through],
                                                [a[:s1 - s0] for a in own])
                stop = s1
                while stop > s0:  # Down to each start of a chunk behind, to signal it.
                    start = max(s0, behind[next_behind][0])
                    back(start, stop, through_steps, s0)
                    stop = start
                    if stop == behind[next_behind][0]:
                        finished.send()
                        next_behind += 1
        finally:  # The side thread must not wait for chunks an error left undone.
            finished.send_rest()

    def side():
        for index in range(1, len(ahead)):  # Chunk 0 is the loop's own.
            s0, s1 = ahead[index]
            prepared.run(index, deriver(s0, s1, side_scratch), [a[s0:s1] for a in through])
        for index, (s0, s1) in enumerate(behind):
            finished.wait()  # For chunk `index`: they come in order.
            dz = flat(dz_all[s0:s1])
            pairs = [(flat(xt[s0:s1]).T, dz), (flat(states[s0:s1, :, :n]).T, dz)]
            _accumulate(pairs, sums, sums_scratch, first=index == 0)
            if need_x:
                np.matmul(dz, kernel_t, out=flat(dxt[s0:s1]))

    threads.side_by_side(loop, side)
    dx = None
    if need_x:
        dx = np.ascontiguousarray((dxt[::-1] if go_backwards else dxt).transpose(1, 0, 2))
    dbias = sums[0][features] if use_bias else None
    pieces = [dx, dh_first, dc_first, sums[0][:features], sums[1], dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])


# -- GRU --------------------------------------------------------------------------------

@partner.task
def _gru_forward_rows(arrays, options, lo, hi):
    """The GRU forward of the batch rows lo:hi (`gru_forward`'s arrays by name): their input
    projections, then their loop over time."""
    a, reset_after = arrays, options["reset_after"]
    xt, z, states, gates, recurrent, u = (a[k] for k in ("xt", "z", "states", "gates",
                                                           "recurrent", "u"))
    recurrent_bias, mt = a.get("recurrent_bias"), a.get("mt")
    steps, n = len(xt), u.shape[0]
    three = 3 * n
    _project(xt, a["kernel"], z, lo, hi)
    inner = np.empty((hi - lo, three if reset_after else 2 * n), dtype=z.dtype)
    pre = np.empty((hi - lo, n), dtype=z.dtype)  # The candidate before its tanh.
    blocks = _row_blocks(hi - lo, n, three)
    for s in range(steps):
        h, g, zs, rec = states[s, lo:hi], gates[s, lo:hi], z[s, lo:hi], recurrent[s, lo:hi]
        if reset_after:
            _step_product(h, u, inner, blocks)
            if recurrent_bias is not None:
                inner += recurrent_bias
            np.add(zs[:, :2 * n], inner[:, :2 * n], g[:, :2 * n])
            _sigmoid(g[:, :2 * n], out=g[:, :2 * n])
            rec[...] = inner[:, 2 * n:]
            np.multiply(g[:, n:2 * n], rec, pre)
        else:
            np.matmul(h, u[:, :2 * n], inner)
            np.add(zs[:, :2 * n], inner, g[:, :2 * n])
            _sigmoid(g[:, :2 * n], out=g[:, :2 * n])
            np.multiply(g[:, n:2 * n], h, rec)
            np.matmul(rec, u[:, 2 * n:], pre)
        pre += zs[:, 2 * n:]
        np.tanh(pre, g[:, 2 * n:])
        update, cand = g[:, :n], g[:, 2 * n:]
        new_h = states[s + 1, lo:hi]
        np.subtract(h, cand, new_h)
        new_h *= update
        new_h += cand
        if mt is not None:
            np.copyto(new_h, h, where=~mt[s, lo:hi])


def gru_forward(x, h0, kernel, recurrent_kernel, bias, mask, *, go_backwards, reset_after):
    """The GRU recurrence: (output (batch, time, units), saved for the gradient)."""
    batch, steps = x.shape[:2]
    n = recurrent_kernel.shape[0]
    helper = _partner_for(batch, n, 3)
    empty = helper.arena.empty if helper is not None else np.empty
    input_bias, recurrent_bias = ((bias[0], bias[1]) if (reset_after and bias is not None)
                                  else (bias, None))
    xt, mt = _time_major(x, mask, go_backwards, empty, ones=input_bias is not None)
    arrays = dict(xt=xt, mt=mt, kernel=_shared(_with_bias_row(kernel, input_bias), helper),
                  u=_shared(recurrent_kernel, helper),
                  recurrent_bias=_shared(recurrent_bias, helper))
    states = empty((steps + 1, batch, n), xt.dtype)
    states[0] = h0
    arrays.update(z=empty((steps, batch, 3 * n), xt.dtype), states=states,
                  # Activated z (update), r (reset), hh (candidate); h @ U_h (+ b) or r * h.
                  gates=empty((steps, batch, 3 * n), xt.dtype),
                  recurrent=empty((steps, batch, n), xt.dtype))
    _run_rows(_gru_forward_rows, arrays, {"reset_after": reset_after}, helper,
              _recurrence_parts(batch, n, 3))
    saved = tuple(arrays[k] for k in ("xt", "states", "gates", "recurrent"))
    return states[1:].transpose(1, 0, 2), saved


@partner.task
def _gru_backward_rows(arrays, options, lo, hi):
    """The GRU backward's loop over time for the batch rows lo:hi (`gru_backward`'s arrays
    by name): the gradients of the gate pre-activations and of h0."""
    a, reset_after = arrays, options["reset_after"]
    states, gates, recurrent, dx_all = (a[k] for k in ("states", "gates", "recurrent",
                                                       "dx_all"))
    dinner_all, mt = a.get("dinner_all"), a.get("mt")
    dy_steps = _step_gradients(options["live_steps"], a["dy_live"], slice(lo, hi))
    steps, _, three = gates.shape
    n = three // 3
    dh = np.zeros((hi - lo, n), dtype=gates.dtype)
    blocks = _row_blocks(hi - lo, three, n)
    product = np.empty((hi - lo, n), dtype=gates.dtype) if reset_after else None
    for s in range(steps - 1, -1, -1):
        dy = dy_steps.get(s)
        if dy is not None:
            dh = dh + dy
        dh_new, dh_keep = _through_step(dh, mt, s, lo, hi)
        h = states[s, lo:hi]
        g = gates[s, lo:hi]
        update, reset, cand = g[:, :n], g[:, n:2 * n], g[:, 2 * n:]
        dxs = dx_all[s, lo:hi]
        dcand_pre = dxs[:, 2 * n:]
        np.multiply(dh_new * (1 - update), 1 - cand * cand, dcand_pre)
        np.multiply(dh_new * (h - cand), update * (1 - update), dxs[:, :n])
        dh_prev = dh_new * update
        if reset_after:
            np.multiply(dcand_pre * recurrent[s, lo:hi], reset * (1 - reset),
                        out=dxs[:, n:2 * n])
            dinner = dinner_all[s, lo:hi]
            dinner[:, :2 * n] = dxs[:, :2 * n]
            np.multiply(dcand_pre, reset, dinner[:, 2 * n:])
            if s or options["need_states"]:
                _step_product(dinner, a["u_t"], product, blocks)
                dh_prev += product
        else:
            drh = np.matmul(dcand_pre, a["u_h_t"])     # d of (r * h).
            np.multiply(drh * h, reset * (1 - reset), dxs[:, n:2 * n])
            dh_prev += drh * reset
            if s or options["need_states"]:
                dh_prev += np.matmul(dxs[:, :2 * n], a["u_zr_t"])
        dh = dh_prev + dh_keep if mt is not None else dh_prev
    a["dh_first"][lo:hi] = dh


def gru_backward(dy, xt, states, gates, recurrent, kernel, recurrent_kernel, *mask,
                 use_bias, go_backwards, reset_after, need_x=True, need_states=True,
                 dy_slice=None):
    mt = _mask_time_major(mask[0], go_backwards) if mask else None
    steps, batch, three = gates.shape
    n = three // 3
    helper = _partner_for(batch, n, 3)
    if helper is not None and not all(helper.arena.owns(a) for a in (xt, states, gates,
                                                                       recurrent)):
        helper = None  # The forward did not split (its partner was not up yet).
    empty = helper.arena.empty if helper is not None else np.empty
    parts = threads.even_parts(batch, 2) if helper is not None else _recurrence_parts(batch, n, 3)
    u = recurrent_kernel
    live, live_dy = _live_gradients(dy, dy_slice, (batch, steps, n), empty)
    arrays = dict(states=states, gates=gates, recurrent=recurrent, dy_live=live_dy,
                  mt=_shared(mt, helper),
                  dx_all=empty(gates.shape, gates.dtype),  # d of x @ kernel (+ input bias).
                  dh_first=empty((batch, n), dy.dtype))  # The gradient of h0.
    if reset_after:
        arrays["dinner_all"] = empty(gates.shape, gates.dtype)  # d of h @ U (+ rec. bias).
        arrays["u_t"] = _transposed(u, parts, empty)
    else:  # Contiguous transposes (see `_transposed`).
        arrays["u_zr_t"] = _copy(u[:, :2 * n].T, empty)
        arrays["u_h_t"] = _copy(u[:, 2 * n:].T, empty)
    options = {"reset_after": reset_after, "need_states": need_states, "live_steps": live}
    _run_rows(_gru_backward_rows, arrays, options, helper, parts)
    dx_all, dinner_all = arrays["dx_all"], arrays.get("dinner_all")
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
    pieces = [dx, arrays["dh_first"] if need_states else None, dkernel, drecurrent, dbias]
    return np.concatenate([piece.ravel() for piece in pieces if piece is not None])
