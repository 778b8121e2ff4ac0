"""tf.TensorArray (ops/tensor_array.py): the behaviour of TF 2.21's eager TensorArray
(probed), eagerly and inside tf.function."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.ops.tensor_array import TensorArray


def test_write_read_stack_size():
    ta = TensorArray(tf.float32, size=3)
    assert ta.element_shape.rank is None and not ta.dynamic_size
    written = ta.write(0, [1., 2.])
    assert written is not ta and written.element_shape == [2]
    assert int(written.size()) == 3 and written.size().dtype == tf.int32
    written = written.write(2, [5, 6])  # Python ints take the array's dtype.
    np.testing.assert_array_equal(written.stack(), [[1., 2.], [0., 0.], [5., 6.]])
    assert written.read(2).dtype == tf.float32


def test_reads_clear_by_default_eagerly():
    ta = TensorArray(tf.float32, size=2).write(0, [1., 2.])
    np.testing.assert_array_equal(ta.read(0), [1., 2.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="twice.*clear_after_read"):
        ta.read(0)
    np.testing.assert_array_equal(ta.stack(), [[0., 0.], [0., 0.]])  # TF stacks zeros there.
    keep = TensorArray(tf.float32, size=1, clear_after_read=False).write(0, 3.)
    assert float(keep.read(0)) == 3. and float(keep.read(0)) == 3.


def test_dynamic_size_grows_and_static_size_refuses():
    ta = TensorArray(tf.float32, size=0, dynamic_size=True).write(0, 1.).write(4, 2.)
    assert int(ta.size()) == 5
    np.testing.assert_array_equal(ta.stack(), [1., 0., 0., 0., 2.])
    fixed = TensorArray(tf.float32, size=2)
    with pytest.raises(tf.errors.OutOfRangeError, match="index 2.*not resizeable.*size is: 2"):
        fixed.write(2, 1.)
    with pytest.raises(tf.errors.OutOfRangeError, match="negative"):
        fixed.write(-1, 1.)
    with pytest.raises(tf.errors.OutOfRangeError, match="index 5.*size is: 2"):
        fixed.read(5)


def test_bad_values():
    ta = TensorArray(tf.float32, size=2).write(0, [1., 2.])
    with pytest.raises(ValueError, match=r"incompatible shape.*\(3,\).*\(2,\)"):
        ta.write(1, [1., 2., 3.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32 but Op is trying to "
                                                             "write dtype int32"):
        ta.write(1, tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32 but .* float32"):
        TensorArray(tf.int32, size=1).write(0, 1.5)
    with pytest.raises(ValueError, match="incompatible shape"):
        TensorArray(tf.float32, size=1, element_shape=[3]).write(0, [1., 2.])
    with pytest.raises(ValueError, match="size"):
        TensorArray(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not fully defined"):
        TensorArray(tf.float32, size=2).read(0)


def test_unstack_gather_scatter_concat_split():
    values = np.array([[1, 2], [3, 4], [5, 6]], np.int32)
    ta = TensorArray(tf.int32, size=0, dynamic_size=True).unstack(values)
    assert int(ta.size()) == 3
    np.testing.assert_array_equal(ta.gather([2, 0]), values[[2, 0]])
    np.testing.assert_array_equal(ta.concat(), values.reshape(-1))
    np.testing.assert_array_equal(ta.read(tf.constant(1)), [3, 4])
    with pytest.raises(ValueError, match="Cannot unstack 3 tensors into a TensorArray of "
                                         "static size 2"):
        TensorArray(tf.int32, size=2).unstack(values)
    assert int(TensorArray(tf.int32, size=5).unstack(values).size()) == 3  # As TF.
    scattered = TensorArray(tf.float32, size=4).scatter([3, 0], [[1., 1.], [2., 2.]])
    np.testing.assert_array_equal(scattered.stack(), [[2., 2.], [0., 0.], [0., 0.], [1., 1.]])
    with pytest.raises(tf.errors.OutOfRangeError):
        TensorArray(tf.float32, size=2).scatter([3], [[1.]])
    ragged = TensorArray(tf.float32, size=2, infer_shape=False).write(0, [1., 2.]).write(1, [3.])
    np.testing.assert_array_equal(ragged.concat(), [1., 2., 3.])
    pieces = TensorArray(tf.float32, size=2).split([1., 2., 3.], [1, 2])
    np.testing.assert_array_equal(pieces.read(1), [2., 3.])


def test_empty_arrays():
    assert TensorArray(tf.float32, size=0).stack().shape == [0]
    assert TensorArray(tf.float32, size=0, element_shape=[2]).stack().shape == [0, 2]
    assert TensorArray(tf.float32, size=0, element_shape=[None, 2]).concat().shape == [0, 2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        TensorArray(tf.float32, size=0).concat()


def test_gradients_flow_through_writes_and_stack():
    x = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        ta = TensorArray(tf.float32, size=3)
        for i in range(3):
            ta = ta.write(i, x[i] * x[i])
        total = tf.reduce_sum(ta.stack())
    np.testing.assert_allclose(tape.gradient(total, x), [2., 4., 6.])


def test_inside_tf_function():
    @tf.function
    def squares(n):
        ta = TensorArray(tf.float32, size=0, dynamic_size=True)
        for i in tf.range(n):
            ta = ta.write(i, tf.cast(i, tf.float32) ** 2)
        return ta.stack()

    np.testing.assert_array_equal(squares(tf.constant(4)), [0., 1., 4., 9.])
    np.testing.assert_array_equal(squares(tf.constant(2)), [0., 1.])

    @tf.function
    def scaled(x):
        ta = TensorArray(tf.float32, size=3)
        for i in range(3):
            ta = ta.write(i, x * float(i))
        return ta.stack(), ta.read(1), ta.read(1)  # Graph reads never clear, as in TF.

    for value in ([1., 2.], [3., 5.]):
        stacked, first, again = scaled(tf.constant(value))
        np.testing.assert_array_equal(stacked, np.outer([0., 1., 2.], value))
        np.testing.assert_array_equal(first, value)
        np.testing.assert_array_equal(again, value)

    @tf.function
    def doubled(x):
        def body(i, ta):
            return i + 1, ta.write(i, x[i] * 2.)
        _, ta = tf.while_loop(lambda i, ta: i < 3, body, [0, TensorArray(tf.float32, size=3)])
        return ta.stack()

    np.testing.assert_array_equal(doubled(tf.constant([1., 2., 3.])), [2., 4., 6.])
    np.testing.assert_array_equal(doubled(tf.constant([4., 5., 6.])), [8., 10., 12.])


def test_float64_and_batch_one():
    ta = TensorArray(tf.float64, size=1).write(0, np.ones((1, 3)))
    stacked = ta.stack()
    assert stacked.dtype == tf.float64 and stacked.shape == [1, 1, 3]
