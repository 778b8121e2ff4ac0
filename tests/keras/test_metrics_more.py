"""Tests for the confusion-matrix, F-score, IoU and top-k metrics and custom Metric subclasses.

Values are checked three ways: small hand-computed cases, NumPy references written here,
and numbers pinned from real Keras 3.15 (TF 2.21) on the same seeded data (two batches
each, so accumulation is covered). Then each metric runs in `compile(metrics=...)` + `fit`
/ `evaluate`, compiled into a plan, under the log name Keras gives it.
"""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras
from numpyflow.keras import metrics

EPSILON = 1e-7


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=atol)


# -- seeded data, as given to real Keras -------------------------------------------------

RNG = np.random.default_rng(7)
YB = (RNG.uniform(size=(40,)) > 0.4).astype(np.float32)          # binary labels
PB = np.clip(YB * 0.3 + RNG.uniform(size=(40,)) * 0.7, 0, 1).astype(np.float32)
PB[:3] = [0.0, 1.0, 0.5]                                          # edges: 0, 1, a threshold
SW = RNG.uniform(0.1, 2, size=(40,)).astype(np.float32)
YM = (RNG.uniform(size=(30, 4)) > 0.5).astype(np.float32)        # multi-label
PM = RNG.uniform(size=(30, 4)).astype(np.float32)
SWM = RNG.uniform(0.1, 2, size=(30,)).astype(np.float32)
LOGITS = RNG.normal(size=(40,)).astype(np.float32) * 2
YC = np.eye(5, dtype=np.float32)[RNG.integers(0, 5, size=25)]    # one-hot, 5 classes
PC = RNG.uniform(size=(25, 5)).astype(np.float32)
SEG_T = RNG.integers(0, 4, size=(3, 6, 6))                        # segmentation labels
SEG_T[0, 0, :3] = 255                                             # "void" pixels
SEG_P = RNG.uniform(size=(3, 6, 6, 4)).astype(np.float32)
SEG_W = RNG.integers(0, 3, size=(3, 6, 6))

