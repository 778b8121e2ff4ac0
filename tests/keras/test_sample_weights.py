"""Sample weights, class weights and `weighted_metrics` in fit/evaluate/train_on_batch.

The expected numbers follow Keras 3 (checked against Keras 3.15): each batch's loss is
`sum(loss * w) / batch size` ("sum_over_batch_size"), the logged loss is the mean of the
batch losses weighted by batch size; class weights become per-sample weights from the
labels; only `weighted_metrics` see the weights.
"""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras
from numpyflow.keras.trainers.data_adapters import data_adapter_utils

CLASS_WEIGHT = {0: 1., 1: 2., 2: 0.5}
BATCHES = [slice(0, 4), slice(4, 8), slice(8, 10)]  # batch_size=4 over 10 samples


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3)).astype("float32")
    y = rng.integers(0, 3, size=(10,))
    sample_weight = rng.uniform(0.5, 2., size=(10,)).astype("float32")
    return x, y, sample_weight


def _classifier(learning_rate=0., loss="sparse_categorical_crossentropy", **compile_kwargs):
    tf.random.set_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(learning_rate), loss, **compile_kwargs)
    return model


def _weighted_loss(per_sample, weights, batches=BATCHES):
    """Keras 3's logged loss: per batch sum(l * w) / batch size, averaged by batch size."""
    total = sum(np.sum(per_sample[part] * weights[part]) for part in batches)
    return total / len(per_sample)


def _crossentropy(model, x, y):
    probabilities = model.predict(x, verbose=0)
    return -np.log(probabilities[np.arange(len(y)), y].astype(np.float64))


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_and_evaluate_loss_with_sample_weights_is_keras_3s(run_eagerly):
    x, y, sample_weight = _data()
    # A learning rate of 0 keeps the model fixed, so every batch's loss is known.
    model = _classifier(metrics=["accuracy"], weighted_metrics=["accuracy"],
                        run_eagerly=run_eagerly)
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=4, epochs=3,
                        verbose=0, shuffle=False)
    per_sample = _crossentropy(model, x, y)
    expected = _weighted_loss(per_sample, sample_weight)
    assert abs(expected - _weighted_loss(per_sample, np.ones(10))) > 0.05  # weights matter
    np.testing.assert_allclose(history.history["loss"], [expected] * 3, rtol=1e-5)
    correct = (model.predict(x, verbose=0).argmax(-1) == y).astype(np.float64)
    logs = model.evaluate(x, y, sample_weight=sample_weight, batch_size=4, verbose=0,
                          return_dict=True)
    assert list(logs) == ["loss", "accuracy", "weighted_accuracy"]
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(logs["accuracy"], correct.mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["weighted_accuracy"],
                               np.sum(correct * sample_weight) / np.sum(sample_weight),
                               rtol=1e-5)
    if not run_eagerly:
        assert model.train_function.plan_sources() and model.test_function.plan_sources()


@pytest.mark.parametrize("labels", ["sparse", "sparse_n1", "one_hot"])
def test_class_weight_loss_is_keras_3s(labels):
    x, y, _ = _data()
    targets = {"sparse": y, "sparse_n1": y[:, None].astype("float32"),
               "one_hot": keras.utils.to_categorical(y, 3)}[labels]
    loss = "categorical_crossentropy" if labels == "one_hot" else \
        "sparse_categorical_crossentropy"
    model = _classifier(loss=loss)
    history = model.fit(x, targets, class_weight=CLASS_WEIGHT, batch_size=4, epochs=2,
                        verbose=0, shuffle=False)
    weights = np.array([CLASS_WEIGHT[label] for label in y])
    expected = _weighted_loss(_crossentropy(model, x, y), weights)
    np.testing.assert_allclose(history.history["loss"], [expected] * 2, rtol=1e-5)
    assert model.train_function.plan_sources()
    # The same as the equivalent sample weights, in train_on_batch too.
    assert abs(model.train_on_batch(x, targets, class_weight=CLASS_WEIGHT) -
               _weighted_loss(_crossentropy(model, x, y), weights, [slice(None)])) < 1e-5


