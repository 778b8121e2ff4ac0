"""Heads: what the premade estimators do with their logits (TF 2.15's `head/` semantics).

A head turns a model's logits into predictions, a loss and evaluation metrics:

  * binary classification (`n_classes=2`): one logit, sigmoid cross-entropy; predictions
    `logits`, `logistic`, `probabilities`, `class_ids`, `classes`, `all_class_ids`,
    `all_classes`; metrics `accuracy`, `accuracy_baseline`, `auc`, `auc_precision_recall`,
    `average_loss`, `label/mean`, `precision`, `prediction/mean`, `recall`;
  * multi-class: `n_classes` logits, softmax cross-entropy; predictions as binary without
    `logistic`; metrics `accuracy`, `average_loss`;
  * regression: `label_dimension` outputs, squared error; prediction `predictions`;
    metrics `average_loss`, `label/mean`, `prediction/mean`.

The Estimator adds `loss` and `global_step` to every evaluation. The training loss is
reduced as `loss_reduction` says: `"sum_over_batch_size"` (TF 2's default: the weighted
sum divided by the number of loss elements) or `"sum"`.
"""

import numpy as np

import numpyflow as tf
from numpyflow.estimator import variable_store
from numpyflow.estimator.model_fn import EstimatorSpec, ModeKeys

SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
SUM = "sum"


def check_loss_reduction(loss_reduction, owner):
    value = getattr(loss_reduction, "value", loss_reduction)
    if value not in (SUM_OVER_BATCH_SIZE, SUM):
        raise ValueError(f"{owner}: Invalid loss_reduction: {loss_reduction!r}; expected "
                         f"'sum_over_batch_size' (tf.keras.losses.Reduction.SUM_OVER_BATCH_"
                         f"SIZE) or 'sum'.")
    return value


class _AccuracyBaseline:
    """`max(label_mean, 1 - label_mean)`: the accuracy of always predicting one class."""

    def __init__(self, label_mean):
        self._label_mean = label_mean
        self.variables = []

    def result(self):
        mean = float(self._label_mean.result())
        return np.float32(max(mean, 1.0 - mean))

    def reset_state(self):
        """Nothing of its own: it reads `label/mean`."""


class _Head:
    """Shared parts: weights, loss reduction, the EstimatorSpec."""

    # Whether weights may have one value per logit (`[batch, logits_dimension]`).
    _per_logit_weights = False

    def __init__(self, owner, weight_column, loss_reduction):
        from numpyflow.feature_column.numeric import NumericColumn
        self._owner = owner
        if isinstance(weight_column, str):
            weight_column = tf.feature_column.numeric_column(weight_column)
        if weight_column is not None and not isinstance(weight_column, NumericColumn):
            raise TypeError(f"{owner}: Weight column must be either a string or NumericColumn. "
                            f"Given type: {type(weight_column)}.")
        self._weight_column = weight_column
        self._loss_reduction = check_loss_reduction(loss_reduction, owner)

    def _weights(self, features, logits):
        """float32 `[batch, 1]` (or `[batch, logits_dimension]` where allowed) weights: the
        weight column's dense value (its `normalizer_fn` applied), as TF reads it."""
        from numpyflow.feature_column.base import FeatureCache
        if self._weight_column is None:
            return None
        key = self._weight_column.key
        if not isinstance(features, dict) or key not in features:
            keys = sorted(features) if isinstance(features, dict) else type(features).__name__
            raise ValueError(f"{self._owner}: weight_column {key!r} is not in the features "
                             f"the input_fn returned (keys: {keys}).")
        weights = FeatureCache(features).get(self._weight_column)
        weights = tf.reshape(weights, (weights.shape[0], -1))
        widths = (1, self.logits_dimension) if self._per_logit_weights else (1,)
        if weights.shape[0] != logits.shape[0] or weights.shape[1] not in widths:
            expected = " or ".join(f"({logits.shape[0]}, {w})" for w in widths)
            raise ValueError(f"{self._owner}: weight_column {key!r} must give weights of "
                             f"shape ({logits.shape[0]},) or {expected}; received shape "
                             f"{tuple(weights.shape)}.")
        return weights

    def _reduce(self, unweighted, weights):
        weighted = unweighted if weights is None else unweighted * weights
        total = tf.reduce_sum(weighted)
        if self._loss_reduction == SUM:
            return total
        return total / tf.cast(tf.size(unweighted), tf.float32)

    def create_estimator_spec(self, features, mode, logits, labels=None, train_op_fn=None):
        """The EstimatorSpec for `mode`; `train_op_fn(loss)` makes the train op."""
        context = variable_store.current()
        serving = context is not None and context.serving
        predictions = self.predictions(logits, serving=serving)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions,
                                 export_outputs=self.export_outputs(predictions))
        if labels is None:
            raise ValueError(f"{self._owner}: you must provide a labels Tensor. Given: None. "
                             f"Suggested troubleshooting steps: check that your data contains "
                             f"your label feature, and that your input_fn returns "
                             f"(features, labels).")
        processed = self.processed_labels(logits, labels)
        weights = self._weights(features, logits)
        unweighted = self.unweighted_loss(logits, processed)
        loss = self._reduce(unweighted, weights)
        if mode == ModeKeys.EVAL:
            with variable_store.local_variables():
                metrics = self.metrics()
            self.update_metrics(metrics, predictions, processed, unweighted, weights)
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 eval_metric_ops=metrics)
        return EstimatorSpec(mode, predictions=predictions, loss=loss,
                             train_op=train_op_fn(loss))


