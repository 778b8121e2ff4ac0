"""Recurrent layers: the fused paths against the step-by-step cell loop and a NumPy loop,
Keras 3 semantics (masks, go_backwards, states), errors, and Keras 3 fixtures.

The standard per-layer checks (shapes, weights, config round trip, a training step) are the
cases in `rnn_layer_cases.py`. Fixtures in `tests/fixtures/rnn/` were written by Keras 3.15
(`tests/fixtures/make_rnn_fixtures.py`).
"""

import pathlib

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers
from numpyflow.ops import rnn_ops
from tests.ops.cases_rnn import np_gru, np_lstm, np_simple

pytestmark = pytest.mark.usefixtures("fresh_names")

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "rnn"
RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 4)).astype("float32")
MASK = np.array([[False, True, True, False, True],
                 [True, True, True, True, True],
                 [False, False, False, False, False]])

LAYERS = [(layers.SimpleRNN, {}), (layers.SimpleRNN, {"activation": "relu"}),
          (layers.LSTM, {}), (layers.GRU, {}), (layers.GRU, {"reset_after": False})]
LAYER_IDS = ["simple_rnn", "simple_rnn_relu", "lstm", "gru", "gru_reset_before"]


def _ran(fn):
    """`fn()` and the names of the primitives it ran."""
    from numpyflow.framework import primitive
    ran = set()
    primitive.trace_hook = ran.add
    try:
        return fn(), ran
    finally:
        primitive.trace_hook = None


def _generic_twin(layer, **overrides):
    """An `RNN` over the same (built) cell: it runs the cell step by step."""
    options = dict(return_sequences=layer.return_sequences, return_state=layer.return_state,
                   go_backwards=layer.go_backwards,
                   zero_output_for_mask=layer.zero_output_for_mask)
    options.update(overrides)
    return layers.RNN(layer.cell, **options)


def _initial_state(layer, batch=3):
    sizes = layer.state_size
    return [tf.constant(RNG.normal(size=(batch, s)).astype("float32")) for s in sizes]


@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=LAYER_IDS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked, zero_output_for_mask", [(False, False), (True, False),
                                                           (True, True)],
                         ids=["no_mask", "mask", "mask_zero_output"])
