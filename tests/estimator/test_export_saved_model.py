"""`Estimator.export_saved_model` and `tf.estimator.export`: the SavedModel's structure
(parsed back with `saved_model_proto`), the returned path, the frozen checkpoint values,
TF 2.15's signatures for custom and canned estimators, and the errors.
(`test_export_saved_model_with_tf.py` serves the files in TensorFlow.)"""

import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.estimator import export

pb = pytest.importorskip("numpyflow.export.saved_model_proto")

X = np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def model_fn(features, labels, mode):
    out = tf.keras.layers.Dense(2, name="out")(features["x"])
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"y": out, "z": out * 2.0})
    loss = tf.reduce_mean(tf.square(out - labels))
    optimizer = tf.compat.v1.train.GradientDescentOptimizer(0.1)
    return tf.estimator.EstimatorSpec(
        mode, loss=loss, train_op=optimizer.minimize(loss, tf.compat.v1.train.get_global_step()))


def input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(4)


def receiver(batch=None):
    return export.build_raw_serving_input_receiver_fn({"x": tf.constant(X)},
                                                      default_batch_size=batch)


def trained(tmp_path, fn=model_fn, steps=2, name="model"):
    estimator = tf.estimator.Estimator(fn, model_dir=str(tmp_path / name))
    return estimator.train(input_fn, steps=steps)


def read(path, text=False):
    if text:
        from google.protobuf import text_format
        with open(os.path.join(path, b"saved_model.pbtxt"), encoding="utf-8") as file:
            return text_format.Parse(file.read(), pb.SavedModel())
    with open(os.path.join(path, b"saved_model.pb"), "rb") as file:
        return pb.SavedModel.FromString(file.read())


def signatures(saved):
    (meta,) = saved.meta_graphs
    return {key: (sig.method_name,
                  {n: (i.dtype, [d.size for d in i.tensor_shape.dim]) for n, i in sig.inputs.items()},
                  sorted(sig.outputs))
            for key, sig in meta.signature_def.items()}


def const_values(saved):
    """The float32 arrays the graph's Const nodes hold."""
    values = []
    for node in saved.meta_graphs[0].graph_def.node:
        tensor = node.attr["value"].tensor
        if node.op == "Const" and tensor.dtype == pb.DATA_TYPE_NUMBERS["DT_FLOAT"]:
            shape = [d.size for d in tensor.tensor_shape.dim]
            values.append(np.frombuffer(tensor.tensor_content, "<f4").reshape(shape))
    return values


def holds(saved, array):
    return any(v.shape == array.shape and np.array_equal(v, array) for v in const_values(saved))


def test_custom_model_fn_export_structure_path_and_frozen_checkpoint(tmp_path):
    estimator = trained(tmp_path)
    base = tmp_path / "export"
    path = estimator.export_saved_model(str(base), receiver())
    assert isinstance(path, bytes)  # As TF returns it.
    assert os.path.dirname(path) == os.fsencode(str(base))
    assert os.path.basename(path).isdigit()
    assert sorted(os.listdir(base)) == [os.path.basename(path).decode()]  # No temp- left.
    assert sorted(os.listdir(path)) == [b"assets", b"saved_model.pb", b"variables"]
    saved = read(path)
    assert list(saved.meta_graphs[0].meta_info_def.tags) == ["serve"]
    assert signatures(saved) == {"serving_default": (
        "tensorflow/serving/predict", {"x": (pb.DATA_TYPE_NUMBERS["DT_FLOAT"], [-1, 3])},
        ["y", "z"])}
    # The latest checkpoint's weights are the graph's constants.
    assert holds(saved, estimator.get_variable_value("out/kernel"))
    assert holds(saved, estimator.get_variable_value("out/bias"))


