"""F-scores of multi-class or multi-label predictions: `FBetaScore` and `F1Score`."""

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.metrics.metric import Metric

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """The F-beta score: (1 + beta^2) * precision * recall / (beta^2 * precision + recall).

    Works on `(batch, classes)` labels and predictions, per class or averaged.

    Args:
      average: None (one score per class), "micro" (from counts pooled over classes),
        "macro" (the mean of the per-class scores) or "weighted" (their mean weighted by
        each class's number of true labels).
      beta: Weight of recall against precision, a positive Python float.
      threshold: Predictions above it count as positive (a float in (0, 1]); by default
        the highest prediction of each sample is the positive one.
      name, dtype: As for every metric.

    >>> import numpyflow as tf
    >>> metric = tf.keras.metrics.FBetaScore(beta=2.0, threshold=0.5)
    >>> metric.update_state([[0., 1.], [1., 0.]], [[0.2, 0.9], [0.6, 0.7]])
    >>> metric.result().numpy().round(4)
    array([1.    , 0.8333], dtype=float32)
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in _AVERAGES:
            raise ValueError(f"Invalid `average` argument value. Expected one of: {{None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average!r}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta!r} of type '{type(beta).__name__}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold!r} of type "
                                 f"'{type(threshold).__name__}'")
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape "
                             f"(batch_size, output_dim). Received input shapes: "
                             f"y_pred.shape={pred_shape} and y_true.shape={true_shape}.")
        shape = () if self.average == "micro" else (pred_shape[-1],)
        self.true_positives = self.add_weight(name="true_positives", shape=shape)
        self.false_positives = self.add_weight(name="false_positives", shape=shape)
        self.false_negatives = self.add_weight(name="false_negatives", shape=shape)
        self.intermediate_weights = self.add_weight(name="intermediate_weights", shape=shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's true positives, false positives and false negatives per class.

        Args:
          y_true: 0/1 labels of shape `(batch, classes)`.
          y_pred: Scores of the same shape.
          sample_weight: Optional weights, one per sample.
        """
        y_true = tf.cast(tf.convert_to_tensor(y_true), self.dtype)
        y_pred = tf.cast(tf.convert_to_tensor(y_pred), self.dtype)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape))
        if self.threshold is None:
            # The highest score of each sample is the positive one (all of them on a tie).
            highest = tf.reduce_max(y_pred, axis=-1, keepdims=True)
            predicted = tf.logical_and(y_pred >= highest, tf.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = tf.cast(predicted, self.dtype)
        weights = None
        if sample_weight is not None:
            weights = tf.expand_dims(tf.cast(tf.convert_to_tensor(sample_weight), self.dtype), 1)

        def weighted_sum(values):
            if weights is not None:
                values = values * weights
            return tf.reduce_sum(values, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(predicted * y_true))
        self.false_positives.assign_add(weighted_sum(predicted * (1. - y_true)))
        self.false_negatives.assign_add(weighted_sum((1. - predicted) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        """The score: a vector (one per class) with `average=None`, else a scalar."""
        if not self._built:
            raise ValueError(f"{type(self).__name__} has no result before its first "
                             f"`update_state`: the number of classes is not known yet.")
        epsilon = backend.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + epsilon)
        recall = tp / (tp + self.false_negatives + epsilon)
        beta_squared = self.beta ** 2
        score = (precision * recall / (beta_squared * precision + recall + epsilon)
                 * (1. + beta_squared))
        if self.average == "weighted":
            weights = self.intermediate_weights / (
                tf.reduce_sum(self.intermediate_weights) + epsilon)
            return tf.reduce_sum(score * weights)
        if self.average is not None:  # micro, macro
            return tf.reduce_mean(score)
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score, the harmonic mean of precision and recall (`FBetaScore` with beta 1).

    Args:
      average: None (one score per class), "micro", "macro" or "weighted".
      threshold: Predictions above it count as positive; by default each sample's highest.
      name, dtype: As for every metric (name "f1_score").

    >>> import numpyflow as tf
    >>> metric = tf.keras.metrics.F1Score(average="macro", threshold=0.5)
    >>> metric.update_state([[0., 1.], [1., 0.]], [[0.2, 0.9], [0.6, 0.7]])
    >>> round(float(metric.result()), 4)
    0.8333
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
