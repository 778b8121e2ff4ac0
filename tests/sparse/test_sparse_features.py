"""SparseTensors from `tf.io.parse_example` feed feature columns and `tf.sparse` functions."""

import pytest

import numpyflow as tf
from numpyflow.io import example_proto as pb
from numpyflow.io import parsing


def _record(**ints):
    return pb.Example(features=pb.Features(feature={
        key: pb.Feature(int64_list=pb.Int64List(value=values))
        for key, values in ints.items()})).SerializeToString()


def test_parse_gives_sparse_tensors_that_tf_sparse_takes():
    records = [_record(v=[3, 1]), _record(), _record(v=[7])]
    parsed = tf.io.parse_example(records, {"v": tf.io.VarLenFeature(tf.int64)})["v"]
    assert isinstance(parsed, tf.sparse.SparseTensor) and parsed.shape == (3, 2)
    assert tf.sparse.to_dense(parsed).numpy().tolist() == [[3, 1], [0, 0], [7, 0]]
    assert tf.sparse.to_dense(parsed, default_value=-1).numpy().tolist() == [
        [3, 1], [-1, -1], [7, -1]]
    assert tf.sparse.reduce_sum(parsed, axis=1).numpy().tolist() == [4, 0, 7]
    single = tf.io.parse_single_example(records[0], {"v": tf.io.VarLenFeature(tf.int64)})["v"]
    assert isinstance(single, tf.SparseTensor) and single.shape == (2,)
    assert tf.sparse.to_dense(single).numpy().tolist() == [3, 1]


def test_feature_columns_take_sparse_tensors(monkeypatch):
    """The TF-checked feature-column test of sparse inputs, given SparseTensors instead of
    SparseTensorValues."""
    pytest.importorskip("farmhash")
    from tests.feature_column import test_against_tf
    made = []

    def sparse_tensor(indices, values, dense_shape):
        made.append(tf.SparseTensor(indices, values, dense_shape))
        return made[-1]

    monkeypatch.setattr(parsing, "SparseTensorValue", sparse_tensor)
    test_against_tf.test_sparse_features_as_parse_example_gives_them()
    assert len(made) == 4 and all(isinstance(sp, tf.SparseTensor) for sp in made)


def test_numeric_column_refuses_a_sparse_tensor():
    sp = tf.SparseTensor([[0, 0]], [1.0], [1, 1])
    layer = tf.keras.layers.DenseFeatures([tf.feature_column.numeric_column("x")])
    with pytest.raises(ValueError, match="SparseTensor is not supported. key: x"):
        layer({"x": sp})
