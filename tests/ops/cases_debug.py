"""Op cases for tf.print, the tf.debugging value assertions and check_numerics.

PrintV2 and Assert return nothing: their cases print to a file (read back here) or check
that a passing assertion leaves its input alone. Failing assertions are tested in
tests/test_debugging.py.
"""

import os
import tempfile

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, rand

_printed_path = os.path.join(tempfile.mkdtemp(prefix="numpyflow-opcase-"), "printed.txt")


def _printed(*tensors, **options):
    if os.path.exists(_printed_path):
        os.remove(_printed_path)
    tf.print(*tensors, output_stream="file://" + _printed_path, **options)
    with open(_printed_path, "rb") as file:
        return tf.constant(np.array([file.read()], dtype=object))


def _text(text):
    return np.array([text.encode()], dtype=object)


def _passes(assertion):
    def run(x, *others):
        assertion(x, *others)
        return tf.identity(x)
    return run


def _assert_then(x):
    tf.debugging.Assert(tf.reduce_all(x > -3.0), ["x:", x])
    return tf.identity(x)


CASES = [
    case("PrintV2", lambda x: _printed("x =", x), lambda x: _text("x = [1 2 3]\n"),
         np.array([1, 2, 3], np.int32)),
    case("PrintV2", lambda x: _printed(x, [x], sep="|", end="."),
         lambda x: _text("[[0 1 2 ... 7 8 9]\n [10 11 12 ... 17 18 19]]|[[[0 1 2 ... 7 8 9]\n"
                         " [10 11 12 ... 17 18 19]]]."),
         np.arange(20, dtype=np.int64).reshape(2, 10), id="print_summarized_nested"),
    case("PrintV2", lambda x: _printed(x, summarize=-1),
         lambda x: _text("[0.333333343 0.5 1e+10]\n"),
         np.array([1 / 3, 0.5, 1e10], np.float32), id="print_float32_digits"),
    case("Assert", lambda x: _passes(tf.debugging.assert_equal)(x, x), lambda x: x, rand(2, 3),
         id="assert_equal_passes"),
    case("Assert", lambda x: _passes(tf.debugging.assert_near)(x, x * (1 + 4e-16)), lambda x: x,
         rand(3), id="assert_near_passes"),
    case("Assert", lambda x: _assert_then(x), lambda x: x, rand(4), id="Assert_passes"),
    case("CheckNumerics", lambda x: tf.debugging.check_numerics(x, "finite"), lambda x: x,
         rand(3, 2)),
]
