"""ONNX export (numpyflow.export.onnx), checked by running the files in onnxruntime."""

import doctest
import importlib
import json
import os
import shutil
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import numpyflow as tf  # noqa: E402
from numpyflow.export import onnx_rules  # noqa: E402
from numpyflow.export.onnx import (DEFAULT_OPSET, IR_VERSION, SUPPORTED_OPSETS,  # noqa: E402
                                   ExportError, export_onnx)
from tests.export import export_models  # noqa: E402

layers = tf.keras.layers
TOLERANCE = 1e-5   # Issue #13: max abs difference from model.predict (float).


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run(path, arrays):
    session = _session(path)
    feeds = {spec.name: array for spec, array in zip(session.get_inputs(), arrays)}
    return session.run(None, feeds)


def _as_list(outputs):
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def _op_types(model):
    return [node.op_type for node in model.graph.node]


def _exported(model, tmp_path, name="model.onnx", **kwargs):
    path = tmp_path / name
    return path, export_onnx(model, str(path), **kwargs)


def _assert_matches_predict(model, path, arrays):
    want = _as_list(model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0))
    got = _run(path, arrays)
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert g.shape == w.shape
        assert np.abs(g - w).max() <= TOLERANCE


@pytest.fixture(scope="module")
def exported_models(tmp_path_factory):
    """Each of issue #13's models, built once and exported once."""
    directory = tmp_path_factory.mktemp("onnx_models")
    result = {}
    for name, (build, _) in export_models.MODELS.items():
        model = build()
        path = directory / f"{name}.onnx"
        result[name] = (model, path, export_onnx(model, str(path)))
    return result


@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize("name", sorted(export_models.MODELS))
def test_issue_models_run_in_onnxruntime_as_predict_does(exported_models, name, batch):
    model, path, _ = exported_models[name]
    _assert_matches_predict(model, path, export_models.sample_inputs(name, batch=batch, seed=batch))


def test_the_model_is_stamped_with_the_pinned_ir_version_and_opset(exported_models):
    _, path, proto = exported_models["lenet5"]
    loaded = onnx.load(str(path))
    assert loaded.ir_version == IR_VERSION == 10
    assert [(o.domain, o.version) for o in loaded.opset_import] == [("", DEFAULT_OPSET)]
    assert loaded.producer_name == "numpyflow"
    onnx.checker.check_model(loaded, full_check=True)


def test_inputs_and_outputs_keep_keras_names_nhwc_shapes_and_a_dynamic_batch(exported_models):
    _, _, proto = exported_models["functional_cnn"]

    def signature(values):
        return [(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
                for v in values]
    assert signature(proto.graph.input) == [("image", ["batch", 12, 12, 3]),
                                            ("extra", ["batch", 5])]
    assert signature(proto.graph.output) == [("probabilities", ["batch", 4]),
                                             ("score", ["batch", 1])]


def test_lenet5_keeps_nchw_between_layers_with_only_two_transposes(exported_models):
    # One Transpose after the NHWC input, one before Flatten (Keras's NHWC element order).
    _, _, proto = exported_models["lenet5"]
    ops = _op_types(proto)
    assert ops.count("Transpose") == 2
    assert ops.index("Transpose", 1) == ops.index("Reshape") - 1
    assert ops.count("Conv") == 2 and "AveragePool" in ops and "MaxPool" in ops
    # Each Conv2D's BiasAdd is the Conv's own bias input, not an Add node.
    convolutions = [node for node in proto.graph.node if node.op_type == "Conv"]
    assert all(len(node.input) == 3 for node in convolutions)
    assert ops[ops.index("Conv") + 1] == "Relu"


def test_layout_pass_adds_no_transposes_where_nothing_is_spatial(exported_models):
    _, _, mlp = exported_models["seed_mlp"]
    assert "Transpose" not in _op_types(mlp)
    # The functional CNN's spatial part stays NCHW from the input's Transpose to the global
    # pooling (which ends in NHWC-free (batch, channels)).
    _, _, cnn = exported_models["functional_cnn"]
    assert _op_types(cnn).count("Transpose") == 1


def test_1d_layers_stay_channels_first_between_their_2d_kernels(tmp_path):
    # Conv1D and 1D pooling run as 2D kernels between Reshapes that add or drop a size-1
    # axis; those Reshapes work on the channels-first form, so only the input is transposed.
    model = export_models.randomize(tf.keras.Sequential([
        tf.keras.Input((16, 3)), layers.Conv1D(4, 3, padding="causal", activation="relu"),
        layers.MaxPooling1D(2), layers.Conv1D(5, 3, strides=2), layers.AveragePooling1D(2),
        layers.GlobalAveragePooling1D(), layers.Dense(2)]))
    path, proto = _exported(model, tmp_path)
    assert _op_types(proto).count("Transpose") == 1
    x = np.random.default_rng(4).normal(size=(3, 16, 3)).astype(np.float32)
    _assert_matches_predict(model, path, [x])


def test_flatten_after_convolution_keeps_keras_element_order(tmp_path):
    # A channel-distinct input: a Flatten read in NCHW order would permute the Dense inputs.
    model = export_models.randomize(tf.keras.Sequential([
        tf.keras.Input((3, 4, 2)), layers.Conv2D(5, 1), layers.Flatten(), layers.Dense(3)]))
    path, _ = _exported(model, tmp_path)
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 2)).astype(np.float32)
    _assert_matches_predict(model, path, [x])


