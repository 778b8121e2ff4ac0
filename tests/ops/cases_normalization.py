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
