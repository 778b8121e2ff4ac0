"""Layer 1: the array kernels numpyflow runs on.

Today this is NumPy (with its BLAS) on the CPU. Code above this layer reaches arrays only
through Tensors and ops, and the ops in `numpyflow/ops/` reach the array library only
through the names exported here (a test fails if one imports NumPy itself):

- `xp`: the array module, with NumPy's array API (`xp.matmul`, `xp.float32`, `xp.add.at`,
  `xp.finfo`, `xp.random.default_rng`, ...). Ops write `xp.` where NumPy code writes `np.`.
- `host`: the array module for values that live in host memory whatever the backend:
  string tensors (object arrays of `bytes`) and the arrays `tf.numpy_function` hands to
  Python. Always NumPy.
- `errstate`: a context manager that scopes the array library's floating-point error
  reports (`with errstate(over="ignore"):` around integer wrap-around that is meant).
- `special`: special functions NumPy lacks (`special.erf`, `special.erfc`).
- `conv`, `pooling`: the convolution (im2col + GEMM) and pooling kernels.
- `batch_norm`: training-mode batch normalization (statistics, normalization, gradient).
- `recurrence`: the fused SimpleRNN/LSTM/GRU recurrences, forward and backward.
- `blas`, `quiet`, `allocator`: the BLAS thread policy, warning-free forwards, and the
  allocator settings (modules of this package).

    >>> from numpyflow.backend import xp
    >>> xp.add(xp.ones(2, xp.float32), 1.0)
    array([2., 2.], dtype=float32)

How a second backend would slot in (for example CuPy on a GPU):

1. The array module: `xp` names it (CuPy mirrors most of NumPy's API: dtype objects,
   `finfo`/`iinfo`, `random.default_rng`, and ufuncs whose `.reduce`/`.at` methods exist
   for the common ones such as `add`); `host` stays NumPy. Tensors then hold that
   library's arrays, and the conversions at the edges (`Tensor.numpy()`, `tf.constant` of
   a NumPy array) copy between host and device.
2. The kernels: NumPy-specific kernels live under `backend/numpy/` (e.g. `special`, and
   the convolution and pooling kernels); a backend provides the same functions under
   `backend/<name>/`, and this module re-exports the active backend's.
3. `errstate`: the library's own, or a no-op context manager where it reports nothing.
4. The BLAS thread policy (`blas.py`, and `threads.py`, which splits large kernels by
   batch across the cores): decides threads per matrix product for OpenBLAS; a device
   library schedules its own work, so its policy is a no-op with the same calls
   (`blas.matmul`, ...).
5. The allocator (`allocator.py`): tunes glibc's malloc for NumPy's large temporaries; a
   device library brings its own memory pool, configured here instead.
"""

import numpy as xp  # noqa: F401 - the array module, re-exported
import numpy as host  # noqa: F401 - host-memory arrays (strings, numpy_function values)
from numpy import errstate  # noqa: F401 - floating-point error reports, scoped

from numpyflow.backend import allocator
# The active backend's kernels (imported last: conv imports this package's blas/threads).
from numpyflow.backend.numpy import conv, pooling, special  # noqa: F401, E402 - re-exported

allocator.keep_large_blocks()


def __getattr__(name):
    # The recurrence and batch-norm kernels load with the layers that use them, so that
    # `import numpyflow` stays small.
    if name in ("batch_norm", "recurrence"):
        import importlib
        module = importlib.import_module(f"numpyflow.backend.numpy.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'numpyflow.backend' has no attribute {name!r}")


__all__ = ["batch_norm", "conv", "errstate", "host", "pooling", "recurrence", "special", "xp"]
