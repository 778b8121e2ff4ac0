"""Normalization ops: `tf.nn.batch_normalization`, and the fused training-mode batch norm.

`batch_normalization` is composed from existing primitives, as in TF (where it is Python
over math ops): the gradient then follows from theirs, including the gradient through batch
statistics when `mean` and `variance` come from `tf.nn.moments` of the same input.

`batch_norm_training` is what `BatchNormalization` runs in training (TF's layer runs the
fused `FusedBatchNormV3` the same way). Composed, normalizing with the batch's own
statistics and its gradient through them cost ~6 whole-array passes forward and ~12
backward; as primitives with the closed-form gradient they cost ~2 and ~4, each faster
(`backend/numpy/batch_norm.py`). Its primitives, all internal (channels last: statistics
per last-axis channel, over every other axis):

  * `BatchMoments(x)`: (2, channels), the mean and biased variance (the layer updates its
    moving statistics from them).
  * `BatchNormTraining(x, gamma, beta, moments=, epsilon=)`: the normalized, scaled and
    shifted `x`. `moments` must be `BatchMoments(x)`: an attribute, not an input, because
    the output depends on `x` through them and the gradient for `x` includes that path
    (as `columns` caches a convolution input's patches for its gradient).
  * `BatchNormTrainingGradSums(dy, x, moments=, epsilon=)`: (2, channels), `sum(dy)` and
    `sum(dy * x_hat)`, the gradients of `beta` and `gamma`.
  * `BatchNormTrainingInputGrad(dy, x, gamma, sums, moments=, epsilon=)`: the gradient for
    `x`, `gamma / std * (dy - mean(dy) - x_hat * mean(dy * x_hat))`.

Under an outer recording tape (higher derivatives) the gradient is written with ordinary
differentiable ops instead, as the fused recurrences do (`rnn_ops.py`).
"""

from numpyflow.backend import batch_norm as kernels, xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework import tape as _tape
from numpyflow.framework.primitive import Primitive
from numpyflow.ops import array_ops, math_ops, reduce_ops
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


# -- fused training-mode batch normalization ----------------------------------------------------

def _rows(x):
    """`x` as a C-contiguous (rows, channels) array: a view when `x` is contiguous."""
    return xp.ascontiguousarray(x).reshape(-1, x.shape[-1])


def _inverse_std(moments, epsilon, dtype):
    return (1. / xp.sqrt(moments[1] + epsilon)).astype(dtype, copy=False)


def _moments_forward(x):
    return kernels.moments(_rows(x))


