"""ConvLSTM2D and ConvLSTM1D: Keras 3's outputs for the same weights, shapes, configs,
masks, dropout, states, gradients and errors.

Reference outputs come from `tests/fixtures/sequence/` (written by Keras 3.15 with
`tests/fixtures/make_sequence_fixtures.py`).
"""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers
from tests.keras.test_embedding_masking import keras_config, load_fixture

pytestmark = pytest.mark.usefixtures("fresh_names")

FIXTURE_LAYERS = {
    "conv_lstm2d_same_seq": lambda: layers.ConvLSTM2D(3, 3, padding="same",
                                                      return_sequences=True),
    "conv_lstm2d_valid_state": lambda: layers.ConvLSTM2D(2, (3, 2), return_state=True),
    "conv_lstm2d_strides_backwards": lambda: layers.ConvLSTM2D(
        2, 2, strides=2, go_backwards=True, return_sequences=True),
    "conv_lstm2d_dilation": lambda: layers.ConvLSTM2D(2, 2, dilation_rate=2, padding="same",
                                                      use_bias=False),
    "conv_lstm1d": lambda: layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True),
}


def _weights(data):
    return [data[f"w{i}"] for i in range(sum(k.startswith("w") for k in data))]


def _outputs(data):
    return [data[f"y{i}"] for i in range(sum(k.startswith("y") for k in data))]


@pytest.mark.parametrize("name", sorted(FIXTURE_LAYERS))
def test_conv_lstm_matches_keras3(name):
    data = load_fixture(name)
    layer = FIXTURE_LAYERS[name]()
    layer(data["x"])
    assert [tuple(w.shape) for w in layer.weights] == [w.shape for w in _weights(data)]
    layer.set_weights(_weights(data))
    outputs = layer(data["x"])
    outputs = outputs if isinstance(outputs, list) else [outputs]
    expected = _outputs(data)
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    shapes = layer.compute_output_shape((None,) + data["x"].shape[1:])
    shapes = shapes if isinstance(shapes, list) else [shapes]
    assert [tuple(s)[1:] for s in shapes] == [y.shape[1:] for y in expected]


@pytest.mark.parametrize("name", sorted(FIXTURE_LAYERS))
def test_conv_lstm_config_has_keras3_keys_and_reads_keras3_config(name):
    reference = keras_config(name)["config"]
    layer = FIXTURE_LAYERS[name]()
    config = layer.get_config()
    assert sorted(config) == sorted(reference)
    cls = type(layer)
    from_keras = cls.from_config(reference)
    for key in ("filters", "padding", "return_sequences", "return_state", "go_backwards",
                "use_bias"):
        assert from_keras.get_config()[key] == reference[key], key
    for key in ("kernel_size", "strides", "dilation_rate"):
        assert list(from_keras.get_config()[key]) == reference[key], key
    assert cls.from_config(config).get_config() == config


def test_conv_lstm2d_weights_and_unit_forget_bias():
    layer = layers.ConvLSTM2D(3, (3, 2))
    layer(tf.zeros((1, 2, 5, 5, 4)))
    assert [w.name.split(":")[0] for w in layer.weights] == [
        "conv_lstm_cell/kernel", "conv_lstm_cell/recurrent_kernel", "conv_lstm_cell/bias"]
    assert [tuple(w.shape) for w in layer.weights] == [(3, 2, 4, 12), (3, 2, 3, 12), (12,)]
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    assert layer.count_params() == 3 * 2 * 4 * 12 + 3 * 2 * 3 * 12 + 12
    assert (layer.filters, layer.kernel_size, layer.padding) == (3, (3, 2), "valid")


def test_conv_lstm_go_backwards_reads_the_reversed_sequence():
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5, 1)).astype("float32")
    forward = layers.ConvLSTM2D(2, 3, return_sequences=True)
    backward = layers.ConvLSTM2D(2, 3, return_sequences=True, go_backwards=True)
    forward(x), backward(x)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(x).numpy(), forward(x[:, ::-1]).numpy(), rtol=1e-6)


def test_conv_lstm_mask_skips_steps():
    x = np.random.default_rng(1).standard_normal((2, 4, 6, 3)).astype("float32")
    layer = layers.ConvLSTM1D(2, 3, padding="same")
    mask = tf.constant([[True, True, False, False], [True, True, True, True]])
    masked = layer(x, mask=mask).numpy()
    np.testing.assert_allclose(masked[0], layer(x[:1, :2]).numpy()[0], rtol=1e-6)
    np.testing.assert_allclose(masked[1], layer(x[1:]).numpy()[0], rtol=1e-6)
    sequence_layer = layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True)
    assert sequence_layer.compute_mask(x, mask) is mask
    assert layer.compute_mask(x, mask) is None


