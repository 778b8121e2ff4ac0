"""TF.js graph models (save_tfjs_graph_model): run in Node's @tensorflow/tfjs with
tf.loadGraphModel and compared with numpyflow, and checked against a file the real
tensorflowjs converter wrote (tests/fixtures/tfjs_graph, make_tfjs_graph_reference.py)."""

import doctest
import importlib
import json
import os
import pkgutil

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.export import tfjs_graph, tfjs_graph_rnn, tfjs_graph_rules
from numpyflow.export.tfjs_graph import save_tfjs_graph_model
from tests.export import export_models
from tests.export.tfjs_runtime import predict_in_node

layers = tf.keras.layers
FIXTURE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "tfjs_graph",
                       "small_cnn")
TOLERANCE = 1e-5


def _model_json(path):
    with open(os.path.join(path, "model.json"), encoding="utf-8") as file:
        return json.load(file)


def _run_in_tfjs(path, inputs, tmp_path):
    """The graph model at `path` run by tf.loadGraphModel, inputs fed by signature name."""
    names = list(_model_json(path)["signature"]["inputs"])
    return predict_in_node(path, inputs, tmp_path, input_names=names)


def _as_list(outputs):
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def _max_diffs(got, expected):
    assert [g.shape for g in got] == [e.shape for e in expected]
    return [float(np.max(np.abs(g - e))) for g, e in zip(got, expected)]


# -- models run in TF.js -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(export_models.MODELS))
def test_models_run_in_tfjs_as_predict_does_at_batch_1_and_3(name, tmp_path):
    model = export_models.MODELS[name][0]()
    path = tmp_path / name
    # A small shard size splits the weights over several files (LeNet-5 holds ~250 kB).
    save_tfjs_graph_model(model, path, weight_shard_size_bytes=64 * 1024)
    written = _model_json(path)
    assert written["format"] == "graph-model"
    placeholders = [n for n in written["modelTopology"]["node"] if n["op"] == "Placeholder"]
    assert [n["name"] for n in placeholders] == list(written["signature"]["inputs"])
    assert all(n["attr"]["shape"]["shape"]["dim"][0] == {"size": "-1"} for n in placeholders)
    if name == "lenet5":
        assert len(written["weightsManifest"][0]["paths"]) > 1
    for batch in (1, 3):
        inputs = export_models.sample_inputs(name, batch=batch, seed=batch)
        expected = _as_list(model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0))
        got, output_names = _run_in_tfjs(path, inputs, tmp_path)
        assert output_names == list(written["signature"]["outputs"])
        assert max(_max_diffs(got, expected)) <= TOLERANCE, (name, batch)


def test_the_functional_cnn_keeps_its_layers_ops_and_a_dynamic_transposed_convolution(tmp_path):
    model = export_models.functional_cnn()
    save_tfjs_graph_model(model, tmp_path / "cnn")
    written = _model_json(tmp_path / "cnn")
    ops = {node["op"] for node in written["modelTopology"]["node"]}
    assert {"Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "ResizeBilinear",
            "ResizeNearestNeighbor", "Pad", "ConcatV2", "Mean", "MaxPool", "AvgPool", "Elu",
            "Relu6"} <= ops
    # BatchNormalization is folded into constants: no Rsqrt, no moving statistics left.
    assert "Rsqrt" not in ops and "FusedBatchNormV3" not in ops
    assert list(written["signature"]["inputs"]) == ["image", "extra"]
    assert list(written["signature"]["outputs"]) == ["probabilities", "score"]
    # Conv2DBackpropInput's output size follows the batch: Shape(dy)[0:1] + (12, 12, 6).
    nodes = {node["name"]: node for node in written["modelTopology"]["node"]}
    transpose = next(n for n in nodes.values() if n["op"] == "Conv2DBackpropInput")
    assert transpose["attr"]["padding"] == {"s": "U0FNRQ=="}  # base64("SAME")
    assert nodes[transpose["input"][0]]["op"] == "ConcatV2"


