"""The session-7 array ops export to ONNX where their parts do (they are composed of
exported primitives), checked by running the file in onnxruntime."""

import numpy as np
import pytest

import numpyflow as tf

ort = pytest.importorskip("onnxruntime")
from numpyflow.export.onnx import export_onnx  # noqa: E402


def test_composed_array_ops_and_determinant_export_to_onnx(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 3, 3], tf.float32)])
    def f(m):
        z = tf.roll(tf.reverse(m, [1]), 1, 2) + tf.linalg.band_part(m, 1, 0)
        z = tf.clip_by_norm(z, 2.0, axes=[2]) + tf.norm(m, axis=[-2, -1], keepdims=True)
        z = tf.concat([tf.linalg.matrix_transpose(z), tf.repeat(m, [1, 0, 2], axis=1)], 1)
        return tf.reshape(z, (-1, 18)), tf.linalg.det(m), tf.linalg.trace(m)

    path = tmp_path / "arrays.onnx"
    export_onnx(f, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch in (1, 4):
        m = rng.normal(size=(batch, 3, 3)).astype(np.float32)
        got = session.run(None, {session.get_inputs()[0].name: m})
        for want, value in zip(f(tf.constant(m)), got):
            np.testing.assert_allclose(value, want.numpy(), rtol=1e-5, atol=1e-5)
