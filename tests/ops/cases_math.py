"""Op cases for numpyflow.ops.math_ops."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import away_from_zero, case, distinct, positive, rand

a, b = rand(3, 4), rand(3, 4)
row = rand(4)
ints = np.array([[7, -7, 3], [2, 9, -4]], dtype=np.int32)
int_divisors = np.array([[2, 2, -2], [3, 4, 3]], dtype=np.int32)

CASES = [
    case("AddV2", tf.add, np.add, a, row, id="add_broadcast"),
    case("AddV2", lambda x, y: x + y, np.add, a, b, id="add_operator"),
    case("AddV2", lambda x, y: tf.add_n([x, y, x]), lambda x, y: 2 * x + y, a, b, id="add_n"),
    case("Sub", lambda x, y: x - y, np.subtract, a, row),
    case("Mul", tf.multiply, np.multiply, a, row),
    case("RealDiv", tf.divide, np.divide, a, positive(4)),
    case("RealDiv", lambda x, y: x / y, lambda x, y: x / y, ints, int_divisors,
         id="truediv_ints_give_float64"),
    case("DivNoNan", tf.math.divide_no_nan, np.divide, a, positive(3, 4)),
    case("DivNoNan", tf.math.divide_no_nan,  # zero denominators give 0 (forward only)
         lambda x, y: np.where(y != 0, x / np.where(y != 0, y, 1), 0).astype(np.float32),
         a.astype(np.float32), np.array([[1., 0., 2., 0.]] * 3, np.float32),
         id="divide_no_nan_zero_denominator"),
    case("FloorDiv", lambda x, y: x // y, np.floor_divide, ints, int_divisors),
    case("FloorDiv", lambda x, y: x // y, np.floor_divide, a, positive(4), grad=False,
         id="floordiv_floats_no_gradient"),
    case("FloorMod", lambda x, y: x % y, np.mod, a * 3, positive(4)),
    case("Pow", tf.pow, np.power, positive(3, 4), rand(3, 4)),
    case("Maximum", tf.maximum, np.maximum, distinct(3, 4), distinct(3, 4) + 0.1),
    case("Minimum", tf.minimum, np.minimum, distinct(3, 4), distinct(3, 4) + 0.1),
    case("Neg", lambda x: -x, np.negative, a),
    case("Exp", tf.exp, np.exp, a),
    case("Log", tf.math.log, np.log, positive(3, 4)),
    case("Sqrt", tf.sqrt, np.sqrt, positive(3, 4)),
    case("Rsqrt", tf.math.rsqrt, lambda x: 1 / np.sqrt(x), positive(3, 4)),
    case("Square", tf.square, np.square, a),
    case("Abs", tf.abs, np.abs, away_from_zero(3, 4)),
    case("Sign", tf.sign, np.sign, away_from_zero(3, 4), grad=False),
    case("Floor", tf.floor, np.floor, a * 3, grad=False),
    case("Round", tf.round, np.round, np.array([0.5, 1.5, 2.5, -0.5, 1.2]), grad=False),
    case("MatMul", tf.matmul, np.matmul, rand(3, 4), rand(4, 2)),
    case("MatMul", lambda x, y: x @ y, np.matmul, rand(2, 3, 4), rand(4, 5), id="matmul_batched"),
    case("MatMul", lambda x, y: tf.matmul(x, y, transpose_a=True), lambda x, y: x.T @ y,
         rand(4, 3), rand(4, 2), id="matmul_transpose_a"),
    case("MatMul", lambda x, y: tf.matmul(x, y, transpose_b=True), lambda x, y: x @ y.T,
         rand(3, 4), rand(2, 4), id="matmul_transpose_b"),
    case("MatMul", lambda x, y: tf.matmul(x, y, transpose_a=True, transpose_b=True),
         lambda x, y: x.T @ y.T, rand(4, 3), rand(2, 4), id="matmul_transpose_both"),
    case("Cast", lambda x: tf.cast(x, tf.float16), lambda x: x.astype(np.float16),
         a.astype(np.float32), id="cast_float32_to_float16_values", rtol=1e-3),
    case("Cast", lambda x: tf.cast(x, tf.int32), lambda x: x.astype(np.int32), a * 3,
         grad=False, id="cast_to_int_truncates"),
    case("Cast", lambda x: tf.cast(x, tf.float64), lambda x: x.astype(np.float64),
         a.astype(np.float32), id="cast_float32_to_float64"),
    case("Equal", tf.equal, np.equal, ints, int_divisors * 0 + 7),
    case("NotEqual", tf.not_equal, np.not_equal, ints, int_divisors),
    case("Less", lambda x, y: x < y, np.less, a, b, grad=False),
    case("LessEqual", lambda x, y: x <= y, np.less_equal, a, b, grad=False),
    case("Greater", lambda x, y: x > y, np.greater, a, b, grad=False),
    case("GreaterEqual", lambda x, y: x >= y, np.greater_equal, a, b, grad=False),
    case("LogicalAnd", tf.logical_and, np.logical_and, a > 0, b > 0),
    case("LogicalOr", tf.logical_or, np.logical_or, a > 0, b > 0),
    case("LogicalNot", tf.logical_not, np.logical_not, a > 0),
]
