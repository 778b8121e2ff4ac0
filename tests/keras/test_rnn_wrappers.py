"""TimeDistributed and Bidirectional: Keras 3's outputs for the same weights, masks,
configs, states and errors.

Reference outputs come from `tests/fixtures/sequence/` (written by Keras 3.15 with
`tests/fixtures/make_sequence_fixtures.py`).
"""

import os
import subprocess

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers
from tests.keras.test_embedding_masking import FIXTURES, keras_config, load_fixture

pytestmark = pytest.mark.usefixtures("fresh_names")


def _weights(data):
    return [data[f"w{i}"] for i in range(sum(k.startswith("w") for k in data))]


def _outputs(data):
    return [data[f"y{i}"] for i in range(sum(k.startswith("y") for k in data))]


# -- TimeDistributed --------------------------------------------------------------------

def test_time_distributed_dense_matches_keras3():
    data = load_fixture("time_distributed_dense")
    layer = layers.TimeDistributed(layers.Dense(3))
    layer(data["x"])
    layer.set_weights(_weights(data))
    np.testing.assert_allclose(layer(data["x"]).numpy(), data["y0"], rtol=1e-5, atol=1e-6)
    reference = keras_config("time_distributed_dense")["config"]
    config = layer.get_config()
    assert sorted(config) == sorted(reference)
    assert config["layer"]["class_name"] == "Dense"


def test_time_distributed_reads_keras3_config():
    reference = keras_config("time_distributed_dense")["config"]
    layer = layers.TimeDistributed.from_config(reference)
    assert isinstance(layer.layer, layers.Dense) and layer.layer.units == 3
    assert layer.layer.built  # Keras's build_config of the inner layer.
    assert tuple(layer.compute_output_shape((None, 7, 3))) == (None, 7, 3)


def test_time_distributed_applies_the_layer_to_each_step():
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((2, 4, 6, 6, 1)).astype("float32")
    conv = layers.Conv2D(3, 3, activation="relu")
    layer = layers.TimeDistributed(conv)
    outputs = layer(frames).numpy()
    assert outputs.shape == (2, 4, 4, 4, 3)
    for t in range(4):
        np.testing.assert_allclose(outputs[:, t], conv(frames[:, t]).numpy(), rtol=1e-6)
    assert [w.name for w in layer.weights] == [w.name for w in conv.weights]
    assert layer.count_params() == conv.count_params() == 30


