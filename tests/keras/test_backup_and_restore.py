"""BackupAndRestore: an interrupted fit resumes with the same weights, optimizer and random
state, bit for bit; backups are committed atomically and checked when read back."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.callbacks.backup_and_restore import BackupError

keras = tf.keras
BackupAndRestore = keras.callbacks.BackupAndRestore

EPOCHS = 5


def make_model():
    """Shuffled batches, Dropout and Adam: everything a resumed run must draw and hold again."""
    tf.random.set_seed(7)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return model


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True)


def fit(model, callbacks, epochs=EPOCHS):
    return model.fit(*data(), epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks)


class Interrupt(keras.callbacks.Callback):
    """Raises after the train batch `(epoch, batch)` ends (batch None: as the epoch begins)."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self.at == (epoch, None):
            raise KeyboardInterrupt("interrupted")

    def on_train_batch_end(self, batch, logs=None):
        if self.at == (self.epoch, batch):
            raise KeyboardInterrupt("interrupted")


def state(model):
    return [v.numpy() for v in model.weights + model.optimizer.variables]


def assert_same_state(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def uninterrupted():
    model = make_model()
    history = fit(model, [])
    return state(model), history.history


@pytest.mark.parametrize("save_freq, interrupt, resumed_epochs", [
    ("epoch", Interrupt(3), 2),        # killed as epoch 4 begins: epochs 4-5 run again
    (3, Interrupt(2, 3), 3),           # backup after batch 3 of epoch 3 (of 5): resume at batch 4
    (5, Interrupt(1, 4), 4),           # backup after the last batch of epoch 2, before its end
])
def test_resumed_fit_equals_uninterrupted_fit(tmp_path, uninterrupted, save_freq, interrupt,
                                             resumed_epochs):
    expected_state, expected_history = uninterrupted
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        fit(make_model(), [BackupAndRestore(backup_dir, save_freq=save_freq), interrupt])
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5", "training_metadata.json"]

    model = make_model()  # a new program: new weights, seed from the start
    history = fit(model, [BackupAndRestore(backup_dir, save_freq=save_freq)])

    assert_same_state(state(model), expected_state)
    assert len(history.history["loss"]) == resumed_epochs
    assert history.history["loss"][-1] == expected_history["loss"][-1]
    assert not backup_dir.exists()  # deleted after a fit that completes


def test_backup_files_are_keras_format(tmp_path):
    model = make_model()
    fit(model, [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=2)
    metadata = json.loads((tmp_path / "training_metadata.json").read_text())
    assert (metadata["epoch"], metadata["batch"]) == (2, 0)  # Keras 3's keys and values
    other = make_model()
    other.load_weights(tmp_path / "latest.weights.h5")  # also the optimizer's state
    assert_same_state(state(other), state(model))


def test_int_save_freq_writes_keras_batch_index(tmp_path):
    fit(make_model(), [BackupAndRestore(tmp_path, save_freq=3, delete_checkpoint=False)],
        epochs=1)  # 5 batches: saved after batch index 2
    metadata = json.loads((tmp_path / "training_metadata.json").read_text())
    assert (metadata["epoch"], metadata["batch"], metadata["steps_done"]) == (0, 2, 3)


def test_resumed_start_is_used_once(tmp_path):
    model = make_model()
    fit(model, [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=3)
    history = fit(model, [BackupAndRestore(tmp_path)], epochs=4)  # resumes at epoch 4
    assert len(history.history["loss"]) == 1
    assert len(fit(model, [], epochs=2).history["loss"]) == 2  # a later fit starts at 0


def test_resuming_with_fewer_steps_per_epoch_is_refused(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(make_model(), [BackupAndRestore(tmp_path, save_freq=4), Interrupt(0, 3)])
    with pytest.raises(ValueError, match="after step 4 of epoch 1, but an epoch of this fit"
                                         "\\(\\) has 3 steps"):
        make_model().fit(*data(), epochs=2, batch_size=16, verbose=0,
                         callbacks=[BackupAndRestore(tmp_path, save_freq=4)])


def test_only_its_own_files_are_deleted(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    fit(make_model(), [BackupAndRestore(tmp_path)], epochs=1)
    assert os.listdir(tmp_path) == ["notes.txt"]


# -- a save killed half-way ----------------------------------------------------------------------

def backed_up(tmp_path, epochs):
    """Backups after `epochs` and `epochs + 1` epochs: (older files, newer files) as bytes."""
    names = ["latest.weights.h5", "training_metadata.json"]
    fit(make_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=epochs)
    older = [(tmp_path / name).read_bytes() for name in names]
    fit(make_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=epochs + 1)
    newer = [(tmp_path / name).read_bytes() for name in names]
    return older, newer


def resumed_epochs(tmp_path, **kwargs):
    history = fit(make_model(), [BackupAndRestore(tmp_path, **kwargs)], epochs=EPOCHS)
    return len(history.history["loss"])


def test_killed_after_the_commit_finishes_the_rename(tmp_path):
    (old_weights, _), (new_weights, new_metadata) = backed_up(tmp_path, 1)
    (tmp_path / "latest.weights.h5").write_bytes(old_weights)
    (tmp_path / "latest.weights.h5.next").write_bytes(new_weights)
    (tmp_path / "training_metadata.json").write_bytes(new_metadata)
    assert resumed_epochs(tmp_path) == EPOCHS - 2


def test_killed_before_the_commit_keeps_the_old_backup(tmp_path):
    (old_weights, old_metadata), (new_weights, _) = backed_up(tmp_path, 1)
    (tmp_path / "latest.weights.h5").write_bytes(old_weights)
    (tmp_path / "latest.weights.h5.next").write_bytes(new_weights)
    (tmp_path / "training_metadata.json").write_bytes(old_metadata)
    assert resumed_epochs(tmp_path) == EPOCHS - 1


def test_damaged_weights_are_refused_naming_the_file(tmp_path):
    fit(make_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1)
    weights = tmp_path / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:-1] + b"!")
    with pytest.raises(BackupError, match="latest.weights.h5 does not match"):
        resumed_epochs(tmp_path)


def test_double_checkpoint_restores_the_previous_backup(tmp_path):
    callback = BackupAndRestore(tmp_path, double_checkpoint=True, delete_checkpoint=False)
    fit(make_model(), [callback], epochs=2)
    assert json.loads((tmp_path / "training_metadata.json.bkp").read_text())["epoch"] == 1
    (tmp_path / "latest.weights.h5").write_bytes(b"torn")
    assert resumed_epochs(tmp_path, double_checkpoint=True) == EPOCHS - 1
    assert not tmp_path.exists()


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "holds list; expected a JSON object"),
    ('{"epoch": -1, "steps_done": 0}', "epoch=-1; expected an integer >= 0"),
    ('{"epoch": 1, "batch": 0, "steps_done": 0}', "records no 'weights_sha256'"),
    ('{"epoch": 1, "batch": true}', "batch=True; expected an integer"),
])
def test_bad_metadata_is_refused(tmp_path, content, message):
    (tmp_path / "training_metadata.json").write_text(content)
    with pytest.raises(BackupError, match=message):
        resumed_epochs(tmp_path)


