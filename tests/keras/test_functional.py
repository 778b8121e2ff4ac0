"""The functional API: keras.Input, layers and ops on KerasTensors, keras.Model(inputs, outputs)."""

import json
import logging
import pathlib
import sys
import threading

import numpy as np
import pytest

import numpyflow as tf

keras = tf.keras
layers = keras.layers
FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "keras3"

pytestmark = pytest.mark.usefixtures("fresh_names")


def two_tower():
    """The model of tests/fixtures/make_keras_fixtures.py: shared and nested layers."""
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    shared = layers.Dense(4, name="shared")
    inner = keras.Sequential([layers.Dense(4, name="inner_dense_1", input_shape=(4,)),
                              layers.Dense(2, name="inner_dense_2")], name="inner")
    merged = layers.Concatenate(name="concat")([shared(a), shared(b)])
    return keras.Model([a, b], inner(layers.Dense(4, name="proj")(merged)), name="two_tower")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- KerasTensors ------------------------------------------------------------------------------

def test_input_is_a_symbolic_tensor_printed_as_keras_prints_it():
    x = keras.Input((28, 28, 1), name="image")
    assert repr(x) == ("<KerasTensor shape=(None, 28, 28, 1), dtype=float32, sparse=False, "
                       "ragged=False, name=image>")
    assert x.shape == tf.TensorShape([None, 28, 28, 1]) and x.dtype == tf.float32
    assert keras.Input(batch_shape=(4, 3), dtype="int32").shape == (4, 3)
    assert keras.Input((3,), batch_size=2).shape == (2, 3)


def test_layer_calls_record_nodes_and_compute_nothing():
    x = keras.Input((8,))
    dense = layers.Dense(4)
    y = dense(x)
    assert isinstance(y, keras.KerasTensor) and y.shape == (None, 4)
    assert keras.utils.is_keras_tensor(y) and not keras.utils.is_keras_tensor(tf.ones(2))
    assert dense.built and dense.kernel.shape == (8, 4)
    assert dense.input is x and dense.output is y
    assert y._keras_history == (dense, 0, 0)
    with pytest.raises(ValueError, match="symbolic"):
        y.numpy()
    with pytest.raises(TypeError, match="boolean"):
        bool(y)


def test_ops_and_operators_on_keras_tensors_become_layers():
    x = keras.Input((4,), name="x")
    y = tf.nn.relu(x) * 2. + 1.
    z = tf.concat([y, x[:, :2], -x[:, 1:3], 3. - x[:, :1] ** 2], axis=-1)
    assert z.shape == (None, 9)
    model = keras.Model(x, z)
    names = [layer.name for layer in model.layers]
    assert names[0] == "x" and names[-1] == "tf.concat"
    ordered = [names.index(name) for name in ("tf.nn.relu", "tf.__operators__.multiply",
                                              "tf.__operators__.add")]
    assert ordered == sorted(ordered)
    data = rand(3, 4)
    expected = np.concatenate([np.maximum(data, 0) * 2 + 1, data[:, :2], -data[:, 1:3],
                               3. - data[:, :1] ** 2], axis=-1)
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-6)


def test_op_output_dims_that_follow_unknown_input_dims_stay_unknown():
    x = keras.Input((None, 3))
    assert tf.reshape(x, (-1, 3)).shape == (None, 3)
    assert tf.reduce_sum(x, axis=1).shape == (None, 3)
    assert layers.Dense(2)(x).shape == (None, None, 2)


# -- models ------------------------------------------------------------------------------------