def _label_array(labels):
    return labels.numpy() if isinstance(labels, tf.Tensor) else np.asarray(labels)


class ClassificationHead(_Head):
    """Binary (`n_classes=2`, one logit) or multi-class classification."""

    def __init__(self, n_classes, owner, weight_column=None, label_vocabulary=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE):
        super().__init__(owner, weight_column, loss_reduction)
        if n_classes is None or int(n_classes) < 2:
            raise ValueError(f"{owner}: n_classes must be > 1: {n_classes}.")
        self.n_classes = int(n_classes)
        if label_vocabulary is not None:
            if not isinstance(label_vocabulary, (list, tuple)):
                raise ValueError(f"label_vocabulary should be a list or a tuple. Given type: "
                                 f"{type(label_vocabulary)}.")
            if len(label_vocabulary) != self.n_classes:
                raise ValueError(f"{owner}: label_vocabulary has {len(label_vocabulary)} "
                                 f"entries but n_classes={self.n_classes}.")
        self._vocabulary = None if label_vocabulary is None else [str(v) for v in label_vocabulary]
        self.logits_dimension = 1 if self.n_classes == 2 else self.n_classes

    @property
    def binary(self):
        return self.n_classes == 2

    def _class_names(self):
        names = self._vocabulary or [str(i) for i in range(self.n_classes)]
        return np.array([name.encode() for name in names], dtype=object)

    def export_outputs(self, predictions):
        """TF 2.15's signatures of a classification head: `"serving_default"` and
        `"classification"` (scores and the class names), `"regression"` (binary: the
        logistic) and `"predict"` (every prediction)."""
        from numpyflow.estimator import export
        classes = predictions.get("all_classes")
        classifier = export.ClassificationOutput(
            scores=predictions["probabilities"],
            classes=None if classes is None else tf.constant(classes))
        outputs = {export.DEFAULT_SERVING_KEY: classifier,
                   export.CLASSIFY_SERVING_KEY: classifier}
        if self.binary:
            outputs[export.REGRESS_SERVING_KEY] = export.RegressionOutput(
                predictions["logistic"])
        outputs[export.PREDICT_SERVING_KEY] = export.PredictOutput(predictions)
        return outputs

    def predictions(self, logits, serving=False):
        """The prediction dict; `serving` (an export's traced call) leaves out the string
        `classes` and `all_classes`, which are computed in NumPy."""
        if self.binary:
            logistic = tf.sigmoid(logits)
            # An export traces ops only (zeros_like makes a constant of the traced batch
            # size); logits * 0 is the same zeros for the finite logits a server sees.
            zeros = logits * 0.0 if serving else tf.zeros_like(logits)
            two_class = tf.concat([zeros, logits], axis=-1)
            probabilities = tf.nn.softmax(two_class)
        else:
            probabilities = tf.nn.softmax(logits)
            two_class = logits
        class_ids = tf.expand_dims(tf.argmax(two_class, axis=-1), -1)
        # [batch, n_classes] of 0..n-1 from ops on class_ids, so that an exported graph
        # makes it for any batch size (a tiled NumPy array would keep the traced batch).
        all_class_ids = tf.cast(class_ids * 0, tf.int32) + tf.range(self.n_classes,
                                                                    dtype=tf.int32)
        predictions = {"logits": logits}
        if self.binary:
            predictions["logistic"] = logistic
        predictions.update({"probabilities": probabilities, "class_ids": class_ids})
        if not serving:
            names = self._class_names()
            ids = class_ids.numpy()
            predictions["classes"] = names[ids]
        predictions["all_class_ids"] = all_class_ids
        if not serving:
            predictions["all_classes"] = np.tile(names, (ids.shape[0], 1))
        return predictions

    def processed_labels(self, logits, labels):
        """Class ids `[batch, 1]` (int64; float32 for a binary head's float labels),
        checked against `n_classes` (or the vocabulary)."""
        array = _label_array(labels)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[-1] != 1:
            raise ValueError(f"{self._owner}: labels must have shape [batch_size] or "
                             f"[batch_size, 1]; received shape {array.shape}.")
        if self._vocabulary is not None:
            if array.dtype.kind not in "SUO":
                raise ValueError(f"{self._owner}: with label_vocabulary, labels must be "
                                 f"strings; received dtype {array.dtype}.")
            index = {name: i for i, name in enumerate(self._vocabulary)}
            texts = [v.decode() if isinstance(v, bytes) else str(v) for v in array.ravel()]
            missing = sorted({t for t in texts if t not in index})
            if missing:
                raise ValueError(f"{self._owner}: labels {missing} are not in "
                                 f"label_vocabulary {self._vocabulary}.")
            ids = np.array([index[t] for t in texts], dtype="int64").reshape(array.shape)
        else:
            # The binary head takes float labels in [0, 1] (soft labels too), as TF's casts
            # them to float32; the multi-class head needs integer ids.
            numeric = "iubf" if self.binary else "iub"
            if array.dtype.kind not in numeric:
                raise ValueError(f"{self._owner}: labels must be integer class ids (or set "
                                 f"label_vocabulary for string labels); received dtype "
                                 f"{array.dtype}.")
            ids = array.astype("float32" if array.dtype.kind == "f" else "int64")
            if not np.all(np.isfinite(ids)):
                raise ValueError(f"{self._owner}: labels must be finite; received "
                                 f"{ids[~np.isfinite(ids)][:3].tolist()}.")
            if ids.size and ids.max() > self.n_classes - 1:
                raise ValueError(f"{self._owner}: Labels must be <= n_classes - 1; received "
                                 f"label {ids.max()} with n_classes={self.n_classes}.")
            if ids.size and ids.min() < 0:
                raise ValueError(f"{self._owner}: Labels must be >= 0; received label "
                                 f"{ids.min()}.")
        if ids.shape[0] != logits.shape[0]:
            raise ValueError(f"{self._owner}: labels have batch size {ids.shape[0]} but the "
                             f"logits {logits.shape[0]}.")
        return tf.constant(ids)

    def unweighted_loss(self, logits, labels):
        if self.binary:
            from numpyflow.compat.v1.losses import sigmoid_cross_entropy_with_logits
            return sigmoid_cross_entropy_with_logits(tf.cast(labels, tf.float32), logits)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.squeeze(labels, axis=-1), logits=logits)
        return tf.expand_dims(losses, -1)

    def metrics(self):
        from numpyflow.keras import metrics
        found = {"accuracy": metrics.Accuracy(name="accuracy"),
                 "average_loss": metrics.Mean(name="average_loss")}
        if self.binary:
            found.update({
                "precision": metrics.Precision(name="precision"),
                "recall": metrics.Recall(name="recall"),
                "prediction/mean": metrics.Mean(name="prediction_mean"),
                "label/mean": metrics.Mean(name="label_mean"),
                "auc": metrics.AUC(name="auc"),
                "auc_precision_recall": metrics.AUC(curve="PR", name="auc_precision_recall"),
            })
            found["accuracy_baseline"] = _AccuracyBaseline(found["label/mean"])
        return found

    def update_metrics(self, metrics, predictions, labels, unweighted, weights):
        class_ids = predictions["class_ids"]
        metrics["average_loss"].update_state(unweighted, sample_weight=weights)
        metrics["accuracy"].update_state(labels, class_ids, sample_weight=weights)
        if not self.binary:
            return
        float_labels = tf.cast(labels, tf.float32)
        logistic = predictions["logistic"]
        metrics["precision"].update_state(labels, class_ids, sample_weight=weights)
        metrics["recall"].update_state(labels, class_ids, sample_weight=weights)
        metrics["prediction/mean"].update_state(logistic, sample_weight=weights)
        metrics["label/mean"].update_state(float_labels, sample_weight=weights)
        metrics["auc"].update_state(labels, logistic, sample_weight=weights)
        metrics["auc_precision_recall"].update_state(labels, logistic, sample_weight=weights)


