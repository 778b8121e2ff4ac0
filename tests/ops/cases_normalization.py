"""Op cases for numpyflow.ops.normalization_ops.

`tf.nn.batch_normalization` is composed from primitives (Rsqrt among them), so its cases
name that primitive; the finite-difference check covers the composed gradient, including
the gradient through batch statistics from `tf.nn.moments`.
"""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, positive, rand

EPSILON = 1e-3


def np_batch_norm(x, mean, variance, offset, scale, epsilon=EPSILON):
    return (x - mean) / np.sqrt(variance + epsilon) * scale + offset


def np_batch_stats_norm(x, offset, scale, axes):
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)  # Biased, as tf.nn.moments.
    return np_batch_norm(x, mean, variance, offset, scale)


def batch_stats_norm(x, offset, scale, axes):
    mean, variance = tf.nn.moments(x, axes=axes, keepdims=True)
    return tf.nn.batch_normalization(x, mean, variance, offset, scale, EPSILON)


CASES = [
    case("Rsqrt", lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, EPSILON),
         np_batch_norm, rand(3, 4), rand(4), positive(4), rand(4), rand(4),
         id="batch_normalization"),
    case("Rsqrt", lambda x, m, v: tf.nn.batch_normalization(x, m, v, None, None, EPSILON),
         lambda x, m, v: (x - m) / np.sqrt(v + EPSILON), rand(2, 3, 4), rand(4), positive(4),
         id="batch_normalization_no_offset_no_scale"),
    case("Rsqrt", lambda x, o, s: batch_stats_norm(x, o, s, [0]),
         lambda x, o, s: np_batch_stats_norm(x, o, s, (0,)), rand(5, 3), rand(3), rand(3),
         id="batch_normalization_with_batch_statistics"),
    case("Rsqrt", lambda x, o, s: batch_stats_norm(x, o, s, [0, 1, 2]),
         lambda x, o, s: np_batch_stats_norm(x, o, s, (0, 1, 2)), rand(2, 3, 3, 2), rand(2),
         rand(2), id="batch_normalization_with_batch_statistics_nhwc"),
]


# -- the fused training-mode batch norm (channels last) ------------------------------------------

from numpyflow.ops import normalization_ops  # noqa: E402

_dy, _x = rand(4, 3, 2, 5), rand(4, 3, 2, 5) * 3. + 1.
_gamma = rand(5)


def np_moments(x):
    axes = tuple(range(x.ndim - 1))
    return np.stack([x.mean(axis=axes), x.var(axis=axes)])


def np_grad_sums(dy, x):
    axes = tuple(range(x.ndim - 1))
    mean, variance = np_moments(x)
    x_hat = (x - mean) / np.sqrt(variance + EPSILON)
    return np.stack([dy.sum(axis=axes), (dy * x_hat).sum(axis=axes)])


def np_input_grad(dy, x, gamma):
    # The textbook closed form, written independently of the kernel's factored one.
    count = x.size // x.shape[-1]
    mean, variance = np_moments(x)
    x_hat = (x - mean) / np.sqrt(variance + EPSILON)
    sum_dy, sum_dy_x_hat = np_grad_sums(dy, x)
    return gamma / np.sqrt(variance + EPSILON) * (
        dy - sum_dy / count - x_hat * sum_dy_x_hat / count)


def grad_sums(dy, x):
    moments = normalization_ops.batch_moments(x)
    return normalization_ops.BatchNormTrainingGradSums(dy, x, moments=moments.numpy(),
                                                       epsilon=EPSILON)


def input_grad(dy, x, gamma):
    moments = normalization_ops.batch_moments(x)
    sums = grad_sums(dy, x)
    return normalization_ops.BatchNormTrainingInputGrad(dy, x, gamma, sums,
                                                        moments=moments.numpy(),
                                                        epsilon=EPSILON)


CASES += [
    case("BatchMoments", normalization_ops.batch_moments, np_moments, rand(3, 4, 2) * 2. + 1.,
         id="batch_moments"),
    case("BatchMoments", normalization_ops.batch_moments, np_moments, rand(5, 3),
         id="batch_moments_2d"),
    # The finite differences go through the batch statistics (batch_norm_training
    # recomputes them from x); the analytic gradient runs both gradient primitives.
    case("BatchNormTraining", lambda x, o, s: normalization_ops.batch_norm_training(
             x, s, o, EPSILON),
         lambda x, o, s: np_batch_stats_norm(x, o, s, (0, 1, 2)), rand(2, 3, 3, 4) * 2. + 1.,
         rand(4), rand(4), id="batch_norm_training_nhwc"),
    case("BatchNormTraining", lambda x, o, s: normalization_ops.batch_norm_training(
             x, s, o, EPSILON),
         lambda x, o, s: np_batch_stats_norm(x, o, s, (0,)), rand(7, 3), rand(3), rand(3),
         id="batch_norm_training_2d"),
    case("BatchNormTrainingGradSums", grad_sums, np_grad_sums, _dy, _x, grad=False),
    case("BatchNormTrainingInputGrad", input_grad, np_input_grad, _dy, _x, _gamma,
         grad=False),
]
