"""TF's fingerprint hashing, so hash buckets and crosses give TF's ids.

  * `Fingerprint64(s)`: FarmHash's Fingerprint64 of the bytes (the `hashing` extra's
    `farmhash` package); hash buckets are `tf.strings.to_hash_bucket_fast`'s,
    `Fingerprint64(s) % n`.
  * `FingerprintCat64(a, b)`: TF's combination of two fingerprints, used by
    `tf.sparse.cross_hashed` (and so `crossed_column`) from the key `0xDECAFCAFFE`.

Integers are hashed as their decimal strings, as TF's `as_string` writes them.
"""

import numpy as np

# tf.sparse.cross_hashed's default hash_key (SPARSE_CROSS_DEFAULT_HASH_KEY in TF).
SPARSE_CROSS_DEFAULT_HASH_KEY = 0xDECAFCAFFE
_MASK = (1 << 64) - 1
_K_MUL = 0xC6A4A7935BD1E995


def _farmhash():
    try:
        import farmhash
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Hashed feature columns need the 'pyfarmhash' package: "
                          "pip install numpyflow[hashing]") from error
    return farmhash


def as_hash_input(value):
    """The bytes TF hashes for a feature value: the bytes themselves, or an integer's
    decimal string."""
    if isinstance(value, bytes):
        return value
    return str(int(value)).encode()


def fingerprint64(values):
    """uint64 array of Fingerprint64 of each value (bytes, or integers as decimal text)."""
    farmhash = _farmhash()
    return np.array([farmhash.fingerprint64(as_hash_input(v)) for v in values], np.uint64)


def hash_buckets(values, num_buckets):
    """int64 `Fingerprint64(value) % num_buckets` for each value: `tf.strings.
    to_hash_bucket_fast` of the bytes (integers as decimal text)."""
    if len(values) == 0:
        return np.zeros(0, np.int64)
    from numpyflow import strings
    data = np.array([as_hash_input(v) for v in values] + [None], dtype=object)[:-1]
    return strings.to_hash_bucket_fast(data, num_buckets).numpy().astype(np.int64)


def _shift_mix(value):
    return value ^ (value >> 47)


def fingerprint_cat64(first, second):
    """TF's FingerprintCat64 of two uint64 fingerprints (Python ints), as a Python int."""
    result = first ^ _K_MUL
    result ^= (_shift_mix((second * _K_MUL) & _MASK) * _K_MUL) & _MASK
    result = (result * _K_MUL) & _MASK
    result = (_shift_mix(result) * _K_MUL) & _MASK
    return _shift_mix(result)
