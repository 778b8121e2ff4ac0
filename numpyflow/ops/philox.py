"""Philox-4x32-10, the counter-based generator behind TF's stateless random ops.

`tf.random.stateless_*` turns a seed pair into a Philox key and counter, then fills the
output from consecutive counter values (each gives four 32-bit words). Everything here
is vectorized over counters with NumPy `uint32`/`uint64` arithmetic.

Example:
    >>> key, counter = seed_to_key_counter((1, 2))
    >>> words = philox_blocks(key, counter, 2)   # shape (2, 4), dtype uint32
"""

import numpy as np

_W32A, _W32B = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_M4x32A, _M4x32B = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_MASK32 = np.uint64(0xFFFFFFFF)
_SCRAMBLE_KEY = np.array([0x3EC8F720, 0x02461E29], dtype=np.uint32)


def _rounds(counter, key):
    """Runs the 10 Philox rounds on counters of shape (n, 4) (uint32) with key (2,)."""
    c0, c1, c2, c3 = (counter[:, i].astype(np.uint64) for i in range(4))
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    with np.errstate(over="ignore"):
        for r in range(10):
            p0 = _M4x32A * c0
            p1 = _M4x32B * c2
            hi0, lo0 = p0 >> np.uint64(32), p0 & _MASK32
            hi1, lo1 = p1 >> np.uint64(32), p1 & _MASK32
            c0 = hi1 ^ c1 ^ np.uint64(k0)
            c1 = lo1
            c2 = hi0 ^ c3 ^ np.uint64(k1)
            c3 = lo0
            if r < 9:
                k0 = np.uint32(k0 + _W32A)
                k1 = np.uint32(k1 + _W32B)
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def _add_counter(counter, offsets):
    """The 128-bit counter (4 uint32 words, low first) plus each of `offsets` (uint64)."""
    low = np.uint64(counter[0]) | (np.uint64(counter[1]) << np.uint64(32))
    high = np.uint64(counter[2]) | (np.uint64(counter[3]) << np.uint64(32))
    offsets = np.asarray(offsets, dtype=np.uint64)
    with np.errstate(over="ignore"):
        new_low = low + offsets
        new_high = high + (new_low < low).astype(np.uint64)
    out = np.empty((offsets.size, 4), dtype=np.uint32)
    out[:, 0] = new_low & _MASK32
    out[:, 1] = new_low >> np.uint64(32)
    out[:, 2] = new_high & _MASK32
    out[:, 3] = new_high >> np.uint64(32)
    return out


def philox_blocks(key, counter, count, start=0):
    """The Philox outputs for counters `counter + start ... counter + start + count - 1`.

    Returns a `(count, 4)` uint32 array.
    """
    offsets = np.arange(start, start + count, dtype=np.uint64)
    return _rounds(_add_counter(counter, offsets), key)


def seed_to_key_counter(seed):
    """TF's key and counter for a stateless seed pair (two ints, as int32 or int64).

    The seed words become a counter, scrambled once with TF's fixed scrambling key; the
    first two output words are the key and the last two the high half of the counter.
    """
    seed = np.asarray(seed)
    if seed.shape != (2,):
        raise ValueError(f"stateless random ops: `seed` must have shape [2]; received shape "
                         f"{list(seed.shape)}.")
    if not np.issubdtype(seed.dtype, np.integer):
        raise TypeError(f"stateless random ops: `seed` must be int32 or int64; received "
                        f"{seed.dtype}.")
    words = seed.astype(np.int64).astype(np.uint64)  # sign-extends, as TF's int32 -> uint64
    counter = np.array([words[0] & _MASK32, words[0] >> np.uint64(32),
                        words[1] & _MASK32, words[1] >> np.uint64(32)], dtype=np.uint32)
    mix = _rounds(counter[None, :], _SCRAMBLE_KEY)[0]
    key = mix[:2].copy()
    counter = np.array([0, 0, mix[2], mix[3]], dtype=np.uint32)
    return key, counter


# -- word -> number conversions, as TF's random_distributions.h ------------------------------

def uint32_to_float(words):
    """Floats in [0, 1) from the low 23 bits of each word (exponent of 1.0, minus 1)."""
    bits = (np.uint32(127) << np.uint32(23)) | (words & np.uint32(0x7FFFFF))
    return bits.view(np.float32) - np.float32(1.0)


def uint32_to_half(words):
    """float16 in [0, 1) from the low 10 bits of each word."""
    bits = ((np.uint32(15) << np.uint32(10)) | (words & np.uint32(0x3FF))).astype(np.uint16)
    return bits.view(np.float16) - np.float16(1.0)


def uint64_to_double(high, low):
    """Doubles in [0, 1) from 20 bits of `high` and 32 bits of `low`."""
    mantissa = ((high & np.uint32(0xFFFFF)).astype(np.uint64) << np.uint64(32)) | \
        low.astype(np.uint64)
    bits = (np.uint64(1023) << np.uint64(52)) | mantissa
    return bits.view(np.float64) - 1.0


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
    function = {"logf": np.log, "sinf": np.sin, "cosf": np.cos, "expf": np.exp}[name]
    exact = function(x.astype(np.float64))
    rounded = exact.astype(np.float32)
    library = _libm()
    if library is None or not rounded.size:
        return rounded
    with np.errstate(invalid="ignore"):
        ulp = np.spacing(np.abs(rounded)).astype(np.float64)
        offset = (exact - rounded.astype(np.float64)) / ulp
        near = np.flatnonzero(np.abs(offset).ravel() > 0.5 - _NEAR_MIDPOINT[name])
    if near.size:
        call = getattr(library, name)
        flat_x, flat = x.reshape(-1), rounded.reshape(-1)
        flat[near] = [call(float(v)) for v in flat_x[near].tolist()]
    return rounded