def test_a_backup_written_by_keras_resumes_at_its_epoch(tmp_path):
    model = make_model()
    fit(model, [], epochs=2)
    model.save_weights(tmp_path / "latest.weights.h5")  # Keras 3's layout, optimizer included
    (tmp_path / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    resumed = make_model()
    history = fit(resumed, [BackupAndRestore(tmp_path)])
    assert len(history.history["loss"]) == EPOCHS - 2
    assert int(resumed.optimizer.iterations.numpy()) == EPOCHS * 5


def test_bad_random_state_is_refused(tmp_path):
    fit(make_model(), [BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1)
    path = tmp_path / "training_metadata.json"
    metadata = json.loads(path.read_text())
    metadata["random_state"]["global_stream"]["state"] = "__import__('os')"
    path.write_text(json.dumps(metadata))
    with pytest.raises(BackupError, match="no valid random state"):
        resumed_epochs(tmp_path)


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq='batch'"):
        BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match="save_freq=0"):
        BackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(NotImplementedError, match="save_freq=False"):
        BackupAndRestore(tmp_path, save_freq=False)


def test_unbuilt_model_is_refused(tmp_path):
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`"):
        fit(model, [BackupAndRestore(tmp_path)])


# -- the done-when test: SIGKILL a fit in a subprocess, restart it --------------------------------

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import numpyflow as tf
    keras = tf.keras

    backup_dir, out = sys.argv[1], sys.argv[2]
    tf.random.set_seed(11)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.25), keras.layers.Dense(3)])
    model.compile(keras.optimizers.Adam(0.005),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)

    class Slow(keras.callbacks.Callback):  # leaves the parent time to kill the first run
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(float(os.environ.get("BATCH_SLEEP", "0")))

    callbacks = [Slow()] + ([keras.callbacks.BackupAndRestore(backup_dir)] if backup_dir else [])
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=callbacks)
    np.savez(out, epochs=len(history.history["loss"]),
             *[v.numpy() for v in model.weights + model.optimizer.variables])
""")


def run_script(script, backup_dir, out, batch_sleep=0.0):
    env = dict(os.environ, BATCH_SLEEP=str(batch_sleep))
    return subprocess.Popen([sys.executable, str(script), backup_dir, str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def saved_epoch(metadata_path):
    try:
        return json.loads(metadata_path.read_text())["epoch"]
    except (OSError, ValueError):  # not written yet (each write replaces the file at once)
        return 0


def test_sigkilled_fit_restarts_to_the_same_weights(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    backup_dir = tmp_path / "backup"
    metadata_path = backup_dir / "training_metadata.json"

    reference = run_script(script, "", tmp_path / "reference.npz")
    first = run_script(script, str(backup_dir), tmp_path / "first.npz", batch_sleep=0.1)
    deadline = time.monotonic() + 60
    while saved_epoch(metadata_path) < 1:  # the backup of epoch 1 exists
        assert first.poll() is None, first.stdout.read().decode()
        assert time.monotonic() < deadline, "no backup after 60 s"
        time.sleep(0.02)
    time.sleep(0.15)  # into epoch 2 (6 batches of 0.1 s each)
    first.send_signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL
    assert not (tmp_path / "first.npz").exists()
    killed_at = saved_epoch(metadata_path)
    assert 1 <= killed_at < 6

    second = run_script(script, str(backup_dir), tmp_path / "second.npz")
    assert second.wait(60) == 0, second.stdout.read().decode()
    assert reference.wait(60) == 0, reference.stdout.read().decode()
    resumed, expected = np.load(tmp_path / "second.npz"), np.load(tmp_path / "reference.npz")
    assert int(resumed["epochs"]) == 6 - killed_at  # it resumed, it did not start over
    assert int(expected["epochs"]) == 6
    arrays = [name for name in expected.files if name != "epochs"]
    assert len(arrays) == 4 + 1 + 2 * 4  # kernels and biases; the iteration; Adam's slots
    for name in arrays:
        np.testing.assert_array_equal(resumed[name], expected[name])  # bit for bit
    assert not backup_dir.exists()