LAYER_CASES = {
    "same_padding_pools": lambda: tf.keras.Sequential([
        tf.keras.Input((7, 9, 3)), layers.AveragePooling2D(3, strides=2, padding="same"),
        layers.MaxPooling2D(2, padding="same"), layers.Conv2D(2, 3, strides=2, padding="same")]),
    "dilation_groups_depth_multiplier": lambda: tf.keras.Sequential([
        tf.keras.Input((9, 9, 4)), layers.Conv2D(6, 3, dilation_rate=2, groups=2),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        layers.SeparableConv2D(3, 3, activation="relu")]),
    "transposed_convolutions": lambda: tf.keras.Sequential([
        tf.keras.Input((5, 6, 3)), layers.Conv2DTranspose(4, 3, strides=2),
        layers.Conv2DTranspose(2, 4, strides=3, padding="same", activation="sigmoid")]),
    "resizing_and_cropping": lambda: tf.keras.Sequential([
        tf.keras.Input((10, 7, 2)), layers.Resizing(3, 5, interpolation="nearest"),
        layers.UpSampling2D((2, 3), interpolation="bilinear"), layers.Resizing(7, 4),
        layers.Cropping2D(((1, 0), (0, 1))), layers.ZeroPadding2D(((0, 2), (1, 0)))]),
    "activations": lambda: tf.keras.Sequential([
        tf.keras.Input((4, 4, 3)), layers.Activation("elu"), layers.LeakyReLU(0.2),
        layers.Activation("selu"), layers.Activation("softplus"), layers.Activation("softsign"),
        layers.Activation("gelu"), layers.Activation("swish"), layers.Activation("hard_sigmoid"),
        layers.ReLU(max_value=6.0), layers.Softmax()]),
    "normalization_and_permute": lambda: tf.keras.Sequential([
        tf.keras.Input((6, 5, 4)), layers.Conv2D(4, 3), layers.LayerNormalization(),
        layers.Permute((2, 1, 3)), layers.Conv2D(2, 1), layers.GlobalMaxPooling2D()]),
    "conv1d": lambda: tf.keras.Sequential([
        tf.keras.Input((12, 3)), layers.Conv1D(4, 3, padding="causal", activation="relu"),
        layers.MaxPooling1D(2), layers.GlobalAveragePooling1D()]),
    "merging": lambda: _merging_model(),
}


