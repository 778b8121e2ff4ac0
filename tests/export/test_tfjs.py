"""model.export(format="tfjs"): the files tfjs reads, checked by running them in Node's tfjs.

Each model gets random weights (BatchNormalization's moving statistics too, so inference-mode
normalization is checked), is exported, loaded by `tf.loadLayersModel` in @tensorflow/tfjs
4.x (pure-JS CPU backend), and must predict what `model.predict` does (max abs diff <= 1e-5).
"""

import json
import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.export.tfjs_config import UnsupportedTfjsLayerError
from tests.export.tfjs_runtime import predict_in_node

keras = tf.keras
layers = keras.layers
TOLERANCE = 1e-5


def _randomize(model, seed=0):
    """Random weights; variances positive so BatchNormalization stays well defined."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.name:
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0.0, 0.4, shape)
        variable.assign(value.astype(np.float32))
    return model


def _check_in_tfjs(model, inputs, tmp_path, **export_kwargs):
    out = tmp_path / "web_model"
    model.export(out, format="tfjs", verbose=False, **export_kwargs)
    expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got, weight_names = predict_in_node(out, inputs, tmp_path)
    assert len(got) == len(expected)
    for ours, theirs in zip(expected, got):
        ours = np.asarray(ours)
        assert theirs.shape == ours.shape
        assert np.max(np.abs(theirs - ours)) <= TOLERANCE, np.max(np.abs(theirs - ours))
    manifest = json.loads((out / "model.json").read_text())["weightsManifest"]
    assert sorted(_as_tfjs_resolves(w["name"], weight_names)
                  for w in manifest[0]["weights"]) == sorted(weight_names)
    return out


def _as_tfjs_resolves(name, tfjs_names):
    """tfjs's loadWeights: a name it does not know loses its next-to-last part (the cell
    scope tf.keras 2.x wrote: `lstm/lstm_cell/kernel` -> `lstm/kernel`)."""
    if name in tfjs_names:
        return name
    parts = name.split("/")
    return "/".join(parts[:-2] + parts[-1:])


def seed_mlp():
    """The seed tutorial's model, built by running it on data as fit() would."""
    model = keras.models.Sequential()
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.predict(np.zeros((1, 28, 28), np.float32), verbose=0)
    return _randomize(model)


def lenet5():
    return _randomize(keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Rescaling(1 / 255.0),
        layers.Conv2D(6, 5, padding="same", activation="tanh"),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="tanh"),
        layers.MaxPooling2D(2, strides=2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ]), seed=1)


def functional_cnn():
    image = keras.Input((12, 12, 3), name="image")
    extra = keras.Input((5,), name="extra")
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(image)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    a = layers.SeparableConv2D(8, 3, padding="same", activation="relu")(x)
    b = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Add()([a, b])
    c = layers.Conv2D(4, 1)(x)
    d = layers.ZeroPadding2D(1)(layers.Conv2D(4, 3)(x))
    x = layers.Concatenate()([c, d, layers.Multiply()([c, d])])
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2DTranspose(6, 3, strides=2, padding="same")(x)
    x = layers.UpSampling2D(2)(layers.AveragePooling2D(2)(x))
    x = layers.Dropout(0.5)(x)
    x = layers.LayerNormalization()(x)
    pooled = layers.Maximum()([layers.GlobalAveragePooling2D()(x),
                               layers.GlobalMaxPooling2D()(x)])
    e = layers.Dense(6, activation="elu")(extra)
    e = layers.Average()([e, layers.Dense(6, activation="sigmoid")(extra)])
    joined = layers.Concatenate()([pooled, e])
    joined = layers.BatchNormalization()(joined)
    logits = layers.Dense(4, name="logits")(joined)
    probabilities = layers.Softmax(name="probabilities")(logits)
    score = layers.Activation("tanh", name="score")(layers.Dense(1)(joined))
    return _randomize(keras.Model([image, extra], [probabilities, score]), seed=2)


def text_model():
    tokens = keras.Input((7,), dtype="int32", name="tokens")
    x = layers.Embedding(50, 8, mask_zero=True)(tokens)
    x = layers.LSTM(6, return_sequences=True)(x)
    x = layers.Bidirectional(layers.GRU(5, return_sequences=True, reset_after=False))(x)
    x = layers.TimeDistributed(layers.Dense(4, activation="relu"))(x)
    x = layers.SimpleRNN(3)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return _randomize(keras.Model(tokens, outputs), seed=3)


