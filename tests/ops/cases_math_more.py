"""Op cases for reciprocal, log1p, expm1, squared_difference and the added reductions."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, positive, rand

x = rand(2, 3, 4)
flags = np.array([[True, False, True], [True, True, True]])

CASES = [
    case("Reciprocal", tf.math.reciprocal, np.reciprocal,
         positive(3, 4) * np.array([1, -1, 1, -1])),
    case("Reciprocal", tf.math.reciprocal, lambda t: np.array([0, -1, 1], np.int32),
         np.array([2, -1, 1], dtype=np.int32), id="reciprocal_ints_truncate"),
    case("Log1p", tf.math.log1p, np.log1p, rand(3, 4, low=-0.5, high=2.0)),
    case("Expm1", tf.math.expm1, np.expm1, rand(3, 4)),
    case("SquaredDifference", tf.math.squared_difference, lambda a, b: (a - b) ** 2,
         rand(3, 4), rand(4), id="squared_difference_broadcast"),
    case("SquaredDifference", tf.math.squared_difference, lambda a, b: (a - b) ** 2,
         np.array([1, 5], np.int32), np.array([3, 2], np.int32), id="squared_difference_ints"),
    case("Mean", lambda t: tf.math.reduce_variance(t, axis=[0, -1]), lambda t: t.var((0, 2)), x,
         id="reduce_variance"),
    case("Sqrt", lambda t: tf.math.reduce_std(t, axis=1, keepdims=True),
         lambda t: t.std(1, keepdims=True), x, id="reduce_std"),
    case("Sqrt", tf.math.reduce_std, np.std, x, id="reduce_std_all"),
    case("Any", lambda t: tf.reduce_any(t, axis=1), lambda t: t.any(1), flags),
    case("Any", tf.math.reduce_any, np.any, flags, id="reduce_any_all_axes"),
    case("All", lambda t: tf.reduce_all(t, axis=-1, keepdims=True),
         lambda t: t.all(-1, keepdims=True), flags),
]
