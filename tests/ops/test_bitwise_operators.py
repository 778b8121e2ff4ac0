"""Review: Python's `&`, `|`, `^`, `~` on a Tensor are TF's: logical for bool tensors,
tf.bitwise for integer ones (as `tensorflow`'s Tensor dispatches them), the reflected forms
(`3 & t`, `True ^ t`) included; a float operand gets tf.bitwise's error."""

import numpy as np
import pytest

import numpyflow as tf


def test_integer_operators_are_bitwise():
    a, b = tf.constant([12, 10, -1]), tf.constant([10, 6, 5])
    np.testing.assert_array_equal((a & b).numpy(), [8, 2, 5])
    np.testing.assert_array_equal((a | b).numpy(), [14, 14, -1])
    np.testing.assert_array_equal((a ^ b).numpy(), [6, 12, -6])
    np.testing.assert_array_equal((~a).numpy(), [-13, -11, 0])
    np.testing.assert_array_equal((3 & tf.constant([6])).numpy(), [2])
    np.testing.assert_array_equal((3 | tf.constant([6])).numpy(), [7])
    np.testing.assert_array_equal((3 ^ tf.constant([6])).numpy(), [5])
    u = tf.constant(np.array([0, 5], np.uint8))
    assert (~u).dtype == tf.uint8 and list((~u).numpy()) == [255, 250]


def test_bool_operators_stay_logical():
    p, q = tf.constant([True, True, False]), tf.constant([True, False, False])
    np.testing.assert_array_equal((p & q).numpy(), [True, False, False])
    np.testing.assert_array_equal((p | q).numpy(), [True, True, False])
    np.testing.assert_array_equal((p ^ q).numpy(), [False, True, False])
    np.testing.assert_array_equal((True ^ q).numpy(), [False, True, True])
    np.testing.assert_array_equal((~p).numpy(), [False, False, True])


def test_float_operands_get_tf_bitwise_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"float32.*\[Op:BitwiseAnd\]"):
        tf.constant([1.]) & tf.constant([2.])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"float32.*\[Op:Invert\]"):
        ~tf.constant([1.])
