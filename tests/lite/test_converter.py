"""tf.lite.TFLiteConverter: the issue's models converted, run in LiteRT, compared with predict."""

import re
import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras
from numpyflow.keras import layers
from tests.export import export_models
from tests.lite.helpers import operators, run_tflite, tensors

pytest.importorskip("tflite")
pytest.importorskip("ai_edge_litert")

TOLERANCE = 1e-5


@pytest.mark.parametrize("name", sorted(export_models.MODELS))
def test_models_match_predict_in_litert(name):
    model = export_models.MODELS[name][0]()
    inputs = export_models.sample_inputs(name, batch=3)
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = run_tflite(tflite_model, inputs)
    assert len(got) == len(expected)
    for ours, theirs in zip(expected, got):
        ours = np.asarray(ours)
        assert theirs.shape == ours.shape
        assert np.max(np.abs(theirs - ours)) <= TOLERANCE
        assert np.std(ours) > 1e-3  # Outputs that vary: a wrong layout cannot hide.


def test_model_file_has_tf_layout():
    model = export_models.seed_mlp()
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert tflite_model[4:8] == b"TFL3"
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    assert interpreter.get_signature_list() == {
        "serving_default": {"inputs": [model.inputs[0]._keras_history[0].name],
                            "outputs": ["output_0"]}}
    (detail,) = interpreter.get_input_details()
    assert detail["name"] == f"serving_default_{model.inputs[0]._keras_history[0].name}:0"
    assert detail["shape"].tolist() == [1, 28, 28]
    assert detail["shape_signature"].tolist() == [-1, 28, 28]
    assert detail["dtype"] == np.float32
    (output,) = interpreter.get_output_details()
    assert output["shape_signature"].tolist() == [-1, 10]
    # Flatten, then Dense + relu and Dense, fused with their biases.
    assert [name for name, _ in operators(tflite_model)] == [
        "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    kernel = [v for k, v in tensors(tflite_model).items()
              if re.search(r"/dense(_\d+)?/MatMul/kernel$", k)]
    assert kernel and kernel[0][1] == (128, 784)  # TFLite's (units, inputs) layout.


def test_batch_normalization_folds_into_the_convolution_and_dense_before_it():
    inputs = keras.Input((6, 6, 2))
    x = layers.Conv2D(3, 3)(inputs)
    x = layers.BatchNormalization()(x)   # Folded: right after the convolution.
    x = layers.ReLU()(x)                 # Fused into CONV_2D.
    x = layers.BatchNormalization()(x)   # After an activation: stays MUL + ADD.
    x = layers.Flatten()(x)
    x = layers.Dense(4, use_bias=False)(x)
    outputs = layers.BatchNormalization()(x)
    model = export_models.randomize(keras.Model(inputs, outputs), seed=5)
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert [name for name, _ in operators(tflite_model)] == [
        "CONV_2D", "MUL", "ADD", "RESHAPE", "FULLY_CONNECTED"]
    x = np.random.default_rng(1).uniform(size=(2, 6, 6, 2)).astype(np.float32)
    (got,) = run_tflite(tflite_model, [x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=TOLERANCE, rtol=0)


def test_resize_tensor_input_changes_the_batch():
    model = export_models.lenet5()
    interpreter = tf.lite.Interpreter(
        model_content=tf.lite.TFLiteConverter.from_keras_model(model).convert())
    detail = interpreter.get_input_details()[0]
    for batch in (1, 5):
        x = export_models.sample_inputs("lenet5", batch=batch, seed=batch)[0]
        interpreter.resize_tensor_input(detail["index"], [batch, 28, 28, 1], strict=True)
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        assert got.shape == (batch, 10)
        assert np.max(np.abs(got - model.predict(x, verbose=0))) <= TOLERANCE


def test_signature_runner_takes_inputs_by_name():
    model = export_models.functional_cnn()
    interpreter = tf.lite.Interpreter(
        model_content=tf.lite.TFLiteConverter.from_keras_model(model).convert())
    assert interpreter.get_signature_list()["serving_default"] == {
        "inputs": ["extra", "image"], "outputs": ["output_0", "output_1"]}
    image, extra = export_models.sample_inputs("functional_cnn", batch=2)
    runner = interpreter.get_signature_runner("serving_default")
    got = runner(image=image, extra=extra)
    probabilities, score = model.predict([image, extra], verbose=0)
    assert np.max(np.abs(got["output_0"] - probabilities)) <= TOLERANCE
    assert np.max(np.abs(got["output_1"] - score)) <= TOLERANCE


def test_from_concrete_functions_converts_a_tf_function():
    dense = layers.Dense(3)
    dense.build((None, 4))
    export_models.randomize(keras.Sequential([keras.Input((4,)), dense]))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def serve(x):
        return tf.nn.sigmoid(dense(x)) * 2.0

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], trackable_obj=None)
    x = np.random.default_rng(2).uniform(size=(4, 4)).astype(np.float32)
    (got,) = run_tflite(converter.convert(), [x])
    np.testing.assert_allclose(got, serve(x).numpy(), atol=TOLERANCE, rtol=0)
    # The tf.function itself works too.
    (again,) = run_tflite(tf.lite.TFLiteConverter.from_concrete_functions([serve]).convert(),
                          [x])
    np.testing.assert_allclose(again, got, atol=0, rtol=0)


