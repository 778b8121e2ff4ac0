"""Philox-4x32-10, the counter-based generator behind TF's stateless random ops.

`tf.random.stateless_*` turns a seed pair into a Philox key and counter, then fills the
output from consecutive counter values (each gives four 32-bit words). Everything here
is vectorized over counters with NumPy `uint32`/`uint64` arithmetic.

Example:
    >>> key, counter = seed_to_key_counter((1, 2))
    >>> words = philox_blocks(key, counter, 2)   # shape (2, 4), dtype uint32
"""

from numpyflow.backend import errstate, xp

_W32A, _W32B = xp.uint32(0x9E3779B9), xp.uint32(0xBB67AE85)
_M4x32A, _M4x32B = xp.uint64(0xD2511F53), xp.uint64(0xCD9E8D57)
_MASK32 = xp.uint64(0xFFFFFFFF)
_SCRAMBLE_KEY = xp.array([0x3EC8F720, 0x02461E29], dtype=xp.uint32)


def _rounds(counter, key):
    """Runs the 10 Philox rounds on counters of shape (n, 4) (uint32) with key (2,)."""
    c0, c1, c2, c3 = (counter[:, i].astype(xp.uint64) for i in range(4))
    k0, k1 = xp.uint32(key[0]), xp.uint32(key[1])
    with errstate(over="ignore"):
        for r in range(10):
            p0 = _M4x32A * c0
            p1 = _M4x32B * c2
            hi0, lo0 = p0 >> xp.uint64(32), p0 & _MASK32
            hi1, lo1 = p1 >> xp.uint64(32), p1 & _MASK32
            c0 = hi1 ^ c1 ^ xp.uint64(k0)
            c1 = lo1
            c2 = hi0 ^ c3 ^ xp.uint64(k1)
            c3 = lo0
            if r < 9:
                k0 = xp.uint32(k0 + _W32A)
                k1 = xp.uint32(k1 + _W32B)
    return xp.stack([c0, c1, c2, c3], axis=1).astype(xp.uint32)


def _add_counter(counter, offsets):
    """The 128-bit counter (4 uint32 words, low first) plus each of `offsets` (uint64)."""
    low = xp.uint64(counter[0]) | (xp.uint64(counter[1]) << xp.uint64(32))
    high = xp.uint64(counter[2]) | (xp.uint64(counter[3]) << xp.uint64(32))
    offsets = xp.asarray(offsets, dtype=xp.uint64)
    with errstate(over="ignore"):
        new_low = low + offsets
        new_high = high + (new_low < low).astype(xp.uint64)
    out = xp.empty((offsets.size, 4), dtype=xp.uint32)
    out[:, 0] = new_low & _MASK32
    out[:, 1] = new_low >> xp.uint64(32)
    out[:, 2] = new_high & _MASK32
    out[:, 3] = new_high >> xp.uint64(32)
    return out


def philox_blocks(key, counter, count, start=0):
    """The Philox outputs for counters `counter + start ... counter + start + count - 1`.

    Returns a `(count, 4)` uint32 array.
    """
    offsets = xp.arange(start, start + count, dtype=xp.uint64)
    return _rounds(_add_counter(counter, offsets), key)


def seed_to_key_counter(seed):
    """TF's key and counter for a stateless seed pair (two ints, as int32 or int64).

    The seed words become a counter, scrambled once with TF's fixed scrambling key; the
    first two output words are the key and the last two the high half of the counter.
    """
    seed = xp.asarray(seed)
    if seed.shape != (2,):
        raise ValueError(f"stateless random ops: `seed` must have shape [2]; received shape "
                         f"{list(seed.shape)}.")
    if not xp.issubdtype(seed.dtype, xp.integer):
        raise TypeError(f"stateless random ops: `seed` must be int32 or int64; received "
                        f"{seed.dtype}.")
    words = seed.astype(xp.int64).astype(xp.uint64)  # sign-extends, as TF's int32 -> uint64
    counter = xp.array([words[0] & _MASK32, words[0] >> xp.uint64(32),
                        words[1] & _MASK32, words[1] >> xp.uint64(32)], dtype=xp.uint32)
    mix = _rounds(counter[None, :], _SCRAMBLE_KEY)[0]
    key = mix[:2].copy()
    counter = xp.array([0, 0, mix[2], mix[3]], dtype=xp.uint32)
    return key, counter


