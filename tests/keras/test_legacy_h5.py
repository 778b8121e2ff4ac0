"""Legacy TF 2.x `.h5` files, weights by position and by name, and JSON configs.

Fixtures (`tests/fixtures/keras3/h5_*`) were written by TF 2.21 / Keras 3.15 and by
TF 2.15 / tf.keras 2.15 with `tests/fixtures/make_h5_files.py`; the reverse direction (files
written here, loaded by Keras 3) runs `tests/fixtures/check_h5_with_keras.py` in the
benchmarks' venv when it exists.
"""

import base64
import io
import json
import logging
import marshal
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.saving import legacy_h5
from numpyflow.framework.file_safety import UnsafeFileError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "keras3")
KERAS_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
layers = tf.keras.layers


def fixture(name):
    return os.path.join(FIXTURES, name)


def expected(tag):
    with open(fixture(f"h5_expected_{tag}.json")) as file:
        return json.load(file)


def inputs_of(case, several):
    if several:
        return [np.asarray(value, "float32") for value in case["inputs"]]
    return np.asarray(case["inputs"], "float32")


def build_mlp(units=3, name="h5_mlp"):
    model = tf.keras.Sequential([
        tf.keras.Input((8,), name="features"),
        layers.Dense(16, activation="relu", name="hidden"),
        layers.BatchNormalization(name="norm"),
        layers.Dropout(0.2, name="drop"),
        layers.Dense(units, activation="softmax", name="probs"),
    ], name=name)
    return model


@pytest.fixture(scope="module")
def trained_mlp():
    tf.random.set_seed(0)
    model = build_mlp()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(32, 8)).astype("float32"), rng.integers(0, 3, size=(32,)),
              batch_size=8, epochs=2, verbose=0)
    return model


def weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


# -- files written by Keras 3 and tf.keras 2.15 --------------------------------------------

@pytest.mark.parametrize("tag", ["tf221", "tf215"])
@pytest.mark.parametrize("name", ["h5_mlp", "h5_multi"])
def test_loads_keras_files_and_predicts_the_same(tag, name):
    case = expected(tag)[name]
    model = tf.keras.models.load_model(fixture(f"{name}_{tag}.h5"))
    outputs = np.asarray(model(inputs_of(case, name == "h5_multi"), training=False))
    np.testing.assert_allclose(outputs, case["outputs"], rtol=1e-5, atol=1e-6)
    assert model.optimizer.iterations.numpy() == case["iterations"]
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.01)


@pytest.mark.parametrize("tag", ["tf221", "tf215"])
def test_keras_optimizer_state_is_restored_slot_by_slot(tag):
    path = fixture(f"h5_mlp_{tag}.h5")
    model = tf.keras.models.load_model(path)
    with h5py.File(path, "r") as file:
        group = file["optimizer_weights"]
        saved = [group[name.decode() if isinstance(name, bytes) else name][()]
                 for name in group.attrs["weight_names"]]
    slots = saved[2:] if tag == "tf221" else saved[1:]  # Keras 3 saves the learning rate 2nd.
    ours = [v.numpy() for v in model.optimizer.variables[1:]]
    assert len(ours) == len(slots) == 2 * len(model.trainable_variables)
    for mine, theirs in zip(ours, slots):
        np.testing.assert_array_equal(mine, theirs)
    assert any(np.abs(slot).sum() > 0 for slot in ours)


def test_tf215_weights_file_by_position_and_by_name():
    case = expected("tf215")["h5_mlp"]
    for by_name in (False, True):
        model = build_mlp()
        model.load_weights(fixture("h5_mlp_weights_tf215.h5"), by_name=by_name)
        np.testing.assert_allclose(np.asarray(model(inputs_of(case, False), training=False)),
                                   case["outputs"], rtol=1e-5, atol=1e-6)


