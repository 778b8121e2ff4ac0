"""Op cases for numpyflow.ops.nn_ops."""

import numpy as np

import numpyflow as tf
from numpyflow.ops import nn_ops
from tests.ops.opcheck import away_from_zero, case, rand


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def np_sparse_xent(logits, labels):
    log_probs = np.log(np_softmax(logits))
    return -np.take_along_axis(log_probs, labels[:, None], 1)[:, 0]


labels = np.array([0, 3, 1, 2], dtype=np.int32)

CASES = [
    case("Relu", tf.nn.relu, lambda t: np.maximum(t, 0), away_from_zero(3, 4)),
    case("ReluGrad", lambda t: _relu_grad_of(t), lambda t: np.where(_relu_in > 0, t, 0.), rand(5),
         id="relu_grad_is_differentiable"),
    case("Softmax", tf.nn.softmax, np_softmax, rand(3, 4)),
    case("Softmax", lambda t: tf.nn.softmax(t, axis=0), lambda t: np_softmax(t, 0), rand(3, 4),
         id="softmax_axis0"),
    case("LogSoftmax", tf.nn.log_softmax, lambda t: np.log(np_softmax(t)), rand(3, 4)),
    case("BiasAdd", tf.nn.bias_add, np.add, rand(2, 3, 4), rand(4)),
    case("SparseSoftmaxCrossEntropyWithLogits",
         lambda lg, lb: tf.nn.sparse_softmax_cross_entropy_with_logits(lb, lg), np_sparse_xent,
         rand(4, 5), labels),
    case("SparseSoftmaxCrossEntropyBackprop",
         lambda dy, logits: nn_ops.SparseSoftmaxCrossEntropyBackprop(
             dy, tf.nn.softmax(logits), tf.constant(labels)),
         lambda dy, logits: dy[:, None] * (np_softmax(logits) - np.eye(5)[labels]),
         rand(4), rand(4, 5), grad=False),
    case("SoftmaxCrossEntropyBackprop",
         lambda dy, logits, target: nn_ops.SoftmaxCrossEntropyBackprop(
             dy, tf.nn.log_softmax(logits), target, axis=-1),
         lambda dy, logits, target: dy * (np_softmax(logits) * target.sum(-1, keepdims=True)
                                          - target),
         rand(4, 1), rand(4, 5), rand(4, 5, low=0., high=1.), grad=False),
]

_relu_in = np.array([-1., 2., -3., 4., 0.5])


def _relu_grad_of(dy):
    x = tf.constant(_relu_in)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.relu(x)
    return tape.gradient(y, x, output_gradients=dy)


# Labels of rank 2 and of a narrow unsigned dtype: the flat label positions the forward picks
# the loss at and the backprop subtracts at (nn_ops._label_positions).
_labels_2d = np.array([[0, 4, 2], [3, 1, 4]], dtype=np.uint8)


def _np_sparse_xent_nd(logits, labels):
    log_probs = np.log(np_softmax(logits))
    return -np.take_along_axis(log_probs, labels[..., None].astype(np.intp), -1)[..., 0]


CASES += [
    case("SparseSoftmaxCrossEntropyWithLogits",
         lambda lg, lb: tf.nn.sparse_softmax_cross_entropy_with_logits(lb, lg),
         _np_sparse_xent_nd, rand(2, 3, 5), _labels_2d, id="sparse_xent_rank3_uint8_labels"),
    case("SparseSoftmaxCrossEntropyBackprop",
         lambda dy, logits: nn_ops.SparseSoftmaxCrossEntropyBackprop(
             dy, tf.nn.softmax(logits), tf.constant(_labels_2d)),
         lambda dy, logits: dy[..., None] * (np_softmax(logits) - np.eye(5)[_labels_2d]),
         rand(2, 3), rand(2, 3, 5), grad=False, id="sparse_xent_backprop_rank3"),
]