class RegressionHead(_Head):
    """Regression with `label_dimension` outputs and the squared error."""

    _per_logit_weights = True

    def __init__(self, label_dimension, owner, weight_column=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE):
        super().__init__(owner, weight_column, loss_reduction)
        if label_dimension is None or int(label_dimension) < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        self.logits_dimension = int(label_dimension)

    def predictions(self, logits, serving=False):
        return {"predictions": logits}

    def export_outputs(self, predictions):
        """TF 2.15's signatures of a regression head: `"serving_default"` and
        `"regression"` (the values), `"predict"` (every prediction)."""
        from numpyflow.estimator import export
        regression = export.RegressionOutput(predictions["predictions"])
        return {export.DEFAULT_SERVING_KEY: regression, export.REGRESS_SERVING_KEY: regression,
                export.PREDICT_SERVING_KEY: export.PredictOutput(predictions)}

    def processed_labels(self, logits, labels):
        array = _label_array(labels)
        if array.dtype.kind not in "iufb":
            raise ValueError(f"{self._owner}: regression labels must be numbers; received "
                             f"dtype {array.dtype}.")
        if array.ndim == 1:
            array = array[:, None]
        expected = (logits.shape[0], self.logits_dimension)
        if array.shape != expected:
            raise ValueError(f"{self._owner}: Mismatched label shape. Expected labels of shape "
                             f"{expected} (label_dimension={self.logits_dimension}); received "
                             f"{array.shape}.")
        return tf.constant(array.astype("float32"))

    def unweighted_loss(self, logits, labels):
        return tf.square(labels - logits)

    def metrics(self):
        from numpyflow.keras import metrics
        return {"average_loss": metrics.Mean(name="average_loss"),
                "prediction/mean": metrics.Mean(name="prediction_mean"),
                "label/mean": metrics.Mean(name="label_mean")}

    def update_metrics(self, metrics, predictions, labels, unweighted, weights):
        metrics["average_loss"].update_state(unweighted, sample_weight=weights)
        metrics["prediction/mean"].update_state(predictions["predictions"],
                                                sample_weight=weights)
        metrics["label/mean"].update_state(labels, sample_weight=weights)
