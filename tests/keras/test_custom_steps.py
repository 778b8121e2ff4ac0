"""Custom `train_step`/`test_step`/`predict_step` in the Keras 3 and the TF 2.x idioms.

Each custom model is checked against the same model with the built-in steps: the same
History, the same weights, compiled plans, and its metrics in the progress bar.
"""

import re
import warnings

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras


class Keras3Step(keras.Sequential):
    """The Keras 3 idiom: compute_loss(..., training=True), then compute_metrics."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self.compute_metrics(x, y, y_pred, sample_weight)


class TF2Step(keras.Sequential):
    """The TF 2.x idiom of tutorials: compiled_loss and compiled_metrics."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight,
                                      regularization_losses=self.losses)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return {m.name: m.result() for m in self.metrics}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = (x @ np.array([[1.], [-2.], [0.5]]) + 0.1).astype("float32")
    sample_weight = rng.uniform(0.5, 2., size=(20,)).astype("float32")
    return x, y, sample_weight


def _model(cls, run_eagerly=False):
    tf.random.set_seed(7)
    model = cls([keras.Input((3,)),
                 keras.layers.Dense(4, activation="relu", kernel_regularizer="l2"),
                 keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"],
                  weighted_metrics=["mse"], run_eagerly=run_eagerly)
    return model


def _fit(model, verbose=0):
    x, y, sample_weight = _data()
    return model.fit(x, y, sample_weight=sample_weight, batch_size=8, epochs=3,
                     verbose=verbose, shuffle=False)


@pytest.fixture(scope="module")
def reference():
    model = _model(keras.Sequential)
    return _fit(model).history, model.get_weights()


@pytest.mark.parametrize("cls", [Keras3Step, TF2Step])
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_custom_train_steps_train_like_the_built_in_one(cls, run_eagerly, reference, capsys):
    expected_history, expected_weights = reference
    model = _model(cls, run_eagerly)
    history = _fit(model, verbose=1).history
    assert set(history) == {"loss", "mae", "mse"}
    for name, values in expected_history.items():
        np.testing.assert_allclose(history[name], values, rtol=1e-5, err_msg=name)
    for actual, expected in zip(model.get_weights(), expected_weights):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)
    # The progress bar reports the step's metrics: the last epoch's line has its values.
    lines = [line for line in capsys.readouterr().out.splitlines() if "/step" in line]
    assert len(lines) == 3
    shown = dict(re.findall(r" - (\w+): ([0-9.e+-]+)", lines[-1]))
    assert set(shown) == {"loss", "mae", "mse"}
    for name, value in shown.items():
        assert abs(float(value) - history[name][-1]) < 1e-4, (name, lines[-1])
    if not run_eagerly:
        assert model.train_function.eager_reasons() == []
        assert model.train_function.plan_sources()


def test_the_tf2_idiom_adds_regularization_only_when_passed():
    x, y, _ = _data()
    model = _model(keras.Sequential)
    y_pred = model(x)
    with_penalty = model.compiled_loss(y, y_pred, regularization_losses=model.losses)
    without = model.compiled_loss(y, y_pred)
    penalty = sum(float(loss) for loss in model.losses)
    assert penalty > 1e-3
    np.testing.assert_allclose(float(with_penalty) - float(without), penalty, rtol=1e-5)
    # Each call is tracked as `loss`, weighted by batch size, as tf.keras 2 did.
    np.testing.assert_allclose(float(model.metrics[0].result()),
                               (float(with_penalty) + float(without)) / 2, rtol=1e-6)