# (class, arguments, inputs, sample_weight, the result of real Keras 3.15)
KERAS_CASES = [
    ("AUC", {}, (YB, PB), None, 0.7838875),
    ("AUC", {}, (YB, PB), SW, 0.8118225),
    ("AUC", dict(curve="PR"), (YB, PB), None, 0.8579947),
    ("AUC", dict(curve="PR"), (YB, PB), SW, 0.8345544),
    ("AUC", dict(curve="PR", summation_method="minoring"), (YB, PB), None, 0.8113207),
    ("AUC", dict(summation_method="majoring", num_thresholds=17), (YB, PB), None, 0.8260869),
    ("AUC", dict(curve="PRGAIN"), (YB, PB), None, 0.4682221),
    ("AUC", dict(thresholds=[0.1, 0.35, 0.6, 0.8]), (YB, PB), None, 0.769821),
    ("AUC", dict(thresholds=[0.25, 0.5, 0.75]), (YB, PB), SW, 0.8173803),
    ("AUC", dict(from_logits=True), (YB, LOGITS), None, 0.4424552),
    ("AUC", dict(multi_label=True), (YM, PM), None, 0.516382),
    ("AUC", dict(multi_label=True, label_weights=[1., 2., 0.5, 0.]), (YM, PM), SWM, 0.538992),
    ("AUC", dict(label_weights=[1., 2., 0.5, 0.]), (YM, PM), None, 0.5162122),
    ("AUC", dict(multi_label=True, curve="PR"), (YM, PM), None, 0.6162393),
    ("AUC", dict(num_thresholds=5), (YM, PM), SWM, 0.5463767),
    ("Precision", {}, (YB, PB), None, 0.7619048),
    ("Precision", {}, (YB, PB), SW, 0.7636867),
    ("Precision", dict(thresholds=[0.2, 0.5, 0.9]), (YB, PB), SW, [0.5445834, 0.7636867, 1.0]),
    ("Precision", dict(thresholds=[0., 0.5, 1.]), (YB, PB), None, [0.5641026, 0.7619048, 0.0]),
    ("Precision", dict(top_k=2), (YC, PC), None, 0.18),
    ("Precision", dict(class_id=3), (YC, PC), None, 0.2307692),
    ("Precision", dict(top_k=2, class_id=1), (YC, PC), None, 0.0),
    ("Recall", {}, (YB, PB), SW, 0.684617),
    ("Recall", dict(thresholds=[0.2, 0.5, 0.9]), (YM, PM), SWM, [0.7012379, 0.4931307, 0.0530387]),
    ("Recall", dict(top_k=1), (YC, PC), None, 0.08),
    ("Recall", dict(class_id=0, thresholds=0.3), (YC, PC), None, 0.8571429),
    ("TruePositives", {}, (YB, PB), SW, 14.0919476),
    ("FalsePositives", dict(thresholds=[0.3, 0.7]), (YB, PB), None, [11.0, 0.0]),
    ("TrueNegatives", {}, (YM, PM), SWM, 29.575285),
    ("FalseNegatives", dict(thresholds=[0.15, 0.5, 0.85]), (YB, PB), SW,
     [0.4656806, 6.4917459, 17.084816]),
    ("F1Score", {}, (YC, PC), None, [0.1538461, 0.0, 0.0, 0.1538461, 0.0]),
    ("F1Score", dict(average="micro"), (YC, PC), None, 0.0799999),
    ("F1Score", dict(average="macro", threshold=0.5), (YM, PM), SWM, 0.5510066),
    ("F1Score", dict(average="weighted"), (YM, PM), None, 0.3767287),
    ("FBetaScore", dict(beta=2.0, threshold=0.4), (YM, PM), None,
     [0.5434783, 0.5128205, 0.5063291, 0.6043956]),
    ("FBetaScore", dict(beta=0.5, average="macro"), (YC, PC), SWM[:25], 0.0798217),
    ("MeanIoU", dict(num_classes=4, sparse_y_pred=False, ignore_class=255), (SEG_T, SEG_P),
     None, 0.1935266),
    ("MeanIoU", dict(num_classes=4, sparse_y_pred=False), (SEG_T, SEG_P), SEG_W, 0.2591263),
    ("MeanIoU", dict(num_classes=5), (SEG_T, SEG_P.argmax(-1)), None, 0.1935266),
    ("MeanIoU", dict(num_classes=4, ignore_class=2, sparse_y_pred=False),
     (SEG_T.clip(0, 3), SEG_P), SEG_W, 0.2230090),
    ("IoU", dict(num_classes=4, target_class_ids=[1, 3], sparse_y_pred=False), (SEG_T, SEG_P),
     None, 0.2449128),
    ("BinaryIoU", dict(threshold=0.4), (YB, PB), None, 0.4780303),
    ("BinaryIoU", dict(target_class_ids=[1]), (YB, PB), SW.round(), 0.6399999),
    ("OneHotMeanIoU", dict(num_classes=5), (YC, PC), None, 0.0333333),
    ("OneHotIoU", dict(num_classes=5, target_class_ids=[0, 4]), (YC, PC), None, 0.0416667),
    ("TopKCategoricalAccuracy", dict(k=2), (YC, PC), None, 0.36),
    ("SparseTopKCategoricalAccuracy", dict(k=3), (YC.argmax(-1), PC), SWM[:25], 0.7215556),
    ("Sum", {}, (PB,), SW, 21.0905056),
    ("Mean", {}, (PM,), SWM, 0.4853514),
]


def _in_two_batches(metric, inputs, sample_weight):
    half = len(inputs[0]) // 2
    for part in (slice(0, half), slice(half, None)):
        metric.update_state(*(x[part] for x in inputs),
                            sample_weight=None if sample_weight is None else sample_weight[part])
    return metric.result()


@pytest.mark.parametrize("class_name, kwargs, inputs, sample_weight, expected", KERAS_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_CASES)])
def test_matches_keras_3(class_name, kwargs, inputs, sample_weight, expected):
    metric = getattr(metrics, class_name)(**kwargs)
    _close(_in_two_batches(metric, inputs, sample_weight), expected)


# -- NumPy references ----------------------------------------------------------------------

def _np_counts(y, p, thresholds, w=None):
    """(tp, fp, tn, fn) at each threshold: positive when strictly above it."""
    w = np.ones_like(p) if w is None else np.broadcast_to(w, p.shape)
    y, p, w = y.ravel() != 0, p.ravel(), w.ravel()
    above = p[None, :] > np.asarray(thresholds)[:, None]
    return ((above & y) @ w, (above & ~y) @ w, (~above & ~y) @ w, (~above & y) @ w)


