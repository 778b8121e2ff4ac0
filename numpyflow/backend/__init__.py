"""Layer 1: the array kernels numpyflow runs on.

Today this is NumPy (with its BLAS) on the CPU. Code above this layer reaches arrays
only through Tensors and ops; the array module is named here so that a CuPy backend can
later slot in behind the same array API.
"""

import numpy as xp  # noqa: F401 - the array module, re-exported

from numpyflow.backend import allocator

allocator.keep_large_blocks()

__all__ = ["xp"]