def _merging_model():
    a, b = tf.keras.Input((4, 4, 2)), tf.keras.Input((4, 4, 2))
    conv = layers.Conv2D(2, 1)
    x = layers.Subtract()([conv(a), b])
    y = layers.Multiply()([x, layers.Conv2D(2, 1)(b)])
    z = layers.Maximum()([y, layers.Minimum()([x, a])])
    w = layers.Average()([z, layers.Conv2D(2, 3, padding="same")(z)])
    return tf.keras.Model([a, b], [w, layers.Flatten()(x)])


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layers_export_as_predict_computes(case, tmp_path):
    model = export_models.randomize(LAYER_CASES[case]())
    path, _ = _exported(model, tmp_path)
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(3,) + tuple(x.shape[1:])).astype(np.float32) for x in model.inputs]
    _assert_matches_predict(model, path, arrays)


def _masked_sequence_model(rnn):
    ids = tf.keras.Input((6,), dtype="int32")
    return tf.keras.Model(ids, rnn(layers.Embedding(10, 3, mask_zero=True)(ids)))


def _states_model():
    x = tf.keras.Input((4, 2))
    return tf.keras.Model(x, layers.LSTM(3, return_state=True)(x))


RECURRENT_CASES = {
    "lstm_then_backwards_gru": lambda: tf.keras.Sequential([
        tf.keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
        layers.GRU(2, go_backwards=True), layers.Dense(1)]),
    "gru_without_reset_after_then_relu_rnn": lambda: tf.keras.Sequential([
        tf.keras.Input((5, 3)), layers.GRU(3, reset_after=False, return_sequences=True),
        layers.SimpleRNN(2, activation="relu")]),
    "masked_lstm": lambda: _masked_sequence_model(layers.LSTM(3)),
    "masked_gru_sequences": lambda: _masked_sequence_model(layers.GRU(3, return_sequences=True)),
    "masked_backwards_simple_rnn": lambda: _masked_sequence_model(
        layers.SimpleRNN(2, go_backwards=True)),
    "bidirectional": lambda: tf.keras.Sequential([
        tf.keras.Input((4, 3)), layers.Bidirectional(layers.LSTM(2, return_sequences=True)),
        layers.Bidirectional(layers.GRU(2, use_bias=False))]),
    "lstm_return_state": _states_model,
}


@pytest.mark.parametrize("case", sorted(RECURRENT_CASES))
def test_recurrent_layers_unrolled_match_predict_at_any_batch(case, tmp_path):
    model = export_models.randomize(RECURRENT_CASES[case]())
    path, proto = _exported(model, tmp_path)
    assert len({o.name for o in proto.graph.output}) == len(model.outputs)
    for batch in (1, 5):
        rng = np.random.default_rng(batch)
        arrays = [rng.integers(0, 4, (batch,) + tuple(x.shape[1:])).astype(np.int32)
                  if "int" in str(x.dtype) else
                  rng.normal(size=(batch,) + tuple(x.shape[1:])).astype(np.float32)
                  for x in model.inputs]
        _assert_matches_predict(model, path, arrays)


