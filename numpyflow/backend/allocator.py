"""Keeps glibc from handing out fresh, page-faulting memory for every large array; and
per-thread scratch buffers that kernels reuse across steps (`scratch`).

By default glibc serves each allocation above its mmap threshold (128 KiB, raised only
dynamically) with a new mmap and returns it to the OS on free. A training step allocates
the same multi-megabyte arrays (im2col columns, activations, their gradients) over and
over, so every step pays page faults on memory it just gave back: measured on LeNet-5 at
batch 32, 19 ms per step instead of 10. Raising the mmap and trim thresholds lets freed
blocks be reused from the heap instead.

This changes the process's allocator settings (memory freed by NumPy stays reserved up to
the thresholds rather than going back to the OS at once). It applies to glibc only; on
other C libraries it does nothing.
"""

import ctypes
import threading

import numpy as _np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's largest accepted mmap threshold on 64-bit systems (HEAP_MAX_SIZE / 2).
MMAP_THRESHOLD = 32 * 2 ** 20
TRIM_THRESHOLD = 256 * 2 ** 20

_applied = False


def keep_large_blocks():
    """Raises glibc's mmap/trim thresholds once per process. Returns whether it applied."""
    global _applied
    if _applied:
        return True
    try:
        # The already-loaded C library (no library search: that would slow the import).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied


# -- scratch buffers reused across steps ----------------------------------------------------

MAX_SCRATCH_BUFFERS = 32  # per thread; the cache starts over beyond this many shapes
_scratch = threading.local()


def scratch(tag, shape, dtype, zeroed=False):
    """A reusable temporary array for a kernel's intermediate (never for a result).

    A compiled training step calls its kernels with the same shapes every step; handing
    each the array it used last time skips the allocation and, above all, the page faults
    of fresh memory (worker threads get memory from their own glibc arena, which, unlike
    the main one, returns large blocks to the OS on every free: measured at ~0.6-0.9 ms per
    multi-megabyte `np.zeros` in a worker at LeNet-5 batch 128).

    Buffers are per thread and per (tag, shape, dtype). `zeroed=True` returns a buffer that
    was all zeros when first made and is never cleared again: for a kernel that writes only
    the same part of it each time (padded planes, whose padding stays zero). Callers
    that accumulate must clear it themselves.

    Example:
        >>> planes = scratch("planes", (2, 3), _np.float32, zeroed=True)
        >>> planes is scratch("planes", (2, 3), _np.float32, zeroed=True)
        True
    """
    cache = getattr(_scratch, "buffers", None)
    if cache is None:
        cache = _scratch.buffers = {}
    key = (tag, shape, _np.dtype(dtype), zeroed)
    buffer = cache.get(key)
    if buffer is None:
        if len(cache) >= MAX_SCRATCH_BUFFERS:
            cache.clear()
        buffer = cache[key] = (_np.zeros if zeroed else _np.empty)(shape, dtype)
    return buffer


# -- outputs whose size the data decides ----------------------------------------------------

CHECK_ABOVE_BYTES = 2 ** 30  # Smaller requests are not worth reading /proc/meminfo for.


def available_bytes():
    """Memory the OS can give this process now without swapping (Linux's MemAvailable),
    or None where that is unknown."""
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def fits(nbytes):
    """Whether `nbytes` more can be allocated and written now. An op whose output size
    comes from the data (a bincount of [2**31 - 1]) asks first: an allocation larger
    than the memory left would otherwise succeed lazily and get the process killed by
    the OS when written, instead of raising."""
    if nbytes < CHECK_ABOVE_BYTES:
        return True
    available = available_bytes()
    return available is None or nbytes <= available
