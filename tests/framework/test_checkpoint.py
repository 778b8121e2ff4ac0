"""`tf.train.Checkpoint`, `CheckpointManager` and `latest_checkpoint`."""

import json
import logging
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras
from numpyflow.train import checkpoint_file

X = np.random.RandomState(0).rand(8, 4).astype("float32")
Y = np.random.RandomState(1).rand(8, 2).astype("float32")


def _model_and_optimizer(units=3):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    return model, keras.optimizers.Adam(0.01)


@tf.function
def _train_step(model, optimizer, x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def _step(model, optimizer):
    return _train_step(model, optimizer, tf.constant(X), tf.constant(Y))


def _values(variables):
    return [v.numpy() for v in variables]


def _assert_same(expected, variables):
    assert len(expected) == len(variables)
    for array, variable in zip(expected, variables):
        np.testing.assert_array_equal(array, variable.numpy())


# -- a custom training loop -------------------------------------------------------------------
def test_custom_loop_resumes_from_manager_with_the_same_next_step(tmp_path):
    model, optimizer = _model_and_optimizer()
    step = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model, optimizer=optimizer, step=step), tmp_path,
        max_to_keep=2)
    saved = []
    for _ in range(3):
        _step(model, optimizer)
        step.assign_add(1)
        saved.append(manager.save())
    assert [os.path.basename(p) for p in saved] == ["ckpt-1", "ckpt-2", "ckpt-3"]
    assert manager.checkpoints == saved[1:] and manager.latest_checkpoint == saved[2]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-2.ckpt.h5", "ckpt-3.ckpt.h5"]
    assert tf.train.latest_checkpoint(tmp_path) == saved[2]
    _step(model, optimizer)  # The step the restored copy must repeat exactly.
    expected_model, expected_optimizer = _values(model.variables), _values(optimizer.variables)

    fresh_model, fresh_optimizer = _model_and_optimizer()
    fresh_optimizer.build(fresh_model.trainable_variables)  # Slots exist: nothing deferred.
    fresh_step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(model=fresh_model, optimizer=fresh_optimizer,
                                     step=fresh_step)
    checkpoint.restore(tf.train.latest_checkpoint(tmp_path)).assert_consumed()
    assert int(fresh_step) == 3 and int(checkpoint.save_counter) == 3
    assert int(fresh_optimizer.iterations) == 3
    _step(fresh_model, fresh_optimizer)
    _assert_same(expected_model, fresh_model.variables)
    _assert_same(expected_optimizer, fresh_optimizer.variables)


def test_optimizer_slots_are_deferred_until_the_optimizer_creates_them(tmp_path):
    model, optimizer = _model_and_optimizer()
    _step(model, optimizer)
    path = tf.train.Checkpoint(model=model, optimizer=optimizer).save(tmp_path / "ckpt")
    _step(model, optimizer)
    expected = _values(model.variables) + _values(optimizer.variables)

    fresh_model, fresh_optimizer = _model_and_optimizer()
    status = tf.train.Checkpoint(model=fresh_model, optimizer=fresh_optimizer).restore(path)
    status.assert_existing_objects_matched()  # Only `iterations` exists yet, and matched.
    with pytest.raises(AssertionError, match=r"deferred .*\['optimizer/variables/1', "
                                             r"'optimizer/variables/2'"):
        status.assert_consumed()
    _step(fresh_model, fresh_optimizer)  # Builds the slots, which take the saved values.
    status.assert_consumed()
    _assert_same(expected, fresh_model.variables + fresh_optimizer.variables)


class _LazyOwner:
    """An object whose variables appear later, as a Keras layer's do when it is built."""

    def __init__(self):
        self.variables = []

    def build(self):
        self.variables = [tf.Variable(np.zeros((2, 2), "float32")), tf.Variable(0)]


def test_restore_deferred_assigns_values_once_the_variables_exist(tmp_path):
    owner = _LazyOwner()
    owner.build()
    owner.variables[0].assign(np.eye(2, dtype="float32"))
    owner.variables[1].assign(7)
    path = tf.train.Checkpoint(owner=owner).write(tmp_path / "w")

    fresh = _LazyOwner()
    status = tf.train.Checkpoint(owner=fresh).read(path)
    assert tf.train.restore_deferred(fresh) == 0  # Nothing exists yet.
    fresh.build()
    assert tf.train.restore_deferred(fresh) == 2
    status.assert_consumed()
    np.testing.assert_array_equal(fresh.variables[0].numpy(), np.eye(2))
    assert int(fresh.variables[1]) == 7

    wrong = _LazyOwner()
    tf.train.Checkpoint(owner=wrong).read(path)
    wrong.variables = [tf.Variable(np.zeros(3, "float32"))]
    with pytest.raises(ValueError, match=r"'owner/variables/0' \(shape \(2, 2\).*shape \(3,\)"):
        tf.train.restore_deferred(wrong)


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)