def test_time_distributed_in_a_model_trains_and_keeps_the_mask():
    inputs = tf.keras.Input((5,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    x = layers.TimeDistributed(layers.Dense(2))(x)
    model = tf.keras.Model(inputs, x)
    assert tuple(model.output_shape) == (None, 5, 2)
    ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    outputs = layers.TimeDistributed(layers.Dense(2))(layers.Embedding(10, 4, mask_zero=True)(
        ids))
    np.testing.assert_array_equal(outputs._keras_mask.numpy(), ids != 0)
    model.compile("adam", "mse")
    model.fit(ids, np.zeros((2, 5, 2)), epochs=1, verbose=0)


def test_time_distributed_passes_a_folded_mask_to_layers_that_take_one():
    seen = []

    class MaskRecorder(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            seen.append(None if mask is None else mask.numpy())
            return inputs

    mask = np.array([[[True, False], [True, True], [False, False]]])
    outputs = layers.TimeDistributed(MaskRecorder())(tf.ones((1, 3, 2, 4)),
                                                     mask=tf.constant(mask))
    assert outputs.shape == (1, 3, 2, 4)
    np.testing.assert_array_equal(seen[-1], mask.reshape(3, 2))


def test_time_distributed_passes_training_on():
    x = tf.ones((4, 5, 6))
    layer = layers.TimeDistributed(layers.Dropout(0.5, seed=1))
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    dropped = layer(x, training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}
    normalized = layers.TimeDistributed(layers.BatchNormalization(momentum=0.5))
    normalized(x * 4, training=True)
    np.testing.assert_allclose(normalized.layer.moving_mean.numpy(), np.full(6, 2.0))


def test_time_distributed_errors_name_the_layer():
    layer = layers.TimeDistributed(layers.Dense(2), name="td")
    with pytest.raises(ValueError, match=r"Layer 'td' \(TimeDistributed\) expects inputs with "
                                         r"at least 3 dimensions"):
        layer(tf.ones((4, 3)))
    with pytest.raises(ValueError, match=r"the mask's first two dimensions must be the "
                                         r"input's \(batch, timesteps\) = \(2, 3\)"):
        layers.TimeDistributed(layers.Dense(2))(tf.ones((2, 3, 4)),
                                                mask=tf.ones((2, 4), tf.bool))
    with pytest.raises(ValueError, match="TimeDistributed must wrap a `keras.layers.Layer`"):
        layers.TimeDistributed("dense")


# -- Bidirectional ----------------------------------------------------------------------

def _set_and_call(layer, data, **call_kwargs):
    layer(data["x"], **call_kwargs)
    layer.set_weights(_weights(data))
    outputs = layer(data["x"], **call_kwargs)
    return outputs if isinstance(outputs, (list, tuple)) else [outputs]


def _assert_outputs(outputs, data):
    expected = _outputs(data)
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_lstm_matches_keras3(merge_mode, return_sequences):
    data = load_fixture(f"bidirectional_lstm_{merge_mode}_"
                        f"{'seq' if return_sequences else 'last'}")
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=return_sequences),
                                 merge_mode=merge_mode)
    outputs = _set_and_call(layer, data)
    _assert_outputs(outputs, data)
    expected_shapes = [tuple(y.shape[1:]) for y in _outputs(data)]
    shapes = layer.compute_output_shape((None, 5, 3))
    shapes = [shapes] if merge_mode else shapes
    assert [tuple(s)[1:] for s in shapes] == expected_shapes


def test_bidirectional_return_state_matches_keras3():
    data = load_fixture("bidirectional_lstm_state")
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True, return_state=True))
    outputs = _set_and_call(layer, data)
    _assert_outputs(outputs, data)  # Output, forward h and c, backward h and c.
    assert [tuple(s) for s in layer.compute_output_shape((None, 5, 3))] == [
        (None, 5, 8), (None, 4), (None, 4), (None, 4), (None, 4)]


@pytest.mark.parametrize("name, return_sequences", [("bidirectional_lstm_masked", True),
                                                    ("bidirectional_lstm_masked_last", False)])
def test_bidirectional_with_mask_matches_keras3(name, return_sequences):
    data = load_fixture(name)
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=return_sequences))
    mask = tf.constant(data["mask"])
    outputs = _set_and_call(layer, data, mask=mask)
    _assert_outputs(outputs, data)
    expected_mask = data["mask"] if return_sequences else None
    got = layer.compute_mask(data["x"], mask)
    assert (got is None) == (expected_mask is None)
    if expected_mask is not None:
        np.testing.assert_array_equal(got.numpy(), expected_mask)


