"""More of `tf.math`: trigonometric and hyperbolic functions, rounding, IEEE tests,
special functions (lgamma, digamma, polygamma, erfc, erfinv, ndtri), the "no NaN" and
"x log y" families, truncating division, and scans/reductions built on them.

Each primitive's forward (on arrays) and gradient (on Tensors, so nested tapes give higher
derivatives) stand side by side. Ops TF itself composes in Python (log_sigmoid,
l2_normalize, reduce_euclidean_norm, zero_fraction, polyval, ...) are composed here too:
their gradients and export come from the parts.
"""

import math

from numpyflow.backend import special, xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import dtypes, errors
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import (
    activation_ops, array_ops, creation_ops, cumulative_ops, indexing_ops, math_ops)
from numpyflow.ops import reduce_ops
from numpyflow.ops._convert import require_float, tensor, tensor_pair
from numpyflow.ops.array_ops import _axis_int, _shape_text
from numpyflow.ops.math_ops import (
    cast, divide_no_nan, exp, log, multiply, negative, rsqrt, sqrt, square)


def _float_op(primitive, doc):
    """The public function of a float-only element-wise primitive (integers raise, as TF)."""
    def op(x, name=None):
        x = tensor(x)
        require_float(x, primitive.name)
        return primitive(x)
    op.__doc__ = doc
    return op


def _float_pair(x, y, op_name):
    x, y = tensor_pair(x, y, op_name)
    require_float(x, op_name)
    return x, y


# -- trigonometric and hyperbolic -----------------------------------------------------------

# Quiet: NumPy warns on sin(inf) = NaN, which TF computes silently.
Sin = Primitive("Sin", quiet(xp.sin), lambda node, dy: (dy * cos(node.inputs[0]),),
                infallible=True)
Cos = Primitive("Cos", quiet(xp.cos), lambda node, dy: (negative(dy * sin(node.inputs[0])),),
                infallible=True)
# d tan = 1 + tan^2: reuses the output instead of dividing by cos^2.
Tan = Primitive("Tan", quiet(xp.tan), lambda node, dy: (dy * (1. + square(node.output)),),
                infallible=True)
Asin = Primitive("Asin", quiet(xp.arcsin),
                 lambda node, dy: (dy * rsqrt(1. - square(node.inputs[0])),), infallible=True)
Acos = Primitive("Acos", quiet(xp.arccos),
                 lambda node, dy: (negative(dy) * rsqrt(1. - square(node.inputs[0])),),
                 infallible=True)
Atan = Primitive("Atan", xp.arctan, lambda node, dy: (dy / (1. + square(node.inputs[0])),))
Sinh = Primitive("Sinh", quiet(xp.sinh), lambda node, dy: (dy * cosh(node.inputs[0]),),
                 infallible=True)
Cosh = Primitive("Cosh", quiet(xp.cosh), lambda node, dy: (dy * sinh(node.inputs[0]),),
                 infallible=True)
Asinh = Primitive("Asinh", xp.arcsinh,
                  lambda node, dy: (dy * rsqrt(square(node.inputs[0]) + 1.),))
# As TF: 1 / sinh(acosh(x)), which is 1 / sqrt(x^2 - 1) without the cancellation near 1.
Acosh = Primitive("Acosh", quiet(xp.arccosh), lambda node, dy: (dy / sinh(node.output),),
                  infallible=True)
Atanh = Primitive("Atanh", quiet(xp.arctanh),
                  lambda node, dy: (dy / (1. - square(node.inputs[0])),), infallible=True)


def _atan2_grad(node, dy):
    y, x = node.inputs
    scale = dy / (square(x) + square(y))
    return (scale * x if node.needs[0] else None,
            negative(scale) * y if node.needs[1] else None)


Atan2 = Primitive("Atan2", quiet(xp.arctan2), _atan2_grad, infallible=True)

sin = _float_op(Sin, """Sine of x element-wise (radians).

    >>> import numpyflow as tf
    >>> tf.math.sin([0.]).numpy()
    array([0.], dtype=float32)
    """)
