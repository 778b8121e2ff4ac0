"""Embedding and Masking: Keras 3's outputs, masks, configs and errors.

Reference outputs come from `tests/fixtures/sequence/` (written by Keras 3.15 with
`tests/fixtures/make_sequence_fixtures.py`).
"""

import json
import os
import warnings

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers

pytestmark = pytest.mark.usefixtures("fresh_names")

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sequence")


def load_fixture(name):
    with np.load(os.path.join(FIXTURES, f"{name}.npz"), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def keras_config(name):
    with open(os.path.join(FIXTURES, "configs.json")) as f:
        return json.load(f)[name]


# -- Embedding --------------------------------------------------------------------------

def test_embedding_matches_keras3_output_and_mask():
    data = load_fixture("embedding")
    layer = layers.Embedding(10, 4, mask_zero=True)
    layer.build()
    layer.set_weights([data["w0"]])
    outputs = layer(data["x"])
    np.testing.assert_array_equal(outputs.numpy(), data["y0"])
    np.testing.assert_array_equal(outputs._keras_mask.numpy(), data["mask_out"])
    np.testing.assert_array_equal(layer.compute_mask(tf.constant(data["x"])).numpy(),
                                  data["mask_out"])


def test_embedding_config_has_keras3_keys_and_reads_keras3_config():
    reference = keras_config("embedding")["config"]
    layer = layers.Embedding(10, 4, mask_zero=True)
    assert sorted(layer.get_config()) == sorted(reference)
    clone = layers.Embedding.from_config(reference)
    assert (clone.input_dim, clone.output_dim, clone.mask_zero) == (10, 4, True)
    assert clone.get_config()["embeddings_initializer"]["config"] == {
        "minval": -0.05, "maxval": 0.05, "seed": None}


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "int64",
                                   "uint32"])
def test_embedding_takes_any_integer_dtype(dtype):
    layer = layers.Embedding(6, 2)
    ids = np.array([[5, 0, 3]], dtype=dtype)
    outputs = layer(ids)
    assert outputs.dtype == tf.float32
    np.testing.assert_array_equal(outputs.numpy(), layer.embeddings.numpy()[[[5, 0, 3]]])


def test_embedding_casts_float_and_bool_inputs_to_int32_as_keras_does():
    layer = layers.Embedding(6, 2)
    table = layer(np.zeros((1, 1), "int32")) is not None and layer.embeddings.numpy()
    np.testing.assert_array_equal(layer(np.array([[1.9, 4.2]], "float32")).numpy(),
                                  table[[[1, 4]]])  # Truncated, as tf.cast does.
    np.testing.assert_array_equal(layer(np.array([[True, False]])).numpy(), table[[[1, 0]]])


@pytest.mark.parametrize("bad", [6, 100, -1])
def test_embedding_index_out_of_range_names_the_layer(bad):
    layer = layers.Embedding(6, 2, name="words")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"Layer 'words' \(Embedding, input_dim=6\) expects indices in "
                             rf"\[0, 6\).*indices\[0,1\] = {bad} is not in \[0, 6\)"):
        layer(np.array([[1, bad]], "int64"))


def test_embedding_output_shape_and_dtype_without_data():
    layer = layers.Embedding(50, 8, dtype="float64")
    assert tuple(layer.compute_output_shape((None, 12))) == (None, 12, 8)
    inputs = tf.keras.Input((12,), dtype="int32")
    outputs = layer(inputs)
    assert tuple(outputs.shape) == (None, 12, 8) and outputs.dtype == tf.float64
    model = tf.keras.Model(inputs, outputs)
    assert model.predict(np.ones((3, 12), "int32"), verbose=0).shape == (3, 12, 8)


def test_embedding_input_length_is_accepted_with_keras3_warning():
    with pytest.warns(UserWarning, match="Argument `input_length` is deprecated"):
        layer = layers.Embedding(5, 2, input_length=7)
    assert "input_length" not in layer.get_config()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.Embedding(5, 2)  # No warning without it.


@pytest.mark.parametrize("kwargs, message", [
    ({"input_dim": 0, "output_dim": 2}, r"`input_dim` must be a positive integer. "
                                        r"Received: input_dim=0"),
    ({"input_dim": 3.0, "output_dim": 2}, r"Received: input_dim=3.0 \(of type float\)"),
    ({"input_dim": 3, "output_dim": -1}, r"Received: output_dim=-1"),
])
def test_embedding_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Embedding(**kwargs)


@pytest.mark.parametrize("argument", ["lora_rank", "lora_alpha"])
def test_embedding_unsupported_arguments_raise(argument):
    with pytest.raises(NotImplementedError, match=f"Embedding: `{argument}` is not supported"):
        layers.Embedding(5, 2, **{argument: 4})