def test_model_of_inputs_and_outputs_is_functional_and_runs_its_graph():
    inputs = keras.Input((3,), name="features")
    hidden = layers.Dense(5, activation="relu", name="hidden")(inputs)
    outputs = layers.Dense(2, name="out")(hidden)
    model = keras.Model(inputs, outputs, name="mlp")
    assert type(model).__name__ == "Functional" and isinstance(model, keras.Model)
    assert [layer.name for layer in model.layers] == ["features", "hidden", "out"]
    assert model.inputs == [inputs] and model.outputs == [outputs]
    assert model.input is inputs and model.output is outputs
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert model.get_layer("hidden") is model.layers[1] and model.get_layer(index=2).name == "out"
    assert model.count_params() == 3 * 5 + 5 + 5 * 2 + 2
    data = rand(4, 3)
    hidden_layer, out_layer = model.layers[1:]
    expected = np.maximum(data @ hidden_layer.kernel.numpy() + hidden_layer.bias.numpy(), 0) \
        @ out_layer.kernel.numpy() + out_layer.bias.numpy()
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_list_and_dict_inputs_and_outputs():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    total = layers.Concatenate()([a, b])
    model = keras.Model({"a": a, "b": b}, {"sum": tf.reduce_sum(total, axis=-1),
                                           "copy": layers.Identity()(total)})
    out = model({"a": np.ones((2, 2)), "b": np.ones((2, 3))})
    assert set(out) == {"sum", "copy"} and out["copy"].shape == (2, 5)
    np.testing.assert_allclose(out["sum"].numpy(), [5., 5.])
    listed = keras.Model([a, b], [total, layers.Dense(1)(total)])
    first, second = listed([np.ones((2, 2)), np.ones((2, 3))])
    assert first.shape == (2, 5) and second.shape == (2, 1)
    # A dict given to a model of listed inputs is matched by input name, as in Keras.
    by_name = listed({"b": np.zeros((1, 3)), "a": np.ones((1, 2))})
    np.testing.assert_allclose(by_name[0].numpy(), [[1, 1, 0, 0, 0]])


def test_shared_layer_has_one_set_of_weights_and_two_nodes():
    model = two_tower()
    shared = model.get_layer("shared")
    assert len(shared._inbound_nodes) == 2 and len(shared.weights) == 2
    assert model.count_params() == 102
    data = rand(2, 8)
    first, second = model([data, data]).numpy(), model([data, data * 0]).numpy()
    assert not np.allclose(first, second)


def test_nested_models_and_feature_extractors():
    base_in = keras.Input((6,), name="base_in")
    block1 = layers.Dense(5, activation="relu", name="block1")(base_in)
    block2 = layers.Dense(4, activation="relu", name="block2")(block1)
    base = keras.Model(base_in, layers.Dense(3, name="block3")(block2), name="base")
    outer_in = keras.Input((6,))
    outer = keras.Model(outer_in, layers.Dense(1, name="head")(base(outer_in)))
    assert outer.count_params() == base.count_params() + 4
    data = rand(3, 6)
    np.testing.assert_allclose(
        outer(data).numpy(),
        outer.get_layer("head")(base(data)).numpy(), rtol=1e-6)
    features = keras.Model(base.input, base.get_layer("block2").output)
    assert features.output_shape == (None, 4)
    block2_value = features(data).numpy()
    np.testing.assert_allclose(
        block2_value, base.get_layer("block2")(base.get_layer("block1")(data)).numpy(),
        rtol=1e-6)
    # A Sequential with an input is a functional graph underneath: the same works on it.
    seq = keras.Sequential([keras.Input((6,)), layers.Dense(5, name="s1"),
                            layers.Dense(2, name="s2")])
    assert seq.input.shape == (None, 6) and seq.outputs[0].shape == (None, 2)
    part = keras.Model(seq.input, seq.get_layer("s1").output)
    np.testing.assert_allclose(part(data).numpy(), seq.get_layer("s1")(data).numpy(),
                               rtol=1e-6)


def test_sequential_built_later_gets_its_graph_and_stays_lazy_before():
    seq = keras.Sequential([layers.Flatten(), layers.Dense(3)])
    assert not seq.built
    with pytest.raises(AttributeError, match="not been built"):
        seq.input
    seq.build((None, 4, 2))
    assert seq.input.shape == (None, 4, 2) and seq.output.shape == (None, 3)
    seq.add(layers.Dense(2))
    assert seq.output.shape == (None, 2) and seq.output_shape == (None, 2)
    seq.pop()
    assert seq.output.shape == (None, 3)


def test_deep_graph_runs_without_recursion():
    x = inputs = keras.Input((2,))
    depth = sys.getrecursionlimit() + 100
    for _ in range(depth):
        x = x + 1.
    model = keras.Model(inputs, x)
    assert len(model.layers) == depth + 1
    np.testing.assert_allclose(model(np.zeros((1, 2), np.float32)).numpy(), [[depth, depth]])