def test_checkpoint_path_default_batch_size_and_export_savedmodel(tmp_path):
    estimator = trained(tmp_path, steps=1)
    first = estimator.latest_checkpoint()
    first_kernel = estimator.get_variable_value("out/kernel")
    estimator.train(input_fn, steps=1)
    assert not np.array_equal(first_kernel, estimator.get_variable_value("out/kernel"))
    path = estimator.export_saved_model(str(tmp_path / "e"), receiver(batch=5),
                                        checkpoint_path=first)
    saved = read(path)
    assert holds(saved, first_kernel)
    assert not holds(saved, estimator.get_variable_value("out/kernel"))
    inputs = signatures(saved)["serving_default"][1]
    assert inputs == {"x": (pb.DATA_TYPE_NUMBERS["DT_FLOAT"], [5, 3])}
    # TF 1's name writes the same signatures.
    old = estimator.export_savedmodel(str(tmp_path / "old"), receiver(),
                                      strip_default_attrs=True)
    assert signatures(read(old)).keys() == {"serving_default"}


def test_as_text_and_assets_extra(tmp_path):
    estimator = trained(tmp_path)
    source = tmp_path / "vocab.txt"
    source.write_text("a\nb\n")
    path = estimator.export_saved_model(str(tmp_path / "e"), receiver(), as_text=True,
                                        assets_extra={"sub/vocab.txt": str(source)})
    assert sorted(os.listdir(path)) == [b"assets", b"assets.extra", b"saved_model.pbtxt",
                                        b"variables"]
    assert (tmp_path / "e" / os.path.basename(path).decode() / "assets.extra" / "sub" /
            "vocab.txt").read_text() == "a\nb\n"
    assert signatures(read(path, text=True)).keys() == {"serving_default"}
    with pytest.raises(ValueError, match="leaves the assets.extra"):
        estimator.export_saved_model(str(tmp_path / "bad"), receiver(),
                                     assets_extra={"../x": str(source)})
    assert not any(name.startswith("temp-") for name in os.listdir(tmp_path / "bad"))


def test_export_outputs_signatures_as_tf(tmp_path):
    def fn(features, labels, mode):
        spec = model_fn(features, labels, mode)
        if mode != tf.estimator.ModeKeys.PREDICT:
            return spec
        y = spec.predictions["y"]
        return tf.estimator.EstimatorSpec(mode, predictions=spec.predictions, export_outputs={
            "serving_default": export.PredictOutput({"y": y}),
            "single": export.PredictOutput(y),
            # A raw (float) receiver cannot feed a regress signature: TF leaves it out.
            "regression": export.RegressionOutput(y)})
    estimator = trained(tmp_path, fn)
    found = signatures(read(estimator.export_saved_model(str(tmp_path / "e"), receiver())))
    assert sorted(found) == ["serving_default", "single"]
    assert found["serving_default"][2] == ["y"] and found["single"][2] == ["output"]


def test_canned_estimators_export_the_predict_signature(tmp_path):
    columns = [tf.feature_column.numeric_column("x", shape=(3,))]
    classifier = tf.estimator.DNNClassifier([3], columns, model_dir=str(tmp_path / "c"))
    classifier.train(lambda: tf.data.Dataset.from_tensor_slices(
        ({"x": X}, Y.astype("int64"))).batch(4), steps=1)
    found = signatures(read(classifier.export_saved_model(str(tmp_path / "ce"), receiver())))
    # TF 2.15 with a raw receiver: "predict" only; numpyflow leaves out the string outputs.
    assert list(found) == ["predict"]
    assert found["predict"][2] == ["all_class_ids", "class_ids", "logistic", "logits",
                                   "probabilities"]
    # predict() is unchanged: it still gives the class names.
    first = next(classifier.predict(lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(4)))
    assert first["classes"].dtype == object and first["all_classes"].tolist() == [b"0", b"1"]
    assert first["all_class_ids"].dtype == np.int32

    regressor = tf.estimator.LinearRegressor(columns, model_dir=str(tmp_path / "r"))
    regressor.train(input_fn, steps=1)
    found = signatures(read(regressor.export_saved_model(str(tmp_path / "re"), receiver())))
    assert list(found) == ["predict"] and found["predict"][2] == ["predictions"]