def test_a_tf_function_with_an_input_signature_runs_in_tfjs(tmp_path):
    rng = np.random.default_rng(0)
    w = tf.Variable(rng.normal(size=(6, 5)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32, name="features")])
    def scores(x):
        h = tf.nn.gelu(tf.matmul(x, w))
        h = tf.concat([h[:, 1:3], tf.reduce_max(h, axis=1, keepdims=True),
                       tf.nn.leaky_relu(h[:, :2], 0.1)], axis=1)
        h = tf.clip_by_value(h, -2.0, 2.0) + tf.reduce_mean(tf.square(h))
        column = tf.reduce_sum(tf.transpose(tf.reshape(h, [-1, 1, 5]), [0, 2, 1]), axis=2)
        return [tf.nn.softmax(h, axis=0), column, tf.nn.softsign(h[0])]

    path = tmp_path / "scores"
    save_tfjs_graph_model(scores, path)
    ops = [node["op"] for node in _model_json(path)["modelTopology"]["node"]]
    assert "Erf" in ops and "StridedSlice" in ops and "Transpose" in ops
    for batch in (1, 3):
        x = rng.normal(size=(batch, 6)).astype(np.float32)
        expected = _as_list(scores(x))
        got, names = _run_in_tfjs(path, [x], tmp_path)
        assert names == ["output_0", "output_1", "output_2"]
        assert max(_max_diffs(got, expected)) <= TOLERANCE, batch


def test_repeated_output_names_are_the_export_graphs_distinct_names(tmp_path):
    # An output that is the input itself and one layer's output returned twice: the signature
    # keys are trace_for_export's distinct names, each an Identity of its own.
    inputs = tf.keras.Input((4,), name="d")
    dense = layers.Dense(3, name="d")(inputs)
    model = tf.keras.Model(inputs, [inputs, dense, dense])
    path = tmp_path / "repeated"
    save_tfjs_graph_model(model, path)
    signature = _model_json(path)["signature"]
    assert list(signature["inputs"]) == ["d"]
    assert list(signature["outputs"]) == ["d_1", "d_2", "d_3"]
    assert [o["name"] for o in signature["outputs"].values()] == \
        ["Identity:0", "Identity_1:0", "Identity_2:0"]
    x = np.random.default_rng(6).normal(size=(2, 4)).astype(np.float32)
    got, names = _run_in_tfjs(path, [x], tmp_path)
    assert names == ["d_1", "d_2", "d_3"]
    assert max(_max_diffs(got, _as_list(model.predict(x, verbose=0)))) <= TOLERANCE


def _elementwise_function():
    """Every elementwise rule, each result a (batch, 4) block of one concatenated output."""
    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def elementwise(x):
        p = tf.abs(x) + 0.5
        blocks = [
            tf.exp(x), tf.math.expm1(x), tf.math.log(p), tf.math.log1p(p), tf.math.floor(x),
            tf.round(x * 3.0), tf.math.rsqrt(p), tf.sqrt(p), tf.square(x), tf.sign(x),
            tf.negative(x), tf.math.reciprocal(p), tf.nn.elu(x), tf.nn.selu(x),
            tf.nn.softplus(x), tf.nn.relu6(x * 8.0), tf.nn.relu(x), tf.sigmoid(x), tf.tanh(x),
            tf.math.erf(x), tf.nn.gelu(x, approximate=True), tf.nn.gelu(x),
            tf.nn.softsign(x), tf.maximum(x, 0.1), tf.minimum(x, 0.1), tf.pow(p, 1.5),
            tf.math.squared_difference(x, 0.3), tf.math.floordiv(x * 4.0, 3.0),
            tf.math.floormod(x * 4.0, 3.0), tf.math.divide_no_nan(x, tf.maximum(x, 0.0)),
            x / p, x - p, tf.where(x > 0.0, x, 2.0 * x),
            tf.cast(tf.logical_and(x > -0.5, x <= 0.5), tf.float32),
            tf.cast(tf.logical_or(tf.equal(x, 0.0), tf.not_equal(x, x)), tf.float32),
            tf.cast(tf.logical_not(x < 0.2), tf.float32), tf.cast(x >= 0.1, tf.float32),
            tf.nn.log_softmax(x), tf.identity(x), tf.stop_gradient(x),
            tf.nn.leaky_relu(x, 0.3), tf.clip_by_value(x, -0.5, 0.5)]
        return tf.concat(blocks, axis=1)
    return elementwise


