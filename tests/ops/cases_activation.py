"""Op cases for numpyflow.ops.activation_ops.

The *Grad primitives are checked through `grad_of`: a nested tape computes the first
derivative, and opcheck's own tape differentiates that again (second derivatives).
"""

import math

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import away_from_zero, case, rand


def grad_of(op):
    """fn(x, dy) = d/dx sum(op(x) * dy), computed with a nested tape."""
    def fn(x, dy):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = op(x)
        return tape.gradient(y, x, output_gradients=dy)
    return fn


def grad_at(op, x):
    """fn(dy) = d/dx sum(op(x) * dy) at the fixed point `x` (for gradient ops whose own
    gradient with respect to x is zero almost everywhere, so the tape gives None)."""
    def fn(dy):
        return grad_of(op)(tf.constant(x), dy)
    return fn


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def np_selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def np_selu_slope(x):
    return SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(x))


_erf = np.vectorize(math.erf)


def np_gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def np_gelu_slope(x):
    return 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


x34, dy34 = rand(3, 4), rand(3, 4)
kinked = away_from_zero(3, 4)
relu6_in = np.array([[-1.5, 0.5, 2.0, 5.5], [6.5, 3.0, -0.3, 7.0]])
leaky_in = away_from_zero(2, 4)

CASES = [
    case("Sigmoid", tf.sigmoid, np_sigmoid, x34),
    case("Sigmoid", tf.nn.sigmoid, np_sigmoid, np.array([-60., -20., 0., 20., 60.]),
         id="sigmoid_tails_keep_relative_precision", rtol=1e-12, atol=0),
    case("Sigmoid", tf.math.sigmoid, np_sigmoid, x34.astype(np.float32), rtol=1e-6,
         id="sigmoid_float32"),
    case("SigmoidGrad", grad_of(tf.sigmoid),
         lambda x, dy: dy * np_sigmoid(x) * (1 - np_sigmoid(x)), x34, dy34),
    case("Tanh", tf.tanh, np.tanh, x34),
    case("Tanh", tf.nn.tanh, np.tanh, x34.astype(np.float32), id="tanh_float32"),
    case("TanhGrad", grad_of(tf.math.tanh), lambda x, dy: dy * (1 - np.tanh(x) ** 2), x34, dy34),
    case("Relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6), relu6_in),
    case("Relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6), np.array([-3, 4, 9], np.int32),
         id="relu6_int_stays_int"),
    case("Relu6Grad", grad_at(tf.nn.relu6, relu6_in),
         lambda dy: dy * ((relu6_in > 0) & (relu6_in < 6)), rand(2, 4)),
    case("LeakyRelu", tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), leaky_in),
    case("LeakyRelu", lambda x: tf.nn.leaky_relu(x, alpha=0.01),
         lambda x: np.where(x > 0, x, 0.01 * x), leaky_in, id="leaky_relu_alpha"),
    case("LeakyRelu", tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x).astype(np.float32),
         np.array([-5, 0, 3], np.int32), id="leaky_relu_int_becomes_float32"),
    case("LeakyReluGrad", grad_at(lambda x: tf.nn.leaky_relu(x, 0.3), leaky_in),
         lambda dy: np.where(leaky_in > 0, dy, 0.3 * dy), rand(2, 4)),
    case("Elu", tf.nn.elu, np_elu, kinked),
    case("EluGrad", grad_of(tf.nn.elu), lambda x, dy: dy * np.where(x > 0, 1, np.exp(x)),
         kinked, dy34),
    case("Selu", tf.nn.selu, np_selu, kinked),
    case("SeluGrad", grad_of(tf.nn.selu), lambda x, dy: dy * np_selu_slope(x), kinked, dy34),
    case("Softplus", tf.nn.softplus, lambda x: np.log1p(np.exp(x)), x34),
    case("Softplus", tf.math.softplus, lambda x: np.maximum(x, 0) + np.log1p(np.exp(-abs(x))),
         np.array([-800., -30., 0., 30., 800.]), id="softplus_no_overflow", rtol=1e-12),
    case("Softsign", tf.nn.softsign, lambda x: x / (1 + np.abs(x)), kinked),
    case("Sigmoid", tf.nn.silu, lambda x: x * np_sigmoid(x), x34, id="silu"),
    case("Sigmoid", tf.nn.swish, lambda x: x * np_sigmoid(x), x34, id="swish_is_silu"),
    case("Sigmoid", lambda x: tf.nn.silu(x, beta=2.0), lambda x: x * np_sigmoid(2 * x), x34,
         id="silu_beta"),
    case("Erf", tf.math.erf, _erf, np.concatenate([rand(8) * 3, [0., 1e-8, -7., 7.]]),
         rtol=1e-15, atol=1e-16),
    case("Gelu", tf.nn.gelu, np_gelu, x34 * 2, rtol=1e-14, atol=1e-15),
    case("Gelu", lambda x: tf.nn.gelu(x, approximate=True), np_gelu_tanh, x34 * 2,
         id="gelu_approximate"),
    case("Gelu", tf.nn.gelu, lambda x: np_gelu(x).astype(x.dtype), (x34 * 2).astype(np.float32),
         id="gelu_float32"),
    case("Gelu", grad_of(tf.nn.gelu), lambda x, dy: dy * np_gelu_slope(x), x34, dy34,
         id="gelu_second_derivative"),
]
