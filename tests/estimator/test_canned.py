"""The premade estimators: evaluate/predict keys and model variable names equal TF 2.15's;
labels, vocabularies, weights and errors."""

import os
import sys

import numpy as np
import pytest

import numpyflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import estimator_data  # noqa: E402

fc = tf.feature_column
COLUMNS = [fc.numeric_column(name) for name in estimator_data.IRIS_FEATURES]
FEATURES, LABELS = estimator_data.iris_like(64, seed=5)

# Measured with TF 2.15.1 by tests/fixtures/make_estimator_reference.py (the same estimators,
# data and settings: 2 training steps, batch 16); the full lists are in
# tests/fixtures/estimator/reference_tf215.json.
BINARY_EVAL = ["accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss",
               "global_step", "label/mean", "loss", "precision", "prediction/mean", "recall"]
MULTI_EVAL = ["accuracy", "average_loss", "global_step", "loss"]
REGRESSION_EVAL = ["average_loss", "global_step", "label/mean", "loss", "prediction/mean"]
BINARY_PREDICT = ["all_class_ids", "all_classes", "class_ids", "classes", "logistic", "logits",
                  "probabilities"]
MULTI_PREDICT = ["all_class_ids", "all_classes", "class_ids", "classes", "logits",
                 "probabilities"]
DNN_VARIABLES = ["dnn/hiddenlayer_0/bias", "dnn/hiddenlayer_0/kernel", "dnn/logits/bias",
                 "dnn/logits/kernel"]
LINEAR_VARIABLES = [f"linear/linear_model/{name}/weights" for name in
                    sorted(estimator_data.IRIS_FEATURES)] + ["linear/linear_model/bias_weights"]

MAKERS = {
    "DNNClassifier": lambda n: tf.estimator.DNNClassifier([4], COLUMNS, n_classes=n),
    "LinearClassifier": lambda n: tf.estimator.LinearClassifier(COLUMNS, n_classes=n),
    "DNNLinearCombinedClassifier": lambda n: tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=COLUMNS, dnn_feature_columns=COLUMNS, dnn_hidden_units=[4],
        n_classes=n),
    "BaselineClassifier": lambda n: tf.estimator.BaselineClassifier(n_classes=n),
    "DNNRegressor": lambda n: tf.estimator.DNNRegressor([4], COLUMNS),
    "LinearRegressor": lambda n: tf.estimator.LinearRegressor(COLUMNS),
    "DNNLinearCombinedRegressor": lambda n: tf.estimator.DNNLinearCombinedRegressor(
        linear_feature_columns=COLUMNS, dnn_feature_columns=COLUMNS, dnn_hidden_units=[4]),
    "BaselineRegressor": lambda n: tf.estimator.BaselineRegressor(),
}
# name, case, n_classes, evaluate keys, predict keys, model variables (besides global_step)
TABLE = [
    ("DNNClassifier", "binary", 2, BINARY_EVAL, BINARY_PREDICT, DNN_VARIABLES),
    ("DNNClassifier", "multiclass", 3, MULTI_EVAL, MULTI_PREDICT, DNN_VARIABLES),
    ("LinearClassifier", "binary", 2, BINARY_EVAL, BINARY_PREDICT, LINEAR_VARIABLES),
    ("LinearClassifier", "multiclass", 3, MULTI_EVAL, MULTI_PREDICT, LINEAR_VARIABLES),
    ("DNNLinearCombinedClassifier", "binary", 2, BINARY_EVAL, BINARY_PREDICT,
     DNN_VARIABLES + LINEAR_VARIABLES),
    ("DNNLinearCombinedClassifier", "multiclass", 3, MULTI_EVAL, MULTI_PREDICT,
     DNN_VARIABLES + LINEAR_VARIABLES),
    ("BaselineClassifier", "binary", 2, BINARY_EVAL, BINARY_PREDICT, ["baseline/bias"]),
    ("BaselineClassifier", "multiclass", 3, MULTI_EVAL, MULTI_PREDICT, ["baseline/bias"]),
    ("DNNRegressor", "regression", None, REGRESSION_EVAL, ["predictions"], DNN_VARIABLES),
    ("LinearRegressor", "regression", None, REGRESSION_EVAL, ["predictions"], LINEAR_VARIABLES),
    ("DNNLinearCombinedRegressor", "regression", None, REGRESSION_EVAL, ["predictions"],
     DNN_VARIABLES + LINEAR_VARIABLES),
    ("BaselineRegressor", "regression", None, REGRESSION_EVAL, ["predictions"],
     ["baseline/bias"]),
]