cos = _float_op(Cos, "Cosine of x element-wise (radians).\n\n    >>> import numpyflow as tf\n"
                "    >>> tf.math.cos([0.]).numpy()\n    array([1.], dtype=float32)\n    ")
tan = _float_op(Tan, "Tangent of x element-wise (radians).")
asin = _float_op(Asin, "Inverse sine element-wise, in [-pi/2, pi/2]; NaN outside [-1, 1].")
acos = _float_op(Acos, "Inverse cosine element-wise, in [0, pi]; NaN outside [-1, 1].")
atan = _float_op(Atan, "Inverse tangent element-wise, in (-pi/2, pi/2).")
sinh = _float_op(Sinh, "Hyperbolic sine element-wise.")
cosh = _float_op(Cosh, "Hyperbolic cosine element-wise.")
asinh = _float_op(Asinh, "Inverse hyperbolic sine element-wise.")
acosh = _float_op(Acosh, "Inverse hyperbolic cosine element-wise; NaN below 1.")
atanh = _float_op(Atanh, "Inverse hyperbolic tangent element-wise; +-inf at +-1, NaN beyond.")


def atan2(y, x, name=None):
    """The angle of the point (x, y), in [-pi, pi], element-wise with broadcasting.

    Note the argument order: y first, as in TF and C's atan2.

    >>> import numpyflow as tf
    >>> tf.math.atan2([1.], [1.]).numpy().round(5)
    array([0.7854], dtype=float32)
    """
    return Atan2(*_float_pair(y, x, "Atan2"))


# -- rounding and IEEE classification (no gradients, as in TF) -------------------------------

Ceil = Primitive("Ceil", xp.ceil)
Rint = Primitive("Rint", xp.rint)  # Halfway cases to the even neighbour, as TF.
IsNan = Primitive("IsNan", xp.isnan)
IsInf = Primitive("IsInf", xp.isinf)
IsFinite = Primitive("IsFinite", xp.isfinite)

ceil = _float_op(Ceil, """Smallest integer not less than x, element-wise. Not differentiable.

    >>> import numpyflow as tf
    >>> tf.math.ceil([1.2, -1.2]).numpy()
    array([ 2., -1.], dtype=float32)
    """)
rint = _float_op(Rint, """Nearest integer, halfway cases to even, element-wise.

    >>> import numpyflow as tf
    >>> tf.math.rint([1.5, 2.5, -1.7]).numpy()
    array([ 2.,  2., -2.], dtype=float32)
    """)
is_nan = _float_op(IsNan, """Whether each element is NaN (a bool tensor).

    >>> import numpyflow as tf
    >>> tf.math.is_nan([1., float("nan")]).numpy()
    array([False,  True])
    """)
is_inf = _float_op(IsInf, "Whether each element is +inf or -inf (a bool tensor).")
is_finite = _float_op(IsFinite, "Whether each element is finite: not NaN, not infinite.")


# -- special functions ------------------------------------------------------------------------

def _in_float64(kernel):
    """A forward computing `kernel` in float64 and returning the input's dtype."""
    def forward(*arrays):
        return kernel(*arrays).astype(arrays[-1].dtype, copy=False)
    return forward


_TWO_OVER_SQRT_PI = 2. / math.sqrt(math.pi)

Lgamma = Primitive("Lgamma", _in_float64(special.lgamma),
                   lambda node, dy: (dy * digamma(node.inputs[0]),))
Digamma = Primitive("Digamma", _in_float64(special.digamma),
                    lambda node, dy: (dy * Polygamma(Tensor(xp.ones((), dy._value.dtype)),
                                                     node.inputs[0]),))
# The order `a` is not differentiable (TF gives no gradient for it either).
Polygamma = Primitive("Polygamma", _in_float64(special.polygamma),
                      lambda node, dy: (None, dy * Polygamma(node.inputs[0] + 1.,
                                                             node.inputs[1])))
Erfc = Primitive("Erfc", _in_float64(special.erfc),
                 lambda node, dy: (dy * -_TWO_OVER_SQRT_PI * exp(negative(
                     square(node.inputs[0]))),))