# -- word -> number conversions, as TF's random_distributions.h ------------------------------

def uint32_to_float(words):
    """Floats in [0, 1) from the low 23 bits of each word (exponent of 1.0, minus 1)."""
    bits = (xp.uint32(127) << xp.uint32(23)) | (words & xp.uint32(0x7FFFFF))
    return bits.view(xp.float32) - xp.float32(1.0)


def uint32_to_half(words):
    """float16 in [0, 1) from the low 10 bits of each word."""
    bits = ((xp.uint32(15) << xp.uint32(10)) | (words & xp.uint32(0x3FF))).astype(xp.uint16)
    return bits.view(xp.float16) - xp.float16(1.0)


def uint64_to_double(high, low):
    """Doubles in [0, 1) from 20 bits of `high` and 32 bits of `low`."""
    mantissa = ((high & xp.uint32(0xFFFFF)).astype(xp.uint64) << xp.uint64(32)) | \
        low.astype(xp.uint64)
    bits = (xp.uint64(1023) << xp.uint64(52)) | mantissa
    return bits.view(xp.float64) - 1.0


# -- float32 log/sin/cos as TF's CPU kernels compute them ------------------------------------
#
# TF's float Box-Muller calls the C library's logf and sincosf. On Linux (glibc) those are
# not always correctly rounded: logf may differ from the correctly rounded value when the
# exact result lies within 0.3 ulp of a rounding midpoint, sinf/cosf within 0.07 ulp, expf
# within 0.002 ulp (measured on 300,000 inputs of the kind TF's samplers feed them). So the
# values are computed in float64 and rounded, and only those near a midpoint are asked from
# glibc itself, which gives TF's numbers bit for bit at a small cost (about 0.4 s per
# million float32 normals). Elsewhere (no glibc) the rounded float64 values stand.

_NEAR_MIDPOINT = {"logf": 0.32, "sinf": 0.08, "cosf": 0.08, "expf": 0.01}
_LIBM = []


def _libm():
    if not _LIBM:
        import ctypes
        try:
            library = ctypes.CDLL("libm.so.6")
            for name in _NEAR_MIDPOINT:
                function = getattr(library, name)
                function.restype, function.argtypes = ctypes.c_float, [ctypes.c_float]
            _LIBM.append(library)
        except (OSError, AttributeError):
            _LIBM.append(None)
    return _LIBM[0]


def float32_libm(name, x):
    """`name` ("logf", "sinf", "cosf", "expf") of the float32 array `x` as the C library
    computes it
    (see above): float64 rounded to float32, with values near a rounding midpoint recomputed
    by glibc."""
    function = {"logf": xp.log, "sinf": xp.sin, "cosf": xp.cos, "expf": xp.exp}[name]
    exact = function(x.astype(xp.float64))
    rounded = exact.astype(xp.float32)
    library = _libm()
    if library is None or not rounded.size:
        return rounded
    with errstate(invalid="ignore"):
        ulp = xp.spacing(xp.abs(rounded)).astype(xp.float64)
        offset = (exact - rounded.astype(xp.float64)) / ulp
        near = xp.flatnonzero(xp.abs(offset).ravel() > 0.5 - _NEAR_MIDPOINT[name])
    if near.size:
        call = getattr(library, name)
        flat_x, flat = x.reshape(-1), rounded.reshape(-1)
        flat[near] = [call(float(v)) for v in flat_x[near].tolist()]
    return rounded
