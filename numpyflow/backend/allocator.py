"""Keeps glibc from handing out fresh, page-faulting memory for every large array.

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
