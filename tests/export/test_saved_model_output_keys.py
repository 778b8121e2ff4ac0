"""Review of the SavedModel writer against TF 2.21 + Keras 3.15: the signature's output keys
are TF's (`output_0`, `output_1`, ... for a model or function that does not return a dict;
the dict's keys, each on its own tensor, for one that does). Read back without TensorFlow,
with numpyflow's own messages; `tests/fixtures/check_saved_model_with_tf.py` serves them
in real TF."""

import numpy as np
import pytest

pytest.importorskip("google.protobuf")

import numpyflow as tf  # noqa: E402
from numpyflow import saved_model  # noqa: E402
from numpyflow.export import saved_model_proto as pb  # noqa: E402

layers = tf.keras.layers


def _outputs(path, key="serving_default"):
    """{output key: [dims]} of a written signature."""
    with open(path / "saved_model.pb", "rb") as file:
        meta_graph = pb.SavedModel.FromString(file.read()).meta_graphs[0]
    return {name: [d.size for d in info.tensor_shape.dim]
            for name, info in meta_graph.signature_def[key].outputs.items()}


def test_model_outputs_are_keyed_output_i_as_keras_export_writes_them(tmp_path):
    # keras.Model.export and tf.saved_model.save (TF 2.21, Keras 3.15) both key a model's
    # outputs output_0, output_1, ... in the model's output order, not by layer name.
    features = tf.keras.Input((3,), name="features")
    model = tf.keras.Model(features, [layers.Dense(1, name="first")(features),
                                      layers.Dense(2, name="second")(features)])
    model.export(tmp_path / "exported", verbose=False)
    saved_model.save(model, tmp_path / "saved")
    for path in (tmp_path / "exported", tmp_path / "saved"):
        assert _outputs(path) == {"output_0": [-1, 1], "output_1": [-1, 2]}
    single = tf.keras.Sequential([tf.keras.Input((3,)), layers.Dense(4, name="logits")])
    single.export(tmp_path / "single", verbose=False)
    assert _outputs(tmp_path / "single") == {"output_0": [-1, 4]}


def test_dict_outputs_keep_their_keys_on_the_right_tensors(tmp_path):
    # Keys not in sorted order: the flattened outputs are in sorted-key order, the model's
    # output_names in insertion order; each key must name its own tensor.
    x = tf.keras.Input((3,), name="x")
    model = tf.keras.Model(x, {"score": layers.Dense(1)(x), "embedding": layers.Dense(2)(x)})
    model.export(tmp_path / "m", verbose=False)
    assert _outputs(tmp_path / "m") == {"score": [-1, 1], "embedding": [-1, 2]}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], name="x")])
    def heads(x):
        return {"wide": tf.concat([x, x], axis=1), "narrow": x[:, :1]}

    saved_model.save(heads, tmp_path / "f")
    assert _outputs(tmp_path / "f") == {"wide": [-1, 6], "narrow": [-1, 1]}


def test_function_outputs_are_keyed_output_i(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 2], name="x")])
    def pair(x):
        return x * 2.0, tf.reduce_sum(x, axis=1)

    saved_model.save(pair, tmp_path / "f")
    assert _outputs(tmp_path / "f") == {"output_0": [-1, 2], "output_1": [-1]}


def test_the_values_behind_the_keys_are_the_models_outputs(tmp_path):
    # The graph's Identity nodes read the right tensors (evaluated by their producing
    # MatMul's kernel shape: Dense(1) vs Dense(2) on the same input).
    x = tf.keras.Input((3,), name="x")
    model = tf.keras.Model(x, {"b": layers.Dense(2, use_bias=False)(x),
                               "a": layers.Dense(1, use_bias=False)(x)})
    model.export(tmp_path / "m", verbose=False)
    with open(tmp_path / "m" / "saved_model.pb", "rb") as file:
        meta_graph = pb.SavedModel.FromString(file.read()).meta_graphs[0]
    nodes = {node.name: node for node in meta_graph.graph_def.node}
    kernels = {}
    for key, info in meta_graph.signature_def["serving_default"].outputs.items():
        node = nodes[info.name.split(":")[0]]
        while node.op != "MatMul":
            node = nodes[node.input[0].split(":")[0]]
        kernel = nodes[node.input[1].split(":")[0]].attr["value"].tensor
        kernels[key] = [d.size for d in kernel.tensor_shape.dim]
    assert kernels == {"a": [3, 1], "b": [3, 2]}
    np.testing.assert_equal(sorted(kernels), ["a", "b"])