def test_layer_order_follows_the_graph():
    x = keras.Input((4,), name="x")
    left = layers.Dense(2, name="left")(x)
    right = layers.Dense(2, name="right")(layers.Dense(3, name="pre")(x))
    model = keras.Model(x, layers.Add(name="add")([left, right]))
    names = [layer.name for layer in model.layers]
    assert names[0] == "x" and names[-1] == "add"
    assert names.index("pre") < names.index("right")


def test_subclass_calling_model_init_with_inputs_and_outputs_is_functional():
    class Classifier(keras.Model):
        def __init__(self, units):
            inputs = keras.Input((3,))
            super().__init__(inputs, layers.Dense(units)(inputs))
            self.units = units

        def describe(self):
            return f"{self.units} classes"

    model = Classifier(4)
    assert isinstance(model, keras.Model) and model.describe() == "4 classes"
    assert model(np.ones((2, 3))).shape == (2, 4) and model.output_shape == (None, 4)
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 4)), verbose=0)


def test_subclassed_models_with_call_keep_working():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    assert Net()(np.ones((1, 3))).shape == (1, 2)


def test_model_inputs_are_cast_to_the_input_dtype():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(1, kernel_initializer="ones")(inputs))
    np.testing.assert_allclose(model(np.full((1, 4), 2, np.uint8)).numpy(), [[8.]])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 4), np.uint8), np.ones((8, 1)), verbose=0)  # fit on raw uint8


# -- compiled calls and training ---------------------------------------------------------------

def test_functional_call_runs_a_compiled_plan_with_eager_results():
    inputs = keras.Input((5,))
    x = layers.Dense(4, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(tf.concat([x, inputs], -1))
    model = keras.Model(inputs, outputs)
    data = rand(2, 5)
    eager = model.call(tf.constant(data)).numpy()  # Layer by layer, eagerly.
    for _ in range(3):
        result = model(data)
    assert model._call_function.plan_sources(), model._call_function.eager_reasons()
    np.testing.assert_array_equal(result.numpy(), eager)
    # The output remembers its logits, so losses given it compute from them.
    assert keras.activations.logits_from_softmax(result) is not None


def test_functional_and_sequential_train_to_the_same_weights():
    def stack():
        tf.random.set_seed(3)
        return [layers.Dense(6, activation="relu"), layers.Dense(3, activation="softmax")]

    seq = keras.Sequential([keras.Input((4,))] + stack())
    inputs = keras.Input((4,))
    x = inputs
    for layer in stack():
        x = layer(x)
    functional = keras.Model(inputs, x)
    functional.set_weights(seq.get_weights())
    data, labels = rand(64, 4), np.arange(64) % 3
    for model in (seq, functional):
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                      ["accuracy"])
        model.fit(data, labels, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(seq.get_weights(), functional.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert functional.train_function.plan_sources()


def test_freezing_a_base_moves_its_weights_and_fit_leaves_them_unchanged():
    base_in = keras.Input((4,))
    base = keras.Model(base_in, layers.Dense(3, name="b1")(layers.Dense(5)(base_in)))
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2, name="head")(base(inputs)))
    model.compile("sgd", "mse")
    data, targets = rand(32, 4), rand(32, 2, seed=1)
    model.fit(data, targets, verbose=0)           # Compiled with everything trainable.
    base.trainable = False                        # Frozen after compile, as in Keras 3.
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    assert model.count_params() == base.count_params() + 8
    frozen = base.get_weights()
    head = model.get_layer("head").get_weights()
    model.fit(data, targets, epochs=2, verbose=0)
    for before, after in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(head[0], model.get_layer("head").get_weights()[0])
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 8 (32.00 Byte)" in lines
    base.trainable = True
    model.fit(data, targets, verbose=0)
    assert not np.array_equal(frozen[0], base.get_weights()[0])


def test_changing_a_nested_sequential_recompiles_the_outer_plans():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(3, kernel_initializer="ones")])
    outer = keras.Sequential([keras.Input((3,)), inner])
    data = np.ones((1, 3), np.float32)
    for _ in range(3):
        before = outer(data).numpy()
    inner.add(layers.Lambda(lambda t: t * 0.))
    np.testing.assert_array_equal(before, [[3., 3., 3.]])
    np.testing.assert_array_equal(outer(data).numpy(), [[0., 0., 0.]])


