"""Neural-network ops: activations, softmax, bias_add, cross-entropies — with gradients."""

import numpy as np

from numpyflow.framework import primitive as _primitive
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, math_ops, reduce_ops
from numpyflow.ops._convert import require_float, tensor, tensor_pair


def _recording():
    """True when some tape would record the ops a gradient rule runs (nested tapes).

    Gradient rules with a fast NumPy shortcut take it only when nothing records them, so
    that higher derivatives stay exact.
    """
    return any(not tape._paused for tape in _primitive.active_tapes)


# -- relu -------------------------------------------------------------------------------

def _relu_forward(x):
    return np.maximum(x, 0, dtype=x.dtype)


# ReluGrad(dy, y) = dy where y > 0: linear in dy, so its own gradient is ReluGrad again.
ReluGrad = Primitive("ReluGrad", lambda dy, y: dy * (y > 0),
                     lambda node, ddy: (ReluGrad(ddy, node.inputs[1]), None))
Relu = Primitive("Relu", _relu_forward, lambda node, dy: (ReluGrad(dy, node.output),))


def relu(features, name=None):
    """max(features, 0) element-wise (gradient 0 at 0, as TF).

    >>> relu([-1., 2.]).numpy()
    array([0., 2.], dtype=float32)
    """
    return Relu(tensor(features))


# -- softmax ----------------------------------------------------------------------------

def _softmax_forward(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _softmax_grad(node, dy):
    y, axis = node.output, node.attrs["axis"]
    return (y * (dy - reduce_ops.reduce_sum(dy * y, axis=axis, keepdims=True)),)


def _log_softmax_forward(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_grad(node, dy):
    axis = node.attrs["axis"]
    return (dy - math_ops.exp(node.output) * reduce_ops.reduce_sum(dy, axis=axis, keepdims=True),)


Softmax = Primitive("Softmax", _softmax_forward, _softmax_grad)
LogSoftmax = Primitive("LogSoftmax", _log_softmax_forward, _log_softmax_grad)


def _softmax_like(primitive, logits, axis):
    x = tensor(logits)
    require_float(x, primitive.name)
    ndim = x._value.ndim
    if not -ndim <= axis < ndim:
        raise invalid_argument(primitive.name, f"axis {axis} is out of range for logits of "
                               f"rank {ndim} (shape {list(x._value.shape)})")
    return primitive(x, axis=axis % ndim)


def softmax(logits, axis=None, name=None):
    """exp(logits) / sum(exp(logits)) along `axis` (last by default), computed stably."""
    return _softmax_like(Softmax, logits, -1 if axis is None else axis)


def log_softmax(logits, axis=None, name=None):
    """logits - log(sum(exp(logits))) along `axis` (last by default), computed stably."""
    return _softmax_like(LogSoftmax, logits, -1 if axis is None else axis)


# -- bias_add ---------------------------------------------------------------------------

def _bias_add_explain(arrays, attrs, error):
    x, bias = arrays
    return (f"Must provide as many biases as the last dimension of the input tensor: "
            f"received bias shape {list(bias.shape)} for input shape {list(x.shape)}")


# The tape sums the bias gradient over the broadcast (batch and spatial) axes.
BiasAdd = Primitive("BiasAdd", np.add, lambda node, dy: (dy, dy), explain=_bias_add_explain)


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D `bias` along the channels axis (the last, for 'NHWC'/'N...C' formats)."""
    value, bias = tensor_pair(value, bias, "BiasAdd")
    if data_format not in (None, "NHWC", "NWC", "NDHWC", "N...C"):
        raise ValueError(f"bias_add: only channels-last data formats are supported; "
                         f"received data_format={data_format!r}.")
    if bias._value.ndim != 1 or value._value.ndim < 2 or \
            value._value.shape[-1] != bias._value.shape[0]:
        raise invalid_argument("BiasAdd", _bias_add_explain((value._value, bias._value), {}, None))
    return BiasAdd(value, bias)


# -- cross-entropy ----------------------------------------------------------------------

def _sparse_xent_forward(logits, labels):
    num_classes = logits.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)].ravel()[0]
        raise ValueError(f"Received a label value of {bad} which is outside the valid range of "
                         f"[0, {num_classes}).  Label values: "
                         f"{' '.join(str(v) for v in labels.ravel()[:20])}")
    log_probs = _log_softmax_forward(logits, -1)
    picked = np.take_along_axis(log_probs, labels[..., None].astype(np.intp), axis=-1)[..., 0]
    return -picked, log_probs


def _sparse_xent_grad(node, dy):
    logits, labels = node.inputs
    if _recording():
        probs = softmax(logits)
    else:
        probs = Tensor(np.exp(node.saved))
    one_hot = np.zeros(logits._value.shape, dtype=logits._value.dtype)
    np.put_along_axis(one_hot, labels._value[..., None].astype(np.intp), 1, axis=-1)
    return (array_ops.reshape(dy, dy._value.shape + (1,)) * (probs - Tensor(one_hot)), None)


def _xent_explain(arrays, attrs, error):
    logits, labels = arrays
    if str(error).startswith("Received a label value"):
        return str(error)
    return (f"logits and labels must have the same first dimensions; received logits shape "
            f"{list(logits.shape)} and labels shape {list(labels.shape)}: {error}")


SparseSoftmaxCrossEntropyWithLogits = Primitive(
    "SparseSoftmaxCrossEntropyWithLogits", _sparse_xent_forward, _sparse_xent_grad,
    saves=True, explain=_xent_explain)


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Per-example cross-entropy between integer class `labels` and unnormalized `logits`.

    Args:
      labels: Integer class indices of shape `logits.shape[:-1]`, each in [0, num_classes).
      logits: Float tensor of shape (..., num_classes).

    >>> float(sparse_softmax_cross_entropy_with_logits([0], [[0., 0.]])[0])  # log 2
    0.6931471824645996
    """
    logits = tensor(logits)
    require_float(logits, "SparseSoftmaxCrossEntropyWithLogits")
    labels = tensor(labels)
    if labels._value.dtype.kind not in "iu":
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits: labels must be integers; "
                        f"received dtype {labels.dtype.name}.")
    if labels._value.shape != logits._value.shape[:-1]:
        raise invalid_argument(
            "SparseSoftmaxCrossEntropyWithLogits",
            f"logits and labels must have the same first dimension, got logits shape "
            f"{list(logits._value.shape)} and labels shape {list(labels._value.shape)}")
    return SparseSoftmaxCrossEntropyWithLogits(logits, labels)
