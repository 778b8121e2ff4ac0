"""CategoryEncoding, Discretization, IntegerLookup, StringLookup and Hashing against what
Keras 3 answers (`tests/fixtures/text_preprocessing/reference.json`, written by
`tests/fixtures/make_text_preprocessing_fixtures.py`), and their errors."""

import json
import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "text_preprocessing")
with open(os.path.join(FIXTURES, "reference.json"), encoding="utf-8") as _file:
    REFERENCE = json.load(_file)


def _plain(tensor):
    values = tensor.numpy()
    if values.dtype == object:
        return [[v.decode() for v in row] if isinstance(row, list) else row.decode()
                for row in values.tolist()]
    return values.tolist()


# -- CategoryEncoding and Discretization ----------------------------------------------------

@pytest.mark.parametrize("case", REFERENCE["category_encoding"],
                         ids=lambda c: json.dumps(c.get("kwargs") or c.get("discretization")))
def test_encodings_match_keras(case):
    if "discretization" in case:
        outputs = layers.Discretization(**case["discretization"])(np.array(case["inputs"]))
        assert outputs.dtype.name == case["dtype"]
    else:
        layer = layers.CategoryEncoding(**case["kwargs"])
        weights = case["count_weights"]
        outputs = layer(np.array(case["inputs"])) if weights is None else layer(
            np.array(case["inputs"]), count_weights=np.array(weights))
        assert outputs.dtype == tf.float32
        assert tuple(layer.compute_output_shape(np.array(case["inputs"]).shape)) == \
            tuple(outputs.shape)
    np.testing.assert_allclose(outputs.numpy(), case["outputs"])


