"""BLAS threading policy: one thread for small matrix products, all cores for large ones.

A training step at batch 32 multiplies small matrices (e.g. 32x784 by 784x128, 3 MFLOP).
For those, OpenBLAS's second thread costs more in hand-off than it saves; on a busy
2-core machine a multi-threaded small GEMM can even be 10-80x slower than a single-
threaded one, because its threads spin waiting for a core. Large products (inference on
10,000 samples) do gain from every core. So the thread count follows the size of each
product, instead of one global setting that would slow one case or the other.

Narrow products never get a second thread, whatever their size: with a side below
`MIN_THREADED_SIDE` (convolutions' 6 or 16 filters, 25-row filter matrices) OpenBLAS's second
thread has almost nothing to share and its spin-waiting threads lose badly on a shared
machine. Measured on this 2-core machine (load average ~2, median of 21): LeNet-5's batch-128
GEMMs 25x114688x6 4.1 ms on one thread vs 14.1 ms on two, 150x17920x16 1.7 vs 8.0 ms,
150x16x17920 1.9 vs 19.6 ms (the one exception, 17920x150x16, 3.5 vs 1.4 ms). Work on the
second core for these comes from splitting by batch instead (`backend/threads.py`).

Only OpenBLAS (which NumPy's wheels ship) is controlled, through its C API; with any
other BLAS, or where the library cannot be found, the policy does nothing.
"""

import ctypes

import re

import numpy as np

# Products of fewer multiply-adds than this run on one thread (measured on 2 cores:
# the crossover of 1 vs 2 threads lies between 8 and 30 million).
SINGLE_THREAD_BELOW = 16_000_000
# Products with a side (rows, inner size or columns) below this always run on one thread.
MIN_THREADED_SIDE = 64

_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
              "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
              "openblas_get_num_threads64_", "openblas_get_num_threads")


def _find_openblas():
    """(set_threads, max_threads) for the OpenBLAS NumPy loaded, or (None, 1)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read())))
    except OSError:
        return None, 1
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(library, n) for n in _SET_NAMES if hasattr(library, n)), None)
        getter = next((getattr(library, n) for n in _GET_NAMES if hasattr(library, n)), None)
        if setter is not None and getter is not None:
            return setter, max(int(getter()), 1)
    return None, 1


_set_threads, _max_threads = _find_openblas()
_current = _max_threads
_library_threads = _max_threads  # What the library offers: `set_thread_limit`'s ceiling.


def _use_threads(count):
    global _current
    if count != _current and _set_threads is not None:
        _set_threads(count)
        _current = count


def limit_threads(count):
    """Uses at most `count` threads for large products from now on (at least one): a
    process sharing the machine's cores with others (one MPI rank per replica) keeps to
    its share instead of spinning against them."""
    global _max_threads
    _max_threads = max(1, min(int(count), _max_threads))


def set_thread_limit(count):
    """Uses at most `count` threads for large products (None or 0: all the BLAS library
    offers), raising the cap as well as lowering it: `tf.config.threading`'s
    intra-op setting, which a program may change back."""
    global _max_threads
    _max_threads = _library_threads if not count else max(1, min(int(count), _library_threads))


def threads_for(multiply_adds):
    """The thread count the policy picks for a product of `multiply_adds` operations."""
    return 1 if multiply_adds < SINGLE_THREAD_BELOW else _max_threads


def use_threads_for(multiply_adds):
    """Sets OpenBLAS's thread count for the following products as the policy picks it for
    a product of `multiply_adds` operations (for a kernel whose many products share one
    size, e.g. a recurrence's per-step GEMM)."""
    _use_threads(threads_for(multiply_adds))


def matmul(a, b):
    """`np.matmul(a, b)` with the thread count chosen by the product's size and shape."""
    rows, inner, columns = a.shape[-2], a.shape[-1], b.shape[-1]
    if min(rows, inner, columns) < MIN_THREADED_SIDE:
        use_threads_for(0)  # Narrow: one thread (asked through the policy, so it is seen).
    else:
        work = rows * inner * columns
        if a.ndim > 2:
            work *= int(np.prod(a.shape[:-2]))
        use_threads_for(work)
    return np.matmul(a, b)


def matmul_one_thread(a, b):
    """`np.matmul(a, b)` on one BLAS thread: for products already running side by side on
    the worker threads of `backend.threads`."""
    use_threads_for(0)
    return np.matmul(a, b)


def is_controlled():
    return _set_threads is not None


_ones_rows = {}  # (rows, dtype) -> a (1, rows) row of ones, reused across steps


def column_sums(matrix):
    """Column sums of a C-contiguous 2-D float32/float64 matrix, as one GEMV.

    For tall, narrow matrices (bias gradients: batch x height x width rows, a few channel
    columns) NumPy's `sum(axis=0)` is ~10x slower than multiplying by a row of ones.
    """
    key = (matrix.shape[0], matrix.dtype)
    ones = _ones_rows.get(key)
    if ones is None:
        if len(_ones_rows) > 64:
            _ones_rows.clear()
        ones = _ones_rows[key] = np.ones((1, matrix.shape[0]), matrix.dtype)
    return matmul(ones, matrix)[0]