def test_an_unbuilt_subclassed_model_takes_its_values_once_built(tmp_path):
    model = _Subclassed()
    model(X)
    path = tf.train.Checkpoint(model=model).write(tmp_path / "w")
    fresh = _Subclassed()
    status = tf.train.Checkpoint(model=fresh).read(path)
    with pytest.raises(AssertionError, match=r"deferred .*'model/variables/1'"):
        status.assert_consumed()
    fresh(X)  # Builds it; Keras layers do not call restore_deferred themselves (yet).
    assert tf.train.restore_deferred(fresh) == 2
    status.assert_consumed()
    _assert_same(_values(model.variables), fresh.variables)


def test_manager_takes_over_a_directory_and_keeps_numbering(tmp_path):
    variable = tf.Variable([1., 2.])
    checkpoint = tf.train.Checkpoint(v=variable)
    first = tf.train.CheckpointManager(checkpoint, tmp_path, max_to_keep=2)
    first.save(), first.save()
    # A new process: a new Checkpoint and manager over the same directory.
    restored = tf.train.Checkpoint(v=tf.Variable([0., 0.]))
    second = tf.train.CheckpointManager(restored, tmp_path, max_to_keep=2)
    assert second.checkpoints == first.checkpoints
    assert second.restore_or_initialize() == first.latest_checkpoint
    assert second.save().endswith("ckpt-3")
    assert [os.path.basename(p) for p in second.checkpoints] == ["ckpt-2", "ckpt-3"]
    assert not os.path.exists(tmp_path / "ckpt-1.ckpt.h5")
    assert second.save(checkpoint_number=10).endswith("ckpt-10")
    calls = []
    empty = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(0.)),
                                       tmp_path / "new", max_to_keep=None,
                                       init_fn=lambda: calls.append(1))
    assert empty.restore_or_initialize() is None and calls == [1]
    assert empty.latest_checkpoint is None and empty.checkpoints == []


# -- save, write, read, restore ---------------------------------------------------------------
def test_save_numbers_and_write_does_not(tmp_path):
    variable = tf.Variable(np.arange(6, dtype="float32").reshape(2, 3))
    checkpoint = tf.train.Checkpoint(v=variable)
    assert checkpoint.save(tmp_path / "a") == str(tmp_path / "a-1")
    assert checkpoint.save(tmp_path / "a") == str(tmp_path / "a-2")
    assert tf.train.latest_checkpoint(tmp_path) == str(tmp_path / "a-2")
    index = json.loads((tmp_path / "checkpoint").read_text())
    assert index["all_model_checkpoint_paths"] == ["a-1", "a-2"]
    assert checkpoint.write(tmp_path / "w") == str(tmp_path / "w")
    assert int(checkpoint.save_counter) == 2  # write() does not count.
    assert tf.train.latest_checkpoint(tmp_path) == str(tmp_path / "a-2")
    variable.assign(np.zeros((2, 3), "float32"))
    checkpoint.read(tmp_path / "w").assert_consumed()
    np.testing.assert_array_equal(variable.numpy(), np.arange(6).reshape(2, 3))


def test_containers_nested_checkpoints_and_shared_objects(tmp_path):
    a, b, c = tf.Variable(1.), tf.Variable([2, 3]), tf.Variable(True)
    checkpoint = tf.train.Checkpoint(
        items=[a, {"b": b}], inner=tf.train.Checkpoint(flag=c), alias=a)
    path = checkpoint.write(tmp_path / "w")
    with checkpoint_file.CheckpointReader(path) as reader:
        # `alias` is the same Variable as `items/0`: saved once, under its first path.
        assert reader.paths == ["items/0", "items/1/b", "inner/flag", "inner/save_counter",
                                "save_counter"]
    fresh = [tf.Variable(0.), tf.Variable([0, 0]), tf.Variable(False)]
    tf.train.Checkpoint(items=[fresh[0], {"b": fresh[1]}],
                        inner=tf.train.Checkpoint(flag=fresh[2])).read(path).assert_consumed()
    assert float(fresh[0]) == 1. and fresh[1].numpy().tolist() == [2, 3] and bool(fresh[2])
    assert tf.train.Checkpoint(root=[a, b])._checkpoint_children()[0] == ("0", a)