def _np_roc_auc(y, p, num_thresholds=200, w=None):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    tp, fp, tn, fn = _np_counts(y, p, [-EPSILON] + inner + [1 + EPSILON], w)
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def test_precision_recall_counts_match_numpy_at_many_thresholds():
    thresholds = [0.05, 0.3, 0.45, 0.5, 0.61, 0.99]
    tp, fp, tn, fn = _np_counts(YB, PB, thresholds, SW)
    for cls, expected in [(metrics.TruePositives, tp), (metrics.FalsePositives, fp),
                          (metrics.TrueNegatives, tn), (metrics.FalseNegatives, fn),
                          (metrics.Precision, tp / (tp + fp)), (metrics.Recall, tp / (tp + fn))]:
        _close(cls(thresholds=thresholds)(YB, PB, sample_weight=SW), expected)


def test_auc_matches_a_numpy_riemann_sum_and_is_near_the_exact_roc_auc():
    auc = metrics.AUC()
    _close(auc(YB, PB, sample_weight=SW), _np_roc_auc(YB, PB, w=SW))
    # The probability that a positive scores above a negative (ties count half).
    pos, neg = PB[YB == 1], PB[YB == 0]
    exact = np.mean((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None]))
    assert abs(float(metrics.AUC(num_thresholds=1000)(YB, PB)) - exact) < 5e-3


def test_auc_perfect_and_inverted_rankings():
    y, p = [0, 0, 1, 1], [0.1, 0.4, 0.6, 0.9]
    assert float(metrics.AUC()(y, p)) == pytest.approx(1.)
    assert float(metrics.AUC()(y, [1 - v for v in p])) == pytest.approx(0.)
    assert float(metrics.AUC(curve="PR")(y, p)) == pytest.approx(1.)


def test_hand_computed_confusion_numbers():
    y, p = [0, 1, 1, 1], [1, 0, 1, 1]
    assert float(metrics.Precision()(y, p)) == pytest.approx(2 / 3)
    assert float(metrics.Recall()(y, p)) == pytest.approx(2 / 3)
    # top_k=1: only the 1.0 of class 0 counts as positive, and class 0 is labelled 0.
    assert float(metrics.Precision(top_k=1)([[0, 0, 1, 1]], [[1, 1, 0.5, 0]])) == 0.
    # Ties in top_k go to the lower index, as tf.math.top_k picks them.
    assert float(metrics.Recall(top_k=1)([[0, 1]], [[0.5, 0.5]])) == 0.
    assert float(metrics.Recall(top_k=1)([[1, 0]], [[0.5, 0.5]])) == 1.
    # 3 thresholds [0, 0.5, 1] give ROC points (1, 1), (0.5, 0.5), (0, 0) -> 0.5; here the
    # positives 0.3 and 0.9 against negatives 0 and 0.5 give 0.75.
    assert float(metrics.AUC(num_thresholds=3)([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])) == 0.75


def test_f1_matches_numpy_per_class_and_averaged():
    predicted = (PM > 0.5)
    truth = YM != 0
    tp = (predicted & truth).sum(0)
    fp = (predicted & ~truth).sum(0)
    fn = (~predicted & truth).sum(0)
    precision = tp / (tp + fp + EPSILON)
    recall = tp / (tp + fn + EPSILON)
    f1 = 2 * precision * recall / (precision + recall + EPSILON)
    _close(metrics.F1Score(threshold=0.5)(YM, PM), f1)
    _close(metrics.F1Score(average="macro", threshold=0.5)(YM, PM), f1.mean())
    support = truth.sum(0)
    _close(metrics.F1Score(average="weighted", threshold=0.5)(YM, PM),
           (f1 * support / support.sum()).sum())


def test_f1_default_threshold_takes_each_samples_highest_score():
    metric = metrics.F1Score(average="micro")
    # The argmax is right for the first sample only: precision = recall = 1/2.
    _close(metric([[0, 1, 0], [1, 0, 0]], [[0.1, 0.8, 0.1], [0.2, 0.3, 0.5]]), 0.5)


def test_mean_iou_matches_numpy_confusion_matrix():
    labels, predicted = SEG_T.ravel(), SEG_P.argmax(-1).ravel()
    keep = labels != 255
    cm = np.zeros((4, 4))
    np.add.at(cm, (labels[keep], predicted[keep]), SEG_W.ravel()[keep])
    tp = np.diag(cm)
    iou = tp / (cm.sum(0) + cm.sum(1) - tp)
    metric = metrics.MeanIoU(num_classes=4, sparse_y_pred=False, ignore_class=255)
    _close(metric(SEG_T, SEG_P, sample_weight=SEG_W), iou.mean())
    np.testing.assert_array_equal(metric.total_cm.numpy(), cm)
    assert metric.total_cm.dtype == tf.int64  # Counts are integers, as in Keras.


