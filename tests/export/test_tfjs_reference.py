"""Our TF.js export against the real `tensorflowjs` 4.22 converter (tests/fixtures/tfjs/).

The fixtures were written by `tensorflowjs.converters.save_keras_model` from tf.keras 2.15
models (tests/fixtures/make_tfjs_reference.py). Here the same models are built in numpyflow,
given the fixture's weights, and exported: the weight manifest and shard bytes must be
identical, the layer configs equal up to the listed, explained differences, and both
exports must predict what tf.keras predicted, in Node's tfjs.
"""

import json
import os

import numpy as np
import pytest

import numpyflow as tf
from tests.export.tfjs_runtime import predict_in_node

keras = tf.keras
layers = keras.layers
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "fixtures", "tfjs")

# The one key tf.keras 2.15 writes that we do not: an Embedding called on an `Input` got a
# `batch_input_shape` of its own (unused by tfjs, as the layer is not the model's first).
KERAS2_ONLY_KEYS = {"Embedding": {"batch_input_shape"}}


def seed_mlp():
    return keras.Sequential([
        keras.Input((6, 6), name="pixels"),
        layers.Flatten(name="flatten"),
        layers.Dense(16, activation="relu", name="hidden"),
        layers.Dropout(0.2, name="dropout"),
        layers.Dense(10, activation="softmax", name="probabilities"),
    ], name="seed_mlp")


def functional_cnn():
    image = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(image)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    a = layers.MaxPooling2D(2, name="max_pool")(x)
    b = layers.AveragePooling2D(2, name="avg_pool")(x)
    x = layers.Concatenate(name="concat")([a, b])
    x = layers.Add(name="add")([x, layers.DepthwiseConv2D(3, padding="same", name="dw")(x)])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="drop")(x)
    out = layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(image, out, name="functional_cnn")


def text_rnn():
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 4, mask_zero=True, name="embed")(tokens)
    x = layers.LSTM(5, return_sequences=True, name="lstm")(x)
    x = layers.Bidirectional(layers.GRU(3, reset_after=False, name="gru"), name="bidi")(x)
    out = layers.Dense(2, name="out")(x)
    return keras.Model(tokens, out, name="text_rnn")


BUILDERS = {"seed_mlp": seed_mlp, "functional_cnn": functional_cnn, "text_rnn": text_rnn}


def _strip_nested(value):
    """Without `module`/`registered_name` (tf.keras 2.15 writes them in nested objects; tfjs
    ignores them) and with tuples as lists."""
    if isinstance(value, dict):
        return {k: _strip_nested(v) for k, v in value.items()
                if k not in ("module", "registered_name")}
    if isinstance(value, (list, tuple)):
        return [_strip_nested(v) for v in value]
    return value


def _load_reference(name):
    directory = os.path.join(FIXTURES, name)
    with open(os.path.join(directory, "model.json")) as file:
        document = json.load(file)
    data = np.fromfile(os.path.join(directory, "group1-shard1of1.bin"), dtype="<f4")
    weights, offset = {}, 0
    for spec in document["weightsManifest"][0]["weights"]:
        size = int(np.prod(spec["shape"]))
        weights[spec["name"]] = data[offset:offset + size].reshape(spec["shape"])
        offset += size
    assert offset == data.size
    return document, weights, np.load(os.path.join(directory, "predict.npz"))


def _with_reference_weights(model, weights):
    from numpyflow.export.tfjs import _layer_weight_names
    for layer in model.layers:
        for name, variable in zip(_layer_weight_names(layer), layer.weights):
            variable.assign(weights[name])
    return model


def _compare_layer(reference, ours):
    assert reference["class_name"] == ours["class_name"]
    assert reference.get("inbound_nodes") == ours.get("inbound_nodes")
    theirs, mine = reference["config"], ours["config"]
    only_theirs = set(theirs) - set(mine) - KERAS2_ONLY_KEYS.get(reference["class_name"], set())
    only_mine = set(mine) - set(theirs)
    assert not only_theirs and not only_mine, (reference["class_name"], only_theirs, only_mine)
    for key in set(theirs) & set(mine):
        if key == "layer":
            _compare_layer(theirs[key], mine[key])
        else:
            assert theirs[key] == mine[key], (mine.get("name"), key, theirs[key], mine[key])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_export_matches_the_tensorflowjs_converter(name, tmp_path):
    document, weights, predict = _load_reference(name)
    model = _with_reference_weights(BUILDERS[name](), weights)
    np.testing.assert_allclose(model.predict(predict["x"], verbose=0), predict["y"], atol=1e-5)
    out = tmp_path / "ours"
    model.export(out, format="tfjs", verbose=False)
    ours = json.loads((out / "model.json").read_text())

    assert list(ours) == list(document)
    assert ours["format"] == document["format"] == "layers-model"
    assert {k: v for k, v in ours["modelTopology"].items() if k != "model_config"} == \
        {k: v for k, v in document["modelTopology"].items() if k != "model_config"}
    assert ours["weightsManifest"] == document["weightsManifest"]
    assert (out / "group1-shard1of1.bin").read_bytes() == \
        open(os.path.join(FIXTURES, name, "group1-shard1of1.bin"), "rb").read()

    reference_config = _strip_nested(document["modelTopology"]["model_config"])
    our_config = _strip_nested(ours["modelTopology"]["model_config"])
    assert reference_config["class_name"] == our_config["class_name"]
    theirs, mine = reference_config["config"], our_config["config"]
    assert set(theirs) == set(mine)
    for key in set(theirs) - {"layers"}:
        assert theirs[key] == mine[key], key
    assert len(theirs["layers"]) == len(mine["layers"])
    for reference_layer, our_layer in zip(theirs["layers"], mine["layers"]):
        _compare_layer(reference_layer, our_layer)

    for directory in (out, os.path.join(FIXTURES, name)):
        got, _ = predict_in_node(directory, [predict["x"]], tmp_path)
        assert np.max(np.abs(got[0] - predict["y"])) <= 1e-5
