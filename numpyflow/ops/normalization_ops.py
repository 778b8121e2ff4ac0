"""Normalization ops: `tf.nn.batch_normalization`.

It is composed from existing primitives, as in TF (where it is Python over math ops): the
gradient then follows from theirs, including the gradient through batch statistics when
`mean` and `variance` come from `tf.nn.moments` of the same input.
"""

from numpyflow.ops import math_ops
from numpyflow.ops._convert import tensor


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """Normalizes `x` by `mean` and `variance`, then scales by `scale` and shifts by `offset`.

    Computes `scale * (x - mean) / sqrt(variance + variance_epsilon) + offset`, where
    `mean`, `variance`, `offset` and `scale` broadcast against `x` (for example shape
    (channels,) for channels-last `x`, or the `keepdims=True` output of `tf.nn.moments`).

    Args:
      x: A floating-point tensor.
      mean: The mean to subtract.
      variance: The variance to divide by (its square root, after adding the epsilon).
      offset: The offset added after normalizing (`beta`), or None.
      scale: The factor applied after normalizing (`gamma`), or None.
      variance_epsilon: A small float added to the variance to avoid dividing by zero.
      name: Unused; kept for TF compatibility.

    Returns:
      The normalized tensor, of `x`'s shape and dtype.

    >>> import numpyflow as tf
    >>> x = tf.constant([[1., 2.], [3., 6.]])
    >>> mean, variance = tf.nn.moments(x, axes=[0])
    >>> tf.nn.batch_normalization(x, mean, variance, None, None, 0.).numpy()
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    """
    x, mean, variance = tensor(x), tensor(mean), tensor(variance)
    # x * inv + (offset - mean * inv): the large tensor `x` sees one multiply and one add;
    # everything else is computed at the (small) size of the statistics.
    inv = math_ops.rsqrt(math_ops.add(variance, variance_epsilon))
    if scale is not None:
        inv = math_ops.multiply(inv, scale)
    shift = math_ops.negative(math_ops.multiply(mean, inv))
    if offset is not None:
        shift = math_ops.add(shift, offset)
    return math_ops.add(math_ops.multiply(x, inv), shift)
