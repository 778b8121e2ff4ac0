"""`plan._sharing_saved_results`: a plan reads the sparse cross-entropy's saved
probabilities instead of computing the same logits' softmax a second time."""

import re

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.framework.primitive import _REGISTRY


def compiled(function, *args):
    first = function(*args)
    function(*args)  # Two traces that agree: the next call runs the plan.
    return function, first


def plan_source(function):
    (source,) = function.plan_sources()
    return source


def logits_and_labels(dtype="float32", shape=(7, 5)):
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal(shape) * 4).astype(dtype)
    labels = rng.integers(0, shape[-1], shape[:-1]).astype(np.int32)
    return logits, labels


@pytest.mark.parametrize("dtype,shape", [("float32", (7, 5)), ("float64", (1, 3)),
                                         ("float32", (2, 3, 4)), ("float16", (4, 6))])
def test_the_saved_probabilities_are_the_softmax_bit_for_bit(dtype, shape):
    logits, labels = logits_and_labels(dtype, shape)
    _, probabilities = _REGISTRY["SparseSoftmaxCrossEntropyWithLogits"].forward(logits, labels)
    softmax = _REGISTRY["Softmax"].forward(logits, axis=len(shape) - 1)
    assert probabilities.dtype == softmax.dtype
    np.testing.assert_array_equal(probabilities, softmax)


def test_softmax_read_after_the_loss_comes_from_the_loss():
    def step(logits, labels):
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        hits = tf.equal(tf.argmax(tf.nn.softmax(logits), axis=-1, output_type=tf.int32), labels)
        return loss, tf.reduce_sum(tf.cast(hits, tf.float32))

    logits, labels = logits_and_labels()
    eager = step(tf.constant(logits), tf.constant(labels))
    function, _ = compiled(tf.function(step), logits, labels)
    assert "f_Softmax(" not in plan_source(function)
    planned = function(logits, labels)
    for got, want in zip(planned, eager):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_keras_training_step_computes_one_softmax():
    model = tf.keras.Sequential([tf.keras.Input((6,)), tf.keras.layers.Dense(4, "softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    y = np.arange(16) % 4
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    source = plan_source(model.train_function)
    assert "f_Softmax(" not in source
    assert re.search(r"f_ArgMax\(t\d+s, ", source)  # The accuracy reads the loss's saved array.


def test_the_gradient_through_a_shared_softmax_matches_eager():
    # The shared array is also what the loss's gradient reads: neither may change it.
    weights = tf.Variable(np.linspace(-1, 1, 15, dtype=np.float32).reshape(3, 5))
    x, labels = logits_and_labels(shape=(4, 3))

    def step(x, labels):
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, weights)
            probabilities = tf.nn.softmax(logits)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels % 5,
                                                                                 logits))
        gradient = tape.gradient(loss, weights)
        return gradient, probabilities * 2.  # An elementwise reader after the gradient.

    eager = step(tf.constant(x), tf.constant(labels))
    function, _ = compiled(tf.function(step), x, labels)
    assert "f_Softmax(" not in plan_source(function)
    for got, want in zip(function(x, labels), eager):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_not_shared_when_read_before_the_loss_along_another_axis_or_returned():
    logits, labels = logits_and_labels()

    def read_first(logits, labels):
        total = tf.reduce_sum(tf.nn.softmax(logits))  # Read before the loss runs.
        return total + tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels,
                                                                                     logits))

    def other_axis(logits, labels):
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        return tf.reduce_sum(loss) + tf.reduce_sum(tf.nn.softmax(logits, axis=0) * 2.)

    def returned(logits, labels):
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        return loss, tf.nn.softmax(logits)

    for step in (read_first, other_axis, returned):
        eager = nest.flatten(step(tf.constant(logits), tf.constant(labels)))
        function, _ = compiled(tf.function(step), logits, labels)
        assert "f_Softmax(" in plan_source(function), step.__name__
        for got, want in zip(nest.flatten(function(logits, labels)), eager):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
