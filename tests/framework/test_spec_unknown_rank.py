"""TensorSpec of unknown rank: `TensorSpec(None).shape` is `TensorShape(None)`, as in TF 2.21,
and every reader of a spec's shape (tf.data, tf.io, the exporters) takes it.

The expected values are TF 2.21's answers to the same calls.
"""

import pickle

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.export.model_graph import trace_for_export
from numpyflow.framework.errors import InvalidArgumentError

UNKNOWN = tf.TensorShape(None)


def _generated(*arrays, dtype=tf.float32):
    """A dataset yielding `arrays`, declared as of unknown rank."""
    return tf.data.Dataset.from_generator(lambda: iter(arrays),
                                          output_signature=tf.TensorSpec(None, dtype))


def _ragged_ranks():
    return _generated(np.ones(2, np.float32), np.ones((3, 4), np.float32))


def _same_rank():
    return _generated(np.ones(2, np.float32), np.ones(3, np.float32))


# --- TensorSpec itself ---------------------------------------------------------------------

def test_unknown_rank_spec_shape_is_the_unknown_tensor_shape():
    spec = tf.TensorSpec(None)
    assert isinstance(spec.shape, tf.TensorShape) and spec.shape == UNKNOWN
    assert spec.shape.rank is None and spec.shape.dims is None and spec.shape[0] is None
    assert spec.shape.is_compatible_with([2, 3])
    with pytest.raises(ValueError, match="as_list"):
        spec.shape.as_list()
    assert repr(spec) == "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"
    assert str(spec) == repr(spec)


def test_spec_of_tensor_shape_none_equals_spec_of_none():
    spec = tf.TensorSpec(None)
    same = tf.TensorSpec(UNKNOWN)
    assert same == spec and hash(same) == hash(spec) and len({spec, same}) == 1
    assert spec != tf.TensorSpec([])  # A scalar is a known rank (0).
    assert spec != tf.TensorSpec([2]) and spec != tf.TensorSpec(None, name="x")
    assert spec != tf.TensorSpec(None, tf.int32)
    restored = pickle.loads(pickle.dumps(tf.TensorSpec(None, tf.int64, "ids")))
    assert restored == tf.TensorSpec(None, tf.int64, "ids") and restored.shape.rank is None
    assert pickle.loads(pickle.dumps(tf.TensorSpec([]))).shape.rank == 0


def test_compatibility_in_both_directions():
    spec = tf.TensorSpec(None)
    assert spec.is_compatible_with(tf.TensorSpec([2, 3]))
    assert tf.TensorSpec([2, 3]).is_compatible_with(spec)
    assert spec.is_compatible_with(tf.constant([[1.]])) and spec.is_compatible_with(tf.constant(1.))
    assert not spec.is_compatible_with(tf.constant(1))  # dtype still counts
    assert not spec.is_compatible_with(tf.TensorSpec(None, tf.int32))
    assert not tf.TensorSpec([2]).is_compatible_with(tf.TensorSpec([3]))


def test_most_specific_compatible_type_and_common_supertype():
    unknown = tf.TensorSpec(None)
    assert unknown.most_specific_compatible_type(tf.TensorSpec([2])) == unknown
    assert tf.TensorSpec([2]).most_specific_compatible_type(unknown) == unknown
    assert tf.TensorSpec([2]).most_specific_compatible_type(tf.TensorSpec([3, 1])) == unknown
    assert tf.TensorSpec([2, 3]).most_specific_compatible_type(tf.TensorSpec([2, 4])) == \
        tf.TensorSpec([2, None])
    with pytest.raises(ValueError, match="compatible"):
        tf.TensorSpec([2]).most_specific_compatible_type(tf.TensorSpec([2], tf.int32))
    supertype = tf.TensorSpec([2]).most_specific_common_supertype
    assert supertype([tf.TensorSpec([2], tf.int32)]) is None
    assert supertype([]) == tf.TensorSpec([2])
    assert supertype([unknown]) == unknown
    assert tf.TensorSpec([2, 3]).most_specific_common_supertype(
        [tf.TensorSpec([2, 4]), tf.TensorSpec([2, 5])]) == tf.TensorSpec([2, None])
    named = tf.TensorSpec([2], name="a")
    assert named.most_specific_common_supertype([tf.TensorSpec([3], name="a")]) == \
        tf.TensorSpec([None], name="a")
    assert named.most_specific_common_supertype([tf.TensorSpec([3], name="b")]) is None