def test_estimator_spec_export_outputs_defaults_and_checks():
    mode = tf.estimator.ModeKeys.PREDICT
    y = tf.constant([[1.0]])
    spec = tf.estimator.EstimatorSpec(mode, predictions={"y": y})
    assert list(spec.export_outputs) == ["serving_default"]
    assert spec.export_outputs["serving_default"].outputs["y"] is y
    spec = tf.estimator.EstimatorSpec(mode, predictions=y,
                                      export_outputs={"a": export.PredictOutput(y)})
    assert sorted(spec.export_outputs) == ["a", "serving_default"]
    assert tf.estimator.EstimatorSpec("train", loss=y, train_op=y).export_outputs is None
    with pytest.raises(ValueError, match="none of them are specified as the default"):
        tf.estimator.EstimatorSpec(mode, predictions=y, export_outputs={
            "a": export.PredictOutput(y), "b": export.PredictOutput(y)})
    with pytest.raises(TypeError, match="must be ExportOutput objects"):
        tf.estimator.EstimatorSpec(mode, predictions=y, export_outputs={"a": 1})
    with pytest.raises(ValueError, match="Prediction output value must be a Tensor"):
        export.PredictOutput({"a": None})
    with pytest.raises(ValueError, match="output key must be a string"):
        export.PredictOutput({1: y})
    assert list(export.PredictOutput({("a", "b"): y}).outputs) == ["a/b"]
    with pytest.raises(ValueError, match="scores must be a float32"):
        export.ClassificationOutput(scores=tf.constant([1]))
    with pytest.raises(ValueError, match="classes must be a string"):
        export.ClassificationOutput(classes=y)
    with pytest.raises(ValueError, match="At least one of"):
        export.ClassificationOutput()
    with pytest.raises(ValueError, match="Regression output value must be a float32"):
        export.RegressionOutput(tf.constant([1]))


def test_receivers():
    x = tf.constant(X)
    rec = export.ServingInputReceiver(x, x)
    assert list(rec.features) == ["feature"] and list(rec.receiver_tensors) == ["input"]
    assert export.TensorServingInputReceiver(x, {"a": x}).features is x
    with pytest.raises(ValueError, match="receiver_tensors must be defined"):
        export.ServingInputReceiver(x, None)
    with pytest.raises(ValueError, match="receiver_tensor keys must be strings"):
        export.ServingInputReceiver(x, {1: x})
    with pytest.raises(ValueError, match="must be a Tensor"):
        export.ServingInputReceiver({"a": [1.0]}, x)
    with pytest.raises(RuntimeError, match="not compatible with eager execution"):
        export.placeholder(tf.float32, [None, 3])
    with pytest.raises(NotImplementedError, match="build_raw_serving_input_receiver_fn"):
        export.build_parsing_serving_input_receiver_fn({})
    with pytest.raises(ValueError, match="features must be a dict"):
        export.build_raw_serving_input_receiver_fn(x)
    assert tf.estimator.export.PredictOutput is export.PredictOutput


