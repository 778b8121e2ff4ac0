"""Attention layers and EinsumDense against Keras 3 (fixtures from
tests/fixtures/make_attention_fixtures.py), plus their masks, shapes and errors."""

import os
import pathlib
import re

import numpy as np
import pytest

import numpyflow as tf
from tests.fixtures.make_attention_fixtures import CASES

keras = tf.keras
FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "attention"


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURES / "attention_expected.npz") as data:
        return dict(data)


def _call(layer, class_name, tensors, call_kwargs):
    if class_name == "MultiHeadAttention":
        key = tensors[2] if len(tensors) > 2 else None
        return layer(tensors[0], tensors[1], key=key, **call_kwargs)
    if class_name == "EinsumDense":
        return layer(tensors[0], **call_kwargs)
    return layer(tensors, **call_kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras_3(name, expected):
    class_name, kwargs, shapes, call_kwargs, extra = CASES[name]
    layer = getattr(keras.layers, class_name)(**kwargs)
    tensors = [tf.constant(expected[f"{name}/in/{i}"]) for i in range(len(shapes))]
    call_kwargs = dict(call_kwargs)
    if extra == "attention_mask":
        call_kwargs["attention_mask"] = expected[f"{name}/attention_mask"]
    elif extra == "masks":
        call_kwargs["mask"] = [tf.constant(expected[f"{name}/query_mask"]),
                               tf.constant(expected[f"{name}/value_mask"])]
    elif extra == "keras_masks":
        tensors[0]._keras_mask = tf.constant(expected[f"{name}/query_mask"])
        tensors[1]._keras_mask = tf.constant(expected[f"{name}/value_mask"])
    _call(layer, class_name, tensors, call_kwargs)
    count = len(layer.get_weights())
    layer.set_weights([expected[f"{name}/w/{i}"] for i in range(count)])
    assert f"{name}/w/{count}" not in expected, "fewer weights than Keras 3"
    result = _call(layer, class_name, tensors, call_kwargs)
    results = result if isinstance(result, (list, tuple)) else [result]
    for i, r in enumerate(results):
        np.testing.assert_allclose(r.numpy(), expected[f"{name}/out/{i}"], rtol=1e-5,
                                   atol=1e-5, err_msg=f"{name} output {i}")
    assert f"{name}/out/{len(results)}" not in expected


def _transformer_masked(expected):
    """The masked model of make_attention_fixtures.py, with Keras 3's weights."""
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(30, 8, mask_zero=True, name="embedding")(tokens)
    attended = keras.layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    x = keras.layers.Add(name="add")([x, attended])
    x = keras.layers.LayerNormalization(name="norm")(x)
    x = keras.layers.Dense(6, activation="relu", name="ffn")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = keras.layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c",
                                       name="head")(x)
    model = keras.Model(tokens, outputs, name="transformer_masked")
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([expected[f"transformer_masked/{layer.name}/{i}"]
                               for i in range(len(layer.weights))])
    return model


def test_masks_flow_as_in_keras_3(expected):
    """Padding masks from Embedding through self-attention, Add, LayerNormalization and
    Dense into masked pooling: Keras 3's predictions, eagerly, compiled and in predict."""
    model = _transformer_masked(expected)
    x = expected["transformer_masked_x"]
    for _ in range(3):  # Eager, traced, then the compiled plan.
        np.testing.assert_allclose(model(x).numpy(), expected["transformer_masked_y"],
                                   rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected["transformer_masked_y"],
                               rtol=1e-5, atol=1e-5)
    unmasked = x.copy()
    unmasked[unmasked == 0] = 1
    assert not np.allclose(model(unmasked).numpy()[:3], expected["transformer_masked_y"][:3])