def test_bidirectional_takes_the_mask_of_its_input():
    data = load_fixture("bidirectional_lstm_masked")
    x = tf.constant(data["x"] * data["mask"][..., None])  # Masked steps all zero.
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    layer(x)
    layer.set_weights(_weights(data))
    outputs = layer(layers.Masking()(x))
    np.testing.assert_allclose(outputs.numpy(), data["y0"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(outputs._keras_mask.numpy(), data["mask"])


def test_bidirectional_initial_state_matches_keras3():
    data = load_fixture("bidirectional_lstm_initial_state")
    states = [tf.constant(data[f"state_{i}"]) for i in range(4)]
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    _assert_outputs(_set_and_call(layer, data, initial_state=states), data)
    with pytest.raises(ValueError, match=r"Layer 'bidirectional' \(Bidirectional\): "
                                         r"`initial_state` must hold the forward layer's "
                                         r"states followed by the backward layer's"):
        layer(data["x"], initial_state=states[:3])


def test_bidirectional_gru_and_backward_layer_match_keras3():
    data = load_fixture("bidirectional_gru")
    _assert_outputs(_set_and_call(
        layers.Bidirectional(layers.GRU(3, return_sequences=True)), data), data)
    data = load_fixture("bidirectional_backward_layer")
    layer = layers.Bidirectional(
        layers.LSTM(3, return_sequences=True),
        backward_layer=layers.GRU(2, return_sequences=True, go_backwards=True))
    _assert_outputs(_set_and_call(layer, data), data)
    assert tuple(layer.compute_output_shape((None, 5, 3))) == (None, 5, 5)


def test_bidirectional_weights_and_names_follow_keras3():
    wrapped = layers.LSTM(4, name="encoder")
    layer = layers.Bidirectional(wrapped)
    layer(tf.ones((2, 5, 3)))
    assert layer.forward_layer.name == "forward_encoder"
    assert layer.backward_layer.name == "backward_encoder"
    assert (layer.forward_layer.go_backwards, layer.backward_layer.go_backwards) == (False, True)
    assert not wrapped.built and wrapped.weights == []  # Only the copies hold weights.
    forward, backward = layer.forward_layer.weights, layer.backward_layer.weights
    assert [id(w) for w in layer.weights] == [id(w) for w in forward + backward]
    assert [tuple(w.shape) for w in layer.weights] == [(3, 16), (4, 16), (16,)] * 2
    # The two directions start from different random weights.
    assert not np.array_equal(forward[0].numpy(), backward[0].numpy())


def test_bidirectional_of_a_backwards_layer_reads_forwards_in_the_copy():
    # tf.keras 2.x's rule; Keras 3 would refuse (it always sets go_backwards=True).
    layer = layers.Bidirectional(layers.LSTM(2, go_backwards=True))
    assert (layer.forward_layer.go_backwards, layer.backward_layer.go_backwards) == (True, False)
    assert tuple(layer(tf.ones((1, 3, 2))).shape) == (1, 4)


def test_bidirectional_config_round_trip_and_keras3_config():
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode="sum")
    layer(tf.ones((2, 5, 3)))
    config = layer.get_config()
    reference = keras_config("bidirectional_lstm_sum_seq")["config"]
    assert sorted(config) == sorted(reference)
    clone = layers.Bidirectional.from_config(config)
    assert clone.get_config() == config
    keras3 = layers.Bidirectional.from_config(reference)
    assert keras3.merge_mode == "sum" and keras3.return_sequences
    assert keras3.backward_layer.go_backwards and not keras3.forward_layer.go_backwards
    clone_of_keras3 = layers.Bidirectional.from_config(
        keras_config("bidirectional_backward_layer")["config"])
    assert isinstance(clone_of_keras3.backward_layer, layers.GRU)


def test_bidirectional_in_a_text_model_trains():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 30, size=(64, 8))
    ids[::2, 5:] = 0
    labels = (ids[:, 0] > 15).astype("float32")
    model = tf.keras.Sequential([
        tf.keras.Input((8,), dtype="int32"),
        layers.Embedding(30, 8, mask_zero=True),
        layers.Bidirectional(layers.LSTM(6)),
        layers.Dense(1, activation="sigmoid")])
    assert tuple(model.output_shape) == (None, 1)
    model.compile(tf.keras.optimizers.Adam(0.02), "binary_crossentropy")
    history = model.fit(ids, labels, epochs=6, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_bidirectional_stateful_keeps_and_resets_both_directions():
    layer = layers.Bidirectional(layers.LSTM(3, stateful=True))
    x = tf.ones((2, 4, 2))
    first = layer(x).numpy()
    assert len(layer.states) == 4
    second = layer(x).numpy()
    assert not np.allclose(first, second)
    layer.reset_states()
    np.testing.assert_allclose(layer(x).numpy(), first, rtol=1e-6)
    with pytest.raises(AttributeError, match="must be stateful"):
        layers.Bidirectional(layers.LSTM(3)).reset_states()


def test_bidirectional_symbolic_outputs():
    inputs = tf.keras.Input((5, 3))
    outputs = layers.Bidirectional(layers.LSTM(4, return_state=True), merge_mode=None)(inputs)
    assert [tuple(o.shape) for o in outputs] == [(None, 4)] * 6
    model = tf.keras.Model(inputs, outputs)
    assert len(model.predict(np.ones((2, 5, 3)), verbose=0)) == 6


@pytest.mark.parametrize("kwargs, message", [
    ({"layer": "lstm"}, "Please initialize `Bidirectional` layer with a `keras.layers.Layer`"),
    ({"layer": layers.Dense(2)}, "Bidirectional wraps a recurrent layer"),
    ({"layer": layers.LSTM(2), "merge_mode": "max"}, "Invalid merge mode. Received: "
                                                     "merge_mode='max'"),
    ({"layer": layers.LSTM(2), "backward_layer": layers.LSTM(2)},
     "should have different `go_backwards` value"),
    ({"layer": layers.LSTM(2), "backward_layer": layers.LSTM(2, go_backwards=True,
                                                             return_sequences=True)},
     'same value for attribute "return_sequences"'),
    ({"layer": layers.LSTM(2), "weights": [np.ones(2)]}, "`weights` is not supported"),
])
def test_bidirectional_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        layers.Bidirectional(**kwargs)


# -- .keras files, both ways ------------------------------------------------------------

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")


def _keras3_model_io(name):
    model = tf.keras.models.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    with np.load(os.path.join(FIXTURES, f"{name}_io.npz"), allow_pickle=False) as data:
        return model, data["x"], data["y"]


@pytest.mark.parametrize("name", ["text_sequential", "conv_lstm_model"])
def test_keras3_files_load_with_the_same_predictions(name):
    # text_sequential: Embedding(mask_zero) -> Bidirectional(LSTM) -> TimeDistributed(Dense)
    # -> Bidirectional(GRU, "sum"): the padding mask flows through all of them.
    model, x, expected = _keras3_model_io(name)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def _text_functional_model():
    inputs = tf.keras.Input((6,), dtype="int32")
    x = layers.Embedding(20, 5, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.TimeDistributed(layers.Dense(3))(x)
    x = layers.Bidirectional(layers.GRU(2), merge_mode="sum")(x)
    return tf.keras.Model(inputs, x)


def test_functional_text_model_propagates_masks_as_keras3():
    keras3_model, x, expected = _keras3_model_io("text_sequential")
    model = _text_functional_model()
    model.set_weights(keras3_model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    # Without the mask the padded steps would count: the outputs differ.
    unmasked = _text_functional_model()
    unmasked.layers[1].mask_zero = unmasked.layers[1].supports_masking = False
    unmasked.set_weights(keras3_model.get_weights())
    assert not np.allclose(unmasked.predict(x, verbose=0)[0], expected[0], atol=1e-4)


def test_keras3_functional_text_model_loads():
    # Keras 3 saved the mask as an op node (keras.src.ops.numpy NotEqual) passed as mask=.
    model, x, expected = _keras3_model_io("text_model")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not os.path.exists(BENCH_PYTHON),
                    reason="needs Keras 3 in .venv-bench (the benchmarks' venv)")
def test_keras3_loads_numpyflow_sequence_models(tmp_path):
    ids = np.array([[3, 7, 1, 0, 0, 0], [5, 2, 9, 11, 19, 4]], dtype="int32")
    frames = np.random.default_rng(0).standard_normal((2, 3, 6, 5, 2)).astype("float32")
    models = {"text": (_text_functional_model(), ids),
              "conv_lstm": (tf.keras.Sequential([
                  tf.keras.Input((3, 6, 5, 2)),
                  layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                  layers.ConvLSTM2D(2, 2, strides=2, go_backwards=True), layers.Flatten(),
                  layers.Dense(2)]), frames)}
    for name, (model, x) in models.items():
        model.save(str(tmp_path / f"nf_{name}.keras"))
        np.savez(tmp_path / f"nf_{name}_io.npz", x0=x, y_pred=model.predict(x, verbose=0))
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures", "check_with_keras.py"),
         str(tmp_path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    if "No module named 'keras'" in result.stderr:
        pytest.skip("needs Keras 3 in .venv-bench (the benchmarks' venv)")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "2/2 files match" in result.stdout