def test_by_name_skip_mismatch_warns_with_layer_and_both_shapes():
    model = build_mlp(units=5)
    before = model.get_layer("probs").get_weights()
    with pytest.warns(UserWarning, match=r"probs.*expects shape \(16, 5\).*has shape \(16, 3\)"):
        model.load_weights(fixture("h5_mlp_weights_tf215.h5"), by_name=True,
                           skip_mismatch=True)
    reference = tf.keras.models.load_model(fixture("h5_mlp_tf215.h5"), compile=False)
    for name in ("hidden", "norm"):  # Loaded: the layers that match.
        for mine, theirs in zip(model.get_layer(name).get_weights(),
                                reference.get_layer(name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    for mine, old in zip(model.get_layer("probs").get_weights(), before):  # Skipped.
        np.testing.assert_array_equal(mine, old)


def test_by_name_mismatch_without_skip_raises_and_changes_nothing():
    model = build_mlp(units=5)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"probs.*expects shape \(16, 5\).*has shape \(16, 3\)"):
        model.load_weights(fixture("h5_mlp_weights_tf215.h5"), by_name=True)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_by_name_ignores_layers_missing_on_either_side():
    model = tf.keras.Sequential([tf.keras.Input((8,)), layers.Dense(16, name="hidden"),
                                 layers.Dense(2, name="new_head")])
    head = model.get_layer("new_head").get_weights()
    model.load_weights(fixture("h5_mlp_weights_tf215.h5"), by_name=True)
    reference = tf.keras.models.load_model(fixture("h5_mlp_tf215.h5"), compile=False)
    assert weights_equal(model.get_layer("hidden"), reference.get_layer("hidden"))
    assert all(np.array_equal(a, b)
               for a, b in zip(model.get_layer("new_head").get_weights(), head))


def test_skip_mismatch_needs_by_name(tmp_path):
    with pytest.raises(ValueError, match="skip_mismatch can only be set to True when by_name"):
        legacy_h5.load_weights_legacy_h5(build_mlp(), fixture("h5_mlp_weights_tf215.h5"),
                                         skip_mismatch=True)


def test_by_position_mismatch_names_layer_and_both_shapes_and_changes_nothing():
    model = build_mlp(units=5)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"probs.*expects shape \(16, 5\).*has shape \(16, 3\)"):
        model.load_weights(fixture("h5_mlp_weights_tf215.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    fewer = tf.keras.Sequential([tf.keras.Input((8,)), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"Layer count mismatch.*expected 1 layers.*found 3"):
        fewer.load_weights(fixture("h5_mlp_weights_tf215.h5"))


# -- files written here ----------------------------------------------------------------------

def test_round_trip_keeps_predictions_compile_settings_and_next_step(trained_mlp, tmp_path):
    path = str(tmp_path / "mlp.h5")
    trained_mlp.save(path)
    loaded = tf.keras.models.load_model(path)
    assert isinstance(loaded, tf.keras.Sequential) and loaded.name == "h5_mlp"
    assert weights_equal(loaded, trained_mlp)
    assert loaded.optimizer.iterations.numpy() == trained_mlp.optimizer.iterations.numpy() == 8
    x = np.random.default_rng(2).normal(size=(6, 8)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                  trained_mlp.predict(x, verbose=0))
    copy = tf.keras.models.load_model(path)  # Train a copy: the module fixture stays put.
    tf.random.set_seed(5)  # The same Dropout masks for both steps.
    original_logs = copy.train_on_batch(x, y, return_dict=True)
    tf.random.set_seed(5)
    loaded_logs = loaded.train_on_batch(x, y, return_dict=True)
    assert original_logs == loaded_logs and set(loaded_logs) == {"loss", "accuracy"}
    assert weights_equal(loaded, copy)


def test_next_step_equals_the_unsaved_models(tmp_path):
    tf.random.set_seed(3)
    model = build_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(3).normal(size=(8, 8)).astype("float32")
    y = np.arange(8) % 3
    model.fit(x, y, epochs=2, verbose=0)
    model.save(str(tmp_path / "m.h5"))
    loaded = tf.keras.models.load_model(str(tmp_path / "m.h5"))
    tf.random.set_seed(5)  # The same Dropout masks for both steps.
    model.train_on_batch(x, y)
    tf.random.set_seed(5)
    loaded.train_on_batch(x, y)
    assert weights_equal(model, loaded)
    assert not weights_equal(model, build_mlp())


def test_functional_round_trip_with_shared_nested_and_merge_layers(tmp_path):
    case = expected("tf221")["h5_multi"]
    model = tf.keras.models.load_model(fixture("h5_multi_tf221.h5"))
    path = str(tmp_path / "multi.h5")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    x = inputs_of(case, True)
    np.testing.assert_array_equal(np.asarray(loaded(x, training=False)),
                                  np.asarray(model(x, training=False)))
    assert loaded.optimizer.iterations.numpy() == 2


def test_file_layout_is_tf2s(trained_mlp, tmp_path):
    path = str(tmp_path / "mlp.h5")
    trained_mlp.save(path)
    with h5py.File(path, "r") as file:
        config = json.loads(file.attrs["model_config"])
        training = json.loads(file.attrs["training_config"])
        group = file["model_weights"]
        assert [n.decode() for n in group.attrs["layer_names"]] == \
            ["hidden", "norm", "drop", "probs"]
        assert [n.decode() for n in group["norm"].attrs["weight_names"]] == [
            "norm/gamma:0", "norm/beta:0", "norm/moving_mean:0", "norm/moving_variance:0"]
        assert group["hidden"]["hidden"]["kernel:0"].shape == (8, 16)
        names = [n.decode() for n in file["optimizer_weights"].attrs["weight_names"]]
    assert config["class_name"] == "Sequential"
    first = config["config"]["layers"][0]
    assert first == {"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 8], "dtype": "float32", "sparse": False, "ragged": False,
        "name": "features"}} or first["config"]["batch_input_shape"] == [None, 8]
    assert "module" not in config["config"]["layers"][1]
    assert training["loss"] == "sparse_categorical_crossentropy"
    assert training["optimizer_config"]["class_name"] == "Adam"
    assert names[:2] == ["Adam/iteration:0", "Adam/learning_rate:0"] and len(names) == 2 + 12


def test_compile_false_and_include_optimizer_false(trained_mlp, tmp_path, caplog):
    path = str(tmp_path / "mlp.h5")
    trained_mlp.save(path)
    assert not tf.keras.models.load_model(path, compile=False)._is_compiled
    legacy_h5.save_legacy_h5(trained_mlp, path, include_optimizer=False)
    with h5py.File(path, "r") as file:
        assert "training_config" not in file.attrs and "optimizer_weights" not in file
    with caplog.at_level(logging.WARNING, logger="numpyflow"):
        loaded = tf.keras.models.load_model(path)
    assert not loaded._is_compiled and "No training configuration" in caplog.text
    assert weights_equal(loaded, trained_mlp)


def test_weights_only_round_trip(trained_mlp, tmp_path):
    path = str(tmp_path / "w.h5")
    legacy_h5.save_weights_legacy_h5(trained_mlp, path)
    fresh = build_mlp()
    fresh.load_weights(path)
    assert weights_equal(fresh, trained_mlp)
    by_name = build_mlp()
    by_name.load_weights(path, by_name=True)
    assert weights_equal(by_name, trained_mlp)


def test_custom_layer_needs_custom_objects(tmp_path):
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
                                         initializer="ones")

        def call(self, x):
            return x * self.scale

    model = tf.keras.Sequential([tf.keras.Input((3,)), Scale(name="scale_layer")])
    model.layers[0].scale.assign([1.0, 2.0, 3.0])
    path = str(tmp_path / "custom.h5")
    model.save(path)
    with pytest.raises(ValueError, match="Scale.*custom_objects"):
        tf.keras.models.load_model(path)
    loaded = tf.keras.models.load_model(path, custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.layers[0].scale.numpy(), [1.0, 2.0, 3.0])


