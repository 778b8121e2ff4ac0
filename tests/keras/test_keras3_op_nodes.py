"""Keras 3 op nodes (`keras.src.ops.numpy.NotEqual`, ...) in functional configs: Keras's own
files load with its predictions, save back as Keras wrote them, and numpyflow's masked models
save configs Keras loads (fixtures: tests/fixtures/make_functional_interop_fixtures.py)."""

import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.graph import keras_ops
from numpyflow.keras.graph.op_layer import resolve_op
from tests.fixtures import make_functional_interop_fixtures as fixture_models
from tests.keras.test_functional_order import (BENCH_PYTHON, EXPECTED, FIXTURES, ROOT,
                                               _bench_keras_importable, load_io, predict)

keras = tf.keras
OP_MODELS = sorted(fixture_models.OP_MODELS)


def load(name):
    return keras.models.load_model(os.path.join(FIXTURES, f"{name}.keras"))


def file_config(name):
    with zipfile.ZipFile(os.path.join(FIXTURES, f"{name}.keras")) as archive:
        return json.loads(archive.read("config.json"))["config"]


def assert_predicts(model, name):
    x, expected = load_io(name)
    for got, want in zip(predict(model, x), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", OP_MODELS)
def test_keras3_files_with_op_nodes_load_with_the_same_predictions(name):
    model = load(name)
    assert_predicts(model, name)
    # Op nodes are operations of the graph, not layers, as in Keras.
    assert [layer.name for layer in model.layers] == EXPECTED[name]["layers"]
    assert [c["name"] for c in model.get_config()["layers"]] == EXPECTED[name]["config_layers"]


def test_masked_transformer_uses_the_padding_mask():
    # Embedding(mask_zero) -> MultiHeadAttention -> Add -> LayerNormalization ->
    # GlobalAveragePooling1D(mask=LogicalOr(NotEqual, NotEqual)) -> Dense. Rows 0 and 1 of
    # the inputs are padded with 0: with the mask, the padding's embedding cannot matter.
    model = load("masked_transformer")
    x, expected = load_io("masked_transformer")
    embedding = model.get_layer("embedding")
    table = embedding.get_weights()[0]
    table[0] = 5.0
    embedding.set_weights([table])
    np.testing.assert_allclose(model.predict(x[0], verbose=0), expected[0], rtol=1e-5, atol=1e-5)
    embedding.mask_zero = False  # Now the padded steps count: rows 0 and 1 change.
    unmasked = model.predict(x[0], verbose=0)
    assert not np.allclose(unmasked[:2], expected[0][:2], atol=1e-3)
    np.testing.assert_allclose(unmasked[2], expected[0][2], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", OP_MODELS)
def test_op_nodes_are_written_back_as_keras_wrote_them(name):
    written = {c["name"]: c for c in load(name).get_config()["layers"]}
    for entry in file_config(name)["layers"]:
        if keras_ops.is_keras_operation_config(entry):
            mine = written[entry["name"]]
            for key in ("module", "class_name", "config", "registered_name", "inbound_nodes"):
                assert mine[key] == entry[key], (entry["name"], key)


@pytest.mark.parametrize("name", OP_MODELS)
def test_config_and_file_round_trips(name, tmp_path):
    model = load(name)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert_predicts(clone, name)
    model.save(str(tmp_path / "again.keras"))
    assert_predicts(keras.models.load_model(str(tmp_path / "again.keras")), name)


def test_every_op_class_resolves_and_is_checked_against_keras():
    covered = set()
    for name in OP_MODELS:
        covered |= {entry["class_name"] for entry in file_config(name)["layers"]
                    if keras_ops.is_keras_operation_config(entry)}
    assert covered == set(keras_ops.KERAS_OPS)  # Each compared with Keras's predictions.
    for module, op_name, _ in keras_ops.KERAS_OPS.values():
        assert module in ("numpy", "nn", "math", "core")
        assert callable(resolve_op(op_name))


def _op(class_name, module="numpy", **config):
    return keras_ops.operation_from_config(
        {"module": f"keras.src.ops.{module}", "class_name": class_name,
         "config": {"name": class_name.lower(), **config}, "registered_name": class_name})


def test_ops_on_tensors():
    x = tf.constant([[1.5, -2.0, 0.0], [3.0, 0.5, -1.0]])
    np.testing.assert_allclose(_op("Clip", x_min=-1.0, x_max=1.0)(x).numpy(),
                               np.clip(x.numpy(), -1, 1))
    np.testing.assert_allclose(_op("Einsum", subscripts="ij->ji")(x).numpy(), x.numpy().T)
    np.testing.assert_allclose(_op("GetItem")(x, [slice(None), 1]).numpy(), [-2.0, 0.5])
    np.testing.assert_allclose(_op("Concatenate")([x, x]).numpy().shape, (4, 3))  # Axis 0.
    np.testing.assert_allclose(_op("Gelu", "nn")(x).numpy(),  # Keras's default: approximate.
                               tf.nn.gelu(x, approximate=True).numpy())
    np.testing.assert_array_equal(_op("NotEqual")(tf.constant([3, 0]), 0).numpy(), [True, False])


@pytest.mark.parametrize("entry, error, message", [
    ({"class_name": "Svd", "module": "keras.src.ops.linalg"}, ValueError,
     "'keras.src.ops.linalg.Svd', which numpyflow cannot read"),
    ({"class_name": "system", "module": "keras.src.ops.os"}, ValueError, "keras.src.ops.os.system"),
    ({"class_name": "Add", "module": "keras.src.ops.nn"}, ValueError, "keras.src.ops.nn.Add"),
    ({"class_name": "Max", "config": {"name": "max", "initial": 1.0}}, NotImplementedError,
     "supports only initial=None. Received: initial=1.0"),
    ({"class_name": "Sum", "config": {"name": "sum", "where": True}}, NotImplementedError,
     r"does not support the argument\(s\) \['where'\]"),
])
def test_unsupported_op_nodes_raise_naming_them(entry, error, message):
    config = {"module": "keras.src.ops.numpy", "config": {"name": "op"}, **entry}
    with pytest.raises(error, match=message):
        keras_ops.operation_from_config(config)


def test_where_with_one_argument_raises():
    with pytest.raises(NotImplementedError, match=r"where\(condition, x1, x2\) only"):
        _op("Where")(tf.constant([True, False]))


def test_an_unknown_op_node_in_a_file_names_its_class(tmp_path):
    config = file_config("masked_transformer")
    for entry in config["layers"]:
        if entry["class_name"] == "LogicalOr":
            entry["class_name"] = entry["registered_name"] = "BitwiseOr"
    with pytest.raises(ValueError, match="keras.src.ops.numpy.BitwiseOr"):
        keras.Model.from_config(config)


def _numpyflow_masked_transformer():
    keras.backend.clear_session()
    fixture_models.keras = keras
    return fixture_models.masked_transformer()


@pytest.mark.skipif(not _bench_keras_importable(),
                    reason="needs Keras 3 in .venv-bench (the benchmarks' venv)")
def test_keras3_loads_numpyflow_models_with_masks_and_op_nodes(tmp_path):
    x, _ = load_io("masked_transformer")
    ops_x, _ = load_io("keras_ops_between_layers")
    models = {
        # Masks computed implicitly by numpyflow (no op nodes in the config).
        "implicit_masks": (_numpyflow_masked_transformer(), x),
        # Keras's op nodes, read and written back by numpyflow.
        "loaded_masked_transformer": (load("masked_transformer"), x),
        "loaded_keras_ops": (load("keras_ops_between_layers"), ops_x),
    }
    for name, (model, inputs) in models.items():
        model.save(str(tmp_path / f"{name}.keras"))
        np.savez(tmp_path / f"{name}_io.npz", layers=np.array([l.name for l in model.layers]),
                 **{f"x{i}": v for i, v in enumerate(inputs)},
                 **{f"y{i}": v for i, v in enumerate(predict(model, inputs))})
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures",
                                    "check_functional_interop_with_keras.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert "3/3 files match" in result.stdout, result.stdout + result.stderr[-3000:]


def test_an_op_that_rejects_ones_still_builds_a_functional_model():
    # A matrix of ones is singular: shape inference retries with normal values.
    inputs = tf.keras.Input((3, 3))
    model = tf.keras.Model(inputs, tf.linalg.inv(inputs))
    assert model.output_shape == (None, 3, 3)
    x = np.random.default_rng(0).random((2, 3, 3)).astype("float32") + 3 * np.eye(3, dtype="float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.linalg.inv(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be square"):
        tf.linalg.inv(inputs[:, :2, :])  # the first failure is the one reported
