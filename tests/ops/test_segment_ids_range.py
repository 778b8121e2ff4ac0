"""Segment ids out of range: TF 2.21 raises InvalidArgumentError "segment_ids[i] = v is
out of range [0, n)" for ids >= num_segments and drops rows with negative ids (probed)."""

import numpy as np
import pytest

import numpyflow as tf

_ALL = ["unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod",
        "unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_sqrt_n"]


@pytest.mark.parametrize("name", _ALL)
def test_id_past_num_segments_gets_tf_message(name):
    op = getattr(tf.math, name)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"segment_ids\[1\] = 5 is out of range \[0, 3\)"):
        op([1., 2., 3.], [0, 5, 1], 3)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"segment_ids\[1\] = 3 is out of range \[0, 3\)"):
        op([1., 2., 3.], [0, 3, 1], 3)  # num_segments itself is one too many.
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"segment_ids\[1,0\] = 3 is out of range \[0, 3\)"):
        op([[1., 2.], [3., 4.]], [[0, 1], [3, 0]], 3)


def test_id_past_num_segments_in_a_function_and_for_integers():
    @tf.function
    def total(ids):
        return tf.math.unsorted_segment_sum(tf.constant([1., 2., 3.]), ids, 3)

    np.testing.assert_array_equal(total(tf.constant([0, 2, 1])), [1., 3., 2.])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"segment_ids\[1\] = 7"):
        total(tf.constant([0, 7, 1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"segment_ids\[1\] = 5"):
        tf.math.unsorted_segment_sum([1, 2, 3], [0, 5, 1], 3)


@pytest.mark.parametrize("name, expected", [
    ("unsorted_segment_sum", [1., 3., 0.]),
    ("unsorted_segment_mean", [1., 3., 0.]),
    ("unsorted_segment_sqrt_n", [1., 3., 0.]),
    ("unsorted_segment_prod", [1., 3., 1.]),
    ("unsorted_segment_max", [1., 3., np.finfo(np.float32).min]),
    ("unsorted_segment_min", [1., 3., np.finfo(np.float32).max]),
])
def test_negative_ids_are_dropped(name, expected):
    out = getattr(tf.math, name)([1., 2., 3.], [0, -1, 1], 3)
    np.testing.assert_array_equal(out, np.asarray(expected, np.float32))


def test_gather_gradient_still_sums_rows():
    # UnsortedSegmentSum's other caller: a gather's gradient (ids always in range).
    params = tf.Variable([[1., 2.], [3., 4.], [5., 6.]])
    with tf.GradientTape() as tape:
        picked = tf.gather(params, [2, 0, 2])
    np.testing.assert_array_equal(tape.gradient(picked, params),
                                  [[1., 1.], [0., 0.], [2., 2.]])