class _ConstantStateLSTM(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.lstm = layers.LSTM(3)

    def call(self, x):
        state = tf.ones((x.shape[0], 3)) * 0.5   # A constant of the traced batch size.
        return self.lstm(x, initial_state=[state, state])


def test_a_constant_nonzero_initial_state_needs_a_fixed_batch(tmp_path):
    model = _ConstantStateLSTM()
    model(np.zeros((1, 4, 2), np.float32))
    with pytest.raises(ExportError, match="initial state is a constant of the traced batch"):
        export_onnx(model, str(tmp_path / "m.onnx"))
    path, _ = _exported(model, tmp_path, name="fixed.onnx",
                        input_signature=[tf.TensorSpec([2, 4, 2], tf.float32)])
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype(np.float32)
    _assert_matches_predict(model, path, [x])


class _OnesOfTheBatch(tf.keras.Model):
    def call(self, x):
        return x + tf.ones((x.shape[0], 3))   # A constant of the traced batch size.


def test_a_constant_of_the_traced_batch_size_needs_a_fixed_batch(tmp_path):
    # Written as is, it would broadcast a batch of 1 to the traced batch and fail on others.
    model = _OnesOfTheBatch()
    model(np.zeros((2, 3), np.float32))
    with pytest.raises(ExportError, match=r"operation 'AddV2' in layer '_*ones_of_the_batch' to "
                                          r"ONNX: it reads .*, a constant of the traced batch "
                                          r"size .*input_signature"):
        export_onnx(model, str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()
    path, _ = _exported(model, tmp_path, name="fixed.onnx",
                        input_signature=[tf.TensorSpec([1, 3], tf.float32)])
    _assert_matches_predict(model, path, [np.ones((1, 3), np.float32)])


def test_a_tf_function_with_an_input_signature_exports_its_ops(tmp_path):
    w = tf.Variable(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32),
                                  tf.TensorSpec([None, 3], tf.float32)])
    def f(x, y):
        h = tf.matmul(x, w)
        z = tf.nn.gelu(h) + tf.math.rsqrt(tf.square(y) + 1.0) - tf.math.squared_difference(h, y)
        z = z + tf.nn.gelu(z, approximate=True) * tf.nn.relu6(y * 4.0)
        z = tf.where(z > 0.1, tf.math.expm1(z), tf.math.log1p(tf.abs(z)))
        z = tf.clip_by_value(z, -2.0, 2.0) + tf.math.divide_no_nan(y, tf.round(y))
        z = tf.concat([z, tf.math.floormod(y, 0.7)], axis=1)
        total = tf.reduce_sum(z, axis=1, keepdims=True) * tf.reduce_max(z) + tf.reduce_mean(z)
        index = tf.cast(tf.argmax(z, axis=1), tf.float32)
        return tf.stack([total[:, 0], index, z[:, -1]], axis=1), tf.nn.log_softmax(z[:, ::2])

    path, _ = _exported(f, tmp_path)
    rng = np.random.default_rng(1)
    for batch in (1, 6):
        x = rng.normal(size=(batch, 4)).astype(np.float32)
        y = rng.normal(size=(batch, 3)).astype(np.float32)
        want = [np.asarray(t) for t in f(tf.constant(x), tf.constant(y))]
        got = _run(path, [x, y])
        for w_, g in zip(want, got):
            np.testing.assert_allclose(g, w_, atol=TOLERANCE)


def test_indexing_gathers_and_shape_ops_with_integer_inputs(tmp_path):
    table = tf.Variable(np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.int32),
                                  tf.TensorSpec([None, 3, 4], tf.float32)])
    def f(ids, x):
        e = tf.gather(table, ids)
        s = tf.einsum("bij,bkj->bik", e, x)
        c = tf.math.cumsum(tf.tile(s[:, :2, :], [1, 2, 1]), axis=1, reverse=True)
        one_hot = tf.one_hot(ids[:, 0], 10)
        m = tf.pad(tf.matmul(x, x, transpose_b=True), [[0, 0], [1, 0], [0, 2]],
                   constant_values=1.5)
        q = tf.transpose(m, [0, 2, 1])[..., tf.newaxis, 1:3]
        any_ = tf.cast(tf.reduce_any(x > 0.5, axis=2), tf.float32)
        all_ = tf.cast(tf.reduce_all(x > -2.0, axis=[1, 2]), tf.float32)
        floor = tf.math.floordiv(x, 0.3)[:, ::-1, 0]
        stats = tf.stack([tf.reduce_min(x, axis=2), tf.reduce_prod(x, axis=2)], axis=-1)
        return c, one_hot, q, any_, all_[:, None] + floor, stats, tf.broadcast_to(table[0], [3, 4])

    path, _ = _exported(f, tmp_path)
    rng = np.random.default_rng(2)
    for batch in (1, 4):
        ids = rng.integers(0, 10, (batch, 5)).astype(np.int32)
        x = rng.normal(size=(batch, 3, 4)).astype(np.float32)
        want = [np.asarray(t) for t in f(tf.constant(ids), tf.constant(x))]
        got = _run(path, [ids, x])
        assert len(got) == len(want) == 7
        for w, g in zip(want, got):
            np.testing.assert_allclose(g, w, atol=TOLERANCE)


