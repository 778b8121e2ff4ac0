"""tf.RaggedTensor and tf.ragged beyond the TF fixture (expected values from TF 2.21).

The fixture-driven checks of constant/from_*/to_tensor/row_lengths/indexing are in
tests/strings/test_against_tf.py."""

import numpy as np
import pytest

import numpyflow as tf


def test_constructor_is_private():
    with pytest.raises(ValueError, match="constructor is private"):
        tf.RaggedTensor([1], [0, 1])


def test_from_tensor_with_padding_or_lengths():
    assert tf.RaggedTensor.from_tensor([[1, 0], [2, 3], [0, 0]], padding=0).to_list() == \
        [[1], [2, 3], []]
    assert tf.RaggedTensor.from_tensor([[1, 0], [2, 3]], lengths=[1, 2]).to_list() == \
        [[1], [2, 3]]
    full = tf.RaggedTensor.from_tensor([[1, 0], [2, 3]])
    assert repr(full) == "<tf.RaggedTensor [[1, 0],\n [2, 3]]>"
    with pytest.raises(NotImplementedError, match="ragged_rank"):
        tf.RaggedTensor.from_tensor([[[1]]], ragged_rank=2)


def test_constant_inference_and_errors():
    empty = tf.ragged.constant([])
    assert isinstance(empty, tf.Tensor) and empty.dtype == tf.float32 and empty.shape == (0,)
    assert tf.ragged.constant([[]]).dtype == tf.float32
    assert tf.ragged.constant([[], []]).shape.as_list() == [2, None]
    assert tf.ragged.constant([[1, 2], [3]], dtype=tf.float64).to_list() == [[1.0, 2.0], [3.0]]
    assert tf.ragged.constant([[[1, 2]], []], ragged_rank=1).shape.as_list() == [2, None, 2]
    with pytest.raises(ValueError, match="same nesting depth"):
        tf.ragged.constant([[1, [2]]])
    with pytest.raises(TypeError, match="nested Python list"):
        tf.ragged.constant(tf.constant([1]))


def test_rows_numpy_iteration_and_indexing():
    rt = tf.ragged.constant([[1, 2], [3]])
    rows = rt.numpy()
    assert rows.dtype == object and [r.tolist() for r in rows] == [[1, 2], [3]]
    assert [r.numpy().tolist() for r in rt] == [[1, 2], [3]]
    assert rt[tf.constant(1)].numpy().tolist() == [3]
    with pytest.raises(IndexError, match="out of range"):
        rt[2]
    with pytest.raises(NotImplementedError, match="row index or a slice"):
        rt[:, 0]
    nested = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    assert nested[0].to_list() == [[1, 2], [3]] and nested[1:].to_list() == [[[4]]]
    assert nested.row_lengths(axis=2).to_list() == [[2, 1], [1]]
    assert [s.numpy().tolist() for s in nested.nested_row_splits] == [[0, 2, 3], [0, 2, 3, 4]]


def test_uniform_row_length_and_nested_splits():
    rt = tf.RaggedTensor.from_uniform_row_length([1, 2, 3, 4], 2)
    assert rt.shape.as_list() == [2, 2] and rt.uniform_row_length.numpy() == 2
    assert repr(rt) == "<tf.RaggedTensor [[1, 2],\n [3, 4]]>"
    assert rt[1:].shape.as_list() == [1, 2]
    nested = tf.RaggedTensor.from_nested_row_splits([1, 2, 3], [[0, 1, 2], [0, 2, 3]])
    assert nested.to_list() == [[[1, 2]], [[3]]] and nested.ragged_rank == 2
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.RaggedTensor.from_uniform_row_length([1, 2, 3], 2)


def test_to_tensor_of_strings_and_shapes():
    rt = tf.ragged.constant([["a"], []])
    assert rt.to_tensor(default_value="z").numpy().tolist() == [[b"a"], [b"z"]]
    assert rt.to_tensor().numpy().tolist() == [[b"a"], [b""]]
    assert rt.to_tensor(shape=[3, 2]).numpy().tolist() == [[b"a", b""], [b"", b""], [b"", b""]]
    nested = tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1)
    assert nested.to_tensor(default_value=-1).numpy().tolist() == \
        [[[1, 2], [-1, -1]], [[3, 4], [5, 6]]]
    with pytest.raises(ValueError, match="rank"):
        rt.to_tensor(shape=[2])


