"""What models accept as input: dicts of features, text arrays, integer ids.

Observed in TF 2.21 / Keras 3.15 (`/tmp/tf221`) and, for `DenseFeatures` in a Sequential
model, tf.keras 2.15 (`/tmp/tf215`):
- A Sequential model first called on a dict stays a plain stack of layers (tf.keras 2.15):
  `summary()` shows "multiple", `build_input_shape` is a dict of shapes.
- A model converts each input to its `Input`'s dtype (Keras 3 `_standardize_inputs`):
  int64/float/uint8 given to `Input(dtype="int32")` arrive as int32; uint8 images given to a
  float32 input arrive as float32. A lazily built Sequential's input takes its first layer's
  dtype (Keras 3), or `string` when the first batch is text.
- fit/evaluate/predict take text in `x` (tf.keras 2.15 accepts `str`, `bytes` and object
  arrays; Keras 3.15 only object arrays).
"""

import os
import random

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.trainers.data_adapters import data_adapter_utils

keras = tf.keras
fc = tf.feature_column


class DtypeProbe(keras.layers.Layer):
    """Records the dtype it is called on; casts nothing itself (Keras 3's switch)."""

    _convert_input_args = False

    def call(self, x):
        self.seen = x.dtype
        return x


# -- 1. DenseFeatures in a Sequential model, fed a dict of features ----------------------------

def _features():
    return {"age": np.array([30., 40., 50., 60., 35., 45.], np.float32),
            "thal": np.array(["fixed", "normal", "reversible", "normal", "fixed", "other"]),
            "code": np.array([0, 1, 4, 2, 3, 1])}


