"""Regression and probabilistic metrics: means of the loss functions, RMSE, cosine."""

import numpyflow as tf
from numpyflow.keras import losses
from numpyflow.keras.losses import (
    align_ranks, binary_crossentropy, categorical_crossentropy, check_compatible, hinge,
    kl_divergence, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)
from numpyflow.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine of the angle between `y_true` and `y_pred` along `axis` (1 when aligned)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of squared errors over all samples seen.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.MeanSquaredError()([[0., 1.]], [[1., 1.]]))
    0.5
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of absolute errors over all samples seen.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.MeanAbsoluteError()([[0., 1.]], [[1., 1.]]))
    0.5
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean of absolute percentage errors over all samples seen."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean of squared logarithmic errors over all samples seen."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """The square root of the mean of squared errors over all values seen.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.RootMeanSquaredError()([[0.], [0.]], [[3.], [4.]]))
    3.535533905029297
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.cast(tf.convert_to_tensor(y_pred), self._dtype)
        y_true = tf.cast(tf.convert_to_tensor(y_true), self._dtype)
        y_true, y_pred = align_ranks(y_true, y_pred)
        check_compatible(y_true, y_pred)
        super().update_state(tf.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return tf.sqrt(super().result())


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary cross-entropy over all samples seen (see `losses.binary_crossentropy`)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical cross-entropy over all samples seen."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean sparse categorical cross-entropy over all samples seen.

    >>> import numpyflow as tf
    >>> metric = tf.keras.metrics.SparseCategoricalCrossentropy()
    >>> round(float(metric([1], [[0.5, 0.5]])), 4)
    0.6931
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class Hinge(MeanMetricWrapper):
    """The mean hinge loss over all samples seen."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The mean squared hinge loss over all samples seen."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class KLDivergence(MeanMetricWrapper):
    """The mean Kullback-Leibler divergence over all samples seen."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The mean Poisson loss over all samples seen."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity of labels and predictions (1 when aligned).

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.CosineSimilarity()([[1., 0.]], [[2., 0.]]))
    1.0
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
