"""Tests for numpyflow.keras.metrics: values against NumPy, accumulation, reset, lookup."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import metrics

RNG = np.random.default_rng(1)
PROBS = RNG.uniform(size=(8, 5)).astype(np.float32)
LABELS = np.array([0, 1, 2, 3, 4, 0, 1, 2])
LABELS[:4] = PROBS[:4].argmax(-1)  # Half the predictions are right for sure.
ONE_HOT = np.eye(5, dtype=np.float32)[LABELS]


def _value(x):
    return x.numpy() if isinstance(x, tf.Tensor) else np.asarray(x)


def _close(actual, expected, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(_value(actual), _value(expected), rtol=rtol, atol=atol)


# -- metric functions -----------------------------------------------------------------------

@pytest.mark.parametrize("labels", [LABELS, LABELS.reshape(-1, 1), LABELS.astype(np.float32),
                                    LABELS.astype(np.uint8).reshape(-1, 1)])
def test_sparse_categorical_accuracy(labels):
    _close(metrics.sparse_categorical_accuracy(labels, PROBS),
           (PROBS.argmax(-1) == LABELS).astype(np.float32))


def test_sparse_categorical_accuracy_compares_float_labels_as_floats():
    # tf.keras casts labels to float: 1.5 never equals a class index.
    _close(metrics.sparse_categorical_accuracy([1.5], [[0., 1.]]), [0.])


def test_categorical_accuracy():
    _close(metrics.categorical_accuracy(ONE_HOT, PROBS),
           (PROBS.argmax(-1) == LABELS).astype(np.float32))


def test_argmax_ties_pick_the_first_class():
    _close(metrics.sparse_categorical_accuracy([0, 1], [[0.5, 0.5], [0.5, 0.5]]), [1., 0.])


def test_binary_accuracy_threshold_and_shapes():
    y = np.array([[1.], [1.], [0.], [0.]], np.float32)
    p = np.array([[0.98], [0.5], [0.], [0.6]], np.float32)
    _close(metrics.binary_accuracy(y, p), [[1.], [0.], [1.], [0.]])
    _close(metrics.binary_accuracy(y, p, threshold=0.55), [[1.], [0.], [1.], [0.]])
    _close(metrics.binary_accuracy(y[:, 0], p), [[1.], [0.], [1.], [0.]])  # (N,) vs (N, 1)


def test_accuracy_is_exact_equality():
    _close(metrics.accuracy([1, 2, 3, 4], [0, 2, 3, 4]), [0., 1., 1., 1.])


def test_top_k_accuracy_matches_numpy():
    top3 = np.argsort(-PROBS, axis=-1)[:, :3]
    expected = np.array([label in row for label, row in zip(LABELS, top3)], np.float32)
    _close(metrics.sparse_top_k_categorical_accuracy(LABELS, PROBS, k=3), expected)
    _close(metrics.top_k_categorical_accuracy(ONE_HOT, PROBS, k=3), expected)


def test_top_k_counts_ties_as_in():
    _close(metrics.sparse_top_k_categorical_accuracy([2], [[0.5, 0.5, 0.5]], k=1), [1.])


def test_sparse_accuracy_batch_mismatch_raises():
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\)"):
        metrics.sparse_categorical_accuracy([0, 1, 2], PROBS)


# -- Mean and Sum -------------------------------------------------------------------------

def test_mean_accumulates_across_batches():
    mean = metrics.Mean()
    mean.update_state([1., 2.])
    mean.update_state(np.array([[3.], [4.], [5.]]))
    _close(mean.result(), 3.)


def test_mean_with_sample_weights():
    mean = metrics.Mean()
    mean.update_state([1., 2., 3.], sample_weight=[1., 0., 3.])
    _close(mean.result(), (1 + 9) / 4)
    mean.update_state(10., sample_weight=6)  # A batch mean with its batch size, as fit does.
    _close(mean.result(), (1 + 9 + 60) / 10)


def test_mean_per_sample_weights_average_each_sample_first():
    mean = metrics.Mean()
    mean.update_state([[1., 3.], [5., 7.]], sample_weight=[1., 0.])
    _close(mean.result(), 2.)


def test_empty_mean_is_zero():
    assert float(metrics.Mean().result()) == 0.


def test_sum():
    total = metrics.Sum()
    total.update_state([1., 2.])
    total.update_state([3.], sample_weight=[2.])
    _close(total.result(), 9.)


def test_result_is_a_float32_scalar_tensor():
    result = metrics.Mean()([1., 2.])
    assert isinstance(result, tf.Tensor) and result.shape == () and result.dtype == tf.float32


# -- accuracy metric objects ----------------------------------------------------------------

def test_sparse_categorical_accuracy_accumulates_over_uneven_batches():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state(LABELS[:3], PROBS[:3])
    metric.update_state(LABELS[3:].reshape(-1, 1), PROBS[3:])
    _close(metric.result(), (PROBS.argmax(-1) == LABELS).mean())


def test_reset_state_starts_over():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state([0], [[0., 1.]])
    metric.reset_state()
    assert float(metric.result()) == 0.
    metric.update_state([1], [[0., 1.]])
    assert float(metric.result()) == 1.
    metric.reset_states()  # Keras 2's spelling.
    assert [float(v) for v in metric.variables] == [0., 0.]


def test_call_updates_and_returns_the_running_result():
    metric = metrics.BinaryAccuracy()
    assert float(metric([[1.]], [[0.9]])) == 1.
    assert float(metric([[1.]], [[0.1]])) == 0.5


def test_sample_weighted_accuracy():
    metric = metrics.CategoricalAccuracy()
    weights = np.arange(8, dtype=np.float32)
    metric.update_state(ONE_HOT, PROBS, sample_weight=weights)
    correct = (PROBS.argmax(-1) == LABELS)
    _close(metric.result(), (correct * weights).sum() / weights.sum())


def test_binary_accuracy_metric_multilabel():
    y = np.array([[1., 0., 1.], [0., 0., 1.]], np.float32)
    p = np.array([[0.9, 0.2, 0.3], [0.1, 0.7, 0.8]], np.float32)
    _close(metrics.BinaryAccuracy()(y, p), 4 / 6)


def test_accuracy_metric_compares_in_float_like_keras():
    # tf.keras casts both sides to float32 first: 0.9 does not become the integer 0.
    _close(metrics.Accuracy()(np.array([0, 1], np.uint8), [0.9, 1.]), 0.5)


def test_accuracy_and_top_k_metric_objects():
    _close(metrics.Accuracy()([1, 2, 3, 4], [0, 2, 3, 4]), 0.75)
    top2 = metrics.SparseTopKCategoricalAccuracy(k=2)
    top2.update_state(LABELS, PROBS)
    expected = np.mean([l in np.argsort(-p)[:2] for l, p in zip(LABELS, PROBS)])
    _close(top2.result(), expected)
    assert metrics.TopKCategoricalAccuracy().name == "top_k_categorical_accuracy"


def test_state_variables_are_non_trainable():
    metric = metrics.SparseCategoricalAccuracy()
    assert len(metric.variables) == 2
    assert all(not v.trainable for v in metric.variables)
    assert metric.trainable_weights == []
    assert metric.dtype == tf.float32


# -- regression and loss metrics ------------------------------------------------------------

Y_TRUE = RNG.normal(size=(6, 2)).astype(np.float32)
Y_PRED = RNG.normal(size=(6, 2)).astype(np.float32)


def test_mean_squared_and_absolute_error_metrics():
    mse = metrics.MeanSquaredError()
    mse.update_state(Y_TRUE[:2], Y_PRED[:2])
    mse.update_state(Y_TRUE[2:], Y_PRED[2:])
    _close(mse.result(), ((Y_TRUE - Y_PRED) ** 2).mean(), rtol=1e-5)
    _close(metrics.MeanAbsoluteError()(Y_TRUE, Y_PRED), np.abs(Y_TRUE - Y_PRED).mean(),
           rtol=1e-5)


def test_root_mean_squared_error():
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(Y_TRUE[:4], Y_PRED[:4])
    rmse.update_state(Y_TRUE[4:], Y_PRED[4:])
    _close(rmse.result(), np.sqrt(((Y_TRUE - Y_PRED) ** 2).mean()), rtol=1e-5)


def test_sparse_categorical_crossentropy_metric():
    metric = metrics.SparseCategoricalCrossentropy()
    probs = PROBS / PROBS.sum(-1, keepdims=True)
    expected = -np.log(probs[np.arange(8), LABELS]).mean()
    _close(metric(LABELS, probs), expected, rtol=1e-5)


def test_cosine_similarity_metric_is_positive_when_aligned():
    _close(metrics.CosineSimilarity()([[1., 0.]], [[3., 0.]]), 1.)


# -- MeanMetricWrapper and custom metrics --------------------------------------------------

def test_mean_metric_wrapper_with_a_custom_function_and_kwargs():
    def within(y_true, y_pred, tolerance):
        return tf.cast(tf.abs(y_true - y_pred) <= tolerance, tf.float32)

    metric = metrics.MeanMetricWrapper(within, tolerance=0.5)
    assert metric.name == "within"
    # Integer labels reach the function as floats, as in tf.keras.
    _close(metric(np.array([1, 2, 3]), [1.2, 2.9, 3.]), 2 / 3)


def test_custom_metric_subclass_with_add_weight():
    class MaxSeen(metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.best = self.add_weight(name="best", initializer="zeros")

        def update_state(self, values):
            self.best.assign(tf.maximum(self.best, tf.reduce_max(values)))

        def result(self):
            return tf.identity(self.best)

    metric = MaxSeen()
    assert metric.name == "max_seen"
    metric.update_state([1., 5.])
    metric.update_state([3.])
    assert float(metric.result()) == 5.
    metric.reset_state()
    assert float(metric.result()) == 0.
    assert metric.variables[0].name == "max_seen/best:0"


def test_add_weight_with_shape_and_ones():
    metric = metrics.Metric(name="m")
    weight = metric.add_weight("w", shape=(3,), initializer="ones")
    weight.assign_add([1., 1., 1.])
    metric.reset_state()
    np.testing.assert_array_equal(weight.numpy(), [1., 1., 1.])


# -- lookup and configuration ---------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("accuracy", metrics.accuracy),
    ("acc", metrics.accuracy),
    ("sparse_categorical_accuracy", metrics.sparse_categorical_accuracy),
    ("categorical_accuracy", metrics.categorical_accuracy),
    ("binary_accuracy", metrics.binary_accuracy),
    ("mse", metrics.mean_squared_error),
    ("mae", metrics.mean_absolute_error),
])
def test_get_function_names(name, expected):
    assert metrics.get(name) is expected


def test_get_class_names_and_instances():
    metric = metrics.get("SparseCategoricalAccuracy")
    assert isinstance(metric, metrics.SparseCategoricalAccuracy)
    assert metrics.get(metric) is metric
    assert isinstance(metrics.get({"class_name": "BinaryAccuracy",
                                   "config": {"threshold": 0.7}}), metrics.BinaryAccuracy)


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown metric function: 'acuracy'.*'accuracy'"):
        metrics.get("acuracy")
    with pytest.raises(ValueError, match="Could not interpret"):
        metrics.get(3)


@pytest.mark.parametrize("metric", [
    metrics.Mean(name="avg"),
    metrics.BinaryAccuracy(threshold=0.7),
    metrics.SparseTopKCategoricalAccuracy(k=3),
    metrics.SparseCategoricalCrossentropy(from_logits=True),
])
def test_config_round_trip(metric):
    config = metric.get_config()
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == config


def test_binary_accuracy_config_matches_keras():
    assert metrics.BinaryAccuracy().get_config() == {
        "name": "binary_accuracy", "dtype": "float32", "threshold": 0.5}


def test_mean_metric_wrapper_config_keeps_the_function():
    def doubled(y_true, y_pred):
        return 2. * y_pred

    for fn in (metrics.binary_accuracy, doubled):
        wrapper = metrics.MeanMetricWrapper(fn, name="wrapped")
        clone = metrics.MeanMetricWrapper.from_config(wrapper.get_config())
        assert clone._fn is fn and clone.name == "wrapped"
