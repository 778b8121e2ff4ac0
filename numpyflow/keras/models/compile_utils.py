"""What `compile()` resolves: the loss to minimize and the metrics to report."""

import numpyflow as tf
from numpyflow.keras import losses as losses_module
from numpyflow.keras import metrics as metrics_module

_ACCURACY_NAMES = ("accuracy", "acc")


class CompiledLoss:
    """The compiled loss: a `keras.losses.Loss`, or a per-sample function averaged over the batch."""

    def __init__(self, loss):
        self.identifier = loss
        self.fn = losses_module.get(loss)

    def __call__(self, y_true, y_pred):
        if isinstance(self.fn, losses_module.Loss):
            return self.fn(y_true, y_pred)
        return tf.reduce_mean(self.fn(y_true, y_pred))


class CompiledMetrics:
    """The compiled metrics, resolved on the first batch (when label shapes are known).

    'accuracy' becomes binary, sparse categorical or categorical accuracy from the shapes
    of labels and predictions, as in tf.keras; it keeps the name the user wrote.
    """

    def __init__(self, metrics):
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif isinstance(metrics, dict):
            raise NotImplementedError("Per-output metric dicts are not supported yet; pass a "
                                      "list of metrics.")
        self._identifiers = list(metrics)
        for identifier in self._identifiers:  # Unknown names fail at compile(), not at fit().
            if isinstance(identifier, str) and identifier not in _ACCURACY_NAMES \
                    and identifier not in ("crossentropy", "ce"):
                metrics_module.get(identifier)
        self.metrics = None

    def build(self, y_true, y_pred):
        self.metrics = [self._resolve(identifier, y_true, y_pred)
                        for identifier in self._identifiers]

    @staticmethod
    def _resolve(identifier, y_true, y_pred):
        if isinstance(identifier, metrics_module.Metric):
            return identifier
        if isinstance(identifier, str) and identifier in _ACCURACY_NAMES:
            true_rank, pred_rank = y_true.ndim, y_pred.ndim
            true_last = y_true.shape[-1] if true_rank else 1
            pred_last = y_pred.shape[-1] if pred_rank else 1
            if pred_last == 1:
                fn = metrics_module.binary_accuracy
            elif true_rank < pred_rank or (true_last == 1 and pred_last > 1):
                fn = metrics_module.sparse_categorical_accuracy
            else:
                fn = metrics_module.categorical_accuracy
            return metrics_module.MeanMetricWrapper(fn, name=identifier)
        resolved = metrics_module.get(identifier)
        if isinstance(resolved, metrics_module.Metric):
            return resolved
        name = identifier if isinstance(identifier, str) else resolved.__name__
        return metrics_module.MeanMetricWrapper(resolved, name=name)

    def update_state(self, y_true, y_pred):
        if self.metrics is None:
            self.build(y_true, y_pred)
        for metric in self.metrics:
            metric.update_state(y_true, y_pred)

    def reset_state(self):
        for metric in self.metrics or ():
            metric.reset_state()
