"""Shared pieces of the confusion-matrix metrics: thresholds, top-k filtering, counting.

Every count is computed with numpyflow ops from the batch and added to the metric's
Variables with `assign_add`, so a compiled `train_step` updates them inside its plan.
"""

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.losses import align_ranks

NEG_INF = -1e10  # The threshold that makes every kept top-k prediction count as positive.

TRUE_POSITIVES = "tp"
FALSE_POSITIVES = "fp"
TRUE_NEGATIVES = "tn"
FALSE_NEGATIVES = "fn"


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """`thresholds` (a float or a list of them, each in [0, 1]) as a list of floats.

    >>> parse_init_thresholds(None)
    [0.5]
    """
    if thresholds is None:
        return [default_threshold]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    invalid = [t for t in values if t is None or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def is_evenly_distributed_thresholds(thresholds):
    """Whether `thresholds` are i / (n - 1) for i = 0..n-1 (n >= 3), as AUC's defaults."""
    num_thresholds = len(thresholds)
    if num_thresholds < 3:
        return False
    even = np.arange(num_thresholds, dtype=np.float32) / (num_thresholds - 1)
    return bool(np.allclose(thresholds, even, atol=backend.epsilon()))


def filter_top_k(x, k):
    """`x` with all but the `k` largest values of its last axis set to `NEG_INF`.

    Ties go to the lower index, as `tf.math.top_k` picks them.
    """
    num_classes = x.shape[-1]
    later = tf.expand_dims(x, -1)    # [..., i, 1]: the value ranked
    other = tf.expand_dims(x, -2)    # [..., 1, j]: the values it is ranked against
    before = tf.constant(np.tril(np.ones((num_classes, num_classes), bool), -1))  # j < i
    beaten_by = tf.logical_or(other > later, tf.logical_and(tf.equal(other, later), before))
    rank = tf.reduce_sum(tf.cast(beaten_by, tf.int32), axis=-1)
    return tf.where(rank < k, x, tf.ones_like(x) * NEG_INF)


def _aligned_weights(sample_weight, y_true, y_pred, dtype):
    """`sample_weight` broadcast to `y_pred`'s shape, as Keras lines it up with `y_true`."""
    weights = tf.cast(tf.convert_to_tensor(sample_weight), dtype)
    if weights.ndim > 0:
        weights = tf.expand_dims(weights, -1)
        if weights.ndim == y_true.ndim + 1 and weights.shape[-1] == 1:
            weights = tf.squeeze(weights, axis=-1)
    try:
        return tf.broadcast_to(weights, tuple(y_pred.shape))
    except (ValueError, tf.errors.InvalidArgumentError) as error:
        raise ValueError(f"sample_weight of shape {tuple(weights.shape)} (after lining it up "
                         f"with y_true) does not broadcast to the predictions' shape "
                         f"{tuple(y_pred.shape)}.") from error


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None,
                                      thresholds_distributed_evenly=False):
    """Adds a batch's true/false positive/negative counts at each threshold to `variables`.

    A prediction counts as positive at a threshold when it is strictly above it. Labels
    count as positive where they are non-zero; with evenly spaced thresholds (AUC's
    default), labels weigh in with their value, as Keras's bucketed path does.

    Args:
      variables: Dict from `TRUE_POSITIVES`, `FALSE_POSITIVES`, `TRUE_NEGATIVES`,
        `FALSE_NEGATIVES` to Variables of shape `[len(thresholds)]` (or
        `[len(thresholds), num_labels]` with `multi_label`).
      y_true, y_pred: Labels and predictions (in [0, 1]) of the same shape.
      thresholds: A list of floats.
      top_k: Only the `top_k` highest predictions of each sample can be positive.
      class_id: Only count this class (the last axis's index).
      sample_weight: Optional weights broadcastable to the labels.
      multi_label: Keep the counts of each label (last axis) apart.
      label_weights: Weights of each label (single-label counting only).
      thresholds_distributed_evenly: Thresholds are i / (n - 1) (with the first and last
        moved out by epsilon): bucket predictions instead of comparing each threshold.
    """
    dtype = next(iter(variables.values())).dtype
    y_true = tf.cast(tf.convert_to_tensor(y_true), dtype)
    y_pred = tf.cast(tf.convert_to_tensor(y_pred), dtype)
    y_true, y_pred = align_ranks(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"y_true and y_pred must have the same shape. Received: "
                         f"y_true.shape={tuple(y_true.shape)}, "
                         f"y_pred.shape={tuple(y_pred.shape)}")
    weights = None
    if sample_weight is not None:
        weights = _aligned_weights(sample_weight, y_true, y_pred, dtype)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}")
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
        if weights is not None:
            weights = weights[..., class_id:class_id + 1]
    if label_weights is not None and not multi_label:
        label_weights = tf.broadcast_to(tf.cast(label_weights, dtype), tuple(y_pred.shape))
        weights = label_weights if weights is None else weights * label_weights

    num_thresholds = len(thresholds)
    if multi_label:
        # [samples, labels]: counts stay per label.
        if y_pred.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
            weights = None if weights is None else weights[:, None]
        y_true = tf.reshape(y_true, (-1, y_true.shape[-1]))
        y_pred = tf.reshape(y_pred, (-1, y_pred.shape[-1]))
        weights = None if weights is None else tf.reshape(weights, (-1, y_pred.shape[-1]))
    else:
        y_true, y_pred = tf.reshape(y_true, (-1,)), tf.reshape(y_pred, (-1,))
        weights = None if weights is None else tf.reshape(weights, (-1,))

    if thresholds_distributed_evenly:
        # The bucket of each prediction: it is above thresholds 0..bucket.
        scaled = y_pred * tf.constant(num_thresholds - 1, dtype)
        bucket = -tf.math.floor(-scaled) - 1.  # ceil(x) - 1
        if thresholds[0] < 0. or thresholds[-1] > 1.:
            # The first threshold sits below 0: every prediction in [0, 1] is above it.
            bucket = tf.nn.relu(bucket)
        steps = tf.constant(np.arange(num_thresholds).reshape(
            (-1,) + (1,) * y_pred.ndim), dtype)
        above = tf.cast(tf.expand_dims(bucket, 0) >= steps, dtype)
        positive = y_true
    else:
        cut = tf.constant(np.asarray(thresholds).reshape((-1,) + (1,) * y_pred.ndim), dtype)
        above = tf.cast(tf.expand_dims(y_pred, 0) > cut, dtype)
        positive = tf.cast(tf.not_equal(y_true, 0), dtype)
    negative = 1. - positive
    if weights is not None:
        positive, negative = positive * weights, negative * weights

    def count(labels):  # Per threshold: the weight of `labels` predicted above it.
        if multi_label:
            return tf.reduce_sum(above * tf.expand_dims(labels, 0), axis=1)
        return tf.squeeze(tf.matmul(above, tf.expand_dims(labels, -1)), axis=-1)

    axis = 0 if multi_label else None
    if TRUE_POSITIVES in variables or FALSE_NEGATIVES in variables:
        true_positives = count(positive)
        if TRUE_POSITIVES in variables:
            variables[TRUE_POSITIVES].assign_add(true_positives)
        if FALSE_NEGATIVES in variables:
            variables[FALSE_NEGATIVES].assign_add(
                tf.reduce_sum(positive, axis=axis) - true_positives)
    if FALSE_POSITIVES in variables or TRUE_NEGATIVES in variables:
        false_positives = count(negative)
        if FALSE_POSITIVES in variables:
            variables[FALSE_POSITIVES].assign_add(false_positives)
        if TRUE_NEGATIVES in variables:
            variables[TRUE_NEGATIVES].assign_add(
                tf.reduce_sum(negative, axis=axis) - false_positives)
