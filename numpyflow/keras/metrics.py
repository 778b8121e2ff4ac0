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

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend, losses
from numpyflow.keras.losses import (
    align_ranks, check_compatible, class_index_labels, divide_no_nan)
from numpyflow.keras.utils.serialization import (
    config_with_function, deserialize_from_tables, function_config,
    serialize_object_or_function, uninterpretable_error)


class Metric:
    """Base class of metrics: state in Variables, `update_state`, `result`, `reset_state`.

    Subclasses create their state with `add_weight` in `__init__` and implement
    `update_state` and `result`.

    Args:
      name: The metric's name; the snake-case class name by default.
      dtype: The dtype of its state and result (`keras.backend.floatx()` by default).

    >>> import numpyflow as tf
    >>> class CountPositives(tf.keras.metrics.Metric):
    ...     def __init__(self, name="count_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.count = self.add_weight(name="count", initializer="zeros")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         positive = tf.cast(tf.convert_to_tensor(y_pred) > 0., self.dtype)
    ...         self.count.assign_add(tf.reduce_sum(positive))
    ...     def result(self):
    ...         return tf.identity(self.count)
    >>> metric = CountPositives()
    >>> float(metric(None, [1., -2., 3.]))
    2.0
    """

    def __init__(self, name=None, dtype=None, **kwargs):
        self.name = name or backend.snake_case(type(self).__name__)
        self._dtype = tf.as_dtype(dtype or backend.floatx())
        self._variables = []
        self._initial_values = []

    @property
    def dtype(self):
        return self._dtype

    # -- state --------------------------------------------------------------------------
    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None, **kwargs):
        """Creates a non-trainable state Variable that `reset_state` returns to its start.

        Args:
          name: The variable's name (named "<metric>/<name>").
          shape: Its shape (a scalar by default).
          initializer: "zeros", "ones", another `keras.initializers` name or instance, or a
            callable `(shape, dtype)`.
          dtype: Defaults to the metric's dtype.

        Returns:
          The `tf.Variable`.
        """
        if isinstance(name, (tuple, list)):  # Keras 3 takes `shape` first.
            name, shape = kwargs.pop("name", None), name
        dtype = tf.as_dtype(dtype or self._dtype)
        shape = tuple(() if shape is None else shape)
        initial_value = np.array(_initial_value(initializer, shape, dtype), dtype=dtype._np)
        variable = tf.Variable(initial_value, trainable=False, dtype=dtype,
                               name=f"{self.name}/{name or 'variable'}")
        self._variables.append(variable)
        self._initial_values.append(initial_value)
        return variable

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """Keras 3's spelling of `add_weight`."""
        return self.add_weight(name=name, shape=shape, initializer=initializer, dtype=dtype)

    @property
    def variables(self):
        return list(self._variables)

    weights = non_trainable_weights = non_trainable_variables = variables

    @property
    def trainable_weights(self):
        return []

    trainable_variables = trainable_weights

    def reset_state(self):
        """Returns every state variable to its initial value."""
        for variable, value in zip(self._variables, self._initial_values):
            variable.assign(value)

    def reset_states(self):
        """Keras 2's name for `reset_state`."""
        self.reset_state()

    # -- the metric itself --------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        """Adds a batch to the state. Subclasses must implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state`.")

    def result(self):
        """The metric's value so far, a scalar Tensor. Subclasses must implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement `result`.")

    def __call__(self, *args, **kwargs):
        """Updates the state with a batch and returns the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self._dtype.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _initial_value(initializer, shape, dtype):
    if initializer is None or initializer == "zeros":
        return np.zeros(shape)
    if initializer == "ones":
        return np.ones(shape)
    if not callable(initializer):
        from numpyflow.keras import initializers
        initializer = initializers.get(initializer)
    return np.asarray(initializer(shape, dtype=dtype))


# -- reductions: Sum and Mean --------------------------------------------------------------

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
        if self._fn not in _CONVERTS_ITS_INPUTS:
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
            config["fn"] = function_config(self._fn, _FUNCTIONS)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config_with_function(config, get))


# -- metric functions ----------------------------------------------------------------------

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


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the `k` highest-scored classes, else 0.0.

    >>> import numpyflow as tf
    >>> tf.keras.metrics.sparse_top_k_categorical_accuracy(
    ...     [2, 2], [[0.1, 0.6, 0.3], [0.05, 0.95, 0.]], k=2).numpy()
    array([1., 0.], dtype=float32)
    """
    y_pred = tf.convert_to_tensor(y_pred)
    labels = class_index_labels(y_true, y_pred, "sparse_top_k_categorical_accuracy")
    return _matches(_in_top_k(y_pred, labels, k))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the `k` highest-scored, else 0.0."""
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    check_compatible(y_true, y_pred)
    return _matches(_in_top_k(y_pred, tf.argmax(y_true, axis=-1), k))


_CONVERTS_ITS_INPUTS = (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)


def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine of the angle between `y_true` and `y_pred` along `axis` (1 when aligned)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


# Loss functions double as metric functions, under the same names.
from numpyflow.keras.losses import (  # noqa: E402,F401
    MAE, MAPE, MSE, MSLE, binary_crossentropy, categorical_crossentropy, hinge, kl_divergence,
    kld, mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy,
    squared_hinge)

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


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest-scored classes.

    >>> import numpyflow as tf
    >>> float(tf.keras.metrics.SparseTopKCategoricalAccuracy(k=1)(
    ...     [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


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
        KLDivergence, Poisson, CosineSimilarity)}


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
    return deserialize_from_tables(config, _CLASSES, _FUNCTIONS, "metric", custom_objects)


def get(identifier):
    """The metric an identifier stands for.

    Args:
      identifier: A function or class name ("accuracy", "mse", "SparseCategoricalAccuracy"),
        a `serialize` dict, a `Metric` or a callable (returned as is).

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
