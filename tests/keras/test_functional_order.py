"""`model.layers` of functional models in Keras 3's order (it decides the weight paths of
`.keras` files), checked against real Keras 3 on branching topologies (fixtures written by
tests/fixtures/make_functional_interop_fixtures.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf
from tests.fixtures import make_functional_interop_fixtures as topologies

keras = tf.keras
layers = keras.layers
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "functional_interop")
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
with open(os.path.join(FIXTURES, "expected.json")) as f:
    EXPECTED = json.load(f)


def build(name):
    """The topology `name` of the fixture script, built with numpyflow's keras."""
    keras.backend.clear_session()
    topologies.keras = keras
    return topologies.ORDER_MODELS[name]()


def load_io(name):
    with np.load(os.path.join(FIXTURES, f"{name}_io.npz"), allow_pickle=False) as data:
        x = [data[f"x{i}"] for i in range(sum(k.startswith("x") for k in data.files))]
        y = [data[f"y{i}"] for i in range(sum(k.startswith("y") for k in data.files))]
    return x, y


def predict(model, x):
    y = model.predict(x if len(x) > 1 else x[0], verbose=0)
    return y if isinstance(y, list) else [y]


def test_branching_outputs_keep_the_outputs_order():
    # Keras 3: [a, b, d1, d2, d3]; numpyflow gave [a, b, d3, d1, d2] before.
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    d1, d2, d3 = (layers.Dense(3, name=n) for n in ("d1", "d2", "d3"))
    model = keras.Model([a, b], [d1(a), d2(b), d3(a)])
    assert [layer.name for layer in model.layers] == ["a", "b", "d1", "d2", "d3"]
    assert [w.name for w in model.weights][::2] == ["d1/kernel:0", "d2/kernel:0", "d3/kernel:0"]


def test_deeper_layers_come_first_then_the_walk_from_the_outputs():
    x = keras.Input((4,), name="x")
    short = layers.Dense(4, name="short")(x)
    long = layers.Dense(4, name="long_2")(layers.Dense(4, name="long_1")(x))
    model = keras.Model(x, [short, long])
    # Depths: long_1 1, short 0 and long_2 0 (short first: the first output's).
    assert [layer.name for layer in model.layers] == ["x", "long_1", "short", "long_2"]


@pytest.mark.parametrize("name", sorted(topologies.ORDER_MODELS))
def test_layers_config_and_weights_in_keras3_order(name):
    model = build(name)
    assert [layer.name for layer in model.layers] == EXPECTED[name]["layers"]
    assert [c["name"] for c in model.get_config()["layers"]] == EXPECTED[name]["config_layers"]
    # Keras 3 lists each layer's weights together, layer by layer.
    assert [w.name[:-len(":0")] for w in model.weights] == EXPECTED[name]["weights"]


@pytest.mark.parametrize("name", sorted(topologies.ORDER_MODELS))
def test_keras3_files_load_with_the_same_layers_and_predictions(name):
    model = keras.models.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    assert [layer.name for layer in model.layers] == EXPECTED[name]["layers"]
    x, expected = load_io(name)
    for got, want in zip(predict(model, x), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_layer_used_at_two_depths_is_listed_at_its_deepest():
    model = build("two_depths")  # a(b(a(x))) and a(c(x)): `a` at depths 2, 0 and 0.
    assert [layer.name for layer in model.layers] == ["x", "a", "b", "c"]
    x = np.random.default_rng(1).standard_normal((2, 4)).astype("float32")
    a, b, c = (model.get_layer(n) for n in "abc")
    y, z = model.predict(x, verbose=0)
    np.testing.assert_allclose(y, a(b(a(x))).numpy(), rtol=1e-6)
    np.testing.assert_allclose(z, a(c(x)).numpy(), rtol=1e-6)


def test_order_survives_a_config_round_trip():
    for name in topologies.ORDER_MODELS:
        model = build(name)
        clone = keras.Model.from_config(model.get_config())
        assert [layer.name for layer in clone.layers] == EXPECTED[name]["layers"], name


def test_deep_branching_graph_without_recursion():
    x = inputs = keras.Input((2,))
    depth = sys.getrecursionlimit() + 50
    for _ in range(depth):
        x = x + 1.
    model = keras.Model(inputs, [x, inputs * 2.])
    assert len(model.layers) == depth + 2
    assert model.layers[-1].name.startswith("tf.__operators__.multiply")  # Depth 0, last.
    y, doubled = model(np.ones((1, 2), np.float32))
    np.testing.assert_allclose(y.numpy(), [[depth + 1] * 2])
    np.testing.assert_allclose(doubled.numpy(), [[2., 2.]])


def _bench_keras_importable():
    if not os.path.exists(BENCH_PYTHON):
        return False
    result = subprocess.run([BENCH_PYTHON, "-c", "import keras"], capture_output=True,
                            timeout=120)
    return result.returncode == 0


@pytest.mark.skipif(not _bench_keras_importable(),
                    reason="needs Keras 3 in .venv-bench (the benchmarks' venv)")
def test_keras3_loads_numpyflow_files_with_the_same_layers_and_predictions(tmp_path):
    rng = np.random.default_rng(2)
    for name in topologies.ORDER_MODELS:
        model = build(name)
        x, _ = load_io(name)
        # Weights that differ between same-shape layers: a swap would show. (Positive:
        # BatchNormalization's moving variances.)
        model.set_weights([rng.uniform(0.1, 1.0, w.shape).astype("float32")
                           for w in model.get_weights()])
        model.save(str(tmp_path / f"{name}.keras"))
        np.savez(tmp_path / f"{name}_io.npz", layers=np.array([l.name for l in model.layers]),
                 **{f"x{i}": v for i, v in enumerate(x)},
                 **{f"y{i}": v for i, v in enumerate(predict(model, x))})
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures",
                                    "check_functional_interop_with_keras.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    count = len(topologies.ORDER_MODELS)
    assert f"{count}/{count} files match" in result.stdout, result.stdout + result.stderr[-3000:]
