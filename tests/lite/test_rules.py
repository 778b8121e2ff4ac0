"""The TFLite rule table covers every registered primitive, and single rules convert right."""

import importlib
import pkgutil

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import primitive
from numpyflow.lite.rules import RULES, NotExportable

pytest.importorskip("tflite")
pytest.importorskip("ai_edge_litert")


def _import_everything():
    # Primitives register when their module is imported; load them all.
    for module in pkgutil.walk_packages(tf.__path__, "numpyflow."):
        importlib.import_module(module.name)


def test_every_registered_primitive_has_a_rule_or_a_reason():
    _import_everything()
    registered = set(primitive.registered_primitives())
    missing = sorted(registered - set(RULES))
    assert not missing, f"primitives without a TFLite rule or NotExportable entry: {missing}"
    assert not sorted(set(RULES) - registered), "rules for primitives that do not exist"
    for name, rule in RULES.items():
        assert callable(rule) or (isinstance(rule, NotExportable) and rule.reason), name


def test_gradient_and_random_primitives_are_not_exportable():
    assert "gradient" in RULES["ReluGrad"].reason
    assert "random" in RULES["DropoutMask"].reason


def _run(fn, *inputs, signature=None):
    """Converts `fn` (a tf.function with an input signature) and runs it in LiteRT."""
    signature = signature or [tf.TensorSpec((None,) + x.shape[1:], tf.as_dtype(x.dtype))
                              for x in inputs]
    function = tf.function(fn, input_signature=signature)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()])
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    details = interpreter.get_input_details()
    for detail, x in zip(details, inputs):
        interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    for detail, x in zip(details, inputs):
        interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


@pytest.mark.parametrize("fn", [
    lambda x: x[:, 1:3, ::2],
    lambda x: x[:, -1],
    lambda x: x[..., 0, None],
    lambda x: tf.gather(x, [2, 0], axis=2),
    lambda x: tf.argmax(x, axis=-1),
    lambda x: tf.tile(x, [1, 2, 1]),
    lambda x: tf.pad(x, [[0, 0], [1, 1], [2, 0]], mode="REFLECT"),
    lambda x: tf.pad(x, [[0, 0], [1, 2], [0, 1]], constant_values=2.5),
    lambda x: tf.pad(x, [[0, 0], [1, 0], [0, 1]], constant_values=np.float32(0)),
    lambda x: tf.transpose(x, [0, 2, 1]),
    lambda x: tf.reduce_max(x, axis=1, keepdims=True) - tf.reduce_sum(x, axis=[1, 2],
                                                                      keepdims=True),
    lambda x: tf.nn.leaky_relu(x, 0.3) + tf.math.rsqrt(tf.abs(x) + 1.0),
    lambda x: tf.clip_by_value(x, -0.5, 0.25) * tf.exp(x),
    lambda x: tf.where(x > 0.0, x, -x),
    lambda x: tf.math.cumsum(x, axis=1, reverse=True),
    lambda x: tf.stack([x, 2.0 * x], axis=1),
    lambda x: tf.nn.log_softmax(x) + tf.nn.gelu(x),
    lambda x: tf.nn.softmax(x, axis=1) + tf.nn.log_softmax(x, axis=-2),
    lambda x: tf.einsum("abc,adc->abd", x, 2.0 * x),
    lambda x: tf.einsum("abc,cd->bad", x, np.ones((5, 2), np.float32)),
])
def test_single_rules_match_numpyflow(fn):
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)
    (got,) = _run(fn, x)
    expected = np.asarray(fn(tf.constant(x)))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_dtype_tflite_lacks_names_the_tensor():
    serve = tf.function(lambda t: t * 2.0, input_signature=[tf.TensorSpec([None, 2], tf.float64)])
    with pytest.raises(ValueError, match=r"Tensor 'serving_default_.*' cannot be written to "
                                         r"TFLite: .*dtype float64"):
        tf.lite.TFLiteConverter.from_concrete_functions([serve]).convert()