Erfinv = Primitive("Erfinv", _in_float64(special.erfinv),
                   lambda node, dy: (dy / _TWO_OVER_SQRT_PI * exp(square(node.output)),))
Ndtri = Primitive("Ndtri", _in_float64(special.ndtri),
                  lambda node, dy: (dy * math.sqrt(2 * math.pi) *
                                    exp(0.5 * square(node.output)),))

lgamma = _float_op(Lgamma, """log(|Gamma(x)|) element-wise; +inf at 0 and negative integers.

    >>> import numpyflow as tf
    >>> tf.math.lgamma([1., 3.]).numpy().round(5)
    array([0.     , 0.69315], dtype=float32)
    """)
digamma = _float_op(Digamma, """psi(x), the derivative of lgamma, element-wise.

    >>> import numpyflow as tf
    >>> tf.math.digamma([1.]).numpy().round(5)
    array([-0.57722], dtype=float32)
    """)
erfc = _float_op(Erfc, """1 - erf(x) element-wise, accurate where erf(x) is near 1.

    >>> import numpyflow as tf
    >>> tf.math.erfc([0.]).numpy()
    array([1.], dtype=float32)
    """)
erfinv = _float_op(Erfinv, """The inverse of erf element-wise; +-inf at +-1, NaN outside.

    >>> import numpyflow as tf
    >>> tf.math.erfinv([0.]).numpy()
    array([0.], dtype=float32)
    """)
ndtri = _float_op(Ndtri, """The standard normal quantile (inverse CDF) element-wise.

    >>> import numpyflow as tf
    >>> tf.math.ndtri([0.5]).numpy()
    array([0.], dtype=float32)
    """)


def erfcinv(x, name=None):
    """The inverse of erfc element-wise: -ndtri(x / 2) / sqrt(2) (x in [0, 2]).

    >>> import numpyflow as tf
    >>> tf.math.erfcinv([1.]).numpy()
    array([-0.], dtype=float32)
    """
    x = tensor(x)
    require_float(x, "Ndtri")
    return negative(ndtri(0.5 * x)) * math.sqrt(0.5)


def lbeta(x, name=None):
    """log(|Beta(x)|) along the last axis: sum(lgamma(x)) - lgamma(sum(x)) (-inf for an
    empty last axis, as TF).

    >>> import numpyflow as tf
    >>> float(tf.math.lbeta([1., 1.]))
    0.0
    """
    x = tensor(x)
    require_float(x, "Lgamma")
    return (reduce_ops.reduce_sum(lgamma(x), axis=-1) -
            lgamma(reduce_ops.reduce_sum(x, axis=-1)))


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """The element-wise sum of a list of same-shaped tensors (as `tf.math.add_n`).

    >>> import numpyflow as tf
    >>> tf.math.accumulate_n([[1., 2.], [3., 4.]]).numpy()
    array([4., 6.], dtype=float32)
    """
    total = math_ops.add_n(inputs)
    if shape is not None and tuple(total.shape) != tuple(shape):
        raise ValueError(f"accumulate_n: the inputs have shape {tuple(total.shape)}, not the "
                         f"given shape {tuple(shape)}.")
    if tensor_dtype is not None and total.dtype != dtypes.as_dtype(tensor_dtype):
        raise TypeError(f"accumulate_n: the inputs are {total.dtype.name}, not "
                        f"{dtypes.as_dtype(tensor_dtype).name}.")
    return total


def polygamma(a, x, name=None):
    """The `a`-th derivative of digamma at `x` (a: whole numbers >= 0, else NaN).

    >>> import numpyflow as tf
    >>> tf.math.polygamma(1., [1.]).numpy().round(5)
    array([1.64493], dtype=float32)
    """
    return Polygamma(*_float_pair(a, x, "Polygamma"))


# -- the x log y family, "no NaN" products ------------------------------------------------

def _x_times_forward(fn):
    """x * fn(y), or x / y when fn is None, element-wise; 0 wherever x is 0."""
    def forward(x, y):
        out = x / y if fn is None else x * fn(y)
        # Where x is 0 the result is 0 even if fn(y) or 1/y is infinite or NaN (TF's rule).
        return xp.where(x == 0, xp.zeros((), out.dtype), out)
    return quiet(forward)


