"""`tf.math`: element-wise math, reductions and comparisons."""

from numpyflow.ops.math_ops import (  # noqa: F401
    abs, add, add_n, cast, divide, divide_no_nan, equal, exp, expm1, floor, floordiv, floormod, greater, greater_equal,
    less, less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor, matmul,
    maximum, minimum, mod, multiply, negative, not_equal, pow, reciprocal, round, rsqrt, sign,
    sqrt, square, squared_difference, subtract, truediv)
from numpyflow.ops.activation_ops import (  # noqa: F401
    erf, sigmoid, softplus, softsign, tanh)
from numpyflow.ops.cumulative_ops import cumsum  # noqa: F401
from numpyflow.ops.nn_ops import log_softmax, softmax  # noqa: F401
from numpyflow.ops.reduce_ops import (  # noqa: F401
    argmax, argmin, count_nonzero, reduce_all, reduce_any, reduce_logsumexp, reduce_max,
    reduce_mean, reduce_min, reduce_prod, reduce_std, reduce_sum, reduce_variance)

from numpyflow.framework.dispatch import dispatch_namespace as _dispatch_namespace  # noqa: E402

_dispatch_namespace(globals(), "math.")