@pytest.mark.filterwarnings("ignore:.*rms_scaling")
def test_keras_3_model_file_loads_and_predicts_the_same(expected):
    model = keras.models.load_model(FIXTURES / "transformer_causal.keras")
    x = expected["transformer_causal_x"]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected["transformer_causal_y"],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(x).numpy(), expected["transformer_causal_y"], rtol=1e-5,
                               atol=1e-5)


def test_model_file_round_trip(tmp_path, expected):
    model = _transformer_masked(expected)
    path = os.path.join(tmp_path, "again.keras")
    model.save(path)
    again = keras.models.load_model(path)
    x = expected["transformer_masked_x"]
    np.testing.assert_allclose(again(x).numpy(), expected["transformer_masked_y"], rtol=1e-5,
                               atol=1e-5)
    mha = again.get_layer("mha")
    assert [tuple(w.shape) for w in mha.weights][:2] == [(8, 2, 4), (2, 4)]


# -- masks ------------------------------------------------------------------------------------

def test_mha_padding_masks_make_padded_keys_irrelevant():
    """Changing padded value steps changes no output at unpadded query steps."""
    layer = keras.layers.MultiHeadAttention(2, 3)
    rng = np.random.default_rng(0)
    query = tf.constant(rng.normal(size=(2, 4, 5)).astype("float32"))
    value = rng.normal(size=(2, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    noisy = value.copy()
    noisy[~mask] = 100.
    outputs = []
    for v in (value, noisy):
        v = tf.constant(v)
        v._keras_mask = tf.constant(mask)
        outputs.append(layer(query, v).numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5)


@pytest.mark.parametrize("mask_shape", [(2, 3, 4), (3, 4), (5,), (3, 3, 5), (2, 3, 3, 5)])
def test_mha_attention_mask_of_a_wrong_shape_is_an_error_naming_the_layer(mask_shape):
    layer = keras.layers.MultiHeadAttention(2, 3, name="my_mha")
    with pytest.raises(ValueError, match=r"my_mha.*attention_mask.*\(2, 3, 5\).*" +
                       re.escape(str(mask_shape))):
        layer(tf.ones((2, 3, 4)), tf.ones((2, 5, 4)),
              attention_mask=np.ones(mask_shape, bool))
    for good in [(2, 3, 5), (3, 5), (1, 1, 5), (2, 1, 5), (2, 2, 3, 5)]:  # As in Keras.
        assert layer(tf.ones((2, 3, 4)), tf.ones((2, 5, 4)),
                     attention_mask=np.ones(good, bool)).shape == (2, 3, 4)


def test_mha_output_carries_the_query_mask():
    layer = keras.layers.MultiHeadAttention(2, 3)
    query = tf.ones((2, 4, 5))
    query._keras_mask = tf.constant([[True, True, False, False]] * 2)
    out = layer(query, tf.ones((2, 3, 5)))
    np.testing.assert_array_equal(out._keras_mask.numpy(), query._keras_mask.numpy())


def test_attention_output_mask_and_query_masking():
    query, value = tf.ones((1, 3, 2)), tf.ones((1, 2, 2))
    q_mask = tf.constant([[True, False, True]])
    out = keras.layers.Attention()([query, value], mask=[q_mask, None])
    np.testing.assert_array_equal(out._keras_mask.numpy(), q_mask.numpy())
    np.testing.assert_array_equal(out.numpy()[0, 1], [0., 0.])   # Masked query step.


@pytest.mark.parametrize("cls", ["Attention", "AdditiveAttention"])
def test_attention_with_every_value_step_masked_averages_as_keras(cls):
    # Keras adds -1e9 to masked scores, so a row with every key masked gets uniform
    # weights (the mean of the values), not zeros.
    query = tf.constant(np.random.default_rng(3).normal(size=(2, 3, 2)).astype("float32"))
    value = tf.constant(np.arange(8, dtype="float32").reshape(2, 2, 2))
    v_mask = tf.constant([[True, False], [False, False]])
    out, scores = getattr(keras.layers, cls)()([query, value], mask=[None, v_mask],
                                                return_attention_scores=True)
    np.testing.assert_allclose(scores.numpy()[1], np.full((3, 2), 0.5), rtol=1e-6)
    np.testing.assert_allclose(out.numpy()[1], np.tile([[5., 6.]], (3, 1)), rtol=1e-6)
    np.testing.assert_allclose(out.numpy()[0], np.tile([[0., 1.]], (3, 1)), rtol=1e-6)


def test_causal_attention_ignores_the_future():
    layer = keras.layers.MultiHeadAttention(2, 2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 5, 4)).astype("float32")
    changed = x.copy()
    changed[0, 3:] += 10.                       # Only steps 3 and 4 change.
    a = layer(x, x, use_causal_mask=True).numpy()
    b = layer(changed, changed, use_causal_mask=True).numpy()
    np.testing.assert_allclose(a[0, :3], b[0, :3], rtol=1e-5)
    assert not np.allclose(a[0, 3:], b[0, 3:])


def test_attention_dropout_only_in_training():
    layer = keras.layers.Attention(dropout=0.5, seed=1)
    q = tf.constant(np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32"))
    np.testing.assert_allclose(layer([q, q]).numpy(), layer([q, q], training=False).numpy())
    assert not np.allclose(layer([q, q], training=True).numpy(), layer([q, q]).numpy())


# -- functional models, training --------------------------------------------------------------

def test_mha_in_functional_model_trains():
    tf.random.set_seed(0)
    inputs = keras.Input((4, 6))
    x = keras.layers.MultiHeadAttention(2, 3, name="mha")(inputs, inputs)
    x = keras.layers.LayerNormalization()(x + inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    rng = np.random.default_rng(3)
    x_data = rng.normal(size=(32, 4, 6)).astype("float32")
    y_data = x_data[:, 0, :1] - x_data[:, 3, 1:2]
    history = model.fit(x_data, y_data, epochs=15, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.get_layer("mha").get_build_config() == {
        "shapes_dict": {"query_shape": [None, 4, 6], "value_shape": [None, 4, 6]}}


def test_return_attention_scores_in_functional_model():
    query, value = keras.Input((3, 4)), keras.Input((5, 4))
    out, scores = keras.layers.MultiHeadAttention(2, 2)(query, value,
                                                        return_attention_scores=True)
    assert tuple(scores.shape) == (None, 2, 3, 5) and tuple(out.shape) == (None, 3, 4)
    out2, weights = keras.layers.Attention()([query, value], return_attention_scores=True)
    assert tuple(weights.shape) == (None, 3, 5) and tuple(out2.shape) == (None, 3, 4)
    model = keras.Model([query, value], [out, scores, weights])
    results = model([np.ones((2, 3, 4)), np.ones((2, 5, 4))])
    assert [tuple(r.shape) for r in results] == [(2, 3, 4), (2, 2, 3, 5), (2, 3, 5)]
    np.testing.assert_allclose(results[1].numpy().sum(-1), 1., rtol=1e-6)


# -- EinsumDense shapes and errors ------------------------------------------------------------

@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape, kernel, bias, out", [
    ("ab,bc->ac", 4, "c", (None, 3), (3, 4), (4,), (None, 4)),
    ("abc,cd->abd", (None, 5), "d", (None, 7, 3), (3, 5), (5,), (None, 7, 5)),
    ("...b,bc->...c", 5, None, (None, 2, 3, 4), (4, 5), None, (None, 2, 3, 5)),
    ("ab...,bc->ac...", 5, "c", (None, 4, 3), (4, 5), (5, 1), (None, 5, 3)),
    ("abc,cde->abde", (None, 2, 3), "de", (None, 4, 5), (5, 2, 3), (2, 3), (None, 4, 2, 3)),
    ("abcd,cde->abe", (None, 6), "e", (None, 4, 2, 3), (2, 3, 6), (6,), (None, 4, 6)),
])
def test_einsum_dense_shapes(equation, output_shape, bias_axes, input_shape, kernel, bias, out):
    layer = keras.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    result = layer(keras.Input(input_shape[1:]))
    assert tuple(result.shape) == out
    assert tuple(layer.kernel.shape) == kernel
    assert (layer.bias is None) if bias is None else tuple(layer.bias.shape) == bias


@pytest.mark.parametrize("kwargs, message", [
    ({"equation": "ab,bc", "output_shape": 3}, "Invalid einsum equation"),
    ({"equation": "ab,bc->ad", "output_shape": 3}, "Dimension 'd' was specified"),
    ({"equation": "ab,bcx->ac", "output_shape": 3}, "Weight dimension 'x'"),
    ({"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "x"}, "Bias dimension 'x'"),
    ({"equation": "abc,cd->abd", "output_shape": (3, 4)}, "do not match at shared"),
])
def test_einsum_dense_errors(kwargs, message):
    layer = keras.layers.EinsumDense(**kwargs)
    with pytest.raises(ValueError, match=message):
        layer(np.ones((2, 5, 2), "float32") if "abc" in kwargs["equation"]
              else np.ones((2, 2), "float32"))


@pytest.mark.parametrize("cls, kwargs, message", [
    ("MultiHeadAttention", {"num_heads": 0, "key_dim": 2}, "num_heads"),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "sliding_window": 3},
     "sliding_window"),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "use_gate": True}, "use_gate"),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 2, "lora_rank": 2}, "lora_rank"),
    ("Attention", {"score_mode": "cosine"}, "score_mode"),
])
def test_constructor_errors(cls, kwargs, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        getattr(keras.layers, cls)(**kwargs)


def test_attention_requires_a_list():
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        keras.layers.Attention()(tf.ones((1, 2, 3)))


@pytest.mark.parametrize("module", [
    "numpyflow.ops.einsum_ops", "numpyflow.keras.layers.einsum_dense",
    "numpyflow.keras.layers.mask_propagation", "numpyflow.keras.layers.attention.attention",
    "numpyflow.keras.layers.attention.multi_head_attention",
    "numpyflow.keras.layers.attention.masked_softmax"])
def test_docstring_examples(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")


@pytest.mark.skipif(not os.path.exists(BENCH_PYTHON),
                    reason="needs Keras 3 in .venv-bench (the benchmarks' venv)")
def test_keras3_loads_numpyflow_attention_models(tmp_path, expected):
    """numpyflow's files of these layers load in real Keras 3 and predict the same."""
    import subprocess
    inputs = keras.Input((5, 6))
    x = keras.layers.MultiHeadAttention(3, 2, value_dim=3, output_shape=4, dropout=0.1)(
        inputs, inputs, use_causal_mask=True)
    x = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3),
                                 bias_axes="de", activation="tanh")(x)
    x = keras.layers.Reshape((5, 6))(x)
    x = keras.layers.Attention(use_scale=True, score_mode="concat")([x, inputs])
    x = keras.layers.AdditiveAttention()([x, x])
    outputs = keras.layers.GlobalAveragePooling1D()(x)
    models = {"attention": (keras.Model(inputs, outputs),
                            np.random.default_rng(0).normal(size=(3, 5, 6)).astype("float32")),
              "masked": (_transformer_masked(expected), expected["transformer_masked_x"])}
    for name, (model, x_data) in models.items():
        model.save(str(tmp_path / f"nf_{name}.keras"))
        np.savez(tmp_path / f"nf_{name}_io.npz", x0=x_data,
                 y_pred=model.predict(x_data, verbose=0))
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures", "check_with_keras.py"),
         str(tmp_path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    if "No module named 'keras'" in result.stderr:
        pytest.skip("needs Keras 3 in .venv-bench (the benchmarks' venv)")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "2/2 files match" in result.stdout