def test_count_weights_stay_differentiable():
    weights = tf.constant([[0.5, 1.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(weights)
        out = layers.CategoryEncoding(3, "count")(np.array([[0, 2, 2]]), count_weights=weights)
        loss = tf.reduce_sum(out * tf.constant([[1.0, 10.0, 100.0]]))
    np.testing.assert_allclose(tape.gradient(loss, weights).numpy(), [[1.0, 100.0, 100.0]])


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(NotImplementedError, match="sparse"):
        layers.CategoryEncoding(3, sparse=True)
    with pytest.raises(ValueError, match="non-negative"):
        layers.CategoryEncoding(3)(np.array([[-1, 0]]))
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(3, "multi_hot")(np.array([[1]]), count_weights=np.ones((1, 1)))


@pytest.mark.parametrize("case", REFERENCE["discretization"]["cases"],
                         ids=lambda c: json.dumps(c["kwargs"]))
def test_discretization_adapt_matches_keras(case):
    layer = layers.Discretization(**case["kwargs"])
    layer.adapt(np.array(REFERENCE["discretization"]["data"], np.float32))
    np.testing.assert_allclose(layer.bin_boundaries, case["boundaries"], rtol=1e-6)
    # An adapted layer's config keeps both, and from_config keeps the learned boundaries.
    clone = layers.Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries


def test_discretization_adapt_on_a_dataset_and_errors():
    data = np.arange(100, dtype=np.float32)
    layer = layers.Discretization(num_bins=4)
    layer.adapt(tf.data.Dataset.from_tensor_slices(data).batch(100))
    whole = layers.Discretization(num_bins=4)
    whole.adapt(data)
    assert layer.bin_boundaries == whole.bin_boundaries
    with pytest.raises(ValueError, match="adapt"):
        layers.Discretization(num_bins=3)(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="cannot adapt"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(data)
    with pytest.raises(ValueError, match="either"):
        layers.Discretization()
    with pytest.raises(ValueError, match="sorted"):
        layers.Discretization(bin_boundaries=[1.0, 0.0])


# -- lookups -----------------------------------------------------------------------------------

def _lookup_id(case):
    return f"{case['layer']}-{json.dumps(case['kwargs'])}"


@pytest.mark.parametrize("case", REFERENCE["lookup"], ids=_lookup_id)
def test_lookup_matches_keras(case):
    cls = getattr(layers, case["layer"])
    layer = cls(**case["kwargs"])
    if case["adapt"] is not None:
        layer.adapt(np.array(case["adapt"]))
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.vocabulary_size() == len(case["vocabulary"])
    outputs = layer(np.array(case["inputs"]))
    if outputs.dtype == tf.string:
        assert _plain(outputs) == case["outputs"]
    else:
        np.testing.assert_allclose(outputs.numpy(), case["outputs"], rtol=1e-6)
        mode = case["kwargs"].get("output_mode", "int")
        assert outputs.dtype == (tf.int64 if mode == "int" else tf.float32)
    if "config" in case:
        config = layer.get_config()
        expected = {k: v for k, v in case["config"].items() if k not in ("name", "dtype")}
        assert {k: config[k] for k in expected} == expected


def test_lookup_adapt_on_datasets_and_iterables():
    data = [["a", "b"], ["b", "c"], ["b", "a"]]
    whole = layers.StringLookup()
    whole.adapt(data)
    batched = layers.StringLookup()
    batched.adapt(tf.data.Dataset.from_tensor_slices(np.array(data)).batch(2))
    assert batched.get_vocabulary() == whole.get_vocabulary() == ["[UNK]", "b", "a", "c"]
    generator = layers.IntegerLookup()
    generator.adapt(iter([np.array([5, 6]), np.array([6])]))
    assert generator.get_vocabulary() == [-1, 6, 5]


def test_lookup_vocabulary_with_special_tokens_and_invert_round_trip():
    layer = layers.StringLookup(vocabulary=["", "[UNK]", "x", "y"], mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["x", "y"]
    indices = layer(np.array([["y", "", "q"]]))
    np.testing.assert_array_equal(indices.numpy(), [[3, 0, 1]])
    inverse = layers.StringLookup(vocabulary=["x", "y"], mask_token="", invert=True)
    assert _plain(inverse(indices)) == [["y", "", "[UNK]"]]
    ints = layers.IntegerLookup(vocabulary=[7, 8], invert=True)
    np.testing.assert_array_equal(ints(np.array([0, 1, 2, 5])).numpy(), [-1, 7, 8, -1])


def test_lookup_in_a_functional_model():
    inputs = tf.keras.Input((3,), dtype="string")
    lookup = layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    outputs = layers.Dense(2, kernel_initializer="ones")(lookup(inputs))
    model = tf.keras.Model(inputs, outputs)
    assert tuple(lookup.output.shape) == (None, 3)
    np.testing.assert_allclose(model(np.array([["a", "a", "z"]])).numpy(), [[2.0, 2.0]])


def test_lookup_errors_name_the_layer():
    with pytest.raises(ValueError, match="string_lookup.*no vocabulary"):
        layers.StringLookup(name="string_lookup_x")(np.array(["a"]))
    with pytest.raises(ValueError, match="repeated"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        layers.IntegerLookup(vocabulary=[1, 2, 3], max_tokens=3)
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        layers.IntegerLookup(vocabulary=[1], num_oov_indices=0)(np.array([2]))
    with pytest.raises(ValueError, match="mask token"):
        layers.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="static vocabulary"):
        layers.StringLookup(vocabulary=["a"]).adapt(["b"])
    with pytest.raises(ValueError, match="idf_weights"):
        layers.StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="invert"):
        layers.StringLookup(invert=True, output_mode="multi_hot")
    with pytest.raises(TypeError, match="string inputs"):
        layers.StringLookup(vocabulary=["a"])(np.array([1.5]))
    with pytest.raises(NotImplementedError, match="sparse"):
        layers.IntegerLookup(sparse=True)
    multi = layers.StringLookup(output_mode="count")
    multi.adapt(["a", "b"])
    with pytest.raises(RuntimeError, match="vocabulary size cannot be changed"):
        multi.set_vocabulary(["a", "b", "c"])


def test_vocabulary_file_read_in_code_but_refused_from_a_config(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\n")
    layer = layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "cat", "dog"]
    assert layer.get_config()["vocabulary"] is None  # The path is not kept in the config.
    config = {"class_name": "StringLookup",
              "config": {"name": "lookup", "vocabulary": str(path)}}
    with pytest.raises(ValueError, match="refuses to read files named by a loaded config"):
        tf.keras.layers.deserialize(config)
    with pytest.raises(ValueError, match="refuses"):
        tf.keras.saving.deserialize_keras_object(config, safe_mode=False)


# -- Hashing -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", REFERENCE["hashing"], ids=lambda c: json.dumps(c["kwargs"]))
def test_hashing_matches_keras(case):
    inputs = np.array(case["inputs"])
    layer = layers.Hashing(**case["kwargs"])
    outputs = layer(inputs if inputs.ndim == 2 else inputs[:, None])
    np.testing.assert_array_equal(outputs.numpy(), case["outputs"])
    mode = case["kwargs"].get("output_mode", "int")
    assert outputs.dtype == (tf.int64 if mode == "int" else tf.float32)


def test_hashing_scalar_strings_and_booleans_as_keras():
    # Keras hashes tf.as_string(value): booleans as b"true"/b"false" (not "1"/"0"), and a
    # rank-0 string gives a rank-0 bin.
    np.testing.assert_array_equal(layers.Hashing(5)(np.array([[True, False]])).numpy(),
                                  [[0, 2]])
    np.testing.assert_array_equal(
        layers.Hashing(5, mask_value=True)(np.array([[True, False]])).numpy(), [[0, 2]])
    for one in ("a", b"a", tf.constant("a")):
        out = layers.Hashing(5)(one)
        assert out.shape == () and int(out.numpy()) == 4          # Keras 3: 4.
    assert int(layers.Hashing(5, salt=3)("a").numpy()) == \
        int(layers.Hashing(5, salt=3)(np.array(["x", "a"])).numpy()[1])


def test_hashing_errors_and_config():
    with pytest.raises(ValueError, match="num_bins"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(num_bins=3, salt="x")
    layer = layers.Hashing(num_bins=3, salt=5)
    assert layer.get_config()["salt"] == [5, 5]
    assert layer.get_config()["dtype"] == "int64"
    assert layers.Hashing(3, output_mode="multi_hot").dtype == "float32"