def test_fused_matches_cell_loop_values_and_gradients(cls, kwargs, return_sequences,
                                                      go_backwards, masked,
                                                      zero_output_for_mask):
    layer = cls(3, return_sequences=return_sequences, return_state=True,
                go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask,
                bias_initializer="glorot_uniform", **kwargs)
    x = tf.constant(X)
    mask = tf.constant(MASK) if masked else None
    layer(x)  # Build.
    twin = _generic_twin(layer)
    state = _initial_state(layer)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x] + state)
        fused, ran = _ran(lambda: layer(x, initial_state=state, mask=mask))
        generic = twin(x, initial_state=state, mask=mask)
        loss_f = sum(tf.reduce_sum(t * (i + 1.5)) for i, t in enumerate(fused))
        loss_g = sum(tf.reduce_sum(t * (i + 1.5)) for i, t in enumerate(generic))
    fused_op = {"SimpleRNN": "SimpleRNNSequence", "LSTM": "LSTMSequence",
                "GRU": "GRUSequence"}[cls.__name__]
    assert fused_op in ran
    assert len(fused) == len(generic) == 1 + len(layer.state_size)
    for a, b in zip(fused, generic):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    sources = [x] + state + layer.trainable_weights
    for a, b in zip(tape.gradient(loss_f, sources), tape.gradient(loss_g, sources)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_masked_outputs_follow_keras_backend_rnn():
    """Masked steps carry the states; the sequence shows the previous output (zeros before
    the first unmasked step, even with a non-zero initial state) or zeros."""
    layer = layers.SimpleRNN(2, return_sequences=True, return_state=True)
    x = tf.constant(X[:, :, :2])
    layer(x)
    kernel, recurrent, bias = layer.get_weights()
    h0 = RNG.normal(size=(3, 2)).astype("float32")
    seq, h = layer(x, initial_state=[h0], mask=tf.constant(MASK))
    states = np_simple(X[:, :, :2].astype("float64"), h0, kernel, recurrent, bias, mask=MASK)
    seen = np.cumsum(MASK, axis=1)[..., None] > 0
    np.testing.assert_allclose(seq.numpy(), states * seen, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), states[:, -1], rtol=1e-5, atol=1e-6)
    assert np.all(seq.numpy()[2] == 0) and np.allclose(h.numpy()[2], h0[2])  # All masked.
    zero = layers.SimpleRNN(2, return_sequences=True, zero_output_for_mask=True)
    zero(x)
    zero.set_weights(layer.get_weights())
    np.testing.assert_allclose(zero(x, initial_state=[h0], mask=tf.constant(MASK)).numpy(),
                               states * MASK[..., None], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_and_gru_against_numpy_loops(go_backwards):
    x64 = X.astype("float64")
    lstm = layers.LSTM(3, return_sequences=True, go_backwards=go_backwards)
    lstm(tf.constant(X))
    k, r, b = lstm.get_weights()
    assert np.allclose(b[3:6], 1) and np.allclose(b[:3], 0)  # unit_forget_bias.
    expected = np_lstm(x64, np.zeros((3, 3)), np.zeros((3, 3)), k, r, b,
                       go_backwards=go_backwards)[:, :, :3]
    np.testing.assert_allclose(lstm(tf.constant(X)).numpy(), expected, rtol=1e-5, atol=1e-6)
    for reset_after in (True, False):
        gru = layers.GRU(3, return_sequences=True, go_backwards=go_backwards,
                         reset_after=reset_after, bias_initializer="glorot_uniform")
        gru(tf.constant(X))
        k, r, b = gru.get_weights()
        assert b.shape == ((2, 9) if reset_after else (9,))
        expected = np_gru(x64, np.zeros((3, 3)), k, r, b, go_backwards=go_backwards,
                          reset_after=reset_after)
        np.testing.assert_allclose(gru(tf.constant(X)).numpy(), expected, rtol=1e-5,
                                   atol=1e-6)


def test_weight_layouts_and_config_match_keras():
    lstm = layers.LSTM(5)
    lstm(tf.ones((2, 3, 4)))
    assert [tuple(w.shape) for w in lstm.weights] == [(4, 20), (5, 20), (20,)]
    assert lstm.cell.name == "lstm_cell" and lstm.units == 5
    config = lstm.get_config()
    assert "cell" not in config
    for key, value in {"units": 5, "activation": "tanh", "recurrent_activation": "sigmoid",
                       "unit_forget_bias": True, "return_sequences": False,
                       "zero_output_for_mask": False, "dropout": 0.0, "seed": None,
                       "activity_regularizer": None}.items():
        assert config[key] == value, key
    gru = layers.GRU(2, reset_after=False, use_bias=False)
    gru(tf.ones((1, 3, 4)))
    assert [tuple(w.shape) for w in gru.weights] == [(4, 6), (2, 6)]
    rnn = layers.RNN([layers.SimpleRNNCell(3), layers.LSTMCell(2)], return_state=True)
    outs = rnn(tf.ones((2, 3, 4)))
    assert [tuple(o.shape) for o in outs[:1]] == [(2, 2)]
    assert isinstance(rnn.cell, layers.StackedRNNCells) and len(outs) == 3
    clone = layers.RNN.from_config(rnn.get_config())
    assert clone.get_config() == rnn.get_config()


def test_cells_direct_calls_and_config_round_trip():
    for cell, states in ((layers.SimpleRNNCell(3), [tf.zeros((2, 3))]),
                         (layers.LSTMCell(3), [tf.zeros((2, 3)), tf.ones((2, 3))]),
                         (layers.GRUCell(3, reset_after=False), [tf.zeros((2, 3))])):
        out, new = cell(tf.ones((2, 4)), states)
        assert tuple(out.shape) == (2, 3) and len(new) == len(states)
        clone = type(cell).from_config(cell.get_config())
        assert clone.get_config() == cell.get_config()
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(cell(tf.ones((2, 4)), states)[0])
        assert all(g is not None for g in tape.gradient(loss, cell.trainable_weights))
    gru = layers.GRUCell(2)
    out, h = gru(tf.ones((1, 4)), tf.zeros((1, 2)))  # A single state, not in a list.
    assert isinstance(h, tf.Tensor)


class MinimalCell:
    """A cell that is no Layer: call(inputs, states) and state_size only (Keras's protocol)."""

    state_size = 2

    def call(self, inputs, states):
        new = states[0] * 0.5 + tf.reduce_sum(inputs, axis=-1, keepdims=True)
        return new, [new]


def test_custom_cell_runs_per_step_with_mask_and_backwards():
    layer = layers.RNN(MinimalCell(), return_sequences=True, go_backwards=True)
    x = np.ones((1, 3, 2), "float32") * [[[1.], [2.], [3.]]]
    out = layer(x, mask=tf.constant([[True, True, False]])).numpy()[0, :, 0]
    # Backwards: step 3 is masked (output zeros), then 2 -> 4, then 1 -> 4 * .5 + 2.
    np.testing.assert_allclose(out, [0., 4., 4.])


def test_stateful_carries_states_and_reset_states_zeroes_them():
    layer = layers.GRU(3, stateful=True, return_state=True)
    x = tf.constant(X)
    first, h1 = layer(x)
    second, h2 = layer(x)
    assert not np.allclose(first.numpy(), second.numpy())
    np.testing.assert_allclose(layer.states[0].numpy(), h2.numpy())
    assert layer.weights == layer.trainable_weights  # The states are not weights.
    layer.reset_states()
    np.testing.assert_allclose(layer(x)[0].numpy(), first.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="Expected batch size: 3"):
        layer(tf.constant(X[:2]))


def test_dropout_masks_are_drawn_once_per_call_and_only_in_training():
    layer = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=4, return_sequences=True)
    x = tf.constant(X)
    inference = layer(x).numpy()
    np.testing.assert_allclose(layer(x, training=False).numpy(), inference)
    drawn = []
    original = layer.cell._create_dropout_mask
    layer.cell._create_dropout_mask = lambda *a: drawn.append(1) or original(*a)
    trained = layer(x, training=True).numpy()
    assert len(drawn) == 2  # One input mask, one recurrent mask (4 gates each), for 5 steps.
    assert not np.allclose(trained, inference)
    assert layer.cell._dropout_mask is None  # Reset after the call.
    # Input dropout alone keeps the fused op; the mask is the same at every step.
    fused = layers.GRU(3, dropout=0.5, seed=1, return_sequences=True)
    _, ran = _ran(lambda: fused(tf.ones((2, 4, 3)), training=True))
    assert "GRUSequence" in ran


