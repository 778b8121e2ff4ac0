"""Special functions on NumPy arrays: the error function and its complement.

NumPy has no `erf` ufunc (SciPy has, but numpyflow does not depend on SciPy), so these
apply the standard library's correctly rounded `math.erf`/`math.erfc` element by element.
That is a Python call per element: fine for the gradient rules that use them (a few values
per sample), not for a hot loop.

    >>> from numpyflow.backend import special
    >>> special.erf(np.array([0.0, 1.0])).round(4)
    array([0.    , 0.8427])
"""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def erf(x):
    """The error function of each element of `x`, as a float64 array.

    >>> erf(np.array([-1.0, 0.0]))
    array([-0.84270079,  0.        ])
    """
    return _erf(x)


def erfc(x):
    """`1 - erf(x)` for each element of `x`, computed without cancellation (float64).

    >>> float(erfc(np.array(5.0)))
    1.5374597944280351e-12
    """
    return _erfc(x)
