"""Feature columns: construction checks, names, values and errors (TF 2.15's messages)."""

import logging

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.feature_column.base import FeatureCache

fc = tf.feature_column
DenseFeatures = tf.keras.layers.DenseFeatures


def ids_of(column, features):
    sparse = column.get_sparse_ids(FeatureCache(features))
    return [[int(r), int(i)] for r, i in zip(sparse.rows, sparse.ids)]


# -- construction -------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: fc.numeric_column(3), ValueError, "key must be a string"),
    (lambda: fc.numeric_column("a", shape=(0,)), ValueError,
     "shape dimensions must be greater than 0. shape: (0,), key: a"),
    (lambda: fc.numeric_column("a", default_value="x"), TypeError,
     "default_value must be compatible with dtype"),
    (lambda: fc.numeric_column("a", normalizer_fn=3), TypeError,
     "normalizer_fn must be a callable"),
    (lambda: fc.bucketized_column(fc.numeric_column("a"), [3., 1.]), ValueError,
     "boundaries must be a sorted list"),
    (lambda: fc.bucketized_column(fc.numeric_column("a"), []), ValueError,
     "boundaries must not be empty"),
    (lambda: fc.bucketized_column("a", [1.]), ValueError,
     "source_column must be a column generated with numeric_column()"),
    (lambda: fc.categorical_column_with_identity("i", 0), ValueError,
     "num_buckets 0 < 1, column_name i"),
    (lambda: fc.categorical_column_with_identity("i", 4, default_value=4), ValueError,
     "default_value 4 not in range [0, 4), column_name i"),
    (lambda: fc.categorical_column_with_vocabulary_list("v", ["x"], default_value=0,
                                                        num_oov_buckets=2), ValueError,
     "Can't specify both num_oov_buckets and default_value in v."),
    (lambda: fc.categorical_column_with_vocabulary_list("v", ["x", "x"]), ValueError,
     "Duplicate keys in vocabulary_list"),
    (lambda: fc.categorical_column_with_vocabulary_list("v", []), ValueError,
     "must be non-empty, column_name: v"),
    (lambda: fc.categorical_column_with_vocabulary_list("v", ["x"], dtype=tf.int64), ValueError,
     "do not match, column_name: v"),
    (lambda: fc.categorical_column_with_vocabulary_list("v", ["x"], num_oov_buckets=-1),
     ValueError, "Invalid num_oov_buckets -1 in v."),
    (lambda: fc.categorical_column_with_hash_bucket("h", 0), ValueError,
     "hash_bucket_size must be at least 1"),
    (lambda: fc.categorical_column_with_hash_bucket("h", 10, dtype=tf.float32), ValueError,
     "column_name: h dtype must be string or integer"),
    (lambda: fc.indicator_column(fc.numeric_column("a")), ValueError,
     "Input must be a CategoricalColumn"),
    (lambda: fc.embedding_column(fc.categorical_column_with_identity("i", 3), 0), ValueError,
     "Invalid dimension 0."),
    (lambda: fc.embedding_column(fc.categorical_column_with_identity("i", 3), 2,
                                 combiner="max"), ValueError, "combiner must be one of"),
    (lambda: fc.embedding_column(fc.categorical_column_with_identity("i", 3), 2,
                                 initializer=3), ValueError,
     "initializer must be callable if specified"),
    (lambda: fc.embedding_column(fc.categorical_column_with_identity("i", 3), 2,
                                 ckpt_to_load_from="ckpt"), NotImplementedError,
     "ckpt_to_load_from"),
    (lambda: fc.crossed_column(["a"], 10), ValueError, "keys must be a list with length > 1"),
    (lambda: fc.crossed_column([fc.numeric_column("a"), "b"], 10), ValueError,
     "Unsupported key type"),
    (lambda: fc.crossed_column(["a", "b"], 1), ValueError, "hash_bucket_size must be > 1"),
    (lambda: fc.crossed_column([fc.categorical_column_with_hash_bucket("h", 10), "b"], 10),
     ValueError, "categorical_column_with_hash_bucket is not supported for crossing"),
    (lambda: fc.shared_embeddings([fc.categorical_column_with_identity("a", 3),
                                   fc.categorical_column_with_identity("b", 4)], 2),
     ValueError, "must have the same number of buckets"),
    (lambda: DenseFeatures([]), ValueError, "feature_columns must not be empty."),
    (lambda: DenseFeatures([fc.categorical_column_with_identity("i", 3)]), ValueError,
     "You can wrap a categorical column with an embedding_column or indicator_column"),
    (lambda: DenseFeatures([fc.numeric_column("a"), fc.numeric_column("a")]), ValueError,
     "Duplicate feature column name found for columns"),
    (lambda: DenseFeatures([fc.numeric_column("a")], partitioner=object()),
     NotImplementedError, "partitioner"),
])
def test_construction_errors(make, error, message):
    with pytest.raises(error, match=None) as info:
        make()
    assert message in str(info.value)