def _structural_function():
    """Reductions, arg-max/min, gathers, one-hot, cumsum, pads, tiles, batched matmul, einsum."""
    rng = np.random.default_rng(4)
    w = tf.constant(rng.normal(size=(4, 2)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 3, 4], tf.float32, name="x")])
    def structural(x):
        columns = [tf.reduce_sum(x, axis=[1, 2]), tf.reduce_max(x, axis=1)[:, 0],
                   tf.reduce_min(x, axis=2)[:, 1], tf.reduce_prod(x[:, :, :2] + 1.0, axis=[1, 2]),
                   tf.cast(tf.reduce_all(x > -1.0, axis=[1, 2]), tf.float32),
                   tf.cast(tf.reduce_any(x > 1.0, axis=[1, 2]), tf.float32),
                   tf.cast(tf.argmax(x[:, 0], axis=1), tf.float32),
                   tf.cast(tf.argmin(x[:, :, 0], axis=-1), tf.float32),
                   x[:, -1, -1], x[:, 1, ::-2][:, 0]]
        batched = tf.matmul(x, tf.tile(w[None], [1, 1, 1]) + tf.zeros((1, 4, 2)))
        return [tf.stack(columns, axis=1), batched, tf.einsum("bij,jk->bik", x, w),
                tf.gather(x, [2, 0], axis=1),
                tf.one_hot(tf.cast(tf.argmax(x[:, 0], axis=1), tf.int32), 4),
                tf.cumsum(x, axis=2, exclusive=True, reverse=True),
                tf.pad(x, [[0, 0], [1, 0], [0, 2]]),
                tf.pad(x, [[0, 0], [1, 1], [2, 1]], mode="REFLECT"),
                tf.tile(x[:, :1], [1, 2, 1]), tf.expand_dims(x, 1)[..., 1:3]]
    return structural


def _indexing_function():
    """GatherNd, ScatterNd (a SparseTensor made dense), BroadcastTo, PadV2, transposed
    MatMuls, a kept-dims Mean and a Concat on axis -1."""
    w = tf.constant(np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], name="x")])
    def indexing(x):
        return [tf.gather_nd(x, [[0, 1], [0, 3]]),
                tf.sparse.to_dense(tf.sparse.SparseTensor([[1], [3]], x[0, :2], [5])),
                tf.broadcast_to(x[:1, :1], [2, 3]),
                tf.pad(x, [[0, 0], [1, 1]], constant_values=1.5),
                tf.matmul(x, w, transpose_b=True), tf.matmul(w, x, transpose_b=True),
                tf.matmul(x, x, transpose_a=True), tf.reduce_mean(x, axis=-1, keepdims=True),
                tf.concat([x, 2.0 * x], axis=-1)]
    return indexing


@pytest.mark.parametrize("make", [_elementwise_function, _structural_function,
                                  _indexing_function])
def test_each_rule_computes_what_numpyflow_does_in_tfjs(make, tmp_path):
    function = make()
    path = tmp_path / "fn"
    save_tfjs_graph_model(function, path)
    shape = tuple(function.input_signature[0].shape.as_list()[1:])
    rng = np.random.default_rng(3)
    for batch in (1, 3):
        x = rng.normal(size=(batch,) + shape).astype(np.float32)
        expected = _as_list(function(x))
        got, _ = _run_in_tfjs(path, [x], tmp_path)
        diffs = _max_diffs(got, expected)
        if make is _elementwise_function:  # Name the op of a failing block.
            per_block = np.abs(got[0] - expected[0]).reshape(batch, -1, 4).max(axis=(0, 2))
            assert np.all(per_block <= TOLERANCE), np.nonzero(per_block > TOLERANCE)
        assert max(diffs) <= TOLERANCE, (batch, diffs)


def test_a_constant_of_the_traced_batch_size_needs_a_fixed_batch(tmp_path):
    # Written as is, it would broadcast a batch of 1 to the traced batch and fail on others.
    class OnesOfTheBatch(tf.keras.Model):
        def call(self, x):
            return x + tf.ones((x.shape[0], 3))

    model = OnesOfTheBatch()
    model(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"Layer 'ones_of_the_batch' cannot be exported to "
                                         r"TensorFlow.js: operation 'AddV2': it reads .*, a "
                                         r"constant of the traced batch size .*input_signature"):
        save_tfjs_graph_model(model, tmp_path / "dynamic")
    assert not (tmp_path / "dynamic").exists()
    save_tfjs_graph_model(model, tmp_path / "fixed",
                          input_signature=[tf.TensorSpec([1, 3], tf.float32)])
    x = np.ones((1, 3), np.float32)
    got, _ = _run_in_tfjs(tmp_path / "fixed", [x], tmp_path)
    assert max(_max_diffs(got, [model(x).numpy()])) <= TOLERANCE