def test_integer_floor_division_and_modulo_round_toward_minus_infinity_as_in_tf(tmp_path):
    # ONNX's Div of integers truncates toward zero; TF's FloorDiv floors.
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32),
                                  tf.TensorSpec([None, 3], tf.int32)])
    def f(a, b):
        b = b * 2 - 1   # Never 0: the trace feeds integer inputs zeros.
        return a // 2, a // -3, a // b, a % b, tf.math.floordiv(a, b) * b + a % b

    path, _ = _exported(f, tmp_path)
    a = np.array([[-7, 0, 7], [5, -5, -1]], np.int32)
    b = np.array([[2, -3, -2], [-5, 3, 4]], np.int32)
    want = [np.asarray(t) for t in f(tf.constant(a), tf.constant(b))]
    np.testing.assert_array_equal(want[-1], a)
    for w, g in zip(want, _run(path, [a, b])):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_one_hot_of_negative_or_too_large_indices_is_all_off_as_in_tf(tmp_path):
    # ONNX's OneHot counts a negative index from the end (-1 is the last position); TF's
    # gives a vector of off_value for any index outside [0, depth).
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32)])
    def f(ids):
        return tf.one_hot(ids, 4, on_value=2.0, off_value=-1.0), tf.one_hot(ids, 4, axis=1)

    path, _ = _exported(f, tmp_path)
    ids = np.array([[0, -1, 5], [2, -4, -5]], np.int32)
    want = [np.asarray(t) for t in f(tf.constant(ids))]
    got = _run(path, [ids])
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("reduce", [tf.reduce_sum, tf.reduce_max, tf.reduce_mean,
                                    tf.reduce_any])
