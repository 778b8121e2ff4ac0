"""More Keras layers through the TFLite converter, compared with predict in LiteRT."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras
from numpyflow.keras import layers
from tests.export.export_models import randomize
from tests.lite.helpers import operators, run_tflite

pytest.importorskip("tflite")
pytest.importorskip("ai_edge_litert")

CASES = {
    "conv1d": lambda: [keras.Input((16, 3)),
                       layers.Conv1D(4, 3, padding="same", activation="relu"),
                       layers.MaxPooling1D(2), layers.GlobalAveragePooling1D(), layers.Dense(2)],
    "embedding": lambda: [keras.Input((7,), dtype="int32"), layers.Embedding(20, 4),
                          layers.GlobalAveragePooling1D(), layers.Dense(2)],
    "layer_normalization": lambda: [keras.Input((6,)), layers.Dense(5),
                                    layers.LayerNormalization(), layers.LeakyReLU(0.2)],
    "separable_cropping": lambda: [keras.Input((8, 8, 3)),
                                   layers.SeparableConv2D(4, 3, padding="same"),
                                   layers.Cropping2D(1), layers.GlobalMaxPooling2D()],
    "rescaling_permute": lambda: [keras.Input((4, 5)), layers.Rescaling(0.5, 1.0),
                                  layers.Permute((2, 1)), layers.Flatten(),
                                  layers.RepeatVector(2)],
    "strides_dilation_same_pooling": lambda: [
        keras.Input((9, 9, 2)), layers.Conv2D(3, 3, strides=2, padding="same"),
        layers.Conv2D(2, 2, dilation_rate=2), layers.AveragePooling2D(3, 1, padding="same")],
    "gelu_swish_softmax": lambda: [keras.Input((5,)), layers.Dense(4, activation="gelu"),
                                   layers.Dense(3, activation="swish"), layers.Softmax()],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layers_match_predict(name):
    model = randomize(keras.Sequential(CASES[name]()), seed=4)
    shape = (3,) + tuple(model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 20, shape).astype(np.int32) if name == "embedding"
         else rng.uniform(size=shape).astype(np.float32))
    (got,) = run_tflite(tf.lite.TFLiteConverter.from_keras_model(model).convert(), [x])
    expected = model.predict(x, verbose=0)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-5


def test_explicit_padding_becomes_a_pad_operator():
    # Explicit pads that are neither SAME nor VALID: PAD, then a VALID CONV_2D.
    weights = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype(np.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 6, 2])])
    def conv(x):
        return tf.nn.conv2d(x, weights, strides=1, padding=[[0, 0], [2, 0], [0, 1], [0, 0]])

    tflite_model = tf.lite.TFLiteConverter.from_concrete_functions([conv]).convert()
    assert [op for op, _ in operators(tflite_model)] == ["PAD", "CONV_2D"]
    x = np.random.default_rng(2).uniform(size=(2, 6, 6, 2)).astype(np.float32)
    (got,) = run_tflite(tflite_model, [x])
    np.testing.assert_allclose(got, conv(x).numpy(), atol=1e-5, rtol=0)


def test_attention_converts_through_einsum():
    inputs = keras.Input((4, 6))
    outputs = layers.MultiHeadAttention(2, 3, name="attention")(inputs, inputs)
    model = randomize(keras.Model(inputs, outputs), seed=6)
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    ops = [op for op, _ in operators(tflite_model)]
    # Four projections on FULLY_CONNECTED, the two attention products on BATCH_MATMUL.
    assert ops.count("FULLY_CONNECTED") == 4 and ops.count("BATCH_MATMUL") == 2
    x = np.random.default_rng(3).uniform(size=(3, 4, 6)).astype(np.float32)
    (got,) = run_tflite(tflite_model, [x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5, rtol=0)


def test_einsum_forms_that_are_not_converted_name_the_layer():
    inputs = keras.Input((3, 3))
    outputs = layers.Lambda(lambda t: tf.einsum("bii->bi", t), name="diagonal")(inputs)
    model = keras.Model(inputs, outputs)
    with pytest.raises(ValueError, match=r"Layer 'diagonal'.*only two-operand einsum.*'bii->bi'"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()


def test_activations_after_merges_fuse_only_where_litert_allows():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    added = layers.ReLU()(layers.Add()([a, b]))                       # ADD + RELU fused.
    joined = layers.ReLU()(layers.Concatenate()([a, b]))             # Concat: separate RELU.
    model = keras.Model([a, b], layers.Concatenate()([added, joined]))
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert sorted(op for op, _ in operators(tflite_model)) == [
        "ADD", "CONCATENATION", "CONCATENATION", "RELU"]
    x = [np.random.default_rng(i).normal(size=(2, 4)).astype(np.float32) for i in (1, 2)]
    (got,) = run_tflite(tflite_model, x)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-6, rtol=0)


def test_rescaling_without_offset_is_one_mul():
    model = keras.Sequential([keras.Input((4,)), layers.Rescaling(1 / 255.0),
                              layers.Rescaling(1.0, offset=0.5)])
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert [op for op, _ in operators(tflite_model)] == ["MUL", "ADD"]
    x = np.arange(8, dtype=np.float32).reshape(2, 4) * 30
    (got,) = run_tflite(tflite_model, [x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-6, rtol=0)


RECURRENT = {
    "lstm": lambda: [layers.LSTM(4)],
    "lstm_sequences_backwards": lambda: [
        layers.LSTM(4, return_sequences=True, go_backwards=True), layers.LSTM(3)],
    "gru": lambda: [layers.GRU(4)],
    "gru_reset_before": lambda: [layers.GRU(4, reset_after=False, return_sequences=True)],
    "gru_without_bias": lambda: [layers.GRU(4, use_bias=False)],
    "simple_rnn": lambda: [layers.SimpleRNN(5, return_sequences=True),
                           layers.SimpleRNN(2, activation="relu")],
    "bidirectional": lambda: [layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
                              layers.GlobalAveragePooling1D()],
}


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_layers_unroll(name):
    model = randomize(keras.Sequential([keras.Input((6, 3))] + RECURRENT[name]()), seed=2)
    x = np.random.default_rng(0).uniform(-1, 1, size=(3, 6, 3)).astype(np.float32)
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert "PACK" in [op for op, _ in operators(tflite_model)]
    (got,) = run_tflite(tflite_model, [x])
    expected = model.predict(x, verbose=0)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-5


def test_recurrent_limits_are_clear_errors():
    masked = keras.Sequential([keras.Input((5,), dtype="int32"),
                               layers.Embedding(10, 3, mask_zero=True), layers.GRU(2, name="gru")])
    with pytest.raises(ValueError, match=r"Layer 'gru'.*a masked GRU \(mask_zero=True"):
        tf.lite.TFLiteConverter.from_keras_model(masked).convert()
    model = randomize(keras.Sequential([keras.Input((4, 2)), layers.LSTM(3)]))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter([[np.ones((1, 4, 2), np.float32)]])
    with pytest.raises(ValueError, match="no calibration range .* Use dynamic-range"):
        converter.convert()
    converter.representative_dataset = None   # Dynamic range works.
    x = np.random.default_rng(1).uniform(size=(2, 4, 2)).astype(np.float32)
    (got,) = run_tflite(converter.convert(), [x])
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= 1e-5  # Weights < 1024: float.