def test_class_weights_come_from_the_labels_as_keras_computes_them():
    to_weights = data_adapter_utils.class_weight_to_sample_weights
    expected = [1., 0.5, 2., 1.]
    np.testing.assert_array_equal(to_weights(np.array([0, 2, 1, 0]), CLASS_WEIGHT), expected)
    np.testing.assert_array_equal(to_weights(np.array([[0.], [2.], [1.], [0.]]), CLASS_WEIGHT),
                                  expected)
    np.testing.assert_array_equal(to_weights(np.eye(3)[[0, 2, 1, 0]], CLASS_WEIGHT), expected)
    # Float labels are rounded; classes left out of the dict weigh 1.
    np.testing.assert_array_equal(to_weights(np.array([1.9, 4.]), {2: 3.}), [3., 1.])
    with pytest.raises(ValueError, match=r"received y.shape=\(2, 2, 3\)"):
        to_weights(np.zeros((2, 2, 3)), CLASS_WEIGHT)
    with pytest.raises(ValueError, match="non-negative class labels; `y` holds -1"):
        to_weights(np.array([-1, 0]), CLASS_WEIGHT)


def test_sample_weights_scale_the_gradient():
    # Weights of 2 double the loss and its gradient: SGD(0.01) then moves as SGD(0.02).
    x, y, _ = _data()
    weighted = _classifier(0.01)
    weighted.fit(x, y, sample_weight=np.full(10, 2.), batch_size=4, epochs=2, verbose=0,
                 shuffle=False)
    plain = _classifier(0.02)
    plain.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(weighted.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_validation_data_takes_sample_weights_third():
    x, y, sample_weight = _data()
    model = _classifier(metrics=["accuracy"], weighted_metrics=["accuracy"])
    history = model.fit(x, y, validation_data=(x, y, sample_weight), batch_size=4, epochs=1,
                        verbose=0)
    expected = model.evaluate(x, y, sample_weight=sample_weight, batch_size=4, verbose=0,
                              return_dict=True)
    for name, value in expected.items():
        np.testing.assert_allclose(history.history[f"val_{name}"][0], value, rtol=1e-6)
    # Without weights the validation loss differs.
    assert abs(model.evaluate(x, y, batch_size=4, verbose=0)[0] - expected["loss"]) > 0.05


def test_validation_split_splits_the_sample_weights_too():
    x, y, sample_weight = _data()
    model = _classifier()
    history = model.fit(x, y, sample_weight=sample_weight, validation_split=0.2,
                        batch_size=4, epochs=1, verbose=0, shuffle=False)
    per_sample = _crossentropy(model, x, y)
    np.testing.assert_allclose(history.history["loss"][0],
                               _weighted_loss(per_sample[:8], sample_weight[:8],
                                              BATCHES[:2]), rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"][0],
                               _weighted_loss(per_sample[8:], sample_weight[8:],
                                              [slice(0, 2)]), rtol=1e-5)


def test_train_and_test_on_batch_take_sample_weights():
    x, y, sample_weight = _data()
    model = _classifier(weighted_metrics=["accuracy"])
    expected = _weighted_loss(_crossentropy(model, x, y), sample_weight, [slice(None)])
    loss, _ = model.test_on_batch(x, y, sample_weight=sample_weight)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    logs = model.train_on_batch(x, y, sample_weight=sample_weight, return_dict=True)
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)


def test_reduction_of_the_loss_object_applies():
    # "mean_with_sample_weight" divides by the sum of the weights instead of the count.
    x, y, sample_weight = _data()
    loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")
    model = _classifier(loss=loss)
    value = model.evaluate(x, y, sample_weight=sample_weight, batch_size=10, verbose=0)
    per_sample = _crossentropy(model, x, y)
    np.testing.assert_allclose(value, np.sum(per_sample * sample_weight) / sample_weight.sum(),
                               rtol=1e-5)


def test_loss_functions_and_per_timestep_losses_are_weighted():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4, 2)).astype("float32")
    y = rng.normal(size=(6, 4, 1)).astype("float32")
    sample_weight = rng.uniform(size=(6,)).astype("float32")

    def squared_error(y_true, y_pred):  # A plain function: one loss per time step.
        return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1)

    tf.random.set_seed(2)
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.Dense(1)])
    model.compile("sgd", squared_error)
    value = model.evaluate(x, y, sample_weight=sample_weight, batch_size=6, verbose=0)
    per_step = np.mean((model.predict(x, verbose=0) - y) ** 2, axis=-1)  # (6, 4)
    np.testing.assert_allclose(value, np.sum(per_step * sample_weight[:, None]) / per_step.size,
                               rtol=1e-5)