def test_partial_restore_and_expect_partial(tmp_path, caplog):
    model, optimizer = _model_and_optimizer()
    _step(model, optimizer)
    path = tf.train.Checkpoint(model=model, optimizer=optimizer).save(tmp_path / "ckpt")

    fresh_model, _ = _model_and_optimizer()
    status = tf.train.Checkpoint(model=fresh_model).restore(path)
    status.assert_existing_objects_matched()
    _assert_same(_values(model.variables), fresh_model.variables)
    with pytest.raises(AssertionError, match=r"no object matched: \['optimizer/variables/0'"):
        status.assert_consumed()
    with caplog.at_level(logging.WARNING, logger="numpyflow"):
        del status
    assert "expect_partial" in caplog.text and "optimizer/variables/0" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="numpyflow"):
        status = tf.train.Checkpoint(model=fresh_model).restore(path).expect_partial()
        del status
    assert caplog.text == ""

    extra = tf.Variable(0.)
    status = tf.train.Checkpoint(model=fresh_model, extra=extra).restore(path).expect_partial()
    with pytest.raises(AssertionError, match=r"no value for \['extra'\]"):
        status.assert_existing_objects_matched()


def test_restore_none_is_initialization_only():
    status = tf.train.Checkpoint(v=tf.Variable(1.)).restore(None)
    assert status.expect_partial() is status
    with pytest.raises(AssertionError, match="save_path=None"):
        status.assert_consumed()


def test_mismatched_shapes_name_the_path_and_both_shapes_and_assign_nothing(tmp_path):
    model, optimizer = _model_and_optimizer(units=3)
    path = tf.train.Checkpoint(model=model).save(tmp_path / "ckpt")
    other, _ = _model_and_optimizer(units=5)
    before = _values(other.variables)
    with pytest.raises(ValueError) as error:
        tf.train.Checkpoint(model=other).restore(path)
    message = str(error.value)
    assert "'model/variables/0': saved shape (4, 3)" in message
    assert "has shape (4, 5)" in message and "ckpt-1" in message
    _assert_same(before, other.variables)  # Not half-restored.

    path = tf.train.Checkpoint(v=tf.Variable([1., 2.])).write(tmp_path / "f")
    with pytest.raises(ValueError, match=r"'v': saved shape \(2,\) dtype float32.*dtype int32"):
        tf.train.Checkpoint(v=tf.Variable([1, 2])).read(path)


# -- files: atomic, checked ---------------------------------------------------------------------
def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    import h5py

    variable = tf.Variable([1., 2.])
    checkpoint = tf.train.Checkpoint(v=variable)
    path = checkpoint.write(tmp_path / "w")
    variable.assign([5., 6.])

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_dataset", broken)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.write(tmp_path / "w")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["w.ckpt.h5"]  # No temporary file left behind.
    checkpoint.read(path)
    assert variable.numpy().tolist() == [1., 2.]


def _crafted(path, paths, make_values, format_name=checkpoint_file.FORMAT):
    import h5py

    with h5py.File(path, "w") as h5:
        h5.attrs["format"] = format_name
        h5.attrs["version"] = 1
        h5.attrs["paths"] = json.dumps(paths)
        make_values(h5.create_group("values"))


