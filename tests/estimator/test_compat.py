"""tf.compat.v1 for Estimator programs: global step, v1 optimizers, numpy_input_fn, metrics,
losses, logging; keras.optimizers.Ftrl; tf.variable_creator_scope."""

import logging

import numpy as np
import pytest

import numpyflow as tf

v1 = tf.compat.v1


def test_v1_optimizers_outside_an_estimator_step_at_once():
    v = tf.Variable([1., -2.])
    step = v1.train.get_or_create_global_step()
    op = v1.train.GradientDescentOptimizer(0.25).minimize(lambda: tf.reduce_sum(v * v),
                                                          global_step=step)
    assert op.done
    np.testing.assert_allclose(v.numpy(), [0.5, -1.])  # v - 0.25 * 2v
    assert int(step.numpy()) == 1
    assert v1.train.get_global_step() is step
    with pytest.raises(ValueError, match='"global_step" already exists.'):
        v1.train.create_global_step()


@pytest.mark.parametrize("make_v1, make_keras", [
    (lambda: v1.train.AdamOptimizer(0.1), lambda: tf.keras.optimizers.Adam(0.1, epsilon=1e-8)),
    (lambda: v1.train.MomentumOptimizer(0.1, 0.9),
     lambda: tf.keras.optimizers.SGD(0.1, momentum=0.9)),
    (lambda: v1.train.AdagradOptimizer(0.1), lambda: tf.keras.optimizers.Adagrad(0.1)),
    (lambda: v1.train.RMSPropOptimizer(0.1),
     lambda: tf.keras.optimizers.RMSprop(0.1, rho=0.9, epsilon=1e-10)),
])
def test_v1_optimizers_update_as_the_keras_ones(make_v1, make_keras):
    a, b = tf.Variable([1., 2.]), tf.Variable([1., 2.])
    optimizer_v1, optimizer_keras = make_v1(), make_keras()
    for _ in range(3):
        optimizer_v1.minimize(lambda: tf.reduce_sum(tf.square(a - 3.)), var_list=[a])
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(b - 3.))
        optimizer_keras.apply_gradients(zip(tape.gradient(loss, [b]), [b]))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert not np.allclose(a.numpy(), [1., 2.])


def test_minimize_with_a_tensor_outside_an_estimator_is_explained():
    v = tf.Variable(1.)
    with pytest.raises(RuntimeError, match="inside an Estimator's model_fn"):
        v1.train.GradientDescentOptimizer(0.1).minimize(v * v)


def test_ftrl_matches_a_numpy_reference():
    lr, power, l1, l2, shrink, beta, init = 0.1, -0.5, 0.01, 0.02, 0.03, 0.5, 0.1
    w = np.array([0.5, -0.3, 0.0])
    n, z = np.full(3, init), np.zeros(3)
    v = tf.Variable(w.astype("float32"))
    opt = tf.keras.optimizers.Ftrl(lr, learning_rate_power=power, initial_accumulator_value=init,
                                   l1_regularization_strength=l1, l2_regularization_strength=l2,
                                   l2_shrinkage_regularization_strength=shrink, beta=beta)
    for g in ([0.2, -0.1, 0.4], [0.1, 0.3, -0.2], [-0.5, 0.2, 0.1]):
        g = np.array(g)
        opt.apply_gradients([(tf.constant(g.astype("float32")), v)])
        n_new = n + g ** 2
        z = z + g + 2 * shrink * w - (n_new ** -power - n ** -power) / lr * w
        quadratic = n_new ** -power / lr + 2 * (l2 + beta / (2 * lr))
        w = (np.clip(z, -l1, l1) - z) / quadratic
        n = n_new
    np.testing.assert_allclose(v.numpy(), w, rtol=1e-5, atol=1e-7)
    assert tf.keras.optimizers.get("ftrl").get_config()["learning_rate_power"] == -0.5


def test_numpy_input_fn_batches_epochs_and_checks():
    x = {"a": np.arange(5.)}
    fn = v1.estimator.inputs.numpy_input_fn(x, np.arange(5), batch_size=2, num_epochs=2,
                                            shuffle=False)
    batches = [labels.numpy().tolist() for _, labels in fn()]
    assert batches == [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]]
    shuffled = v1.estimator.inputs.numpy_input_fn(x, np.arange(5), batch_size=5, shuffle=True)
    (features, labels), = list(shuffled())
    np.testing.assert_array_equal(features["a"].numpy(), labels.numpy().astype("float64"))
    with pytest.raises(ValueError, match="shuffle must be provided and explicitly set as "
                                         "boolean"):
        v1.estimator.inputs.numpy_input_fn(x, np.arange(5))
    with pytest.raises(ValueError, match="same first dimension"):
        v1.estimator.inputs.numpy_input_fn(x, np.arange(4), shuffle=False)


def test_v1_metrics_accumulate_and_return_pairs():
    value, update_op = v1.metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 0])
    assert float(value) == 0.5 and float(update_op) == 0.5
    mean, _ = v1.metrics.mean([1., 2., 6.])
    assert float(mean) == 3.0
    rmse, _ = v1.metrics.root_mean_squared_error([0., 0.], [3., 4.])
    assert float(rmse) == pytest.approx(np.sqrt(12.5))
    auc, _ = v1.metrics.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert float(auc) == pytest.approx(0.75, abs=0.01)
    with pytest.raises(NotImplementedError, match="metrics_collections"):
        v1.metrics.accuracy([1], [1], metrics_collections=["x"])