def test_an_integer_mean_truncates_toward_zero_as_in_tf(tmp_path):
    # TF.js's Mean of int32 returns float32 (-1/3 stays -0.333); TF's integer mean is the sum
    # divided by the count, truncated toward zero, as is numpyflow's.
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32, name="ids")])
    def means(ids):
        return [tf.reduce_mean(ids, axis=1), tf.reduce_mean(ids, axis=0, keepdims=True),
                tf.reduce_mean(ids)]

    path = tmp_path / "means"
    save_tfjs_graph_model(means, path)
    for ids in (np.array([[-3, 0, 2], [-7, -2, 5], [9, 1, 1]], np.int32),
                np.array([[-5, -5, 2]], np.int32)):
        expected = _as_list(means(ids))
        got, _ = _run_in_tfjs(path, [ids], tmp_path)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def _layers_model():
    """Layers beyond export_models': strided/dilated/separable/1D convolutions, SAME pooling
    of odd sizes, cropping, transposed VALID convolution, LayerNormalization, bilinear
    upsampling, Permute, Embedding (int input), the merge layers, RepeatVector."""
    image = tf.keras.Input((9, 10, 3), name="image")
    a = layers.Conv2D(4, 3, strides=2, padding="same")(image)
    a = layers.MaxPooling2D(2, padding="same")(a)
    b = layers.Conv2D(4, 3, dilation_rate=2, padding="same")(image)
    b = layers.SeparableConv2D(6, 3, depth_multiplier=2, padding="same")(b)
    b = layers.AveragePooling2D(3, strides=2, padding="same")(b)
    b = layers.Cropping2D(((0, 0), (0, 1)))(b)
    b = layers.Conv2DTranspose(4, 3, strides=2, padding="valid")(b)
    b = layers.UpSampling2D(2, interpolation="bilinear")(layers.LayerNormalization()(b))
    pooled = layers.Concatenate()([layers.GlobalMaxPooling2D()(a),
                                   layers.GlobalAveragePooling2D()(b)])
    sequence = tf.keras.Input((7, 3), name="sequence")
    c = layers.MaxPooling1D(2)(layers.Conv1D(5, 3, padding="causal")(sequence))
    c = layers.Reshape((-1,))(layers.Permute((2, 1))(c))
    ids = tf.keras.Input((4,), dtype="int32", name="ids")
    e = layers.Flatten()(layers.Embedding(10, 3)(ids))
    h = layers.Dense(8, activation="swish")(layers.Concatenate()([pooled, c, e]))
    g = layers.Dense(8, activation="gelu")(h)
    merged = layers.Add()([layers.Multiply()([h, g]), layers.Subtract()([h, g]),
                           layers.Average()([h, g]), layers.Maximum()([h, g]),
                           layers.Minimum()([h, g])])
    out = layers.Dense(3, activation="softmax")(merged)
    model = tf.keras.Model([image, sequence, ids], [out, layers.RepeatVector(2)(out)])
    return export_models.randomize(model, seed=5)


def test_more_layers_run_in_tfjs_as_predict_does(tmp_path):
    model = _layers_model()
    save_tfjs_graph_model(model, tmp_path / "layers")
    rng = np.random.default_rng(1)
    for batch in (1, 3):
        inputs = [rng.uniform(size=(batch, 9, 10, 3)).astype(np.float32),
                  rng.uniform(size=(batch, 7, 3)).astype(np.float32),
                  rng.integers(0, 10, (batch, 4)).astype(np.int32)]
        expected = _as_list(model.predict(inputs, verbose=0))
        got, _ = _run_in_tfjs(tmp_path / "layers", inputs, tmp_path)
        assert max(_max_diffs(got, expected)) <= TOLERANCE, batch


