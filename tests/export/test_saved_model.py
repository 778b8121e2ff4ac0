"""TensorFlow SavedModels (`model.export(path)`, `numpyflow.saved_model.save`), without
TensorFlow: the written `saved_model.pb` parsed back with numpyflow's own messages
(signatures, dtypes, shapes, nodes, frozen weights), a small graph evaluated in NumPy,
atomic writes and errors. `test_saved_model_with_tf.py` loads the files in real TF."""

import doctest
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("google.protobuf")

import numpyflow as tf  # noqa: E402
from numpyflow import saved_model  # noqa: E402
from numpyflow.export import saved_model as saved_model_writer  # noqa: E402
from numpyflow.export import saved_model_proto as pb  # noqa: E402
from tests.export import export_models  # noqa: E402

layers = tf.keras.layers
DT_FLOAT = pb.DATA_TYPE_NUMBERS["DT_FLOAT"]
DT_INT32 = pb.DATA_TYPE_NUMBERS["DT_INT32"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _read(path):
    with open(os.path.join(path, "saved_model.pb"), "rb") as file:
        return pb.SavedModel.FromString(file.read())


def _nodes(meta_graph):
    return {node.name: node for node in meta_graph.graph_def.node}


def _const_value(node):
    tensor = node.attr["value"].tensor
    dtype = {DT_FLOAT: np.float32, DT_INT32: np.int32}[tensor.dtype]
    shape = [d.size for d in tensor.tensor_shape.dim]
    return np.frombuffer(tensor.tensor_content, dtype).reshape(shape)


def _evaluate(meta_graph, feeds, signature="serving_default"):
    """Runs a graph of the few ops an MLP needs in NumPy; {output key: array}."""
    nodes = _nodes(meta_graph)
    values = {}

    def value(name):
        name = name.split(":")[0]
        if name not in values:
            node = nodes[name]
            args = [value(i) for i in node.input]
            op = node.op
            if op == "Placeholder":
                values[name] = feeds[name]
            elif op == "Const":
                values[name] = _const_value(node)
            elif op == "MatMul":
                values[name] = args[0] @ args[1]
            elif op == "BiasAdd":
                values[name] = args[0] + args[1]
            elif op == "Relu":
                values[name] = np.maximum(args[0], 0)
            elif op in ("Identity", "Cast"):  # (Casts here are float32 to float32.)
                values[name] = args[0]
            else:
                raise AssertionError(f"op {op} not evaluated by this test")
        return values[name]

    outputs = meta_graph.signature_def[signature].outputs
    return {key: value(info.name) for key, info in outputs.items()}


def _mlp():
    return export_models.randomize(tf.keras.Sequential([
        tf.keras.Input((5,), name="features"), layers.Dense(7, activation="relu"),
        layers.Dense(3, name="scores")]), seed=4)


def test_keras_model_export_writes_a_serving_saved_model(tmp_path, capsys):
    model = _mlp()
    path = tmp_path / "served"
    model.export(path)  # Keras 3's default format.
    assert "Saved artifact at" in capsys.readouterr().out
    assert sorted(os.listdir(path)) == ["assets", "saved_model.pb", "variables"]
    assert os.listdir(path / "variables") == [] and os.listdir(path / "assets") == []
    saved = _read(path)
    assert saved.saved_model_schema_version == 1 and len(saved.meta_graphs) == 1
    meta_graph = saved.meta_graphs[0]
    assert list(meta_graph.meta_info_def.tags) == [saved_model.SERVING]
    assert list(meta_graph.signature_def) == [saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
    signature = meta_graph.signature_def["serving_default"]
    assert signature.method_name == "tensorflow/serving/predict"
    # Keras 3's keys: the Input's name, and output_0 (not the output layer's name).
    assert list(signature.inputs) == ["features"] and list(signature.outputs) == ["output_0"]
    features, scores = signature.inputs["features"], signature.outputs["output_0"]
    assert (features.name, features.dtype) == ("features:0", DT_FLOAT)
    assert [d.size for d in features.tensor_shape.dim] == [-1, 5]
    assert (scores.name, scores.dtype) == ("Identity:0", DT_FLOAT)
    assert [d.size for d in scores.tensor_shape.dim] == [-1, 3]
    nodes = _nodes(meta_graph)
    assert [node.op for node in meta_graph.graph_def.node] == [
        "Placeholder", "Const", "MatMul", "Const", "BiasAdd", "Relu", "Const", "MatMul",
        "Const", "BiasAdd", "Identity"]
    assert nodes["features"].attr["dtype"].type == DT_FLOAT
    assert [d.size for d in nodes["features"].attr["shape"].shape.dim] == [-1, 5]
    kernels = [_const_value(n) for n in meta_graph.graph_def.node if n.op == "Const"]
    np.testing.assert_array_equal(kernels[0], model.layers[0].kernel.numpy())
    np.testing.assert_array_equal(kernels[3], model.layers[1].bias.numpy())
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    ours = _evaluate(meta_graph, {"features": x})["output_0"]
    np.testing.assert_allclose(ours, model.predict(x, verbose=0), atol=1e-5)


def test_batch_one_and_float64_inputs_are_served_as_float32(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,), dtype="float64"), layers.Dense(1)])
    model.export(tmp_path / "m", format="tf_saved_model", verbose=False)
    meta_graph = _read(tmp_path / "m").meta_graphs[0]
    (info,) = meta_graph.signature_def["serving_default"].inputs.values()
    assert info.dtype == DT_FLOAT  # The graph computes in float32, as the TF.js graph does.
    x = np.ones((1, 2), np.float32)
    (out,) = _evaluate(meta_graph, {info.name[:-2]: x}).values()
    np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=1e-5)


