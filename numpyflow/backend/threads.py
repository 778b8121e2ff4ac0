"""The second core: large array kernels split by batch across a small persistent thread pool.

NumPy's copies and BLAS calls release the GIL, so two Python threads each running half a
batch (its im2col copy, its single-threaded GEMM, its col2im) use both cores. This is how
numpyflow uses the second core for convolutions, instead of OpenBLAS's own threads, which
for their narrow products (6 or 16 filters) lose on a shared machine (see `blas.py`).

Policy, in one place: a kernel whose estimated time on one core is below the time of
`SPLIT_ABOVE` multiply-adds of a large square float32 GEMM (~1.2 ms: 48 multiply-adds per
ns, measured on one core here) runs whole on the calling thread; a larger one is split
into equal runs of batch rows, one per core (at most `blas.limit_threads`'s count, so a
process sharing the machine with other ranks keeps to its share). A split costs ~20-50 us
of hand-off, ~20 us of per-part Python, and the GIL the two halves' Python shares.

The estimate is `full_speed_work`: a product with a narrow side (a convolution's 6 or 16
filters) runs far below full speed, 15 multiply-adds per ns at 6 columns, 20 at 8, 32-34
at 16, 39 at 32, 43 at 64 (this machine, one core): ~side / (side + 8) of full speed. And
a convolution's im2col / col2im copies take about as long again as its GEMM (LeNet-5
batch 32: 530-630 us per kernel against 240-290 us of GEMM).

Where the threshold sits (2026-11-30, this 2-core machine at load average ~1.1, fresh
processes splitting on and off alternately, LeNet-5 `fit` steps in ms, medians of 3 runs of
12,000 samples), after the conv kernels moved to cache-sized blocks (`backend/numpy/conv.py`):
batch 32, 3.94 split vs 2.93 whole (its kernels estimate 17-23 M full-speed multiply-adds);
batch 64, 6.13 vs 5.87 (35-46 M); batch 128, 10.4 vs 11.6 (70-92 M); the CIFAR-shaped CNN
at batch 64 (146-679 M), 57.8 vs 80.4. Hence 60 M: LeNet-5 splits from batch 128 only. (Before
the blocked kernels, batch 64 still gained from a split, 9.0 vs 9.7: each kernel was slower.)
The recurrences' weight products (~72-84 M for the LSTM(128) benchmark) split too. Kernels
whose parts are a few long NumPy calls (max pooling) pay less per split and split from
`SPLIT_ABOVE_FEW_CALLS` (`batch_parts(..., few_calls=True)`).

On a busy machine a worker may wait milliseconds for a core: `run_parts` then lets the
caller run the parts no worker has started, and after a few splits in a row where no worker
took a part at all, runs them alone for a while (LeNet-5 batch 32 split at load 6-8: 18.0
whole vs 21.7 split before, 16.7 vs 17.9 with both).

Example:
    >>> parts = batch_parts(128, 10 ** 9)   # [(0, 64), (64, 128)] on 2 cores
    >>> sums = run_parts(lambda part: sum(range(*part)), parts)
"""

import os
import threading
import time

from numpyflow.backend import blas
from numpyflow.backend.quiet import restore, silence

# Kernels of at least this many full-speed multiply-adds (`full_speed_work`) are split by
# batch across the cores: ~1.2 ms of a large square float32 GEMM on one core here.
SPLIT_ABOVE = 60_000_000
# A product with a side this narrow runs at ~side / (side + NARROW_SIDE_COST) of full speed.
NARROW_SIDE_COST = 8
# Kernels whose parts are each a few long NumPy calls (the max pool's fast path: ~10), so
# that the halves hardly contend for the GIL and a split costs little more than its
# hand-off, split from this much work (~0.25 ms on one core) instead of `SPLIT_ABOVE`
# (set for the conv kernels' ~60 calls per part). LeNet-5 at batch 128: the first pool
# (0.41 ms forward, 0.41 ms gradient on one core) splits; its second (0.12, 0.17 ms) and
# batch 64's first (0.20, 0.20) run whole.
SPLIT_ABOVE_FEW_CALLS = 12_000_000

_lock = threading.Lock()
_pool = None
_pool_pid = None  # A forked child inherits the pool object but not its threads.

# After UNPAID_LIMIT splits in a row that did not pay (no core free: the workers start late
# or get preempted), the caller runs the parts of the next SOLO_SPLITS splits itself,
# without waking a worker, then tries the workers again. Only who runs a part changes,
# never how the batch is split, so results do not depend on it.
UNPAID_LIMIT = 3
SOLO_SPLITS = 64