def test_subclassed_model_is_refused_with_a_pointer_to_keras_format(tmp_path):
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.ones((1, 3), "float32"))
    with pytest.raises(NotImplementedError, match=r"Net.*Sequential or functional.*\.keras"):
        net.save(str(tmp_path / "net.h5"))
    assert not os.path.exists(tmp_path / "net.h5")


def test_failed_save_keeps_the_previous_file(trained_mlp, tmp_path, monkeypatch):
    path = str(tmp_path / "mlp.h5")
    trained_mlp.save(path)
    with open(path, "rb") as file:
        before = file.read()

    def fail(*args):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(legacy_h5, "_write_optimizer_weights", fail)
    with pytest.raises(OSError, match="simulated"):
        trained_mlp.save(path)
    with open(path, "rb") as file:
        assert file.read() == before
    assert os.listdir(tmp_path) == ["mlp.h5"]  # No temporary file left behind.


def test_long_name_lists_are_split_over_attributes():
    buffer = io.BytesIO()
    names = [f"layer_{i:04d}_" + "x" * 1000 for i in range(100)]  # ~100 KB > 64 KB.
    with h5py.File(buffer, "w") as file:
        legacy_h5._write_names(file, "layer_names", names)
        assert "layer_names" not in file.attrs and "layer_names1" in file.attrs
        assert legacy_h5._read_names(file, "layer_names", "buffer") == names


