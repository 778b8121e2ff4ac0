"""`model.export(path, format=...)` and `python -m numpyflow.export`: one entry point for
TFLite/LiteRT, ONNX and TF.js; each file is run in its runtime and predicts as the model."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.export.__main__ import main

layers = tf.keras.layers
onnxruntime = pytest.importorskip("onnxruntime")
litert = pytest.importorskip("ai_edge_litert.interpreter")


def _model():
    model = tf.keras.Sequential([tf.keras.Input((6, 6, 1)), layers.Conv2D(3, 3, activation="relu"),
                                 layers.Flatten(), layers.Dense(4, activation="softmax")])
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.5, tuple(variable.shape)).astype(np.float32))
    return model


def _in_onnxruntime(path, x):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _in_litert(path, x):
    interpreter = tf.lite.Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    (output,) = runner(**{next(iter(runner.get_input_details())): x}).values()
    return output


@pytest.mark.parametrize("format", ["tflite", "litert", "onnx"])
def test_export_writes_a_file_its_runtime_runs_like_predict(tmp_path, format, capsys):
    model = _model()
    path = tmp_path / f"model.{'onnx' if format == 'onnx' else 'tflite'}"
    model.export(path, format=format)
    assert f"Saved artifact at '{path}'" in capsys.readouterr().out
    x = np.random.default_rng(1).normal(size=(1, 6, 6, 1)).astype(np.float32)
    run = _in_onnxruntime if format == "onnx" else _in_litert
    np.testing.assert_allclose(run(path, x), model.predict(x, verbose=0), atol=1e-5)


def test_options_reach_the_format_and_unknown_ones_are_refused(tmp_path):
    model = _model()
    model.export(tmp_path / "m.onnx", format="onnx", opset_version=18, verbose=False)
    import onnx
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == 18
    with pytest.raises(TypeError, match="weight_shard_size_bytes"):
        model.export(tmp_path / "x.onnx", format="onnx", weight_shard_size_bytes=10)
    # TFLite quantizes weights of 1,024 elements or more (as TF's converter does).
    wide = tf.keras.Sequential([tf.keras.Input((64,)), layers.Dense(64)])
    wide.export(tmp_path / "q.tflite", format="tflite", verbose=False,
                optimizations=[tf.lite.Optimize.DEFAULT])
    wide.export(tmp_path / "f.tflite", format="tflite", verbose=False)
    assert (tmp_path / "q.tflite").stat().st_size < (tmp_path / "f.tflite").stat().st_size
    with pytest.raises((TypeError, ValueError), match="opset_version"):
        model.export(tmp_path / "y.tflite", format="tflite", opset_version=17)


def test_a_subclassed_model_and_a_function_export(tmp_path):
    class Head(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return tf.nn.softmax(self.dense(x))

    model = Head()
    x = np.random.default_rng(2).normal(size=(2, 5)).astype(np.float32)
    model(x)
    model.export(tmp_path / "head.onnx", format="onnx", verbose=False)
    np.testing.assert_allclose(_in_onnxruntime(tmp_path / "head.onnx", x), model(x).numpy(),
                               atol=1e-6)


def test_command_line_exports_a_saved_model(tmp_path, capsys):
    model = _model()
    model.save(tmp_path / "m.keras")
    assert main([str(tmp_path / "m.keras"), str(tmp_path / "m.onnx"), "--format", "onnx"]) == 0
    assert main([str(tmp_path / "m.keras"), str(tmp_path / "m.tflite"), "--format", "tflite"]) == 0
    x = np.zeros((1, 6, 6, 1), np.float32)
    np.testing.assert_allclose(_in_onnxruntime(tmp_path / "m.onnx", x),
                               _in_litert(tmp_path / "m.tflite", x), atol=1e-5)
    assert main([str(tmp_path / "missing.keras"), str(tmp_path / "o.onnx"),
                 "--format", "onnx"]) == 1
    assert "error:" in capsys.readouterr().err


def test_tfjs_writes_layers_or_graph_models_and_says_how_to_load_them(tmp_path, capsys):
    import json

    class Head(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    subclassed = Head()
    subclassed(np.zeros((1, 4), np.float32))
    subclassed.export(tmp_path / "graph", format="tfjs")
    assert "tf.loadGraphModel" in capsys.readouterr().out
    assert json.loads((tmp_path / "graph" / "model.json").read_text())["format"] == "graph-model"
    sequential = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(2)])
    sequential.export(tmp_path / "layers", format="tfjs")
    assert "tf.loadLayersModel" in capsys.readouterr().out
    sequential.export(tmp_path / "as_graph", format="tfjs", output_format="tfjs_graph_model")
    assert json.loads((tmp_path / "as_graph" / "model.json").read_text())["format"] == \
        "graph-model"
    with pytest.raises(ValueError, match="output_format must be"):
        sequential.export(tmp_path / "x", format="tfjs", output_format="saved_model")
    lambdas = tf.keras.Sequential([tf.keras.Input((4,)), layers.Lambda(lambda x: x * 2.0)])
    with pytest.raises(ValueError, match="output_format='tfjs_graph_model'"):
        lambdas.export(tmp_path / "lambda", format="tfjs")
    lambdas.export(tmp_path / "lambda", format="tfjs", output_format="tfjs_graph_model")


@pytest.mark.parametrize("args, option", [
    (["--format", "tfjs", "--opset", "18"], "--opset"),
    (["--format", "tflite", "--opset", "18"], "--opset"),
    (["--format", "onnx", "--weight-shard-size-bytes", "100"], "--weight-shard-size-bytes")])
def test_command_line_refuses_an_option_of_another_format(tmp_path, capsys, args, option):
    # A usage error (exit status 2) naming the option, before the model is read.
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "missing.keras"), str(tmp_path / "out")] + args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and args[1] in err and "Traceback" not in err


def test_command_line_reports_a_missing_optional_package_without_a_traceback(tmp_path, capsys,
                                                                            monkeypatch):
    import sys
    _model().save(tmp_path / "m.keras")
    monkeypatch.setitem(sys.modules, "onnx", None)   # `import onnx` raises ImportError.
    assert main([str(tmp_path / "m.keras"), str(tmp_path / "m.onnx"), "--format", "onnx"]) == 1
    assert "error: Exporting to ONNX needs the 'onnx' package" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