def input_fn(labels, repeat, features=None, batch=16):
    def make():
        dataset = tf.data.Dataset.from_tensor_slices((dict(features or FEATURES), labels))
        return (dataset.repeat() if repeat else dataset).batch(batch)
    return make


def labels_for(case):
    if case == "binary":
        return (LABELS > 0).astype("int32")
    if case == "multiclass":
        return LABELS
    return FEATURES["SepalLength"]


def _optimizer_variable(name):
    return name.split("/")[0] in ("Adagrad", "Ftrl", "Adam") or \
        name.endswith(("/accumulator", "/weights/linear", "/bias_weights/linear",
                       "/bias/linear"))


def test_the_table_matches_the_measured_fixture():
    import json
    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "estimator",
                        "reference_tf215.json")
    with open(path) as f:
        measured = json.load(f)["key_tables"]
    for name, case, _, evaluate_keys, predict_keys, variables in TABLE:
        entry = measured[f"{name}/{case}"]
        assert entry["evaluate"] == evaluate_keys and entry["predict"] == predict_keys
        assert sorted(v for v in entry["variables"] if not v.startswith("training/")) == \
            sorted(variables + ["global_step"])


@pytest.mark.parametrize("name, case, n_classes, evaluate_keys, predict_keys, variables", TABLE,
                         ids=[f"{row[0]}-{row[1]}" for row in TABLE])
def test_keys_and_variables_equal_tf_2_15(tmp_path, name, case, n_classes, evaluate_keys,
                                          predict_keys, variables):
    estimator = MAKERS[name](n_classes)
    labels = labels_for(case)
    estimator.train(input_fn(labels, True), steps=2)
    metrics = estimator.evaluate(input_fn(labels, False))
    assert sorted(metrics) == evaluate_keys
    assert metrics["global_step"] == 2
    prediction = next(iter(estimator.predict(input_fn(labels, False))))
    assert sorted(prediction) == predict_keys
    model_variables = [v for v in estimator.get_variable_names() if not _optimizer_variable(v)]
    assert sorted(model_variables) == sorted(variables + ["global_step"])


def test_binary_predictions_look_like_tf(tmp_path):
    estimator = tf.estimator.LinearClassifier(COLUMNS, model_dir=str(tmp_path))
    labels = labels_for("binary")
    estimator.train(input_fn(labels, True), steps=20)
    prediction = next(iter(estimator.predict(input_fn(labels, False))))
    assert prediction["logits"].shape == (1,) and prediction["logistic"].shape == (1,)
    assert prediction["probabilities"].shape == (2,)
    np.testing.assert_allclose(prediction["probabilities"][1], prediction["logistic"][0],
                               rtol=1e-6)
    assert prediction["class_ids"].tolist() == [int(prediction["logistic"][0] > 0.5)]
    assert prediction["classes"].tolist() == [str(prediction["class_ids"][0]).encode()]
    assert prediction["all_class_ids"].tolist() == [0, 1]
    assert prediction["all_classes"].tolist() == [b"0", b"1"]
    # The dtypes TF 2.15 yields (observed): float32 logits, int64 class_ids, bytes classes,
    # int32 all_class_ids; evaluate gives float32 metrics and an int64 global_step.
    assert {key: value.dtype.str for key, value in prediction.items()} == {
        "logits": "<f4", "logistic": "<f4", "probabilities": "<f4", "class_ids": "<i8",
        "classes": "|O", "all_class_ids": "<i4", "all_classes": "|O"}
    assert isinstance(estimator.get_variable_value("global_step"), np.int64)
    metrics = estimator.evaluate(input_fn(labels, False))
    assert {type(value) for key, value in metrics.items() if key != "global_step"} == \
        {np.float32}
    assert isinstance(metrics["global_step"], np.int64)
    mean = labels.mean()
    assert metrics["label/mean"] == pytest.approx(mean, rel=1e-6)
    assert metrics["accuracy_baseline"] == pytest.approx(max(mean, 1 - mean), rel=1e-6)
    # The evaluation loss is the mean of the batches' losses; one batch: average_loss.
    one = estimator.evaluate(input_fn(labels, False, batch=64))
    assert one["loss"] == pytest.approx(one["average_loss"], rel=1e-5)


