"""The second core: large array kernels split by batch across a small persistent thread pool.

NumPy's copies and BLAS calls release the GIL, so two Python threads each running half a
batch (its im2col copy, its single-threaded GEMM, its col2im) use both cores. This is how
numpyflow uses the second core for convolutions, instead of OpenBLAS's own threads, which
for their narrow products (6 or 16 filters) lose on a shared machine (see `blas.py`).

Policy, in one place: a kernel of fewer than `SPLIT_ABOVE` multiply-adds runs whole on the
calling thread (handing half a batch to another thread costs ~20-50 us, and on a busy
machine the other core may not be free at all); a larger one is split into equal runs of
batch rows, one per core (at most `blas.limit_threads`'s count, so a process sharing the
machine with other ranks keeps to its share). LeNet-5 at batch 32 (conv1 3.7 M, conv2 7.7 M
multiply-adds) therefore never splits; at batch 128 (15 M and 31 M) both convolutions do.

Measured (2026-11-29, this 2-core machine, shared with other jobs at load average 3-7, so
only same-process, interleaved comparisons mean much): LeNet-5's batch-128 conv/pool kernels
per step, whole vs split: 52.3 vs 44.7 ms at load 7; forcing the split at batch 64 made
its kernels slower (10.1 vs 17.3 ms), hence the threshold above batch 32-64's sizes.

Example:
    >>> parts = batch_parts(128, 10 ** 9)   # [(0, 64), (64, 128)] on 2 cores
    >>> sums = run_parts(lambda part: sum(range(*part)), parts)
"""

import os
import threading

from numpyflow.backend import blas
from numpyflow.backend.quiet import restore, silence

# Kernels of at least this many multiply-adds are split by batch across the cores.
SPLIT_ABOVE = 12_000_000

_lock = threading.Lock()
_pool = None
_pool_pid = None  # A forked child inherits the pool object but not its threads.


def cores():
    """How many cores a split may use: the machine's (this process's affinity), at most
    the BLAS policy's thread limit."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        available = os.cpu_count() or 1
    return max(1, min(available, blas._max_threads))


def batch_parts(batch, multiply_adds):
    """The (start, stop) batch runs a kernel of `multiply_adds` over `batch` rows is split
    into: one run when it is small, else one per core (never an empty run)."""
    count = cores() if multiply_adds >= SPLIT_ABOVE else 1
    return even_parts(batch, count)


def even_parts(batch, count):
    """`batch` rows in `count` (at most `batch`, at least 1) contiguous, near-equal runs."""
    count = max(1, min(count, batch))
    bounds = [batch * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


def _quiet_call(fn, part):
    # Worker threads start with NumPy's default error state: keep them as quiet as the
    # calling forward (see backend/quiet.py).
    token = silence()
    try:
        return fn(part)
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
    pool's threads at the same time. Exceptions propagate to the caller."""
    if len(parts) == 1:
        return [fn(parts[0])]
    pool = _pool_of_this_process()
    futures = [pool.submit(_quiet_call, fn, part) for part in parts[1:]]
    first = fn(parts[0])
    return [first] + [future.result() for future in futures]
