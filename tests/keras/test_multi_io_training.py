"""Training models with several inputs and outputs: losses, weights, metrics, targets, logs."""

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras

pytestmark = pytest.mark.usefixtures("fresh_names")


class TwoInTwoOut(keras.Model):
    """Two inputs (4 and 5 features), a regression output and a 3-class output.

    Returns `[regression, classes]`, or `{"reg": ..., "cls": ...}` with `as_dict`.
    """

    def __init__(self, as_dict=False, **kwargs):
        super().__init__(**kwargs)
        self.as_dict = as_dict
        self.left = keras.layers.Dense(8, activation="relu")
        self.right = keras.layers.Dense(8, activation="relu")
        self.regression = keras.layers.Dense(1)
        self.classes = keras.layers.Dense(3, activation="softmax")

    def call(self, inputs):
        first, second = inputs
        hidden = tf.concat([self.left(first), self.right(second)], axis=-1)
        regression, classes = self.regression(hidden), self.classes(hidden)
        if self.as_dict:
            return {"reg": regression, "cls": classes}
        return [regression, classes]


def two_task_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=(n, 4)).astype(np.float32)
    x2 = rng.normal(size=(n, 5)).astype(np.float32)
    y_reg = (x1[:, :1] - x2[:, :1]).astype(np.float32)
    y_cls = (x1[:, 1] > 0).astype(np.int64) + (x2[:, 1] > 0.5)
    return [x1, x2], y_reg, y_cls


def reference_losses(model, x, y_reg, y_cls):
    """Each output's loss computed with NumPy from the model's predictions."""
    predictions = model.predict(x, verbose=0)
    reg, cls = (predictions["reg"], predictions["cls"]) if model.as_dict else predictions
    mse = np.mean((reg - y_reg) ** 2)
    probabilities = np.clip(cls[np.arange(len(y_cls)), y_cls], 1e-7, 1 - 1e-7)
    return mse, np.mean(-np.log(probabilities))