def test_label_vocabulary_and_weight_column(tmp_path):
    names = np.array(["setosa", "versicolor", "virginica"])[LABELS]
    features = dict(FEATURES, weight=np.where(LABELS == 0, 0., 1.).astype("float32"))
    estimator = tf.estimator.DNNClassifier(
        [8], COLUMNS, n_classes=3, label_vocabulary=["setosa", "versicolor", "virginica"],
        weight_column="weight", optimizer="Adam", model_dir=str(tmp_path))
    estimator.train(input_fn(names, True, features), steps=30)
    prediction = next(iter(estimator.predict(input_fn(names, False, features))))
    assert prediction["all_classes"].tolist() == [b"setosa", b"versicolor", b"virginica"]
    assert prediction["classes"][0] in (b"setosa", b"versicolor", b"virginica")
    metrics = estimator.evaluate(input_fn(names, False, features))
    # Weighted metrics: the setosa rows (weight 0) do not count.
    ids = np.array([p["class_ids"][0] for p in estimator.predict(input_fn(names, False,
                                                                          features))])
    counted = LABELS != 0
    assert metrics["accuracy"] == pytest.approx(np.mean(ids[counted] == LABELS[counted]),
                                                rel=1e-6)


def test_errors_name_the_key_or_label(tmp_path):
    estimator = tf.estimator.DNNClassifier([4], COLUMNS, n_classes=3, model_dir=str(tmp_path))
    missing = {k: v for k, v in FEATURES.items() if k != "PetalWidth"}
    with pytest.raises(ValueError, match="PetalWidth"):
        estimator.train(input_fn(LABELS, True, missing), steps=1)
    with pytest.raises(ValueError, match=r"Labels must be <= n_classes - 1; received label 3 "
                                         r"with n_classes=3"):
        estimator.train(input_fn(LABELS + 1, True), steps=1)
    vocab = tf.estimator.LinearClassifier(COLUMNS, label_vocabulary=["a", "b"],
                                          model_dir=str(tmp_path / "v"))
    with pytest.raises(ValueError, match=r"labels \['c'\] are not in label_vocabulary"):
        vocab.train(input_fn(np.array(["a", "c"] * 32), True), steps=1)
    with pytest.raises(ValueError, match="features should be a dictionary"):
        estimator.train(lambda: tf.data.Dataset.from_tensor_slices(
            (np.ones((4, 4), "float32"), np.zeros(4, "int32"))).batch(2), steps=1)
    with pytest.raises(ValueError, match="Unsupported optimizer name: Adadelta"):
        tf.estimator.DNNClassifier([4], COLUMNS, optimizer="Adadelta")
    with pytest.raises(ValueError, match="Invalid loss_reduction"):
        tf.estimator.LinearRegressor(COLUMNS, loss_reduction="none")


def test_train_twice_continues_and_optimizer_objects_are_copied(tmp_path):
    optimizer = tf.keras.optimizers.Adam(0.05)
    estimator = tf.estimator.DNNRegressor([8], COLUMNS, optimizer=optimizer,
                                          model_dir=str(tmp_path))
    labels = labels_for("regression")
    estimator.train(input_fn(labels, True), steps=40)
    first = estimator.evaluate(input_fn(labels, False))
    estimator.train(input_fn(labels, True), steps=40)
    second = estimator.evaluate(input_fn(labels, False))
    assert second["global_step"] == 80 and second["average_loss"] < first["average_loss"]
    assert int(optimizer.iterations.numpy()) == 0  # The given object itself is not used.
    assert int(estimator.get_variable_value("Adam/iteration")) == 80


