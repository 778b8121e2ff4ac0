"""Op cases for numpyflow.ops.string_ops (no gradients: strings are not differentiable).

References are computed with Python's own str/bytes methods on the same arrays.
"""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case


def _s(*items):
    out = np.empty(len(items), dtype=object)
    out[:] = [i.encode() if isinstance(i, str) else i for i in items]
    return out


def _map(fn, array, dtype=object):
    return np.frompyfunc(fn, 1, 1)(array).astype(dtype)


words = _s("Hello", " a B ", "", "é日x")
nums = _s("1.5", "-2", "1e3")
ints = _s("7", "-20")

CASES = [
    case("StringLower", tf.strings.lower, lambda a: _map(bytes.lower, a), words),
    case("StringUpper", tf.strings.upper, lambda a: _map(bytes.upper, a), words),
    case("StringStrip", tf.strings.strip, lambda a: _map(bytes.strip, a), words),
    case("StringLength", tf.strings.length, lambda a: _map(len, a, np.int32), words),
    case("StringLength", lambda t: tf.strings.length(t, unit="UTF8_CHAR"),
         lambda a: _map(lambda s: len(s.decode()), a, np.int32), words, id="length_utf8"),
    case("StaticRegexReplace", lambda t: tf.strings.regex_replace(t, "[a-z]", "_"),
         lambda a: _map(lambda s: s.decode().translate({c: "_" for c in range(97, 123)})
                        .encode(), a), words),
    case("RegexFullMatch", lambda t: tf.strings.regex_full_match(t, "[A-Za-z ]+"),
         lambda a: _map(lambda s: bool(s) and s.replace(b" ", b"").isalpha() and s.isascii(),
                        a, np.bool_), words),
    case("StringJoin", lambda t: tf.strings.join([t, t], separator="+"),
         lambda a: _map(lambda s: s + b"+" + s, a), words),
    case("ReduceJoin", lambda t: tf.strings.reduce_join(tf.reshape(t, [2, 2]), axis=1),
         lambda a: np.array([a[0] + a[1], a[2] + a[3]], dtype=object), words),
    case("Substr", lambda t: tf.strings.substr(t, 0, 2), lambda a: _map(lambda s: s[:2], a),
         words),
    case("StringToNumber", tf.strings.to_number, lambda a: _map(float, a, np.float32), nums),
    case("StringToNumber", lambda t: tf.strings.to_number(t, out_type=tf.int64),
         lambda a: _map(int, a, np.int64), ints, id="to_number_int64"),
    case("AsString", tf.strings.as_string, lambda a: _map(lambda v: str(v).encode(), a),
         np.array([3, -1], np.int32)),
    case("StringToHashBucketFast", lambda t: tf.strings.to_hash_bucket_fast(t, 1),
         lambda a: np.zeros(a.shape, np.int64), words),
    case("StringToHashBucketStrong", lambda t: tf.strings.to_hash_bucket_strong(t, 1, [1, 2]),
         lambda a: np.zeros(a.shape, np.int64), words),
]
