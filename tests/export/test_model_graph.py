"""trace_for_export: the frozen inference graph the TFLite and ONNX exporters translate."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.export.model_graph import trace_for_export
from numpyflow.framework.graph import Constant

layers = tf.keras.layers


def _run(exported, *arrays):
    """Evaluates the frozen graph with the primitives' forwards (what exporters translate)."""
    env = {value.name: array for (_, value), array in zip(exported.inputs, arrays)}

    def read(atom):
        return atom.value if isinstance(atom, Constant) else env[atom.name]

    for eq in exported.graph.body:
        attrs = {k: (read(v) if hasattr(v, "name") and not isinstance(v, str) else v)
                 for k, v in eq.attrs.items()}
        out = eq.primitive.forward(*[read(a) for a in eq.inputs], **attrs)
        if eq.primitive.saves:
            out, _ = out
        env[eq.output.name] = np.asarray(out)
    return [read(atom) for _, atom in exported.outputs]


def test_the_frozen_graph_computes_what_predict_does_with_bn_folded_to_constants():
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(), layers.Dropout(0.5), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(3, activation="softmax")])
    bn = model.layers[1]
    bn.moving_mean.assign(np.full(4, 0.3, np.float32))
    bn.moving_variance.assign(np.full(4, 2.0, np.float32))
    exported = trace_for_export(model)
    names = [eq.primitive.name for eq in exported.graph.equations]
    assert "Rsqrt" not in names and "Dropout" not in "".join(names)
    assert all(isinstance(eq.inputs[1], Constant) for eq in exported.graph.equations
               if eq.primitive.name == "Mul")
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype(np.float32)
    (y,) = _run(exported, x)
    np.testing.assert_allclose(y, model.predict(x, verbose=0), atol=1e-6)


def test_batch_dims_and_batch_dependent_attributes_are_found():
    inputs = tf.keras.Input((6, 6, 2), name="pixels")
    outputs = layers.Dense(3, name="scores")(layers.Flatten(name="flat")(inputs))
    exported = trace_for_export(tf.keras.Model(inputs, outputs, name="net"))
    reshape = exported.graph.equations[0]
    assert reshape.primitive.name == "Reshape"
    assert (0, "shape") in exported.dynamic_attrs
    assert exported.dynamic_dims["a0"] == {0} and exported.dynamic_dims[reshape.output.name] == {0}
    assert exported.inputs[0][0] == "pixels" and exported.outputs[0][0] == "scores"
    assert exported.describe(reshape) == "operation 'Reshape' in layer 'net/flat'"


def test_a_fixed_batch_signature_has_no_dynamic_dims():
    model = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(2)])
    exported = trace_for_export(model, input_signature=[tf.TensorSpec([5, 4])])
    assert exported.graph.arguments[0].shape == (5, 4)
    assert not any(exported.dynamic_dims.values()) and not exported.dynamic_attrs


def test_subclassed_models_and_functions_with_signatures_trace():
    class TwoLayers(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(3)
            self.head = layers.Dense(2)

        def call(self, x):
            return self.head(tf.nn.relu(self.hidden(x)))

    model = TwoLayers()
    x = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
    model(x)
    exported = trace_for_export(model)
    np.testing.assert_allclose(_run(exported, x)[0], model(x).numpy(), atol=1e-6)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], name="features")])
    def total(features):
        return tf.reduce_sum(features * 2.0, axis=1)

    exported = trace_for_export(total)
    assert exported.inputs[0][0] == "features" and exported.dynamic_dims["a0"] == {0}


@pytest.mark.parametrize("case", ["unbuilt", "no_signature", "unknown_dims", "numpy_lambda"])
def test_bad_targets_are_clear_errors(case):
    if case == "unbuilt":
        target, match = tf.keras.Sequential([layers.Dense(2)]), "has not been built"
    elif case == "no_signature":
        target, match = tf.function(lambda x: x + 1.0), "needs an input_signature"
    elif case == "unknown_dims":
        inputs = tf.keras.Input((None, 3))
        target, match = tf.keras.Model(inputs, layers.Dense(2)(inputs)), "only the batch"
    else:
        target = tf.keras.Sequential([
            tf.keras.Input((4,)),
            layers.Lambda(lambda x: tf.numpy_function(np.sin, [x], tf.float32), name="sine")])
        match = r"sequential.*/sine"
    with pytest.raises(ValueError, match=match):
        trace_for_export(target, format_name="ONNX")