def _train_loss(head, features, logits, labels):
    from numpyflow.estimator.model_fn import ModeKeys
    spec = head.create_estimator_spec(features, ModeKeys.TRAIN, tf.constant(logits), labels,
                                      train_op_fn=lambda loss: "op")
    return float(spec.loss)


def test_head_weight_column_is_read_as_a_numeric_column_as_in_tf():
    from numpyflow.estimator.canned.head import ClassificationHead, RegressionHead
    logits, labels = [[1.], [2.]], np.array([[2.], [3.]], np.float32)  # squared errors 1, 1
    weights = {"w": np.array([1., 0.], np.float32)}
    plain = RegressionHead(1, "DNNRegressor", weight_column="w")
    assert _train_loss(plain, weights, logits, labels) == pytest.approx(0.5)
    # TF applies the weight column's normalizer_fn (it reads the column's dense tensor).
    doubled = RegressionHead(1, "DNNRegressor", weight_column=tf.feature_column.numeric_column(
        "w", normalizer_fn=lambda w: w * 2.))
    assert _train_loss(doubled, weights, logits, labels) == pytest.approx(1.0)
    # Regression allows one weight per logit; classification one per example only.
    per_logit = RegressionHead(2, "DNNRegressor",
                               weight_column=tf.feature_column.numeric_column("w", shape=2))
    assert _train_loss(per_logit, {"w": np.array([[1., 0.], [0., 0.]], np.float32)},
                       [[1., 1.], [2., 2.]], np.array([[2., 2.], [3., 3.]], np.float32)) == \
        pytest.approx(0.25)
    head = ClassificationHead(3, "DNNClassifier", weight_column=tf.feature_column.numeric_column(
        "w", shape=3))
    with pytest.raises(ValueError, match=r"DNNClassifier: weight_column 'w'.*shape \(2, 3\)"):
        _train_loss(head, {"w": np.ones((2, 3), np.float32)}, np.zeros((2, 3), np.float32),
                    np.array([[0], [1]]))
    with pytest.raises(TypeError, match="Weight column must be either a string or "
                                        "NumericColumn"):
        ClassificationHead(3, "DNNClassifier", weight_column=3)


def test_binary_head_takes_float_labels_in_0_1_as_tf():
    # TF's BinaryClassHead casts the labels to float32 and checks 0 <= label <= 1, so 0./1.
    # labels (and soft labels) train; multi-class heads need integer ids.
    from numpyflow.estimator.canned.head import ClassificationHead
    from numpyflow.estimator.model_fn import ModeKeys
    head = ClassificationHead(2, "DNNClassifier")
    logits = tf.constant([[0.5], [-1.]])
    hard = _train_loss(head, {}, [[0.5], [-1.]], np.array([1., 0.], np.float32))
    assert hard == pytest.approx(_train_loss(head, {}, [[0.5], [-1.]], np.array([1, 0])))
    soft = _train_loss(head, {}, [[0.5], [-1.]], np.array([0.25, 0.5], np.float64))
    x, z = np.array([0.5, -1.]), np.array([0.25, 0.5])
    assert soft == pytest.approx(np.mean(np.maximum(x, 0) - x * z + np.log1p(np.exp(-abs(x)))),
                                 rel=1e-6)
    spec = head.create_estimator_spec({}, ModeKeys.EVAL, logits, np.array([[1.], [0.]]))
    assert float(spec.eval_metric_ops["accuracy"].result()) == 1.0
    with pytest.raises(ValueError, match=r"DNNClassifier: Labels must be <= n_classes - 1; "
                                         r"received label 1.5"):
        _train_loss(head, {}, [[0.5], [-1.]], np.array([1.5, 0.]))
    with pytest.raises(ValueError, match=r"DNNClassifier: labels must be finite; received "
                                         r"\[nan\]"):
        _train_loss(head, {}, [[0.5], [-1.]], np.array([np.nan, 0.]))
    with pytest.raises(ValueError, match="labels must be integer class ids"):
        _train_loss(ClassificationHead(3, "DNNClassifier"), {}, np.zeros((2, 3), np.float32),
                    np.array([1., 0.]))
