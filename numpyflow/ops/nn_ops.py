"""Neural-network ops: activations, softmax, bias_add, cross-entropies — with gradients."""

from numpyflow.backend import xp
from numpyflow.framework import plan, tape as _tape
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import array_ops, indexing_ops, math_ops, random_ops, reduce_ops
from numpyflow.ops._convert import axis_tuple, require_float, tensor, tensor_pair
from numpyflow.backend.quiet import quiet


def _recording():
    """True when some tape would record the ops a gradient rule runs (nested tapes).

    Gradient rules with a fast NumPy shortcut take it only when nothing records them, so
    that higher derivatives stay exact.
    """
    return _tape.is_recording()


# -- relu -------------------------------------------------------------------------------

def _relu_forward(x):
    return xp.maximum(x, 0, dtype=x.dtype)


# ReluGrad(dy, y) = dy where y > 0: linear in dy, so its own gradient is ReluGrad again.
ReluGrad = Primitive("ReluGrad", quiet(lambda dy, y: dy * (y > 0)),
                     lambda node, ddy: (ReluGrad(ddy, node.inputs[1]), None))
Relu = Primitive("Relu", _relu_forward, lambda node, dy: (ReluGrad(dy, node.output),))


def _relu_grad_into(dy, y, out=None):
    """ReluGrad's forward, written into `out` when given."""
    return xp.multiply(dy, y > 0, out=out)


def _floats_in(equation):
    """Whether every input of `equation` is known to be a float array when its plan runs."""
    return all(dtype is not None and dtype.kind == "f"
               for dtype in (plan.traced_shape_and_dtype(atom)[1] for atom in equation.inputs))


# In a plan, on floats: the ufunc itself (a Python int 0 keeps the array's float dtype, as
# `dtype=x.dtype` does), and both write into an input that dies with them, as
# `np.maximum(h, 0, out=h)` in NumPy code: no new array, memory still in the cache.
plan.register_plan_kernel(Relu, lambda equation: plan.PlanKernel(
    xp.maximum, literals=(0,), elementwise=True) if _floats_in(equation) else None)
plan.register_plan_kernel(ReluGrad, lambda equation: plan.PlanKernel(
    _relu_grad_into, elementwise=True) if _floats_in(equation) else None)


def relu(features, name=None):
    """max(features, 0) element-wise (gradient 0 at 0, as TF).

    >>> relu([-1., 2.]).numpy()
    array([0., 2.], dtype=float32)
    """
    return Relu(tensor(features))


# -- softmax ----------------------------------------------------------------------------

# Reductions call the ufuncs' `reduce` directly: xp.max/xp.sum add ~2 µs of argument
# handling each, which is most of the cost at the batch sizes of a training step.
def _softmax_parts(x, axis, keep_shifted=True):
    """(x - max(x), exp(x - max(x)), their sum) along `axis`: the one computation of
    Softmax and of the sparse cross-entropy's probabilities, so that the two agree bit
    for bit (a compiled plan reads the cross-entropy's as the softmax: see
    `plan.register_saved_result` below). Without `keep_shifted`, the exponentials are
    written over the shifted logits, and None stands for those."""
    if x.size >= ARGMAX_MAXIMA_MIN_ROWS * x.shape[axis] > 0 and axis == x.ndim - 1:
        shifted = x - _last_axis_maxima(x)
    else:
        shifted = x - xp.maximum.reduce(x, axis=axis, keepdims=True)
    if keep_shifted:
        exponentials = xp.exp(shifted)
    else:
        exponentials, shifted = xp.exp(shifted, out=shifted), None
    return shifted, exponentials, xp.add.reduce(exponentials, axis=axis, keepdims=True)


# From this many rows on, a C-ordered array's maxima along its last axis are read at their
# argmax: NumPy's `maximum.reduce` runs a short last axis as one tiny loop per row, and
# argmax has a fast path. Measured (float32, 10 classes, CPU time, the whole softmax):
# 320 rows 20.3 vs 29.0 us; the maxima alone at 64 rows 2.7 vs 3.8 us, 128 rows 3.3 vs
# 6.6. At 32 rows the two are even; on fewer, argmax's extra calls cost more (1 row: 2.1
# vs 1.1 us). 1000 classes: even.
ARGMAX_MAXIMA_MIN_ROWS = 64