def test_conv_lstm_dropout_only_in_training():
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 5, 2)).astype("float32")
    layer = layers.ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=3)
    inference = layer(x).numpy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), inference)
    plain = layers.ConvLSTM2D(2, 3)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(plain(x).numpy(), inference, rtol=1e-6)
    assert not np.allclose(layer(x, training=True).numpy(), inference)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(x, training=True)))
    for grad in tape.gradient(loss, layer.trainable_weights):
        assert np.isfinite(grad.numpy()).all() and np.abs(grad.numpy()).sum() > 0


def test_conv_lstm_initial_state_and_stateful():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 4, 1)).astype("float32")
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)
    output, h, c = layer(x)
    continued = layer(x, initial_state=[h, c])[0].numpy()
    whole = layer(np.concatenate([x, x], axis=1))[0].numpy()
    np.testing.assert_allclose(continued, whole, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"initial state 1 must have shape \(2, 4, 4, 2\)"):
        layer(x, initial_state=[h, tf.zeros((2, 4, 4, 3))])
    stateful = layers.ConvLSTM2D(2, 3, padding="same", stateful=True)
    stateful(x)
    stateful.set_weights(layer.get_weights())
    stateful.reset_states()
    stateful(x)
    np.testing.assert_allclose(stateful(x).numpy(), whole, rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x).numpy(), output.numpy(), rtol=1e-5, atol=1e-6)


def test_conv_lstm_gradient_matches_finite_differences_in_float64():
    rng = np.random.default_rng(4)
    layer = layers.ConvLSTM1D(2, 2, padding="same", return_sequences=True, dtype="float64")
    x = tf.constant(rng.standard_normal((1, 3, 3, 1)))
    layer(x)
    upstream = rng.standard_normal(layer(x).shape)

    def loss():
        return tf.reduce_sum(layer(x) * upstream)

    with tf.GradientTape() as tape:
        value = loss()
    grads = tape.gradient(value, layer.trainable_weights)
    eps = 1e-6
    for weight, grad in zip(layer.trainable_weights, grads):
        flat = weight.numpy().ravel()
        for index in range(0, flat.size, max(1, flat.size // 6)):
            shifted = flat.copy()
            shifted[index] += eps
            weight.assign(shifted.reshape(weight.shape))
            up = float(loss())
            shifted[index] -= 2 * eps
            weight.assign(shifted.reshape(weight.shape))
            down = float(loss())
            weight.assign(flat.reshape(weight.shape))
            np.testing.assert_allclose(grad.numpy().ravel()[index], (up - down) / (2 * eps),
                                       rtol=1e-5, atol=1e-8)


def test_conv_lstm_in_a_model_trains():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 3, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3, 4)) > 0).astype("float32")
    model = tf.keras.Sequential([
        tf.keras.Input((3, 6, 6, 1)), layers.ConvLSTM2D(4, 3, padding="same"),
        layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
    assert tuple(model.output_shape) == (None, 1)
    model.compile(tf.keras.optimizers.Adam(0.03), "binary_crossentropy")
    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]


def test_bidirectional_conv_lstm():
    x = tf.zeros((2, 3, 5, 5, 1))
    layer = layers.Bidirectional(layers.ConvLSTM2D(2, 3, return_sequences=True))
    assert tuple(layer(x).shape) == (2, 3, 3, 3, 4)
    assert tuple(layer.compute_output_shape((None, 3, 5, 5, 1))) == (None, 3, 3, 3, 4)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.ConvLSTM2D(2, 3)(tf.zeros((2, 3, 5, 1))),
     r"Layer 'conv_lstm2d' \(ConvLSTM2D\) expects 5-D inputs \(batch, time, rows, cols, "
     r"channels\)|expected ndim=5"),
    (lambda: layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2),
     "`strides > 1` is not compatible with `dilation_rate > 1`"),
    (lambda: layers.ConvLSTM2D(2, 3, data_format="channels_first"),
     "data_format='channels_first' is not supported"),
    (lambda: layers.ConvLSTM2D(0, 3), r"`filters` must be a positive integer. Received: "
                                      r"filters=0"),
    (lambda: layers.ConvLSTM2D(2, 3, padding="causal"), "invalid `padding` argument"),
    (lambda: layers.ConvLSTM2D(2, 5)(tf.zeros((1, 2, 3, 3, 1))), "too small for kernel_size"),
])
def test_conv_lstm_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()
