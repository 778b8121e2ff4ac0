"""`tf.math`: element-wise math, reductions and comparisons."""

from numpyflow.ops.math_ops import (  # noqa: F401
    abs, add, cast, divide, equal, exp, floor, floordiv, floormod, greater, greater_equal, less,
    less_equal, log, logical_and, logical_not, logical_or, logical_xor, matmul, maximum,
    minimum, mod, multiply, negative, not_equal, pow, round, rsqrt, sign, sqrt, square,
    subtract, truediv)
from numpyflow.ops.nn_ops import log_softmax, softmax  # noqa: F401
from numpyflow.ops.reduce_ops import (  # noqa: F401
    argmax, argmin, reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_sum)
