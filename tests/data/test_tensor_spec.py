"""tf.TensorSpec (framework/tensor_spec.py)."""

import pickle

import numpy as np
import pytest

import numpyflow as tf


def test_repr_equality_and_compatibility():
    spec = tf.TensorSpec([None, 2], tf.float32)
    assert repr(spec) == "TensorSpec(shape=(None, 2), dtype=tf.float32, name=None)"
    assert repr(tf.TensorSpec([None, 2], tf.float32, name="x")) == \
        "TensorSpec(shape=(None, 2), dtype=tf.float32, name='x')"
    assert spec == tf.TensorSpec((None, 2), "float32") and spec != tf.TensorSpec([3, 2])
    assert spec.is_compatible_with(tf.constant([[1., 2.]]))
    assert not spec.is_compatible_with(tf.constant([[1, 2]]))
    assert not spec.is_compatible_with(tf.constant([1., 2.]))
    assert tf.TensorSpec.from_tensor(tf.constant([1, 2])) == tf.TensorSpec([2], tf.int32)
    assert tf.TensorSpec([2, 3]).most_specific_compatible_type(tf.TensorSpec([4, 3])) == \
        tf.TensorSpec([None, 3])
    assert len({spec, tf.TensorSpec([None, 2])}) == 1
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_unknown_rank_and_bad_dtype():
    spec = tf.TensorSpec(None, tf.int32)
    assert spec.shape.rank is None and repr(spec).startswith("TensorSpec(shape=<unknown>")
    assert spec.is_compatible_with(tf.constant(np.zeros((2, 3), np.int32)))
    with pytest.raises(TypeError, match="`dtype` is None"):
        tf.TensorSpec([], None)
