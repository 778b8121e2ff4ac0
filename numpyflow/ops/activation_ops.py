"""Activation functions (sigmoid, tanh, relu6, leaky_relu, elu, selu, gelu, softplus,
softsign, silu) and `erf` — each with its gradient.

Where TensorFlow has a dedicated gradient op (SigmoidGrad, TanhGrad, Relu6Grad, ...), we
register it under TF's name: the backward pass is then one fused NumPy expression, and the
gradient op has its own gradient rule, so nested tapes give higher derivatives. The other
gradients are composed from existing ops.
"""

import math

from numpyflow.backend import xp
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import indexing_ops, math_ops
from numpyflow.ops._convert import require_float, tensor
from numpyflow.backend.quiet import quiet


def _float_input(features, op_name):
    x = tensor(features)
    require_float(x, op_name)
    return x


def _zero_like(t):
    return Tensor(xp.zeros((), t._value.dtype))


# -- sigmoid and tanh -------------------------------------------------------------------

def _sigmoid_forward(x):
    # 1 / (1 + exp(-x)) keeps full relative precision in both tails; for very negative x,
    # exp(-x) overflows to inf and the result is correctly 0 (the primitive is quiet).
    e = xp.negative(x, out=xp.empty_like(x))
    xp.exp(e, out=e)
    e += 1
    return xp.reciprocal(e, out=e)


def _sigmoid_grad_grad(node, ddx):
    y, dy = node.inputs
    return (ddx * dy * (1. - 2. * y) if node.needs[0] else None,
            SigmoidGrad(y, ddx) if node.needs[1] else None)


# SigmoidGrad(y, dy) = dy * y * (1 - y), TF's argument order.
SigmoidGrad = Primitive("SigmoidGrad", quiet(lambda y, dy: dy * y * (1 - y)), _sigmoid_grad_grad)
Sigmoid = Primitive("Sigmoid", quiet(_sigmoid_forward),
                    lambda node, dy: (SigmoidGrad(node.output, dy),))


def _tanh_grad_grad(node, ddx):
    y, dy = node.inputs
    return (-2. * ddx * dy * y if node.needs[0] else None,
            TanhGrad(y, ddx) if node.needs[1] else None)


# TanhGrad(y, dy) = dy * (1 - y^2), TF's argument order.
TanhGrad = Primitive("TanhGrad", quiet(lambda y, dy: dy * (1 - y * y)), _tanh_grad_grad)
Tanh = Primitive("Tanh", xp.tanh, lambda node, dy: (TanhGrad(node.output, dy),))


def sigmoid(x, name=None):
    """1 / (1 + exp(-x)) element-wise, accurate in both tails.

    >>> sigmoid([0., 100.]).numpy()
    array([0.5, 1. ], dtype=float32)
    """
    return Sigmoid(_float_input(x, "Sigmoid"))


def tanh(x, name=None):
    """Hyperbolic tangent element-wise.

    >>> tanh([0.]).numpy()
    array([0.], dtype=float32)
    """
    return Tanh(_float_input(x, "Tanh"))


# -- piecewise-linear: relu6, leaky_relu --------------------------------------------------

def _linear_in_dy(name, forward):
    """A gradient op `forward(dy, features, **attrs)` that is linear in `dy` with a mask set
    by `features`: its own gradient is the same op applied to the incoming gradient."""
    def gradient(node, ddx):
        return (primitive(ddx, node.inputs[1], **node.attrs), None)
    primitive = Primitive(name, quiet(forward), gradient)
    return primitive


# As TF, the gradient at the kinks (0 and 6) is 0.
Relu6Grad = _linear_in_dy("Relu6Grad", lambda dy, x: dy * ((x > 0) & (x < 6)))
Relu6 = Primitive("Relu6", lambda x: xp.clip(x, 0, 6),
                  lambda node, dy: (Relu6Grad(dy, node.inputs[0]),))

LeakyReluGrad = _linear_in_dy(
    "LeakyReluGrad", lambda dy, x, alpha: xp.where(x > 0, dy, dy * x.dtype.type(alpha)))
LeakyRelu = Primitive(
    "LeakyRelu", lambda x, alpha: xp.where(x > 0, x, x * x.dtype.type(alpha)),
    lambda node, dy: (LeakyReluGrad(dy, node.inputs[0], alpha=node.attrs["alpha"]),))


def relu6(features, name=None):
    """min(max(features, 0), 6) element-wise. Integer inputs stay integer, as in TF.

    >>> relu6([-1., 3., 9.]).numpy()
    array([0., 3., 6.], dtype=float32)
    """
    return Relu6(tensor(features))