def _moments_gradient(node, dy):
    # mean = sum(x) / n and variance = sum((x - mean)^2) / n, so per channel
    # dx = d_mean / n + d_variance * 2 (x - mean) / n (the mean's own path cancels).
    x = node.inputs[0]
    count = max(1, x._value.size // x._value.shape[-1])
    d_mean, d_variance = array_ops.unstack(dy)
    mean = array_ops.unstack(node.output)[0]
    centered = math_ops.subtract(x, mean)
    return (math_ops.add(math_ops.multiply(centered, d_variance * (2. / count)),
                         d_mean / count),)


def _training_forward(x, gamma, beta, moments, epsilon):
    scale = gamma * _inverse_std(moments, epsilon, x.dtype)
    shift = beta - moments[0] * scale
    return kernels.scale_and_shift(_rows(x), scale, shift).reshape(x.shape)


def _grad_sums_forward(dy, x, moments, epsilon):
    sums = kernels.gradient_sums(_rows(dy), _rows(x), moments[0])
    sums[1] *= _inverse_std(moments, epsilon, x.dtype)
    return sums


def _input_grad_forward(dy, x, gamma, sums, moments, epsilon):
    count = x.size // x.shape[-1]
    inverse_std = _inverse_std(moments, epsilon, x.dtype)
    dy_scale = gamma * inverse_std
    # dy_scale * (dy - sum_dy / n - (x - mean) * inverse_std * sum_dy_xhat / n), as
    # dy * dy_scale + x * x_scale + shift.
    x_scale = -dy_scale * inverse_std * sums[1] / count
    shift = -dy_scale * sums[0] / count - x_scale * moments[0]
    return kernels.input_gradient(_rows(dy), _rows(x), dy_scale, x_scale,
                                  shift).reshape(x.shape)


def _composed_gradient(x, gamma, dy, epsilon):
    """The same gradient as ops (differentiable again, for an outer tape)."""
    axes = list(range(x._value.ndim - 1))
    count = max(1, x._value.size // x._value.shape[-1])
    mean = reduce_ops.reduce_mean(x, axis=axes)
    centered = math_ops.subtract(x, mean)
    variance = reduce_ops.reduce_mean(math_ops.square(centered), axis=axes)
    inverse_std = math_ops.rsqrt(math_ops.add(variance, epsilon))
    x_hat = math_ops.multiply(centered, inverse_std)
    d_beta = reduce_ops.reduce_sum(dy, axis=axes)
    d_gamma = reduce_ops.reduce_sum(math_ops.multiply(dy, x_hat), axis=axes)
    inner = math_ops.subtract(math_ops.subtract(dy, d_beta / count),
                              math_ops.multiply(x_hat, d_gamma / count))
    d_x = math_ops.multiply(inner, math_ops.multiply(gamma, inverse_std))
    return d_x, d_gamma, d_beta


def _training_gradient(node, dy):
    x, gamma, _ = node.inputs
    epsilon = node.attrs["epsilon"]
    if _tape.is_recording():
        return _composed_gradient(x, gamma, dy, epsilon)
    moments = node.attrs["moments"]
    sums = BatchNormTrainingGradSums(dy, x, moments=moments, epsilon=epsilon)
    d_beta, d_gamma = array_ops.unstack(sums)
    need_x = bool(node.needs[0]) if node.needs is not None else True
    d_x = (BatchNormTrainingInputGrad(dy, x, gamma, sums, moments=moments, epsilon=epsilon)
           if need_x else None)
    return d_x, d_gamma, d_beta


BatchMoments = Primitive("BatchMoments", quiet(_moments_forward), _moments_gradient)
BatchNormTraining = Primitive("BatchNormTraining", quiet(_training_forward),
                              _training_gradient)
BatchNormTrainingGradSums = Primitive("BatchNormTrainingGradSums", quiet(_grad_sums_forward))
BatchNormTrainingInputGrad = Primitive("BatchNormTrainingInputGrad",
                                       quiet(_input_grad_forward))


def _check_channels_last(x, gamma, beta, op):
    if x._value.ndim < 1 or x._value.dtype not in (xp.float32, xp.float64):
        raise ValueError(f"{op}: expected a float32 or float64 tensor of rank >= 1 (channels "
                         f"last). Received: shape={tuple(x.shape)}, dtype={x.dtype.name}")
    channels = x.shape[-1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value is not None and (tuple(value.shape) != (channels,)
                                  or value._value.dtype != x._value.dtype):
            raise ValueError(f"{op}: `{name}` must have shape ({channels},) and dtype "
                             f"{x.dtype.name}, one value per channel of x. Received: "
                             f"{name}.shape={tuple(value.shape)}, dtype={value.dtype.name}")


def batch_moments(x):
    """(2, channels): the mean and biased variance of each channel (last axis) of `x`,
    over all its other axes; the same numbers as `tf.nn.moments(x, axes=[0, ..., rank - 2])`.

    >>> batch_moments([[1., 10.], [3., 30.]]).numpy()
    array([[  2.,  20.],
           [  1., 100.]], dtype=float32)
    """
    x = tensor(x)
    _check_channels_last(x, None, None, "BatchMoments")
    return BatchMoments(x)


def batch_norm_training(x, gamma, beta, epsilon, moments=None):
    """Batch normalization with the batch's own statistics, as a Keras layer trains.

    Computes `gamma * (x - mean) / sqrt(variance + epsilon) + beta` per channel (last
    axis), with the mean and biased variance of `x` over all its other axes; the gradient
    flows through those statistics too, as through `tf.nn.moments` +
    `tf.nn.batch_normalization`.

    Args:
      x: A float32 or float64 tensor, channels last.
      gamma, beta: Tensors of shape (channels,) and x's dtype.
      epsilon: A small float added to the variance.
      moments: `batch_moments(x)` when the caller has it already (the layer needs it for
        its moving statistics); computed here otherwise.

    >>> x = [[1., 10.], [3., 30.]]
    >>> batch_norm_training(x, [1., 1.], [0., 0.], 0.).numpy()
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    """
    x = tensor(x)
    gamma, beta = tensor(gamma), tensor(beta)
    _check_channels_last(x, gamma, beta, "BatchNormTraining")
    if moments is None:
        moments = BatchMoments(x)
    return BatchNormTraining(x, gamma, beta, moments=moments._value, epsilon=float(epsilon))
