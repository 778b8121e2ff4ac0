"""EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger and LambdaCallback."""

import csv
import logging

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras
callbacks = keras.callbacks

pytestmark = pytest.mark.usefixtures("fresh_names")


def small_model(learning_rate=0.01):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    return model


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    return x, x @ np.array([[1.], [-2.], [.5]], np.float32)


def run_epochs(callback, values, model=None, key="val_loss"):
    """Drives `callback` through epochs whose logs hold `values` under `key`."""
    model = model or small_model()
    callback.set_model(model)
    callback.on_train_begin({})
    stopped_at = None
    for epoch, value in enumerate(values):
        model.layers[0].kernel.assign(np.full((3, 1), float(epoch), np.float32))
        callback.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            stopped_at = epoch
            break
    callback.on_train_end({})
    return model, stopped_at


# -- EarlyStopping -----------------------------------------------------------------------------

def test_early_stopping_waits_patience_epochs_without_improvement():
    _, stopped = run_epochs(callbacks.EarlyStopping(patience=2), [1., .5, .6, .55, .4])
    assert stopped == 3  # Best at epoch 1; epochs 2 and 3 did not improve on it.


def test_early_stopping_min_delta_and_mode_max():
    _, stopped = run_epochs(callbacks.EarlyStopping(patience=1, min_delta=.1),
                            [1., .95, .7, .65])
    assert stopped == 1  # .95 is not .1 better than 1.
    _, stopped = run_epochs(callbacks.EarlyStopping(monitor="val_accuracy", patience=1),
                            [.5, .6, .6], key="val_accuracy")
    assert stopped == 2  # Accuracy is maximized ("auto" from the name).


def test_early_stopping_restores_the_best_weights(capsys):
    stop = callbacks.EarlyStopping(patience=1, restore_best_weights=True, verbose=1)
    model, stopped = run_epochs(stop, [1., .3, .5, .6])
    assert stopped == 2 and stop.best_epoch == 1
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), np.full((3, 1), 1.))
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_baseline_and_start_from_epoch():
    _, stopped = run_epochs(callbacks.EarlyStopping(patience=2, baseline=.1), [.5, .4, .3])
    assert stopped == 1  # Never beat the baseline: stops after `patience` epochs.
    _, stopped = run_epochs(callbacks.EarlyStopping(patience=0, start_from_epoch=3),
                            [1., 2., 3., .5, .6])
    assert stopped == 4


def test_early_stopping_in_fit_stops_and_reports(caplog):
    x, y = data()
    model = small_model(learning_rate=0.)  # Nothing improves.
    history = model.fit(x, y, epochs=20, validation_data=(x, y), verbose=0,
                        callbacks=callbacks.EarlyStopping(patience=2))  # Not in a list.
    assert len(history.history["loss"]) == 3
    with caplog.at_level(logging.WARNING, logger="numpyflow"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])
    assert "Early stopping conditioned on metric `val_loss` which is not available" in caplog.text


def test_monitor_modes_that_cannot_be_guessed_raise():
    with pytest.raises(ValueError, match="mode='max'"):
        run_epochs(callbacks.EarlyStopping(monitor="my_score"), [1.])
    with pytest.raises(ValueError, match="mode 'best' is unknown"):
        callbacks.EarlyStopping(mode="best")


# -- ReduceLROnPlateau -------------------------------------------------------------------------

def test_reduce_lr_on_plateau_lowers_the_rate_and_logs_it(capsys):
    model = small_model(learning_rate=0.1)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.03, verbose=1)
    reduce.set_model(model)
    reduce.on_train_begin({})
    rates = []
    for epoch, value in enumerate([1., 1., 1., 1., 1.]):
        logs = {"val_loss": value}
        reduce.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])
    np.testing.assert_allclose(rates, [.1, .1, .05, .03, .03], rtol=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.03)
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05" in capsys.readouterr().out


def test_reduce_lr_in_compiled_fit_changes_the_steps():
    x, y = data()
    model = small_model(learning_rate=0.05)
    history = model.fit(x, y, epochs=4, validation_data=(x, y), verbose=0,
                        callbacks=[callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5,
                                                               patience=0, min_delta=10.)])
    # Each epoch logs the rate it trained with; every epoch after the first reduces it.
    np.testing.assert_allclose(history.history["learning_rate"], [.05, .05, .025, .0125],
                               rtol=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(.00625)
    assert model.train_function.plan_sources()
    # The compiled step read the variable: the last epoch's updates used the reduced rate.
    before = model.get_weights()
    model.optimizer.learning_rate = 0.
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_cooldown_and_bad_factor():
    model = small_model(learning_rate=1.)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_delta=0.)
    reduce.set_model(model)
    reduce.on_train_begin({})
    for epoch in range(6):
        reduce.on_epoch_end(epoch, {"val_loss": 1.})
    # Reduced at epoch 1; the cooldown counts down over epochs 2 and 3, and epoch 3, its
    # last, already counts toward patience (as in Keras): reduced at 3 and again at 5.
    assert float(model.optimizer.learning_rate) == pytest.approx(.125)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2.)


