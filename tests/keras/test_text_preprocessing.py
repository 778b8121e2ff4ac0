"""TextVectorization against Keras 3 (`tests/fixtures/text_preprocessing/reference.json`,
written by `tests/fixtures/make_text_preprocessing_fixtures.py`), and lookup vocabularies
saved inside `.keras` files: Keras 3's file loads here, numpyflow's loads in Keras 3."""

import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import layers

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "text_preprocessing")
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
with open(os.path.join(FIXTURES, "reference.json"), encoding="utf-8") as _file:
    REFERENCE = json.load(_file)
CORPUS = REFERENCE["corpus"]
QUERIES = REFERENCE["queries"]


def _kwargs(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    return kwargs


def _case_id(case):
    return json.dumps(case["kwargs"]) + str(case.get("adapt_dataset_batch", ""))


@pytest.mark.parametrize("case", REFERENCE["text_vectorization"], ids=_case_id)
def test_text_vectorization_matches_keras(case):
    layer = layers.TextVectorization(**_kwargs(case))
    if "adapt_dataset_batch" in case:
        layer.adapt(tf.data.Dataset.from_tensor_slices(CORPUS).batch(case["adapt_dataset_batch"]))
    elif "vocabulary" not in case["kwargs"]:
        layer.adapt(CORPUS)
    assert layer.get_vocabulary() == case["vocabulary"]
    outputs = layer(np.array(QUERIES))
    np.testing.assert_allclose(outputs.numpy(), case["outputs"], rtol=1e-6)
    mode = case["kwargs"].get("output_mode", "int")
    assert outputs.dtype == (tf.int64 if mode == "int" else tf.float32)
    if case["kwargs"].get("split", "whitespace") is not None:
        shape = tuple(layer.compute_output_shape((3,)))
        assert shape[0] == 3 and shape[1] in (None, outputs.shape[1])


def test_adapt_on_arrays_tensors_unbatched_datasets_and_steps():
    expected = layers.TextVectorization()
    expected.adapt(CORPUS)
    for data in (np.array(CORPUS), tf.constant(CORPUS), np.array(CORPUS)[:, None],
                 tf.data.Dataset.from_tensor_slices(CORPUS)):
        layer = layers.TextVectorization()
        layer.adapt(data)
        assert layer.get_vocabulary() == expected.get_vocabulary()
    partial = layers.TextVectorization()
    partial.adapt(tf.data.Dataset.from_tensor_slices(CORPUS).batch(2), steps=1)
    # Only the first batch: "the" twice, then the others by decreasing token (Keras's ties).
    assert partial.get_vocabulary() == ["", "[UNK]", "the", "sat", "on", "my", "mat",
                                        "homework", "dog", "cat", "ate"]


def test_set_vocabulary_sizes_and_callables():
    layer = layers.TextVectorization(output_sequence_length=3)
    layer.set_vocabulary(["b", "a"])
    assert layer.vocabulary_size() == 4
    assert layer.get_vocabulary(include_special_tokens=False) == ["b", "a"]
    np.testing.assert_array_equal(layer(["a b c d"]).numpy(), [[3, 2, 1]])

    def upper_first(strings):
        return tf.constant([s.upper() for s in strings.numpy().reshape(-1)], dtype=tf.string)

    def comma_split(strings):
        return [s.split(b",") for s in strings.numpy()]

    custom = layers.TextVectorization(standardize=upper_first, split=comma_split,
                                      vocabulary=["A", "B C"])
    np.testing.assert_array_equal(custom(["a,b c,x"]).numpy(), [[2, 3, 1]])


def test_ragged_outputs_and_ragged_lookup_inputs():
    layer = layers.TextVectorization(ragged=True, vocabulary=["the", "cat"])
    out = layer(["the cat sat", "", "cat"])
    assert isinstance(out, tf.RaggedTensor)
    assert out.to_list() == [[2, 3, 1], [], [3]]
    short = layers.TextVectorization(ragged=True, output_sequence_length=2,
                                     vocabulary=["the", "cat"])
    assert short(["the cat sat"]).to_list() == [[2, 3]]
    assert layers.TextVectorization.from_config(layer.get_config())._ragged
    words = tf.strings.split(tf.constant(["a b", "c"]))
    looked_up = layers.StringLookup(vocabulary=["a", "c"])(words)
    assert looked_up.to_list() == [[1, 0], [2]]
    back = layers.StringLookup(vocabulary=["a", "c"], invert=True)(looked_up)
    assert back.to_list() == [[b"a", b"[UNK]"], [b"c"]]
    with pytest.raises(NotImplementedError, match="ragged"):
        layers.StringLookup(vocabulary=["a"], output_mode="multi_hot")(words)


def test_in_a_model_trained_with_fit():
    vectorize = layers.TextVectorization(max_tokens=20, output_mode="multi_hot")
    sentences = ["good fine great", "bad awful poor", "great good", "poor bad"] * 4
    labels = np.array([1, 0, 1, 0] * 4, np.float32)
    vectorize.adapt(sentences)
    inputs = tf.keras.Input((1,), dtype="string")
    outputs = layers.Dense(1, activation="sigmoid")(vectorize(inputs))
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    # (numpyflow's fit refuses NumPy arrays of strings for now; a Dataset of strings works.)
    data = tf.data.Dataset.from_tensor_slices((np.array(sentences)[:, None], labels)).batch(4)
    history = model.fit(data, epochs=20, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    predictions = model(np.array([["fine great"], ["awful"]])).numpy()
    assert predictions[0, 0] > 0.5 > predictions[1, 0]


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [2, 3]),
    ({"output_sequence_length": 3}, [2, 3, 0]),
    ({"output_mode": "multi_hot"}, [0., 1., 1.]),
    ({"output_mode": "tf_idf", "idf_weights": [1., 2.]}, [0., 1., 2.]),
    ({"ragged": True}, [2, 3]),
])
def test_one_string_gives_one_unbatched_row_as_keras(kwargs, expected):
    # Keras 3: a rank-0 string is one document; its output has no batch axis.
    layer = layers.TextVectorization(vocabulary=["the", "cat"], **kwargs)
    for one in ("the cat", tf.constant("the cat")):
        outputs = layer(one)
        assert isinstance(outputs, tf.Tensor)
        np.testing.assert_array_equal(outputs.numpy(), expected)
        if not kwargs.get("ragged"):
            assert layer.compute_output_shape(()).as_list() == [
                len(expected) if kwargs else None]


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match="text_vectorization_q.*no vocabulary"):
        layers.TextVectorization(name="text_vectorization_q")(["a"])
    with pytest.raises(ValueError, match="standardize"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="output_sequence_length"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ragged"):
        layers.TextVectorization(ragged=True, output_mode="count")
    with pytest.raises(NotImplementedError, match="one_hot"):
        layers.TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="last dimension must be 1"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="string inputs"):
        layers.TextVectorization(vocabulary=["a"])(np.array([1, 2]))