# -- files that disagree with themselves, or are hostile -----------------------------------

def text(name):
    return name.decode() if isinstance(name, bytes) else str(name)


def copy_fixture(tmp_path, name="h5_mlp_tf221.h5"):
    path = str(tmp_path / name)
    shutil.copy(fixture(name), path)
    return path


def set_model_config(path, edit):
    with h5py.File(path, "r+") as file:
        config = json.loads(file.attrs["model_config"])
        edit(config)
        file.attrs["model_config"] = json.dumps(config).encode()


def test_weight_with_another_shape_names_layer_and_both_shapes(tmp_path):
    path = copy_fixture(tmp_path)
    with h5py.File(path, "r+") as file:
        group = file["model_weights/hidden"]
        name = text(group.attrs["weight_names"][0])
        del group[name]
        group.create_dataset(name, data=np.zeros((8, 7), "float32"))
    with pytest.raises(ValueError, match=r"hidden.*expects shape \(8, 16\).*has shape \(8, 7\)"):
        tf.keras.models.load_model(path)


def test_missing_layer_group_is_an_error(tmp_path):
    path = copy_fixture(tmp_path)
    with h5py.File(path, "r+") as file:
        del file["model_weights/probs"]
    with pytest.raises(ValueError, match=r"no group 'probs'"):
        tf.keras.models.load_model(path)


def test_config_with_a_layer_the_weights_lack_is_an_error(tmp_path):
    path = copy_fixture(tmp_path)

    def add_layer(config):
        extra = json.loads(json.dumps(config["config"]["layers"][-1]))
        extra["config"]["name"] = "extra"
        config["config"]["layers"].append(extra)

    set_model_config(path, add_layer)
    with pytest.raises(ValueError, match=r"Layer count mismatch.*expected 4 layers"):
        tf.keras.models.load_model(path)


def _code_payload(marker):
    # What a hostile Keras 2 Lambda holds: marshalled bytecode that would create `marker`.
    function = eval(f"lambda x: open({str(marker)!r}, 'w')")  # noqa: S307 (test payload)
    return base64.b64encode(marshal.dumps(function.__code__)).decode("ascii")


@pytest.mark.parametrize("safe_mode", [True, False])
@pytest.mark.parametrize("form", ["keras2", "keras3"])
def test_lambda_with_bytecode_is_refused_and_never_runs(tmp_path, safe_mode, form):
    path = copy_fixture(tmp_path)
    marker = tmp_path / "pwned"
    code = _code_payload(marker)

    def add_lambda(config):
        if form == "keras2":
            function = {"function": [code, None, None], "function_type": "lambda",
                        "module": "__main__"}
        else:
            function = {"function": {"class_name": "__lambda__",
                                     "config": {"code": code, "defaults": None,
                                                "closure": None}}}
        config["config"]["layers"].insert(1, {"class_name": "Lambda", "config": {
            "name": "evil", "trainable": True, "dtype": "float32", "arguments": {},
            **function}})

    set_model_config(path, add_lambda)
    message = "safe_mode=False" if safe_mode else "even with safe_mode=False"
    with pytest.raises(ValueError, match=rf"Lambda layer 'evil'.*{message}"):
        tf.keras.models.load_model(path, safe_mode=safe_mode)
    assert not marker.exists()


