"""`tf.function(input_signature=...)` binds its arguments as TF 2.21 does: Python values and
NumPy arrays become tensors of the spec's dtype, keyword arguments take their place, and a
wrong count, dtype or shape is a TypeError naming the function."""

import numpy as np
import pytest

import numpyflow as tf


def test_values_are_converted_to_the_specs_dtype():
    double = tf.function(lambda x: x * 2, input_signature=[tf.TensorSpec(None)])
    for value in (3.0, [1., 2.], [1, 2], np.array([1., 2.])):  # TF: all become float32.
        result = double(value)
        assert isinstance(result, tf.Tensor) and result.dtype == tf.float32
        np.testing.assert_array_equal(result.numpy(), np.asarray(value, np.float32) * 2)


def test_keyword_arguments_and_nested_specs():
    add = tf.function(lambda x, y: x + y, input_signature=[tf.TensorSpec(None)] * 2)
    assert float(add(tf.constant(1.), y=tf.constant(2.))) == 3.
    pick = tf.function(lambda d: d["a"], input_signature=[{"a": tf.TensorSpec(None)}])
    assert float(pick({"a": 1.0})) == 1.


def test_a_method_binds_after_self():
    class Adder(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None])])
        def go(self, x):
            return x + 1

    adder = Adder()
    assert adder.go(x=tf.constant([1.])).numpy().tolist() == [2.]
    with pytest.raises(TypeError, match="'go' failed"):
        adder.go(tf.constant(1))


@pytest.mark.parametrize("args, reason", [
    ((tf.constant([1., 2., 3.]),), r"Can not cast TensorSpec\(shape=\(3,\)"),
    ((tf.constant([1, 2]),), r"Can not cast TensorSpec\(shape=\(2,\), dtype=tf.int32"),
    ((tf.constant([1., 2.]),) * 2, "too many positional arguments"),
    ((), "missing a required argument"),
])
def test_bad_arguments_are_refused_as_tf_does(args, reason):
    double = tf.function(lambda x: x * 2, input_signature=[tf.TensorSpec([2])])
    with pytest.raises(TypeError, match=f"Binding inputs to tf.function '<lambda>' failed due "
                                        f"to `{reason}"):
        double(*args)