class _SplitOutcomes:
    """How the recent splits went: scheduling state of this process's pool (never read
    by a kernel's arithmetic)."""

    def __init__(self):
        self.unpaid_in_a_row = 0
        self.solo_left = 0

    def record(self, paid):
        self.unpaid_in_a_row = 0 if paid else self.unpaid_in_a_row + 1
        if self.unpaid_in_a_row >= UNPAID_LIMIT:
            self.unpaid_in_a_row = 0
            self.solo_left = SOLO_SPLITS


_outcomes = _SplitOutcomes()


def cores():
    """How many cores a split may use: the machine's (this process's affinity), at most
    the BLAS policy's thread limit."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        available = os.cpu_count() or 1
    return max(1, min(available, blas._max_threads))


def full_speed_work(multiply_adds, narrow_side=None, moves_data=False):
    """How many multiply-adds of a large square GEMM take as long on one core as a kernel
    of `multiply_adds` whose products have `narrow_side` as their smallest side, and which
    (`moves_data`: im2col / col2im) copies about as much time again as it multiplies."""
    work = multiply_adds
    if narrow_side is not None:
        work = work * (max(narrow_side, 1) + NARROW_SIDE_COST) // max(narrow_side, 1)
    return 2 * work if moves_data else work


def batch_parts(batch, multiply_adds, few_calls=False):
    """The (start, stop) batch runs a kernel of `multiply_adds` (full-speed ones, see
    `full_speed_work`) over `batch` rows is split into: one run when it is small, else one
    per core (never an empty run). `few_calls`: each part is a few long NumPy calls
    (`SPLIT_ABOVE_FEW_CALLS`)."""
    threshold = SPLIT_ABOVE_FEW_CALLS if few_calls else SPLIT_ABOVE
    count = cores() if multiply_adds >= threshold else 1
    return even_parts(batch, count)


def even_parts(batch, count):
    """`batch` rows in `count` (at most `batch`, at least 1) contiguous, near-equal runs."""
    count = max(1, min(count, batch))
    bounds = [batch * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


class _SharedParts:
    """The parts of one `run_parts` call, each claimed by the first thread to reach it."""

    def __init__(self, fn, parts):
        self.fn, self.parts = fn, parts
        self.results = [None] * len(parts)
        self.errors = [None] * len(parts)
        self.finished = [threading.Event() for _ in parts]
        self._claimed = [False] * len(parts)
        self._lock = threading.Lock()

    def claim(self, index):
        with self._lock:
            if self._claimed[index]:
                return False
            self._claimed[index] = True
            return True

    def run(self, index):
        try:
            self.results[index] = self.fn(self.parts[index])
        except BaseException as error:  # Re-raised on the calling thread.
            self.errors[index] = error
        finally:
            self.finished[index].set()


def _run_on_worker(shared, index):
    if not shared.claim(index):
        return  # The calling thread got there first.
    # Worker threads start with NumPy's default error state: keep them as quiet as the
    # calling forward (see backend/quiet.py).
    token = silence()
    try:
        shared.run(index)
    finally:
        restore(token)


def _pool_of_this_process():
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        with _lock:
            if _pool is None or _pool_pid != os.getpid():
                from concurrent.futures import ThreadPoolExecutor  # Only when a split runs.
                _pool = ThreadPoolExecutor(max_workers=max(cores() - 1, 1),
                                           thread_name_prefix="numpyflow-kernel")
                _pool_pid = os.getpid()
    return _pool


def shutdown():
    """Stops the pool's threads (after their current work); the next split starts a new
    pool. For tests and tools that count a process's threads."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


def run_parts(fn, parts):
    """[fn(part) for part in parts], the first on the calling thread and the others on the
    pool's threads at the same time. Exceptions propagate to the caller.

    On a busy machine a worker can wait milliseconds for a core (or be preempted while it
    holds the GIL), and the caller would sit idle until then (LeNet-5, batch 32, no core
    free: 13.1 ms per step split vs 11.1 whole). So the caller runs any part no worker has
    started by the time it is free (18.0 whole vs 21.7 split at load 8), and when splits
    keep not paying (`_SplitOutcomes`) it runs the parts itself for a while, without waking
    a worker (16.7 vs 17.9 at load 6). `fn` must not depend on which thread runs a part
    (the conv kernels' per-thread scratch buffers are used by one part at a time).
    """
    if len(parts) == 1:
        return [fn(parts[0])]
    if _outcomes.solo_left > 0:
        _outcomes.solo_left -= 1
        return [fn(part) for part in parts]
    pool = _pool_of_this_process()
    shared = _SharedParts(fn, parts)
    for index in range(1, len(parts)):
        pool.submit(_run_on_worker, shared, index)
    shared.claim(0)
    shared.run(0)
    caller_ran = 1
    for index in range(1, len(parts)):
        if shared.claim(index):
            shared.run(index)
            caller_ran += 1
    for index in range(len(parts)):
        shared.finished[index].wait()
    # Paid: a worker got a core in time to take a part. (Also asking that the caller not
    # wait long for it backed off too often on a quiet machine, where halves of unequal
    # cost are common: LeNet-5 batch 64, 9.9 vs 9.0 ms per step.)
    _outcomes.record(caller_ran < len(parts))
    for error in shared.errors:
        if error is not None:
            raise error
    return shared.results