def test_classes_and_functions_from_other_modules_are_never_imported(tmp_path):
    assert "this" not in sys.modules  # `import this` prints: a visible side effect.
    path = copy_fixture(tmp_path)

    def point_at_modules(config):
        hidden = config["config"]["layers"][1]["config"]
        hidden["activation"] = {"module": "this", "class_name": "function", "config": "s",
                                "registered_name": "function"}

    set_model_config(path, point_at_modules)
    with pytest.raises(ValueError, match="Could not locate activation function 's'"):
        tf.keras.models.load_model(path)
    path = copy_fixture(tmp_path, "h5_mlp_tf215.h5")
    set_model_config(path, lambda config: config["config"]["layers"][1].update(
        {"class_name": "Popen", "module": "subprocess"}))
    with pytest.raises(ValueError, match="Could not locate .*'Popen'"):
        tf.keras.models.load_model(path)
    assert "this" not in sys.modules


def test_optimizer_from_another_module_is_refused(tmp_path):
    path = copy_fixture(tmp_path)
    with h5py.File(path, "r+") as file:
        training = json.loads(file.attrs["training_config"])
        training["optimizer_config"] = {"class_name": "system", "module": "os",
                                        "config": {"command": "touch pwned"}}
        file.attrs["training_config"] = json.dumps(training).encode()
    with pytest.raises(ValueError, match="Could not locate .*'system'"):
        tf.keras.models.load_model(path)
    assert tf.keras.models.load_model(path, compile=False) is not None


def test_external_link_and_shape_bomb_are_refused(tmp_path):
    path = copy_fixture(tmp_path)
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as file:
        file["kernel"] = np.ones((8, 16), "float32")
    with h5py.File(path, "r+") as file:
        group = file["model_weights/hidden"]
        name = text(group.attrs["weight_names"][0])
        del group[name]
        group[name] = h5py.ExternalLink(str(secret), "/kernel")
    with pytest.raises(UnsafeFileError, match="external"):
        tf.keras.models.load_model(path)
    path = copy_fixture(tmp_path, "h5_mlp_tf215.h5")
    with h5py.File(path, "r+") as file:
        group = file["model_weights/hidden"]
        name = text(group.attrs["weight_names"][0])
        del group[name]
        group.create_dataset(name, shape=(2**40,), dtype="f8", chunks=True)
    with pytest.raises(UnsafeFileError):
        tf.keras.models.load_model(path)


def test_weight_names_cannot_point_outside_their_group(tmp_path):
    path = copy_fixture(tmp_path)
    with h5py.File(path, "r+") as file:
        group = file["model_weights/probs"]
        names = [text(name).encode() for name in group.attrs["weight_names"]]
        names[0] = b"/model_weights/hidden/h5_mlp/hidden/kernel"
        group.attrs["weight_names"] = names
    with pytest.raises(ValueError, match="not stored there"):
        tf.keras.models.load_model(path)


def test_not_a_model_file(tmp_path):
    with pytest.raises(ValueError, match="No model config found"):
        tf.keras.models.load_model(fixture("h5_mlp_weights_tf215.h5"))
    path = copy_fixture(tmp_path)
    with h5py.File(path, "r+") as file:
        file.attrs["model_config"] = b"{not json"
    with pytest.raises(ValueError, match="'model_config'.*not valid JSON"):
        tf.keras.models.load_model(path)


# -- JSON ------------------------------------------------------------------------------------

def test_to_json_round_trip_is_keras_3s_format(trained_mlp):
    text = trained_mlp.to_json(indent=1)
    config = json.loads(text)
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    clone = tf.keras.models.model_from_json(text)
    assert [layer.name for layer in clone.layers] == ["hidden", "norm", "drop", "probs"]
    assert clone.count_params() == trained_mlp.count_params()


def test_model_from_json_reads_keras_3_and_tf_keras_2_json():
    with open(fixture("two_tower_serialized.json")) as file:
        keras3 = tf.keras.models.model_from_json(file.read())
    assert [layer.name for layer in keras3.layers][-1] == "inner"
    with h5py.File(fixture("h5_multi_tf215.h5"), "r") as file:
        keras2_json = file.attrs["model_config"]  # tf.keras 2.15's to_json() format.
    keras2 = tf.keras.models.model_from_json(keras2_json)
    reference = tf.keras.models.load_model(fixture("h5_multi_tf215.h5"), compile=False)
    assert [layer.name for layer in keras2.layers] == [layer.name for layer in reference.layers]
    assert keras2.count_params() == reference.count_params()


