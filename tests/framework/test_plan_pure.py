"""`Plan.pure` and `Function.runs_pure_plan`: which compiled calls may run on any thread."""

import numpy as np

import numpyflow as tf


def compiled(function, *args):
    function(*args)
    function(*args)  # Two traces that agree: the next call runs the plan.
    return function


def test_a_plan_of_array_ops_only_is_pure():
    double = compiled(tf.function(lambda x: tf.nn.relu(x * 2.)), tf.ones((3,)))
    assert double.runs_pure_plan(tf.ones((3,)))
    assert double.runs_pure_plan(np.ones(3, np.float32))  # The same signature.
    assert not double.runs_pure_plan(tf.ones((4,)))        # Not compiled for this shape.


def test_a_plan_that_assigns_or_draws_is_not_pure():
    v = tf.Variable(0.)

    def count(x):
        v.assign_add(1.)
        return x * v

    def noisy(x):
        return x + tf.random.uniform((3,))

    assert not compiled(tf.function(count), tf.ones((3,))).runs_pure_plan(tf.ones((3,)))
    assert not compiled(tf.function(noisy), tf.ones((3,))).runs_pure_plan(tf.ones((3,)))


def test_not_pure_while_a_tape_records():
    double = compiled(tf.function(lambda x: x * 2.), tf.ones((3,)))
    with tf.GradientTape():
        assert not double.runs_pure_plan(tf.ones((3,)))
    assert double.runs_pure_plan(tf.ones((3,)))
