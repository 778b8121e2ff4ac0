"""`tf.compat.v1.losses`: the v1 loss functions Estimator model_fns use.

The default reduction is TF 1's `SUM_BY_NONZERO_WEIGHTS`: the weighted sum divided by the
number of non-zero weights (the mean when `weights=1.0`).

    >>> import numpyflow as tf
    >>> loss = tf.compat.v1.losses.mean_squared_error([1., 2.], [1., 4.])
    >>> float(loss)
    2.0
"""

import numpyflow as tf


class Reduction:
    """How a v1 loss reduces the per-example losses."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weights `losses` and reduces them as `reduction` says."""
    if reduction not in Reduction.all():
        raise ValueError(f"Invalid Reduction Key: {reduction!r}; expected one of "
                         f"{sorted(set(Reduction.all()))}.")
    losses = tf.cast(tf.convert_to_tensor(losses), tf.float32)
    weights = tf.cast(tf.convert_to_tensor(weights), tf.float32)
    _check_broadcastable(weights, losses)
    weighted = losses * weights
    if reduction == Reduction.NONE:
        return weighted
    total = tf.reduce_sum(weighted)
    if reduction == Reduction.SUM:
        return total
    full_weights = weights * tf.ones_like(losses)
    if reduction == Reduction.MEAN:
        return _safe_divide(total, tf.reduce_sum(full_weights))
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return _safe_divide(total, tf.cast(tf.size(losses), tf.float32))
    nonzero = tf.reduce_sum(tf.cast(tf.not_equal(full_weights, 0.), tf.float32))
    return _safe_divide(total, nonzero)


def _check_broadcastable(weights, values):
    """TF's `assert_broadcastable`: scalar weights, or weights of the values' rank whose
    dimensions are 1 or the values' (weights never broadcast the values to a bigger shape)."""
    w_shape, v_shape = tuple(weights.shape), tuple(values.shape)
    if len(w_shape) == 0 or (len(w_shape) == len(v_shape) and all(
            w in (1, v) for w, v in zip(w_shape, v_shape))):
        return
    raise ValueError(f"weights can not be broadcast to values. values.rank={len(v_shape)}. "
                     f"weights.rank={len(w_shape)}. values.shape={v_shape}. "
                     f"weights.shape={w_shape}.")


def _safe_divide(numerator, denominator):
    return tf.math.divide_no_nan(numerator, denominator)  # 0 where the denominator is 0


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=None,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Cross-entropy of integer class `labels` and `logits` (batch, classes)."""
    labels = tf.convert_to_tensor(labels)
    if len(labels.shape) == len(logits.shape):
        labels = tf.squeeze(labels, axis=-1)
    weights = tf.convert_to_tensor(weights)
    if len(weights.shape) == len(labels.shape) + 1:  # [batch, 1] weights: squeezed, as in TF
        weights = tf.squeeze(weights, axis=-1)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int64),
                                                            logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Cross-entropy of one-hot `onehot_labels` and `logits`."""
    labels = tf.cast(tf.convert_to_tensor(onehot_labels), logits.dtype)
    if label_smoothing:
        classes = tf.cast(tf.shape(labels)[-1], labels.dtype)
        labels = labels * (1 - label_smoothing) + label_smoothing / classes
    losses = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Sigmoid cross-entropy of 0/1 `multi_class_labels` and `logits` (same shape)."""
    labels = tf.cast(tf.convert_to_tensor(multi_class_labels), logits.dtype)
    if label_smoothing:
        labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
    losses = sigmoid_cross_entropy_with_logits(labels, logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def sigmoid_cross_entropy_with_logits(labels, logits):
    """`max(x, 0) - x * z + log(1 + exp(-|x|))`, the stable form."""
    return tf.nn.relu(logits) - logits * labels + tf.math.log(1. + tf.exp(-tf.abs(logits)))


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted mean of `(predictions - labels)**2`."""
    predictions = tf.cast(tf.convert_to_tensor(predictions), tf.float32)
    labels = tf.cast(tf.convert_to_tensor(labels), tf.float32)
    return compute_weighted_loss(tf.square(predictions - labels), weights, reduction=reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted mean of `|predictions - labels|`."""
    predictions = tf.cast(tf.convert_to_tensor(predictions), tf.float32)
    labels = tf.cast(tf.convert_to_tensor(labels), tf.float32)
    return compute_weighted_loss(tf.abs(predictions - labels), weights, reduction=reduction)