def test_sparse_tensor_spec_of_unknown_rank():
    spec = tf.SparseTensorSpec(None)
    assert spec.shape == UNKNOWN and spec == tf.SparseTensorSpec(UNKNOWN)
    assert spec.is_compatible_with(tf.sparse.from_dense([[1., 0.]]))
    assert repr(spec) == "SparseTensorSpec(TensorShape(None), tf.float32)"
    assert spec != tf.SparseTensorSpec([]) and tf.SparseTensorSpec([]) != spec
    known = tf.SparseTensorSpec([2])
    assert known == tf.SparseTensorSpec([2]) and known != tf.SparseTensorSpec([2], tf.int32)
    assert known != None and known != 5 and known != tf.TensorSpec([2])  # noqa: E711
    assert known in [None, known]


def test_function_with_unknown_rank_signature_runs_any_rank():
    @tf.function(input_signature=[tf.TensorSpec(None)])
    def double(x):
        return x * 2

    for value in (1., [1., 2.], [[1.]]):
        np.testing.assert_array_equal(double(tf.constant(value)).numpy(),
                                      np.asarray(value, np.float32) * 2)
    (spec,), _ = double.get_concrete_function().structured_input_signature
    assert spec.shape.rank is None


# --- tf.data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [None, UNKNOWN])
def test_from_generator_unknown_shapes_give_unknown_rank(shapes):
    ds = tf.data.Dataset.from_generator(lambda: iter([np.ones(2, np.float32)]),
                                        output_types=tf.float32, output_shapes=shapes)
    assert ds.element_spec == tf.TensorSpec(None) and ds.element_spec.shape.rank is None
    assert [x.shape for x in _ragged_ranks()] == [(2,), (3, 4)]


def test_specs_through_transformations_stay_unknown():
    ds, known = _ragged_ranks(), tf.data.Dataset.from_tensors(np.zeros(2, np.float32))
    unknown = tf.TensorSpec(None)
    for result in (ds.batch(2), ds.batch(2, drop_remainder=True), ds.unbatch(),
                   _same_rank().rebatch(2), ds.concatenate(known), known.concatenate(ds),
                   ds.filter(lambda x: True), ds.cache(), ds.prefetch(1), ds.shuffle(2),
                   tf.data.Dataset.sample_from_datasets([ds, known]),
                   tf.data.Dataset.range(2).flat_map(lambda i: ds)):
        assert result.element_spec == unknown, result
    assert tf.data.Dataset.zip((ds, known)).element_spec == (unknown, tf.TensorSpec([2]))
    assert [x.tolist() for x in _same_rank().unbatch().as_numpy_iterator()] == [1.] * 5


def test_map_of_unknown_rank_input_has_unknown_rank_outputs():
    # One element cannot tell which outputs follow the input's rank; TF reports x + 1 as
    # unknown too. (Elements of rank 1, then 2: a (2,) spec would be wrong.)
    ds = _ragged_ranks().map(lambda x: (x + 1, tf.reduce_sum(x)))
    assert ds.element_spec == (tf.TensorSpec(None), tf.TensorSpec(None))
    assert [a.shape for a, _ in ds.as_numpy_iterator()] == [(2,), (3, 4)]
    known = tf.data.Dataset.from_tensor_slices(np.ones((4, 3), np.float32)).batch(2)
    assert known.map(lambda x: x + 1).element_spec == tf.TensorSpec([None, 3])


def test_padded_batch_of_unknown_rank_needs_padded_shapes():
    with pytest.raises(ValueError, match="component 0 has unknown rank"):
        _same_rank().padded_batch(2)
    first_known = tf.data.Dataset.zip((tf.data.Dataset.range(2), _same_rank()))
    with pytest.raises(ValueError, match="component 1 has unknown rank"):
        first_known.padded_batch(2)