def _recurrent_model():
    """Masked tokens through LSTM, Bidirectional GRU, GRU (reset_after=False, backwards),
    SimpleRNN (relu) and a bias-free backwards LSTM."""
    tokens = tf.keras.Input((6,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 5, mask_zero=True)(tokens)
    a = layers.LSTM(4, return_sequences=True)(x)
    a = layers.Bidirectional(layers.GRU(3, return_sequences=True))(a)
    b = layers.GRU(3, reset_after=False, go_backwards=True)(a)
    c = layers.SimpleRNN(4, activation="relu")(x)
    d = layers.LSTM(2, go_backwards=True, use_bias=False)(x)
    out = layers.Dense(2)(layers.Concatenate()([b, c, d]))
    return export_models.randomize(tf.keras.Model(tokens, out), seed=9)


class _TextNet(tf.keras.Model):
    """A subclassed text model: Embedding, LSTM, Dense."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Embedding(20, 4)
        self.rnn = layers.LSTM(3)
        self.head = layers.Dense(2, activation="softmax")

    def call(self, tokens):
        return self.head(self.rnn(self.embed(tokens)))


def test_recurrent_layers_are_unrolled_and_run_in_tfjs(tmp_path):
    rng = np.random.default_rng(0)
    subclassed = _TextNet()
    subclassed(np.ones((1, 5), np.int32))
    export_models.randomize(subclassed, seed=4)
    # A subclassed model does not know its inputs' dtype: int32 tokens need a signature.
    token_ids = [tf.TensorSpec([None, 5], tf.int32, name="tokens")]
    for model, steps, signature in ((_recurrent_model(), 6, None),
                                    (subclassed, 5, token_ids)):
        path = tmp_path / model.name
        save_tfjs_graph_model(model, path, input_signature=signature)
        for batch in (1, 3):
            tokens = rng.integers(1, 20, (batch, steps)).astype(np.int32)
            tokens[:, 4:] = 0  # Masked (padding) steps for the mask_zero model.
            tokens[-1, 2:] = 0
            expected = _as_list(model.predict(tokens, verbose=0))
            got, _ = _run_in_tfjs(path, [tokens], tmp_path)
            assert max(_max_diffs(got, expected)) <= TOLERANCE, (model.name, batch)


def test_explicit_paddings_are_written_as_tf_does(tmp_path):
    rng = np.random.default_rng(0)
    kernel = tf.constant(rng.normal(size=(3, 3, 2, 4)).astype(np.float32))
    depthwise = tf.constant(rng.normal(size=(3, 3, 2, 2)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 7, 2], name="x")])
    def convolve(x):
        return [tf.nn.conv2d(x, kernel, 1, padding=[[0, 0], [2, 0], [1, 2], [0, 0]]),
                tf.nn.depthwise_conv2d(x, depthwise, [1, 1, 1, 1],
                                       padding=[[0, 0], [0, 1], [1, 1], [0, 0]])]

    save_tfjs_graph_model(convolve, tmp_path / "conv")
    conv = next(n for n in _model_json(tmp_path / "conv")["modelTopology"]["node"]
                if n["op"] == "Conv2D")
    assert conv["attr"]["padding"] == {"s": "RVhQTElDSVQ="}  # base64("EXPLICIT")
    assert conv["attr"]["explicit_paddings"] == {"list": {"i": ["0", "0", "2", "0", "1", "2",
                                                                "0", "0"]}}
    x = rng.normal(size=(2, 6, 7, 2)).astype(np.float32)
    got, _ = _run_in_tfjs(tmp_path / "conv", [x], tmp_path)
    assert max(_max_diffs(got, _as_list(convolve(x)))) <= TOLERANCE


@pytest.mark.parametrize("module", [tfjs_graph, tfjs_graph_rules, tfjs_graph_rnn])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_a_concrete_function_exports_as_its_tf_function_does(tmp_path):
    function = _indexing_function()
    save_tfjs_graph_model(function, tmp_path / "function")
    save_tfjs_graph_model(function.get_concrete_function(), tmp_path / "concrete")
    first, second = _model_json(tmp_path / "function"), _model_json(tmp_path / "concrete")
    assert first["modelTopology"] == second["modelTopology"]
    assert first["signature"]["inputs"]["x"]["tensorShape"]["dim"][0] == {"size": "-1"}


def test_metadata_and_replacing_a_previous_export(tmp_path):
    model = export_models.seed_mlp()
    path = tmp_path / "web"
    save_tfjs_graph_model(model, path)
    save_tfjs_graph_model(model, path, metadata={"labels": ["a", "b"]})
    assert _model_json(path)["userDefinedMetadata"] == {"labels": ["a", "b"]}
    assert sorted(os.listdir(tmp_path)) == ["web"]  # No staging directory left behind.
    (tmp_path / "file").write_text("not a model")
    with pytest.raises(ValueError, match="it is a file; the TensorFlow.js graph model"):
        save_tfjs_graph_model(model, tmp_path / "file")
    with pytest.raises(ValueError, match="weight_shard_size_bytes"):
        save_tfjs_graph_model(model, path, weight_shard_size_bytes=0)


def test_the_topology_is_a_valid_graph_def_in_protobuf_json():
    graph_pb2 = pytest.importorskip("tensorboard.compat.proto.graph_pb2")
    json_format = pytest.importorskip("google.protobuf.json_format")
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        save_tfjs_graph_model(export_models.functional_cnn(), os.path.join(scratch, "m"))
        topology = _model_json(os.path.join(scratch, "m"))["modelTopology"]
    graph = json_format.ParseDict(topology, graph_pb2.GraphDef())  # Raises on a bad field.
    conv = next(node for node in graph.node if node.op == "Conv2D")
    assert conv.attr["padding"].s == b"SAME" and list(conv.attr["strides"].list.i) == [1, 1, 1, 1]
    assert conv.attr["T"].type == 1  # DT_FLOAT
    # Every input names a node of the graph.
    names = {node.name for node in graph.node}
    assert all(source.split(":")[0] in names for node in graph.node for source in node.input)


# -- against the real converter -----------------------------------------------------------

def _small_cnn():
    """The model of make_tfjs_graph_reference.py, in numpyflow, with the fixture's weights."""
    inputs = tf.keras.Input((8, 8, 3), name="pixels")
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(5, activation="softmax", name="probabilities")(x)
    model = tf.keras.Model(inputs, outputs, name="small_cnn")
    weights = np.load(os.path.join(FIXTURE, "weights.npz"))
    model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
    return model


def _attr_kinds(node):
    """{attribute: which AttrValue field holds it}: how each attribute is encoded."""
    return {key: sorted(value) for key, value in node.get("attr", {}).items()}


def test_the_layout_matches_the_real_converters_file(tmp_path):
    reference = _model_json(FIXTURE)
    save_tfjs_graph_model(_small_cnn(), tmp_path / "ours")
    ours = _model_json(tmp_path / "ours")
    assert list(ours) == list(reference)  # format, generatedBy, ..., weightsManifest
    assert ours["format"] == reference["format"] == "graph-model"
    assert list(ours["modelTopology"]) == list(reference["modelTopology"])
    assert ours["modelTopology"]["versions"] == reference["modelTopology"]["versions"]
    assert ours["signature"]["inputs"] == reference["signature"]["inputs"]
    # Keras 3's model.export() names a functional model's outputs output_0, output_1, ...;
    # numpyflow keeps the names trace_for_export gives (the output layers'), the same nodes.
    assert (list(ours["signature"]["outputs"].values())
            == list(reference["signature"]["outputs"].values()))
    by_op = {}
    for node in reference["modelTopology"]["node"]:
        by_op.setdefault(node["op"], node)
    compared = set()
    for node in ours["modelTopology"]["node"]:
        twin = by_op.get(node["op"])
        if twin is None:  # TF's grappler fuses Conv2D+BiasAdd into _FusedConv2D, etc.
            continue
        compared.add(node["op"])
        assert _attr_kinds(node) == _attr_kinds(twin), node["op"]
        assert set(node) <= set(twin) | {"input"}, node["op"]
    assert {"Const", "Placeholder", "Mul", "AddV2", "Relu", "MaxPool", "Reshape", "Softmax",
            "Identity"} <= compared
    weight_keys = {key for entry in reference["weightsManifest"] for w in entry["weights"]
                   for key in w}
    assert {key for entry in ours["weightsManifest"] for w in entry["weights"]
            for key in w} == weight_keys


def test_predictions_match_keras_and_the_real_converters_file_in_tfjs(tmp_path):
    data = np.load(os.path.join(FIXTURE, "predict.npz"))
    model = _small_cnn()
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=TOLERANCE)
    save_tfjs_graph_model(model, tmp_path / "ours")
    (ours,), _ = _run_in_tfjs(tmp_path / "ours", [data["x"]], tmp_path)
    (theirs,), _ = _run_in_tfjs(FIXTURE, [data["x"]], tmp_path)
    assert np.max(np.abs(ours - data["y"])) <= TOLERANCE
    assert np.max(np.abs(ours - theirs)) <= TOLERANCE