def test_names_and_sizes():
    age = fc.numeric_column("age", shape=(2,))
    ids = fc.categorical_column_with_identity("i", 4)
    assert [c.name for c in [fc.bucketized_column(age, [1., 2.]), fc.indicator_column(ids),
                             fc.embedding_column(ids, 2), fc.crossed_column(["x", ids], 5),
                             fc.weighted_categorical_column(ids, "w")]] == \
        ["age_bucketized", "i_indicator", "i_embedding", "i_X_x", "i_weighted_by_w"]
    assert fc.bucketized_column(age, [1., 2.]).num_buckets == 6
    assert fc.bucketized_column(age, [1., 2.]).variable_shape == (2, 3)
    assert repr(fc.numeric_column("a")) == ("NumericColumn(key='a', shape=(1,), "
                                            "default_value=None, dtype=tf.float32, "
                                            "normalizer_fn=None)")
    assert fc.categorical_column_with_vocabulary_list("v", [1, 2]).dtype == tf.int64


# -- values ---------------------------------------------------------------------------------
def test_numeric_column_shapes_and_normalizer():
    layer = DenseFeatures([fc.numeric_column("a", shape=(2, 2), normalizer_fn=lambda x: x * 2.)])
    out = layer({"a": np.arange(8, dtype=np.int32).reshape(2, 2, 2)})
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), np.arange(8).reshape(2, 4) * 2.)
    # Rank-1 features are one value per example.
    np.testing.assert_array_equal(DenseFeatures([fc.numeric_column("b")])(
        {"b": [1., 2., 3.]}).numpy(), [[1.], [2.], [3.]])


def test_bucketized_boundaries_are_left_closed():
    column = fc.bucketized_column(fc.numeric_column("x"), [0., 1., 2.])
    assert ids_of(column, {"x": [[-1.], [0.], [0.999], [1.], [2.], [5.]]}) == \
        [[0, 0], [1, 1], [2, 1], [3, 2], [4, 3], [5, 3]]


