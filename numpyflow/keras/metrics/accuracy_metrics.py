"""Accuracy metrics: the per-sample functions and their `MeanMetricWrapper` classes."""

import numpyflow as tf
from numpyflow.keras import backend, losses
from numpyflow.keras.losses import align_ranks, check_compatible, class_index_labels
from numpyflow.keras.metrics.reduction_metrics import MeanMetricWrapper, converts_its_inputs


def _matches(equal):
    return tf.cast(equal, backend.floatx())


def accuracy(y_true, y_pred):
    """1.0 where `y_pred` equals `y_true` exactly, else 0.0 (element-wise).

    >>> import numpyflow as tf
    >>> tf.keras.metrics.accuracy([1., 2.], [1., 3.]).numpy()
    array([1., 0.], dtype=float32)
    """
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    y_true, y_pred = align_ranks(y_true, tf.cast(y_pred, y_true.dtype))
    return _matches(tf.equal(y_true, y_pred))


@converts_its_inputs
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_pred > threshold` agrees with the 0/1 `y_true`, else 0.0 (element-wise).

    >>> import numpyflow as tf
    >>> tf.keras.metrics.binary_accuracy([[1.], [0.]], [[0.7], [0.7]]).numpy()
    array([[1.],
           [0.]], dtype=float32)
    """
    y_pred = losses._prediction_tensor(y_pred)
    y_true, y_pred = align_ranks(losses._target_like(y_true, y_pred), y_pred)
    predicted = tf.cast(y_pred > threshold, y_pred.dtype)
    return _matches(tf.equal(y_true, predicted))


def _class_indices_match(labels, y_pred):
    """1.0 where argmax(y_pred) equals the class index `labels` (any numeric dtype)."""
    predicted = tf.argmax(y_pred, axis=-1)
    if labels.dtype.is_integer:
        labels = tf.cast(labels, predicted.dtype)
    else:
        # Float labels are compared as floats, as Keras does (2.0 matches class 2).
        predicted = tf.cast(predicted, labels.dtype)
    return _matches(tf.equal(labels, predicted))


@converts_its_inputs
def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label `y_true`, else 0.0 (per sample).

    `y_true` may be of shape (N,) or (N, 1), integer or integer-valued float.

    >>> import numpyflow as tf
    >>> tf.keras.metrics.sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3],
    ...                                                           [0.05, 0.95, 0.]]).numpy()
    array([0., 1.], dtype=float32)
    """
    y_pred = tf.convert_to_tensor(y_pred)
    labels = class_index_labels(y_true, y_pred, "sparse_categorical_accuracy")
    return _class_indices_match(labels, y_pred)


@converts_its_inputs
def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot labels), else 0.0.

    >>> import numpyflow as tf
    >>> tf.keras.metrics.categorical_accuracy([[0., 0., 1.], [0., 1., 0.]],
    ...                                       [[0.1, 0.9, 0.], [0.05, 0.95, 0.]]).numpy()
    array([0., 1.], dtype=float32)
    """
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    check_compatible(y_true, y_pred)
    return _class_indices_match(tf.argmax(y_true, axis=-1), y_pred)


def _in_top_k(y_pred, labels, k):
    """Whether each label's score is among the `k` largest (ties count as in, like TF)."""
    num_classes = y_pred.shape[-1]
    labels = tf.cast(labels, tf.int64)
    is_label = tf.equal(tf.expand_dims(labels, -1), tf.range(num_classes, dtype=tf.int64))
    label_score = tf.reduce_sum(tf.where(is_label, y_pred, tf.zeros_like(y_pred)), axis=-1,
                                keepdims=True)
    higher = tf.reduce_sum(tf.cast(y_pred > label_score, tf.int32), axis=-1)
    return higher < k


@converts_its_inputs
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the `k` highest-scored classes, else 0.0.

    Args:
      y_true: One class index per sample.
      y_pred: Scores of every class; with `from_sorted_ids=True`, class ids sorted from the
        highest score down (shape `(batch, N)`, N >= k).
      k: How many of the highest-scored classes count.
      from_sorted_ids: Whether `y_pred` holds sorted class ids instead of scores.

    >>> import numpyflow as tf
    >>> tf.keras.metrics.sparse_top_k_categorical_accuracy(
    ...     [2, 2], [[0.1, 0.6, 0.3], [0.05, 0.95, 0.]], k=2).numpy()
    array([1., 0.], dtype=float32)
    >>> tf.keras.metrics.sparse_top_k_categorical_accuracy(
    ...     [2, 2], [[1, 2, 0], [1, 0, 2]], k=2, from_sorted_ids=True).numpy()
    array([1., 0.], dtype=float32)
    """
    y_pred = tf.convert_to_tensor(y_pred)
    if from_sorted_ids:
        labels = class_index_labels(y_true, y_pred[..., :1], "sparse_top_k_categorical_accuracy")
        labels = tf.cast(labels, y_pred.dtype)
        found = tf.equal(tf.expand_dims(labels, -1), y_pred[..., :k])
        return _matches(tf.reduce_any(found, axis=-1))
    labels = class_index_labels(y_true, y_pred, "sparse_top_k_categorical_accuracy")
    return _matches(_in_top_k(y_pred, labels, k))


@converts_its_inputs
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the `k` highest-scored, else 0.0."""
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    check_compatible(y_true, y_pred)
    return _matches(_in_top_k(y_pred, tf.argmax(y_true, axis=-1), k))

acc = ACC = accuracy


# -- metric classes ------------------------------------------------------------------------

class Accuracy(MeanMetricWrapper):
    """How often predictions equal the labels exactly.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.Accuracy()([1, 2, 3, 4], [0, 2, 3, 4]))
    0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` agrees with the 0/1 labels.

    Args:
      threshold: Predictions above it count as 1.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.BinaryAccuracy()([[1], [1], [0], [0]],
    ...                                          [[0.98], [1], [0], [0.6]]))
    0.75
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax of the one-hot labels.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.CategoricalAccuracy()([[0, 0, 1], [0, 1, 0]],
    ...                                              [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer labels.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.SparseCategoricalAccuracy()([[2], [1]],
    ...                                                    [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the `k` highest-scored.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.TopKCategoricalAccuracy(k=1)([[0, 0, 1], [0, 1, 0]],
    ...                                                     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest-scored classes.

    Args:
      k: How many of the highest-scored classes count (5 by default).
      name, dtype: As for every metric.
      from_sorted_ids: Predictions are class ids sorted by score instead of scores.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.SparseTopKCategoricalAccuracy(k=1)(
    ...     [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        # `from_sorted_ids` appears in the config only when set, as in Keras 3.
        extra = {"from_sorted_ids": True} if from_sorted_ids else {}
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         **extra)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
