"""Op cases for numpyflow.ops.reduce_ops."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, distinct, rand

x = rand(2, 3, 4)

CASES = [
    case("Sum", tf.reduce_sum, np.sum, x, id="sum_all"),
    case("Sum", lambda t: tf.reduce_sum(t, axis=1), lambda t: t.sum(1), x, id="sum_axis"),
    case("Sum", lambda t: tf.reduce_sum(t, axis=[0, -1], keepdims=True),
         lambda t: t.sum((0, 2), keepdims=True), x, id="sum_axes_keepdims"),
    case("Sum", lambda t: tf.reduce_sum(t, axis=[0, 1]), lambda t: t.sum((0, 1)), rand(64, 5, 3),
         id="sum_leading_axes_as_gemv"),
    case("Sum", lambda t: tf.reduce_sum(t, axis=[0, 1], keepdims=True),
         lambda t: t.sum((0, 1), keepdims=True), rand(64, 5, 3).astype(np.float32),
         id="sum_leading_axes_as_gemv_keepdims_float32", rtol=1e-5),
    case("Mean", lambda t: tf.reduce_mean(t, axis=-1), lambda t: t.mean(-1), x),
    case("Max", lambda t: tf.reduce_max(t, axis=1), lambda t: t.max(1), distinct(2, 3, 4)),
    case("Max", tf.reduce_max, lambda t: t.max(), np.array([1., 3., 3., 2.], np.float32),
         id="max_ties_value"),
    case("Min", lambda t: tf.reduce_min(t, axis=0), lambda t: t.min(0), distinct(3, 4)),
    case("Prod", lambda t: tf.reduce_prod(t, axis=1), lambda t: t.prod(1), rand(3, 4)),
    case("Prod", tf.reduce_prod, np.prod, np.array([2., 0., 3.]), id="prod_with_zero"),
    case("Sum", lambda t: tf.reduce_logsumexp(t, axis=1),
         lambda t: np.log(np.exp(t).sum(1)), x, id="logsumexp"),
    case("ArgMax", lambda t: tf.argmax(t, axis=1), lambda t: t.argmax(1), distinct(3, 4),
         grad=False),
    case("ArgMin", tf.argmin, lambda t: t.argmin(0), distinct(3, 4), grad=False),
]