def test_functional_cnn_concat_axes_are_scalars(tmp_path):
    """TF's ConcatV2 shape function wants a scalar axis (TF.js takes [axis] too)."""
    model = export_models.functional_cnn()
    saved_model.save(model, tmp_path / "cnn")
    meta_graph = _read(tmp_path / "cnn").meta_graphs[0]
    nodes = _nodes(meta_graph)
    concats = [n for n in meta_graph.graph_def.node if n.op == "ConcatV2"]
    assert concats
    for concat in concats:
        axis = nodes[concat.input[-1]]
        assert axis.op != "Const" or _const_value(axis).shape == ()
    signature = meta_graph.signature_def["serving_default"]
    assert sorted(signature.inputs) == ["extra", "image"]
    assert sorted(signature.outputs) == ["output_0", "output_1"]
    assert [d.size for d in signature.inputs["image"].tensor_shape.dim] == [-1, 12, 12, 3]
    for info in list(signature.inputs.values()) + list(signature.outputs.values()):
        assert info.name.endswith(":0") and info.name[:-2] in nodes


def test_function_and_module_signatures(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 4], name="x"),
                                  tf.TensorSpec([], tf.int32, name="k")])
    def scale(x, k):
        return x * tf.cast(k, tf.float32)

    saved_model.save(scale, tmp_path / "f")
    signature = _read(tmp_path / "f").meta_graphs[0].signature_def["serving_default"]
    assert sorted(signature.inputs) == ["k", "x"] and list(signature.outputs) == ["output_0"]
    assert signature.inputs["k"].dtype == DT_INT32
    assert [d.size for d in signature.inputs["k"].tensor_shape.dim] == []

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2])])
        def serve(self, x):
            return x * 2.0

    saved_model.save(Doubler(), tmp_path / "module")
    assert list(_read(tmp_path / "module").meta_graphs[0].signature_def) == ["serving_default"]
    with pytest.raises(ValueError, match="pass signatures=.*Found 0"):
        saved_model.save(tf.Module(), tmp_path / "empty")


