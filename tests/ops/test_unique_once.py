"""tf.unique / tf.unique_with_counts run their kernel once (one Unique primitive call),
with the same results as a direct NumPy computation."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import primitive as primitive_module


def _reference(x):
    """y, idx, count in order of first appearance, the slow obvious way."""
    y, idx, count = [], [], []
    for value in x.tolist():
        for i, seen in enumerate(y):
            if seen == value:  # NaN never equals itself: each NaN is its own value, as TF.
                idx.append(i)
                count[i] += 1
                break
        else:
            idx.append(len(y))
            y.append(value)
            count.append(1)
    return np.array(y, x.dtype), np.array(idx), np.array(count)


def _primitives_run(fn):
    ran = []
    primitive_module.trace_hook = ran.append
    try:
        fn()
    finally:
        primitive_module.trace_hook = None
    return ran


def test_each_function_runs_its_kernel_once():
    x = tf.constant([4, 1, 4, 2, 1])
    assert _primitives_run(lambda: tf.unique(x)).count("Unique") == 1
    assert _primitives_run(lambda: tf.unique_with_counts(x)).count("UniqueWithCounts") == 1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_matches_reference(seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=int(rng.integers(1, 40))).astype(dtype)
    y, idx, count = tf.unique_with_counts(x, out_idx=tf.int64)
    ref_y, ref_idx, ref_count = _reference(x)
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(count, ref_count)
    assert y.dtype == tf.as_dtype(dtype) and idx.dtype == tf.int64 and count.dtype == tf.int64
    plain = tf.unique(x)
    np.testing.assert_array_equal(plain.y, ref_y)
    assert plain.idx.dtype == tf.int32
    np.testing.assert_array_equal(plain.idx, ref_idx)


def test_edge_cases():
    y, idx, count = tf.unique_with_counts(np.array([], np.float32))
    assert y.shape == (0,) and idx.shape == (0,) and count.shape == (0,)
    y, idx, count = tf.unique_with_counts([7])
    assert y.numpy().tolist() == [7] and idx.numpy().tolist() == [0]
    assert count.numpy().tolist() == [1]
    nan = np.float32("nan")
    y, idx, count = tf.unique_with_counts(np.array([nan, 1., nan], np.float32))
    assert np.isnan(y.numpy()[[0, 2]]).all() and idx.numpy().tolist() == [0, 1, 2]
    strings = tf.unique(tf.constant(["b", "a", "b"]))
    assert strings.y.numpy().tolist() == [b"b", b"a"] and strings.idx.numpy().tolist() == [0, 1, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="1D vector.*\\[2,2\\]"):
        tf.unique(tf.zeros([2, 2]))
    with pytest.raises(TypeError, match="out_idx"):
        tf.unique([1], out_idx=tf.float32)


def test_no_gradient_and_traced_calls_of_any_size():
    x = tf.constant([1., 2., 1.])
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.unique(x).y)
    assert tape.gradient(total, x) is None  # TF registers no gradient for Unique.

    @tf.function
    def counted(v):
        return tf.unique_with_counts(v)

    for values in ([1, 2, 2], [5, 6, 7], [3, 3, 3]):
        got = counted(tf.constant(values))
        ref_y, ref_idx, ref_count = _reference(np.array(values, np.int32))
        np.testing.assert_array_equal(got.y, ref_y)
        np.testing.assert_array_equal(got.idx, ref_idx)
        np.testing.assert_array_equal(got.count, ref_count)
