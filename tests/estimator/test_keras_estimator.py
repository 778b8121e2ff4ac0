"""tf.keras.estimator.model_to_estimator."""

import numpy as np
import pytest

import numpyflow as tf

_X = np.random.RandomState(0).randn(256, 3).astype("float32")
_Y = (_X @ np.array([1., -2., 0.5]) > 0).astype("int32")


def compiled_model():
    inputs = tf.keras.Input((3,), name="x")
    hidden = tf.keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = tf.keras.layers.Dense(2, activation="softmax", name="probs")(hidden)
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": _X}, _Y)).repeat().batch(32)


def eval_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": _X}, _Y)).batch(256)


def test_starts_from_the_keras_weights_and_trains(tmp_path):
    model = compiled_model()
    estimator = tf.keras.estimator.model_to_estimator(model, model_dir=str(tmp_path))
    before = estimator.evaluate(eval_fn)
    keras_loss, keras_accuracy = model.evaluate(_X, _Y, verbose=0)
    assert sorted(before) == ["accuracy", "global_step", "loss"]
    assert before["loss"] == pytest.approx(keras_loss, rel=1e-5)
    assert before["accuracy"] == pytest.approx(keras_accuracy, rel=1e-6)
    estimator.train(train_fn, steps=150)
    after = estimator.evaluate(eval_fn)
    assert after["global_step"] == 150 and after["accuracy"] > 0.95
    prediction = next(iter(estimator.predict(eval_fn)))
    assert list(prediction) == ["probs"] and prediction["probs"].shape == (2,)
    names = estimator.get_variable_names()
    assert names[:5] == ["global_step", "hidden/kernel", "hidden/bias", "probs/kernel",
                         "probs/bias"]
    assert "hidden/kernel/m" in names
    # The Keras model itself is unchanged.
    assert model.evaluate(_X, _Y, verbose=0)[0] == pytest.approx(keras_loss, rel=1e-6)


def test_needs_a_compiled_model():
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="has not been compiled yet"):
        tf.keras.estimator.model_to_estimator(model)