def test_padded_batch_of_unknown_rank_with_padded_shapes():
    ds = _same_rank().padded_batch(2, padded_shapes=[5])
    assert ds.element_spec == tf.TensorSpec([None, 5])
    (batch,) = list(ds.as_numpy_iterator())
    np.testing.assert_array_equal(batch, [[1, 1, 0, 0, 0], [1, 1, 1, 0, 0]])
    longest = _same_rank().padded_batch(2, padded_shapes=[None], drop_remainder=True)
    assert longest.element_spec == tf.TensorSpec([2, None])
    assert [b.shape for b in longest.as_numpy_iterator()] == [(2, 3)]
    as_shape = _same_rank().padded_batch(2, padded_shapes=tf.TensorShape([4]))
    assert as_shape.element_spec == tf.TensorSpec([None, 4])
    scalars = _generated(np.float32(1), np.float32(2)).padded_batch(2, padded_shapes=[])
    assert scalars.element_spec == tf.TensorSpec([None])
    assert next(iter(scalars)).numpy().tolist() == [1., 2.]


def test_padded_batch_of_unknown_rank_checks_each_element():
    bad_rank = _ragged_ranks().padded_batch(2, padded_shapes=[5])
    with pytest.raises(InvalidArgumentError, match="same rank as the padded shape for "
                       "component0: expected rank 1 but got element with rank 2"):
        list(bad_rank)
    too_long = _generated(np.ones(7, np.float32)).padded_batch(1, padded_shapes=[5])
    with pytest.raises(InvalidArgumentError, match="pad to a smaller size"):
        list(too_long)
    with pytest.raises(ValueError, match="known rank"):
        _same_rank().padded_batch(2, padded_shapes=UNKNOWN)


def test_padded_shapes_as_tuple_or_tensor_shape_for_one_component():
    rows = tf.data.Dataset.from_tensor_slices(np.ones((3, 2), np.float32))
    for shape in ((4,), tf.TensorShape([4]), [4]):
        ds = rows.padded_batch(2, padded_shapes=shape)
        assert ds.element_spec == tf.TensorSpec([None, 4])
        assert [b.shape for b in ds.as_numpy_iterator()] == [(2, 4), (1, 4)]


def test_cache_file_keeps_unknown_rank(tmp_path):
    path = str(tmp_path / "cache")
    first = [x.tolist() for x in _ragged_ranks().cache(path).as_numpy_iterator()]
    again = _ragged_ranks().cache(path)
    assert [x.tolist() for x in again.as_numpy_iterator()] == first
    assert again.element_spec.shape.rank is None


def test_choose_from_datasets_with_choices_of_unknown_rank():
    a = tf.data.Dataset.from_tensors(np.float32(1)).repeat(2)
    b = tf.data.Dataset.from_tensors(np.float32(2)).repeat(2)
    choices = _generated(np.int64(0), np.int64(1), np.int64(0), dtype=tf.int64)
    ds = tf.data.Dataset.choose_from_datasets([a, b], choices)
    assert [float(x) for x in ds] == [1., 2., 1.]
    vector = _generated(np.array([0, 1], np.int64), dtype=tf.int64)
    with pytest.raises(InvalidArgumentError, match="expected a scalar"):
        list(tf.data.Dataset.choose_from_datasets([a, b], vector))
    with pytest.raises(TypeError, match="scalar"):
        tf.data.Dataset.choose_from_datasets([a, b], tf.data.Dataset.range(4).batch(2))


# --- tf.io, export, ragged -------------------------------------------------------------------

@pytest.mark.parametrize("shape", [None, UNKNOWN, [None], [2, -1]])
def test_fixed_len_feature_needs_a_fully_defined_shape(shape):
    features = {"a": tf.io.FixedLenFeature(shape, tf.float32)}
    with pytest.raises(ValueError, match="'a': shape must be fully defined"):
        tf.io.parse_single_example(tf.train.Example().SerializeToString(), features)


def test_export_refuses_an_unknown_rank_signature():
    with pytest.raises(TypeError, match="of known rank"):
        trace_for_export(lambda x: x * 2, [tf.TensorSpec(None)])


def test_ragged_to_tensor_with_unknown_shape_pads_to_bounding_shape():
    dense = tf.ragged.constant([[1, 2], [3]]).to_tensor(shape=UNKNOWN)
    assert dense.numpy().tolist() == [[1, 2], [3, 0]]