def test_a_reduction_over_no_axes_is_the_identity_as_in_tf(reduce, tmp_path):
    # axis=[] reduces nothing in TF; an ONNX reduction with empty axes reduces all of them
    # unless told otherwise.
    @tf.function(input_signature=[tf.TensorSpec([None, 2, 3], tf.float32)])
    def f(x):
        operand = x > 0.0 if reduce is tf.reduce_any else x
        return tf.cast(reduce(operand, axis=[]), tf.float32) + 1.0

    path, _ = _exported(f, tmp_path)
    x = np.random.default_rng(4).normal(size=(2, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(_run(path, [x])[0], np.asarray(f(tf.constant(x))), atol=TOLERANCE)


def test_embedding_model_with_integer_ids(tmp_path):
    model = export_models.randomize(tf.keras.Sequential([
        tf.keras.Input((6,), dtype="int32"), layers.Embedding(20, 4),
        layers.Conv1D(3, 2), layers.GlobalMaxPooling1D(), layers.Dense(2)]))
    path, proto = _exported(model, tmp_path)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT32
    ids = np.random.default_rng(3).integers(0, 20, (5, 6)).astype(np.int32)
    _assert_matches_predict(model, path, [ids])


def test_graph_inputs_and_outputs_take_the_export_graphs_distinct_names(tmp_path):
    # trace_for_export makes the names distinct; ONNX writes them unchanged: an output that
    # is the input itself, and one layer's output returned twice.
    from numpyflow.export.model_graph import trace_for_export
    inputs = tf.keras.Input((4,), name="d")
    dense = layers.Dense(3, name="d")(inputs)
    model = tf.keras.Model(inputs, [inputs, dense, dense])
    path, proto = _exported(model, tmp_path)
    exported = trace_for_export(model)
    assert [i.name for i in proto.graph.input] == [name for name, _ in exported.inputs] == ["d"]
    assert [o.name for o in proto.graph.output] == [name for name, _ in exported.outputs] \
        == ["d_1", "d_2", "d_3"]
    _assert_matches_predict(model, path, [np.random.default_rng(5).normal(
        size=(2, 4)).astype(np.float32)])


def test_a_fixed_batch_signature_writes_fixed_dims(tmp_path):
    model = export_models.lenet5()
    _, proto = _exported(model, tmp_path,
                         input_signature=[tf.TensorSpec([3, 28, 28, 1], tf.float32)])
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [3, 28, 28, 1]


def test_older_supported_opset(tmp_path):
    model = export_models.lenet5()
    path, proto = _exported(model, tmp_path, opset=SUPPORTED_OPSETS[0])
    assert proto.opset_import[0].version == 18
    _assert_matches_predict(model, path, export_models.sample_inputs("lenet5", batch=2))


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("opset", [17, 22, "21", 21.0, True])
def test_wrong_opset_is_refused_before_tracing(opset, tmp_path):
    with pytest.raises(ValueError, match=rf"Unsupported ONNX opset {opset!r}: expected an int "
                                         r"from 18 to 21"):
        export_onnx(tf.keras.Sequential([tf.keras.layers.Dense(2)]), str(tmp_path / "m.onnx"),
                    opset=opset)


def test_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="has not been built"):
        export_onnx(tf.keras.Sequential([layers.Dense(2)]), str(tmp_path / "m.onnx"))
    assert not os.path.exists(tmp_path / "m.onnx")


def test_a_missing_directory_is_refused(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_onnx(model, str(tmp_path / "no_such_dir" / "m.onnx"))


def test_a_missing_directory_or_a_directory_path_is_refused_before_tracing(tmp_path, monkeypatch):
    from numpyflow.export import model_graph
    traced = []
    monkeypatch.setattr(model_graph, "trace_for_export", lambda *a, **k: traced.append(a))
    model = tf.keras.Sequential([tf.keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_onnx(model, str(tmp_path / "no_such_dir" / "m.onnx"))
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        export_onnx(model, str(tmp_path))
    assert traced == [] and os.listdir(tmp_path) == []


def test_lambda_reading_values_with_numpy_is_refused_naming_the_layer(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((3,)),
        layers.Lambda(lambda x: tf.constant(np.asarray(x) * 2), name="numpy_lambda")])
    with pytest.raises(ValueError, match="numpy_lambda"):
        export_onnx(model, str(tmp_path / "m.onnx"))


def test_a_layer_without_rule_is_an_error_naming_operation_and_layer(tmp_path):
    # Random augmentation in training mode is traced into the graph only when it runs;
    # a GaussianNoise forced on (training=True) reaches the random primitive.
    class Noisy(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.noise = layers.GaussianNoise(0.5, name="noise")

        def call(self, x):
            return self.noise(x, training=True)

    model = Noisy()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(ExportError, match=r"operation '\w+' in layer '.*noise' to ONNX: "
                                          r"not exportable \(random op\)"):
        export_onnx(model, str(tmp_path / "m.onnx"))
    assert isinstance(ExportError("x"), NotImplementedError)


def test_a_primitive_missing_from_the_table_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delitem(onnx_rules.RULES, "Relu")
    model = tf.keras.Sequential([tf.keras.Input((3,)), layers.Dense(2, name="hidden",
                                                                    activation="relu")])
    with pytest.raises(ExportError, match=r"operation 'Relu' in layer '.*hidden' to ONNX: "
                                          r"it has no ONNX export rule"):
        export_onnx(model, str(tmp_path / "m.onnx"))


def test_symmetric_mirror_padding_is_refused(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([2, 5], tf.float32)])
    def pad(x):
        return tf.pad(x, [[0, 0], [2, 1]], mode="SYMMETRIC")

    with pytest.raises(ExportError, match="'SYMMETRIC' has no ONNX Pad mode"):
        export_onnx(pad, str(tmp_path / "m.onnx"))


def test_reflect_mirror_padding_exports(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32)])
    def pad(x):
        return tf.pad(x, [[0, 0], [2, 1]], mode="REFLECT")

    path, _ = _exported(pad, tmp_path)
    x = np.arange(15, dtype=np.float32).reshape(3, 5)
    np.testing.assert_array_equal(_run(path, [x])[0], np.asarray(pad(tf.constant(x))))


def test_every_registered_primitive_has_a_rule_or_a_reason():
    import numpyflow.keras  # noqa: F401  (registers the layers' primitives)
    import numpyflow.ops
    for module in pkgutil.iter_modules(numpyflow.ops.__path__):
        importlib.import_module(f"numpyflow.ops.{module.name}")
    from numpyflow.framework.primitive import registered_primitives
    missing = sorted(set(registered_primitives()) - set(onnx_rules.RULES))
    assert not missing, f"primitives with neither an ONNX rule nor NotExportable: {missing}"
    for name, entry in onnx_rules.RULES.items():
        if isinstance(entry, onnx_rules.NotExportable):
            assert isinstance(entry.reason, str) and len(entry.reason) > 5, name
        else:
            assert callable(entry), name
    gradients = [name for name in registered_primitives() if name.endswith("Grad")]
    assert gradients and all(isinstance(onnx_rules.RULES[name], onnx_rules.NotExportable)
                             for name in gradients)


# -- ONNX Runtime Mobile -----------------------------------------------------------------------

def test_ort_format_conversion_runs_and_the_ort_file_gives_the_same_outputs(exported_models,
                                                                          tmp_path):
    model, path, _ = exported_models["lenet5"]
    target = tmp_path / "lenet5.onnx"
    target.write_bytes(path.read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort", str(target)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    ort_file = tmp_path / "lenet5.ort"
    assert ort_file.exists()
    _assert_matches_predict(model, ort_file, export_models.sample_inputs("lenet5", batch=4))


def test_import_numpyflow_does_not_import_onnx():
    code = ("import sys, numpyflow, numpyflow.export; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- onnxruntime-web (the browser demo's runtime) ------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB_SCRIPT = os.path.join(ROOT, "tests", "export", "onnx_web_predict.mjs")
WEB_PACKAGE = os.path.join(ROOT, "node_modules", "onnxruntime-web", "package.json")


def _run_in_onnxruntime_web(path, names, arrays, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (`node`) is not installed: the onnxruntime-web check needs it.")
    if not os.path.isfile(WEB_PACKAGE):
        pytest.fail("node_modules/onnxruntime-web is missing: run `./dev test` (it runs "
                    "`npm ci --ignore-scripts`) or `npm ci --ignore-scripts` at the repo root.")
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"inputs": [
        {"name": name, "shape": list(x.shape), "data": x.ravel().tolist()}
        for name, x in zip(names, arrays)]}))
    result = subprocess.run([node, WEB_SCRIPT, str(path), str(inputs)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"onnxruntime-web failed:\n{result.stderr[-3000:]}"
    outputs = json.loads(result.stdout.strip().splitlines()[-1])["outputs"]
    return [np.asarray(o["data"], np.float32).reshape(o["shape"]) for o in outputs]


@pytest.mark.parametrize("name", ["lenet5", "functional_cnn"])
def test_the_pinned_ir_and_opset_run_in_onnxruntime_web(exported_models, name, tmp_path):
    model, path, proto = exported_models[name]
    arrays = export_models.sample_inputs(name, batch=3)
    got = _run_in_onnxruntime_web(path, [v.name for v in proto.graph.input], arrays, tmp_path)
    want = _as_list(model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0))
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert g.shape == w.shape and np.abs(g - w).max() <= TOLERANCE


@pytest.mark.parametrize("name", ["numpyflow.export.onnx", "numpyflow.export.onnx_builder",
                                  "numpyflow.export.onnx_rules", "numpyflow.export.onnx_rnn"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
