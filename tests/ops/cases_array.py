"""Op cases for numpyflow.ops.array_ops."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, rand

x = rand(2, 3, 4)

CASES = [
    case("Reshape", lambda t: tf.reshape(t, (4, -1)), lambda t: t.reshape(4, -1), x),
    case("BroadcastTo", lambda t: tf.broadcast_to(t, (3, 2, 4)),
         lambda t: np.broadcast_to(t, (3, 2, 4)), rand(2, 1)),
    case("Identity", tf.identity, lambda t: t, x),
    case("StopGradient", tf.stop_gradient, lambda t: t, x, grad=False),
    case("SelectV2", lambda c, a, b: tf.where(c, a, b), np.where, x > 0, x, rand(3, 4)),
    case("StridedSlice", lambda t: t[1:, ::2, -1], lambda t: t[1:, ::2, -1], x),
    case("StridedSlice", lambda t: t[..., tf.newaxis, 0], lambda t: t[..., None, 0], x,
         id="slice_ellipsis_newaxis"),
    case("StridedSlice", lambda t: t[[0, 0, 1]], lambda t: t[[0, 0, 1]], x,
         id="slice_repeated_fancy_index"),
    case("StridedSliceGrad", lambda t: _slice_grad_of(t), lambda t: _np_slice_grad(t), rand(2, 4),
         id="slice_grad_is_differentiable"),
]


def _slice_grad_of(dy):
    """Runs StridedSliceGrad through a nested tape: d/dx sum(x[1:] * dy)."""
    base = tf.constant(np.zeros((3, 4)))
    with tf.GradientTape() as tape:
        tape.watch(base)
        y = base[1:]
    return tape.gradient(y, base, output_gradients=dy)


def _np_slice_grad(dy):
    out = np.zeros((3, 4))
    out[1:] = dy
    return out