def _nonzero_like(x):
    return cast(math_ops.not_equal(x, 0.), x.dtype)


# Gradients as TF writes them, with the same ops: 0 wherever x is 0.
Xlogy = Primitive(
    "Xlogy", _x_times_forward(xp.log), lambda node, dy: (
        dy * Xlogy(_nonzero_like(node.inputs[0]), node.inputs[1]) if node.needs[0] else None,
        dy * Xdivy(node.inputs[0], node.inputs[1]) if node.needs[1] else None),
    infallible=True)
Xlog1py = Primitive(
    "Xlog1py", _x_times_forward(xp.log1p), lambda node, dy: (
        dy * Xlog1py(_nonzero_like(node.inputs[0]), node.inputs[1]) if node.needs[0] else None,
        dy * Xdivy(node.inputs[0], node.inputs[1] + 1.) if node.needs[1] else None),
    infallible=True)
Xdivy = Primitive(
    "Xdivy", _x_times_forward(None), lambda node, dy: (
        dy * Xdivy(_nonzero_like(node.inputs[0]), node.inputs[1]) if node.needs[0] else None,
        dy * Xdivy(negative(node.inputs[0]), square(node.inputs[1])) if node.needs[1] else None),
    infallible=True)


def _mul_no_nan_forward(x, y):
    return xp.where(y == 0, xp.zeros((), x.dtype), x * y)


MulNoNan = Primitive(
    "MulNoNan", quiet(_mul_no_nan_forward), lambda node, dy: (
        MulNoNan(dy, node.inputs[1]) if node.needs[0] else None,
        MulNoNan(node.inputs[0], dy) if node.needs[1] else None),
    infallible=True)


def xlogy(x, y, name=None):
    """x * log(y), but 0 wherever x is 0 (even where y is 0).

    >>> import numpyflow as tf
    >>> tf.math.xlogy([0., 2.], [0., 1.]).numpy()
    array([0., 0.], dtype=float32)
    """
    return Xlogy(*_float_pair(x, y, "Xlogy"))


def xlog1py(x, y, name=None):
    """x * log1p(y), but 0 wherever x is 0.

    >>> import numpyflow as tf
    >>> tf.math.xlog1py([0.], [-1.]).numpy()
    array([0.], dtype=float32)
    """
    return Xlog1py(*_float_pair(x, y, "Xlog1py"))


def xdivy(x, y, name=None):
    """x / y, but 0 wherever x is 0 (even where y is 0).

    >>> import numpyflow as tf
    >>> tf.math.xdivy([0., 1.], [0., 2.]).numpy()
    array([0. , 0.5], dtype=float32)
    """
    return Xdivy(*_float_pair(x, y, "Xdivy"))


def multiply_no_nan(x, y, name=None):
    """x * y, but 0 wherever y is 0, even where x is NaN or infinite.

    >>> import numpyflow as tf
    >>> tf.math.multiply_no_nan([float("inf"), 2.], [0., 3.]).numpy()
    array([0., 6.], dtype=float32)
    """
    return MulNoNan(*_float_pair(x, y, "MulNoNan"))


def reciprocal_no_nan(x, name=None):
    """1 / x, but 0 where x is 0.

    >>> import numpyflow as tf
    >>> tf.math.reciprocal_no_nan([0., 2.]).numpy()
    array([0. , 0.5], dtype=float32)
    """
    x = tensor(x)
    require_float(x, "DivNoNan")
    return divide_no_nan(Tensor(xp.ones((), x._value.dtype)), x)


def log_sigmoid(x, name=None):
    """log(sigmoid(x)) = -softplus(-x), without overflow for large |x|.

    >>> import numpyflow as tf
    >>> tf.math.log_sigmoid([0.]).numpy().round(5)
    array([-0.69315], dtype=float32)
    """
    x = tensor(x)
    require_float(x, "Softplus")
    return negative(activation_ops.softplus(negative(x)))


# -- truncating division, realdiv, scalar_mul ---------------------------------------------

