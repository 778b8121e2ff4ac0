"""The `.keras` format: round trips, optimizer state, compile settings, Keras 3 interop both
ways, Lambda/safe_mode, config/weights mismatches, kill-mid-save and fuzzed files."""

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile

import h5py
import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import file_safety
from numpyflow.keras.saving import keras_archive, weights_store

keras = tf.keras
layers = keras.layers
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "keras3")
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")


@keras.saving.register_keras_serializable(package="nf_fixtures")
class TwoDense(keras.Model):
    """The subclassed model of `tests/fixtures/make_keras_files.py`, registered alike."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(8, activation="relu")
        self.blocks = [layers.Dense(8), layers.BatchNormalization()]
        self.out = layers.Dense(units)

    def call(self, inputs):
        x = self.hidden(inputs)
        for block in self.blocks:
            x = block(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="nf_test")
def times_three(x):
    return x * 3.


# -- the models (the same architectures as make_keras_files.py) ---------------------------------

def build_mlp():
    model = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(3, activation="softmax")], name="mlp")
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, "classes"


def build_two_tower():
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="tanh"),
                              layers.Dense(4)], name="inner")
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    shared = layers.Dense(6, name="shared")
    merged = layers.Concatenate(name="concat")([shared(a), shared(b)])
    merged = layers.BatchNormalization(name="bn")(merged)
    x = layers.Dense(6, activation="relu", name="proj")(merged)
    added = layers.Add(name="add")([x, shared(a)])
    out = inner(layers.Multiply(name="mul")([added, shared(b)]))
    model = keras.Model([a, b], out, name="two_tower")
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse", metrics=["mae"])
    return model, "regression"


def build_cnn():
    inputs = keras.Input((8, 8, 1), name="image")
    norm = layers.Normalization(name="norm")
    x = layers.Rescaling(0.5, offset=0.1)(norm(inputs))
    x = layers.Conv2D(4, 3, padding="same", use_bias=False)(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(layers.AveragePooling2D(pool_size=2)(x))
    outputs = layers.Dense(3, activation="softmax")(layers.Dropout(0.3)(x))
    model = keras.Model(inputs, outputs, name="cnn")
    norm.adapt(np.random.default_rng(3).normal(2., 3., size=(32, 8, 8, 1)).astype("float32"))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, "classes"


def build_subclassed():
    model = TwoDense(units=3, name="two_dense")
    model(np.zeros((1, 5), "float32"))
    model.compile(keras.optimizers.RMSprop(1e-2), "mse")
    return model, "regression"


BUILDERS = {"mlp": build_mlp, "two_tower": build_two_tower, "cnn": build_cnn,
            "subclassed": build_subclassed}


def _batch(model, kind, rng, n):
    shapes = [(5,)] if isinstance(model, TwoDense) else \
        [tuple(t.shape[1:]) for t in model.inputs]
    xs = [rng.normal(size=(n,) + s).astype("float32") for s in shapes]
    y = rng.integers(0, 3, size=(n,)) if kind == "classes" else \
        rng.normal(size=(n, 3 if isinstance(model, TwoDense) else 4)).astype("float32")
    return (xs[0] if len(xs) == 1 else xs), y


def trained(name, seed=0):
    """A model of `BUILDERS[name]` trained two epochs, and data: (model, x, (x_next, y_next))."""
    model, kind = BUILDERS[name]()
    rng = np.random.default_rng(seed)
    x_train, y_train = _batch(model, kind, rng, 32)
    model.fit(x_train, y_train, batch_size=8, epochs=2, verbose=0, shuffle=False)
    x, _ = _batch(model, kind, rng, 8)
    return model, x, _batch(model, kind, rng, 8)


def _flat(x):
    return x if isinstance(x, list) else [x]


# -- Keras 3 -> numpyflow -------------------------------------------------------------------------

def _fixture_inputs(arrays, prefix):
    keys = sorted((k for k in arrays.files if k.startswith(prefix) and k[len(prefix):].isdigit()),
                  key=lambda k: int(k[len(prefix):]))
    values = [arrays[k] for k in keys]
    return values[0] if len(values) == 1 else values


@pytest.mark.parametrize("name", ["k3_mlp", "k3_two_tower", "k3_cnn", "k3_subclassed"])
def test_keras3_file_predicts_the_same_and_continues_training_alike(name):
    arrays = np.load(os.path.join(FIXTURES, f"{name}_io.npz"))
    model = keras.models.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    x = _fixture_inputs(arrays, "x")
    np.testing.assert_allclose(model.predict(x, verbose=0), arrays["y_pred"], rtol=1e-5,
                               atol=1e-6)
    if "y_after_step" in arrays.files:  # The optimizer's state, in Keras's order.
        model.train_on_batch(_fixture_inputs(arrays, "x_next"), arrays["y_next"])
        np.testing.assert_allclose(model.predict(x, verbose=0), arrays["y_after_step"],
                                   rtol=1e-5, atol=1e-6)


def test_keras3_file_restores_compile_settings():
    model = keras.saving.load_model(os.path.join(FIXTURES, "k3_cnn.keras"))
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.optimizer.learning_rate.numpy() == np.float32(3e-3)
    assert model.loss == "sparse_categorical_crossentropy"
    assert int(model.optimizer.iterations.numpy()) == 8  # 2 epochs of 4 batches.
    # Normalization's adapted state is restored (Keras 3 leaves its `count` at 0).
    with zipfile.ZipFile(os.path.join(FIXTURES, "k3_cnn.keras")) as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
            mean, variance = (h5[f"layers/normalization/vars/{i}"][()] for i in (0, 1))
    norm = model.get_layer("norm")
    np.testing.assert_array_equal(norm.adapt_mean.numpy(), mean)
    np.testing.assert_array_equal(norm.adapt_variance.numpy(), variance)
    assert abs(float(mean[0]) - 2.) < 0.5 and abs(float(variance[0]) - 9.) < 2.


def test_numpyflow_weights_layout_is_keras3s():
    with zipfile.ZipFile(os.path.join(FIXTURES, "k3_two_tower.keras")) as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
            keras_groups = _vars_groups(h5)
    model, _, _ = trained("two_tower")
    with h5py.File(io.BytesIO(keras_archive.write_weights_h5_bytes(model)), "r") as h5:
        ours = _vars_groups(h5)
    assert ours == keras_groups
    assert "layers/sequential/layers/dense_1/vars" in ours and "optimizer/vars" in ours


def _vars_groups(h5):
    """`{path: shape}` of every dataset and `{path: None}` of every group in the file."""
    found = {}

    def visit(name, obj):
        found[name] = obj.shape if isinstance(obj, h5py.Dataset) else None

    h5.visititems(visit)
    return found


# -- numpyflow round trips ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BUILDERS))
def test_round_trip_predicts_and_steps_identically(name, tmp_path):
    model, x, (x_next, y_next) = trained(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    if name != "cnn":  # Dropout makes the cnn's step random.
        model.train_on_batch(x_next, y_next)
        loaded.train_on_batch(x_next, y_next)
        for before, after in zip(model.weights, loaded.weights):
            np.testing.assert_array_equal(after.numpy(), before.numpy(), err_msg=before.name)


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5),
                                  amsgrad=True),
    lambda: keras.optimizers.AdamW(0.01),
    lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: keras.optimizers.Adagrad(0.1),
    lambda: keras.optimizers.Adamax(0.01)], ids=["adam-schedule-amsgrad", "adamw",
                                                 "rmsprop-centered", "adagrad", "adamax"])
def test_optimizer_state_round_trip(optimizer, tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.compile(optimizer(), "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model.save(tmp_path / "o.keras")
    loaded = keras.models.load_model(tmp_path / "o.keras")
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for before, after in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(after.numpy(), before.numpy(), err_msg=before.name)


def test_file_saved_before_training_loads_into_a_compiled_model(tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.5), "mse")  # Optimizer not built: 2 variables.
    model.save(tmp_path / "fresh.keras")
    loaded = keras.models.load_model(tmp_path / "fresh.keras")
    assert int(loaded.optimizer.iterations.numpy()) == 0
    assert loaded.optimizer.learning_rate.numpy() == np.float32(0.5)
    loaded.train_on_batch(np.ones((2, 4)), np.ones((2, 2)))


def test_compile_false_leaves_the_model_uncompiled(tmp_path):
    model, x, (x_next, y_next) = trained("mlp")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert loaded.optimizer is None
    with pytest.raises(RuntimeError, match="compile"):
        loaded.train_on_batch(x_next, y_next)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    compiled = keras.models.load_model(tmp_path / "m.keras")
    config = compiled.get_compile_config()
    assert config["loss"] == "sparse_categorical_crossentropy"
    assert config["metrics"] == ["accuracy"]
    assert config["optimizer"]["config"]["learning_rate"] == pytest.approx(1e-2)


def test_unknown_custom_layer_needs_custom_objects(tmp_path):
    class Doubler(layers.Layer):
        def call(self, inputs):
            return inputs * 2.

    inputs = keras.Input((3,))
    model = keras.Model(inputs, Doubler(name="doubler")(layers.Dense(2)(inputs)))
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="Doubler.*custom_objects"):
        keras.models.load_model(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras", custom_objects={"Doubler": Doubler})
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_and_load_weights_round_trip(tmp_path):
    model, x, _ = trained("two_tower")
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    other, _ = build_two_tower()
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "m.h6")
    with pytest.raises(NotImplementedError, match="by_name"):
        other.load_weights(path, by_name=True)


def test_extensions_and_overwrite(tmp_path):
    model, _, _ = trained("mlp")
    with pytest.raises(ValueError, match=r"\.keras.*Received: filepath="):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match="File format not supported"):
        keras.models.load_model(tmp_path / "m.txt")
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.keras", overwrite=False)
    with pytest.raises(NotImplementedError, match="zipped"):
        model.save(tmp_path / "n.keras", zipped=False)
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert set(metadata) == {"keras_version", "date_saved"}
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"
    assert config["class_name"] == "Sequential"


def test_import_numpyflow_does_not_import_h5py():
    code = "import sys, numpyflow; print([m for m in sys.modules if m.startswith('h5py')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# -- Lambda and safe_mode ------------------------------------------------------------------------

def _lambda_model(function):
    inputs = keras.Input((2,))
    return keras.Model(inputs, layers.Lambda(function, name="scale")(inputs))


def test_lambda_is_refused_in_safe_mode_and_loads_by_registered_name(tmp_path):
    model = _lambda_model(times_three)
    model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match=r"Lambda layer\(s\) \['scale'\].*safe_mode=False"):
        keras.models.load_model(tmp_path / "l.keras")
    loaded = keras.models.load_model(tmp_path / "l.keras", safe_mode=False)
    assert loaded.get_layer("scale").function is times_three
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2), "float32"), verbose=0),
                                  [[3., 3.]])


def test_lambda_function_not_registered_is_refused_even_unsafe(tmp_path):
    model = _lambda_model(lambda x: x * 2.)
    model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="never imports modules or runs code"):
        keras.models.load_model(tmp_path / "l.keras", safe_mode=False)


def test_keras_bytecode_lambda_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    # Keras 3 stores a lambda as base64 marshal bytecode; this one would create `marker`.
    code = f"open({str(marker)!r}, 'w').close()"
    config = {"module": "keras.src.models.functional", "class_name": "Functional",
              "registered_name": None, "config": {
                  "name": "m", "trainable": True,
                  "layers": [
                      {"module": "keras.layers", "class_name": "InputLayer", "name": "in",
                       "registered_name": None, "inbound_nodes": [],
                       "config": {"batch_shape": [None, 2], "dtype": "float32",
                                  "name": "in"}},
                      {"module": "keras.layers", "class_name": "Lambda", "name": "evil",
                       "registered_name": None,
                       "config": {"name": "evil", "function": {
                           "class_name": "__lambda__",
                           "config": {"code": code, "defaults": None, "closure": None}}},
                       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                                    "config": {"shape": [None, 2],
                                                               "dtype": "float32",
                                                               "keras_history": ["in", 0, 0]}}],
                                          "kwargs": {}}]}],
                  "input_layers": ["in", 0, 0], "output_layers": ["evil", 0, 0]}}
    path = tmp_path / "evil.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")
        archive.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(path)
    with pytest.raises(ValueError, match="never runs code from a file"):
        keras.models.load_model(path, safe_mode=False)
    assert not marker.exists()


# -- config and weights that disagree -------------------------------------------------------------

def test_wrong_shape_names_layer_and_both_shapes_and_loads_nothing(tmp_path):
    small = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="a"),
                              layers.Dense(2, name="b")])
    small.save_weights(tmp_path / "s.weights.h5")
    other = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="a"),
                              layers.Dense(5, name="b")])
    before = [w.numpy().copy() for w in other.weights]
    with pytest.raises(weights_store.WeightsMismatchError,
                       match=r"layer 'b'.*model's has shape \(3, 5\).*file's has shape \(3, 2\)"):
        other.load_weights(tmp_path / "s.weights.h5")
    for array, weight in zip(before, other.weights):  # Layer 'a' matched but is untouched.
        np.testing.assert_array_equal(weight.numpy(), array)


def test_missing_and_extra_layers_are_named(tmp_path):
    one = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="a")])
    two = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="a"),
                            layers.Dense(2, name="b")])
    one.save_weights(tmp_path / "one.weights.h5")
    two.save_weights(tmp_path / "two.weights.h5")
    with pytest.raises(ValueError, match=r"no weights for layer 'b'.*\(3, 2\)"):
        two.load_weights(tmp_path / "one.weights.h5")
    with pytest.raises(ValueError, match=r"layers/dense_1/vars.*match no layer"):
        one.load_weights(tmp_path / "two.weights.h5")


def test_keras_archive_with_mismatched_weights_fails_with_names(tmp_path):
    model, _, _ = trained("mlp")
    model.save(tmp_path / "m.keras")
    members = file_safety.read_zip(tmp_path / "m.keras")
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as h5:
        kernel = h5["layers/dense/vars/0"][()]
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        h5.create_dataset("layers/dense/vars/0", data=kernel[:4])
    _rewrite(tmp_path / "m.keras", {"model.weights.h5": buffer.getvalue()})
    with pytest.raises(ValueError, match=r"\(8, 16\).*\(4, 16\)"):
        keras.models.load_model(tmp_path / "m.keras")


def _rewrite(path, replacements):
    members = file_safety.read_zip(path)
    members.update(replacements)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


# -- Keras 3 loads what numpyflow wrote ---------------------------------------------------------

def write_for_keras(directory):
    """Saves every BUILDERS model with the inputs/outputs check_with_keras.py compares."""
    for name in BUILDERS:
        model, x, (x_next, y_next) = trained(name, seed=5)
        model.save(os.path.join(directory, f"nf_{name}.keras"))
        arrays = {f"x{i}": v for i, v in enumerate(_flat(x))}
        arrays["y_pred"] = model.predict(x, verbose=0)
        if name != "cnn":
            arrays.update({f"x_next{i}": v for i, v in enumerate(_flat(x_next))})
            arrays["y_next"] = y_next
            model.train_on_batch(x_next, y_next)
            arrays["y_after_step"] = model.predict(x, verbose=0)
        np.savez(os.path.join(directory, f"nf_{name}_io.npz"), **arrays)
    # Each optimizer's slots in Keras 3's order, checked by the step after loading.
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    for name, optimizer in KERAS_ORDER_OPTIMIZERS.items():
        model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
        model.compile(optimizer(), "mse")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        model.save(os.path.join(directory, f"nf_opt_{name}.keras"))
        arrays = {"x0": x, "y_pred": model.predict(x, verbose=0), "x_next0": x[::-1],
                  "y_next": y[::-1]}
        model.train_on_batch(x[::-1], y[::-1])
        arrays["y_after_step"] = model.predict(x, verbose=0)
        np.savez(os.path.join(directory, f"nf_opt_{name}_io.npz"), **arrays)


KERAS_ORDER_OPTIMIZERS = {
    "adam_amsgrad": lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: keras.optimizers.AdamW(0.01),
    "rmsprop_centered": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: keras.optimizers.Adagrad(0.1),
    "adamax": lambda: keras.optimizers.Adamax(0.01),
}


def _bench_keras_importable():
    if not os.path.exists(BENCH_PYTHON):
        return False
    result = subprocess.run([BENCH_PYTHON, "-c", "import keras"], capture_output=True,
                            timeout=120)
    return result.returncode == 0


@pytest.mark.skipif(not _bench_keras_importable(),
                    reason="needs Keras 3 in .venv-bench (the benchmarks' venv)")
def test_keras3_loads_numpyflow_files(tmp_path):
    write_for_keras(tmp_path)
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures", "check_with_keras.py"),
         str(tmp_path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    count = len(BUILDERS) + len(KERAS_ORDER_OPTIMIZERS)
    assert f"{count}/{count} files match" in result.stdout


# -- kill mid-save ------------------------------------------------------------------------------

_SAVER = """
import sys, numpy as np, numpyflow as tf
keras = tf.keras
path = sys.argv[1]
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64), keras.layers.Dense(4)])
model.compile("adam", "mse")
model.fit(np.ones((8, 8)), np.ones((8, 4)), verbose=0)
model.save(path)
print("ready", flush=True)
i = 0
while True:
    model.layers[0].kernel.assign(np.full((8, 64), float(i % 7), "float32"))
    model.save(path)
    i += 1
