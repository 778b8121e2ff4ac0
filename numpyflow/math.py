"""`tf.math`: element-wise math, reductions and comparisons."""

from numpyflow.ops.math_ops import (  # noqa: F401
    abs, add, add_n, cast, divide, divide_no_nan, equal, exp, expm1, floor, floordiv, floormod,
    greater, greater_equal, less, less_equal, log, log1p, logical_and, logical_not, logical_or,
    logical_xor, matmul, maximum, minimum, mod, multiply, negative, not_equal, pow, reciprocal,
    round, rsqrt, sign, sqrt, square, squared_difference, subtract, truediv)
from numpyflow.ops.activation_ops import (  # noqa: F401
    erf, sigmoid, softplus, softsign, tanh)
from numpyflow.ops.cumulative_ops import cumsum  # noqa: F401
from numpyflow.ops.nn_ops import log_softmax, softmax  # noqa: F401
from numpyflow.ops.reduce_ops import (  # noqa: F401
    argmax, argmin, count_nonzero, reduce_all, reduce_any, reduce_logsumexp, reduce_max,
    reduce_mean, reduce_min, reduce_prod, reduce_std, reduce_sum, reduce_variance)
from numpyflow.framework.dispatch import dispatch_namespace as _dispatch_namespace  # noqa: E402

_dispatch_namespace(globals(), "math.")

from numpyflow.framework.lazy import lazy_attributes as _lazy_attributes  # noqa: E402
from numpyflow.framework.lazy import names_from as _names_from  # noqa: E402

# The rest of tf.math loads on first use (`import numpyflow` stays small).
__getattr__ = _lazy_attributes(globals(), {
    **_names_from("numpyflow.ops.math_more_ops", "accumulate_n acos acosh asin asinh atan atan2 "
                  "atanh ceil cos cosh cumprod cumulative_logsumexp digamma erfc erfcinv erfinv "
                  "is_finite is_inf is_nan is_non_decreasing is_strictly_increasing "
                  "l2_normalize lbeta lgamma log_sigmoid multiply_no_nan ndtri polygamma polyval "
                  "reciprocal_no_nan reduce_euclidean_norm rint scalar_mul sin sinh tan xdivy "
                  "xlog1py xlogy zero_fraction", True),
    **_names_from("numpyflow.ops.segment_ops", "bincount confusion_matrix segment_max "
                  "segment_mean segment_min segment_prod segment_sum unsorted_segment_max "
                  "unsorted_segment_mean unsorted_segment_min unsorted_segment_prod "
                  "unsorted_segment_sqrt_n unsorted_segment_sum", True),
    **_names_from("numpyflow.ops.sort_ops", "approx_max_k approx_min_k in_top_k "
                  "invert_permutation top_k", True),
}, dispatch_prefix="math.")
