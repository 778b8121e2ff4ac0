"""Behaviour of the added array/math ops that a one-line op case cannot show: ops with
no primitive (shape, rank, size, count_nonzero), list results, dtype rules, aliasing of
Variables, and second derivatives through the gather gradient."""

import numpy as np
import pytest

import numpyflow as tf

x = tf.constant(np.arange(6.).reshape(2, 3))


def test_shape_rank_size():
    assert tf.shape(x).numpy().tolist() == [2, 3] and tf.shape(x).dtype == tf.int32
    assert tf.shape(x, out_type=tf.int64).dtype == tf.int64
    assert tf.shape(tf.constant(1.)).numpy().shape == (0,)
    assert int(tf.rank(x)) == 2 and tf.rank(x).dtype == tf.int32
    assert int(tf.size(x)) == 6 and tf.size(x, out_type="int64").dtype == tf.int64


@pytest.mark.parametrize("axis, keepdims, expected", [
    (None, None, 5), (0, False, [1, 2, 2]), (-1, True, [[2], [3]]),
    ([], False, [[0, 1, 1], [1, 1, 1]]),
])
def test_count_nonzero(axis, keepdims, expected):
    counts = tf.math.count_nonzero(x, axis=axis, keepdims=keepdims)
    assert counts.dtype == tf.int64
    np.testing.assert_array_equal(counts.numpy(), expected)


def test_count_nonzero_of_bools_with_dtype():
    counts = tf.math.count_nonzero([[True, False], [True, True]], axis=1, dtype=tf.int32)
    assert counts.dtype == tf.int32 and counts.numpy().tolist() == [1, 2]


def test_count_nonzero_has_no_gradient():
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.cast(tf.math.count_nonzero(x), tf.float64) * tf.reduce_sum(x)
    # Only the reduce_sum path contributes.
    np.testing.assert_array_equal(tape.gradient(total, x).numpy(), np.full((2, 3), 5.))


def test_unstack_and_split_return_lists():
    assert [t.shape for t in tf.unstack(x)] == [(3,), (3,)]
    pieces = tf.split(x, tf.constant(3), axis=-1)
    assert isinstance(pieces, list) and [p.shape for p in pieces] == [(2, 1)] * 3
    assert tf.unstack(x, num=2)[1].numpy().tolist() == [3., 4., 5.]


def test_one_hot_dtype_rules():
    assert tf.one_hot([1], 2).dtype == tf.float32
    assert tf.one_hot([1], 2, on_value=3).dtype == tf.int32
    assert tf.one_hot([1], 2, dtype=tf.float64).numpy().tolist() == [[0., 1.]]
    assert tf.one_hot(np.array([1], np.uint8), 2, off_value=-1.).numpy().tolist() == [[-1., 1.]]


def test_concat_of_one_value_and_stack_of_python_values():
    assert tf.concat([x], axis=5).numpy().tolist() == x.numpy().tolist()  # TF skips the check
    stacked = tf.stack([[1, 2], tf.constant([3, 4], tf.int64)])
    assert stacked.dtype == tf.int64 and stacked.numpy().tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("no_op", [
    lambda v: tf.transpose(v, [0, 1]), lambda v: tf.squeeze(v), lambda v: tf.tile(v, [1, 1]),
    lambda v: tf.concat([v], 0),
], ids=["transpose", "squeeze", "tile", "concat"])
def test_ops_that_change_nothing_do_not_alias_a_variable(no_op):
    v = tf.Variable([[1., 2.], [3., 4.]])
    result = no_op(v)
    v.assign([[5., 6.], [7., 8.]])
    assert not isinstance(result, tf.Variable)
    assert result.numpy().tolist() == [[1., 2.], [3., 4.]]


def test_gather_second_derivative_accumulates_repeated_indices():
    params = tf.constant([1., 2., 3.])
    with tf.GradientTape() as outer:
        outer.watch(params)
        with tf.GradientTape() as inner:
            inner.watch(params)
            y = tf.reduce_sum(tf.gather(params, [0, 0, 2]) ** 3)
        dy = inner.gradient(y, params)           # 3 p^2 per use: [6, 0, 27]
    np.testing.assert_allclose(dy.numpy(), [6., 0., 27.])
    d2y = outer.gradient(dy, params)             # 6 p per use: [12, 0, 18]
    np.testing.assert_allclose(d2y.numpy(), [12., 0., 18.])


def test_clip_by_value_gradient_passes_only_inside_the_range():
    t = tf.constant([-2., -1., 0., 1., 2.])
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.clip_by_value(t, -1., 1.)
    # The bounds themselves count as inside, as in TF.
    assert tape.gradient(y, t).numpy().tolist() == [0., 1., 1., 1., 0.]


@pytest.mark.parametrize("dtype", ["int16", "int32", "uint8", "uint16", "uint32"])
def test_integer_sums_and_products_keep_their_dtype_as_tf(dtype):
    x = tf.constant([[200, 100], [3, 4]], dtype=dtype)
    assert tf.reduce_sum(x).dtype == dtype and tf.reduce_prod(x, axis=1).dtype == dtype
    # As TF, the sum wraps around in the input's dtype (uint8: 200 + 100 = 44).
    expected = np.array([[200, 100], [3, 4]], dtype=dtype).sum(axis=1, dtype=dtype)
    np.testing.assert_array_equal(tf.reduce_sum(x, axis=1).numpy(), expected)