# -- side work beside a loop ---------------------------------------------------------------
# A loop that cannot split (a recurrence's time steps) can still have work beside it taken
# by the second core: work its later iterations need (`Handoff`: whoever needs a chunk
# first computes it, so the loop never waits on a worker that lost its core) and work on
# the iterations it has finished (`Finished`: the loop says so, the side thread follows).
# `side_by_side` runs the two, backed off when the side thread keeps being late.
#
# On a busy machine the pool thread can lose its core for a scheduler time slice, and the
# caller then waits for its last chunk behind the loop: measured at load 6-7 on the 2
# cores here, the backward's caller waited 0.6 ms at the median but 10 ms one call in
# ten (against 0.1-0.3 ms expected on a quiet machine). So when the caller's recent
# waits (an exponential average over calls, weight LATE_WEIGHT) pass SIDE_LATE_S,
# the next SIDE_SOLO_CALLS calls run the side work on the calling thread after the
# loop, without the pool; then the pool is tried again. Only who runs the side work
# changes, never the arithmetic. Measured at load 6-7, LSTM(128) forward + backward
# alone, interleaved: 11.7 ms with the back-off, 15.8 without, 15.6 before the pipeline;
# whole training steps (the benchmark's fit, load 7, two interleaved runs): 21.3 and
# 14.2 ms with it, 20.9 and 21.3 without, 17.9 before the pipeline: noisy, not worse.
# SIDE_LATE_S = inf turns it off.
SIDE_LATE_S = 0.001
SIDE_SOLO_CALLS = 64
LATE_WEIGHT = 0.25


class _SideLateness:
    """How long callers of `side_by_side` recently waited for the side thread after their
    own part: scheduling state (never read by a kernel's arithmetic)."""

    def __init__(self):
        self.average_wait = 0.0
        self.solo_left = 0

    def record(self, wait):
        self.average_wait += LATE_WEIGHT * (wait - self.average_wait)
        if self.average_wait > SIDE_LATE_S:
            self.average_wait = 0.0
            self.solo_left = SIDE_SOLO_CALLS


_side_lateness = _SideLateness()


def side_by_side(main, side):
    """main() on the calling thread and side() on a pool thread at the same time, on one
    BLAS thread each; or side() after main(), here, when no worker is free
    (`run_parts`) or the side thread has been late (`_SideLateness`)."""
    blas.use_threads_for(0)
    if _side_lateness.solo_left > 0:
        _side_lateness.solo_left -= 1
        main()
        side()
        return
    main_done = []

    def timed_main():
        main()
        main_done.append(time.perf_counter())

    run_parts(lambda part: part(), [timed_main, side])
    _side_lateness.record(time.perf_counter() - main_done[0])


class Handoff:
    """Chunks of side work that either of two threads may do, each at most once: the first
    to claim a chunk does it. The thread that needs a chunk never waits for the other one
    (which may have lost its core to another process mid-chunk): if the chunk is claimed
    but not done, it computes its own copy into buffers of its own (`needed`). (Plain
    flags, not threading.Event: nobody waits on them, and an Event costs ~3 us to make.)"""

    def __init__(self, count):
        self._claimed = [False] * count
        self._done = [False] * count
        self._lock = threading.Lock()

    def run(self, index, fn, *args):
        """fn(*args) unless chunk `index` is claimed already; whether it ran here."""
        with self._lock:
            if self._claimed[index]:
                return False
            self._claimed[index] = True
        fn(*args)
        self._done[index] = True
        return True

    def needed(self, index, fn, shared, own):
        """Chunk `index` for the thread that needs it now: fn(shared) here if unclaimed,
        or the other thread's `shared` results if done; else fn(own), here. Returns the
        buffers that hold it (`shared` or `own`; fn writes all of its results into them)."""
        if self.run(index, fn, shared) or self._done[index]:
            return shared
        fn(own)
        return own


class Finished:
    """"The loop has finished chunk k", for k = 0, 1, ... in order, from the loop to the
    side thread, which waits for each (a C queue: cheaper than an Event per chunk)."""

    def __init__(self, count):
        import queue  # Here, not at `import numpyflow`, whose memory is benchmarked.
        self._queue = queue.SimpleQueue()
        self._count, self._sent = count, 0

    def send(self):
        """The next chunk is finished."""
        self._queue.put(self._sent)
        self._sent += 1

    def send_rest(self):
        """All chunks count as finished (after an error: the side thread must not hang)."""
        while self._sent < self._count:
            self.send()

    def wait(self):
        """Waits for the next chunk to be finished."""
        self._queue.get()
