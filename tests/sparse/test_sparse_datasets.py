"""tf.data with SparseTensor components (from a parse `map`), as TF 2.21 does (values it
printed for the same records, written here)."""

import pytest

import numpyflow as tf
from numpyflow.io import example_proto as pb

SPEC = {"v": tf.io.VarLenFeature(tf.int64), "y": tf.io.FixedLenFeature([], tf.float32)}


def _records():
    def record(values):
        return pb.Example(features=pb.Features(feature={
            "v": pb.Feature(int64_list=pb.Int64List(value=values)),
            "y": pb.Feature(float_list=pb.FloatList(value=[1.0]))})).SerializeToString()
    return tf.data.Dataset.from_tensor_slices([record([1]), record([2, 3, 4]), record([])])


def test_map_parse_single_example_then_batch():
    parsed = _records().map(lambda r: tf.io.parse_single_example(r, SPEC))
    assert repr(parsed.element_spec["v"]) == "SparseTensorSpec(TensorShape([None]), tf.int64)"
    batched = parsed.batch(2)
    assert repr(batched.element_spec["v"]) == \
        "SparseTensorSpec(TensorShape([None, None]), tf.int64)"
    first, last = list(batched)
    assert isinstance(first["v"], tf.SparseTensor)
    assert first["v"].indices.numpy().tolist() == [[0, 0], [1, 0], [1, 1], [1, 2]]
    assert first["v"].dense_shape.numpy().tolist() == [2, 3]
    assert tf.sparse.to_dense(first["v"]).numpy().tolist() == [[1, 0, 0], [2, 3, 4]]
    assert last["v"].dense_shape.numpy().tolist() == [1, 0]
    assert last["v"].indices.shape == (0, 2)
    assert [x.tolist() for x in parsed.map(lambda d: tf.sparse.to_dense(d["v"]))
            .as_numpy_iterator()] == [[1], [2, 3, 4], []]


def test_batch_then_parse_example():
    parsed = _records().batch(3).map(lambda r: tf.io.parse_example(r, SPEC))
    assert repr(parsed.element_spec["v"]) == \
        "SparseTensorSpec(TensorShape([None, None]), tf.int64)"
    (element,) = list(parsed)
    assert tf.sparse.to_dense(element["v"]).numpy().tolist() == [[1, 0, 0], [2, 3, 4],
                                                                 [0, 0, 0]]


def test_sparse_components_of_other_shapes_batch_to_the_largest():
    data = tf.data.Dataset.from_tensor_slices([1, 3]).map(
        lambda x: tf.SparseTensor(tf.reshape(tf.range(x, dtype=tf.int64), [-1, 1]),
                                  tf.ones(tf.reshape(x, [1]), tf.int32) * x,
                                  tf.reshape(tf.cast(x, tf.int64), [1])))
    (element,) = list(data.batch(2))
    # TF 2.21 prints indices [[0 0] [1 0] [1 1] [1 2]], values [1 3 3 3], dense_shape [2 3].
    assert element.indices.numpy().tolist() == [[0, 0], [1, 0], [1, 1], [1, 2]]
    assert element.values.numpy().tolist() == [1, 3, 3, 3]
    assert element.dense_shape.numpy().tolist() == [2, 3]


def test_padded_batch_and_unbatch_of_sparse_components_are_refused():
    parsed = _records().map(lambda r: tf.io.parse_single_example(r, SPEC))
    with pytest.raises(TypeError, match="`padded_batch` is only supported for datasets that "
                                        "produce tensor elements"):
        parsed.padded_batch(2)
    with pytest.raises(NotImplementedError, match="unbatch .* of SparseTensor components"):
        parsed.batch(2).unbatch()
