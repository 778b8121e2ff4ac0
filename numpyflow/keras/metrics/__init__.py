"""`keras.metrics`: stateful metrics that accumulate over batches, and metric functions.

A metric keeps its running state (e.g. a total and a count) in non-trainable Variables.
`update_state(y_true, y_pred)` adds a batch, `result()` reads the value so far and
`reset_state()` starts over (Keras resets metrics at the start of every epoch).

    >>> import numpyflow as tf
    >>> accuracy = tf.keras.metrics.SparseCategoricalAccuracy()
    >>> accuracy.update_state([1, 0], [[0.2, 0.8], [0.3, 0.7]])
    >>> float(accuracy.result())
    0.5
"""

from numpyflow.keras.utils.serialization import (
    deserialize_from_tables, serialize_object_or_function, uninterpretable_error)

from numpyflow.keras.metrics.metric import Metric
from numpyflow.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from numpyflow.keras.metrics.accuracy_metrics import (
    ACC, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, acc, accuracy, binary_accuracy,
    categorical_accuracy, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy)
from numpyflow.keras.metrics.regression_metrics import (
    BinaryCrossentropy, CategoricalCrossentropy, CosineSimilarity, Hinge, KLDivergence,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError, SparseCategoricalCrossentropy,
    SquaredHinge, cosine_similarity)
from numpyflow.keras.metrics.confusion_metrics import (
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives)
from numpyflow.keras.metrics.f_score_metrics import F1Score, FBetaScore
from numpyflow.keras.metrics.iou_metrics import (
    BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU)
# Loss functions double as metric functions, under the same names.
from numpyflow.keras.losses import (  # noqa: F401
    MAE, MAPE, MSE, MSLE, binary_crossentropy, categorical_crossentropy, hinge, kl_divergence,
    kld, mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy,
    squared_hinge)


# -- lookup by name ------------------------------------------------------------------------

_FUNCTIONS = {
    fn.__name__: fn for fn in (
        accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, cosine_similarity,
        binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, hinge, squared_hinge, kl_divergence, poisson)}
_FUNCTIONS.update(acc=accuracy, ACC=accuracy, mse=mse, MSE=MSE, mae=mae, MAE=MAE, mape=mape,
                  MAPE=MAPE, msle=msle, MSLE=MSLE, kld=kld)
_CLASSES = {
    cls.__name__: cls for cls in (
        Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
        SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError, RootMeanSquaredError, BinaryCrossentropy,
        CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, SquaredHinge,
        KLDivergence, Poisson, CosineSimilarity, AUC, FalseNegatives, FalsePositives,
        Precision, Recall, TrueNegatives, TruePositives, F1Score, FBetaScore, BinaryIoU, IoU,
        MeanIoU, OneHotIoU, OneHotMeanIoU)}
# Keras 3 also finds the classes that need no argument by their snake-case names
# ("auc", "precision", "f1_score", "sum"), each time a new instance; function names win.
_NAMES = {
    "sum": Sum, "mean": Mean, "auc": AUC, "precision": Precision, "recall": Recall,
    "true_positives": TruePositives, "false_positives": FalsePositives,
    "true_negatives": TrueNegatives, "false_negatives": FalseNegatives, "f1_score": F1Score,
    "fbeta_score": FBetaScore, "binary_io_u": BinaryIoU}


def serialize(metric):
    """The Keras 3 config of a `Metric` object or a metric function.

    >>> serialize(accuracy)["config"]
    'accuracy'
    """
    return serialize_object_or_function(metric, Metric, _FUNCTIONS, "metric")


def deserialize(config, custom_objects=None):
    """The metric a `serialize` result (or a name) describes: a function or a `Metric`.

    >>> deserialize("acc") is accuracy
    True
    """
    return deserialize_from_tables(config, _CLASSES, _FUNCTIONS, "metric", custom_objects,
                                   names=_NAMES)


def get(identifier):
    """The metric an identifier stands for.

    Args:
      identifier: A function or class name ("accuracy", "mse", "SparseCategoricalAccuracy"),
        the snake-case name of a class that needs no argument ("auc", "precision",
        "f1_score": a new instance), a `serialize` dict, a `Metric` or a callable (returned
        as is).

    Returns:
      A metric function, or a `Metric` instance for class names and dicts.

    >>> import numpyflow as tf
    >>> tf.keras.metrics.get("mae").__name__
    'mean_absolute_error'
    >>> tf.keras.metrics.get("SparseCategoricalAccuracy").name
    'sparse_categorical_accuracy'
    """
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise uninterpretable_error("metric", identifier, "Expected a metric name such as "
                                "'accuracy', a dict config, a Metric or a callable")
