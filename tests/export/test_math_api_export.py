"""The session-7 math ops with real export rules (trigonometry, ceil/rint, NaN/inf tests)
run in onnxruntime, TF.js (Node) and LiteRT as numpyflow computes them."""

import numpy as np
import pytest

import numpyflow as tf

_X = tf.TensorSpec([None, 6], tf.float32)


def _inputs(batch):
    # Inside (-1, 1) for asin/acos/atanh, with exact halves for rint's ties-to-even.
    x = np.random.default_rng(batch).uniform(-0.9, 0.9, size=(batch, 6)).astype(np.float32)
    x[0, :4] = [0.5, -0.5, 0.25, -0.75]
    return x


def _trigonometry(x):
    return [tf.sin(x), tf.cos(x), tf.tan(x), tf.asin(x), tf.acos(x), tf.atan(x), tf.sinh(x),
            tf.cosh(x), tf.asinh(x), tf.acosh(x + 2.), tf.atanh(x),
            tf.math.ceil(x * 3.), tf.math.rint(x * 4.)]


def _tests(x):
    weird = x / tf.math.floor(x * 2.)  # 0/0 = NaN and x/0 = inf where |2x| < 1.
    return [tf.cast(tf.math.is_nan(weird), tf.float32), tf.cast(tf.math.is_inf(weird), tf.float32)]


def _check(run, function):
    for batch in (1, 3):
        x = _inputs(batch)
        want = [np.asarray(t) for t in function(tf.constant(x))]
        got = run(x)
        assert len(got) == len(want)
        for w, g in zip(want, got):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from numpyflow.export.onnx import export_onnx

    function = tf.function(lambda x: _trigonometry(x) + _tests(x), input_signature=[_X])
    path = tmp_path / "math.onnx"
    export_onnx(function, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    _check(lambda x: session.run(None, {session.get_inputs()[0].name: x}), function)


def test_tfjs_graph(tmp_path):
    import json

    from numpyflow.export.tfjs_graph import save_tfjs_graph_model
    from tests.export.tfjs_runtime import predict_in_node

    def everything(x):
        finite = tf.cast(tf.math.is_finite(x / tf.math.floor(x * 2.)), tf.float32)
        # Rint has no TF.js rule: the others only.
        return _trigonometry(x)[:-1] + _tests(x) + [finite, tf.math.atan2(x, x + 3.)]

    function = tf.function(everything, input_signature=[_X])
    path = tmp_path / "math"
    save_tfjs_graph_model(function, path)
    names = list(json.loads((path / "model.json").read_text())["signature"]["inputs"])
    _check(lambda x: predict_in_node(path, [x], tmp_path, input_names=names)[0], function)


def test_tflite():
    from tests.lite.helpers import run_tflite

    function = tf.function(lambda x: [tf.sin(x), tf.cos(x), tf.math.ceil(x * 3.),
                                      tf.math.rint(x * 4.)], input_signature=[_X])
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()])
    model = converter.convert()
    _check(lambda x: run_tflite(model, [x]), function)