# -- summary -----------------------------------------------------------------------------------

@pytest.mark.parametrize("expand_nested,fixture", [
    (False, "summary_two_tower_tf215.txt"), (True, "summary_two_tower_tf215_expanded.txt")])
def test_summary_matches_tf_keras_2_layout(expand_nested, fixture):
    """The printout of tf.keras 2.15 (tests/fixtures/make_keras_fixtures.py), to the byte."""
    lines = []
    two_tower().summary(print_fn=lines.append, expand_nested=expand_nested)
    assert "\n".join(lines) + "\n" == (FIXTURES / fixture).read_text(encoding="utf-8")


def test_summary_arguments_not_supported_raise():
    with pytest.raises(NotImplementedError, match="show_trainable"):
        two_tower().summary(show_trainable=True)


# -- configs -----------------------------------------------------------------------------------

def test_get_config_matches_keras_3_graph_format():
    config = two_tower().get_config()
    reference = json.loads((FIXTURES / "two_tower_get_config.json").read_text())
    assert config["input_layers"] == reference["input_layers"]
    assert config["output_layers"] == reference["output_layers"]
    assert [layer["name"] for layer in config["layers"]] == \
        [layer["name"] for layer in reference["layers"]]
    for ours, theirs in zip(config["layers"], reference["layers"]):
        assert ours["class_name"] == theirs["class_name"]
        assert ours["inbound_nodes"] == theirs["inbound_nodes"] or \
            ours["class_name"] == "Sequential"  # Keras 3 also writes mask=None there.
    json.dumps(config)


def test_from_config_rebuilds_the_same_graph():
    model = two_tower()
    config = json.loads(json.dumps(model.get_config()))
    keras.backend.clear_session()
    clone = keras.Model.from_config(config)
    assert type(clone).__name__ == "Functional"
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.get_config() == config
    clone.set_weights(model.get_weights())
    data = [rand(3, 8), rand(3, 8, seed=1)]
    np.testing.assert_allclose(clone(data).numpy(), model(data).numpy(), rtol=1e-6)


def test_from_config_of_ops_and_shared_layers_at_different_depths():
    x = keras.Input((3,))
    dense = layers.Dense(3, name="twice")
    y = dense(tf.nn.relu(dense(x))[:, ::-1] + 1.)
    model = keras.Model(x, y)
    clone = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    data = rand(2, 3)
    np.testing.assert_allclose(clone(data).numpy(), model(data).numpy(), rtol=1e-6)


@pytest.mark.parametrize("fixture,params,output_shape", [
    ("two_tower_get_config.json", 102, (None, 2)),
    ("seed_mlp_get_config.json", 101770, (None, 10)),
    ("fmnist_cnn_get_config.json", 20634, (None, 10))])
def test_configs_written_by_keras_3_load(fixture, params, output_shape):
    config = json.loads((FIXTURES / fixture).read_text())
    model = (keras.Model if "input_layers" in config else keras.Sequential).from_config(config)
    assert model.count_params() == params and model.output_shape == output_shape
    data = np.zeros((2,) + tuple(model.input_shape[0] if isinstance(model.input_shape, list)
                                 else model.input_shape)[1:], np.float32)
    inputs = [data, data] if len(model.inputs) == 2 else data
    assert model(inputs).shape == (2,) + output_shape[1:]


def test_sequential_config_round_trip():
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"),
                            layers.Dropout(0.5), layers.Dense(1)], name="small")
    config = json.loads(json.dumps(seq.get_config()))
    clone = keras.Sequential.from_config(config)
    assert clone.get_config() == config and clone.count_params() == seq.count_params()


def test_unknown_class_in_a_config_raises_naming_it():
    config = two_tower().get_config()
    config["layers"][2]["class_name"] = "MyOwnDense"
    with pytest.raises(ValueError, match="MyOwnDense"):
        keras.Model.from_config(config)