def _integer_divisor_checked(forward, op_name):
    def checked(x, y):
        if y.dtype.kind in "iu" and not y.all():
            raise errors.invalid_argument(op_name, "Integer division by zero")
        return forward(x, y)
    return quiet(checked)


def _truncate_div_forward(x, y):
    if x.dtype.kind == "f":
        return xp.trunc(x / y)
    quotient = xp.floor_divide(x, y)
    # Floor and truncation differ where the division is inexact and the signs differ.
    inexact = xp.remainder(x, y) != 0
    return xp.where(inexact & ((x < 0) != (y < 0)), quotient + 1, quotient).astype(x.dtype)


# Neither has a gradient in TF (TruncateDiv is declared not differentiable, TruncateMod has
# no gradient registered).
TruncateDiv = Primitive("TruncateDiv", _integer_divisor_checked(_truncate_div_forward,
                                                                "TruncateDiv"))
TruncateMod = Primitive("TruncateMod", _integer_divisor_checked(xp.fmod, "TruncateMod"))


def truncatediv(x, y, name=None):
    """x / y rounded toward zero (C's integer division). Not differentiable.

    >>> import numpyflow as tf
    >>> tf.truncatediv([7, -7], [2, 2]).numpy()
    array([ 3, -3], dtype=int32)
    """
    return TruncateDiv(*tensor_pair(x, y, "TruncateDiv"))


def truncatemod(x, y, name=None):
    """The remainder of truncating division, with the sign of x (C's `%`, `fmod`).

    >>> import numpyflow as tf
    >>> tf.truncatemod([7, -7], [2, 2]).numpy()
    array([ 1, -1], dtype=int32)
    """
    return TruncateMod(*tensor_pair(x, y, "TruncateMod"))


def realdiv(x, y, name=None):
    """x / y element-wise for floating-point tensors (TF's `RealDiv` op).

    >>> import numpyflow as tf
    >>> tf.realdiv([1.], [4.]).numpy()
    array([0.25], dtype=float32)
    """
    x, y = tensor_pair(x, y, "RealDiv")
    if x._value.dtype.kind != "f":
        # TF has no CPU kernel for integer RealDiv; say what to do instead.
        raise errors.invalid_argument(
            "RealDiv", f"RealDiv takes floating-point tensors; received {x.dtype.name} "
            f"(use tf.math.divide, which divides integers as float64, or tf.math.floordiv)")
    return math_ops.RealDiv(x, y)


def scalar_mul(scalar, x, name=None):
    """`scalar * x`, where `scalar` must be a 0-d value (it takes x's dtype).

    >>> import numpyflow as tf
    >>> tf.math.scalar_mul(2, tf.constant([1., 2.])).numpy()
    array([2., 4.], dtype=float32)
    """
    x = tensor(x)
    scalar_shape = getattr(scalar, "shape", ())
    if len(scalar_shape) != 0:
        raise ValueError(f"scalar_mul: the input scalar must be a 0-D value. Received shape "
                         f"{tuple(scalar_shape)}.")
    return multiply(scalar, x)


# -- scans: cumprod, cumulative_logsumexp -------------------------------------------------

def _scan_axis(x, axis, op_name):
    ndim = x._value.ndim
    axis = _axis_int(axis, op_name)
    if not -ndim <= axis < ndim:
        raise errors.invalid_argument(
            op_name, f"ScanOp: Expected scan axis in the range [{-ndim}, {ndim}), but got "
            f"{axis} (input shape {_shape_text(x._value.shape)})")
    return axis % ndim


def _scan_forward(accumulate, identity):
    """A scan along `axis` from a ufunc's accumulate; `identity` enters first when exclusive."""
    def forward(x, axis, exclusive, reverse):
        if reverse:
            x = xp.flip(x, axis)
        out = accumulate(x, axis=axis, dtype=x.dtype)
        if exclusive:
            shifted = xp.full_like(out, identity)
            lead = (slice(None),) * axis
            shifted[lead + (slice(1, None),)] = out[lead + (slice(None, -1),)]
            out = shifted
        if reverse:
            out = xp.flip(out, axis)
        return out
    return quiet(forward)