@pytest.mark.parametrize("kwargs, message", [
    ({"ngrams": 0}, r"`ngrams`.*Received: ngrams=0"),
    ({"ngrams": -2}, r"`ngrams`.*Received: ngrams=-2"),
    ({"ngrams": (1, 0)}, r"`ngrams`.*Received: ngrams=\(1, 0\)"),
    ({"output_sequence_length": -1}, r"`output_sequence_length`.*output_sequence_length=-1"),
    ({"output_sequence_length": True}, r"`output_sequence_length`.*output_sequence_length=True"),
])
def test_bad_ngrams_and_sequence_lengths_are_refused_naming_the_layer(kwargs, message):
    # Keras takes ngrams=0 and yields no tokens at all, and fails on a negative length
    # only when called; both are mistakes, reported here when the layer is made.
    with pytest.raises(ValueError, match="text_vectorization_bad.*" + message):
        layers.TextVectorization(name="text_vectorization_bad", **kwargs)
    layers.TextVectorization(ngrams=(1, 3), output_sequence_length=0)   # Still fine.


# -- saving -----------------------------------------------------------------------------------

def _saved_model_inputs():
    saved = REFERENCE["saved_model"]
    return saved, [np.array(saved["text"])[:, None], np.array(saved["tags"])]


def _check_outputs(model):
    saved, inputs = _saved_model_inputs()
    outputs = model(inputs)
    np.testing.assert_array_equal(outputs[0].numpy(), saved["tv_outputs"])
    np.testing.assert_allclose(outputs[1].numpy(), saved["tags_outputs"], rtol=1e-6)
    assert model.get_layer("tv").get_vocabulary() == saved["tv_vocabulary"]
    assert model.get_layer("tags").get_vocabulary() == saved["tags_vocabulary"]


def test_keras3_file_with_text_vectorization_loads_with_the_same_outputs():
    model = tf.keras.models.load_model(os.path.join(FIXTURES, "text_vectorization_keras3.keras"))
    _check_outputs(model)


def test_keras3_file_with_tf_idf_text_vectorization_round_trips(tmp_path):
    saved = REFERENCE["saved_tfidf_model"]
    inputs = np.array(saved["text"])[:, None]
    model = tf.keras.models.load_model(
        os.path.join(FIXTURES, "text_vectorization_tfidf_keras3.keras"))
    np.testing.assert_allclose(model(inputs).numpy(), saved["outputs"], rtol=1e-6)
    assert model.layers[-1].get_vocabulary() == saved["vocabulary"]
    path = str(tmp_path / "again.keras")
    model.save(path)
    np.testing.assert_allclose(tf.keras.models.load_model(path)(inputs).numpy(),
                               saved["outputs"], rtol=1e-6)