def test_custom_layers_round_trip_with_custom_objects():
    class Scale(layers.Layer):
        def __init__(self, factor=2., **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    x = keras.Input((2,))
    model = keras.Model(x, Scale(3.)(x))
    clone = keras.Model.from_config(model.get_config(), custom_objects={"Scale": Scale})
    np.testing.assert_allclose(clone(np.ones((1, 2))).numpy(), [[3., 3.]])


# -- errors ------------------------------------------------------------------------------------

def test_incompatible_merge_shapes_raise_naming_the_layer():
    a, b = keras.Input((3,)), keras.Input((4,))
    with pytest.raises(ValueError, match="add_layer"):
        layers.Add(name="add_layer")([a, b])
    with pytest.raises(ValueError, match="Concatenate"):
        layers.Concatenate(axis=1)([keras.Input((2, 3)), keras.Input((4, 5))])


def test_mixing_keras_tensors_and_concrete_tensors_raises():
    with pytest.raises(ValueError, match="'together'.*mix of symbolic"):
        layers.Add(name="together")([keras.Input((2,)), tf.ones((1, 2))])


def test_disconnected_graph_raises():
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    out = layers.Dense(1)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)
    with pytest.raises(ValueError, match=r"do not depend on the inputs \['a'\]"):
        keras.Model([a, b], out)


def test_outputs_and_inputs_must_be_keras_tensors():
    a = keras.Input((2,))
    with pytest.raises(ValueError, match="outputs"):
        keras.Model(a, tf.ones((1, 2)))
    hidden = layers.Dense(2)(a)
    with pytest.raises(ValueError, match="must come from keras.Input"):
        keras.Model(hidden, layers.Dense(1)(hidden))


def test_layer_reused_with_incompatible_shapes_raises():
    dense = layers.Dense(2, name="reused")
    dense(keras.Input((4,)))
    with pytest.raises(ValueError, match='layer "reused".*expected axis -1'):
        dense(keras.Input((5,)))


def test_wrong_inputs_at_call_time_raise_naming_the_model():
    model = two_tower()
    with pytest.raises(ValueError, match="expects 2 input"):
        model(np.ones((1, 8)))
    with pytest.raises(ValueError, match='"two_tower" is incompatible'):
        model([np.ones((1, 8)), np.ones((1, 5))])


def test_unsupported_input_arguments_raise():
    with pytest.raises(NotImplementedError, match="sparse"):
        keras.Input((3,), sparse=True)


def test_symbolic_calls_in_another_thread_do_not_disturb_eager_training(caplog):
    errors = []

    def build_models():
        try:
            for _ in range(20):
                x = keras.Input((3,))
                keras.Model(x, layers.Dense(2)(x))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=build_models)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with caplog.at_level(logging.WARNING):
        thread.start()
        model.fit(np.ones((64, 3)), np.ones((64, 1)), batch_size=8, epochs=2, verbose=0)
        thread.join()
    assert not errors


def test_layer_losses_follow_each_call_and_not_the_graph_building():
    inputs = keras.Input((3,))
    x = layers.Dense(2, kernel_initializer="ones", activity_regularizer="l1")(inputs)
    model = keras.Model(inputs, layers.ActivityRegularization(l2=1.)(x))
    assert model.losses == []  # The placeholder runs that inferred shapes left none.
    values = []
    for scale in (1., 2., 3., 4.):
        model(np.full((1, 3), scale, np.float32))
        values.append(float(tf.add_n(model.losses)))
    # 'l1' (0.01) of [3s, 3s], plus l2=1 of the same: 0.06s + 18s^2, for each call's input.
    np.testing.assert_allclose(values, [.06 * s + 18 * s * s for s in (1, 2, 3, 4)],
                               rtol=1e-5)


def test_model_with_dict_inputs_used_as_a_layer():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    inner = keras.Model({"a": a, "b": b}, layers.Concatenate()([a, b]))
    x, y = keras.Input((2,)), keras.Input((3,))
    outer = keras.Model([x, y], inner({"a": x, "b": y}))
    assert outer.output_shape == (None, 5)
    np.testing.assert_allclose(outer([np.ones((1, 2)), np.zeros((1, 3))]).numpy(),
                               [[1, 1, 0, 0, 0]])
    with pytest.raises(ValueError, match="expects 2 input"):
        inner.compute_output_shape((None, 2))