def test_dict_model_trains_with_dict_losses_and_weights():
    x, y_reg, y_cls = two_task_data()
    model = TwoInTwoOut(as_dict=True)
    model.compile(keras.optimizers.Adam(0.02),
                  loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 0.5, "cls": 2.0},
                  metrics={"cls": ["accuracy"], "reg": "mae"})
    history = model.fit(x, {"reg": y_reg, "cls": y_cls}, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]
    assert set(history.history) == {"loss", "cls_accuracy", "reg_mae", "cls_loss", "reg_loss"}

    logs = model.evaluate(x, {"reg": y_reg, "cls": y_cls}, batch_size=96, verbose=0,
                          return_dict=True)
    mse, crossentropy = reference_losses(model, x, y_reg, y_cls)
    np.testing.assert_allclose(logs["reg_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["cls_loss"], crossentropy, rtol=1e-5)
    # The total is the weighted sum of the (unweighted) per-output losses.
    np.testing.assert_allclose(logs["loss"], 0.5 * mse + 2.0 * crossentropy, rtol=1e-5)


def test_list_model_trains_with_list_losses_and_weights():
    x, y_reg, y_cls = two_task_data()
    model = TwoInTwoOut()
    model.compile(keras.optimizers.Adam(0.02),
                  loss=["mse", keras.losses.SparseCategoricalCrossentropy()],
                  loss_weights=[3.0, 0.25], metrics=[None, ["accuracy"]])
    history = model.fit(x, [y_reg, y_cls], epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    # Unnamed outputs: each loss logs under its own name, as in Keras 3.
    assert list(history.history) == ["loss", "accuracy", "mse_loss",
                                     "sparse_categorical_crossentropy_loss"]
    # Uneven batches (40 + 40 + 16): the epoch means weigh batches by size, so the total
    # still is the weighted sum.
    loss, accuracy, mse, crossentropy = model.evaluate(x, [y_reg, y_cls], batch_size=40,
                                                       verbose=0)
    expected_mse, expected_crossentropy = reference_losses(model, x, y_reg, y_cls)
    np.testing.assert_allclose([mse, crossentropy], [expected_mse, expected_crossentropy],
                               rtol=1e-5)
    np.testing.assert_allclose(loss, 3.0 * mse + 0.25 * crossentropy, rtol=1e-5)
    predicted = np.argmax(model.predict(x, verbose=0)[1], axis=-1)
    np.testing.assert_allclose(accuracy, np.mean(predicted == y_cls), rtol=1e-6)


def test_one_loss_applies_to_every_output():
    x, y_reg, _ = two_task_data(n=32)
    model = TwoInTwoOut()
    model.compile("sgd", loss="mse")
    targets = [y_reg, np.zeros((32, 3), np.float32)]
    logs = model.test_on_batch(x, targets, return_dict=True)
    reg, cls = model.predict_on_batch(x)
    np.testing.assert_allclose(logs["mse_loss"], np.mean((reg - y_reg) ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["mse_loss_1"], np.mean(cls ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], logs["mse_loss"] + logs["mse_loss_1"], rtol=1e-6)


def test_targets_may_be_a_list_for_a_dict_model():
    # As Keras 3 packs them: in the order of the sorted output names ("cls", "reg").
    x, y_reg, y_cls = two_task_data(n=32)
    model = TwoInTwoOut(as_dict=True)
    model.compile("sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    by_name = model.test_on_batch(x, {"reg": y_reg, "cls": y_cls}, return_dict=True)
    by_order = model.test_on_batch(x, [y_cls, y_reg], return_dict=True)
    assert by_name == by_order


def test_an_output_without_loss_needs_no_target():
    x, y_reg, _ = two_task_data(n=32)
    model = TwoInTwoOut(as_dict=True)
    model.compile("sgd", loss={"reg": "mse"})
    history = model.fit(x, {"reg": y_reg}, epochs=2, verbose=0)
    assert list(history.history) == ["loss"]  # One loss: no per-output trackers.


def test_predict_returns_the_output_structure_concatenated_over_batches():
    x, _, _ = two_task_data(n=50)
    model = TwoInTwoOut(as_dict=True)
    whole = model.predict_on_batch(x)
    batched = model.predict(x, batch_size=16, verbose=0)
    assert set(batched) == {"reg", "cls"}
    assert batched["reg"].shape == (50, 1) and batched["cls"].shape == (50, 3)
    np.testing.assert_allclose(batched["cls"], whole["cls"], rtol=1e-6)
    listed = TwoInTwoOut().predict(x, batch_size=16, verbose=0)
    assert isinstance(listed, list) and [a.shape for a in listed] == [(50, 1), (50, 3)]


def test_validation_split_and_data_take_nested_arrays():
    x, y_reg, y_cls = two_task_data(n=40)
    model = TwoInTwoOut(as_dict=True)
    model.compile("sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    y = {"reg": y_reg, "cls": y_cls}
    history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    expected = model.evaluate([a[30:] for a in x], {k: v[30:] for k, v in y.items()},
                              verbose=0, return_dict=True)
    # Validation runs after the epoch's updates, on the last quarter of the samples.
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"], rel=1e-6)
    history = model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert "val_cls_loss" in history.history


def test_compiled_steps_run_as_plans():
    x, y_reg, y_cls = two_task_data(n=64)
    model = TwoInTwoOut()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"])
    model.fit(x, [y_reg, y_cls], batch_size=16, epochs=2, verbose=0)
    model.predict(x, batch_size=16, verbose=0)
    model.predict(x, batch_size=16, verbose=0)
    assert model.train_function.plan_sources() and model.train_function.eager_reasons() == []
    assert model.predict_function.plan_sources()


@pytest.mark.parametrize("y, match", [
    (lambda r, c: r, "2 outputs, but `y` is a single array"),
    (lambda r, c: [r], "2 output.*list of 1 arrays"),
    (lambda r, c: {"reg": r, "cls": c, "aux": r}, r"keys \['aux'\] that are not outputs"),
    (lambda r, c: {"reg": r}, r"no target for the output\(s\) \['cls'\]"),
])
def test_targets_that_do_not_match_the_outputs_are_rejected(y, match):
    x, y_reg, y_cls = two_task_data(n=16)
    model = TwoInTwoOut(as_dict=True)
    model.compile("sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match=match):
        model.fit(x, y(y_reg, y_cls), verbose=0)


def test_dict_targets_need_named_outputs():
    x, y_reg, y_cls = two_task_data(n=16)
    model = TwoInTwoOut()
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="outputs have no names"):
        model.fit(x, {"a": y_reg, "b": y_cls}, verbose=0)


@pytest.mark.parametrize("compile_kwargs, match", [
    ({"loss": {"reg": "mse", "other": "mse"}}, r"keys \['other'\] do not correspond"),
    ({"loss": ["mse"]}, "2 output.*`loss`.*2 entries"),
    ({"loss": "mse", "loss_weights": [1.0, 2.0, 3.0]}, "`loss_weights`.*2 entries"),
    ({"loss": "mse", "loss_weights": {"reg": "big"}}, "must be numbers"),
    ({"loss": {"reg": "mse"}, "metrics": ["mae"]}, "`metrics`.*2 entries"),
    ({"loss": {"reg": "mse"}, "metrics": {"nope": "mae"}}, r"keys \['nope'\] do not correspond"),
])
def test_compile_arguments_that_do_not_match_the_outputs_are_rejected(compile_kwargs, match):
    x, y_reg, y_cls = two_task_data(n=16)
    model = TwoInTwoOut(as_dict=True)
    model.compile("sgd", **compile_kwargs)
    with pytest.raises(ValueError, match=match):
        model.fit(x, {"reg": y_reg, "cls": y_cls}, verbose=0)


def test_output_names_of_the_model_name_list_outputs():
    # Functional models define `output_names`; any model that has them gets named logs.
    class Named(TwoInTwoOut):
        output_names = ["price", "kind"]

    x, y_reg, y_cls = two_task_data(n=32)
    model = Named()
    model.compile("sgd", loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
                  loss_weights={"kind": 0.5}, metrics={"kind": "accuracy"})
    logs = model.test_on_batch(x, {"price": y_reg, "kind": y_cls}, return_dict=True)
    assert list(logs) == ["loss", "kind_accuracy", "price_loss", "kind_loss"]
    np.testing.assert_allclose(logs["loss"], logs["price_loss"] + 0.5 * logs["kind_loss"],
                               rtol=1e-6)
    assert model.test_on_batch(x, [y_reg, y_cls], return_dict=True) == logs


def test_cardinality_is_checked_across_inputs_and_outputs():
    x, y_reg, y_cls = two_task_data(n=16)
    model = TwoInTwoOut()
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="x sizes: 16, 15\n  y sizes: 16, 16"):
        model.fit([x[0], x[1][:15]], [y_reg, y_cls], verbose=0)


def test_functional_model_trains_with_losses_keyed_by_output_layer():
    inputs = [keras.Input((4,), name="a"), keras.Input((5,), name="b")]
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()(inputs))
    outputs = [keras.layers.Dense(1, name="price")(hidden),
               keras.layers.Dense(3, activation="softmax", name="kind")(hidden)]
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.02),
                  loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
                  loss_weights={"price": 0.5}, metrics={"kind": "accuracy"})
    (x1, x2), y_reg, y_cls = two_task_data()
    history = model.fit({"a": x1, "b": x2}, {"price": y_reg, "kind": y_cls}, epochs=5,
                        batch_size=16, verbose=0)
    assert list(history.history) == ["loss", "kind_accuracy", "price_loss", "kind_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    logs = model.evaluate([x1, x2], [y_reg, y_cls], verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], 0.5 * logs["price_loss"] + logs["kind_loss"],
                               rtol=1e-5)


def test_subclassed_model_takes_a_dict_of_inputs():
    class DictInputs(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(tf.concat([inputs["a"], inputs["b"]], axis=-1))

    model = DictInputs()
    model.compile("sgd", "mse")
    x = {"a": np.ones((8, 2), np.float32), "b": np.zeros((8, 3), np.float32)}
    model.fit(x, np.ones((8, 1), np.float32), epochs=2, verbose=0)
    assert model.predict(x, batch_size=3, verbose=0).shape == (8, 1)
