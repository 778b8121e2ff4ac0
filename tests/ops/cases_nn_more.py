"""Op cases for the dense cross-entropy, dropout, moments and l2_loss in nn_ops."""

import numpy as np

import numpyflow as tf
from tests.ops.cases_nn import np_softmax
from tests.ops.opcheck import case, positive, rand


def np_xent(labels, logits, axis=-1):
    return -np.sum(labels * np.log(np_softmax(logits, axis)), axis=axis)


def distributions(*shape, axis=-1):
    """Rows (along `axis`) of positive values summing to 1, like soft labels."""
    values = positive(*shape)
    return values / values.sum(axis=axis, keepdims=True)


def seeded_dropout(x, rate=0.5, noise_shape=None):
    """Dropout with the same mask on every call (the streams restart at set_seed)."""
    tf.random.set_seed(1234)
    return tf.nn.dropout(x, rate, noise_shape=noise_shape, seed=7)


def dropout_mask(shape, rate=0.5, noise_shape=None):
    return seeded_dropout(tf.ones(shape, dtype=tf.float64), rate, noise_shape).numpy()


CASES = [
    case("SoftmaxCrossEntropyWithLogits",
         lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits),
         np_xent, distributions(4, 5), rand(4, 5)),
    case("SoftmaxCrossEntropyWithLogits",
         lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis=0),
         lambda labels, logits: np_xent(labels, logits, axis=0), distributions(3, 4, axis=0),
         rand(3, 4), id="xent_axis0"),
    case("SoftmaxCrossEntropyWithLogits",
         lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits),
         np_xent, distributions(1, 5), rand(3, 5), id="xent_labels_broadcast"),
    case("SoftmaxCrossEntropyWithLogits",
         lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits),
         np_xent, positive(2, 3), rand(2, 3), id="xent_unnormalized_labels_exact_gradient"),
    case("DropoutMask", lambda x: seeded_dropout(x), lambda x: x * dropout_mask(x.shape),
         rand(4, 6), id="dropout"),
    case("Mul", lambda x: seeded_dropout(x, 0.25, noise_shape=[4, 1]),
         lambda x: x * dropout_mask(x.shape, 0.25, noise_shape=[4, 1]), rand(4, 6),
         id="dropout_noise_shape"),
    case("Mean", lambda x: tf.nn.moments(x, axes=[0, 1])[0], lambda x: x.mean((0, 1)),
         rand(3, 4, 2), id="moments_mean"),
    case("Mean", lambda x: tf.nn.moments(x, axes=[0, 2], keepdims=True)[1],
         lambda x: x.var((0, 2), keepdims=True), rand(3, 4, 2), id="moments_variance"),
    case("L2Loss", tf.nn.l2_loss, lambda x: np.sum(x * x) / 2, rand(3, 4)),
]
