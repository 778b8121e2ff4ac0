"""`keras.losses`: loss functions, the `Loss` classes wrapping them, and name lookup.

A loss *function* such as `sparse_categorical_crossentropy(y_true, y_pred)` returns one
value per sample. A `Loss` *object* calls it and reduces the values to a scalar (by
default their mean), optionally weighting each sample first.

Cross-entropies given the output of a `softmax` / `sigmoid` activation compute the loss
from the logits behind it (see `keras.activations.logits_from_softmax`): numerically
stable, and one fused op on the training hot path. Other probabilities are clipped to
[epsilon, 1 - epsilon] before taking logs, as Keras does.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(loss([0, 1], [[2., 0.], [0., 2.]])), 4)
    0.1269
"""

import warnings

import numpy as np

import numpyflow as tf
from numpyflow.keras import activations, backend
from numpyflow.keras.utils.serialization import (
    config_with_function, deserialize_from_tables, function_config,
    serialize_object_or_function, uninterpretable_error)


class Reduction:
    """How a `Loss` turns per-sample losses into its result (Keras 2's `ReductionV2`).

    `AUTO` means `SUM_OVER_BATCH_SIZE`. Keras 3 adds `"mean_with_sample_weight"`, which
    divides by the sum of the sample weights instead of the number of losses.
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        if key not in _REDUCTIONS:
            raise ValueError(f"Invalid Reduction Key: {key!r}. Expected one of "
                             f"{sorted(r for r in _REDUCTIONS if r)} or None.")


_REDUCTIONS = ("auto", "none", None, "sum", "sum_over_batch_size", "mean",
               "mean_with_sample_weight")


# -- shared helpers ------------------------------------------------------------------------

def _prediction_tensor(y_pred):
    """`y_pred` as a float Tensor: arrays and lists become `floatx()`; float Tensors stay."""
    if isinstance(y_pred, tf.Tensor):
        return y_pred if y_pred.dtype.is_floating else tf.cast(y_pred, backend.floatx())
    return tf.convert_to_tensor(y_pred, dtype=backend.floatx())


def _target_like(y_true, y_pred):
    """`y_true` as a Tensor of `y_pred`'s dtype (Keras casts targets to the prediction's)."""
    return tf.cast(tf.convert_to_tensor(y_true), y_pred.dtype)


def _expand_last(x):
    return tf.expand_dims(x, -1)


def _drop_last(x):
    return tf.squeeze(x, axis=-1)


def align_ranks(y_true, y_pred):
    """Makes ranks that differ by one agree, as Keras 3 does before element-wise losses.

    A trailing axis of size 1 is dropped from the higher-rank tensor, except that a 1-D
    tensor is instead given one, so that targets of shape (N,) and predictions of shape
    (N, 1) give N per-sample values rather than broadcasting to (N, N).
    """
    true_rank, pred_rank = y_true.ndim, y_pred.ndim
    if pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        if true_rank == 1:
            y_true = _expand_last(y_true)
        else:
            y_pred = _drop_last(y_pred)
    elif true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        if pred_rank == 1:
            y_pred = _expand_last(y_pred)
        else:
            y_true = _drop_last(y_true)
    return y_true, y_pred


def check_compatible(y_true, y_pred, what="y_true", other="y_pred"):
    """Raises a ValueError naming both shapes when they cannot broadcast together."""
    try:
        np.broadcast_shapes(tuple(y_true.shape), tuple(y_pred.shape))
    except ValueError:
        raise ValueError(f"`{what}` and `{other}` must have compatible shapes (the same batch "
                         f"size); received {what}.shape={tuple(y_true.shape)} and "
                         f"{other}.shape={tuple(y_pred.shape)}.") from None


def class_index_labels(y_true, y_pred, who, hint=""):
    """`y_true` as one class index per sample, shape `y_pred.shape[:-1]`.

    A trailing axis of size 1 is dropped; other shapes raise a ValueError naming `who`,
    followed by `hint`. The dtype is kept (metrics compare float labels as floats).
    """
    labels = tf.convert_to_tensor(y_true)
    pred_shape = tuple(y_pred.shape)
    given_shape = label_shape = tuple(labels.shape)
    if len(label_shape) == len(pred_shape) and label_shape[-1:] == (1,):
        labels = _drop_last(labels)
        label_shape = label_shape[:-1]
    if label_shape != pred_shape[:-1]:
        raise ValueError(f"{who} expects `y_true` to hold one class index per sample, shape "
                         f"{pred_shape[:-1]} for y_pred.shape={pred_shape}; received "
                         f"y_true.shape={given_shape}.{hint}")
    return labels


def _elementwise_pair(y_true, y_pred):
    """Converted, rank-aligned and shape-checked (y_true, y_pred) for element-wise losses."""
    y_pred = _prediction_tensor(y_pred)
    y_true, y_pred = align_ranks(_target_like(y_true, y_pred), y_pred)
    check_compatible(y_true, y_pred)
    return y_true, y_pred


def _clip_probabilities(probabilities):
    epsilon = backend.epsilon()
    return tf.clip_by_value(probabilities, epsilon, 1. - epsilon)


def _logits_behind(output, activation, from_logits, loss_name):
    """Logits to compute the loss from, or None to compute it from probabilities.

    An output of `keras.activations.softmax` / `sigmoid` (`activation` names which one a
    loss expects; None to not look) is replaced by the logits it was computed from, as
    tf.keras does: the loss is then exact where the probabilities underflow.
    """
    if activation is not None:
        find = (activations.logits_from_softmax if activation == "softmax"
                else activations.logits_from_sigmoid)
        logits = find(output)
        if logits is not None:
            if from_logits:
                warnings.warn(f"`{loss_name}` received `from_logits=True`, but the `output` "
                              f"argument was produced by a {activation} activation and thus "
                              f"does not represent logits. Was this intended?", stacklevel=3)
            return logits
    return output if from_logits else None


def _is_last_axis(axis, rank):
    return axis == -1 or axis == rank - 1


# -- loss functions ------------------------------------------------------------------------

def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                    ignore_class=None):
    """Cross-entropy between integer class labels and predicted class scores.

    Args:
      y_true: Class indices, shape `y_pred.shape[:-1]` (or that plus a trailing 1); integer
        or integer-valued floats.
      y_pred: Probabilities (or logits if `from_logits`), shape (..., num_classes).
      from_logits: Whether `y_pred` holds logits rather than probabilities.
      axis: The class axis.

    Returns:
      The per-sample loss, shape `y_pred.shape[:-1]`.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.sparse_categorical_crossentropy([1], [[0.25, 0.75]])
    >>> round(float(loss[0]), 4)  # -log(0.75)
    0.2877
    """
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy: `ignore_class` is not "
                                  "supported yet; received ignore_class="
                                  f"{ignore_class!r}.")
    y_pred = _prediction_tensor(y_pred)
    rank = y_pred.ndim
    if rank < 1:
        raise ValueError("sparse_categorical_crossentropy expects `y_pred` of shape "
                         "(..., num_classes); received a scalar.")
    if not _is_last_axis(axis, rank):
        perm = [d for d in range(rank) if d != axis % rank] + [axis % rank]
        y_pred = tf.transpose(y_pred, perm)
    labels = class_index_labels(y_true, y_pred, "sparse_categorical_crossentropy",
                                " (One-hot labels need `categorical_crossentropy`.)")
    if not labels.dtype.is_integer:  # Integer-valued floats such as 2.0 name a class too.
        labels = tf.cast(labels, tf.int64)
    logits = _logits_behind(y_pred, "softmax", from_logits, "sparse_categorical_crossentropy")
    if logits is None:
        # log(p) are logits whose softmax is p (renormalized), as Keras computes it.
        logits = tf.math.log(_clip_probabilities(y_pred))
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or soft) labels and predicted class scores.

    Args:
      y_true: Class probabilities, the same shape as `y_pred`.
      y_pred: Probabilities (or logits if `from_logits`), shape (..., num_classes).
      from_logits: Whether `y_pred` holds logits.
      label_smoothing: In [0, 1]; mixes the labels with the uniform distribution:
        `y_true * (1 - label_smoothing) + label_smoothing / num_classes`.
      axis: The class axis.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.categorical_crossentropy([[0., 1.]], [[0.25, 0.75]])
    >>> round(float(loss[0]), 4)
    0.2877
    """
    y_pred = _prediction_tensor(y_pred)
    y_true = _target_like(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"categorical_crossentropy expects `y_true` and `y_pred` of the same "
                         f"shape; received y_true.shape={tuple(y_true.shape)} and y_pred.shape="
                         f"{tuple(y_pred.shape)}. (Integer class labels need "
                         f"`sparse_categorical_crossentropy`.)")
    if label_smoothing:
        num_classes = y_pred.shape[axis]
        y_true = y_true * (1. - label_smoothing) + label_smoothing / num_classes
    # Softmax outputs remember logits for their last axis only.
    activation = "softmax" if _is_last_axis(axis, y_pred.ndim) else None
    logits = _logits_behind(y_pred, activation, from_logits, "categorical_crossentropy")
    if logits is not None:
        return tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=logits, axis=axis)
    # Scale so that each sample's class probabilities sum to 1, then clip, as Keras does.
    probabilities = _clip_probabilities(y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True))
    return -tf.reduce_sum(y_true * tf.math.log(probabilities), axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between 0/1 labels and predicted probabilities, averaged over `axis`.

    Args:
      y_true: Labels in [0, 1], the same shape as `y_pred` (a trailing 1 may differ).
      y_pred: Probabilities (or logits if `from_logits`).
      from_logits: Whether `y_pred` holds logits.
      label_smoothing: In [0, 1]; labels become `y_true * (1 - ls) + 0.5 * ls`.
      axis: The axis averaged over.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.binary_crossentropy([[1.], [0.]], [[0.75], [0.25]])
    >>> [round(float(v), 4) for v in loss]
    [0.2877, 0.2877]
    """
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1. - label_smoothing) + 0.5 * label_smoothing
    logits = _logits_behind(y_pred, "sigmoid", from_logits, "binary_crossentropy")
    if logits is not None:
        per_element = _sigmoid_cross_entropy(y_true, logits)
    else:
        epsilon = backend.epsilon()
        p = _clip_probabilities(y_pred)
        # Keras 2 also adds epsilon inside the logs.
        per_element = -(y_true * tf.math.log(p + epsilon) +
                        (1. - y_true) * tf.math.log(1. - p + epsilon))
    return tf.reduce_mean(per_element, axis=axis)


def _sigmoid_cross_entropy(labels, logits):
    fused = getattr(tf.nn, "sigmoid_cross_entropy_with_logits", None)
    if fused is not None:
        return fused(labels=labels, logits=logits)
    # max(x, 0) - x * z + log(1 + exp(-|x|)): never overflows.
    return tf.nn.relu(logits) - logits * labels + tf.math.log1p(tf.exp(-tf.abs(logits)))


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred) ** 2) over the last axis.

    >>> import numpyflow as tf
    >>> tf.keras.losses.mean_squared_error([[0., 1.]], [[1., 1.]]).numpy()
    array([0.5], dtype=float32)
    """
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    return tf.reduce_mean(tf.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    relative = tf.abs((y_true - y_pred) / tf.maximum(tf.abs(y_true), backend.epsilon()))
    return 100. * tf.reduce_mean(relative, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + y_pred) - log(1 + y_true)) ** 2) over the last axis (inputs >= eps)."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    epsilon = backend.epsilon()
    first = tf.math.log(tf.maximum(y_pred, epsilon) + 1.)
    second = tf.math.log(tf.maximum(y_true, epsilon) + 1.)
    return tf.reduce_mean(tf.square(first - second), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for errors up to `delta`, linear beyond; averaged over the last axis."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = tf.abs(error)
    quadratic = 0.5 * tf.square(error)
    linear = delta * abs_error - 0.5 * delta ** 2
    return tf.reduce_mean(tf.where(abs_error <= delta, quadratic, linear), axis=-1)


def _signed_labels(y_true):
    """Maps 0/1 labels to -1/1 (hinge losses expect -1/1); other labels pass unchanged."""
    values = y_true.numpy()  # Labels are not differentiated: a NumPy check is fine.
    if np.all((values == 0) | (values == 1)):
        return 2. * y_true - 1.
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis; 0/1 labels become -1/1."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    return tf.reduce_mean(tf.maximum(1. - _signed_labels(y_true) * y_pred, 0.), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis; 0/1 labels become -1/1."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    margin = tf.maximum(1. - _signed_labels(y_true) * y_pred, 0.)
    return tf.reduce_mean(tf.square(margin), axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [eps, 1]."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    epsilon = backend.epsilon()
    y_true = tf.clip_by_value(y_true, epsilon, 1.)
    y_pred = tf.clip_by_value(y_pred, epsilon, 1.)
    return tf.reduce_sum(y_true * tf.math.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon)) over the last axis."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    return tf.reduce_mean(y_pred - y_true * tf.math.log(y_pred + backend.epsilon()), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """The negative cosine of the angle between `y_true` and `y_pred` along `axis`."""
    y_true, y_pred = _elementwise_pair(y_true, y_pred)
    return -tf.reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def _l2_normalize(x, axis):
    squared_norm = tf.reduce_sum(tf.square(x), axis=axis, keepdims=True)
    return x * tf.math.rsqrt(tf.maximum(squared_norm, 1e-12))


# Keras's short names for the functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
huber_loss = huber


# -- reduction -----------------------------------------------------------------------------

def _align_sample_weight(sample_weight, losses):
    """`sample_weight` as a Tensor of `losses`' dtype whose rank matches `losses`'."""
    weights = tf.cast(tf.convert_to_tensor(sample_weight), losses.dtype)
    rank_difference = weights.ndim - losses.ndim
    if rank_difference == 1 and weights.shape[-1] == 1:
        weights = _drop_last(weights)
    elif rank_difference == -1:
        weights = _expand_last(weights)  # One weight per sample for (N, T) losses.
    check_compatible(weights, losses, "sample_weight", "losses")
    return weights


def apply_mask(sample_weight, mask, dtype, reduction):
    """`sample_weight` with a Keras `mask` (of the predictions) folded in, as Keras 3 does.

    Masked-out entries weigh 0. For the mean reductions the others weigh
    `mask.size / number of unmasked entries`, so that the mean over all entries is the
    mean over the unmasked ones (0 when none is unmasked).

    >>> import numpyflow as tf
    >>> w = apply_mask(None, tf.constant([True, True, False, False]), tf.float32,
    ...                "sum_over_batch_size")
    >>> w.numpy()
    array([2., 2., 0., 0.], dtype=float32)
    """
    if mask is None:
        return sample_weight
    float_mask = tf.cast(tf.convert_to_tensor(mask), dtype)
    if reduction in ("auto", "mean", "sum_over_batch_size"):
        total = tf.constant(float(float_mask.shape.num_elements()), dtype=dtype)
        float_mask = float_mask * divide_no_nan(total, tf.reduce_sum(float_mask))
    if sample_weight is None:
        return float_mask
    sample_weight = tf.cast(tf.convert_to_tensor(sample_weight), dtype)
    rank_difference = sample_weight.ndim - float_mask.ndim
    if rank_difference == -1:
        sample_weight = _expand_last(sample_weight)  # One weight per sequence.
    elif rank_difference == 1 and sample_weight.shape[-1] == 1:
        sample_weight = _drop_last(sample_weight)
    return sample_weight * float_mask


def compute_weighted_loss(losses, sample_weight=None, reduction="sum_over_batch_size",
                          mask=None):
    """Weights the per-sample `losses` and reduces them as `reduction` says.

    `"sum_over_batch_size"` (and `"auto"`, `"mean"`) divide the weighted sum by the number
    of loss values (0 when there are none); `"mean_with_sample_weight"` by the sum of the
    weights; `"sum"` does not divide; `"none"` returns the weighted losses. A Keras `mask`
    (of the predictions) leaves masked-out values out (see `apply_mask`).
    """
    if mask is not None:
        sample_weight = apply_mask(sample_weight, mask, losses.dtype, reduction)
    weights = None
    if sample_weight is not None:
        weights = _align_sample_weight(sample_weight, losses)
        losses = losses * weights
    if reduction in ("none", None):
        return losses
    size = losses.shape.num_elements()
    if reduction == "sum" or size == 0:
        # An empty batch (a replica's share of a short last batch) gives 0, still
        # connected to the weights (their gradients are zeros, not None).
        return tf.reduce_sum(losses)
    if reduction == "mean_with_sample_weight" and weights is not None:
        total_weight = tf.reduce_sum(tf.broadcast_to(weights, tuple(losses.shape)))
        return scale_loss_for_distribution(divide_no_nan(tf.reduce_sum(losses), total_weight))
    # The weighted sum over the number of values.
    return scale_loss_for_distribution(tf.reduce_mean(losses))


def _replica_share():
    """The share of the global batch this replica's mean loss stands for under a
    `tf.distribute` strategy of several replicas (None with one replica): 1 / N, or this
    replica's samples / the global batch's when a step's batch was split unevenly."""
    from numpyflow.distribute import strategy as distribute_lib
    strategy = distribute_lib.get_strategy()
    if strategy.num_replicas_in_sync == 1:
        return None
    share = getattr(distribute_lib.get_replica_context(), "_batch_share", None)
    return share if share is not None else 1.0 / strategy.num_replicas_in_sync


def scale_loss_for_distribution(value):
    """`value / N` under a `tf.distribute` strategy of N replicas (Keras 3's rule).

    Each replica's mean loss is scaled so that the gradients the optimizer sums over the
    replicas are those of the global batch's mean. `Loss` objects (reduction
    `"sum_over_batch_size"`, `"mean"`, `"mean_with_sample_weight"`) apply it themselves,
    so a custom `train_step` calling a loss object directly gets the right gradients;
    reduction `"sum"` is not scaled (the replicas' sums add up to the global sum).
    Without a strategy (or with one replica) it returns `value` unchanged.

    >>> import numpyflow as tf
    >>> float(scale_loss_for_distribution(tf.constant(3.0)))
    3.0
    """
    share = _replica_share()
    if share is None:
        return value
    return value * tf.cast(share, value.dtype)


def unscale_loss_for_distribution(value):
    """The inverse of `scale_loss_for_distribution`: this replica's own mean loss, for the
    loss trackers. An empty replica batch's loss (0) is returned as it is."""
    share = _replica_share()
    if not share:
        return value
    return value * tf.cast(1.0 / share, value.dtype)


def divide_no_nan(numerator, denominator):
    """numerator / denominator, but 0 where the denominator is 0 (no NaN, no warning)."""
    return tf.math.divide_no_nan(numerator, denominator)


# -- Loss classes --------------------------------------------------------------------------

class Loss:
    """Base class of losses: `call` gives per-sample values, `__call__` reduces them.

    Subclasses override `call(y_true, y_pred)`.

    Args:
      reduction: How `__call__` reduces the per-sample losses: `"sum_over_batch_size"`
        (their mean; `"auto"` means the same), `"sum"`, `"none"` (or None) to keep them,
        or `"mean_with_sample_weight"` (the weighted sum over the sum of the weights).
      name: The loss's name; the snake-case class name by default.

    >>> import numpyflow as tf
    >>> class MeanCubed(tf.keras.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return tf.reduce_mean((y_pred - y_true) ** 3, axis=-1)
    >>> float(MeanCubed()([[0.], [0.]], [[1.], [2.]]))
    4.5
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced (by default mean) loss of a batch, optionally weighting each sample.

        Args:
          y_true: Targets.
          y_pred: Predictions.
          sample_weight: Optional weights: a scalar, one per sample, or one per loss value.

        Returns:
          A scalar Tensor (a Tensor of per-sample losses with reduction "none").
        """
        mask = getattr(y_pred, "_keras_mask", None)  # Keras masks leave steps out.
        if self.dtype is not None and not isinstance(y_pred, tf.Tensor):
            y_pred = tf.convert_to_tensor(y_pred, dtype=self.dtype)
        y_pred = _prediction_tensor(y_pred)
        y_true = tf.convert_to_tensor(y_true)  # Integer labels stay integers.
        losses = tf.convert_to_tensor(self.call(y_true, y_pred))
        losses_mask = getattr(losses, "_keras_mask", None)
        if losses_mask is not None:
            mask = losses_mask if mask is None else tf.logical_and(mask, losses_mask)
        return compute_weighted_loss(losses, sample_weight, self.reduction, mask)

    def call(self, y_true, y_pred):
        """The per-sample losses. Subclasses must implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"`call(y_true, y_pred)`.")

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A `Loss` made from a loss function and keyword arguments passed to it.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.LossFunctionWrapper(tf.keras.losses.huber, delta=0.5)
    >>> float(loss([[0.]], [[2.]]))
    0.875
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", None),
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:  # Subclasses choose their function themselves.
            config["fn"] = function_config(self.fn, _FUNCTIONS)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config_with_function(config, get))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between integer labels and predicted class scores.

    Args:
      from_logits: Whether predictions are logits rather than probabilities.
      ignore_class: Not supported yet (must be None).
      reduction: See `Loss`.
      name: The loss's name.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.SparseCategoricalCrossentropy()
    >>> round(float(loss([1, 0], [[0.5, 0.5], [0.5, 0.5]])), 4)  # log 2
    0.6931
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between one-hot labels and predicted class scores.

    Args:
      from_logits: Whether predictions are logits rather than probabilities.
      label_smoothing: In [0, 1]; mixes labels with the uniform distribution.
      axis: The class axis.
      reduction: See `Loss`.
      name: The loss's name.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.CategoricalCrossentropy()
    >>> round(float(loss([[0., 1.]], [[0.5, 0.5]])), 4)
    0.6931
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy between 0/1 labels and predicted probabilities.

    Args:
      from_logits: Whether predictions are logits rather than probabilities.
      label_smoothing: In [0, 1]; labels become `y * (1 - ls) + 0.5 * ls`.
      axis: The axis averaged over for each sample.
      reduction: See `Loss`.
      name: The loss's name.

    >>> import numpyflow as tf
    >>> loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    >>> round(float(loss([[1.], [0.]], [[0.], [0.]])), 4)
    0.6931
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors.

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.MeanSquaredError()([[0.], [0.]], [[1.], [3.]]))
    5.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors.

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.MeanAbsoluteError()([[0.], [0.]], [[1.], [-3.]]))
    2.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean of absolute errors relative to the targets, in percent.

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.MeanAbsolutePercentageError()([[2.]], [[1.]]))
    50.0
    """

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean of squared differences of log(1 + value).

    >>> import numpyflow as tf
    >>> round(float(tf.keras.losses.MeanSquaredLogarithmicError()([[0.]], [[1.]])), 4)
    0.4805
    """

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss: half the squared error up to `delta`, linear in the error beyond.

    Args:
      delta: Where the loss turns from quadratic to linear.

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.Huber()([[0.], [0.]], [[0.5], [3.]]))
    1.3125
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class Hinge(LossFunctionWrapper):
    """Hinge loss for -1/1 (or 0/1) labels.

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.Hinge()([[1.], [0.]], [[0.5], [0.5]]))
    1.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss for -1/1 (or 0/1) labels.

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.SquaredHinge()([[1.], [0.]], [[0.5], [0.5]]))
    1.25
    """

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence of the predictions from the targets.

    >>> import numpyflow as tf
    >>> round(float(tf.keras.losses.KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]])), 4)
    0.1438
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss: mean(y_pred - y_true * log(y_pred)).

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.Poisson()([[0.]], [[2.]]))
    2.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """The negative cosine similarity of targets and predictions (-1 when aligned).

    >>> import numpyflow as tf
    >>> float(tf.keras.losses.CosineSimilarity()([[1., 0.]], [[2., 0.]]))
    -1.0
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)