def test_value_rowids_and_bounding_shape():
    rt = tf.RaggedTensor.from_value_rowids(["a", "b", "c"], [0, 0, 2], nrows=4)
    assert rt.to_list() == [[b"a", b"b"], [], [b"c"], []]
    assert rt.value_rowids().numpy().tolist() == [0, 0, 2]
    assert rt.bounding_shape().numpy().tolist() == [4, 2]
    assert rt.bounding_shape(axis=1).numpy() == 2
    assert rt.row_starts().numpy().tolist() == [0, 2, 2, 3]
    with pytest.raises(tf.errors.InvalidArgumentError, match="sorted"):
        tf.RaggedTensor.from_value_rowids([1, 2], [1, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="nrows"):
        tf.RaggedTensor.from_value_rowids([1, 2], [0, 3], nrows=2)


def test_map_flat_values():
    rt = tf.ragged.constant([[1, 2], [3]])
    doubled = tf.ragged.map_flat_values(tf.multiply, rt, 2)
    assert doubled.to_list() == [[2, 4], [6]] and doubled.dtype == tf.int32
    assert tf.ragged.map_flat_values(tf.add, rt, rt).to_list() == [[2, 4], [6]]
    with pytest.raises(ValueError, match="same row partitions"):
        tf.ragged.map_flat_values(tf.add, tf.ragged.constant([[1], [2]]),
                                  tf.ragged.constant([[1, 2]]))
    assert tf.ragged.map_flat_values(tf.negative, tf.constant([1])).numpy().tolist() == [-1]


def test_with_values_checks_the_count():
    rt = tf.ragged.constant([[1, 2], [3]])
    assert rt.with_flat_values(tf.constant([7., 8., 9.])).to_list() == [[7., 8.], [9.]]
    with pytest.raises(ValueError, match="expected 3 values"):
        rt.with_values(tf.constant([1, 2]))


def test_bool_and_hash_refuse():
    rt = tf.ragged.constant([[1]])
    with pytest.raises(TypeError):
        bool(rt)
    with pytest.raises(TypeError):
        hash(rt)
    assert np.asarray(rt.flat_values).tolist() == [1]


def test_from_tensor_keeps_uniform_rows_and_checks_lengths():
    # TF 2.21: without lengths or padding every row is full, so the dimension is uniform.
    assert tf.RaggedTensor.from_tensor([[1, 0], [2, 3]]).shape.as_list() == [2, 2]
    assert tf.RaggedTensor.from_tensor([[[1], [2]], [[3], [4]]]).shape.as_list() == [2, 2, 1]
    assert tf.RaggedTensor.from_tensor([[1, 0], [2, 3]], lengths=[1, 2]).shape.as_list() == \
        [2, None]
    # Negative lengths give empty rows, as TF.
    assert tf.RaggedTensor.from_tensor([[1, 2, 3], [4, 5, 6]], lengths=[1, -1]).to_list() == \
        [[1], []]
    with pytest.raises(ValueError, match=r"from_tensor.*lengths.*2 rows.*received 1"):
        tf.RaggedTensor.from_tensor([[1, 2, 3], [4, 5, 6]], lengths=[1])


def test_row_lengths_axis_zero_negative_and_uniform():
    rt = tf.ragged.constant([[1, 2], [3]])
    assert rt.row_lengths(axis=-1).numpy().tolist() == [2, 1]
    assert rt.row_lengths(axis=0).numpy() == 2
    nested = tf.ragged.constant([[[1], [2, 3]], []])
    assert nested.row_lengths(axis=-1).to_list() == [[1, 2], []]
    inner = tf.ragged.constant([[[1, 2]], [[3, 4]]], ragged_rank=1)
    assert inner.row_lengths(axis=2).to_list() == [[2], [2]]
    with pytest.raises(ValueError, match="axis=2 out of bounds"):
        rt.row_lengths(axis=2)
    with pytest.raises(ValueError, match="axis=-3 out of bounds"):
        rt.row_lengths(axis=-3)


def test_map_flat_values_checks_the_result_rows():
    rt = tf.ragged.constant([[1, 2], [], [3]])
    with pytest.raises(ValueError, match=r"map_flat_values.*output shape: \(\).*3"):
        tf.ragged.map_flat_values(tf.reduce_sum, rt)