def test_export_tflite_writes_a_file_that_loads_by_path(tmp_path):
    model = export_models.subclassed()
    path = tf.lite.export_tflite(model, tmp_path / "sub" / "model.tflite")
    interpreter = tf.lite.Interpreter(model_path=path)
    interpreter.allocate_tensors()
    x = export_models.sample_inputs("subclassed", batch=1)[0]
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tf.constant(x))
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= TOLERANCE
    with pytest.raises(ValueError, match="Unknown TFLite export option 'quantize'"):
        tf.lite.export_tflite(model, tmp_path / "m.tflite", quantize=True)


# -- bad input -----------------------------------------------------------------------------
def test_unbuilt_model_is_refused():
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not been built"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()


def test_unsupported_layer_is_named():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="softplus",
                                                              name="soft")])
    with pytest.raises(ValueError, match=r"Layer 'soft'.*cannot be exported to TFLite: "
                                         r"the op Softplus is not exportable \(no TFLite"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()


def test_grouped_convolution_is_refused_with_its_layer():
    model = keras.Sequential([keras.Input((6, 6, 4)), layers.Conv2D(4, 3, groups=2, name="grp")])
    with pytest.raises(ValueError, match=r"Layer 'grp'.*grouped convolution \(groups=2"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()


def test_lambda_layer_is_a_clear_error():
    inputs = keras.Input((3,))
    outputs = layers.Lambda(lambda t: np.asarray(t) * 2.0, name="numpy_lambda")(inputs)
    model = keras.Model(inputs, outputs)
    # A Lambda of numpyflow ops traces like any layer; one running NumPy cannot be traced.
    with pytest.raises(ValueError, match=r"TFLite: .*np.asarray\(\) \(in '.*numpy_lambda'\)"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()


def test_from_keras_model_wants_a_model_and_functions_want_a_signature():
    with pytest.raises(TypeError, match="expects a Keras model"):
        tf.lite.TFLiteConverter.from_keras_model(lambda x: x)
    with pytest.raises(ValueError, match="input_signature"):
        tf.lite.TFLiteConverter.from_concrete_functions([tf.function(lambda x: x)]).convert()
    with pytest.raises(ValueError, match="non-empty list"):
        tf.lite.TFLiteConverter.from_concrete_functions([])
    with pytest.raises(NotImplementedError, match="SavedModel"):
        tf.lite.TFLiteConverter.from_saved_model("/tmp/saved")


@pytest.mark.parametrize("setting, error, message", [
    ({"optimizations": ["DEFAULT"]}, ValueError, "tf.lite.Optimize values; received 'DEFAULT'"),
    ({"optimizations": tf.lite.Optimize.DEFAULT}, ValueError, "must be a list"),
    ({"optimizations": [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]}, NotImplementedError,
     "EXPERIMENTAL_SPARSITY"),
    ({"target_spec.supported_ops": ["TFLITE_BUILTINS"]}, ValueError, "tf.lite.OpsSet values"),
    ({"target_spec.supported_ops": [tf.lite.OpsSet.SELECT_TF_OPS]}, NotImplementedError,
     "SELECT_TF_OPS"),
    ({"target_spec.supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}, ValueError,
     "needs a representative_dataset"),
    ({"target_spec.supported_types": [tf.int16]}, NotImplementedError, "tf.float16"),
    ({"inference_input_type": tf.int8}, ValueError, "need full-integer quantization"),
    ({"inference_output_type": tf.int16}, ValueError, "tf.float32, tf.int8 or tf.uint8"),
    ({"experimental_new_converter": False}, NotImplementedError, "TOCO"),
    ({"experimental_new_quantizer": False}, NotImplementedError, "one quantizer"),
])
def test_bad_options_are_refused(setting, error, message):
    converter = tf.lite.TFLiteConverter.from_keras_model(export_models.seed_mlp())
    for key, value in setting.items():
        target = converter
        *path, last = key.split(".")
        for part in path:
            target = getattr(target, part)
        setattr(target, last, value)
    with pytest.raises(error, match=message):
        converter.convert()


def test_interpreter_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="exactly one of model_path and model_content"):
        tf.lite.Interpreter()
    with pytest.raises(ValueError, match="no such file"):
        tf.lite.Interpreter(model_path=tmp_path / "missing.tflite")
    with pytest.raises(TypeError, match="model_content must be bytes"):
        tf.lite.Interpreter(model_content="not bytes")
    with pytest.raises(ValueError):
        tf.lite.Interpreter(model_content=b"not a flatbuffer at all")


def test_missing_libraries_name_their_extra(monkeypatch):
    model = export_models.seed_mlp()
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    monkeypatch.setitem(sys.modules, "tflite.Model", None)  # Makes the import fail.
    with pytest.raises(ImportError, match=r"pip install numpyflow\[tflite\]"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(ImportError, match=r"pip install numpyflow\[litert\]"):
        tf.lite.Interpreter(model_content=tflite_model)


def test_import_numpyflow_loads_no_tflite_library():
    code = ("import sys, numpyflow as tf; tf.lite.TFLiteConverter; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('flatbuffers', 'tflite', 'ai_edge_litert')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_export_tflite_with_a_fixed_batch_input_signature(tmp_path):
    model = export_models.seed_mlp()
    path = tf.lite.export_tflite(model, tmp_path / "fixed.tflite",
                                 input_signature=[tf.TensorSpec([4, 28, 28], tf.float32)])
    interpreter = tf.lite.Interpreter(model_path=path)
    (detail,) = interpreter.get_input_details()
    assert detail["shape"].tolist() == detail["shape_signature"].tolist() == [4, 28, 28]
    interpreter.allocate_tensors()
    x = export_models.sample_inputs("seed_mlp", batch=4)[0]
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= TOLERANCE


def test_repeated_outputs_and_an_input_as_output_get_their_own_tensors():
    inputs = keras.Input((3,))
    dense = layers.Dense(2)(inputs)
    model = export_models.randomize(keras.Model(inputs, [dense, dense, inputs]))
    x = np.random.default_rng(0).uniform(size=(2, 3)).astype(np.float32)
    got = run_tflite(tf.lite.TFLiteConverter.from_keras_model(model).convert(), [x])
    for ours, theirs in zip(model.predict(x, verbose=0), got):
        np.testing.assert_allclose(theirs, ours, atol=TOLERANCE, rtol=0)


# -- review: TF's option semantics, atomic files --------------------------------------------
def _small_converter(**settings):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    for key, value in settings.items():
        target = converter
        *path, last = key.split(".")
        for part in path:
            target = getattr(target, part)
        setattr(target, last, value)
    return converter


def _representative_4():
    return ([np.random.default_rng(i).uniform(size=(1, 4)).astype(np.float32)]
            for i in range(4))


def _kinds(tflite_model):
    return {kind for kind, _, _ in tensors(tflite_model).values()}


def test_float16_types_with_a_representative_dataset_quantize_to_float16_as_tf():
    # TF 2.21: the smallest supported type (float16) decides; the dataset is not used.
    converter = _small_converter(**{"optimizations": [tf.lite.Optimize.DEFAULT],
                                    "target_spec.supported_types": [tf.float16],
                                    "representative_dataset": _representative_4})
    assert _kinds(converter.convert()) == {"FLOAT32", "FLOAT16"}


def test_int8_supported_types_mean_full_integer_as_tf():
    converter = _small_converter(**{"optimizations": [tf.lite.Optimize.DEFAULT],
                                    "target_spec.supported_types": [tf.int8]})
    with pytest.raises(ValueError, match="representative_dataset"):
        converter.convert()
    # With a dataset TF makes it integer-only (supported_ops {TFLITE_BUILTINS_INT8}).
    converter.representative_dataset = _representative_4
    converter.inference_input_type = converter.inference_output_type = tf.int8
    kinds = _kinds(converter.convert())
    assert "INT8" in kinds and "FLOAT32" not in kinds


def test_int8_ops_with_float16_types_are_refused_as_tf():
    converter = _small_converter(**{
        "optimizations": [tf.lite.Optimize.DEFAULT], "representative_dataset": _representative_4,
        "target_spec.supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8],
        "target_spec.supported_types": [tf.float16]})
    with pytest.raises(ValueError, match="supported_types"):
        converter.convert()


def test_int8_ops_without_optimizations_stay_float_as_tf():
    # TF quantizes only when `optimizations` is set; the model stays float.
    converter = _small_converter(**{
        "representative_dataset": _representative_4,
        "target_spec.supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]})
    assert _kinds(converter.convert()) == {"FLOAT32"}


def test_int8_and_builtin_ops_allow_float_fallback_as_tf():
    # TFLITE_BUILTINS beside TFLITE_BUILTINS_INT8 lets ops without int8 kernels stay float.
    @tf.function(input_signature=[tf.TensorSpec([None, 4])])
    def serve(x):
        return tf.exp(x)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative_4
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                           tf.lite.OpsSet.TFLITE_BUILTINS]
    assert "EXP" in [op for op, _ in operators(converter.convert())]
    # supported_types [tf.int8] means integer-only in TF, whatever supported_ops says.
    converter.target_spec.supported_types = [tf.int8]
    with pytest.raises(ValueError, match="EXP .* has no int8 kernel"):
        converter.convert()


@pytest.mark.parametrize("attribute, value", [
    ("experimental_new_dynamic_range_quantizer", False),
    ("experimental_use_stablehlo_quantizer", True),
    ("unfold_batchmatmul", True),
    ("_experimental_disable_per_channel", True),
])
def test_tf_options_numpyflow_does_not_implement_are_refused(attribute, value):
    converter = _small_converter(optimizations=[tf.lite.Optimize.DEFAULT])
    default = getattr(converter, attribute)   # TF's attribute exists with TF's default...
    assert default != value
    setattr(converter, attribute, value)      # ...and a change is not silently ignored.
    with pytest.raises(NotImplementedError, match=attribute):
        converter.convert()


def test_export_tflite_replaces_the_file_atomically(tmp_path):
    import os
    path = tmp_path / "model.tflite"
    path.write_bytes(b"old model")
    link = tmp_path / "old.tflite"
    os.link(path, link)   # Writing in place would change the linked file too.
    tf.lite.export_tflite(keras.Sequential([keras.Input((4,)), layers.Dense(2)]), path)
    assert link.read_bytes() == b"old model"
    assert path.read_bytes()[4:8] == b"TFL3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite", "old.tflite"]


def test_interpreter_num_threads_zero_is_refused_as_tf():
    tflite_model = _small_converter().convert()
    with pytest.raises(ValueError, match="num_threads"):
        tf.lite.Interpreter(model_content=tflite_model, num_threads=0)
    tf.lite.Interpreter(model_content=tflite_model, num_threads=-1)
    tf.lite.Interpreter(model_content=tflite_model, num_threads=2)


def test_interpreter_op_resolver_type_is_checked():
    tflite_model = _small_converter().convert()
    with pytest.raises(ValueError, match="experimental_op_resolver_type must be one of"):
        tf.lite.Interpreter(model_content=tflite_model, experimental_op_resolver_type="FAST")
    interpreter = tf.lite.Interpreter(model_content=tflite_model,
                                      experimental_op_resolver_type="BUILTIN_REF")
    interpreter.allocate_tensors()


def test_a_constant_of_the_traced_batch_size_is_refused_not_frozen_into_the_file():
    class TracedBatchOnes(keras.Model):
        def call(self, x):
            return x + tf.ones((x.shape[0], 3))

    model = TracedBatchOnes()
    model(np.zeros((4, 3), np.float32))
    with pytest.raises(Exception, match="constant of the traced batch size"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()
    # With a fixed batch the constant is right and the file converts.
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec([4, 3]))])
    assert converter.convert()[4:8] == b"TFL3"
