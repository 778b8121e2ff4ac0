"""`batch` of elements that are one tensor each (an image pipeline's): stacked without
walking a structure per element, with the same results and errors."""

import numpy as np
import pytest

import numpyflow as tf

D = tf.data.Dataset


def generated(values, spec):
    return D.from_generator(lambda: iter(values), output_signature=spec)


def test_single_tensors_stack_as_structured_elements_do():
    values = [np.full((2, 3), i, np.float32) for i in range(5)]
    plain = [b.numpy() for b in generated(values, tf.TensorSpec((2, 3))).batch(2)]
    nested = [b[0].numpy() for b in
              generated([(v,) for v in values], (tf.TensorSpec((2, 3)),)).batch(2)]
    assert [b.shape for b in plain] == [(2, 2, 3), (2, 2, 3), (1, 2, 3)]
    for a, b in zip(plain, nested):
        np.testing.assert_array_equal(a, b)


def test_strings_stack_into_a_string_tensor():
    batch = next(iter(D.from_tensor_slices([b"a", b"bc", b"d"]).map(lambda s: s).batch(3)))
    assert batch.dtype == tf.string and batch.numpy().tolist() == [b"a", b"bc", b"d"]


def test_different_shapes_are_refused_as_before():
    values = [np.zeros((2,), np.float32), np.zeros((3,), np.float32)]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"component 0\. First element had shape \[2\] and element 1 "
                             r"had shape \[3\]"):
        list(generated(values, tf.TensorSpec((None,))).batch(2))