def test_embedding_weights_argument_sets_the_table():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    for weights in (table, [table]):
        layer = layers.Embedding(4, 3, weights=weights)
        assert layer.built
        np.testing.assert_array_equal(layer(np.array([[3, 1]])).numpy(), table[[[3, 1]]])
    with pytest.raises(ValueError, match="weight shape"):
        layers.Embedding(5, 3, weights=table)


def test_embedding_gradient_scatter_adds_repeated_indices():
    layer = layers.Embedding(7, 3, embeddings_regularizer="l2")
    ids = np.array([[1, 4, 1, 1], [6, 4, 0, 1]])
    upstream = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(ids) * upstream)
    grad = tape.gradient(loss, layer.embeddings)
    expected = np.zeros((7, 3), "float32")
    np.add.at(expected, ids, upstream)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-6)
    assert len(layer.losses) == 1  # The regularizer's penalty.


def test_gather_gradient_matches_add_at_for_any_axis_and_index_rank():
    rng = np.random.default_rng(1)
    params = tf.constant(rng.standard_normal((3, 5, 2)))
    ids = np.array([[4, 4], [0, 4], [2, 2]])
    for axis in (0, 1):
        ids_axis = ids % params.shape[axis]
        with tf.GradientTape() as tape:
            tape.watch(params)
            out = tf.gather(params, ids_axis, axis=axis)
        upstream = rng.standard_normal(out.shape)
        grad = tape.gradient(out, params, output_gradients=tf.constant(upstream)).numpy()
        expected = np.zeros(params.shape)
        moved = np.moveaxis(expected, axis, 0)  # A view: add.at writes through.
        np.add.at(moved, ids_axis, np.moveaxis(upstream, list(range(axis, axis + 2)), [0, 1]))
        np.testing.assert_allclose(grad, expected, rtol=1e-12)


# Masked pooling is another layer's work; until then pooling warns that it drops the mask.
@pytest.mark.filterwarnings("ignore:Layer 'global_average_pooling1d'")
def test_embedding_trains_in_a_model_with_mask_zero():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(64, 6))
    x[:, 4:] = 0
    y = (x[:, 0] > 10).astype("float32")
    model = tf.keras.Sequential([tf.keras.Input((6,), dtype="int32"),
                                 layers.Embedding(20, 4, mask_zero=True),
                                 layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile(tf.keras.optimizers.Adam(0.05), "mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]


# -- Masking ----------------------------------------------------------------------------

def test_masking_matches_keras3_output_and_mask():
    data = load_fixture("masking")
    layer = layers.Masking(mask_value=0.)
    outputs = layer(data["x"])
    np.testing.assert_array_equal(outputs.numpy(), data["y0"])
    np.testing.assert_array_equal(outputs._keras_mask.numpy(), data["mask_out"])
    np.testing.assert_array_equal(layer.compute_mask(data["x"]).numpy(), data["mask_out"])
    assert sorted(layer.get_config()) == sorted(keras_config("masking")["config"])


def test_masking_with_other_mask_value_zeroes_masked_steps_and_their_gradient():
    x = tf.constant([[[-1., -1.], [2., -1.], [-1., -1.]]])
    layer = layers.Masking(mask_value=-1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = layer(x)
        loss = tf.reduce_sum(outputs * 3.)
    np.testing.assert_array_equal(outputs.numpy(), [[[0., 0.], [2., -1.], [0., 0.]]])
    np.testing.assert_array_equal(outputs._keras_mask.numpy(), [[False, True, False]])
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(),
                                  [[[0., 0.], [3., 3.], [0., 0.]]])
    clone = layers.Masking.from_config(layer.get_config())
    assert clone.mask_value == -1 and clone.supports_masking


@pytest.mark.parametrize("dtype", [None, "int32"])
def test_masking_integer_inputs_with_a_fractional_mask_value_mask_nothing(dtype):
    # As in Keras 3: no integer equals 0.5, so no step is masked (not mask_value cast to 0).
    x = np.array([[[0], [1]]], dtype="int32")
    layer = layers.Masking(mask_value=0.5, dtype=dtype)
    np.testing.assert_array_equal(layer.compute_mask(x).numpy(), [[True, True]])
    np.testing.assert_array_equal(layer(x)._keras_mask.numpy(), [[True, True]])
    np.testing.assert_array_equal(layer(x).numpy(), [[[0], [1]]])
    np.testing.assert_array_equal(layers.Masking(mask_value=1).compute_mask(x).numpy(),
                                  [[True, False]])
    for value in (2**40, float("inf"), float("nan"), -0.5):   # Not an int32: masks nothing.
        np.testing.assert_array_equal(
            layers.Masking(mask_value=value, dtype=dtype).compute_mask(x).numpy(),
            [[True, True]])


def test_masking_bad_mask_value():
    with pytest.raises(ValueError, match="Masking: `mask_value` must be a number. Received: "
                                         "mask_value='x'"):
        layers.Masking("x")
