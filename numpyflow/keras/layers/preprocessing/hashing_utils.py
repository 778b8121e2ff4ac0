"""Hashing strings to buckets as TensorFlow does, for `Hashing` and the lookup layers' OOV
indices: `tf.strings.to_hash_bucket_fast` (FarmHash Fingerprint64) without a salt,
`tf.strings.to_hash_bucket_strong` (SipHash-2-4 keyed by the salt) with one
(`pip install numpyflow[hashing]`)."""

import numbers

import numpy as np

import numpyflow as tf


def salt_pair(salt, what):
    """A salt as Keras keeps it: [k0, k1] (a single integer is used for both)."""
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in salt):
        return [int(s) for s in salt]
    if isinstance(salt, numbers.Integral) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError(f"{what}: the `salt` argument can only be a tuple of 2 integers, or a "
                     f"single integer. Received: salt={salt!r}.")


def hash_to_buckets(keys, num_buckets, salt=None):
    """int64 bucket indices in [0, num_buckets) of an object array of `bytes` strings."""
    values = tf.constant(np.asarray(keys, dtype=object), dtype=tf.string)
    if salt is None:
        hashed = tf.strings.to_hash_bucket_fast(values, num_buckets)
    else:
        hashed = tf.strings.to_hash_bucket_strong(values, num_buckets, key=list(salt))
    return hashed.numpy().astype(np.int64)