def _feature_model():
    columns = [fc.numeric_column("age"),
               fc.indicator_column(fc.categorical_column_with_vocabulary_list(
                   "thal", ["fixed", "normal", "reversible"])),
               fc.embedding_column(fc.categorical_column_with_identity("code", 5), 2)]
    model = keras.Sequential([keras.layers.DenseFeatures(columns),
                              keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def test_sequential_of_dense_features_fits_evaluates_predicts_on_a_dict(fresh_names):
    model, x = _feature_model(), _features()
    y = np.array([0., 1., 0., 1., 0., 1.], np.float32)
    history = model.fit(x, y, epochs=30, batch_size=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (6, 1)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        float(np.mean((model.predict(x, verbose=0)[:, 0] - y) ** 2)), rel=1e-5)
    # DenseFeatures: 5 x 2 embedding; Dense: (1 + 3 + 2) x 4 + 4; Dense: 4 + 1.
    assert model.count_params() == 10 + 28 + 5
    assert model.input_shape == {"age": (None,), "thal": (None,), "code": (None,)}
    assert model.get_config()["build_input_shape"] == {"age": [None], "thal": [None],
                                                       "code": [None]}
    with pytest.raises(AttributeError, match="plain stack of layers without a graph: it has "
                                             "no input"):
        model.input  # noqa: B018


def test_sequential_of_dense_features_summary_says_multiple(fresh_names, capsys):
    model = _feature_model()
    model.predict(_features(), verbose=0)
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith(("dense_features", "dense "))]
    assert len(rows) == 2 and all("multiple" in row for row in rows)
    assert "Total params: 43" in "\n".join(lines)


def test_sequential_of_dense_features_keras_file_round_trip(fresh_names, tmp_path):
    model, x = _feature_model(), _features()
    model.fit(x, np.ones(6, np.float32), epochs=2, verbose=0)
    path = os.path.join(tmp_path, "features.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    # Built from the config's dict of shapes before any data: the weights were loaded.
    assert loaded.count_params() == model.count_params()


def test_sequential_build_from_dict_of_shapes_creates_weights(fresh_names):
    model = _feature_model()
    model.build({"age": [None], "thal": [None], "code": [None]})
    assert model.built and model.count_params() == 43


def test_sequential_refuses_a_list_of_inputs():
    model = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="takes one input Tensor or a dict of features; "
                                         "received list of 2 values"):
        model([np.ones((2, 3)), np.ones((2, 3))])


# -- 2. Text in fit / evaluate / predict --------------------------------------------------------

TEXTS = ["good movie", "bad movie", "great film", "awful"]
LABELS = np.array([1., 0., 1., 0.], np.float32)


def _text_model(with_input):
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(TEXTS)
    layers = [vectorize, keras.layers.Embedding(20, 2), keras.layers.GlobalAveragePooling1D(),
              keras.layers.Dense(1)]
    if with_input:
        layers.insert(0, keras.Input((1,), dtype="string"))
    model = keras.Sequential(layers)
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize("texts", [
    np.array(TEXTS), np.array(TEXTS)[:, None], np.array(TEXTS, dtype=object),
    np.array([t.encode() for t in TEXTS]), TEXTS], ids=["str", "column", "object", "bytes", "list"])
@pytest.mark.parametrize("with_input", [True, False], ids=["input", "lazy"])
def test_text_vectorization_model_fits_on_text(texts, with_input):
    model = _text_model(with_input)
    model.fit(texts, LABELS, batch_size=2, epochs=1, verbose=0)
    assert model.predict(texts, verbose=0).shape == (4, 1)
    assert np.isfinite(model.evaluate(texts, LABELS, verbose=0))
    assert model.input.dtype == "string"


def test_text_batches_are_string_tensors():
    adapter_x = data_adapter_utils.to_arrays({"text": TEXTS, "n": np.ones(4)}, "x")
    assert adapter_x["text"].dtype.kind == "U"
    model = keras.Sequential([DtypeProbe()])
    model.predict(np.array(TEXTS, dtype=object), batch_size=3, verbose=0)
    assert model.layers[0].seen is tf.string


@pytest.mark.parametrize("argument", ["y", "sample_weight"])
def test_text_is_refused_as_targets_and_weights(argument):
    with pytest.raises(ValueError, match=rf"^Invalid dtype: <U4 for `{argument}`: it holds "
                                         rf"strings"):
        data_adapter_utils.to_arrays(np.array(["good", "bad!"]), argument)


def test_object_x_that_is_not_text_is_refused():
    with pytest.raises(ValueError, match=r"^Invalid dtype: object for `x\['a'\]`: it holds "
                                         r"Python objects"):
        data_adapter_utils.to_arrays({"a": np.array(["a", 1], dtype=object)}, "x")


def test_text_to_a_float_input_names_model_and_input():
    model = keras.Sequential([keras.Input((2,), name="numbers"), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"^Model 'sequential\w*': input 'numbers' expects "
                                         r"float32 values, but it received strings "
                                         r"\(tf.string\)\. Turn text into numbers"):
        model.predict(np.array([["a", "b"]]), verbose=0)


# -- 3. Inputs take their Input's dtype -----------------------------------------------------

@pytest.mark.parametrize("value", [np.ones((2, 4), np.int64), np.ones((2, 4)) * 1.5,
                                   np.ones((2, 4), np.uint8), tf.ones((2, 4))],
                         ids=["int64", "float64", "uint8", "float32-tensor"])
def test_sequential_converts_to_an_int32_input(value):
    probe = DtypeProbe()
    model = keras.Sequential([keras.Input((4,), dtype="int32"), probe])
    out = model(value)
    assert probe.seen is tf.int32 and out.dtype is tf.int32
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 4), np.int32))  # 1.5 truncates.
    assert model.predict(value, verbose=0).dtype == np.int32