def conv1d_model():
    return _randomize(keras.Sequential([
        keras.Input((16, 3)),
        layers.Conv1D(4, 3, padding="same", activation="relu"),
        layers.MaxPooling1D(2),
        layers.Conv1D(5, 3, padding="same", dilation_rate=2),
        layers.LeakyReLU(negative_slope=0.2),
        layers.AveragePooling1D(2),
        layers.Permute((2, 1)),
        layers.Reshape((20,)),
        layers.RepeatVector(2),
        layers.GlobalMaxPooling1D(),
        layers.Dense(3, activation="swish"),
    ]), seed=4)


def misc_model():
    """The remaining supported layers, several outputs of one layer, regularizers and
    constraints (converted to tfjs's L1L2/MaxNorm)."""
    x = keras.Input((6, 6, 2), name="grid")
    y = layers.Cropping2D(((1, 0), (0, 1)))(x)
    y = layers.GaussianNoise(0.3)(layers.ELU()(y))
    y = layers.Reshape((5, 10))(y)
    # (tfjs 4.22 cannot concatenate a masked LSTM's states: its Concatenate mixes the
    # sequence mask into them, so the masked branch is kept apart.)
    masked = layers.Masking(mask_value=0.0)(y)
    both = layers.Bidirectional(layers.SimpleRNN(2), merge_mode="sum")(masked)
    seq, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(
        layers.SpatialDropout1D(0.2)(y))
    states = layers.Minimum()([h, c])
    dot = layers.Dot(axes=1, normalize=True)([h, c])
    dense = layers.Dense(4, kernel_regularizer="l2", bias_regularizer=keras.regularizers.l1(0.1),
                         kernel_constraint=keras.constraints.MaxNorm(2.0),
                         activation="hard_sigmoid")
    z = layers.Concatenate()([both, states, dot, layers.AlphaDropout(0.1)(h)])
    z = layers.GaussianDropout(0.2)(dense(z))
    return _randomize(keras.Model(x, [z, layers.Activation("selu")(seq)]), seed=5)


def test_seed_mlp_runs_in_tfjs(tmp_path):
    x = np.random.default_rng(10).uniform(0, 1, (4, 28, 28)).astype(np.float32)
    _check_in_tfjs(seed_mlp(), [x], tmp_path)


def test_lenet5_runs_in_tfjs(tmp_path):
    x = np.random.default_rng(11).uniform(0, 255, (3, 28, 28, 1)).astype(np.float32)
    _check_in_tfjs(lenet5(), [x], tmp_path)


def test_functional_cnn_with_batchnorm_dropout_merges_runs_in_tfjs(tmp_path):
    rng = np.random.default_rng(12)
    inputs = [rng.normal(size=(3, 12, 12, 3)).astype(np.float32),
              rng.normal(size=(3, 5)).astype(np.float32)]
    _check_in_tfjs(functional_cnn(), inputs, tmp_path)


def test_embedding_lstm_text_model_runs_in_tfjs(tmp_path):
    rng = np.random.default_rng(13)
    tokens = rng.integers(1, 50, (4, 7)).astype(np.int32)
    tokens[0, 4:] = 0  # Padding: masked by mask_zero, in numpyflow and in tfjs.
    tokens[2, 2:] = 0
    _check_in_tfjs(text_model(), [tokens], tmp_path)


def test_conv1d_pooling_reshape_model_runs_in_tfjs(tmp_path):
    x = np.random.default_rng(14).normal(size=(2, 16, 3)).astype(np.float32)
    _check_in_tfjs(conv1d_model(), [x], tmp_path)


def test_merges_wrappers_noise_layers_and_layer_states_run_in_tfjs(tmp_path):
    x = np.random.default_rng(17).normal(size=(3, 6, 6, 2)).astype(np.float32)
    x[0, 3:] = 0.0  # Rows 3-5: whole timesteps (after cropping) that Masking masks.
    out = _check_in_tfjs(misc_model(), [x], tmp_path)
    config = json.loads((out / "model.json").read_text())["modelTopology"]["model_config"]
    dense = next(e for e in config["config"]["layers"] if e["class_name"] == "Dense")
    assert dense["config"]["kernel_regularizer"] == {"class_name": "L1L2",
                                                     "config": {"l1": 0.0, "l2": 0.01}}
    assert dense["config"]["kernel_constraint"]["class_name"] == "MaxNorm"