def test_v1_losses_match_numpy():
    logits = np.array([[2., 0.5, -1.], [0., 1., 3.]], "float32")
    labels = np.array([0, 2])
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -np.mean(log_softmax[np.arange(2), labels])
    got = v1.losses.sparse_softmax_cross_entropy(labels, tf.constant(logits))
    assert float(got) == pytest.approx(expected, rel=1e-6)
    weighted = v1.losses.sparse_softmax_cross_entropy(labels, tf.constant(logits),
                                                      weights=[1., 0.])
    assert float(weighted) == pytest.approx(-log_softmax[0, 0], rel=1e-6)  # by nonzero weights
    z, x = np.array([1., 0.]), np.array([0.3, -2.])
    sigmoid = v1.losses.sigmoid_cross_entropy(z, tf.constant(x.astype("float32")))
    p = 1 / (1 + np.exp(-x))
    assert float(sigmoid) == pytest.approx(-np.mean(z * np.log(p) + (1 - z) * np.log(1 - p)),
                                           rel=1e-5)
    assert float(v1.losses.mean_squared_error([1., 2.], [2., 4.])) == 2.5
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        v1.losses.mean_squared_error([1.], [1.], reduction="bogus")


def test_v1_losses_weights_shapes_as_tf():
    # Values printed by TF 2.15's tf.compat.v1.losses on the same inputs.
    logits = tf.constant([[1., 2., 0.], [0., 0., 3.], [1., 1., 1.]])
    labels, weights = np.array([0, 2, 1]), np.array([[1.], [0.], [2.]], np.float32)
    for given in (labels, labels[:, None]):  # [batch, 1] weights are squeezed, not broadcast
        assert float(v1.losses.sparse_softmax_cross_entropy(given, logits, weights=weights)) \
            == pytest.approx(1.80242, abs=1e-5)
    # Weights that would broadcast the losses to a bigger shape are refused.
    with pytest.raises(ValueError, match=r"weights can not be broadcast to values.*"
                                         r"values.shape=\(3,\).*weights.shape=\(3, 1\)"):
        v1.losses.compute_weighted_loss(tf.constant([1., 2., 3.]), weights=weights)
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        v1.losses.mean_squared_error(np.array([[1.], [2.], [3.]]), tf.zeros((3, 1)),
                                     weights=weights[:, 0])
    # MEAN divides by the sum of the weights, negative or not (TF's div_no_nan).
    assert float(v1.losses.compute_weighted_loss(
        tf.constant([1., 2.]), weights=tf.constant([-1., -1.]),
        reduction=v1.losses.Reduction.MEAN)) == pytest.approx(1.5)


def test_v1_logging_sets_the_numpyflow_logger():
    logger = logging.getLogger("numpyflow")
    before = logger.level
    try:
        v1.logging.set_verbosity(v1.logging.INFO)
        assert v1.logging.get_verbosity() == logging.INFO
    finally:
        logger.setLevel(before)


def test_variable_creator_scope_routes_variable_creation():
    made = []

    def share(next_creator, **kwargs):
        if made:
            return made[0]
        made.append(next_creator(**kwargs))
        return made[0]

    with tf.variable_creator_scope(share):
        first = tf.Variable(1., name="a")
        second = tf.Variable(5., name="b")
    assert first is second and float(second) == 1.
    assert float(tf.Variable(3.)) == 3.  # Outside the scope: a new Variable.

    seen = []

    def outer(next_creator, **kwargs):
        seen.append(("outer", kwargs["name"]))
        return next_creator(**kwargs)

    def inner(next_creator, **kwargs):
        seen.append(("inner", kwargs["name"]))
        return next_creator(**{**kwargs, "name": "renamed"})

    with tf.variable_creator_scope(outer), tf.variable_creator_scope(inner):
        v = tf.Variable(2., False, "x")
    assert seen == [("inner", "x"), ("outer", "renamed")]
    assert v.name == "renamed:0" and not v.trainable


def test_v1_layers_feature_column_and_summary_in_a_model_fn(tmp_path):
    pytest.importorskip("tensorboard")
    columns = [tf.feature_column.numeric_column("x", shape=(3,))]
    data = np.random.RandomState(1).randn(64, 3).astype("float32")
    labels = (data.sum(1) > 0).astype("int32")

    def model_fn(features, labels, mode):
        net = v1.feature_column.input_layer(features, columns)
        net = v1.layers.dense(net, 8, activation=tf.nn.relu)
        net = v1.layers.dropout(net, 0.1, training=mode == tf.estimator.ModeKeys.TRAIN)
        logits = v1.layers.dense(net, 2)
        loss = v1.losses.sparse_softmax_cross_entropy(labels, logits)
        accuracy = v1.metrics.accuracy(labels, tf.argmax(logits, axis=1))
        v1.summary.scalar("train_accuracy", accuracy[1])
        train_op = v1.train.AdagradOptimizer(0.5).minimize(loss, v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                          eval_metric_ops={"accuracy": accuracy})

    def input_fn():
        return tf.data.Dataset.from_tensor_slices(({"x": data}, labels)).repeat().batch(16)

    estimator = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path),
                                       config=tf.estimator.RunConfig(save_summary_steps=10))
    estimator.train(input_fn, steps=40)
    assert sorted(n for n in estimator.get_variable_names() if "/" in n and "Adagrad" not in
                  n and not n.endswith("accumulator")) == \
        ["dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"]
    assert estimator.evaluate(input_fn, steps=4)["accuracy"] > 0.8
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = events.Tags()
    assert "train_accuracy" in tags.get("scalars", []) + tags.get("tensors", [])