def _two_output_model():
    tf.random.set_seed(3)
    inputs = keras.Input((3,))
    first = keras.layers.Dense(1, name="first")(inputs)
    second = keras.layers.Dense(2, name="second")(inputs)
    return keras.Model(inputs, [first, second])


def test_several_outputs_share_or_split_the_sample_weights():
    x, _, sample_weight = _data()
    rng = np.random.default_rng(4)
    y = [rng.normal(size=(10, 1)), rng.normal(size=(10, 2))]
    model = _two_output_model()
    model.compile("sgd", ["mse", "mse"], loss_weights=[1., 0.5], metrics=["mae", "mae"],
                  weighted_metrics={"second": ["mae", "mse"]})
    first, second = model.predict(x, verbose=0)
    errors = [np.mean((first - y[0]) ** 2, -1), np.mean((second - y[1]) ** 2, -1)]
    other_weight = np.linspace(0., 1., 10)

    def expected(weights):
        losses = [np.sum(error * w) / 10 for error, w in zip(errors, weights)]
        return losses[0] + 0.5 * losses[1], losses

    for given, weights in [(sample_weight, [sample_weight] * 2),
                           ([sample_weight, other_weight], [sample_weight, other_weight]),
                           ({"first": sample_weight, "second": other_weight},
                            [sample_weight, other_weight])]:
        logs = model.evaluate(x, y, sample_weight=given, batch_size=10, verbose=0,
                              return_dict=True)
        total, (first_loss, second_loss) = expected(weights)
        np.testing.assert_allclose(logs["loss"], total, rtol=1e-5)
        np.testing.assert_allclose(logs["first_loss"], first_loss, rtol=1e-5)
        np.testing.assert_allclose(logs["second_loss"], second_loss, rtol=1e-5)
        absolute = np.mean(np.abs(second - y[1]), -1)
        np.testing.assert_allclose(logs["second_mae"], absolute.mean(), rtol=1e-5)
        np.testing.assert_allclose(logs["second_weighted_mae"],
                                   np.sum(absolute * weights[1]) / np.sum(weights[1]),
                                   rtol=1e-5)
        np.testing.assert_allclose(logs["second_mse"],
                                   np.sum(errors[1] * weights[1]) / np.sum(weights[1]),
                                   rtol=1e-5)
    assert list(logs) == ["loss", "first_mae", "second_mae", "second_weighted_mae",
                          "second_mse", "first_loss", "second_loss"]


def test_weighted_metrics_names_follow_keras_3():
    x, y, sample_weight = _data()
    crossentropy = "sparse_categorical_crossentropy"
    model = _classifier(metrics=["accuracy", "accuracy"],
                        weighted_metrics=["accuracy", "accuracy", crossentropy])
    logs = model.evaluate(x, y, sample_weight=sample_weight, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy", "accuracy_1", "weighted_accuracy",
                          "weighted_accuracy_1", crossentropy]
    # Alone, the weighted metrics keep their names.
    model = _classifier(weighted_metrics=["accuracy"])
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss", "accuracy"]
    assert model.get_compile_config()["weighted_metrics"] == ["accuracy"]


def test_bad_weights_get_clear_errors():
    x, y, sample_weight = _data()
    model = _classifier()
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.fit(x, y, sample_weight=sample_weight, class_weight=CLASS_WEIGHT, verbose=0)
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.train_on_batch(x, y, sample_weight=sample_weight, class_weight=CLASS_WEIGHT)
    with pytest.raises(ValueError, match="y sizes: 10\n  sample_weight sizes: 7"):
        model.evaluate(x, y, sample_weight=sample_weight[:7], verbose=0)
    with pytest.raises(TypeError, match=r"`class_weight` must be a dict.*received "
                                        r"class_weight=\[1.0, 2.0\]"):
        model.fit(x, y, class_weight=[1., 2.], verbose=0)
    with pytest.raises(ValueError, match="keys must be integer class indices; received the "
                                         "key 'cat'"):
        model.fit(x, y, class_weight={"cat": 1.}, verbose=0)
    with pytest.raises(ValueError, match="val_sample_weight.*of length 4"):
        model.fit(x, y, validation_data=(x, y, sample_weight, y), verbose=0)
    with pytest.raises(ValueError, match="Invalid dtype: <U1 for `sample_weight`"):
        model.fit(x, y, sample_weight=np.array(["a"] * 10), verbose=0)