def test_dict_inputs_and_outputs_become_lists_in_model_order(tmp_path):
    a, b = keras.Input((3,), name="a", dtype="int64"), keras.Input((2,), name="b")
    model = keras.Model({"zb": b, "ya": a},
                        {"o2": layers.Dense(1)(a), "o1": layers.Dense(2)(b)})
    _randomize(model, seed=6)
    rng = np.random.default_rng(18)
    xa, xb = rng.integers(0, 5, (4, 3)).astype(np.int64), rng.normal(size=(4, 2))
    xb = xb.astype(np.float32)
    out = tmp_path / "web"
    model.export(out, format="tfjs", verbose=False)
    expected = model.predict({"ya": xa, "zb": xb}, verbose=0)
    got, _ = predict_in_node(out, [xa.astype(np.int32), xb], tmp_path)
    for key, theirs in zip(sorted(expected), got):
        assert np.max(np.abs(np.asarray(expected[key]) - theirs)) <= TOLERANCE
    config = json.loads((out / "model.json").read_text())["modelTopology"]["model_config"]
    entries = {entry["name"]: entry for entry in config["config"]["layers"]}
    assert entries["a"]["config"]["dtype"] == "int32"  # int64 narrowed, as tfjs has no int64
    assert config["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]


def test_nested_models_are_refused_for_now(tmp_path):
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(2)], name="inner")
    x = keras.Input((3,))
    with pytest.raises(UnsupportedTfjsLayerError, match=r"'inner' \(Sequential\).*nested"):
        keras.Model(x, inner(x)).export(tmp_path / "w", format="tfjs")


