"""Review of tf.TensorArray against TF 2.21: indices and sizes must be integers (TF
refuses 1.5 with a TypeError rather than truncating it to 1); integer tensors and NumPy
integers of any width are accepted, as TF converts them."""

import numpy as np
import pytest

import numpyflow as tf


@pytest.mark.parametrize("index", [1.5, 1.0, np.float32(1), tf.constant(1.)])
def test_a_non_integer_index_is_a_type_error(index):
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False)
    with pytest.raises(TypeError, match="TensorArray.write.*index"):
        ta.write(index, 1.)
    ta = ta.write(0, 1.)
    with pytest.raises(TypeError, match="TensorArray.read.*index"):
        ta.read(index)


@pytest.mark.parametrize("size", [2.5, 2.0, tf.constant(2.)])
def test_a_non_integer_size_is_a_type_error(size):
    with pytest.raises(TypeError, match="TensorArray.*size"):
        tf.TensorArray(tf.float32, size=size)


@pytest.mark.parametrize("index", [1, np.int64(1), np.int8(1), tf.constant(1),
                                   tf.constant(1, tf.int64)])
def test_integer_indices_of_any_kind(index):
    ta = tf.TensorArray(tf.float32, size=np.int64(3)).write(index, 5.)
    np.testing.assert_array_equal(ta.stack().numpy(), [0., 5., 0.])