def test_initial_state_call_forms_and_mask_from_keras_mask():
    layer = layers.LSTM(3, return_state=True)
    x = tf.constant(X)
    h0, c0 = _initial_state(layer)
    a = layer(x, initial_state=[h0, c0])
    b = layer([x, h0, c0])
    for u, v in zip(a, b):
        np.testing.assert_allclose(u.numpy(), v.numpy())
    masked_x = tf.constant(X)
    masked_x._keras_mask = tf.constant(MASK)
    np.testing.assert_allclose(layer(masked_x)[0].numpy(),
                               layer(x, mask=tf.constant(MASK))[0].numpy())
    assert layers.LSTM(2, return_sequences=True).compute_mask(x, tf.constant(MASK)) is not None
    assert layers.LSTM(2).compute_mask(x, tf.constant(MASK)) is None


def test_errors_name_the_layer_and_what_was_received():
    layer = layers.LSTM(3, name="my_lstm")
    with pytest.raises(ValueError, match="my_lstm"):
        layer(tf.ones((2, 4)))
    layer(tf.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"my_lstm.*expects 2 initial state"):
        layer(tf.ones((2, 4, 5)), initial_state=[tf.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"my_lstm.*initial state 1 must have shape \(2, 3\)"):
        layer(tf.ones((2, 4, 5)), initial_state=[tf.zeros((2, 3)), tf.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"my_lstm.*mask must have shape \(batch, time\) = "
                                         r"\(2, 4\).*\(2, 5\)"):
        layer(tf.ones((2, 4, 5)), mask=tf.ones((2, 5), dtype="bool"))
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)
    with pytest.raises(NotImplementedError, match="use_cudnn"):
        layers.LSTM(2, use_cudnn=True)
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(object.__new__(type("NoState", (), {"call": lambda s, i, st: i})))


@pytest.mark.parametrize("cls", ["SimpleRNN", "GRU", "LSTM", "ConvLSTM1D"])
def test_empty_time_axis_is_an_error_naming_the_layer(cls):
    # Keras fails too (in a strided slice); the error here says which layer and why.
    layer = getattr(layers, cls)(2, **({"kernel_size": 1} if cls == "ConvLSTM1D" else {}),
                                 name="my_rnn")
    shape = (2, 0, 3, 4) if cls == "ConvLSTM1D" else (2, 0, 4)
    with pytest.raises(ValueError, match=r"my_rnn.*no timesteps.*\(2, 0,"):
        layer(tf.ones(shape))


def test_fit_in_a_model_with_compiled_steps():
    model = tf.keras.Sequential([tf.keras.Input((5, 4)), layers.LSTM(8, return_sequences=True),
                                 layers.GRU(4), layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
    y = X.sum(axis=(1, 2))[:, None] * 0.1
    x = np.concatenate([X] * 8)
    y = np.concatenate([y] * 8)
    history = model.fit(x, y, epochs=12, batch_size=6, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_keras3_file_with_lstm_gru_simple_rnn_loads_and_predicts():
    expected = np.load(FIXTURES / "rnn_expected.npz")
    model = tf.keras.models.load_model(FIXTURES / "rnn_stack.keras")
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "LSTM", "GRU", "SimpleRNN", "Dense"]
    assert model.get_layer("gru").go_backwards and not model.get_layer("gru").cell.reset_after
    np.testing.assert_allclose(model.predict(expected["stack_x"], verbose=0),
                               expected["stack_y"], rtol=1e-5, atol=1e-6)


def test_masked_embedding_model_matches_keras3_predictions():
    """Embedding(mask_zero=True) -> LSTM -> GRU with Keras's weights: padded steps skipped."""
    expected = np.load(FIXTURES / "rnn_expected.npz")
    tokens = tf.keras.Input((6,), dtype="int32")
    y = layers.Embedding(20, 5, mask_zero=True)(tokens)
    y = layers.LSTM(4, return_sequences=True)(y)
    y = layers.GRU(3)(y)
    model = tf.keras.Model(tokens, layers.Dense(2)(y))
    count = sum(key.startswith("masked_weights_") for key in expected.files)
    model.set_weights([expected[f"masked_weights_{i}"] for i in range(count)])
    np.testing.assert_allclose(model.predict(expected["masked_x"], verbose=0),
                               expected["masked_y"], rtol=1e-5, atol=1e-6)


def test_lstm_initial_state_return_state_go_backwards_match_keras3():
    expected = np.load(FIXTURES / "rnn_expected.npz")
    layer = layers.LSTM(4, return_state=True, return_sequences=True, go_backwards=True)
    x = expected["stack_x"]
    state = [expected["lstm_state_h0"], expected["lstm_state_c0"]]
    layer(x, initial_state=state)
    layer.set_weights([expected[f"lstm_state_weights_{i}"] for i in range(3)])
    for got, name in zip(layer(x, initial_state=state), ("seq", "h", "c")):
        np.testing.assert_allclose(got.numpy(), expected[f"lstm_state_{name}"], rtol=1e-5,
                                   atol=1e-6)


def test_fused_op_errors_name_the_op():
    with pytest.raises(ValueError, match=r"LSTMSequence: recurrent_kernel must have shape"):
        rnn_ops.lstm_sequence(tf.ones((1, 2, 3)), tf.zeros((1, 2)), tf.zeros((1, 2)),
                              tf.ones((3, 8)), tf.ones((2, 4)), None)
    with pytest.raises(ValueError, match=r"GRUSequence: bias must have shape \(2, 6\)"):
        rnn_ops.gru_sequence(tf.ones((1, 2, 3)), tf.zeros((1, 2)), tf.ones((3, 6)),
                             tf.ones((2, 6)), tf.ones((6,)))


def test_keras_file_round_trip_keeps_cells_and_weights(tmp_path):
    """model.save writes each cell's weights under `<layer>/cell` (Keras 3's layout)."""
    inputs = tf.keras.Input((5, 4))
    x = layers.RNN([layers.GRUCell(3), layers.LSTMCell(2)], return_sequences=True)(inputs)
    x = layers.SimpleRNN(2, go_backwards=True)(x)
    model = tf.keras.Model(inputs, layers.Dense(1)(x))
    path = tmp_path / "rnn.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6, atol=1e-6)
    import zipfile

    import h5py
    with zipfile.ZipFile(path) as archive:
        archive.extract("model.weights.h5", tmp_path)
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        assert "layers/rnn/cell/cells/gru_cell/vars/0" in weights
        assert "layers/rnn/cell/cells/lstm_cell/vars/2" in weights
        assert "layers/simple_rnn/cell/vars/1" in weights


def test_keras3_file_with_masked_embedding_loads_and_predicts():
    """Keras 3 saves Embedding's mask as a `NotEqual` op node passed to LSTM and GRU as
    `mask=`."""
    expected = np.load(FIXTURES / "rnn_expected.npz")
    model = tf.keras.models.load_model(FIXTURES / "rnn_masked.keras")
    np.testing.assert_allclose(model.predict(expected["masked_x"], verbose=0),
                               expected["masked_y"], rtol=1e-5, atol=1e-6)