def test_ignore_class_leaves_its_pixels_out():
    # Without ignore_class, the two 0 -> 1 pixels would make it (0 + 1/3 + 1) / 3.
    _close(metrics.MeanIoU(3, ignore_class=0)([0, 0, 1, 2], [1, 1, 1, 2]), 1.)
    _close(metrics.MeanIoU(3)([0, 0, 1, 2], [1, 1, 1, 2]), (0 + 1 / 3 + 1) / 3)


def test_iou_of_classes_never_seen_is_left_out_of_the_mean():
    metric = metrics.MeanIoU(num_classes=3)
    _close(metric([0, 0, 1, 1], [0, 1, 0, 1]), (1 / 3 + 1 / 3) / 2)


def test_sparse_top_k_from_sorted_ids():
    metric = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    _close(metric([2, 2, 0], [[1, 2, 0], [1, 0, 2], [0, 1, 2]]), 2 / 3)
    assert metric.get_config()["from_sorted_ids"] is True
    assert "from_sorted_ids" not in metrics.SparseTopKCategoricalAccuracy().get_config()


# -- state: accumulation, reset, plans -----------------------------------------------------

NEW_METRICS = [
    lambda: metrics.AUC(), lambda: metrics.AUC(curve="PR", multi_label=True),
    lambda: metrics.Precision(thresholds=[0.3, 0.6]), lambda: metrics.Recall(top_k=2),
    lambda: metrics.TruePositives(), lambda: metrics.F1Score(average="macro"),
    lambda: metrics.FBetaScore(beta=2.0), lambda: metrics.MeanIoU(4, sparse_y_pred=False),
    lambda: metrics.OneHotMeanIoU(4), lambda: metrics.BinaryIoU(),
]


def _batch(metric):
    name = type(metric).__name__
    if name == "MeanIoU":
        return SEG_T[:2].clip(0, 3), SEG_P[:2]
    if name == "BinaryIoU":
        return YB[:8], PB[:8]
    return YM[:8], PM[:8]


@pytest.mark.parametrize("make", NEW_METRICS)
def test_accumulates_like_one_batch_and_resets(make):
    y, p = _batch(make())
    whole = make()
    whole.update_state(y, p)
    split = make()
    split.update_state(y[:3], p[:3])
    split.update_state(y[3:], p[3:])
    _close(split.result(), whole.result().numpy())
    split.reset_state()
    assert all(not np.any(v.numpy()) for v in split.variables)
    split.update_state(y, p)
    _close(split.result(), whole.result().numpy())


@pytest.mark.parametrize("make", NEW_METRICS)
def test_update_state_compiles_into_a_plan(make):
    # Variables change in place through assign_add: the plan updates them, no value is
    # read into Python (which would keep the function eager).
    metric, reference = make(), make()
    y, p = _batch(metric)
    update = tf.function(lambda y_true, y_pred: metric.update_state(y_true, y_pred))
    for _ in range(4):
        update(tf.constant(y), tf.constant(p))
        reference.update_state(y, p)
    assert update.eager_reasons() == []
    assert len(update.plan_sources()) == 1
    _close(metric.result(), reference.result().numpy())


# -- configs and names ---------------------------------------------------------------------