def test_hostile_or_foreign_files_are_refused(tmp_path):
    import h5py

    target = tf.train.Checkpoint(v=tf.Variable(np.zeros(4, "float32")))
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["data"] = np.ones(4, "float32")

    _crafted(tmp_path / "link.ckpt.h5", ["v"],
             lambda g: g.__setitem__("0", h5py.ExternalLink(str(other), "/data")))
    with pytest.raises(ValueError, match="links are refused"):
        target.read(tmp_path / "link")

    def external_storage(group):
        raw = tmp_path / "raw.bin"
        raw.write_bytes(np.ones(4, "float32").tobytes())
        group.create_dataset("0", shape=(4,), dtype="float32", external=[(str(raw), 0, 16)])

    _crafted(tmp_path / "ext.ckpt.h5", ["v"], external_storage)
    with pytest.raises(ValueError, match="outside the file"):
        target.read(tmp_path / "ext")

    # A declared size the file cannot hold (CVE-2026-0897's shape bomb) is refused before
    # any read, for a matched value and for one that would be deferred.
    _crafted(tmp_path / "big.ckpt.h5", ["v"],
             lambda g: g.create_dataset("0", shape=(2**40,), dtype="float32", chunks=(1024,)))
    with pytest.raises(ValueError, match=r"declares shape \(1099511627776,\)"):
        target.read(tmp_path / "big")
    owner = type("Owner", (), {"variables": []})()
    _crafted(tmp_path / "bomb.ckpt.h5", ["o/variables/0"],
             lambda g: g.create_dataset("0", shape=(2**40,), dtype="float32", chunks=(1024,)))
    with pytest.raises(ValueError, match="declares shape"):
        tf.train.Checkpoint(o=owner).read(tmp_path / "bomb")

    _crafted(tmp_path / "obj.ckpt.h5", ["v"],
             lambda g: g.create_dataset("0", data=np.array([b"a", b"b"], dtype=object),
                                        dtype=h5py.string_dtype()))
    with pytest.raises(ValueError, match="expected a numeric or bool dtype"):
        target.read(tmp_path / "obj")

    _crafted(tmp_path / "foreign.ckpt.h5", ["v"], lambda g: None, format_name="keras")
    with pytest.raises(ValueError, match="not a numpyflow checkpoint"):
        target.read(tmp_path / "foreign")
    (tmp_path / "junk.ckpt.h5").write_bytes(b"\x89HDF\r\n junk")
    with pytest.raises(ValueError, match="not a readable checkpoint file"):
        target.read(tmp_path / "junk")
    with pytest.raises(FileNotFoundError, match="No checkpoint found at"):
        target.restore(tmp_path / "missing")

    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')  # TF's own.
    with pytest.raises(ValueError, match="not a numpyflow checkpoint index"):
        tf.train.latest_checkpoint(tmp_path)


# -- arguments ----------------------------------------------------------------------------------
def test_arguments_are_checked_not_ignored(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.))
    with pytest.raises(ValueError, match="expecting model to be a trackable object.*got 3"):
        tf.train.Checkpoint(model=3)
    with pytest.raises(ValueError, match="'items/1' is 'x', which is not trackable"):
        tf.train.Checkpoint(items=[tf.Variable(1.), "x"]).write(tmp_path / "x")
    with pytest.raises(ValueError, match="reserved"):
        tf.train.Checkpoint(save_counter=tf.Variable(1))
    with pytest.raises(NotImplementedError, match="options"):
        checkpoint.save(tmp_path / "c", options=object())
    with pytest.raises(ValueError, match="positive integer or `None` for `max_to_keep`"):
        tf.train.CheckpointManager(checkpoint, tmp_path, max_to_keep=0)
    for name in ("keep_checkpoint_every_n_hours", "step_counter", "checkpoint_interval"):
        with pytest.raises(NotImplementedError, match=name):
            tf.train.CheckpointManager(checkpoint, tmp_path, 2, **{name: 1})
    with pytest.raises(TypeError, match="expects a tf.train.Checkpoint"):
        tf.train.CheckpointManager(tf.Variable(1.), tmp_path, 2)
    assert checkpoint.v is checkpoint._objects["v"]


def test_import_numpyflow_does_not_import_h5py():
    code = ("import sys, numpyflow; numpyflow.train.Checkpoint; "
            "print(sorted(m for m in sys.modules if m.startswith(('h5py', 'numpyflow.keras'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


_SAVE_FOREVER = """
import sys
import time
import numpy as np
import numpyflow as tf
weights = tf.Variable(np.zeros((256, 256), "float32"))
step = tf.Variable(0)
manager = tf.train.CheckpointManager(tf.train.Checkpoint(w=weights, step=step), sys.argv[1],
                                     max_to_keep=2)
while True:
    step.assign_add(1)
    weights.assign(np.full((256, 256), float(int(step)), "float32"))
    manager.save()
    print(int(step), flush=True)
"""


def test_a_manager_killed_mid_save_leaves_a_loadable_latest_checkpoint(tmp_path):
    rng = np.random.RandomState(0)
    for attempt in range(3):
        directory = tmp_path / str(attempt)
        process = subprocess.Popen([sys.executable, "-c", _SAVE_FOREVER, str(directory)],
                                   stdout=subprocess.PIPE, text=True)
        for _ in range(2 + attempt):  # Wait for a few saves, then kill at a random moment.
            process.stdout.readline()
        time.sleep(rng.uniform(0, 0.05))
        process.kill()
        process.wait()
        process.stdout.close()
        weights, step = tf.Variable(np.ones((256, 256), "float32")), tf.Variable(0)
        latest = tf.train.latest_checkpoint(directory)
        tf.train.Checkpoint(w=weights, step=step).restore(latest).assert_consumed()
        assert int(step) >= 2 + attempt
        np.testing.assert_array_equal(weights.numpy(), float(int(step)))
