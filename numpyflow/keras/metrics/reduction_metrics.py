"""Reduction metrics: `Sum`, `Mean` and `MeanMetricWrapper` (the mean of a function)."""

import numpy as np

import numpyflow as tf
from numpyflow.keras.losses import apply_mask, check_compatible, divide_no_nan
from numpyflow.keras.metrics.metric import Metric
from numpyflow.keras.utils.serialization import config_with_function, function_config


def converts_its_inputs(fn):
    """Marks a metric function that converts `y_true`/`y_pred` itself.

    `MeanMetricWrapper` then hands it the inputs as they are instead of casting both to
    the metric's dtype first (integer labels stay integers).
    """
    fn._metric_converts_its_inputs = True
    return fn


class _Reduce(Metric):
    """Accumulates the (weighted) sum of values; with `count`, also their (weighted) number."""

    def __init__(self, with_count, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight(name="total")
        self.count = self.add_weight(name="count") if with_count else None

    def update_state(self, values, sample_weight=None):
        """Adds `values` (any shape), each weighted by `sample_weight` if given.

        Args:
          values: The values to accumulate.
          sample_weight: Optional weights broadcastable to `values` (a scalar, one per
            sample, ...). A weight array of lower rank than `values` averages (Sum: sums)
            `values` over their extra trailing axes first.
        """
        mask = getattr(values, "_keras_mask", None)
        if mask is not None and sample_weight is not None:  # As Keras 3 (only when weighted).
            sample_weight = apply_mask(sample_weight, mask, self._dtype, "sum")
        values = tf.cast(tf.convert_to_tensor(values), self._dtype)
        if sample_weight is None or isinstance(sample_weight, (int, float, np.number)):
            # No weights, or one weight for every value (e.g. a batch mean weighted by its
            # batch size): two small updates.
            weight = 1. if sample_weight is None else float(sample_weight)
            total = values if values.ndim == 0 else tf.reduce_sum(values)
            self.total.assign_add(total if weight == 1. else total * weight)
            if self.count is not None:
                self.count.assign_add(weight * values.shape.num_elements())
            return
        values, weights = self._weighted(values, sample_weight)
        self.total.assign_add(tf.reduce_sum(values * weights))
        if self.count is not None:
            self.count.assign_add(tf.reduce_sum(tf.broadcast_to(weights, tuple(values.shape))))

    def _weighted(self, values, sample_weight):
        """(values, weights) that broadcast together, reducing values as Keras does."""
        weights = tf.cast(tf.convert_to_tensor(sample_weight), self._dtype)
        weights_rank, values_rank = weights.ndim, values.ndim
        if weights_rank == values_rank + 1 and weights.shape[-1] == 1:
            weights = tf.squeeze(weights, axis=-1)
            weights_rank -= 1
        if 0 < weights_rank < values_rank and \
                tuple(weights.shape) == tuple(values.shape)[:weights_rank]:
            # One weight per sample for values with more axes: reduce each sample first.
            extra_axes = list(range(weights_rank, values_rank))
            reduce = tf.reduce_sum if self.count is None else tf.reduce_mean
            values = reduce(values, axis=extra_axes)
        check_compatible(weights, values, "sample_weight", "values")
        return values, weights


class Sum(_Reduce):
    """The (weighted) sum of all values seen.

    >>> import numpyflow as tf
    >>> total = tf.keras.metrics.Sum()
    >>> total.update_state([1., 3., 5.])
    >>> float(total.result())
    9.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(with_count=False, name=name, dtype=dtype)

    def result(self):
        return tf.identity(self.total)


class Mean(_Reduce):
    """The (weighted) mean of all values seen.

    >>> import numpyflow as tf
    >>> mean = tf.keras.metrics.Mean()
    >>> mean.update_state([1., 3., 5.])
    >>> mean.update_state([7.], sample_weight=[3.])
    >>> float(mean.result())  # (1 + 3 + 5 + 3 * 7) / 6
    5.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(with_count=True, name=name, dtype=dtype)

    def result(self):
        return divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """The mean over all samples of a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Args:
      fn: The metric function.
      name: The metric's name.
      dtype: The dtype of the state; `y_true` and `y_pred` are cast to it, as in Keras.
      **kwargs: Passed to `fn`.

    >>> import numpyflow as tf
    >>> metric = tf.keras.metrics.MeanMetricWrapper(tf.keras.metrics.binary_accuracy,
    ...                                             name="acc", threshold=0.7)
    >>> float(metric([[1.], [1.]], [[0.6], [0.8]]))
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None:  # Keras masks leave steps out (their weight is 0).
            sample_weight = apply_mask(sample_weight, mask, self._dtype, "sum")
        if not getattr(self._fn, "_metric_converts_its_inputs", False):
            # tf.keras hands the function both arguments in the metric's dtype. The accuracy
            # functions below give the same values without (integer labels stay integers).
            y_true = tf.cast(tf.convert_to_tensor(y_true), self._dtype)
            y_pred = tf.cast(tf.convert_to_tensor(y_pred), self._dtype)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:  # Subclasses choose their function themselves.
            from numpyflow.keras.metrics import _FUNCTIONS
            config["fn"] = function_config(self._fn, _FUNCTIONS)
        return config

    @classmethod
    def from_config(cls, config):
        from numpyflow.keras.metrics import get
        return cls(**config_with_function(config, get))
