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


# -- gamma-family and inverse-normal kernels (pure NumPy, vectorised) ----------------------
#
# math.lgamma applied element by element costs a Python call per value, too slow for
# tensors; these use the textbook method instead: move each argument up by the recurrence
# Gamma(z + 1) = z Gamma(z) until z >= _ASYMPTOTIC_FROM, then sum the asymptotic (Stirling)
# series, whose terms at that size are below float64 rounding. Negative arguments go
# through the reflection formula. Accuracy: ~1e-14 relative away from the roots (absolute
# near them), checked against the standard library in tests/test_math_api.py.

_ASYMPTOTIC_FROM = 10.0
# Bernoulli numbers B2, B4, ..., B14: the coefficients of the Stirling-type series.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _as_float64(x):
    return np.asarray(x, dtype=np.float64)


def _sin_pi(x):
    """sin(pi * x), exact at integers: x is first reduced to [-1, 1] (an exact step)."""
    return np.sin(np.pi * (x - 2.0 * np.round(x / 2.0)))


def _tan_pi(x):
    """tan(pi * x), with x reduced to [-0.5, 0.5] first (tan has period pi)."""
    return np.tan(np.pi * (x - np.round(x)))


def _shift_up(x, threshold, accumulate):
    """Raises each element of `x` by 1 until it is >= threshold, calling `accumulate(z, mask)`
    with the value about to be raised (mask: which elements still move). Returns the moved x."""
    z = x.copy()
    moving = z < threshold
    while moving.any():
        accumulate(z, moving)
        z = np.where(moving, z + 1.0, z)
        moving = z < threshold
    return z


def _lgamma_positive(x):
    """log|Gamma(x)| for x > 0 (finite)."""
    log_product = np.zeros_like(x)
    product = np.ones_like(x)

    def accumulate(z, moving):
        nonlocal product
        product = np.where(moving, product * z, product)
        # Flush before the product could overflow or underflow (10 factors of < 10 never do,
        # but tiny x makes the first factor tiny).
        small = (product < 1e-200) | (product > 1e200)
        if small.any():
            np.add(log_product, np.log(np.where(small, product, 1.0)), out=log_product)
            product = np.where(small, 1.0, product)

    z = _shift_up(x, _ASYMPTOTIC_FROM, accumulate)
    inverse, inverse_square = 1.0 / z, 1.0 / (z * z)
    series = np.zeros_like(z)
    power = inverse
    for k, b in enumerate(_BERNOULLI, start=1):
        series += b / (2 * k * (2 * k - 1)) * power
        power = power * inverse_square
    stirling = (z - 0.5) * np.log(z) - z + 0.5 * np.log(2 * np.pi) + series
    return stirling - np.log(product) - log_product


def lgamma(x):
    """log|Gamma(x)| of each element (float64); +inf at 0 and the negative integers.

    >>> lgamma(np.array([1.0, 0.5, 10.0])).round(6)
    array([ 0.      ,  0.572365, 12.801827])
    """
    x = _as_float64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        finite = np.isfinite(x)
        positive = finite & (x > 0)
        out[positive] = _lgamma_positive(x[positive])
        out[(x == 1) | (x == 2)] = 0.0  # Exact at the two roots, where the sum cancels.
        negative = finite & (x <= 0)
        xn = x[negative]
        pole = xn == np.floor(xn)
        # Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
        reflected = (np.log(np.pi / np.abs(_sin_pi(xn))) -
                     _lgamma_positive(np.where(pole, 2.0, 1.0 - xn)))
        out[negative] = np.where(pole, np.inf, reflected)
        out[np.isinf(x)] = np.inf
    return out


def _digamma_positive(x):
    """psi(x) for x > 0 (finite)."""
    correction = np.zeros_like(x)

    def accumulate(z, moving):
        np.subtract(correction, np.where(moving, 1.0 / z, 0.0), out=correction)

    z = _shift_up(x, _ASYMPTOTIC_FROM, accumulate)
    inverse_square = 1.0 / (z * z)
    series = np.zeros_like(z)
    power = inverse_square
    for k, b in enumerate(_BERNOULLI, start=1):
        series += b / (2 * k) * power
        power = power * inverse_square
    return np.log(z) - 0.5 / z - series + correction


def digamma(x):
    """psi(x) = d/dx log Gamma(x) of each element (float64); NaN at 0 and negative integers.

    >>> digamma(np.array([1.0, 2.0])).round(6)
    array([-0.577216,  0.422784])
    """
    x = _as_float64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        positive = np.isfinite(x) & (x > 0)
        out[positive] = _digamma_positive(x[positive])
        negative = np.isfinite(x) & (x <= 0)
        xn = x[negative]
        # Reflection: psi(1 - x) - psi(x) = pi / tan(pi x).
        value = _digamma_positive(np.where(xn == np.floor(xn), 2.0, 1.0 - xn)) - np.pi / _tan_pi(xn)
        out[negative] = np.where(xn == np.floor(xn), np.nan, value)
        out[x == np.inf] = np.inf
    return out


def polygamma(n, x):
    """The n-th derivative of psi at x (n = 0 is digamma), element-wise with broadcasting.

    NaN where n is not a non-negative integer; at the poles (0, -1, -2, ...) +inf for odd n,
    NaN for even n (as TF). Negative
    x moves up one step per unit, so values far below 0 are slow (a loop over the distance).

    >>> polygamma(np.array([1.0, 2.0]), np.array([1.0, 1.0])).round(6)
    array([ 1.644934, -2.404114])
    """
    n, x = np.broadcast_arrays(_as_float64(n), _as_float64(x))
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        valid = (n >= 0) & (n == np.floor(n)) & ~np.isnan(x)
        zero_order = valid & (n == 0)
        out[zero_order] = digamma(x[zero_order])
        for order in np.unique(n[valid & (n > 0)]):
            where_order = valid & (n == order)
            out[where_order] = _polygamma_order(int(order), x[where_order])
    return out


