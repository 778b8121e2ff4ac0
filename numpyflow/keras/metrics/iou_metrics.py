"""Intersection-over-union metrics for segmentation: `IoU`, `MeanIoU`, `BinaryIoU`, one-hot.

They accumulate a `(num_classes, num_classes)` confusion matrix (rows: true class,
columns: predicted class) over every pixel seen; the IoU of a class is
TP / (TP + FP + FN), and the result is the mean over the target classes that appeared.

    >>> import numpyflow as tf
    >>> miou = tf.keras.metrics.MeanIoU(num_classes=2)
    >>> miou.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(float(miou.result()), 4)  # (1/3 + 1/3) / 2
    0.3333
"""

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.metrics.metric import Metric


class _IoUBase(Metric):
    """Accumulates the confusion matrix of class ids (sparse, or the argmax of one-hot)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int64")
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"Argument `num_classes` must be a positive integer. Received: "
                             f"num_classes={num_classes!r}")
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_weight(name="total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) class pairs to the confusion matrix.

        Pixels whose true or predicted class is out of `[0, num_classes)`, or whose true
        class is `ignore_class`, are left out.

        Args:
          y_true: Class ids (one-hot along `axis` when `sparse_y_true=False`).
          y_pred: Class ids (scores along `axis` when `sparse_y_pred=False`).
          sample_weight: Optional weights, broadcastable to the class ids; cast to the
            metric's dtype (integers by default, as in Keras).
        """
        if not self.sparse_y_true:
            y_true = tf.argmax(tf.convert_to_tensor(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = tf.argmax(tf.convert_to_tensor(y_pred), axis=self.axis)
        y_true = tf.reshape(tf.cast(tf.convert_to_tensor(y_true), self.dtype), (-1,))
        y_pred = tf.reshape(tf.cast(tf.convert_to_tensor(y_pred), self.dtype), (-1,))
        if y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(f"{type(self).__name__}: y_true and y_pred must hold as many "
                             f"class ids. Received: {y_true.shape[0]} and {y_pred.shape[0]}.")
        if sample_weight is None:
            weights = tf.ones_like(y_true)
        else:
            weights = tf.cast(tf.convert_to_tensor(sample_weight), self.dtype)
            if weights.ndim > 1:
                weights = tf.reshape(weights, (-1,))
            weights = tf.broadcast_to(weights, tuple(y_true.shape))
        num_classes = self.num_classes
        valid = tf.logical_and(tf.logical_and(y_true >= 0, y_true < num_classes),
                               tf.logical_and(y_pred >= 0, y_pred < num_classes))
        if self.ignore_class is not None:
            valid = tf.logical_and(valid, tf.not_equal(y_true, self.ignore_class))
        # One-hot rows (all zero where not valid), then true^T @ (weight * predicted).
        work = tf.float64 if self.dtype.is_integer else self.dtype
        classes = tf.constant(np.arange(num_classes), self.dtype)
        true_onehot = tf.cast(tf.logical_and(tf.equal(y_true[:, None], classes),
                                             valid[:, None]), work)
        pred_onehot = tf.cast(tf.equal(y_pred[:, None], classes), work)
        weighted = pred_onehot * tf.cast(weights, work)[:, None]
        batch_cm = tf.matmul(true_onehot, weighted, transpose_a=True)
        if self.dtype.is_integer:
            batch_cm = tf.round(batch_cm)
        self.total_cm.assign_add(tf.cast(batch_cm, self.dtype))


class IoU(_IoUBase):
    """The mean IoU over `target_class_ids` (the IoU of one class when given one).

    Args:
      num_classes: The number of classes.
      target_class_ids: The class ids to average over.
      name, dtype: As for every metric (the state is int64 by default, as in Keras).
      ignore_class: A class id (e.g. a "void" 255 or -1) left out of the counts.
      sparse_y_true: Labels are class ids; False: one-hot along `axis`.
      sparse_y_pred: Predictions are class ids; False: scores along `axis` (argmax).
      axis: The class axis of one-hot labels and scores.

    >>> import numpyflow as tf
    >>> m = tf.keras.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> round(float(m([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[3, 2, 2, 1])), 4)
    0.4286
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        target_class_ids = list(target_class_ids)
        if not target_class_ids or max(target_class_ids) >= num_classes \
                or min(target_class_ids) < 0:
            raise ValueError(f"Target class ids {target_class_ids} are out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = [int(i) for i in target_class_ids]

    def result(self):
        """The mean IoU of the target classes that appeared (in labels or predictions)."""
        cm = tf.cast(self.total_cm, tf.float32)
        true_positives = tf.reduce_sum(cm * tf.constant(np.eye(self.num_classes), tf.float32),
                                       axis=-1)
        union = tf.reduce_sum(cm, axis=0) + tf.reduce_sum(cm, axis=1) - true_positives
        targets = tf.constant(np.array(self.target_class_ids, np.int32))
        true_positives = tf.gather(true_positives, targets)
        union = tf.gather(union, targets)
        appeared = union > 1e-9
        iou = tf.where(appeared, true_positives / (union + backend.epsilon()),
                       tf.zeros_like(union))
        count = tf.reduce_sum(tf.cast(appeared, tf.float32))
        return tf.reduce_sum(iou, axis=self.axis) / (count + backend.epsilon())

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary predictions: a prediction `>= threshold` is class 1, else class 0.

    Args:
      target_class_ids: (0, 1) by default: the mean of both classes' IoU.
      threshold: The cut between class 0 and class 1.
      name, dtype: As for every metric.

    >>> import numpyflow as tf
    >>> m = tf.keras.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> round(float(m([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.cast(tf.convert_to_tensor(y_pred), tf.float32)
        super().update_state(y_true, tf.cast(y_pred >= self.threshold, self.dtype),
                             sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype.name}


class MeanIoU(IoU):
    """The mean IoU over all `num_classes` classes (those that appeared), for segmentation.

    Args:
      num_classes: The number of classes.
      name, dtype: As for every metric (name "mean_io_u", as Keras names it).
      ignore_class: A class id left out of the counts (e.g. 255 for "void").
      sparse_y_true: Labels are class ids; False: one-hot along `axis`.
      sparse_y_pred: Predictions are class ids; False: scores along `axis` (as a softmax
        segmentation head gives).
      axis: The class axis.

    >>> import numpyflow as tf
    >>> model_output = [[[0.9, 0.1], [0.2, 0.8]]]            # (batch, pixels, classes)
    >>> m = tf.keras.metrics.MeanIoU(num_classes=2, sparse_y_pred=False)
    >>> round(float(m([[0, 1]], model_output)), 4)
    1.0
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype.name,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """`IoU` for one-hot labels and score predictions (argmax along `axis` for both).

    >>> import numpyflow as tf
    >>> m = tf.keras.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> round(float(m([[0, 0, 1], [1, 0, 0]], [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])), 4)
    1.0
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype.name, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels and score predictions (argmax along `axis` for both)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype.name,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