def test_several_signatures_share_one_graph_with_distinct_names(tmp_path):
    model = _mlp()

    @tf.function(input_signature=[tf.TensorSpec([None, 5], name="features")])
    def probabilities(x):
        return tf.nn.softmax(model(x))

    saved_model.save(model, tmp_path / "two",
                     signatures={"serving_default": model, "probabilities": probabilities})
    meta_graph = _read(tmp_path / "two").meta_graphs[0]
    names = [node.name for node in meta_graph.graph_def.node]
    assert len(names) == len(set(names))
    nodes = set(names)
    for node in meta_graph.graph_def.node:
        assert all(i.lstrip("^").split(":")[0] in nodes for i in node.input), node
    second = meta_graph.signature_def["probabilities"]
    assert second.inputs["features"].name == "probabilities/features:0"
    assert meta_graph.signature_def["serving_default"].inputs["features"].name == "features:0"

    def double(spec_name):
        return tf.function(lambda x: x * 2.0,
                           input_signature=[tf.TensorSpec([None], name=spec_name)])

    # "p/" + the second graph's "x" would repeat the first graph's "p/x".
    saved_model.save(None, tmp_path / "clash", signatures={"serving_default": double("p/x"),
                                                          "p": double("x")})
    meta_graph = _read(tmp_path / "clash").meta_graphs[0]
    names = [node.name for node in meta_graph.graph_def.node]
    assert len(names) == len(set(names))
    assert meta_graph.signature_def["p"].inputs["x"].name == "p_1/x:0"


def test_writes_are_atomic_and_replace_only_saved_models(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m"
    saved_model.save(model, path)
    before = (path / "saved_model.pb").read_bytes()

    def interrupted(staging, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(saved_model_writer, "_swap_into_place", interrupted)
    bigger = tf.keras.Sequential([tf.keras.Input((5,)), layers.Dense(9)])
    with pytest.raises(KeyboardInterrupt):
        saved_model.save(bigger, path)
    assert (path / "saved_model.pb").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m"]  # No staging directory left behind.
    monkeypatch.undo()
    saved_model.save(bigger, path)  # Replaces the previous SavedModel.
    assert (path / "saved_model.pb").read_bytes() != before
    assert sorted(os.listdir(tmp_path)) == ["m"]

    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not empty and holds no previous SavedModel"):
        saved_model.save(model, other)
    assert os.listdir(other) == ["cat.jpg"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="it is a file"):
        saved_model.save(model, tmp_path / "file")


def test_errors_name_the_operation_the_format_and_what_to_do(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([3, 3])])
    def factor(x):
        return tf.linalg.cholesky(x)

    with pytest.raises(ValueError, match="cannot be exported to TensorFlow SavedModel: "
                                         "operation 'Cholesky'"):
        saved_model.save(factor, tmp_path / "c")
    assert not (tmp_path / "c").exists()
    unbuilt = tf.keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not been built"):
        unbuilt.export(tmp_path / "u")
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        _mlp().export(tmp_path / "k", is_static=True)
    with pytest.raises(NotImplementedError, match="cannot load them.*model.keras"):
        saved_model.load(tmp_path / "k")
    with pytest.raises(NotImplementedError, match="SaveOptions"):
        saved_model.save(_mlp(), tmp_path / "o", options=object())
    with pytest.raises(ValueError, match="signature 'bad' must be"):
        saved_model.save(_mlp(), tmp_path / "b", signatures={"bad": len})


def test_command_line_writes_a_saved_model(tmp_path, capsys):
    from numpyflow.export.__main__ import main
    model = _mlp()
    model.save(tmp_path / "model.keras")
    assert main([str(tmp_path / "model.keras"), "--format", "tf_saved_model",
                 str(tmp_path / "served")]) == 0
    assert "Saved artifact at" in capsys.readouterr().out
    meta_graph = _read(tmp_path / "served").meta_graphs[0]
    x = np.random.default_rng(1).normal(size=(2, 5)).astype(np.float32)
    (out,) = _evaluate(meta_graph, {"features": x}).values()
    np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=1e-5)


def test_tf_saved_model_loads_on_first_use():
    code = ("import sys, numpyflow as tf; assert 'numpyflow.saved_model' not in sys.modules; "
            "print(tf.saved_model.SERVING, tf.saved_model.save is "
            "sys.modules['numpyflow.saved_model'].save)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.stdout.split() == ["serve", "True"], result.stderr


def test_import_numpyflow_does_not_load_saved_model_or_protobuf():
    code = ("import sys, numpyflow; "
            "print(any(m.startswith(('numpyflow.saved_model', 'numpyflow.export', "
            "'google.protobuf')) for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("module", [saved_model, saved_model_writer, pb])
def test_docstrings(module):
    assert doctest.testmod(module).failed == 0