def leaky_relu(features, alpha=0.2, name=None):
    """`features` where positive, else `alpha * features`.

    Integer inputs are cast to float32 first, as TF does.

    >>> leaky_relu([-1., 2.]).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    x = tensor(features)
    if x._value.dtype.kind in "iu":
        x = math_ops.cast(x, "float32")
    require_float(x, "LeakyRelu")
    return LeakyRelu(x, alpha=float(alpha))


# -- exponential linear units: elu, selu --------------------------------------------------

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _expm1_negative_part(x):
    # expm1 of min(x, 0): the positive side is discarded anyway and must not overflow.
    return xp.expm1(xp.minimum(x, 0))


def _exp_linear_grad_grad(grad_op, node, ddx):
    """Gradient of EluGrad/SeluGrad(dy, y): linear in dy; for y < 0 it is dy * (y + c)."""
    dy, y = node.inputs
    return (grad_op(ddx, y) if node.needs[0] else None,
            indexing_ops.where(y < 0., ddx * dy, _zero_like(dy)) if node.needs[1] else None)


def _elu_forward(x):
    return xp.where(x > 0, x, _expm1_negative_part(x))


def _selu_forward(x):
    scale, alpha = x.dtype.type(_SELU_SCALE), x.dtype.type(_SELU_SCALE * _SELU_ALPHA)
    return xp.where(x > 0, x * scale, _expm1_negative_part(x) * alpha)


# Written in terms of the output y, as TF: for x < 0, d elu/dx = exp(x) = y + 1.
EluGrad = Primitive("EluGrad", quiet(lambda dy, y: xp.where(y < 0, dy * (y + 1), dy)),
                    lambda node, ddx: _exp_linear_grad_grad(EluGrad, node, ddx))
SeluGrad = Primitive(
    "SeluGrad",
    quiet(lambda dy, y: xp.where(y < 0, dy * (y + y.dtype.type(_SELU_SCALE * _SELU_ALPHA)),
                                 dy * y.dtype.type(_SELU_SCALE))),
    lambda node, ddx: _exp_linear_grad_grad(SeluGrad, node, ddx))
Elu = Primitive("Elu", quiet(_elu_forward), lambda node, dy: (EluGrad(dy, node.output),))
Selu = Primitive("Selu", quiet(_selu_forward), lambda node, dy: (SeluGrad(dy, node.output),))


def elu(features, name=None):
    """`features` where positive, else exp(features) - 1.

    >>> elu([0., 1.]).numpy()
    array([0., 1.], dtype=float32)
    """
    return Elu(_float_input(features, "Elu"))


def selu(features, name=None):
    """Scaled ELU: scale * (x if x > 0 else alpha * (exp(x) - 1)), with the self-normalizing
    constants alpha ~ 1.6733 and scale ~ 1.0507.

    >>> round(float(selu([1.])[0]), 4)
    1.0507
    """
    return Selu(_float_input(features, "Selu"))


# -- softplus, softsign -------------------------------------------------------------------

def _softplus_forward(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, full precision for x << 0.
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)


Softplus = Primitive("Softplus", quiet(_softplus_forward),
                     lambda node, dy: (dy * sigmoid(node.inputs[0]),))
Softsign = Primitive(
    "Softsign", quiet(lambda x: x / (1 + xp.abs(x))),
    lambda node, dy: (dy / math_ops.square(1. + math_ops.abs(node.inputs[0])),))


def softplus(features, name=None):
    """log(exp(features) + 1), computed without overflow.

    >>> softplus([0.]).numpy()
    array([0.6931472], dtype=float32)
    """
    return Softplus(_float_input(features, "Softplus"))


def softsign(features, name=None):
    """features / (abs(features) + 1).

    >>> softsign([1., -3.]).numpy()
    array([ 0.5 , -0.75], dtype=float32)
    """
    return Softsign(_float_input(features, "Softsign"))


# -- silu / swish -------------------------------------------------------------------------

def silu(features, beta=1.0, name=None):
    """x * sigmoid(beta * x) (a.k.a. swish); composed from Sigmoid and Mul.

    >>> silu([0., 1.]).numpy()
    array([0.       , 0.7310586], dtype=float32)
    """
    x = _float_input(features, "Sigmoid")
    if isinstance(beta, (int, float)) and beta == 1:
        return x * sigmoid(x)  # Skips a multiply by 1 in the common case.
    return x * sigmoid(x * beta)


swish = silu


# -- erf ----------------------------------------------------------------------------------
# NumPy has no erf, and math.erf element by element costs ~0.2 us per value. We evaluate
# piecewise polynomials instead (accurate to ~2 ulp in float64, checked against math.erf in
# tests/ops/test_activation_accuracy.py):
#   |x| <= 1.5:     erf(x) = x * P(x^2)
#   1.5 < |x| < 6:  erf(x) = sign(x) * (1 - exp(-x^2) * Q(1/|x|))   (Q ~ exp(x^2) erfc(x))
#   |x| >= 6:       erf(x) = sign(x)   (erfc(6) ~ 2e-17 is below float64 resolution at 1)
# P and Q are Chebyshev interpolants (degrees 14 and 18) of math.erf/math.erfc, computed in
# extended precision and written below in the power basis of the variable rescaled to
# [-1, 1], highest degree first.

_ERF_SMALL = 1.5
_ERF_LARGE = 6.0
_ERF_P = (8.816627983243563e-13, -1.11777670452895e-11, 1.3685048233513797e-10,
          -1.6002547620352914e-09, 1.7287783054924233e-08, -1.7156405260126614e-07,
          1.5529301563737326e-06, -1.2707918143344487e-05, 9.302926104501084e-05,
          -0.0006015929078346524, 0.0033850641463682427, -0.01628751368588854,
          0.06590879382585581, -0.22525254703530104, 0.8168361747839192)
_ERF_Q = (-2.8588853506761325e-11, 1.0293926822058097e-10, -1.214459088849651e-10,
          -1.6757868703809464e-10, 1.6505820460421816e-09, -6.5732203326229754e-09,
          1.6086427538988812e-08, -1.3226178406395422e-08, -9.986476196379226e-08,
          6.370450627910104e-07, -2.059622532195229e-06, 2.6921079530825294e-06,
          1.374153037208722e-05, -0.00011583013163945283, 0.00042042587447024517,
          -8.580232801177291e-05, -0.011749767914128571, 0.11460274749756316,
          0.21849873453703336)
_U_LOW, _U_HIGH = 1 / _ERF_LARGE, 1 / _ERF_SMALL   # the range of u = 1/|x| for Q


def _horner(coefficients, y):
    result = xp.full_like(y, coefficients[0])
    for c in coefficients[1:]:
        result *= y
        result += c
    return result


def _erf64(values):
    """erf of a float64 array (any shape)."""
    values = xp.asarray(values, dtype=xp.float64)
    x = values.reshape(-1)  # 1-D, so that masked assignment also works for scalars.
    magnitude = xp.abs(x)
    result = xp.sign(x)                                   # the |x| >= 6 answer
    small = magnitude <= _ERF_SMALL
    xs = x[small]
    result[small] = xs * _horner(_ERF_P, xs * xs * (2 / _ERF_SMALL ** 2) - 1)
    middle = ~small & (magnitude < _ERF_LARGE)
    xm = magnitude[middle]
    u = (2 / xm - (_U_LOW + _U_HIGH)) / (_U_HIGH - _U_LOW)
    tail = xp.exp(-xm * xm) * _horner(_ERF_Q, u)
    result[middle] = xp.copysign(1 - tail, x[middle])
    return result.reshape(values.shape)


def _erf_forward(x):
    # Lower precisions are computed in float64 and rounded once.
    return _erf64(x).astype(x.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
Erf = Primitive("Erf", quiet(_erf_forward), lambda node, dy: (
    dy * _TWO_OVER_SQRT_PI * math_ops.exp(-math_ops.square(node.inputs[0])),))


def erf(x, name=None):
    """The Gauss error function, element-wise (float inputs).

    >>> round(float(erf([1.])[0]), 6)
    0.842701
    """
    return Erf(_float_input(x, "Erf"))


# -- gelu ---------------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_GELU_TANH_SCALE = math.sqrt(2 / math.pi)
_GELU_TANH_CUBIC = 0.044715


def _gelu_forward(x, approximate):
    x64 = x.astype(xp.float64, copy=False)
    if approximate:
        inner = _GELU_TANH_SCALE * (x64 + _GELU_TANH_CUBIC * x64 ** 3)
        cdf = 0.5 * (1 + xp.tanh(inner))
    else:
        cdf = 0.5 * (1 + _erf64(x64 * _SQRT_HALF))
    return (x64 * cdf).astype(x.dtype, copy=False)


def _gelu_derivative(x, approximate):
    """d gelu / dx, written with numpyflow ops so nested tapes can differentiate it again."""
    if approximate:
        inner = _GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x * x * x)
        t = tanh(inner)
        d_inner = _GELU_TANH_SCALE * (1. + 3. * _GELU_TANH_CUBIC * x * x)
        return 0.5 * (1. + t) + 0.5 * x * (1. - t * t) * d_inner
    cdf = 0.5 * (1. + erf(x * _SQRT_HALF))
    pdf = math_ops.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return cdf + x * pdf


# Not a TF kernel (TF composes gelu in Python); one primitive here keeps the forward fused.
Gelu = Primitive("Gelu", quiet(_gelu_forward), lambda node, dy: (
    dy * _gelu_derivative(node.inputs[0], node.attrs["approximate"]),))


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit: x * P(X <= x) for X ~ N(0, 1).

    Args:
      features: A float tensor.
      approximate: Use the tanh approximation
        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) instead of the exact erf form.

    Raises:
      ValueError: If `features` is not floating point (as TF).

    >>> gelu([0., 1.]).numpy()
    array([0.       , 0.8413448], dtype=float32)
    """
    x = tensor(features)
    if x._value.dtype.kind != "f":
        raise ValueError(f"`features.dtype` must be a floating point tensor. Received: "
                         f"features.dtype={x.dtype!r}")
    return Gelu(x, approximate=bool(approximate))