class OwnMetrics(keras.Sequential):
    """The Keras 3 guide's low-level idiom: no compiled loss, metrics as attributes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(keras.losses.mean_squared_error(y, y_pred))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}


def test_metrics_set_as_attributes_are_tracked_and_reset_each_epoch():
    x, y, _ = _data()
    tf.random.set_seed(7)
    model = OwnMetrics([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05))  # No loss: the step computes its own.
    assert model.metrics == [model.loss_tracker, model.mae_metric]
    history = model.fit(x, y, batch_size=20, epochs=2, verbose=0).history
    # One batch per epoch: were the trackers not reset, epoch 2 would average two losses.
    tf.random.set_seed(7)
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    reference.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    expected = reference.fit(x, y, batch_size=20, epochs=2, verbose=0).history
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["mae"], expected["mae"], rtol=1e-5)


class OverridesComputeLoss(keras.Sequential):
    """Overrides compute_loss only, in the pre-3.3 signature (no `training`)."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        return 2. * super().compute_loss(x, y, y_pred, sample_weight)


def test_an_overridden_compute_loss_is_what_fit_minimizes_and_reports():
    x, y, sample_weight = _data()
    model = _model(OverridesComputeLoss)
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=20, epochs=3,
                        verbose=0).history
    reference = _model(keras.Sequential)
    expected = reference.fit(x, y, sample_weight=sample_weight, batch_size=20, epochs=1,
                             verbose=0).history
    np.testing.assert_allclose(history["loss"][0], 2 * expected["loss"][0], rtol=1e-5)
    assert history["loss"][2] < history["loss"][0]
    assert model.train_function.plan_sources()


class CustomTestAndPredict(keras.Sequential):
    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        logs = self.compute_metrics(x, y, y_pred, sample_weight)
        logs["doubled_loss"] = 2. * loss
        return logs

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return {"prediction": self(x, training=False), "negated": -self(x, training=False)}


def test_custom_test_and_predict_steps():
    x, y, sample_weight = _data()
    model = _model(CustomTestAndPredict)
    reference = _model(keras.Sequential)
    logs = model.evaluate(x, y, sample_weight=sample_weight, batch_size=20, verbose=0,
                          return_dict=True)
    expected = reference.evaluate(x, y, sample_weight=sample_weight, batch_size=20,
                                  verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae", "mse", "doubled_loss"]
    for name, value in expected.items():
        np.testing.assert_allclose(logs[name], value, rtol=1e-6)
    np.testing.assert_allclose(logs["doubled_loss"], 2 * expected["loss"], rtol=1e-6)
    outputs = model.predict(x, batch_size=8, verbose=0)
    np.testing.assert_allclose(outputs["prediction"], reference.predict(x, verbose=0),
                               rtol=1e-6)
    np.testing.assert_array_equal(outputs["negated"], -outputs["prediction"])


def test_unpack_x_y_sample_weight_as_keras():
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 3.)
    unpack = keras.utils.unpack_x_y_sample_weight
    assert unpack(x)[0] is x and unpack(x)[1:] == (None, None)
    assert unpack((x,))[0] is x
    assert unpack([x, y])[1] is y and unpack((x, y))[2] is None
    assert unpack((x, y, w))[2] is w
    with pytest.raises(ValueError, match="received a tuple of length 4"):
        unpack((x, y, w, w))
    assert keras.utils.pack_x_y_sample_weight(x, y, w) == (x, y, w)
    assert keras.utils.pack_x_y_sample_weight((x, y))[0] == (x, y)


def test_vector_metric_results_reach_the_progress_bar_and_history(capsys):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, size=24), 3)
    tf.random.set_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=[keras.metrics.F1Score()])
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x, y), verbose=1)
    for name in ("f1_score", "val_f1_score"):
        assert [value.shape for value in history.history[name]] == [(3,), (3,)]
        assert all(isinstance(value, np.ndarray) for value in history.history[name])
    # As Keras 3's Progbar: a vector shows as its mean.
    last = [line for line in capsys.readouterr().out.splitlines() if "/step" in line][-1]
    assert f"f1_score: {np.mean(history.history['f1_score'][-1]):.4f}" in last
    assert f"val_f1_score: {np.mean(history.history['val_f1_score'][-1]):.4f}" in last
    loss, f1 = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float) and f1.shape == (3,)
    np.testing.assert_allclose(f1, history.history["val_f1_score"][-1], rtol=1e-6)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["f1_score"].shape == (3,)


def test_fit_without_a_loss_needs_a_custom_step():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = OwnMetrics([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd")
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