def test_a_lambda_made_of_ops_traces_like_any_layer():
    model = tf.keras.Sequential([tf.keras.Input((3,)), layers.Lambda(lambda x: tf.square(x) + 1.0)])
    exported = trace_for_export(model)
    assert [eq.primitive.name for eq in exported.graph.equations] == ["Square", "AddV2"]


def test_output_names_are_the_layers_and_repeats_are_made_distinct():
    model = tf.keras.Sequential([tf.keras.Input((3,)), layers.Dense(2, name="scores")])
    assert trace_for_export(model).outputs[0][0] == "scores"
    inputs = tf.keras.Input((4, 2), name="steps")
    _, h, c = layers.LSTM(3, return_state=True, name="lstm")(inputs)
    exported = trace_for_export(tf.keras.Model(inputs, [h, c]))
    assert [name for name, _ in exported.outputs] == ["lstm", "lstm_1"]


def test_constants_made_from_the_batch_size_are_flagged():
    class ZerosOfTheBatch(tf.keras.Model):
        def call(self, x):
            return x + tf.zeros((x.shape[0], 3))

    model = ZerosOfTheBatch()
    model(np.zeros((2, 3), np.float32))
    exported = trace_for_export(model)
    (add,) = exported.graph.equations
    assert exported.dynamic_constants == {add.inputs[1].name: {0}}


def test_a_function_returning_a_dict_names_its_outputs_by_key():
    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def stats(x):
        return {"sum": tf.reduce_sum(x, axis=1), "max": tf.reduce_max(x, axis=1)}

    exported = trace_for_export(stats)
    assert [name for name, _ in exported.outputs] == ["max", "sum"]
    assert [eq.primitive.name for eq in exported.graph.equations] == ["Sum", "Max"]


def test_a_function_s_inputs_are_named_by_spec_else_by_argument():
    @tf.function(input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([None, 2], name="b")])
    def add(first, second):
        return first + second

    assert [name for name, _ in trace_for_export(add).inputs] == ["first", "b"]


def test_a_subclassed_model_called_on_a_dict_is_a_clear_error():
    class Pair(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(tf.concat([x["a"], x["b"]], axis=-1))

    model = Pair()
    model({"a": np.zeros((2, 3), np.float32), "b": np.zeros((2, 1), np.float32)})
    with pytest.raises(ValueError, match=r"model 'pair' to ONNX: it was called on a dict"):
        trace_for_export(model, format_name="ONNX")


def test_an_op_failing_on_the_example_inputs_says_what_they_were():
    # The trace runs the function on example inputs (zeros for integers): a division by an
    # integer input fails there, and the error says so instead of a bare op error.
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32, name="ids")])
    def ratio(ids):
        return 12 // ids

    with pytest.raises(ValueError, match=r"Cannot export 'ratio' to ONNX: running it on example "
                                         r"inputs .*zeros for integer.*division by zero"):
        trace_for_export(ratio, format_name="ONNX")


def test_an_input_signature_with_the_wrong_number_of_specs_is_a_clear_error():
    model = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Cannot export model 'sequential.*' to ONNX: "
                                         r"input_signature has 2 specs, but the model takes 1 "
                                         r"input \(\['input_layer.*'\]\)"):
        trace_for_export(model, [tf.TensorSpec([None, 4]), tf.TensorSpec([None, 4])],
                         format_name="ONNX")


def test_stateful_recurrent_layers_are_refused_by_name():
    model = tf.keras.Sequential([tf.keras.Input((3, 4, 4, 1), batch_size=2),
                                 layers.ConvLSTM2D(2, 3, stateful=True, name="memory")])
    with pytest.raises(ValueError, match=r"'memory' \(ConvLSTM2D\).*stateful=True"):
        trace_for_export(model, format_name="ONNX")
