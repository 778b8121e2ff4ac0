"""`TensorShape(None)`: a shape of unknown rank, with TF 2.21's answers (probed)."""

import copy
import pickle

import pytest

import numpyflow as tf

UNKNOWN = tf.TensorShape(None)


def test_unknown_rank_properties():
    assert UNKNOWN.rank is None and UNKNOWN.ndims is None and UNKNOWN.dims is None
    assert repr(UNKNOWN) == "TensorShape(None)" and str(UNKNOWN) == "<unknown>"
    assert UNKNOWN.num_elements() is None and not UNKNOWN.is_fully_defined()
    assert not UNKNOWN and tf.TensorShape([1])
    assert UNKNOWN[0] is None and UNKNOWN[3:] == UNKNOWN
    assert isinstance(UNKNOWN, tf.TensorShape)


@pytest.mark.parametrize("use", [len, list, lambda s: s.as_list()])
def test_unknown_rank_has_no_dims_to_list(use):
    with pytest.raises(ValueError, match="unknown"):
        use(UNKNOWN)


def test_unknown_rank_is_compatible_with_everything():
    for other in ([], [2, 3], [None], None, UNKNOWN):
        assert UNKNOWN.is_compatible_with(other)
    assert tf.TensorShape([2, 3]).is_compatible_with(UNKNOWN)
    assert tf.TensorShape([2]).is_compatible_with(None)
    assert not tf.TensorShape([2]).is_compatible_with([3])


def test_unknown_rank_equality_hash_and_pickling():
    assert UNKNOWN == tf.TensorShape(None) and UNKNOWN == None  # noqa: E711 (TF's answer)
    assert UNKNOWN != tf.TensorShape([]) and tf.TensorShape([]) != UNKNOWN
    assert UNKNOWN != [] and tf.TensorShape([1]) != None  # noqa: E711
    assert hash(UNKNOWN) == hash(tf.TensorShape(None))
    assert pickle.loads(pickle.dumps(UNKNOWN)) == UNKNOWN
    assert copy.deepcopy(UNKNOWN).rank is None
    assert tf.TensorShape(UNKNOWN) is UNKNOWN


def test_combining_shapes():
    assert (UNKNOWN + [1]).rank is None and (tf.TensorShape([1]) + UNKNOWN).rank is None
    assert tf.TensorShape([1]).concatenate([2]) == [1, 2]
    assert tf.TensorShape([1]).concatenate(UNKNOWN).rank is None
    assert UNKNOWN.merge_with([1, None]) == [1, None]
    assert tf.TensorShape([None, 3]).merge_with([2, None]) == [2, 3]
    assert tf.TensorShape([1, None]).merge_with(UNKNOWN) == [1, None]
    with pytest.raises(ValueError, match="incompatible"):
        tf.TensorShape([1]).merge_with([2])
    assert tf.TensorShape([1, 2]).most_specific_compatible_shape([1, 3]) == [1, None]
    assert tf.TensorShape([1, 2]).most_specific_compatible_shape([1]).rank is None
    assert UNKNOWN.most_specific_compatible_shape([1]).rank is None


def test_ensure_shape_with_unknown_rank_passes_any_tensor():
    x = tf.zeros([2, 3])
    assert tf.ensure_shape(x, tf.TensorShape(None)).shape == [2, 3]
    assert tf.ensure_shape(x, None).shape == [2, 3]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,3\].*\[3,\?\]"):
        tf.ensure_shape(x, [3, None])


def test_tensor_spec_of_unknown_rank():
    for spec in (tf.TensorSpec(shape=None), tf.TensorSpec(tf.TensorShape(None))):
        assert repr(spec) == "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"
        assert spec.is_compatible_with(tf.zeros([2, 3]))
    assert tf.TensorSpec(None) == tf.TensorSpec(tf.TensorShape(None))
    merged = tf.TensorSpec([1]).most_specific_compatible_type(tf.TensorSpec([1, 2]))
    assert merged == tf.TensorSpec(None)


def test_unknown_rank_in_function_signature():
    @tf.function(input_signature=[tf.TensorSpec(tf.TensorShape(None))])
    def double(x):
        return x * 2.

    assert double(tf.ones([2, 2])).numpy().tolist() == [[2., 2.], [2., 2.]]
    assert double(tf.ones([3])).shape == [3]