def _last_axis_maxima(x):
    """max(x) along its last axis, kept (a NaN wins, as in `maximum.reduce`), read at the
    argmax: the first NaN's position, else the first maximum's. The same value as the
    reduction, up to the sign of a zero maximum, which no result shows (x - 0 and x - (-0)
    differ only at x = -0, and exp(+-0) = 1)."""
    columns = x.shape[-1]
    positions = x.argmax(axis=-1).reshape(-1)
    positions += xp.arange(0, x.size, columns)  # Each row's start in the flat array.
    return x.reshape(-1)[positions].reshape(x.shape[:-1] + (1,))


def _softmax_forward(x, axis):
    _, e, totals = _softmax_parts(x, axis, keep_shifted=False)
    e /= totals
    return e


def _softmax_grad(node, dy):
    y, axis = node.output, node.attrs["axis"]
    return (y * (dy - reduce_ops.reduce_sum(dy * y, axis=axis, keepdims=True)),)


def _log_softmax_forward(x, axis):
    shifted = x - xp.maximum.reduce(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.add.reduce(xp.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_grad(node, dy):
    axis = node.attrs["axis"]
    return (dy - math_ops.exp(node.output) * reduce_ops.reduce_sum(dy, axis=axis, keepdims=True),)


Softmax = Primitive("Softmax", quiet(_softmax_forward), _softmax_grad)
LogSoftmax = Primitive("LogSoftmax", quiet(_log_softmax_forward), _log_softmax_grad)


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
BiasAdd = Primitive("BiasAdd", xp.add, lambda node, dy: (dy, dy), explain=_bias_add_explain)


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
    # Read as unsigned, a negative label is huge: one comparison checks both ends. (The
    # ufunc's reduce: ndarray.max's Python wrapper costs ~0.3 us of a training step's ~2.5.)
    unsigned = labels.view(f"u{labels.itemsize}") if labels.dtype.kind == "i" else labels
    if labels.size and xp.maximum.reduce(unsigned, axis=None) >= num_classes:
        bad = labels[(labels < 0) | (labels >= num_classes)].ravel()[0]
        raise ValueError(f"Received a label value of {bad} which is outside the valid range of "
                         f"[0, {num_classes}).  Label values: "
                         f"{' '.join(str(v) for v in labels.ravel()[:20])}")
    # loss = log(sum(exp(shifted))) - shifted[label], with shifted = logits - max(logits):
    # stable, and the exponentials give the probabilities the gradient needs (saved; they
    # are Softmax(logits) exactly, which a compiled plan reuses).
    shifted, probabilities, totals = _softmax_parts(logits, logits.ndim - 1)
    loss = xp.log(totals[..., 0])
    picked = shifted.reshape(-1)[_label_positions(labels, num_classes)]
    loss -= picked if labels.ndim == 1 else picked.reshape(labels.shape)
    probabilities /= totals
    return loss, probabilities


def _label_positions(labels, num_classes):
    """Each example's label's position in its C-ordered (..., num_classes) array, flattened.

    Indexing the flat array with these is ~30% faster at training batch sizes than a
    (rows, labels) index, itself several times faster than take_along_axis.
    """
    if num_classes == 0:  # No label is valid (the forward refuses them); arange needs a step.
        return xp.zeros(labels.size, xp.intp)
    positions = xp.arange(0, labels.size * num_classes, num_classes)
    # Labels were checked to lie in [0, num_classes): any integer dtype adds safely.
    return xp.add(positions, labels.reshape(-1), out=positions, casting="unsafe")


def _sparse_xent_backprop(dy, probabilities, labels):
    """dy * (softmax - one_hot(labels)), from the probabilities the forward saved."""
    # C order, whatever the logits' layout: so that the flat reshape is a view to write into.
    backprop = xp.multiply(probabilities, dy[..., None], order="C")
    flat = backprop.reshape(-1)
    flat[_label_positions(labels, probabilities.shape[-1])] -= dy.reshape(-1)
    return backprop


# The fused gradient of the loss below, taken when no tape records the gradient itself.
# Its inputs are the forward's saved probabilities (a traced plan reuses them too).
SparseSoftmaxCrossEntropyBackprop = Primitive("SparseSoftmaxCrossEntropyBackprop",
                                              quiet(_sparse_xent_backprop))


def _sparse_xent_grad(node, dy):
    logits, labels = node.inputs
    if not _recording():
        return SparseSoftmaxCrossEntropyBackprop(dy, Tensor(node.saved), labels), None
    # Differentiable form, for higher derivatives.
    one_hot = indexing_ops.one_hot(labels, logits._value.shape[-1], dtype=logits.dtype)
    return (array_ops.reshape(dy, dy._value.shape + (1,)) * (softmax(logits) - one_hot), None)


def _xent_explain(arrays, attrs, error):
    logits, labels = arrays
    if str(error).startswith("Received a label value"):
        return str(error)
    return (f"logits and labels must have the same first dimensions; received logits shape "
            f"{list(logits.shape)} and labels shape {list(labels.shape)}: {error}")


SparseSoftmaxCrossEntropyWithLogits = Primitive(
    "SparseSoftmaxCrossEntropyWithLogits", quiet(_sparse_xent_forward), _sparse_xent_grad,
    saves=True, explain=_xent_explain)

# Its saved probabilities are Softmax over the logits' last axis, bit for bit (both come from
# `_softmax_parts`). A Keras model with a softmax output computes both each training step —
# the loss from the logits, the accuracy from the output — so a plan reads these instead of
# computing the softmax a second time.
plan.register_saved_result(SparseSoftmaxCrossEntropyWithLogits, Softmax,
                           lambda rank: {"axis": rank - 1})


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


# -- dense-label cross-entropy ----------------------------------------------------------

def _xent_forward(logits, labels, axis):
    log_probs = _log_softmax_forward(logits, axis)
    return -xp.sum(labels * log_probs, axis=axis), log_probs


def _xent_grad(node, dy):
    # d loss / d logits = softmax * sum(labels) - labels: the exact gradient, which is TF's
    # `softmax - labels` whenever each row of labels sums to 1 (a distribution).
    logits, labels = node.inputs
    axis = node.attrs["axis"]
    kept_shape = list(dy._value.shape)
    kept_shape.insert(axis, 1)
    dy_kept = array_ops.reshape(dy, kept_shape)
    if not _recording():
        log_probs = Tensor(node.saved)
        return (SoftmaxCrossEntropyBackprop(dy_kept, log_probs, labels, axis=axis)
                if node.needs[0] else None,
                -dy_kept * log_probs if node.needs[1] else None)
    log_probs = log_softmax(logits, axis=axis)
    dlogits = dlabels = None
    if node.needs[0]:
        total = reduce_ops.reduce_sum(labels, axis=axis, keepdims=True)
        dlogits = dy_kept * (math_ops.exp(log_probs) * total - labels)
    if node.needs[1]:
        dlabels = -dy_kept * log_probs
    return dlogits, dlabels


def _dense_xent_explain(arrays, attrs, error):
    logits, labels = arrays
    return (f"logits and labels must be broadcastable: logits_size={list(logits.shape)} "
            f"labels_size={list(labels.shape)}")


def _xent_backprop(dy_kept, log_probs, labels, axis):
    return dy_kept * (xp.exp(log_probs) * labels.sum(axis, keepdims=True) - labels)


# The fused d loss / d logits, taken when no tape records the gradient itself.
SoftmaxCrossEntropyBackprop = Primitive("SoftmaxCrossEntropyBackprop", quiet(_xent_backprop))

SoftmaxCrossEntropyWithLogits = Primitive(
    "SoftmaxCrossEntropyWithLogits", quiet(_xent_forward), _xent_grad, saves=True,
    explain=_dense_xent_explain)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Cross-entropy between `labels` (a probability distribution per example, e.g. one-hot)
    and the softmax of `logits`, along `axis`.

    Gradients flow to both logits and labels, as in TF.

    Args:
      labels: Float tensor broadcastable to `logits`; each slice along `axis` should be a
        valid probability distribution.
      logits: Float tensor of unnormalized log-probabilities.
      axis: The class axis (last by default).

    Returns:
      The per-example loss: `logits`' shape without `axis`.

    >>> float(softmax_cross_entropy_with_logits([[0.5, 0.5]], [[0., 0.]])[0])  # log 2
    0.6931471824645996
    """
    logits, labels = tensor_pair(logits, labels, "SoftmaxCrossEntropyWithLogits")
    require_float(logits, "SoftmaxCrossEntropyWithLogits")
    ndim = logits._value.ndim
    if ndim == 0 or not -ndim <= axis < ndim:
        raise invalid_argument("SoftmaxCrossEntropyWithLogits",
                               f"axis {axis} is out of range for logits of shape "
                               f"{list(logits._value.shape)} (logits must have rank >= 1)")
    return SoftmaxCrossEntropyWithLogits(logits, labels, axis=axis % ndim)


# -- dropout ----------------------------------------------------------------------------

def _noise_shape(noise_shape, shape):
    """TF's noise_shape: None means the input's shape; None entries take the input's size."""
    if noise_shape is None:
        return shape
    if isinstance(noise_shape, Tensor):
        noise_shape = noise_shape._value.tolist()
    dims = list(noise_shape)
    if len(dims) == len(shape):
        dims = [size if d is None else d for d, size in zip(dims, shape)]
    return tuple(int(d) for d in dims)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes each element with probability `rate` and scales the rest by 1 / (1 - rate).

    The mask is drawn from numpyflow's random streams, so `tf.random.set_seed` (and the op
    `seed`) make it reproducible, as in TF. It is a constant multiplier: the gradient with
    respect to `x` is the same mask.

    Args:
      x: A floating-point tensor.
      rate: Probability of dropping each element, in [0, 1).
      noise_shape: Shape of the keep/drop mask, broadcast against `x` (e.g.
        [batch, 1, 1, channels] drops whole channels). Defaults to `x`'s shape.
      seed: Optional op seed.

    Raises:
      ValueError: If `x` is not floating point or `rate` is outside [0, 1).

    >>> y = dropout(np.ones(1000, np.float32), rate=0.5, seed=1)
    >>> sorted(set(y.numpy().tolist()))  # dropped, or kept and scaled by 1 / (1 - 0.5)
    [0.0, 2.0]
    """
    x = tensor(x)
    if isinstance(rate, Tensor):
        rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). "
                         f"Received: rate={rate}")
    if x._value.dtype.kind != "f":
        raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. "
                         f"Received: x with dtype {x.dtype.name}")
    if rate == 0:
        return x
    mask = DropoutMask(shape=_noise_shape(noise_shape, x._value.shape), dtype=x._value.dtype,
                       rate=float(rate), seed=seed)
    return math_ops.multiply(x, mask)


def _dropout_mask_forward(shape, dtype, rate, seed):
    uniform = random_ops.stateless_seed_stream(seed).random(
        shape, dtype=xp.float32 if dtype == xp.float32 else xp.float64)
    return xp.where(uniform >= rate, 1 / (1 - rate), 0.).astype(dtype, copy=False)


# A primitive without inputs: the mask is drawn when it runs, so a compiled plan
# (`tf.function`) draws a fresh one on every call, from the same seeded streams. Like the
# other samplers, it cannot fail once its shape has been drawn.
DropoutMask = Primitive("DropoutMask", _dropout_mask_forward, stateful=True, infallible=True)


# -- moments, l2_loss -------------------------------------------------------------------

def moments(x, axes, shift=None, keepdims=False, name=None):
    """Mean and variance of `x` over `axes` (composed from reductions).

    As TF, float16 inputs are reduced in float32, and no gradient flows through the mean
    inside the variance (it would be zero anyway). `shift` is accepted and unused, as in TF 2.

    Returns:
      (mean, variance), with `axes` removed unless `keepdims`.

    >>> mean, variance = moments([1., 2., 3., 4.], axes=[0])
    >>> float(mean), float(variance)
    (2.5, 1.25)
    """
    x = tensor(x)
    y = math_ops.cast(x, "float32") if x._value.dtype == xp.float16 else x
    mean = reduce_ops.reduce_mean(y, axis=axes, keepdims=True)
    variance = reduce_ops.reduce_mean(
        math_ops.square(y - array_ops.stop_gradient(mean)), axis=axes, keepdims=True)
    if not keepdims:
        reduced_shape = _without_axes(y._value.shape, axes)
        mean = array_ops.reshape(mean, reduced_shape)
        variance = array_ops.reshape(variance, reduced_shape)
    if x._value.dtype == xp.float16:
        mean, variance = math_ops.cast(mean, "float16"), math_ops.cast(variance, "float16")
    return mean, variance


def _without_axes(shape, axes):
    dropped = set(axis_tuple(axes, len(shape), "Mean"))
    return tuple(d for i, d in enumerate(shape) if i not in dropped)


def _l2_loss_forward(x):
    flat = x.reshape(-1)
    return xp.asarray(xp.dot(flat, flat) * 0.5, dtype=x.dtype)


L2Loss = Primitive("L2Loss", quiet(_l2_loss_forward), lambda node, dy: (dy * node.inputs[0],))


def l2_loss(t, name=None):
    """sum(t ** 2) / 2, a scalar (commonly used for weight decay).

    >>> float(l2_loss([1., 2.]))
    2.5
    """
    t = tensor(t)
    require_float(t, "L2Loss")
    return L2Loss(t)