def test_export_errors(tmp_path):
    fresh = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path / "none"))
    with pytest.raises(ValueError, match="Couldn't find trained model at"):
        fresh.export_saved_model(str(tmp_path / "e"), receiver())
    estimator = trained(tmp_path)
    with pytest.raises(ValueError, match="An input_receiver_fn must be defined."):
        estimator.export_saved_model(str(tmp_path / "e"), None)
    with pytest.raises(NotImplementedError, match="only ModeKeys.PREDICT"):
        estimator.export_saved_model(str(tmp_path / "e"), receiver(),
                                     experimental_mode=tf.estimator.ModeKeys.TRAIN)
    with pytest.raises(ValueError, match="No valid modes"):
        estimator.experimental_export_all_saved_models(str(tmp_path / "e"), {})

    def not_placeholders():
        x = tf.constant(X)
        return export.ServingInputReceiver({"x": x}, {"x": x})
    with pytest.raises(ValueError, match="is not a tf.compat.v1.placeholder"):
        estimator.export_saved_model(str(tmp_path / "e"), not_placeholders)

    def unfed():
        x = export.placeholder(tf.float32, [None, 3])
        export.placeholder(tf.float32, [None, 1])
        return export.ServingInputReceiver({"x": x}, {"x": x})
    with pytest.raises(ValueError, match="could not feed them"):
        estimator.export_saved_model(str(tmp_path / "e"), unfed)

    def bad_shape():
        x = export.placeholder(tf.float32, [None, None])
        return export.ServingInputReceiver({"x": x}, {"x": x})
    with pytest.raises(ValueError, match="only the first .batch. dimension may be None"):
        estimator.export_saved_model(str(tmp_path / "e"), bad_shape)

    def only_regression(features, labels, mode):
        spec = model_fn(features, labels, mode)
        if mode != tf.estimator.ModeKeys.PREDICT:
            return spec
        return tf.estimator.EstimatorSpec(mode, predictions=spec.predictions, export_outputs={
            "serving_default": export.RegressionOutput(spec.predictions["y"])})
    with pytest.raises(ValueError, match="none of the export outputs can be served"):
        trained(tmp_path, only_regression, name="r").export_saved_model(
            str(tmp_path / "e"), receiver())

    def more_variables(features, labels, mode):
        spec = model_fn(features, labels, mode)
        if mode != tf.estimator.ModeKeys.PREDICT:
            return spec
        extra = tf.Variable(1.0, name="not_in_checkpoint")
        return tf.estimator.EstimatorSpec(mode, predictions=spec.predictions["y"] * extra)
    changed = tf.estimator.Estimator(more_variables, model_dir=estimator.model_dir)
    with pytest.raises(ValueError, match="not_in_checkpoint"):
        changed.export_saved_model(str(tmp_path / "e"), receiver())
    assert not os.path.exists(tmp_path / "e") or os.listdir(tmp_path / "e") == []


def test_timestamped_export_dir_retries_a_taken_second(tmp_path, monkeypatch):
    clock = iter([100.0, 100.0, 101.0])
    monkeypatch.setattr(export.time, "time", lambda: next(clock))
    monkeypatch.setattr(export.time, "sleep", lambda seconds: None)
    (tmp_path / "100").mkdir()
    assert export.get_timestamped_export_dir(str(tmp_path)) == os.fsencode(str(tmp_path / "101"))
    assert export.get_temp_export_dir(b"/a/b/101") == b"/a/b/temp-101"
    monkeypatch.setattr(export.time, "time", lambda: 100.0)
    with pytest.raises(RuntimeError, match="unique export directory"):
        export.get_timestamped_export_dir(str(tmp_path))


def test_model_to_estimator_export_outputs(tmp_path):
    inputs = tf.keras.Input((3,), name="x")
    outputs = tf.keras.layers.Dense(1, name="value")(inputs)
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(KeyError, match="not outputs of the Keras model"):
        tf.keras.estimator.model_to_estimator(model, model_dir=str(tmp_path / "bad"),
                                              export_outputs={"nope": export.PredictOutput})
    estimator = tf.keras.estimator.model_to_estimator(
        model, model_dir=str(tmp_path / "k"), export_outputs={"value": export.PredictOutput})
    found = signatures(read(estimator.export_saved_model(str(tmp_path / "e"), receiver())))
    assert sorted(found) == ["serving_default", "value"]
    assert found["serving_default"][2] == ["value"] and found["value"][2] == ["output"]
    # The Keras model's weights (the model_dir's first checkpoint) are frozen in.
    assert holds(read(estimator.export_saved_model(str(tmp_path / "e2"), receiver())),
                 model.get_layer("value").kernel.numpy())