def test_sequential_with_int_input_feeds_ids_to_embedding():
    ids = np.array([[1, 2, 3], [4, 5, 6]] * 4)
    model = keras.Sequential([keras.Input((3,), dtype="int64"), keras.layers.Embedding(10, 2),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(ids, np.ones(8), verbose=0)
    assert model.predict(ids, verbose=0).shape == (8, 1)


def test_lazy_sequential_input_takes_first_layer_dtype_and_fits_on_uint8_images():
    images = np.random.default_rng(0).integers(0, 255, (8, 4, 4, 1)).astype(np.uint8)
    probe = DtypeProbe()
    model = keras.Sequential([probe, keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(images, np.zeros((8, 2)), verbose=0)
    assert model.input.dtype == "float32" and probe.seen is tf.float32


def test_lazy_sequential_takes_a_string_input_from_text():
    probe = DtypeProbe()
    model = keras.Sequential([probe])
    model(np.array([["a"], ["b"]]))
    assert model.input.dtype == "string" and probe.seen is tf.string


def test_sequential_keeps_a_float_dtype_mask_and_values():
    model = keras.Sequential([keras.Input((2,)), DtypeProbe()])
    out = model(np.array([[1, 2]], np.int64))
    assert out.dtype is tf.float32 and out.numpy().tolist() == [[1., 2.]]


def test_plain_layer_casts_int_inputs_for_float_math_and_can_opt_out():
    # Keras 3's Dense gives float32 on uint8 (its ops promote); numpyflow's cast does it.
    assert keras.layers.Dense(2)(np.ones((1, 3), np.uint8)).dtype is tf.float32
    probe = DtypeProbe()
    probe(np.ones((1, 3), np.int64))
    assert probe.seen is tf.int64  # `_convert_input_args = False`: arrays kept as they are.


@pytest.mark.parametrize("value", [np.ones((2, 4), np.int64), np.ones((2, 4)),
                                   tf.ones((2, 4))], ids=["int64", "float64", "float32-tensor"])
def test_functional_converts_to_an_int32_input(value):
    inputs = keras.Input((4,), dtype="int32")
    probe = DtypeProbe()
    model = keras.Model(inputs, probe(inputs))
    assert model(value).dtype is tf.int32 and probe.seen is tf.int32


def test_functional_text_to_a_float_input_names_model_and_input():
    inputs = keras.Input((2,), name="numbers")
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match=r"input 'numbers' expects float32 values, but it "
                                         r"received strings"):
        model(np.array([["a", "b"]]))


def test_functional_casts_uint8_images_to_its_float_input():
    inputs = keras.Input((4,))
    probe = DtypeProbe()
    model = keras.Model(inputs, probe(inputs))
    assert model(np.ones((1, 4), np.uint8)).dtype is tf.float32


# -- 4. set_random_seed and the keras.preprocessing aliases ----------------------------------

def _draws():
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    return (random.random(), np.random.rand(), tf.random.uniform([2]).numpy().tolist(),
            layer.kernel.numpy().tolist())


def test_set_random_seed_repeats_python_numpy_and_numpyflow_draws():
    keras.utils.set_random_seed(1234)
    first = _draws()
    keras.utils.set_random_seed(1234)
    assert _draws() == first
    keras.utils.set_random_seed(4321)
    assert all(a != b for a, b in zip(_draws(), first))


@pytest.mark.parametrize("seed", [1.5, "3", None, True])
def test_set_random_seed_refuses_non_integers(seed):
    with pytest.raises(ValueError, match=r"Expected `seed` argument to be an integer\. "
                                         r"Received: seed="):
        keras.utils.set_random_seed(seed)


def test_preprocessing_aliases_are_the_utils_functions():
    pre = keras.preprocessing
    assert pre.sequence.pad_sequences is keras.utils.pad_sequences
    assert pre.text_dataset_from_directory is keras.utils.text_dataset_from_directory
    assert pre.image_dataset_from_directory is keras.utils.image_dataset_from_directory
    assert pre.timeseries_dataset_from_array is keras.utils.timeseries_dataset_from_array
    assert pre.image.img_to_array is keras.utils.img_to_array
    np.testing.assert_array_equal(pre.sequence.pad_sequences([[1, 2], [3]], padding="post"),
                                  [[1, 2], [3, 0]])