def _cumprod_grad(node, dy):
    # d out_j / d x_i = prod_{k in scan(j), k != i} x_k. Dividing out_j by x_i (TF's rule)
    # fails where x_i is 0; there the product of the others is the scan of x with zeros
    # replaced by 1, as long as x_i is the only zero in the scan so far, else it is 0.
    x = node.inputs[0]
    attrs = node.attrs
    scan = dict(axis=attrs["axis"], exclusive=attrs["exclusive"], reverse=attrs["reverse"])
    back = dict(axis=attrs["axis"], exclusive=attrs["exclusive"], reverse=not attrs["reverse"])
    is_zero = math_ops.equal(x, 0.)
    one = Tensor(xp.ones((), x._value.dtype))
    safe_x = indexing_ops.where(is_zero, one, x)
    through_nonzero = cumulative_ops.Cumsum(dy * node.output, **back) / safe_x
    zeros_so_far = cumulative_ops.Cumsum(cast(is_zero, x.dtype), **scan)
    others = Cumprod(safe_x, **scan) * cast(math_ops.equal(zeros_so_far, 1.), x.dtype)
    through_zero = cumulative_ops.Cumsum(dy * others, **back)
    return (indexing_ops.where(is_zero, through_zero, through_nonzero),)


Cumprod = Primitive("Cumprod", _scan_forward(xp.cumprod, 1), _cumprod_grad)


def _logsumexp_accumulate(x, axis, dtype):
    return xp.logaddexp.accumulate(x, axis=axis, dtype=dtype)


def _cumulative_logsumexp_grad(node, dy):
    # d out_j / d x_i = exp(x_i - out_j) for i in scan(j): dx_i = sum_j dy_j exp(x_i - out_j),
    # summed in log space (TF's method) so that nothing overflows: the positive and the
    # negative parts of dy separately, by the same scan run the other way.
    x, out = node.inputs[0], node.output
    # An exclusive scan's first output is -inf (no terms) and reaches no input's gradient;
    # made finite here so that no -inf - (-inf) is ever computed.
    out = indexing_ops.where(math_ops.equal(out, -xp.inf), Tensor(xp.zeros((), out._value.dtype)),
                             out)
    attrs = node.attrs
    back = dict(axis=attrs["axis"], exclusive=attrs["exclusive"], reverse=not attrs["reverse"])
    minus_inf = Tensor(xp.full((), -xp.inf, dy._value.dtype))
    one = Tensor(xp.ones((), dy._value.dtype))

    def log_part(mask, magnitude):
        return indexing_ops.where(mask, log(indexing_ops.where(mask, magnitude, one)), minus_inf)

    positive = log_part(math_ops.greater(dy, 0.), dy)
    negative_part = log_part(math_ops.less(dy, 0.), negative(dy))
    return (exp(CumulativeLogsumexp(positive - out, **back) + x) -
            exp(CumulativeLogsumexp(negative_part - out, **back) + x),)