# -- lookup by name ------------------------------------------------------------------------

_FUNCTIONS = {
    fn.__name__: fn for fn in (
        sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy,
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, huber, hinge, squared_hinge, kl_divergence, poisson,
        cosine_similarity)}
_FUNCTIONS.update(mse=mse, MSE=MSE, mae=mae, MAE=MAE, mape=mape, MAPE=MAPE, msle=msle,
                  MSLE=MSLE, kld=kld, KLD=KLD, kullback_leibler_divergence=kl_divergence,
                  bce=bce, BCE=BCE, huber_loss=huber)
_CLASSES = {
    cls.__name__: cls for cls in (
        Loss, LossFunctionWrapper, SparseCategoricalCrossentropy, CategoricalCrossentropy,
        BinaryCrossentropy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError, Huber, Hinge, SquaredHinge, KLDivergence, Poisson,
        CosineSimilarity)}


def serialize(loss):
    """The Keras 3 config of a `Loss` object or a loss function.

    >>> serialize(mean_squared_error)["config"]
    'mean_squared_error'
    """
    return serialize_object_or_function(loss, Loss, _FUNCTIONS, "loss")


def deserialize(config, custom_objects=None):
    """The loss a `serialize` result (or a name) describes: a function or a `Loss`.

    >>> deserialize("mse") is mean_squared_error
    True
    """
    return deserialize_from_tables(config, _CLASSES, _FUNCTIONS, "loss", custom_objects)


def get(identifier):
    """The loss an identifier stands for.

    Args:
      identifier: None, a function or class name ("mse", "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy"), a `serialize` dict, or a callable (returned as is).

    Returns:
      A loss function, or a `Loss` instance for class names and dicts (None for None).

    >>> import numpyflow as tf
    >>> tf.keras.losses.get("mse").__name__
    'mean_squared_error'
    >>> tf.keras.losses.get("BinaryCrossentropy").name
    'binary_crossentropy'
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise uninterpretable_error("loss", identifier, "Expected a loss name such as "
                                "'sparse_categorical_crossentropy', a dict config, or a callable")