def test_model_from_json_refuses_lambda_code_and_bad_text(tmp_path):
    marker = tmp_path / "pwned"
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 2], "name": "i"}},
        {"class_name": "Lambda", "config": {"name": "evil", "function": [
            _code_payload(marker), None, None], "function_type": "lambda"}}]}}
    with pytest.raises(ValueError, match="Lambda layer 'evil'.*safe_mode=False"):
        tf.keras.models.model_from_json(json.dumps(config))
    assert not marker.exists()
    with pytest.raises(ValueError, match="not valid JSON"):
        tf.keras.models.model_from_json("{")
    with pytest.raises(ValueError, match="not a valid Keras model config"):
        tf.keras.models.model_from_json("[1, 2]")


# -- the reverse direction: real Keras loads files written here ----------------------------

@pytest.mark.skipif(not os.path.exists(KERAS_PYTHON),
                    reason="needs TensorFlow/Keras 3 in .venv-bench (the benchmarks' venv)")
def test_keras_3_loads_files_written_here(trained_mlp, tmp_path):
    cases = {}
    x = np.random.default_rng(4).normal(size=(3, 8)).astype("float32")
    trained_mlp.save(str(tmp_path / "mlp.h5"))
    cases["mlp.h5"] = {"inputs": x.tolist(), "iterations": 8,
                       "outputs": np.asarray(trained_mlp(x, training=False)).tolist()}
    multi = tf.keras.models.load_model(fixture("h5_multi_tf215.h5"))
    multi.save(str(tmp_path / "multi.h5"))
    probe = inputs_of(expected("tf215")["h5_multi"], True)
    cases["multi.h5"] = {"inputs": [v.tolist() for v in probe], "several_inputs": True,
                         "iterations": 2,
                         "outputs": np.asarray(multi(probe, training=False)).tolist()}
    with open(tmp_path / "expected.json", "w") as file:
        json.dump(cases, file)
    result = subprocess.run(
        [KERAS_PYTHON, os.path.join(ROOT, "tests", "fixtures", "check_h5_with_keras.py"),
         str(tmp_path)], capture_output=True, text=True, timeout=240)
    report = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert result.stdout.count("ok  ") == 2, report


@tf.keras.saving.register_keras_serializable(package="test_legacy_h5")
def _double(x):
    return x * 2.0


def test_lambda_of_a_registered_function_needs_safe_mode_false(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), layers.Lambda(_double, name="twice"),
                                 layers.Dense(1, name="out")])
    path = str(tmp_path / "lambda.h5")
    model.save(path)
    with pytest.raises(ValueError, match=r"Lambda.*'twice'.*safe_mode=False"):
        tf.keras.models.load_model(path)
    loaded = tf.keras.models.load_model(path, safe_mode=False)
    x = np.array([[1.0, 2.0]], "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].function is _double


def test_load_weights_reads_a_whole_model_file():
    case = expected("tf221")["h5_mlp"]
    model = build_mlp()
    model.load_weights(fixture("h5_mlp_tf221.h5"))
    np.testing.assert_allclose(np.asarray(model(inputs_of(case, False), training=False)),
                               case["outputs"], rtol=1e-5, atol=1e-6)


def test_loss_aliases_are_written_under_full_names(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    path = str(tmp_path / "mse.h5")
    model.save(path)  # Keras 3.15 cannot read loss="mse" back from a .h5 file.
    with h5py.File(path, "r") as file:
        training = json.loads(file.attrs["training_config"])
    assert training["loss"] == "mean_squared_error" and training["metrics"] == ["mae"]
    loaded = tf.keras.models.load_model(path)
    logs = loaded.train_on_batch(np.ones((2, 2)), np.ones((2, 1)), return_dict=True)
    assert set(logs) == {"loss", "mae"}