CumulativeLogsumexp = Primitive("CumulativeLogsumexp",
                                _scan_forward(_logsumexp_accumulate, -xp.inf),
                                _cumulative_logsumexp_grad)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product of `x` along `axis` (see `tf.math.cumsum` for the flags).

    >>> import numpyflow as tf
    >>> tf.math.cumprod([1., 2., 3.]).numpy()
    array([1., 2., 6.], dtype=float32)
    >>> tf.math.cumprod([1., 2., 3.], exclusive=True, reverse=True).numpy()
    array([6., 3., 1.], dtype=float32)
    """
    x = tensor(x)
    if x._value.dtype.kind not in "fiu":
        raise errors.invalid_argument("Cumprod", f"Cumprod expects a numeric tensor; received "
                                      f"dtype {x.dtype.name}")
    return Cumprod(x, axis=_scan_axis(x, axis, "Cumprod"), exclusive=bool(exclusive),
                   reverse=bool(reverse))


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """log(cumsum(exp(x))) along `axis`, computed without overflow or underflow.

    >>> import numpyflow as tf
    >>> tf.math.cumulative_logsumexp([0., 0.]).numpy().round(5)
    array([0.     , 0.69315], dtype=float32)
    """
    x = tensor(x)
    require_float(x, "CumulativeLogsumexp")
    return CumulativeLogsumexp(x, axis=_scan_axis(x, axis, "CumulativeLogsumexp"),
                               exclusive=bool(exclusive), reverse=bool(reverse))


# -- reductions and predicates composed from existing ops ---------------------------------

def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x ** 2)) over `axis` (all axes by default). Integer inputs give the
    truncated integer norm, as TF.

    >>> import numpyflow as tf
    >>> float(tf.math.reduce_euclidean_norm([3., 4.]))
    5.0
    """
    x = tensor(input_tensor)
    if x._value.dtype.kind in "iu":
        # The squares would overflow a narrow integer type; TF truncates the float result.
        norm = reduce_euclidean_norm(cast(x, dtypes.float64), axis, keepdims)
        return cast(norm, x.dtype)
    if x._value.dtype.kind != "f":
        raise TypeError(f"reduce_euclidean_norm expects a numeric tensor; received "
                        f"{x.dtype.name}.")
    return sqrt(reduce_ops.reduce_sum(square(x), axis=axis, keepdims=keepdims))


def zero_fraction(value, name=None):
    """The fraction of entries of `value` that are 0, as a float32 scalar (NaN if empty).

    >>> import numpyflow as tf
    >>> float(tf.math.zero_fraction([0, 1, 0, 3]))
    0.5
    """
    value = tensor(value)
    zero = Tensor(xp.zeros((), value._value.dtype))  # False for bool tensors, as TF.
    return reduce_ops.reduce_mean(cast(math_ops.equal(value, zero), dtypes.float32))


def _monotone(x, comparison, public_name):
    x = tensor(x)
    if x._value.dtype.kind not in "fiu":
        raise TypeError(f"{public_name}: expected x to be numeric, instead found dtype "
                        f"{x.dtype.name}.")
    flat = array_ops.reshape(x, [-1])
    return reduce_ops.reduce_all(comparison(flat[1:], flat[:-1]))


def is_non_decreasing(x, name=None):
    """Whether x[i] <= x[i+1] for all i, in row-major order (True if x has < 2 entries).

    >>> import numpyflow as tf
    >>> bool(tf.math.is_non_decreasing([1, 1, 2]))
    True
    """
    return _monotone(x, math_ops.greater_equal, "is_non_decreasing")


def is_strictly_increasing(x, name=None):
    """Whether x[i] < x[i+1] for all i, in row-major order (True if x has < 2 entries).

    >>> import numpyflow as tf
    >>> bool(tf.math.is_strictly_increasing([1, 1, 2]))
    False
    """
    return _monotone(x, math_ops.greater, "is_strictly_increasing")


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon)): unit L2 norm along `axis` (all axes if None).

    >>> import numpyflow as tf
    >>> tf.math.l2_normalize([3., 4.]).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("l2_normalize: cannot specify both 'axis' and 'dim'.")
        axis = dim
    x = tensor(x)
    if x._value.dtype.kind != "f":
        raise TypeError(f"l2_normalize expects a floating-point tensor; received "
                        f"{x.dtype.name}.")
    square_sum = reduce_ops.reduce_sum(square(x), axis=axis, keepdims=True)
    return x * rsqrt(math_ops.maximum(square_sum, epsilon))


def polyval(coeffs, x, name=None):
    """The polynomial coeffs[0] * x**(n-1) + ... + coeffs[n-1] at x (Horner's rule).

    Args:
      coeffs: A list of tensors (or numbers), highest power first.
      x: A tensor.

    >>> import numpyflow as tf
    >>> float(tf.math.polyval([1., 2., 3.], 2.))
    11.0
    """
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"polyval: coeffs must be a list of tensors; received "
                         f"{type(coeffs).__name__}.")
    x = tensor(x)
    if not coeffs:
        return creation_ops.zeros_like(x)
    result = tensor_pair(coeffs[0], x, "polyval")[0]
    for coefficient in coeffs[1:]:
        result = math_ops.add(coefficient, result * x)
    return result