"""


def test_a_save_killed_at_any_moment_leaves_a_loadable_file(tmp_path):
    path = str(tmp_path / "k.keras")
    rng = random.Random(0)
    deadline = time.monotonic() + 20
    rounds = 0
    while rounds < 6 and time.monotonic() < deadline:
        process = subprocess.Popen([sys.executable, "-c", _SAVER, path], stdout=subprocess.PIPE,
                                   text=True)
        try:
            assert process.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.6))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        model = keras.models.load_model(path)
        kernel = model.layers[0].kernel.numpy()
        assert kernel.shape == (8, 64)
        rounds += 1
    assert rounds >= 2


# -- fuzzing ------------------------------------------------------------------------------------

# Every failure to load a damaged file is one of these, with a message; anything else (or a
# crash or a hang) is a bug. UnsafeFileError and WeightsMismatchError are ValueErrors.
ALLOWED_ERRORS = keras_archive.LOAD_ERRORS


def _mutations(data, config, rng):
    """Yields (description, archive bytes): damaged zip bytes, damaged bytes of the weights
    HDF5 and of config.json inside a valid zip, and structurally mutated JSON configs."""
    members = file_safety.read_zip(data)

    def damage(blob, most):
        blob = bytearray(blob)
        for _ in range(rng.randint(1, most)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        return bytes(blob)

    for i in range(40):
        yield f"zip-bytes#{i}", damage(data, 8)
    for i in range(120):
        yield f"h5-bytes#{i}", _archive_with(members, {"model.weights.h5":
                                                       damage(members["model.weights.h5"], 4)})
    for i in range(40):
        yield f"json-bytes#{i}", _archive_with(members, {"config.json":
                                                         damage(members["config.json"], 3)})
    for i in range(150):
        mutated = json.loads(json.dumps(config))
        _mutate_json(mutated, rng)
        yield f"json#{i}", _archive_with(members, {"config.json": json.dumps(mutated).encode()})


def _mutate_json(config, rng):
    nodes, stack = [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            nodes.extend((node, key) for key in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            nodes.extend((node, i) for i in range(len(node)))
            stack.extend(node)
    for _ in range(rng.randint(1, 3)):
        parent, key = rng.choice(nodes)
        choice = rng.randrange(6)
        if choice == 0 and isinstance(parent, dict):
            del parent[key]
            return
        parent[key] = [None, -1, 10**12, "x", [], {}, 1.5, True][rng.randrange(8)] \
            if choice < 5 else {"class_name": "Lambda", "config": {}}


def _archive_with(members, replacements):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, replacements.get(name, value))
    return buffer.getvalue()


def test_fuzzed_archives_fail_cleanly(tmp_path):
    model, _, _ = trained("two_tower")
    model.save(tmp_path / "valid.keras")
    data = (tmp_path / "valid.keras").read_bytes()
    config = json.loads(file_safety.read_zip(data)["config.json"])
    rng = random.Random(1234)
    path = tmp_path / "fuzz.keras"
    start = time.monotonic()
    outcomes = {"loaded": 0, "refused": 0}
    cases = 0
    for description, mutated in _mutations(data, config, rng):
        path.write_bytes(mutated)
        case_start = time.monotonic()
        try:
            keras.models.load_model(path)
            outcomes["loaded"] += 1
        except ALLOWED_ERRORS as error:
            assert str(error), description
            outcomes["refused"] += 1
        assert time.monotonic() - case_start < 5, f"{description} took too long"
        cases += 1
        if time.monotonic() - start > 30:
            break
    assert cases >= 200 and outcomes["refused"] > 100, (cases, outcomes)


def test_a_config_declaring_weights_beyond_the_file_is_refused_before_allocating(tmp_path):
    """A hostile config can ask for any layer size; the weights file bounds what is built."""
    import json
    import tracemalloc
    import zipfile
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    path = tmp_path / "small.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 10**9  # 16 GB of float32 kernel.
    members["config.json"] = json.dumps(config).encode()
    hostile = tmp_path / "hostile.keras"
    with zipfile.ZipFile(hostile, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"hostile\.keras: layer 'dense.*' declares a "
                                             r"weight 'kernel' of shape \(4, 1000000000\)"):
            tf.keras.models.load_model(hostile)
        assert tracemalloc.get_traced_memory()[1] < 64 * 2**20
    finally:
        tracemalloc.stop()
    legacy = tmp_path / "hostile.h5"
    model.save(legacy)
    import h5py
    with h5py.File(legacy, "r+") as f:
        legacy_config = json.loads(f.attrs["model_config"])
        legacy_config["config"]["layers"][-1]["config"]["units"] = 10**9
        f.attrs["model_config"] = json.dumps(legacy_config)
    with pytest.raises(ValueError, match="declares a weight 'kernel' of shape"):
        tf.keras.models.load_model(legacy)