@pytest.mark.parametrize("metric, expected", [
    (metrics.AUC(), {"name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
                     "summation_method": "interpolation", "multi_label": False,
                     "num_labels": None, "label_weights": None, "from_logits": False}),
    (metrics.AUC(thresholds=[0.3, 0.6], name="a"),
     {"name": "a", "dtype": "float32", "num_thresholds": 4, "curve": "ROC",
      "summation_method": "interpolation", "multi_label": False, "num_labels": None,
      "label_weights": None, "from_logits": False, "thresholds": [0.3, 0.6]}),
    (metrics.Precision(), {"name": "precision", "dtype": "float32", "thresholds": None,
                           "top_k": None, "class_id": None}),
    (metrics.Recall(top_k=3), {"name": "recall", "dtype": "float32", "thresholds": None,
                               "top_k": 3, "class_id": None}),
    (metrics.TruePositives(), {"name": "true_positives", "dtype": "float32",
                               "thresholds": None}),
    (metrics.F1Score(), {"name": "f1_score", "dtype": "float32", "average": None,
                         "threshold": None}),
    (metrics.FBetaScore(beta=2.0), {"name": "fbeta_score", "dtype": "float32",
                                    "average": None, "beta": 2.0, "threshold": None}),
    (metrics.MeanIoU(3), {"num_classes": 3, "name": "mean_io_u", "dtype": "int64",
                          "ignore_class": None, "sparse_y_true": True,
                          "sparse_y_pred": True, "axis": -1}),
    (metrics.IoU(3, [0]), {"name": "io_u", "dtype": "int64", "num_classes": 3,
                           "target_class_ids": [0], "ignore_class": None,
                           "sparse_y_true": True, "sparse_y_pred": True, "axis": -1}),
    (metrics.BinaryIoU(), {"target_class_ids": [0, 1], "threshold": 0.5,
                           "name": "binary_io_u", "dtype": "int64"}),
], ids=lambda value: type(value).__name__ if isinstance(value, metrics.Metric) else "")
def test_config_is_keras_3s_and_round_trips(metric, expected):
    # The expected configs are what Keras 3.15 gives for the same objects.
    assert metric.get_config() == expected
    restored = metrics.deserialize(metrics.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == expected
    assert metrics.serialize(metric)["module"] == "keras.metrics"


@pytest.mark.parametrize("name, cls", [
    ("auc", metrics.AUC), ("precision", metrics.Precision), ("recall", metrics.Recall),
    ("f1_score", metrics.F1Score), ("true_positives", metrics.TruePositives),
    ("false_negatives", metrics.FalseNegatives), ("sum", metrics.Sum), ("mean", metrics.Mean),
    ("AUC", metrics.AUC), ("MeanIoU", None)])
def test_string_names(name, cls):
    if cls is None:  # A class that needs arguments cannot be made from its name.
        with pytest.raises(TypeError, match="num_classes"):
            metrics.get(name)
        return
    first, second = metrics.get(name), metrics.get(name)
    assert type(first) is cls and first is not second
    assert first.name == keras.backend.snake_case(cls.__name__)


@pytest.mark.parametrize("make, message", [
    (lambda: metrics.AUC(curve="XY"), 'Invalid `curve` argument value "XY"'),
    (lambda: metrics.AUC(summation_method="trapezoid"), "Invalid AUC summation method"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds=1"),
    (lambda: metrics.AUC(num_labels=3), "`num_labels` is needed only when `multi_label`"),
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), r"\[0, 1\]. Received: \[1.5\]"),
    (lambda: metrics.F1Score(average="mean"), "average='mean'"),
    (lambda: metrics.F1Score(threshold=1), "threshold=1 of type 'int'"),
    (lambda: metrics.FBetaScore(beta=0.), "beta=0.0"),
    (lambda: metrics.IoU(3, [1, 3]), r"\[1, 3\] are out of range, which is \[0, 3\)"),
    (lambda: metrics.MeanIoU(0), "num_classes=0"),
])
def test_bad_arguments_say_what_was_received(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_name_the_shapes():
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4,\) and y_true.shape=\(4,\)"):
        metrics.F1Score()(YB[:4], PB[:4])
    with pytest.raises(ValueError, match=r"must have rank 2 when `multi_label=True`"):
        metrics.AUC(multi_label=True)(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\), y_pred.shape=\(4,\)"):
        metrics.Precision()(YB[:3], PB[:4])
    with pytest.raises(ValueError, match="class_id is provided"):
        metrics.Precision(class_id=1)(YB[:3], PB[:3])


# -- in compile + fit / evaluate -----------------------------------------------------------

def _binary_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = (x[:, :1] + 0.5 * rng.normal(size=(48, 1)) > 0).astype(np.float32)
    return x, y


def _binary_model(metric_list, run_eagerly=False):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy", metrics=metric_list,
                  run_eagerly=run_eagerly)
    model.layers[0].set_weights([np.full((4, 1), 0.1, np.float32), np.zeros(1, np.float32)])
    return model


def _binary_metrics():
    return ["auc", "precision", "recall", metrics.AUC(curve="PR", name="pr_auc"),
            metrics.F1Score(average="macro", threshold=0.5), metrics.TruePositives(),
            metrics.BinaryIoU()]