# -- rules and errors ----------------------------------------------------------------------

def test_every_registered_primitive_has_a_rule_or_a_reason():
    import numpyflow.keras  # noqa: F401  (registers the layers' primitives)
    import numpyflow.ops
    for module in pkgutil.iter_modules(numpyflow.ops.__path__):
        importlib.import_module(f"numpyflow.ops.{module.name}")
    from numpyflow.framework.primitive import registered_primitives
    missing = sorted(set(registered_primitives()) - set(tfjs_graph_rules.RULES))
    assert not missing, f"primitives with neither a TF.js rule nor NotExportable: {missing}"
    for name, entry in tfjs_graph_rules.RULES.items():
        if isinstance(entry, tfjs_graph_rules.NotExportable):
            assert isinstance(entry.reason, str) and len(entry.reason) > 5, name
        else:
            assert callable(entry), name
    gradients = [name for name in registered_primitives() if name.endswith("Grad")]
    assert gradients and all(isinstance(tfjs_graph_rules.RULES[name],
                                        tfjs_graph_rules.NotExportable) for name in gradients)


def test_an_operation_tfjs_cannot_run_names_itself_and_its_layer(tmp_path):
    class Noisy(layers.Layer):
        def call(self, x):
            return x + tf.random.uniform((4,))

    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, Noisy(name="noisy")(inputs))
    with pytest.raises(ValueError, match=r"Layer '[a-z_0-9]*/noisy' cannot be exported to "
                                         r"TensorFlow.js: operation 'RandomUniform': random op"):
        save_tfjs_graph_model(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_a_primitive_without_an_entry_is_named_with_its_layer(tmp_path, monkeypatch):
    monkeypatch.delitem(tfjs_graph_rules.RULES, "Relu")
    model = tf.keras.Sequential([tf.keras.Input((3,)),
                                 layers.Dense(2, activation="relu", name="hidden")])
    with pytest.raises(ValueError, match=r"Layer '[a-z_0-9]*/hidden' cannot be exported to "
                                         r"TensorFlow.js: operation 'Relu': no TF.js rule"):
        save_tfjs_graph_model(model, tmp_path / "m")


def test_a_grouped_convolution_is_a_clear_error(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((6, 6, 4)),
                                 layers.Conv2D(4, 3, groups=2, name="grouped")])
    with pytest.raises(ValueError, match=r"Layer '.*grouped'.*'Conv2D'.*groups=2"):
        save_tfjs_graph_model(model, tmp_path / "m")


