"""Forwards that compute inf and NaN silently, as TF's kernels do, not with NumPy's warnings.

`tf.math.log(0.)` is `-inf`, `tf.exp(1000.)` is `inf` and `0. / 0.` is NaN in TF, without a
word; NumPy computes the same values but also emits a `RuntimeWarning` ("divide by zero
encountered in log"). `quiet(forward)` runs a forward with NumPy's floating-point error
reports turned off for the duration of the call only: NumPy's error state outside the call
(the user's `np.seterr`/`np.errstate`) is never changed. Because the forward itself is
quiet, a compiled plan (which calls the forwards directly) is quiet too.

Cost: `np.errstate` spends about 1 us of Python per call, as much as a small op's whole
dispatch. On NumPy >= 2 the error state is a context variable, so `silence()`/`restore()` set
it directly (~0.1 us for both); the wrapper `quiet` adds a Python call (~0.15 us for a ufunc, ~0.3 us
with keyword attributes). Hot forwards (Sum, Mean, Cast, FloorDiv, FloorMod) and the scalar
conversion in `_convert._like` call `silence`/`restore` inline instead (~0.12 us).

Not every primitive is quiet: the hot elementwise ufuncs (AddV2, Sub, Mul, BiasAdd, Square)
stay raw NumPy ufuncs, so that eager calls pay nothing and plans can compute them in place.
They warn only when a result overflows or an input is already inf/NaN.
"""

import functools

import numpy as np

try:  # NumPy >= 2: np.errstate sets this context variable; set it without errstate's Python.
    from numpy._core.umath import _extobj_contextvar, _make_extobj
except ImportError:  # pragma: no cover - older or changed NumPy: the public, slower way.
    _extobj_contextvar = None

if _extobj_contextvar is not None:
    # `silence()` turns NumPy's floating-point error reports off and returns a token;
    # `restore(token)` undoes it (call it in a `finally`). Both are C calls, no Python frame.
    # (The state also holds NumPy's buffer size, as it was at import: only speed depends on it.)
    silence = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    restore = _extobj_contextvar.reset
else:  # pragma: no cover
    def silence():
        return np.seterr(all="ignore")

    def restore(token):
        np.seterr(**token)


def quiet(forward):
    """`forward` without NumPy's floating-point RuntimeWarnings (inf/NaN results stay).

    Args:
      forward: A function or ufunc on arrays (ufuncs are called with arrays only).

    Returns:
      A function with the same arguments and results.

    >>> quiet(np.log)(np.zeros(2))
    array([-inf, -inf])
    """
    if isinstance(forward, np.ufunc):  # No keyword attributes: skip packing a dict.
        @functools.wraps(forward)
        def run_ufunc(*arrays):
            token = silence()
            try:
                return forward(*arrays)
            finally:
                restore(token)
        return run_ufunc

    @functools.wraps(forward)
    def run(*args, **kwargs):
        token = silence()
        try:
            return forward(*args, **kwargs)
        finally:
            restore(token)
    return run