def test_saved_vocabularies_live_inside_the_file(tmp_path):
    model = tf.keras.models.load_model(os.path.join(FIXTURES, "text_vectorization_keras3.keras"))
    path = str(tmp_path / "text.keras")
    model.save(path)
    names = zipfile.ZipFile(path).namelist()
    assert "assets/layers/text_vectorization/vocabulary.txt" in names
    assert "assets/layers/string_lookup/vocabulary.txt" in names
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert "the" not in json.dumps(config)  # The adapted vocabulary is not in the config.
    _check_outputs(tf.keras.models.load_model(path))


def test_archive_with_unread_or_bad_assets_is_refused(tmp_path):
    source = os.path.join(FIXTURES, "text_vectorization_keras3.keras")
    path = str(tmp_path / "extra.keras")
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as copy:
        for item in original.namelist():
            copy.writestr(item, original.read(item))
        copy.writestr("assets/layers/dense/other.bin", b"x")
    with pytest.raises(NotImplementedError, match="no layer of the model reads"):
        tf.keras.models.load_model(path)


def test_lookup_layers_saved_by_numpyflow_round_trip(tmp_path):
    words = layers.StringLookup(num_oov_indices=2, mask_token="", name="words")
    words.adapt([["a", "b", "b"], ["c", "b", "a"]])
    ints = layers.IntegerLookup(output_mode="count", name="ints")
    ints.adapt(np.array([[4, 4, 9], [7, 9, 4]]))
    given = layers.StringLookup(vocabulary=["x", "y"], name="given")
    a = tf.keras.Input((3,), dtype="string")
    b = tf.keras.Input((3,), dtype="int64")
    model = tf.keras.Model([a, b], [words(a), ints(b), given(a)])
    x = [np.array([["a", "", "zz"]]), np.array([[9, 4, 1]])]
    expected = [o.numpy() for o in model(x)]
    path = str(tmp_path / "lookups.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    for want, got in zip(expected, loaded(x)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert loaded.get_layer("ints").get_vocabulary() == [-1, 4, 9, 7]


@pytest.mark.skipif(not os.path.exists(BENCH_PYTHON),
                    reason="needs Keras 3 in .venv-bench (the benchmarks' venv)")
def test_numpyflow_files_load_in_keras3(tmp_path):
    tv = layers.TextVectorization(max_tokens=12, output_sequence_length=6, name="tv")
    tv.adapt(CORPUS)
    tags = layers.StringLookup(output_mode="tf_idf", name="tags")
    tags.adapt([["x", "y"], ["x", "z"], ["y", "w"]])
    text_in = tf.keras.Input((1,), dtype="string", name="text")
    tags_in = tf.keras.Input((2,), dtype="string", name="tags_in")
    model = tf.keras.Model([text_in, tags_in], [tv(text_in), tags(tags_in)])
    _check_outputs(model)  # Same vocabularies and outputs as Keras's model.
    idf = layers.TextVectorization(output_mode="tf_idf", max_tokens=10, name="tv_idf")
    idf.adapt(CORPUS)
    idf_in = tf.keras.Input((1,), dtype="string")
    idf_model = tf.keras.Model(idf_in, idf(idf_in))
    saved, _ = _saved_model_inputs()
    idf_saved = REFERENCE["saved_tfidf_model"]
    arguments = []
    for name, saved_model, inputs in (
            ("text", model, [[[t] for t in saved["text"]], saved["tags"]]),
            ("idf", idf_model, [[[t] for t in idf_saved["text"]]])):
        path = str(tmp_path / f"{name}.keras")
        saved_model.save(path)
        inputs_path = tmp_path / f"{name}.json"
        inputs_path.write_text(json.dumps(inputs))
        arguments += [path, str(inputs_path)]
    result = subprocess.run([BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures",
                                                        "check_text_model_with_keras.py")]
                            + arguments, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    text_answer, idf_answer = [json.loads(line) for line in result.stdout.strip().splitlines()
                               if line.startswith("{")]
    np.testing.assert_array_equal(text_answer["outputs"][0], saved["tv_outputs"])
    np.testing.assert_allclose(text_answer["outputs"][1], saved["tags_outputs"], rtol=1e-6)
    assert text_answer["vocabularies"]["tv"] == saved["tv_vocabulary"]
    np.testing.assert_allclose(idf_answer["outputs"][0], idf_saved["outputs"], rtol=1e-6)
    assert idf_answer["vocabularies"]["tv_idf"] == idf_saved["vocabulary"]