def test_an_attribute_that_follows_the_batch_without_a_rule_for_it_is_refused(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 4], name="x")])
    def repeat(x):
        return tf.tile(x, [tf.shape(x)[0], 1])

    with pytest.raises(ValueError, match=r"'repeat' cannot be exported to TensorFlow.js: "
                                         r"operation 'Tile': its attribute 'multiples' changes "
                                         r"with the batch size"):
        save_tfjs_graph_model(repeat, tmp_path / "m")
    fixed = [tf.TensorSpec([2, 4], name="x")]
    save_tfjs_graph_model(repeat, tmp_path / "m", input_signature=fixed)
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    (got,), _ = _run_in_tfjs(tmp_path / "m", [x], tmp_path)
    np.testing.assert_array_equal(got, np.tile(x, (2, 1)))


def test_a_function_without_a_signature_is_refused(tmp_path):
    with pytest.raises(ValueError, match="input_signature"):
        save_tfjs_graph_model(tf.function(lambda x: x * 2.0), tmp_path / "m")


@pytest.mark.parametrize("size", [True, 0, -1, 1.5, "4096"])
def test_a_bad_shard_size_is_refused_before_tracing(size, tmp_path):
    # True is an int to Python, but not a size (it would write a shard per byte).
    model = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"weight_shard_size_bytes` must be a positive int"):
        save_tfjs_graph_model(model, tmp_path / "m", weight_shard_size_bytes=size)
    assert not (tmp_path / "m").exists()
