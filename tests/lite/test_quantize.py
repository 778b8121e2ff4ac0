"""Post-training quantization: dynamic-range int8 weights and full-integer int8, in LiteRT."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.lite import quantize
from tests.export import export_models
from tests.lite.helpers import operators, run_tflite, tensors

pytest.importorskip("tflite")
pytest.importorskip("ai_edge_litert")


def test_activation_params_cover_the_range_and_zero():
    scale, zero_point = quantize.activation_params(-1.0, 3.0)
    assert scale == pytest.approx(4.0 / 255)
    # -1 and 3 are representable: q = -128 and 127.
    assert round(-1.0 / scale) + zero_point == -128
    assert round(3.0 / scale) + zero_point == 127
    scale, zero_point = quantize.activation_params(0.5, 2.0)   # Widened to include 0.
    assert zero_point == -128 and scale == pytest.approx(2.0 / 255)


def test_symmetric_per_channel_weights():
    weights = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype(np.float32)
    weights[..., 1] *= 10
    values, scales = quantize.symmetric_per_channel(weights, axis=3)
    assert values.dtype == np.int8 and np.abs(values).max() == 127
    assert scales.shape == (4,) and scales[1] > 5 * scales[0]
    assert np.max(np.abs(values * scales - weights) / scales) <= 0.5 + 1e-6


def _converter(name, **settings):
    model = export_models.MODELS[name][0]()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    for key, value in settings.items():
        setattr(converter, key, value)
    return model, converter


def _predict(model, inputs):
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def test_dynamic_range_quantizes_large_weights_per_channel():
    model, converter = _converter("seed_mlp")
    tflite_model = converter.convert()
    float_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert len(tflite_model) < len(float_model) / 3
    # Hybrid per-channel FULLY_CONNECTED is version 12, as TF writes it.
    assert operators(tflite_model) == [("RESHAPE", 1), ("FULLY_CONNECTED", 12),
                                       ("FULLY_CONNECTED", 12)]
    kernels = {k: v for k, v in tensors(tflite_model).items() if k.endswith("MatMul/kernel")}
    assert sorted((v[0], len(v[2])) for v in kernels.values()) == [("INT8", 10), ("INT8", 128)]
    inputs = export_models.sample_inputs("seed_mlp", batch=4)
    (got,) = run_tflite(tflite_model, inputs)
    (expected,) = _predict(model, inputs)
    assert got.dtype == np.float32
    assert np.max(np.abs(got - expected)) < 0.03


def test_dynamic_range_leaves_small_weights_float():
    # LeNet's first convolution has 150 weights (< 1024): TF keeps those float too.
    _, converter = _converter("lenet5")
    ops = operators(converter.convert())
    assert ops[0] == ("CONV_2D", 1)
    assert ("CONV_2D", 5) in ops and ("FULLY_CONNECTED", 12) in ops


def test_float16_weights_halve_the_file():
    model, converter = _converter("lenet5")
    converter.target_spec.supported_types = [tf.float16]
    tflite_model = converter.convert()
    float_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert len(tflite_model) < 0.55 * len(float_model)
    ops = operators(tflite_model)
    weights = sum(1 for _, (kind, _, _) in tensors(tflite_model).items() if kind == "FLOAT16")
    assert ops.count(("DEQUANTIZE", 3)) == weights >= 10   # Kernels and biases.
    inputs = export_models.sample_inputs("lenet5", batch=4)
    (got,) = run_tflite(tflite_model, inputs)
    (expected,) = _predict(model, inputs)
    assert 0 < np.max(np.abs(got - expected)) < 1e-3


def _representative(name, count=64):
    return lambda: (export_models.sample_inputs(name, batch=1, seed=100 + i)
                    for i in range(count))


@pytest.mark.parametrize("name", sorted(export_models.MODELS))
def test_full_integer_int8_model_is_close_to_float(name):
    model, converter = _converter(
        name, representative_dataset=tf.lite.RepresentativeDataset(_representative(name)),
        inference_input_type=tf.int8, inference_output_type=tf.int8)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    tflite_model = converter.convert()
    kinds = {kind for kind, _, _ in tensors(tflite_model).values()}
    assert "FLOAT32" not in kinds, kinds
    ops = [op for op, _ in operators(tflite_model)]
    # No conversion at the edges (a QUANTIZE inside may requantize a sigmoid's fixed-range
    # output for a concatenation, whose int8 inputs must share the output's parameters).
    assert ops[0] != "QUANTIZE" and "DEQUANTIZE" not in ops
    inputs = export_models.sample_inputs(name, batch=16, seed=7)
    got = run_tflite(tflite_model, inputs)
    for ours, theirs in zip(_predict(model, inputs), got):
        # Errors of a few quantization steps of outputs of magnitude ~1.
        assert np.max(np.abs(theirs - ours)) < 0.1 * max(1.0, np.max(np.abs(ours)))
        if ours.shape[-1] > 1:
            agreement = np.mean(np.argmax(theirs, -1) == np.argmax(ours, -1))
            assert agreement >= 0.8, agreement


def test_full_integer_with_float_interface_adds_quantize_and_dequantize():
    model, converter = _converter("lenet5", representative_dataset=_representative("lenet5"))
    tflite_model = converter.convert()
    ops = operators(tflite_model)
    assert ops[0] == ("QUANTIZE", 1) and ops[-1] == ("DEQUANTIZE", 2)
    assert ("CONV_2D", 3) in ops and ("FULLY_CONNECTED", 4) in ops and ("SOFTMAX", 2) in ops
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    assert interpreter.get_output_details()[0]["dtype"] == np.float32
    inputs = export_models.sample_inputs("lenet5", batch=8, seed=3)
    (got,) = run_tflite(tflite_model, inputs)
    (expected,) = _predict(model, inputs)
    assert np.max(np.abs(got - expected)) < 0.02
    # SOFTMAX's int8 output is fixed to scale 1/256, zero point -128 (TFLite's spec).
    softmax_out = [v for k, v in tensors(tflite_model).items()
                   if v[0] == "INT8" and v[2] is not None and np.isclose(v[2][0], 1 / 256)]
    assert softmax_out


def test_uint8_interface():
    model, converter = _converter("subclassed", representative_dataset=_representative(
        "subclassed"), inference_input_type=tf.uint8, inference_output_type=tf.uint8)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    tflite_model = converter.convert()
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    assert interpreter.get_input_details()[0]["dtype"] == np.uint8
    assert interpreter.get_output_details()[0]["dtype"] == np.uint8
    inputs = export_models.sample_inputs("subclassed", batch=8, seed=3)
    (got,) = run_tflite(tflite_model, inputs)
    (expected,) = _predict(model, inputs)
    assert np.max(np.abs(got - expected)) < 0.02


def test_representative_dataset_must_match_the_inputs():
    _, converter = _converter(
        "seed_mlp", representative_dataset=lambda: iter([[np.zeros((1, 5), np.float32)]]))
    with pytest.raises(ValueError, match=r"shape \(1, 5\) for input .*expects"):
        converter.convert()
    _, converter = _converter("seed_mlp", representative_dataset=lambda: iter([]))
    with pytest.raises(ValueError, match="yielded no samples"):
        converter.convert()
    _, converter = _converter("seed_mlp", representative_dataset=[np.zeros((1, 28, 28))])
    with pytest.raises(ValueError, match="generator function"):
        converter.convert()


def _exp_function():
    dense = tf.keras.layers.Dense(4)
    dense.build((None, 3))
    dense.kernel.assign(np.random.default_rng(0).normal(0, 0.5, (3, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def serve(x):
        return dense(tf.exp(dense(x)[:, :3]))
    return serve


def test_ops_without_int8_kernels_stay_float_unless_int8_only():
    serve = _exp_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [np.random.default_rng(i).uniform(size=(1, 3)).astype(np.float32)] for i in range(32))
    tflite_model = converter.convert()
    ops = [op for op, _ in operators(tflite_model)]
    position = ops.index("EXP")
    assert ops[position - 1] == "DEQUANTIZE" and ops[position + 1] == "QUANTIZE"
    assert ("FULLY_CONNECTED", 4) in operators(tflite_model)   # The int8 kernel.
    # Calibrated inputs: nothing falls outside the measured ranges.
    x = np.concatenate([np.random.default_rng(i).uniform(size=(1, 3)).astype(np.float32)
                        for i in range(5)])
    (got,) = run_tflite(tflite_model, [x])
    assert np.max(np.abs(got - serve(x).numpy())) < 0.05
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(ValueError, match=r"operator EXP .* has no int8 kernel"):
        converter.convert()


def test_bias_that_would_overflow_int32_widens_the_weight_scale_as_tf():
    # A channel with tiny weights and a large bias: bias / (input_scale * weight_scale) is
    # past int32. TF 2.21 widens that channel's weight scale so the bias fits in half the
    # int32 range (its output here: 8.0055); wrapping around would give garbage.
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    kernel = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    kernel[:, 1] *= 1e-9
    model.layers[-1].set_weights([kernel, np.array([0.5, 8.0], np.float32)])
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 4)).astype(np.float32)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[i:i + 1]] for i in range(8))
    tflite_model = converter.convert()
    (got,) = run_tflite(tflite_model, [x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=0.02)
    bias_scales = [scales for kind, _, scales in tensors(tflite_model).values()
                   if kind == "INT32" and scales is not None]
    assert len(bias_scales) == 1
    assert 8.0 / bias_scales[0][1] <= 2 ** 30 + 1


def test_full_integer_pad_with_a_fill_value_shares_its_parameters():
    # LiteRT's int8 PADV2 needs the fill value quantized like its input and output; a fill
    # outside the calibrated range widens that range.
    x = np.random.default_rng(0).uniform(-1, 1, (8, 4, 5)).astype(np.float32)
    serve = tf.function(lambda t: tf.pad(t, [[0, 0], [1, 2], [0, 1]], constant_values=3.0),
                        input_signature=[tf.TensorSpec([None, 4, 5])])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[i:i + 1]] for i in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    tflite_model = converter.convert()
    assert ("PADV2", 2) in operators(tflite_model)
    (got,) = run_tflite(tflite_model, [x])
    np.testing.assert_allclose(got, serve(x).numpy(), atol=4 / 255)


def test_full_integer_leaves_integer_inputs_and_outputs_alone():
    # Token ids stay int32 and an argmax stays int64 whatever the inference types: only
    # quantized (float) tensors get QUANTIZE/DEQUANTIZE at the edges.
    inputs = tf.keras.Input((7,), dtype="int32")
    hidden = tf.keras.layers.Dense(3)(tf.keras.layers.GlobalAveragePooling1D()(
        tf.keras.layers.Embedding(20, 4)(inputs)))
    model = tf.keras.Model(inputs, [hidden, tf.keras.layers.Lambda(
        lambda t: tf.argmax(t, axis=-1))(hidden)])
    x = np.random.default_rng(0).integers(0, 20, (8, 7)).astype(np.int32)
    for interface in (tf.float32, tf.int8):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([x[i:i + 1]] for i in range(8))
        converter.inference_input_type = converter.inference_output_type = interface
        tflite_model = converter.convert()
        interpreter = tf.lite.Interpreter(model_content=tflite_model)
        assert interpreter.get_input_details()[0]["dtype"] == np.int32
        assert sorted(d["dtype"].__name__ for d in interpreter.get_output_details()) == sorted(
            [np.dtype(interface.as_numpy_dtype).name, "int64"])
        got, got_class = run_tflite(tflite_model, [x])
        expected, _ = model.predict(x, verbose=0)
        np.testing.assert_allclose(got, expected, atol=0.05)
        assert got_class.dtype == np.int64