def test_weights_are_split_into_shards_tfjs_reads_back(tmp_path):
    model = lenet5()
    x = np.random.default_rng(15).uniform(0, 255, (2, 28, 28, 1)).astype(np.float32)
    out = _check_in_tfjs(model, [x], tmp_path, weight_shard_size_bytes=100_000)
    manifest = json.loads((out / "model.json").read_text())["weightsManifest"]
    total = 4 * sum(int(np.prod(w.shape)) for w in model.weights)
    count = -(-total // 100_000)
    assert manifest[0]["paths"] == [f"group1-shard{i}of{count}.bin" for i in range(1, count + 1)]
    sizes = [os.path.getsize(out / p) for p in manifest[0]["paths"]]
    assert sizes[:-1] == [100_000] * (count - 1) and sum(sizes) == total


def test_model_json_has_the_converter_layout(tmp_path):
    model = keras.Sequential([keras.Input((4,), name="x"),
                              layers.Dense(3, activation="relu", name="hidden"),
                              layers.Dense(2, name="out")])
    _randomize(model)
    model.export(tmp_path / "m", format="tfjs", verbose=False)
    assert sorted(os.listdir(tmp_path / "m")) == ["group1-shard1of1.bin", "model.json"]
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert list(doc) == ["format", "generatedBy", "convertedBy", "modelTopology",
                         "weightsManifest"]
    assert doc["format"] == "layers-model"
    topology = doc["modelTopology"]
    assert topology["keras_version"].startswith("2.") and topology["backend"] == "tensorflow"
    config = topology["model_config"]
    assert config["class_name"] == "Sequential"
    first = config["config"]["layers"][0]
    assert first == {"class_name": "InputLayer",
                     "config": {"dtype": "float32", "sparse": False, "name": "x",
                                "batch_input_shape": [None, 4], "ragged": False}}
    hidden = config["config"]["layers"][1]["config"]
    assert hidden["dtype"] == "float32"
    assert hidden["kernel_initializer"] == {"class_name": "GlorotUniform",
                                            "config": {"seed": None}}
    assert "module" not in json.dumps(config)
    assert doc["weightsManifest"] == [{"paths": ["group1-shard1of1.bin"], "weights": [
        {"name": "hidden/kernel", "shape": [4, 3], "dtype": "float32"},
        {"name": "hidden/bias", "shape": [3], "dtype": "float32"},
        {"name": "out/kernel", "shape": [3, 2], "dtype": "float32"},
        {"name": "out/bias", "shape": [2], "dtype": "float32"}]}]
    data = np.fromfile(tmp_path / "m" / "group1-shard1of1.bin", dtype="<f4")
    expected = np.concatenate([np.asarray(w.numpy()).ravel() for w in model.weights])
    np.testing.assert_array_equal(data, expected)


def test_functional_nodes_are_keras2_lists():
    from numpyflow.export.tfjs_config import tfjs_model_config
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    total = layers.Add(name="total")([layers.Dense(3, name="da")(a), b])
    act = layers.ReLU(name="act")(total)
    config = tfjs_model_config(keras.Model([a, b], [act, total], name="two"))
    assert config["class_name"] == "Functional"
    entries = {entry["name"]: entry for entry in config["config"]["layers"]}
    assert entries["total"]["inbound_nodes"] == [[["da", 0, 0, {}], ["b", 0, 0, {}]]]
    assert entries["a"]["inbound_nodes"] == []
    assert config["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["config"]["output_layers"] == [["act", 0, 0], ["total", 0, 0]]
    assert entries["act"]["class_name"] == "ReLU"


def test_export_replaces_a_previous_export_and_refuses_other_directories(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    out = tmp_path / "web"
    model.export(out, format="tfjs", verbose=False, weight_shard_size_bytes=8)
    assert len(os.listdir(out)) == 1 + 4  # model.json + 32 bytes in 8-byte shards
    model.export(out, format="tfjs", verbose=False)
    assert sorted(os.listdir(out)) == ["group1-shard1of1.bin", "model.json"]
    assert [p for p in os.listdir(tmp_path) if p != "web"] == []  # no staging left behind
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not empty and holds no previous export"):
        model.export(other, format="tfjs", verbose=False)
    assert os.listdir(other) == ["cat.jpg"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        model.export(tmp_path / "file", format="tfjs", verbose=False)


def test_export_prints_where_the_artifact_went(tmp_path, capsys):
    keras.Sequential([keras.Input((3,)), layers.Dense(2)]).export(tmp_path / "w", format="tfjs")
    assert f"Saved artifact at '{tmp_path / 'w'}'" in capsys.readouterr().out


# -- bad input --------------------------------------------------------------------------------

def test_unbuilt_model_is_refused(tmp_path):
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="has not been built yet"):
        model.export(tmp_path / "w", format="tfjs")
    assert not (tmp_path / "w").exists()


def test_lambda_layer_is_refused_naming_it(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda x: x * 2, name="double"),
                              layers.Dense(2)])
    with pytest.raises(UnsupportedTfjsLayerError,
                       match=r"layer 'double' \(Lambda\).*tfjs-layers 4.x has no Lambda"):
        model.export(tmp_path / "w", format="tfjs")
    assert os.listdir(tmp_path) == []


def test_op_and_augmentation_layers_are_refused(tmp_path):
    x = keras.Input((4, 4, 3))
    y = layers.RandomFlip(name="flip")(x)
    with pytest.raises(UnsupportedTfjsLayerError, match=r"'flip' \(RandomFlip\)"):
        keras.Model(x, y).export(tmp_path / "w", format="tfjs")
    x = keras.Input((3,))
    y = layers.Dense(2)(tf.exp(x))
    with pytest.raises(UnsupportedTfjsLayerError, match="Cannot export layer"):
        keras.Model(x, y).export(tmp_path / "w", format="tfjs")


@pytest.mark.parametrize("layer, message", [
    (lambda: layers.GRU(2, name="g"),
     r"layer 'g' \(GRU\) to TensorFlow.js: argument `reset_after`.*Received: reset_after=True"),
    (lambda: layers.Dense(2, activation="exponential"),
     r"argument `activation`.*Received: activation='exponential'"),
    (lambda: layers.Conv1D(4, 1, groups=2), r"argument `groups`.*Received: groups=2"),
    (lambda: layers.Conv1D(4, 3, padding="causal"), r"Received: padding='causal'"),
    (lambda: layers.Subtract(), r"tfjs-layers 4.x has no Subtract"),
    (lambda: layers.ELU(alpha=0.5), r"Received: alpha=0.5"),
    (lambda: layers.ReLU(negative_slope=0.1), r"Received: negative_slope=0.1"),
])
def test_arguments_tfjs_cannot_honour_are_refused(tmp_path, layer, message):
    layer = layer()
    if isinstance(layer, layers.Subtract):
        a, b = keras.Input((2,)), keras.Input((2,))
        model = keras.Model([a, b], layer([a, b]))
    else:
        model = keras.Sequential([keras.Input((5, 4)), layer])
    with pytest.raises(UnsupportedTfjsLayerError, match=message):
        model.export(tmp_path / "w", format="tfjs")


def test_subclassed_model_is_refused_by_the_layers_format(tmp_path):
    class Twice(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x) * 2

    model = Twice()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(UnsupportedTfjsLayerError, match="only Sequential and functional"):
        model.export(tmp_path / "w", format="tfjs", output_format="tfjs_layers_model")


def test_wrong_format_names_the_valid_ones(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Unrecognized format='tfjs2'.*'tfjs', 'litert', "
                                         r"'tflite', 'onnx'"):
        model.export(tmp_path / "w", format="tfjs2")


def test_keras_default_format_and_unknown_options_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(NotImplementedError, match="openvino"):
        model.export(tmp_path / "w", format="openvino")
    with pytest.raises(NotImplementedError, match="input_signature"):
        model.export(tmp_path / "w", format="tfjs", output_format="tfjs_layers_model",
                     input_signature=[tf.TensorSpec([None, 3])])
    with pytest.raises(TypeError, match="flat list of tf.TensorSpec"):
        model.export(tmp_path / "w", format="tfjs", input_signature=[None])
    with pytest.raises(TypeError, match="quantization_dtype_map"):
        model.export(tmp_path / "w", format="tfjs", quantization_dtype_map={})
    with pytest.raises(ValueError, match="weight_shard_size_bytes=0"):
        model.export(tmp_path / "w", format="tfjs", weight_shard_size_bytes=0)
    with pytest.raises(ValueError, match="weight_shard_size_bytes=True"):  # a bool is no size
        model.export(tmp_path / "w", format="tfjs", weight_shard_size_bytes=True)
    assert os.listdir(tmp_path) == []
    # Keras 3's default format writes a SavedModel (tests/export/test_saved_model.py).
    model.export(tmp_path / "served", verbose=False)
    assert (tmp_path / "served" / "saved_model.pb").is_file()


# -- command line -----------------------------------------------------------------------------

def test_command_line_exports_a_saved_model(tmp_path):
    import subprocess
    import sys
    model = functional_cnn()
    model.save(tmp_path / "model.keras")
    result = subprocess.run([sys.executable, "-m", "numpyflow.export",
                             str(tmp_path / "model.keras"), "--format", "tfjs",
                             str(tmp_path / "web")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Saved artifact at" in result.stdout
    rng = np.random.default_rng(16)
    inputs = [rng.normal(size=(2, 12, 12, 3)).astype(np.float32),
              rng.normal(size=(2, 5)).astype(np.float32)]
    got, _ = predict_in_node(tmp_path / "web", inputs, tmp_path)
    expected = model.predict(inputs, verbose=0)
    for ours, theirs in zip(expected, got):
        assert np.max(np.abs(np.asarray(ours) - theirs)) <= TOLERANCE


def test_command_line_reports_errors(tmp_path):
    import subprocess
    import sys
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "model.keras")
    result = subprocess.run([sys.executable, "-m", "numpyflow.export",
                             str(tmp_path / "missing.keras"), "--format", "tfjs",
                             str(tmp_path / "web")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and "error:" in result.stderr and "missing.keras" in result.stderr
    assert not (tmp_path / "web").exists()
    result = subprocess.run([sys.executable, "-m", "numpyflow.export",
                             str(tmp_path / "model.keras"), "--format", "pdf", "x"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "invalid choice: 'pdf'" in result.stderr


def test_metadata_is_stored_as_user_defined_metadata(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "w", format="tfjs", verbose=False,
                 metadata={"labels": ["cat", "dog"]})
    doc = json.loads((tmp_path / "w" / "model.json").read_text())
    assert doc["userDefinedMetadata"] == {"labels": ["cat", "dog"]}
    assert list(doc)[3:] == ["userDefinedMetadata", "modelTopology", "weightsManifest"]
    with pytest.raises(ValueError, match="`metadata` must be a dict"):
        model.export(tmp_path / "v", format="tfjs", metadata=["cat"])