def test_fit_and_evaluate_log_keras_names_with_compiled_plans():
    x, y = _binary_data()
    model = _binary_model(_binary_metrics())
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    names = ["loss", "auc", "precision", "recall", "pr_auc", "f1_score", "true_positives",
             "binary_io_u"]
    assert list(history.history) == names
    assert model.train_function.eager_reasons() == [] and model.train_function.plan_sources()
    logs = dict(zip(model.metrics_names, model.evaluate(x, y, batch_size=16, verbose=0)))
    assert model.test_function.eager_reasons() == [] and model.test_function.plan_sources()
    # evaluate's values are the metrics of the trained model's predictions, all at once.
    predictions = model.predict(x, verbose=0)
    for name, metric in [("auc", metrics.AUC()), ("precision", metrics.Precision()),
                         ("recall", metrics.Recall()), ("pr_auc", metrics.AUC(curve="PR")),
                         ("f1_score", metrics.F1Score(average="macro", threshold=0.5)),
                         ("true_positives", metrics.TruePositives()),
                         ("binary_io_u", metrics.BinaryIoU())]:
        _close(logs[name], metric(y, predictions).numpy())


def test_compiled_plans_give_the_eager_numbers():
    x, y = _binary_data()
    compiled = _binary_model(_binary_metrics()).fit(x, y, batch_size=16, epochs=2, verbose=0,
                                                    shuffle=False).history
    eager = _binary_model(_binary_metrics(), run_eagerly=True).fit(
        x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    assert compiled.keys() == eager.keys()
    for name in compiled:
        _close(compiled[name], eager[name], rtol=1e-6)


def test_segmentation_mean_iou_in_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 6, 6, 2)).astype(np.float32)
    y = (x[..., 0] > 0).astype(np.int64) + (x[..., 1] > 1)
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              keras.layers.Conv2D(3, 3, padding="same", activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=[metrics.MeanIoU(num_classes=3, sparse_y_pred=False)])
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert list(history.history) == ["loss", "mean_io_u"]
    assert model.train_function.eager_reasons() == []
    _, miou = model.evaluate(x, y, batch_size=4, verbose=0)
    reference = metrics.MeanIoU(num_classes=3, sparse_y_pred=False)
    _close(miou, reference(y, model.predict(x, verbose=0)).numpy())


def test_top_k_metrics_in_fit():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 6)).astype(np.float32)
    labels = rng.integers(0, 6, size=30)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(6, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=[metrics.SparseTopKCategoricalAccuracy(k=2),
                           "sparse_top_k_categorical_accuracy"])
    history = model.fit(x, labels, batch_size=10, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "sparse_top_k_categorical_accuracy",
                                     "sparse_top_k_categorical_accuracy_1"]
    _, top2, top5 = model.evaluate(x, labels, verbose=0)
    scores = model.predict(x, verbose=0)
    rank = (scores > scores[np.arange(30), labels][:, None]).sum(-1)
    _close(top2, np.mean(rank < 2))
    _close(top5, np.mean(rank < 5))


class BinaryTruePositives(keras.metrics.Metric):
    """The Keras 3 guide's custom metric: a count in a state variable."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.bool)
        y_pred = tf.cast(y_pred > 0.5, tf.bool)
        values = tf.cast(tf.logical_and(y_true, y_pred), self.dtype)
        if sample_weight is not None:
            values = values * tf.cast(sample_weight, self.dtype)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.)


class WeightedMeanError(keras.metrics.Metric):
    """A TF 2.x-tutorial style metric: add_weight with a name first, two variables."""

    def __init__(self, name="weighted_mean_error", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_weight("total", initializer="zeros")
        self.count = self.add_weight("count", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = tf.abs(tf.cast(y_true, self.dtype) - y_pred)
        self.total.assign_add(tf.reduce_sum(error))
        self.count.assign_add(tf.cast(tf.size(error), self.dtype))

    def result(self):
        return tf.math.divide_no_nan(self.total, self.count)


def test_custom_metric_subclasses_in_fit_compiled():
    x, y = _binary_data()
    model = _binary_model([BinaryTruePositives(), WeightedMeanError()])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert list(history.history) == ["loss", "binary_true_positives", "weighted_mean_error"]
    assert model.train_function.eager_reasons() == [] and model.train_function.plan_sources()
    _, true_positives, error = model.evaluate(x, y, batch_size=16, verbose=0)
    predictions = model.predict(x, verbose=0)
    assert true_positives == np.sum((predictions > 0.5) & (y == 1))
    _close(error, np.abs(y - predictions).mean())
    # Each epoch starts from the state reset_state gives (the per-epoch counts stay small).
    assert max(history.history["binary_true_positives"]) <= np.sum(y)


def test_vector_results_in_fit_logs():
    x, y = _binary_data()
    model = _binary_model([metrics.F1Score()])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert np.asarray(history.history["f1_score"][0]).shape == (1,)
