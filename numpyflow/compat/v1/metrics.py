"""`tf.compat.v1.metrics`: streaming metrics for `EstimatorSpec(eval_metric_ops=...)`.

Each function updates a Keras metric with this batch and returns a `(value, update_op)`
pair (both the updated value here, eagerly). Inside an Estimator `model_fn` the metric's
totals are local variables: shared by the batches of one `evaluate` call, never saved in
checkpoints, so each evaluation starts from zero. The pair's `.metric` is the Keras
metric the Estimator reads at the end.

    >>> import numpyflow as tf
    >>> value, update_op = tf.compat.v1.metrics.accuracy([1, 2, 3], [1, 2, 0])
    >>> round(float(value), 4)
    0.6667
"""

from numpyflow.estimator import variable_store


class MetricOpPair(tuple):
    """`(value, update_op)`, with the Keras metric behind them as `.metric`."""

    def __new__(cls, metric):
        value = metric.result()
        pair = super().__new__(cls, (value, value))
        pair.metric = metric
        return pair


def _refuse_collections(name, metrics_collections, updates_collections):
    if metrics_collections is not None or updates_collections is not None:
        raise NotImplementedError(f"tf.compat.v1.metrics.{name}: `metrics_collections` and "
                                  f"`updates_collections` are not supported (no graph "
                                  f"collections in numpyflow).")


def _streaming(name, make_metric, update_args, weights):
    with variable_store.local_variables():
        metric = make_metric()
    metric.update_state(*update_args, sample_weight=weights)
    return MetricOpPair(metric)


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """How often `predictions` equals `labels`."""
    _refuse_collections("accuracy", metrics_collections, updates_collections)
    from numpyflow.keras import metrics
    return _streaming("accuracy", lambda: metrics.Accuracy(name=name or "accuracy"),
                      (labels, predictions), weights)


def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The (weighted) mean of `values`."""
    _refuse_collections("mean", metrics_collections, updates_collections)
    from numpyflow.keras import metrics
    return _streaming("mean", lambda: metrics.Mean(name=name or "mean"), (values,), weights)


def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """Precision of boolean (or 0/1) `predictions` against `labels`."""
    _refuse_collections("precision", metrics_collections, updates_collections)
    from numpyflow.keras import metrics
    return _streaming("precision", lambda: metrics.Precision(name=name or "precision"),
                      (labels, predictions), weights)


def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """Recall of boolean (or 0/1) `predictions` against `labels`."""
    _refuse_collections("recall", metrics_collections, updates_collections)
    from numpyflow.keras import metrics
    return _streaming("recall", lambda: metrics.Recall(name=name or "recall"),
                      (labels, predictions), weights)


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """Area under the ROC (or PR) curve of probabilities `predictions`."""
    _refuse_collections("auc", metrics_collections, updates_collections)
    # Keras's "interpolation" is the trapezoidal rule for ROC, and TF 1's
    # "careful_interpolation" for PR (TF 1's "trapezoidal" PR differs slightly).
    methods = {"trapezoidal": "interpolation", "careful_interpolation": "interpolation",
               "minoring": "minoring", "majoring": "majoring"}
    if summation_method not in methods:
        raise ValueError(f"tf.compat.v1.metrics.auc: invalid summation_method "
                         f"{summation_method!r}; expected one of {sorted(methods)}.")
    from numpyflow.keras import metrics
    return _streaming("auc", lambda: metrics.AUC(
        num_thresholds=num_thresholds, curve=curve, summation_method=methods[summation_method],
        thresholds=thresholds, name=name or "auc"), (labels, predictions), weights)


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    """The mean of `(predictions - labels)**2`."""
    _refuse_collections("mean_squared_error", metrics_collections, updates_collections)
    from numpyflow.keras import metrics
    return _streaming("mean_squared_error",
                      lambda: metrics.MeanSquaredError(name=name or "mean_squared_error"),
                      (labels, predictions), weights)


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """The square root of the mean of `(predictions - labels)**2`."""
    _refuse_collections("root_mean_squared_error", metrics_collections, updates_collections)
    from numpyflow.keras import metrics
    return _streaming("root_mean_squared_error", lambda: metrics.RootMeanSquaredError(
        name=name or "root_mean_squared_error"), (labels, predictions), weights)
