"""A plan's updates of scalar Variables (metric states, step counters) write into their array."""

import weakref

import numpy as np

import numpyflow as tf


def test_scalar_assignments_write_in_place_with_the_eager_values():
    total = tf.Variable(0.5, dtype=tf.float32)
    count = tf.Variable(0, dtype=tf.int64)
    last = tf.Variable(0., dtype=tf.float64)

    def step(x):
        total.assign_add(tf.reduce_sum(x))
        total.assign_sub(0.25)
        count.assign_add(3)
        last.assign(tf.cast(tf.reduce_max(x), tf.float64))
        return tf.reduce_sum(x)

    compiled = tf.function(step)
    x = tf.constant(np.array([0.1, 0.7, 0.3], np.float32))
    for _ in range(3):
        compiled(x)
    assert compiled.plan_sources()[0].count("update(") == 4
    arrays = [weakref.ref(v._value) for v in (total, count, last)]
    expected = np.float32(total.numpy())
    for _ in range(5):
        compiled(x)
        expected = np.float32(np.float32(expected + np.float32(1.1)) - np.float32(0.25))
    assert all(ref() is v._value for ref, v in zip(arrays, (total, count, last)))
    assert total.numpy() == expected and total.numpy().dtype == np.float32
    assert int(count) == 24 and float(last) == np.float64(np.float32(0.7))


def test_a_held_scalar_keeps_its_value():
    total = tf.Variable(1.0)
    bump = tf.function(lambda: total.assign_add(2.0))
    for _ in range(3):
        bump()
    held = np.asarray(total)  # May be an alias of the variable's array.
    before = held.copy()
    bump()
    np.testing.assert_array_equal(held, before)
    assert float(total) == 9.0