def _polygamma_order(n, x):
    """psi^(n)(x) for an integer n >= 1: (-1)^(n+1) n! zeta(n + 1, x)."""
    sign = -1.0 if n % 2 == 0 else 1.0
    factorial = float(np.prod(np.arange(1, n + 1, dtype=np.float64)))
    pole = (x <= 0) & (x == np.floor(x))
    z0 = np.where(pole | ~np.isfinite(x), 1.0, x)
    head = np.zeros_like(z0)

    def accumulate(z, moving):
        np.add(head, np.where(moving, z ** -(n + 1.0), 0.0), out=head)

    # Higher orders need a larger argument before the series' terms fall off.
    z = _shift_up(z0, _ASYMPTOTIC_FROM + n, accumulate)
    inverse_square = 1.0 / (z * z)
    # Leading terms (n-1)!/z^n + n!/(2 z^(n+1)), then B_2k (2k+n-1)! / ((2k)! z^(2k+n)).
    tail = factorial / n / z ** n + factorial / 2.0 / z ** (n + 1)
    power = z ** -float(n) * inverse_square
    coefficient = factorial / n  # (n-1)!, updated to (2k+n-1)!/(2k)!
    for k, b in enumerate(_BERNOULLI, start=1):
        coefficient *= (2 * k + n - 2) * (2 * k + n - 1) / ((2 * k - 1) * (2 * k))
        tail = tail + b * coefficient * power
        power = power * inverse_square
    value = sign * (factorial * head + tail)
    value = np.where(x == np.inf, 0.0, value)
    # At the poles (and -inf) TF gives +inf for odd orders and NaN for even ones, where the
    # sign of the infinity depends on the side of approach.
    at_pole = pole | (x == -np.inf)
    return np.where(at_pole, np.inf if n % 2 else np.nan, value)


# Rational approximations of the normal quantile (P. J. Acklam's published coefficients,
# relative error < 1.2e-9), refined below by Halley steps to full float64 precision.
_CENTRAL_NUMERATOR = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_CENTRAL_DENOMINATOR = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                        6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_TAIL_NUMERATOR = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                   -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_TAIL_DENOMINATOR = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                     3.754408661907416e+00, 1.0)


def _horner(coefficients, x):
    result = np.zeros_like(x)
    for c in coefficients:
        result = result * x + c
    return result


def _lower_normal_quantile(p):
    """ndtri(p) for p in (0, 0.5]: the result is <= 0, where Phi(x) = erfc(-x/sqrt2)/2 is
    accurate, so the refinement never subtracts nearly equal numbers."""
    central = p > 0.02425
    q = p - 0.5
    r = q * q
    x_central = q * _horner(_CENTRAL_NUMERATOR, r) / _horner(_CENTRAL_DENOMINATOR, r)
    t = np.sqrt(-2.0 * np.log(np.where(central, 0.5, p)))
    x_tail = _horner(_TAIL_NUMERATOR, t) / _horner(_TAIL_DENOMINATOR, t)
    x = np.where(central, x_central, x_tail)
    for _ in range(2):  # Halley's method: each step triples the correct digits.
        density = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        u = (0.5 * erfc(-x / np.sqrt(2.0)) - p) / density
        step = u / (1.0 + 0.5 * x * u)
        # Where the density underflows (p below ~1e-300) the first guess is kept.
        x = np.where(np.isfinite(step), x - step, x)
    return x


def ndtri(p):
    """The standard normal quantile: x with Phi(x) = p (float64); -inf/inf at 0/1, NaN
    outside [0, 1].

    >>> ndtri(np.array([0.5, 0.975])).round(6)
    array([0.      , 1.959964])
    """
    p = _as_float64(p)
    out = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        inside = (p > 0) & (p < 1)
        pi = p[inside]
        upper = pi > 0.5
        # 1 - p is exact for p in [0.5, 1]: the upper half is the mirror of the lower.
        x = _lower_normal_quantile(np.where(upper, 1.0 - pi, pi))
        out[inside] = np.where(upper, -x, x)
        out[p == 0] = -np.inf
        out[p == 1] = np.inf
    return out


def erfinv(y):
    """The inverse error function (float64); -inf/inf at -1/1, NaN outside [-1, 1].

    >>> erfinv(np.array([0.0, 0.5])).round(6)
    array([0.      , 0.476936])
    """
    y = _as_float64(y)
    out = np.full(y.shape, np.nan)
    with np.errstate(all="ignore"):
        inside = np.abs(y) < 1
        a = np.abs(y[inside])
        # erfinv(a) = -ndtri((1 - a) / 2) / sqrt(2), then Newton steps on erf (small a,
        # relative accuracy) or on erfc (a near 1, where 1 - a is exact).
        x = -ndtri((1.0 - a) / 2.0) / np.sqrt(2.0)
        near_one = a > 0.5
        for _ in range(2):
            slope = 2.0 / np.sqrt(np.pi) * np.exp(-x * x)
            residual = np.where(near_one, (1.0 - a) - erfc(x), erf(x) - a)
            x = np.where(slope > 0, x - residual / np.where(slope > 0, slope, 1.0), x)
        out[inside] = np.copysign(x, y[inside])
        out[y == 1] = np.inf
        out[y == -1] = -np.inf
    return out
