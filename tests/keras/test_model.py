"""Sequential models: building, summary, compile/fit/evaluate/predict, callbacks, errors."""

import re

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras

pytestmark = pytest.mark.usefixtures("fresh_names")


def tutorial_model():
    model = keras.models.Sequential()
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(128, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def blobs(n=600, classes=3, dim=4, seed=0):
    """Separable Gaussian blobs: a tiny classification problem a model must learn."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, dim))
    labels = rng.integers(0, classes, size=n)
    return (centers[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


TUTORIAL_SUMMARY = """\
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
flatten (Flatten)            (None, 784)               0         
_________________________________________________________________
dense (Dense)                (None, 128)               100480    
_________________________________________________________________
dense_1 (Dense)              (None, 10)                1290      
=================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
_________________________________________________________________
"""


def test_summary_matches_tf_keras_layout(capsys):
    model = tutorial_model()
    model.build((None, 28 * 28))
    model.summary()
    assert capsys.readouterr().out == TUTORIAL_SUMMARY


def test_summary_print_fn_and_line_length():
    model = tutorial_model()
    model.build((None, 784))
    lines = []
    model.summary(print_fn=lines.append, line_length=80)
    assert lines[0] == 'Model: "sequential"' and lines[1] == "_" * 80
    assert lines[2].startswith("Layer (type)") and len(lines[2]) == 80


def test_summary_before_build_raises():
    with pytest.raises(ValueError, match="not yet been built"):
        tutorial_model().summary()


def test_auto_names_count_per_class_and_model():
    first, second = tutorial_model(), tutorial_model()
    assert first.name == "sequential" and second.name == "sequential_1"
    assert [layer.name for layer in second.layers] == ["flatten_1", "dense_2", "dense_3"]


def test_weights_and_counts():
    model = tutorial_model()
    model.build((None, 784))
    assert model.count_params() == 101770
    assert [w.shape for w in model.weights] == [(784, 128), (128,), (128, 10), (10,)]
    assert model.weights[0].name == "dense/kernel:0"
    assert len(model.trainable_weights) == 4 and model.non_trainable_weights == []
    values = model.get_weights()
    model.set_weights([v * 0 for v in values])
    assert all(not w.numpy().any() for w in model.weights)
    with pytest.raises(ValueError, match="expects 4 weight arrays"):
        model.set_weights(values[:2])
    assert model.get_layer("dense_1") is model.layers[2]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")


def test_model_built_lazily_on_first_call_and_input_layer():
    model = keras.Sequential([keras.layers.Dense(3)])
    assert not model.built
    out = model(np.ones((5, 4)))
    assert out.shape == (5, 3) and out.dtype == tf.float32 and model.built
    with_input = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    assert with_input.built and with_input.output_shape == (None, 2)
    assert len(with_input.layers) == 1
    with_shape = keras.Sequential([keras.layers.Dense(2, input_shape=(6,))])
    assert with_shape.built and with_shape.count_params() == 14


def test_fit_learns_and_returns_history():
    x, y = blobs()
    model = keras.Sequential([keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0, validation_split=0.2)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == list(range(8))
    assert history.params == {"verbose": 0, "epochs": 8, "steps": 15}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.9 and loss == pytest.approx(
        float(np.mean(-np.log(model.predict(x, verbose=0)[np.arange(len(y)), y]))), rel=1e-4)
    assert model.metrics_names == ["loss", "accuracy"]
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}


def test_predict_and_batch_methods():
    x, y = blobs(n=70)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    predictions = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (70, 3)
    np.testing.assert_allclose(predictions, model(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), predictions[:5], rtol=1e-6)
    loss, acc = model.train_on_batch(x[:32], y[:32])
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}


def test_fit_accepts_float64_images_and_one_hot_labels():
    x, y = blobs(n=64)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", ["accuracy"])
    history = model.fit(x.astype(np.float64), keras.utils.to_categorical(y, 3), epochs=1,
                        verbose=0)
    assert "accuracy" in history.history
    assert model.compiled_metrics.metrics[0].name == "accuracy"


def test_validation_data_and_no_shuffle_is_deterministic():
    x, y = blobs(n=128)
    results = []
    for _ in range(2):
        keras.backend.clear_session()
        tf.random.set_seed(3)
        model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        results.append(model.fit(x, y, epochs=2, verbose=0, shuffle=True,
                                 validation_data=(x[:20], y[:20])).history)
    assert results[0] == results[1] and "val_loss" in results[0]


def test_callbacks_see_every_hook_in_order():
    events = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = blobs(n=40)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[Recorder()],
              validation_data=(x, y))
    assert events[0] == "train_begin" and events[-1] == "train_end"
    assert events[1:5] == ["epoch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                           "batch_end 1 ['accuracy', 'loss']",
                           "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']"]


def test_callback_can_stop_training():
    class StopAfterOne(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y = blobs(n=40)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[StopAfterOne()])
    assert history.epoch == [0]


PROGRESS_LINE = re.compile(
    r"^2/2 \[==============================\] - \d+s \d+(ms|us|s)/step - loss: \d\.\d{4} - "
    r"accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$")


def test_progress_output_when_not_a_terminal(capsys):
    x, y = blobs(n=64)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=2, verbose=1, validation_data=(x, y))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert PROGRESS_LINE.match(lines[1]) and PROGRESS_LINE.match(lines[3]), lines


def test_single_epoch_prints_no_epoch_header_and_verbose_2_prints_one_line(capsys):
    x, y = blobs(n=64)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=1, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("2/2 [")
    model.fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and re.match(r"^2/2 - \d+s - loss: \d\.\d{4} - accuracy: ", lines[0])
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_progress_bar_redraws_in_place_on_a_terminal(monkeypatch, capsys):
    from numpyflow.keras.utils import progbar
    monkeypatch.setattr(progbar, "_isatty", lambda: True)
    bar = progbar.Progbar(4, interval=0.0)
    for step in range(1, 5):
        bar.update(step, [("loss", 0.5)])
    out = capsys.readouterr().out
    assert out.count("\r") == 4 and "ETA: 0s" in out and out.endswith("- loss: 0.5000\n")
    assert "1/4 [======>.......................]" in out


def test_evaluate_prints_a_bar(capsys):
    x, y = blobs(n=64)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    model.evaluate(x, y)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("2/2 [") and "accuracy" in out[0]


def test_built_shape_mismatch_warns_once_and_trains(caplog):
    """The tutorial builds for (None, 784) and fits on (N, 28, 28): TF 2.x warned and trained."""
    model = tutorial_model()
    model.build((None, 784))
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    x = np.random.default_rng(0).random((64, 28, 28))
    y = np.arange(64) % 10
    import logging
    logger = logging.getLogger("numpyflow")
    logger.addHandler(caplog.handler)
    try:
        model.fit(x, y, epochs=2, verbose=0)
    finally:
        logger.removeHandler(caplog.handler)
    warnings = [r.getMessage() for r in caplog.records if "incompatible shape" in r.getMessage()]
    assert len(warnings) == 1
    assert "constructed with shape (None, 784)" in warnings[0] and "(32, 28, 28)" in warnings[0]


# -- bad input ------------------------------------------------------------------------------

def test_wrong_input_width_for_built_model_names_the_layer():
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(8,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r'layer "dense".*expected axis -1.*value 8.*\(3, 5\)'):
        model(np.ones((3, 5)))


def test_wrong_input_rank_for_built_model():
    model = tutorial_model()
    model.build((None, 784))
    with pytest.raises(ValueError, match=r"dense.*784.*\(4, 100\)"):
        model.predict(np.ones((4, 10, 10)), verbose=0)


def test_labels_out_of_range_are_reported():
    x, _ = blobs(n=8)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 7.*\\[0, 3\\)"):
        model.fit(x, np.full(8, 7), verbose=0)


def test_x_and_y_lengths_must_match():
    model = keras.Sequential([keras.layers.Dense(3)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="x sizes: 10\n  y sizes: 9"):
        model.fit(np.ones((10, 2)), np.ones((9, 3)), verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"optimizer": "sgdd", "loss": "mse"}, "sgdd"),
    ({"optimizer": "sgd", "loss": "msee"}, "msee"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": ["acuracy"]}, "acuracy"),
])
def test_unknown_strings_in_compile_are_rejected(kwargs, match):
    model = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=match):
        model.compile(**kwargs)


def test_fit_before_compile_raises():
    with pytest.raises(RuntimeError, match="compile"):
        keras.Sequential([keras.layers.Dense(1)]).fit(np.ones((2, 2)), np.ones((2, 1)))


def test_nan_loss_is_reported(caplog):
    import logging
    x, y = blobs(n=64)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(learning_rate=1e30), "sparse_categorical_crossentropy")
    logger = logging.getLogger("numpyflow")
    logger.addHandler(caplog.handler)
    try:
        with np.errstate(all="ignore"):
            history = model.fit(x * 1e10, y, epochs=2, verbose=0)
    finally:
        logger.removeHandler(caplog.handler)
    assert not np.isfinite(history.history["loss"][-1])
    assert any("loss became nan" in r.getMessage() for r in caplog.records)
    with np.errstate(all="ignore"):
        stopped = model.fit(x * 1e10, y, epochs=3, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
    assert stopped.epoch == [0]


def test_subclassed_model_trains():
    class TwoLayer(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(16, activation="relu")
            self.out = keras.layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    x, y = blobs()
    model = TwoLayer()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=6, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert len(model.trainable_weights) == 4 and model.name == "two_layer"


# -- compiled training steps ------------------------------------------------------------------

def _train_weights(run_eagerly, optimizer, layers):
    keras.backend.clear_session()
    tf.random.set_seed(3)
    x, y = blobs(n=200, dim=6, seed=4)
    model = keras.Sequential([keras.Input((6,))] + layers())
    model.compile(optimizer(), "sparse_categorical_crossentropy", ["accuracy"],
                  run_eagerly=run_eagerly)
    history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.2, verbose=0)
    return model, history.history, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: keras.optimizers.Adam(0.01),
    lambda: keras.optimizers.RMSprop(0.01),
], ids=["sgd_nesterov", "adam", "rmsprop"])
def test_compiled_fit_equals_eager_fit_bit_for_bit(optimizer):
    def layers():
        return [keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.3),
                keras.layers.Dense(3, activation="softmax")]

    model, compiled_logs, compiled = _train_weights(False, optimizer, layers)
    assert model.train_function.plan_sources() and model.test_function.plan_sources()
    assert model.train_function.eager_reasons() == []
    _, eager_logs, eager = _train_weights(True, optimizer, layers)
    assert compiled_logs == eager_logs
    for a, b in zip(compiled, eager):
        np.testing.assert_array_equal(a, b)


def test_run_eagerly_runs_train_step_itself():
    model = keras.Sequential([keras.layers.Dense(2)])
    model.compile("sgd", "mse", run_eagerly=True)
    assert model.run_eagerly and model.make_train_function() == model.train_step
    model.run_eagerly = False
    assert model.make_train_function().python_function == model.train_step


def test_labels_out_of_range_after_compiling_are_reported_and_weights_kept():
    x, y = blobs(n=64)
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, verbose=0)
    assert model.train_function.plan_sources()
    before = [w.numpy() for w in model.weights]
    bad = y[:8].copy()
    bad[3] = 7
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 7"):
        model.train_on_batch(x[:8], bad)
    for kept, weight in zip(before, model.weights):
        np.testing.assert_array_equal(kept, weight.numpy())