# -- LearningRateScheduler ---------------------------------------------------------------------

def test_learning_rate_scheduler_sets_each_epochs_rate(capsys):
    x, y = data()
    model = small_model(learning_rate=0.1)
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch < 1 else lr / 2,
                                               verbose=1)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule])
    np.testing.assert_allclose(history.history["learning_rate"], [.1, .05, .025], rtol=1e-6)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.05" in \
        capsys.readouterr().out
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


# -- CSVLogger ---------------------------------------------------------------------------------

def test_csv_logger_writes_one_row_per_epoch_and_appends(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model = small_model()
    model.fit(x, y, epochs=3, validation_data=(x, y), verbose=0,
              callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.DictReader(path.open()))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "val_loss"}
    np.testing.assert_allclose(float(rows[-1]["loss"]), model.history.history["loss"][-1],
                               rtol=1e-6)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 5 and rows[-1]["val_loss"] == "NA"  # Same header, no validation.
    semicolons = tmp_path / "semi.csv"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(semicolons, ";")])
    assert semicolons.read_text().splitlines()[0] == "epoch;loss"


# -- LambdaCallback ----------------------------------------------------------------------------

def test_lambda_callback_calls_its_functions():
    x, y = data()
    seen = []
    recorder = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch, "loss" in logs)),
        on_train_batch_end=lambda batch, logs: seen.append("batch"),
        on_test_begin=lambda logs: seen.append("test"))
    small_model().fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0,
                      callbacks=[recorder])
    assert seen[0] == "begin" and seen.count("batch") == 4 and seen.count("test") == 2
    assert ("epoch", 1, True) in seen
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        callbacks.LambdaCallback(on_epoch_finish=print)


# -- ModelCheckpoint ---------------------------------------------------------------------------

def test_model_checkpoint_fills_the_filepath_template(tmp_path, capsys):
    x, y = data()
    template = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    model = small_model()
    history = model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0,
                        callbacks=[callbacks.ModelCheckpoint(template, verbose=1)])
    names = sorted(p.name for p in tmp_path.iterdir())
    expected = [f"ckpt-{i + 1:02d}-{loss:.2f}.keras"
                for i, loss in enumerate(history.history["val_loss"])]
    assert names == sorted(expected)
    assert f"Epoch 2: saving model to {tmp_path / expected[1]}" in capsys.readouterr().out
    reloaded = keras.models.load_model(tmp_path / expected[1])
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_checkpoint_keeps_the_best_model(tmp_path, capsys):
    x, y = data()
    path = tmp_path / "best.keras"
    model = small_model(learning_rate=0.05)
    best = callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    history = model.fit(x, y, epochs=4, validation_data=(x * 3, y), verbose=0,
                        callbacks=[best])
    losses = history.history["val_loss"]
    reloaded = keras.models.load_model(path)
    assert reloaded.evaluate(x * 3, y, verbose=0) == pytest.approx(min(losses), rel=1e-5)
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to" in out


def test_model_checkpoint_weights_every_n_batches_and_threshold(tmp_path):
    x, y = data()
    model = small_model()
    seen = []
    saver = callbacks.ModelCheckpoint(tmp_path / "w-{epoch}-{batch}.weights.h5",
                                      save_weights_only=True, save_freq=3)
    watch = callbacks.LambdaCallback(on_train_end=lambda logs: seen.extend(
        sorted(p.name for p in tmp_path.iterdir())))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[saver, watch])
    assert seen == ["w-1-3.weights.h5", "w-2-2.weights.h5"]  # Batches 3 and 6 of 8.
    fresh = small_model()
    fresh.load_weights(tmp_path / "w-2-2.weights.h5")
    never = callbacks.ModelCheckpoint(tmp_path / "never.keras", save_best_only=True,
                                      initial_value_threshold=0.)
    model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0, callbacks=[never])
    assert not (tmp_path / "never.keras").exists()


def test_model_checkpoint_argument_errors():
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        callbacks.ModelCheckpoint("w.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        callbacks.ModelCheckpoint("model.ckpt")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("m.keras", save_freq="batch")