def test_identity_missing_negative_and_out_of_range():
    column = fc.categorical_column_with_identity("i", 4)
    # -1 is TF's missing marker; other negatives give no id either.
    assert ids_of(column, {"i": [[1, -1], [-2, 3]]}) == [[0, 1], [1, -2], [1, 3]]
    np.testing.assert_array_equal(DenseFeatures([fc.indicator_column(column)])(
        {"i": [[1, -1], [-2, 3]]}).numpy(), [[0, 1, 0, 0], [0, 0, 0, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Bucket index for categorical column i exceeds number of buckets"):
        DenseFeatures([fc.indicator_column(column)])({"i": [[5], [1]]})
    with_default = fc.categorical_column_with_identity("i", 4, default_value=0)
    assert ids_of(with_default, {"i": [[5], [1], [-1], [-3]]}) == [[0, 0], [1, 1], [3, 0]]


def test_vocabulary_miss_without_oov_gives_no_id_and_warns(caplog):
    column = fc.categorical_column_with_vocabulary_list("color", ["red", "green"])
    layer = DenseFeatures([fc.indicator_column(column)])
    with caplog.at_level(logging.WARNING, logger="numpyflow"):
        out = layer({"color": [["green"], ["purple"], [""]]})
        layer({"color": [["purple"]]})
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [0, 0], [0, 0]])
    warnings = [r.getMessage() for r in caplog.records if "color" in r.getMessage()]
    assert len(warnings) == 1 and "b'purple'" in warnings[0] and "num_oov_buckets" in warnings[0]


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("red\ngreen\r\nblue\n")
    column = fc.categorical_column_with_vocabulary_file("c", str(path))
    assert column.num_buckets == 3
    assert ids_of(column, {"c": [["blue"], ["green"], ["nope"]]}) == [[0, 2], [1, 1], [2, -1]]
    two = fc.categorical_column_with_vocabulary_file("c", str(path), vocabulary_size=2,
                                                      num_oov_buckets=3)
    assert two.num_buckets == 5
    assert ids_of(two, {"c": [["blue"]]})[0][1] in (2, 3, 4)
    (tmp_path / "ints.txt").write_text("10\n20\n")
    ints = fc.categorical_column_with_vocabulary_file("n", str(tmp_path / "ints.txt"),
                                                       dtype=tf.int64)
    assert ids_of(ints, {"n": [[20], [10]]}) == [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match="Invalid vocabulary_size in c"):
        fc.categorical_column_with_vocabulary_file("c", str(path), vocabulary_size=4)
    with pytest.raises(FileNotFoundError):
        fc.categorical_column_with_vocabulary_file("c", str(tmp_path / "missing.txt"))
    with pytest.raises(NotImplementedError, match="file_format"):
        fc.categorical_column_with_vocabulary_file("c", str(path), file_format="tfrecord_gzip")


def test_integer_columns_accept_whole_floats_as_keras_models_give_them():
    column = fc.categorical_column_with_identity("i", 4)
    assert ids_of(column, {"i": np.array([[1.], [3.]], np.float32)}) == [[0, 1], [1, 3]]
    with pytest.raises(ValueError, match="Invalid input, not integer. key: i dtype: float32"):
        DenseFeatures([fc.indicator_column(column)])({"i": np.array([[1.5]], np.float32)})


def test_shared_embeddings_share_one_table():
    a = fc.categorical_column_with_identity("a", 4)
    b = fc.categorical_column_with_identity("b", 4)
    ea, eb = fc.shared_embeddings([a, b], 3, initializer=tf.keras.initializers.Constant(1.))
    layer = DenseFeatures([ea, eb])
    out = layer({"a": [[0], [1]], "b": [[2], [-1]]})
    assert [w.name for w in layer.weights] == [f"{layer.name}/a_b_shared_embedding:0"]
    np.testing.assert_array_equal(out.numpy(), [[1] * 6, [1, 1, 1, 0, 0, 0]])
    other = DenseFeatures([eb])
    other({"b": [[1]]})
    assert other.weights[0] is layer.weights[0]


def test_serialization_round_trip(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("a\nb\n")
    ids = fc.categorical_column_with_identity("i", 4)
    columns = [
        fc.numeric_column("n", shape=(2,), default_value=(1., 2.)),
        fc.bucketized_column(fc.numeric_column("x"), [0., 1.]),
        fc.indicator_column(fc.categorical_column_with_vocabulary_list("v", ["p", "q"],
                                                                     num_oov_buckets=1)),
        fc.indicator_column(fc.categorical_column_with_vocabulary_file("f", str(path))),
        fc.indicator_column(fc.categorical_column_with_hash_bucket("h", 7)),
        fc.indicator_column(fc.crossed_column(["s", ids], 9, hash_key=5)),
        fc.embedding_column(fc.weighted_categorical_column(ids, "w"), 2, combiner="sqrtn",
                            max_norm=1.5),
    ]
    for column in columns:
        config = fc.serialize_feature_column(column)
        again = fc.deserialize_feature_column(config)
        assert fc.serialize_feature_column(again) == config
        assert again.name == column.name
    with pytest.raises(ValueError, match="normalizer_fn cannot be serialized"):
        fc.serialize_feature_column(fc.numeric_column("n", normalizer_fn=lambda x: x))
    with pytest.raises(ValueError, match="unknown feature column config"):
        fc.deserialize_feature_column({"class_name": "os.system", "config": {}})


# -- errors at call time -------------------------------------------------------------------
@pytest.mark.parametrize("columns, features, error, message", [
    ([fc.numeric_column("a")], {"b": [[1.]]}, ValueError,
     "Feature a is not in features dictionary."),
    ([fc.numeric_column("a")], {"a": [["x"]]}, TypeError, "Feature a: expected numbers"),
    ([fc.numeric_column("a", shape=(2,))], {"a": [[1., 2., 3.]]}, ValueError,
     "numeric_column 'a': each example must have 2 value(s)"),
    ([fc.indicator_column(fc.categorical_column_with_identity("i", 3))], {"i": [["1"]]},
     ValueError, "Invalid input, not integer. key: i dtype: string"),
    ([fc.indicator_column(fc.categorical_column_with_vocabulary_list("v", ["x"]))],
     {"v": [[1]]}, ValueError,
     "Column dtype and SparseTensors dtype must be compatible. key: v, column dtype: string"),
    ([fc.indicator_column(fc.categorical_column_with_vocabulary_list("v", [1, 2]))],
     {"v": [["1"]]}, ValueError,
     "Column dtype and SparseTensors dtype must be compatible. key: v, column dtype: int64"),
    ([fc.indicator_column(fc.categorical_column_with_hash_bucket("h", 10))], {"h": [[1.5]]},
     ValueError, "column_name: h input_tensor dtype must be string or integer"),
    ([fc.numeric_column("a"), fc.numeric_column("b")], {"a": [[1.]], "b": [[1.], [2.]]},
     ValueError, "Batch size (first dimension) of each feature must be same"),
    ([fc.indicator_column(fc.weighted_categorical_column(
        fc.categorical_column_with_identity("i", 3), "w"))], {"i": [[1, 2]], "w": [[1.]]},
     ValueError, "the weights feature 'w' has 1 values, but the ids feature 'i' has 2"),
])
def test_call_errors_name_the_column(columns, features, error, message):
    with pytest.raises(error) as info:
        DenseFeatures(columns)(features)
    assert message in str(info.value)


def test_not_a_dict():
    with pytest.raises(ValueError, match="We expected a dictionary here"):
        DenseFeatures([fc.numeric_column("a")])(tf.constant([[1.]]))


def test_columns_read_parsed_tf_examples():
    from numpyflow.io import example_proto as pb

    def example(age, colors, ids):
        return pb.Example(features=pb.Features(feature={
            "age": pb.Feature(float_list=pb.FloatList(value=[age])),
            "color": pb.Feature(bytes_list=pb.BytesList(value=colors)),
            "ids": pb.Feature(int64_list=pb.Int64List(value=ids))})).SerializeToString()

    columns = [fc.numeric_column("age"),
               fc.indicator_column(fc.categorical_column_with_vocabulary_list(
                   "color", ["red", "blue"])),
               fc.indicator_column(fc.categorical_column_with_identity("ids", 4))]
    spec = fc.make_parse_example_spec(columns)
    parsed = tf.io.parse_example([example(30., [b"blue", b"red"], [3]),
                                  example(40., [], [0, 0, 1])], spec)
    np.testing.assert_array_equal(DenseFeatures(columns)(parsed).numpy(),
                                  [[30, 1, 1, 0, 0, 0, 1], [40, 0, 0, 2, 1, 0, 0]])
    with pytest.raises(ValueError, match="different parse_spec for key a"):
        fc.make_parse_example_spec([fc.numeric_column("a"),
                                    fc.categorical_column_with_identity("a", 3)])
    with pytest.raises(ValueError, match="SparseTensor is not supported. key: ids"):
        DenseFeatures([fc.numeric_column("ids")])(parsed)


def test_hashing_without_the_extra_names_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "farmhash", None)  # As if pyfarmhash were missing.
    column = fc.crossed_column(["a", "b"], 10)
    with pytest.raises(ImportError, match=r"numpyflow\[hashing\]"):
        column.get_sparse_ids(FeatureCache({"a": [["x"]], "b": [["y"]]}))
    hashed = fc.categorical_column_with_hash_bucket("h", 10)
    with pytest.raises(ImportError, match=r"numpyflow\[hashing\]"):
        hashed.get_sparse_ids(FeatureCache({"h": [["x"]]}))


def test_shared_embeddings_cannot_be_serialized_yet():
    a, b = (fc.categorical_column_with_identity(k, 3) for k in "ab")
    layer = DenseFeatures(fc.shared_embeddings([a, b], 2))
    with pytest.raises(NotImplementedError, match="SharedEmbeddingColumn"):
        layer.get_config()


def test_empty_batch_gives_empty_output():
    # TF 2.15 gives [0, width] for a batch of 0 examples; a reshape to (0, -1) used to fail.
    ids = fc.categorical_column_with_identity("b", 3)
    age = fc.numeric_column("a")
    layer = tf.keras.layers.DenseFeatures([
        age, fc.bucketized_column(age, [0., 1.]), fc.indicator_column(ids),
        fc.embedding_column(ids, 2), fc.indicator_column(fc.crossed_column(["s", ids], 5))])
    out = layer({"a": np.zeros((0, 1), np.float32), "b": np.zeros((0, 1), np.int64),
                 "s": np.zeros((0, 1), dtype=object)})
    assert out.shape == (0, 1 + 3 + 3 + 2 + 5)
