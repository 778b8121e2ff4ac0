"""Where the 1/N of a strategy of N replicas goes (Keras 3's rule): inside the `Loss`
objects' mean reductions, and on the layers' losses in `compute_loss`; a replica of an
unevenly split batch scales by its share instead. In-process, with a stand-in
communicator playing replica 0 of 2."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.losses import scale_loss_for_distribution, unscale_loss_for_distribution
from tests.distribute.fakes import MirrorCommunicator


def _two_replicas():
    return tf.distribute.MultiWorkerMirroredStrategy(communicator=MirrorCommunicator())


Y_TRUE, Y_PRED = np.array([[0.], [1.]], "float32"), np.array([[1.], [3.]], "float32")


def test_a_loss_object_divides_its_mean_by_the_replicas():
    strategy = _two_replicas()
    mse = tf.keras.losses.MeanSquaredError()
    assert float(mse(Y_TRUE, Y_PRED)) == 2.5  # No strategy: the mean.
    with strategy.scope():
        assert float(mse(Y_TRUE, Y_PRED)) == 1.25
    assert float(strategy.run(lambda: mse(Y_TRUE, Y_PRED))) == 1.25
    for reduction in ("mean", "mean_with_sample_weight"):
        loss = tf.keras.losses.MeanSquaredError(reduction=reduction)
        assert float(strategy.run(lambda: loss(Y_TRUE, Y_PRED))) == 1.25
    # "sum" and "none" are not scaled: the replicas' sums add up to the global sum.
    total = tf.keras.losses.MeanSquaredError(reduction="sum")
    assert float(strategy.run(lambda: total(Y_TRUE, Y_PRED))) == 5.0
    per_sample = tf.keras.losses.MeanSquaredError(reduction="none")
    assert strategy.run(lambda: per_sample(Y_TRUE, Y_PRED)).numpy().tolist() == [1.0, 4.0]


def test_uneven_share_and_its_inverse():
    strategy = _two_replicas()
    context = strategy._replica_context
    context._batch_share = 2 / 3  # This replica holds 2 of a global batch of 3.
    try:
        value = strategy.run(lambda: scale_loss_for_distribution(tf.constant(3.0)))
        assert float(value) == pytest.approx(2.0)
        assert float(strategy.run(lambda: unscale_loss_for_distribution(value))) == \
            pytest.approx(3.0)
        context._batch_share = 0.0  # An empty piece: its 0 loss stays 0 both ways.
        assert float(strategy.run(lambda: unscale_loss_for_distribution(tf.constant(0.)))) == 0
    finally:
        context._batch_share = None


def test_empty_batch_loss_is_zero_with_zero_gradients():
    dense = tf.keras.layers.Dense(1)
    dense.build((None, 2))
    x, y = np.zeros((0, 2), "float32"), np.zeros((0, 1), "float32")
    for loss in (tf.keras.losses.MeanSquaredError(), tf.keras.losses.MeanSquaredError("sum")):
        with tf.GradientTape() as tape:
            value = loss(y, dense(x))
        assert float(value) == 0.0
        gradients = tape.gradient(value, dense.trainable_variables)
        assert all(g is not None and not np.any(g.numpy()) for g in gradients)


def test_compute_loss_scales_compiled_and_layer_losses_once():
    strategy = _two_replicas()
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((1,)),
                                     tf.keras.layers.ActivityRegularization(l1=1.0)])
        model.compile(loss="mse")
    y_pred = model(Y_PRED)  # Adds the activity loss (|1| + |3|) / batch size 2 = 2.
    # Outside the scope and run, the default strategy (one replica) is current: unscaled.
    assert float(model.compute_loss(y=Y_TRUE, y_pred=y_pred)) == 4.5
    two = float(strategy.run(lambda: model.compute_loss(y=Y_TRUE, y_pred=y_pred)))
    assert two == pytest.approx((2.5 + 2.0) / 2)
    # The TF 2.x idiom scales its regularization losses too, and tracks the unscaled total.
    total = strategy.run(lambda: model.compiled_loss(Y_TRUE, y_pred,
                                                     regularization_losses=model.losses))
    assert float(total) == pytest.approx(2.25)
    tracker = model.compiled_loss._loss_tracker
    assert tracker is not None
    tracker.reset_state()
    strategy.run(lambda: model.compiled_loss(Y_TRUE, y_pred, regularization_losses=model.losses))
    assert float(tracker.result()) == pytest.approx(4.5)
