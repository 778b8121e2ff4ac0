"""Tests for numpyflow.keras.losses: values against NumPy formulas, tf.keras behaviour."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import activations, losses

EPS = 1e-7
RNG = np.random.default_rng(0)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(x):
    return 1. / (1. + np.exp(-x))


def _value(x):
    return x.numpy() if isinstance(x, tf.Tensor) else np.asarray(x)


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(_value(actual), _value(expected), rtol=rtol, atol=atol)


LOGITS = RNG.normal(size=(6, 4)).astype(np.float32)
PROBS = _softmax(LOGITS.astype(np.float64)).astype(np.float32)
LABELS = np.array([0, 3, 1, 2, 3, 0])
ONE_HOT = np.eye(4, dtype=np.float32)[LABELS]


def _np_sparse_ce(labels, probs):
    clipped = np.clip(probs.astype(np.float64), EPS, 1 - EPS)
    log_p = np.log(clipped)
    log_softmax = log_p - np.log(np.exp(log_p).sum(-1, keepdims=True))
    return -log_softmax[np.arange(len(labels)), labels]


# -- sparse categorical crossentropy --------------------------------------------------------

def test_sparse_ce_from_probabilities_matches_numpy():
    _close(losses.sparse_categorical_crossentropy(LABELS, PROBS), _np_sparse_ce(LABELS, PROBS))


def test_sparse_ce_from_logits_matches_log_softmax():
    log_softmax = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    expected = -log_softmax[np.arange(6), LABELS]
    _close(losses.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True), expected)


@pytest.mark.parametrize("labels", [LABELS, LABELS.reshape(-1, 1), LABELS.astype(np.float32),
                                    LABELS.astype(np.float64).reshape(-1, 1),
                                    LABELS.astype(np.uint8)])
def test_sparse_labels_may_be_float_or_column(labels):
    loss = losses.SparseCategoricalCrossentropy()(labels, PROBS)
    _close(loss, _np_sparse_ce(LABELS, PROBS).mean())


def test_softmax_output_uses_the_logits_behind_it():
    logits = tf.constant(LOGITS)
    output = activations.softmax(logits)
    via_logits = losses.sparse_categorical_crossentropy(LABELS, output)
    via_probs = losses.sparse_categorical_crossentropy(LABELS, tf.constant(output.numpy()))
    _close(via_logits, via_probs, rtol=1e-4)


def test_softmax_path_stays_finite_where_probabilities_underflow():
    logits = tf.constant([[0., -200.], [300., 0.]])
    output = activations.softmax(logits)
    assert output.numpy()[0, 1] == 0.  # The probability underflows ...
    loss = losses.sparse_categorical_crossentropy([1, 1], output)
    _close(loss, [200., 300.])  # ... but the loss is the exact one from the logits.
    clipped = losses.sparse_categorical_crossentropy([1, 1], tf.constant(output.numpy()))
    assert np.all(np.isfinite(clipped.numpy()))  # Clipping keeps the other path finite.
    _close(clipped, [-np.log(EPS)] * 2, rtol=1e-3)


def test_softmax_path_gradient_is_softmax_minus_one_hot():
    logits = tf.Variable(LOGITS)
    with tf.GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy()(LABELS, activations.softmax(logits))
    _close(tape.gradient(loss, logits), (PROBS - ONE_HOT) / 6., atol=1e-6)


def test_from_logits_with_softmax_output_warns_and_uses_logits():
    output = activations.softmax(tf.constant(LOGITS))
    with pytest.warns(UserWarning, match="from_logits=True"):
        loss = losses.sparse_categorical_crossentropy(LABELS, output, from_logits=True)
    _close(loss, _np_sparse_ce(LABELS, PROBS), rtol=1e-4)


def test_out_of_range_label_raises_clear_error():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Received a label value of 10 which is outside the valid range "
                             r"of \[0, 10\)"):
        losses.sparse_categorical_crossentropy([10], np.full((1, 10), 0.1, np.float32))


def test_sparse_batch_mismatch_raises_value_error():
    with pytest.raises(ValueError, match=r"y_true.shape=\(5,\)"):
        losses.sparse_categorical_crossentropy(np.zeros(5, np.int64), PROBS)


def test_sparse_ce_axis_other_than_last():
    moved = np.transpose(PROBS)  # (classes, samples)
    _close(losses.sparse_categorical_crossentropy(LABELS, moved, axis=0),
           _np_sparse_ce(LABELS, PROBS))


# -- categorical and binary crossentropy ----------------------------------------------------

def _np_categorical_ce(y_true, probs):
    probs = probs / probs.sum(-1, keepdims=True)
    return -(y_true * np.log(np.clip(probs, EPS, 1 - EPS))).sum(-1)


def test_categorical_ce_from_probabilities_matches_numpy():
    _close(losses.categorical_crossentropy(ONE_HOT, PROBS), _np_categorical_ce(ONE_HOT, PROBS))


def test_categorical_ce_from_logits():
    log_softmax = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    _close(losses.categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True),
           -(ONE_HOT * log_softmax).sum(-1))


def test_categorical_ce_softmax_output_matches_probability_path():
    output = activations.softmax(tf.constant(LOGITS))
    _close(losses.categorical_crossentropy(ONE_HOT, output),
           losses.categorical_crossentropy(ONE_HOT, tf.constant(output.numpy())), rtol=1e-4)


def test_categorical_ce_label_smoothing():
    smoothed = ONE_HOT * 0.8 + 0.2 / 4
    _close(losses.CategoricalCrossentropy(label_smoothing=0.2)(ONE_HOT, PROBS),
           _np_categorical_ce(smoothed, PROBS).mean())


def test_categorical_ce_rejects_sparse_labels():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(LABELS.reshape(-1, 1), PROBS)


def _np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p + EPS) + (1 - y) * np.log(1 - p + EPS)).mean(-1)


BINARY_LABELS = np.array([[1.], [0.], [1.], [0.]], np.float32)
BINARY_LOGITS = np.array([[2.], [-1.], [-0.5], [3.]], np.float32)


def test_binary_ce_from_probabilities_matches_numpy():
    probs = _sigmoid(BINARY_LOGITS)
    _close(losses.binary_crossentropy(BINARY_LABELS, probs), _np_bce(BINARY_LABELS, probs))


def test_binary_ce_from_logits():
    x, z = BINARY_LOGITS.astype(np.float64), BINARY_LABELS
    expected = (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).mean(-1)
    _close(losses.binary_crossentropy(BINARY_LABELS, BINARY_LOGITS, from_logits=True), expected)


def test_binary_ce_sigmoid_output_uses_logits_and_stays_finite():
    output = activations.sigmoid(tf.constant([[-100.], [0.5]]))
    loss = losses.binary_crossentropy([[1.], [0.]], output)
    _close(loss, [100., 0.5 + np.log1p(np.exp(-0.5))], rtol=1e-5)


def test_binary_ce_label_smoothing_and_1d_labels_against_column_predictions():
    probs = _sigmoid(BINARY_LOGITS)
    loss = losses.BinaryCrossentropy(label_smoothing=0.1)(BINARY_LABELS[:, 0], probs)
    _close(loss, _np_bce(BINARY_LABELS * 0.9 + 0.05, probs).mean())


# -- regression and other losses ------------------------------------------------------------

Y_TRUE = RNG.uniform(0.1, 2., size=(5, 3)).astype(np.float32)
Y_PRED = RNG.uniform(0.1, 2., size=(5, 3)).astype(np.float32)


@pytest.mark.parametrize("fn, expected", [
    (losses.mean_squared_error, ((Y_PRED - Y_TRUE) ** 2).mean(-1)),
    (losses.mean_absolute_error, np.abs(Y_PRED - Y_TRUE).mean(-1)),
    (losses.mean_absolute_percentage_error, 100 * np.abs((Y_TRUE - Y_PRED) / Y_TRUE).mean(-1)),
    (losses.mean_squared_logarithmic_error,
     ((np.log1p(Y_PRED) - np.log1p(Y_TRUE)) ** 2).mean(-1)),
    (losses.poisson, (Y_PRED - Y_TRUE * np.log(Y_PRED + EPS)).mean(-1)),
    (losses.hinge, np.maximum(1 - Y_TRUE * Y_PRED, 0).mean(-1)),
    (losses.squared_hinge, (np.maximum(1 - Y_TRUE * Y_PRED, 0) ** 2).mean(-1)),
])
def test_elementwise_losses_match_numpy(fn, expected):
    _close(fn(Y_TRUE, Y_PRED), expected)


def test_huber_matches_numpy():
    error = Y_PRED - Y_TRUE * 2
    abs_error = np.abs(error)
    expected = np.where(abs_error <= 0.5, 0.5 * error ** 2, 0.5 * abs_error - 0.125).mean(-1)
    _close(losses.huber(Y_TRUE * 2, Y_PRED, delta=0.5), expected)


def test_kl_divergence_matches_numpy():
    p = _softmax(Y_TRUE.astype(np.float64))
    q = _softmax(Y_PRED.astype(np.float64))
    _close(losses.kl_divergence(p, q), (p * np.log(p / q)).sum(-1))


def test_cosine_similarity_loss():
    a = Y_TRUE / np.linalg.norm(Y_TRUE, axis=-1, keepdims=True)
    b = Y_PRED / np.linalg.norm(Y_PRED, axis=-1, keepdims=True)
    _close(losses.cosine_similarity(Y_TRUE, Y_PRED), -(a * b).sum(-1))


def test_hinge_maps_zero_one_labels_to_signs():
    _close(losses.hinge([[0., 1.]], [[0.5, 0.5]]), [(1.5 + 0.5) / 2])


def test_mse_column_predictions_with_1d_targets_do_not_broadcast():
    y = np.array([1., 2., 3.], np.float32)
    pred = np.array([[1.], [2.], [5.]], np.float32)
    _close(losses.mean_squared_error(y, pred), [0., 0., 4.])
    _close(losses.MeanSquaredError()(y, pred), 4. / 3.)


def test_batch_mismatch_raises_value_error():
    with pytest.raises(ValueError, match=r"y_true.shape=\(32, 1\).*y_pred.shape=\(16, 1\)"):
        losses.MeanSquaredError()(np.zeros((32, 1)), np.zeros((16, 1)))


def test_aliases():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mae is losses.MAE is losses.mean_absolute_error


# -- reductions and sample weights ----------------------------------------------------------

PER_SAMPLE = ((Y_PRED - Y_TRUE) ** 2).mean(-1)
WEIGHTS = np.array([1., 0., 2., 0.5, 1.], np.float32)


@pytest.mark.parametrize("reduction, expected", [
    ("sum_over_batch_size", PER_SAMPLE.mean()),
    ("auto", PER_SAMPLE.mean()),
    ("sum", PER_SAMPLE.sum()),
    ("none", PER_SAMPLE),
    (None, PER_SAMPLE),
])
def test_reductions(reduction, expected):
    loss = losses.MeanSquaredError(reduction=reduction)(Y_TRUE, Y_PRED)
    _close(loss, expected)


def test_keras2_reduction_constants():
    assert losses.Reduction.SUM_OVER_BATCH_SIZE == "sum_over_batch_size"
    assert set(losses.Reduction.all()) == {"auto", "none", "sum", "sum_over_batch_size"}


def test_invalid_reduction():
    with pytest.raises(ValueError, match="'average'"):
        losses.MeanSquaredError(reduction="average")


@pytest.mark.parametrize("weights", [WEIGHTS, WEIGHTS.reshape(-1, 1), list(WEIGHTS)])
def test_sample_weight_per_sample(weights):
    loss = losses.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=weights)
    _close(loss, (PER_SAMPLE * WEIGHTS).sum() / 5)


def test_scalar_sample_weight_scales_the_loss():
    _close(losses.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=2.), 2 * PER_SAMPLE.mean())


def test_sample_weight_with_sum_and_mean_with_sample_weight():
    _close(losses.MeanSquaredError(reduction="sum")(Y_TRUE, Y_PRED, sample_weight=WEIGHTS),
           (PER_SAMPLE * WEIGHTS).sum())
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    _close(loss(Y_TRUE, Y_PRED, sample_weight=WEIGHTS),
           (PER_SAMPLE * WEIGHTS).sum() / WEIGHTS.sum())


def test_sample_weight_of_wrong_length_raises():
    with pytest.raises(ValueError, match="sample_weight"):
        losses.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=np.ones(4))


def test_sparse_ce_sample_weight():
    loss = losses.SparseCategoricalCrossentropy()(LABELS, PROBS, sample_weight=np.arange(6.))
    _close(loss, (_np_sparse_ce(LABELS, PROBS) * np.arange(6.)).sum() / 6)


def test_loss_result_is_a_scalar_tensor():
    loss = losses.SparseCategoricalCrossentropy()(LABELS, PROBS)
    assert isinstance(loss, tf.Tensor) and loss.shape == () and loss.dtype == tf.float32


def test_custom_loss_subclass():
    class AbsoluteCubed(losses.Loss):
        def call(self, y_true, y_pred):
            return tf.reduce_mean(tf.abs(y_pred - y_true) ** 3, axis=-1)

    loss = AbsoluteCubed()
    assert loss.name == "absolute_cubed"
    _close(loss([[0.], [0.]], [[1.], [-2.]]), 4.5)


# -- lookup and configuration ---------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy),
    ("categorical_crossentropy", losses.categorical_crossentropy),
    ("binary_crossentropy", losses.binary_crossentropy),
    ("mse", losses.mean_squared_error),
    ("MSE", losses.mean_squared_error),
    ("mean_squared_error", losses.mean_squared_error),
    ("mae", losses.mean_absolute_error),
    ("huber_loss", losses.huber),
])
def test_get_function_names(name, expected):
    assert losses.get(name) is expected


@pytest.mark.parametrize("name, cls", [
    ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
    ("BinaryCrossentropy", losses.BinaryCrossentropy),
    ("MeanSquaredError", losses.MeanSquaredError),
    ("Huber", losses.Huber),
])
def test_get_class_names_give_instances(name, cls):
    assert type(losses.get(name)) is cls


def test_get_passes_callables_and_none_through():
    def my_loss(y_true, y_pred):
        return y_pred

    assert losses.get(my_loss) is my_loss
    instance = losses.Huber()
    assert losses.get(instance) is instance
    assert losses.get(None) is None


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown loss function: 'sparse_categorial'.*"
                                         "sparse_categorical_crossentropy"):
        losses.get("sparse_categorial")
    with pytest.raises(ValueError, match="Could not interpret"):
        losses.get(42)


def test_default_names():
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"


@pytest.mark.parametrize("loss", [
    losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum", name="scce"),
    losses.CategoricalCrossentropy(label_smoothing=0.1),
    losses.BinaryCrossentropy(from_logits=True),
    losses.Huber(delta=2.),
    losses.MeanAbsoluteError(reduction="none"),
])
def test_config_round_trip(loss):
    config = loss.get_config()
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == config


def test_sparse_ce_config_matches_keras():
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "reduction": "sum_over_batch_size", "name": "sparse_categorical_crossentropy",
        "from_logits": False, "ignore_class": None}


def test_serialize_function_as_keras3_does():
    config = losses.serialize(losses.mse)
    assert config == {"module": "builtins", "class_name": "function",
                      "config": "mean_squared_error", "registered_name": "function"}
    assert losses.deserialize(config) is losses.mean_squared_error
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error


def test_loss_function_wrapper_config_keeps_the_function():
    def double_mse(y_true, y_pred):
        return 2. * losses.mean_squared_error(y_true, y_pred)

    for fn in (losses.huber, double_mse):
        wrapper = losses.LossFunctionWrapper(fn, name="wrapped")
        clone = losses.LossFunctionWrapper.from_config(wrapper.get_config())
        assert clone.fn is fn and clone.name == "wrapped"
