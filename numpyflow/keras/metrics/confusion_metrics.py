"""Metrics from confusion-matrix counts: TP/FP/TN/FN, `Precision`, `Recall`, `AUC`.

Each keeps one count per threshold in a Variable; a prediction is positive at a threshold
when it is strictly above it.

    >>> import numpyflow as tf
    >>> precision = tf.keras.metrics.Precision()
    >>> precision.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(float(precision.result()), 4)  # 2 true positives of 3 predicted positives
    0.6667
"""

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.metrics import metrics_utils
from numpyflow.keras.metrics.metric import Metric
from numpyflow.keras.metrics.metrics_utils import (
    FALSE_NEGATIVES, FALSE_POSITIVES, TRUE_NEGATIVES, TRUE_POSITIVES)


def _single_or_all(values, thresholds):
    """The one value when there is one threshold, else the vector (as Keras returns)."""
    return values[0] if len(thresholds) == 1 else tf.identity(values)


class _ConfusionMatrixCount(Metric):
    """The weighted number of one confusion-matrix cell at each threshold."""

    _cell = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds)
        self._evenly = metrics_utils.is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_weight(name="accumulator", shape=(len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's counts (`sample_weight` weighs each sample)."""
        metrics_utils.update_confusion_matrix_variables(
            {self._cell: self.accumulator}, y_true, y_pred, self.thresholds,
            sample_weight=sample_weight, thresholds_distributed_evenly=self._evenly)

    def result(self):
        return _single_or_all(self.accumulator, self.thresholds)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixCount):
    """The (weighted) number of true positives: label 1, prediction above the threshold.

    Args:
      thresholds: A float or list of floats in [0, 1] (0.5 by default); with several, the
        result has one count per threshold.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.TruePositives()([0, 1, 1, 1], [1, 0, 1, 1]))
    2.0
    """

    _cell = TRUE_POSITIVES


class FalsePositives(_ConfusionMatrixCount):
    """The (weighted) number of false positives: label 0, prediction above the threshold.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.FalsePositives()([0, 1, 0, 0], [0, 0, 1, 1]))
    2.0
    """

    _cell = FALSE_POSITIVES


class TrueNegatives(_ConfusionMatrixCount):
    """The (weighted) number of true negatives: label 0, prediction at or below the threshold.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.TrueNegatives()([0, 1, 0, 0], [1, 1, 0, 0]))
    2.0
    """

    _cell = TRUE_NEGATIVES


class FalseNegatives(_ConfusionMatrixCount):
    """The (weighted) number of false negatives: label 1, prediction at or below the threshold.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.FalseNegatives()([0, 1, 1, 1], [0, 1, 0, 0]))
    2.0
    """

    _cell = FALSE_NEGATIVES


class _PrecisionOrRecall(Metric):
    """Precision or recall at one or more thresholds, optionally of one class or the top k."""

    _other_cell = None  # False positives for precision, false negatives for recall.

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else metrics_utils.NEG_INF
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default)
        self._evenly = metrics_utils.is_evenly_distributed_thresholds(self.thresholds)
        self.true_positives = self.add_weight(name="true_positives",
                                              shape=(len(self.thresholds),))
        other_name = "false_positives" if self._other_cell == FALSE_POSITIVES \
            else "false_negatives"
        other = self.add_weight(name=other_name, shape=(len(self.thresholds),))
        setattr(self, other_name, other)
        self._other = other

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's true positives and false positives (or negatives).

        Args:
          y_true: Labels; non-zero counts as positive.
          y_pred: Predictions in [0, 1], the same shape as `y_true`.
          sample_weight: Optional weights broadcastable to `y_true`.
        """
        metrics_utils.update_confusion_matrix_variables(
            {TRUE_POSITIVES: self.true_positives, self._other_cell: self._other},
            y_true, y_pred, self.thresholds, top_k=self.top_k, class_id=self.class_id,
            sample_weight=sample_weight, thresholds_distributed_evenly=self._evenly)

    def result(self):
        value = tf.math.divide_no_nan(self.true_positives, self.true_positives + self._other)
        return _single_or_all(value, self.thresholds)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionOrRecall):
    """Of the predictions above the threshold, the (weighted) fraction labelled positive.

    Args:
      thresholds: A float or list of floats in [0, 1]; a prediction above one is positive.
        0.5 by default (with `top_k`: every kept prediction is positive).
      top_k: Only the `top_k` highest predictions of each sample count as positive.
      class_id: Only this class (last-axis index) counts.
      name, dtype: As for every metric (name "precision").

    >>> import numpyflow as tf
    >>> m = tf.keras.metrics.Precision(top_k=1)
    >>> float(m([[0, 0, 1, 1]], [[1, 1, 0.5, 0]]))
    0.0
    """

    _other_cell = FALSE_POSITIVES


class Recall(_PrecisionOrRecall):
    """Of the positive labels, the (weighted) fraction predicted above the threshold.

    Takes the arguments of `Precision` (name "recall").

    >>> import numpyflow as tf
    >>> round(float(tf.keras.metrics.Recall()([0, 1, 1, 1], [1, 0, 1, 1])), 4)
    0.6667
    """

    _other_cell = FALSE_NEGATIVES


_CURVES = {"ROC": "ROC", "roc": "ROC", "PR": "PR", "pr": "PR", "PRGAIN": "PRGAIN",
           "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation",
               "majoring": "majoring", "Majoring": "majoring", "minoring": "minoring",
               "Minoring": "minoring"}


class AUC(Metric):
    """The area under the ROC or precision-recall curve, by a Riemann sum over thresholds.

    Counts true/false positives/negatives at `num_thresholds` thresholds spread evenly over
    [0, 1] (the first just below 0, the last just above 1) and sums the curve between them,
    as Keras does.

    Args:
      num_thresholds: The number of thresholds (> 1; 200 by default).
      curve: "ROC" (default), "PR" (precision-recall) or "PRGAIN".
      summation_method: "interpolation" (default; for PR, Davis & Goadrich's
        interpolation), "minoring" or "majoring".
      name, dtype: As for every metric (name "auc").
      thresholds: Explicit thresholds in [0, 1] instead of `num_thresholds`.
      multi_label: Labels are independent (shape `(N, L)`): one curve per label, averaged.
      num_labels: The number of labels with `multi_label` (else known on the first batch).
      label_weights: Weights of each label (for the average with `multi_label`; else for
        counting).
      from_logits: Predictions are logits (a sigmoid is applied first).

    >>> import numpyflow as tf
    >>> auc = tf.keras.metrics.AUC(num_thresholds=3)
    >>> float(auc([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]))
    0.75
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: '
                             f'["ROC", "PR", "PRGAIN"]')
        if summation_method not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(metrics_utils.parse_init_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = metrics_utils.is_evenly_distributed_thresholds(
                np.array([0.] + inner + [1.]))
        else:
            if not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        epsilon = backend.epsilon()
        self._thresholds = np.array([0. - epsilon] + inner + [1. + epsilon])
        self.curve = _CURVES[curve]
        self.summation_method = _SUMMATIONS[summation_method]
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self._label_weights_config = None if label_weights is None \
            else [float(w) for w in np.ravel(label_weights)]
        self.label_weights = None if label_weights is None \
            else tf.constant(np.asarray(label_weights, dtype=self.dtype._np))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        elif num_labels:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        else:
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds, the two outer ones (just outside [0, 1]) included."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {len(shape)}. Full shape received for `y_pred`: "
                                 f"{tuple(shape)}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self.true_positives = self.add_weight(name="true_positives", shape=variable_shape)
        self.false_positives = self.add_weight(name="false_positives", shape=variable_shape)
        self.true_negatives = self.add_weight(name="true_negatives", shape=variable_shape)
        self.false_negatives = self.add_weight(name="false_negatives", shape=variable_shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's counts at every threshold.

        Args:
          y_true: 0/1 labels.
          y_pred: Predictions in [0, 1] (logits with `from_logits=True`), shaped as `y_true`.
          sample_weight: Optional weights broadcastable to `y_true`.
        """
        y_pred = tf.convert_to_tensor(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = tf.math.sigmoid(tf.cast(y_pred, self.dtype))
        metrics_utils.update_confusion_matrix_variables(
            {TRUE_POSITIVES: self.true_positives, TRUE_NEGATIVES: self.true_negatives,
             FALSE_POSITIVES: self.false_positives, FALSE_NEGATIVES: self.false_negatives},
            y_true, y_pred, list(self._thresholds), sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._evenly)

    def _average_over_labels(self, by_threshold):
        if not self.multi_label:
            return tf.reduce_sum(by_threshold)
        by_label = tf.reduce_sum(by_threshold, axis=0)
        if self.label_weights is None:
            return tf.reduce_mean(by_label)
        return tf.math.divide_no_nan(tf.reduce_sum(by_label * self.label_weights),
                                     tf.reduce_sum(self.label_weights))

    def interpolate_pr_auc(self):
        """The PR-AUC with precision interpolated between thresholds (Davis & Goadrich 2006).

        Between two thresholds, true positives and predicted positives are taken to vary
        linearly, which integrates in closed form (a log term).
        """
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        tp_upper, tp_lower = tp[:-1], tp[1:]
        predicted = tp + fp
        p_upper, p_lower = predicted[:-1], predicted[1:]
        d_tp = tp_upper - tp_lower
        slope = tf.math.divide_no_nan(d_tp, tf.maximum(p_upper - p_lower, 0.))
        intercept = tp_lower - slope * p_lower
        both_positive = tf.logical_and(p_upper > 0, p_lower > 0)
        ratio = tf.where(both_positive,
                         tf.math.divide_no_nan(p_upper, tf.maximum(p_lower, 0.)),
                         tf.ones_like(p_lower))
        increment = tf.math.divide_no_nan(slope * (d_tp + intercept * tf.math.log(ratio)),
                                          tf.maximum(tp_lower + fn[1:], 0.))
        return self._average_over_labels(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = tf.math.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = tf.math.divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, tf.math.divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scale = tf.math.divide_no_nan(tp + fn, tn + fp)
            no_tp = tf.equal(tp, 0.)
            recall_gain = 1. - scale * tf.math.divide_no_nan(fn, tp)
            precision_gain = 1. - scale * tf.math.divide_no_nan(fp, tp)
            x = tf.maximum(tf.where(no_tp, tf.zeros_like(tp), recall_gain), 0.)
            y = tf.where(no_tp, tf.ones_like(tp), precision_gain)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.
        elif self.summation_method == "minoring":
            heights = tf.minimum(y[:-1], y[1:])
        else:
            heights = tf.maximum(y[:-1], y[1:])
        return self._average_over_labels((x[:-1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": self._label_weights_config,
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config
