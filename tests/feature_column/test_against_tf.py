"""Feature columns give TF 2.15's ids and values for the same inputs.

The expected numbers were printed by TF 2.15 with
`tests/fixtures/make_feature_column_reference.py` (same inputs as below) and written here.
"""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.feature_column.base import FeatureCache

pytest.importorskip("farmhash")
fc = tf.feature_column

# Printed by TF 2.15 (tests/fixtures/make_feature_column_reference.py).
TF = {'hash_strings_1000': [[1, 939], [2, 822], [3, 296], [4, 598], [5, 330], [6, 25], [7, 783],
                             [8, 735], [9, 430], [10, 728], [11, 555], [12, 248], [13, 903],
                             [14, 959]],
       'to_hash_bucket_fast_1000': [263, 939, 822, 296, 598, 330, 25, 783, 735, 430, 728, 555,
                                    248, 903, 959],
       'hash_ints_97': [[0, 12], [1, 88], [2, 15], [3, 7], [4, 32], [5, 52], [6, 3], [7, 92]],
       'vocab_oov_strings': [[0, 0], [0, 5], [1, 2], [1, 6], [2, 4]],
       'vocab_oov_ints': [[0, 0], [0, 6], [1, 2], [1, 5], [2, 3]],
       'vocab_default': [[0, 0], [1, 7]],
       'cross_strings': [[0, 892], [0, 4], [1, 360], [1, 554], [2, 787], [2, 787]],
       'cross_strings_reversed': [[0, 37], [0, 647], [1, 247], [1, 515], [2, 575], [2, 575]],
       'cross_string_int': [[0, 960], [1, 712], [2, 747]],
       'cross_hash_key': [[0, 949], [0, 553], [1, 570], [1, 89], [2, 333], [2, 333]],
       'cross_vocab_bucket': [[0, 4], [1, 41], [2, 23]],
       'cross_three': [[0, 368894], [0, 233897], [1, 93214], [1, 819681], [2, 145073],
                       [2, 145073]],
       'cross_name': 'n_X_s_X_t',
       'embedding_mean': [[0.699999988079071, 0.800000011920929, 0.8999999761581421],
                          [1.2000000476837158, 1.2999999523162842, 1.399999976158142],
                          [0.0, 0.0, 0.0]],
       'embedding_weighted_mean': [[0.7285709977149963, 0.8285710215568542, 0.9285709857940674],
                                   [1.2000000476837158, 1.2999999523162842, 1.399999976158142],
                                   [0.0, 0.0, 0.0]],
       'embedding_sqrtn': [[1.2124359607696533, 1.3856409788131714, 1.5588459968566895],
                           [1.2000000476837158, 1.2999999523162842, 1.399999976158142],
                           [0.0, 0.0, 0.0]],
       'embedding_weighted_sqrtn': [[1.1129109859466553, 1.265663981437683, 1.4184160232543945],
                                    [1.2000000476837158, 1.2999999523162842, 1.399999976158142],
                                    [0.0, 0.0, 0.0]],
       'embedding_sum': [[2.0999999046325684, 2.4000000953674316, 2.700000047683716],
                         [1.2000000476837158, 1.2999999523162842, 1.399999976158142],
                         [0.0, 0.0, 0.0]],
       'embedding_weighted_sum': [[2.549999952316284, 2.9000000953674316, 3.25],
                                  [3.5999999046325684, 3.9000000953674316, 4.199999809265137],
                                  [0.0, 0.0, 0.0]],
       'embedding_max_norm': [[0.24334099888801575, 0.28609299659729004, 0.32884401082992554],
                              [0.2659449875354767, 0.2881070077419281, 0.3102700114250183],
                              [0.0, 0.0, 0.0]],
       'indicator_multi': [[0.0, 1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0],
                           [0.0, 0.0, 0.0, 0.0, 0.0]],
       'indicator_weighted': [[0.0, 1.0, 0.0, 2.5, 0.0], [0.0, 0.0, 0.0, 0.0, 3.0],
                              [0.0, 0.0, 0.0, 0.0, 0.0]],
       'dense_mixed': [[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.10000000149011612,
                        0.20000000298023224, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                       [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 4.0, 0.30000001192092896, 4.0, 0.0,
                        1.0, 0.0, 0.0, 0.0, 1.0]],
       'dense_mixed_order': ['price', 'size'],
       'linear_variable_names': ['linear_model/age_bucketized/weights:0',
                                 'linear_model/bias_weights:0', 'linear_model/color/weights:0',
                                 'linear_model/price/weights:0'],
       'linear_output': [[1.0, 2.0], [4.25, 6.0]],
       'sparse_dense_features': [[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0,
                                  0.0, 1.0, 3.0, 0.0, 0.0, 0.0, 0.10000000149011612,
                                  0.20000000298023224],
                                 [2.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, 0.0, 0.0, 2.0, 0.6363959908485413, 0.7778180241584778,
                                  0.9192389845848083]],
       'parse_spec': [['age', 'FixedLenFeature', 'float32'], ['c', 'VarLenFeature', 'string'],
                      ['i', 'VarLenFeature', 'int64'], ['s', 'VarLenFeature', 'string'],
                      ['w', 'VarLenFeature', 'float32']]}

STRINGS = ["", "a", "b", "hello", "world", "Hello, World!", "é", "日本語", "0", "-1", "12345",
           " ", "tf", "feature column", "xyz" * 20]
INTS = [0, 1, 2, 7, 42, -5, 123456789, 2 ** 40]


def ids_of(column, features):
    """(row, id) pairs of a categorical column, as TF's SparseTensor of ids lists them."""
    sparse = column.get_sparse_ids(FeatureCache(features))
    return [[int(r), int(i)] for r, i in zip(sparse.rows, sparse.ids)]


def dense(columns, features):
    return tf.keras.layers.DenseFeatures(columns)(features).numpy()


def test_hash_bucket_of_strings():
    # "" is a missing value: no id for row 0.
    assert ids_of(fc.categorical_column_with_hash_bucket("s", 1000),
                  {"s": [[s] for s in STRINGS]}) == TF["hash_strings_1000"]
    # TF's tf.strings.to_hash_bucket_fast(STRINGS, 1000), "" included.
    assert tf.feature_column.hashing.hash_buckets(
        [s.encode() for s in STRINGS], 1000).tolist() == TF["to_hash_bucket_fast_1000"]


def test_hash_bucket_of_ints_hashes_their_decimal_text():
    assert ids_of(fc.categorical_column_with_hash_bucket("i", 97, dtype=tf.int64),
                  {"i": np.array([[v] for v in INTS], np.int64)}) == TF["hash_ints_97"]


def test_vocabulary_oov_buckets():
    assert ids_of(fc.categorical_column_with_vocabulary_list("v", ["a", "b", "c"],
                                                            num_oov_buckets=5),
                  {"v": [["a", "zz"], ["c", "q"], ["hello", ""]]}) == TF["vocab_oov_strings"]
    assert ids_of(fc.categorical_column_with_vocabulary_list("v", [10, 20, 30],
                                                            num_oov_buckets=4),
                  {"v": np.array([[10, 11], [30, 99], [-1, 12345]], np.int64)}) == \
        TF["vocab_oov_ints"]
    assert ids_of(fc.categorical_column_with_vocabulary_list("v", ["a", "b"], default_value=7),
                  {"v": [["a"], ["x"]]}) == TF["vocab_default"]


CROSS_FEATURES = {"s": [["a", "b"], ["c", ""], ["", ""]],
                  "t": [["x"], ["y"], ["z"]],
                  "n": np.array([[3], [-2], [7]], np.int64),
                  "x": [[0.5], [2.5], [9.]]}


def _sorted(pairs):
    return sorted(map(tuple, pairs))


@pytest.mark.parametrize("label, column, expected", [
    ("strings", lambda: fc.crossed_column(["s", "t"], 1000), TF["cross_strings"]),
    ("reversed", lambda: fc.crossed_column(["t", "s"], 1000), TF["cross_strings_reversed"]),
    ("string_int", lambda: fc.crossed_column(["t", "n"], 1000), TF["cross_string_int"]),
    ("hash_key", lambda: fc.crossed_column(["s", "t"], 1000, hash_key=12345),
     TF["cross_hash_key"]),
    ("vocab_bucket", lambda: fc.crossed_column(
        [fc.categorical_column_with_vocabulary_list("t", ["x", "y"]),
         fc.bucketized_column(fc.numeric_column("x"), [1., 5.])], 50),
     TF["cross_vocab_bucket"]),
    ("three", lambda: fc.crossed_column(["s", "t", "n"], 10 ** 6), TF["cross_three"]),
])
def test_crossed_ids(label, column, expected):
    # A row's crosses may come in another order than TF's; every consumer sums over them.
    assert _sorted(ids_of(column(), CROSS_FEATURES)) == _sorted(expected)


@pytest.mark.parametrize("label, column, expected", [
    # Printed by TF 2.15: SparseCross takes sparse inputs (a column's ids) before dense
    # raw features, whatever the order of the keys.
    ("raw_then_column", lambda: fc.crossed_column(
        ["t", fc.bucketized_column(fc.numeric_column("x"), [1., 5.])], 50),
     [[0, 43], [1, 25], [2, 3]]),
    # A nested cross is flattened into its keys (TF's _collect_leaf_level_keys): the same
    # ids as crossing s, t and n directly (TF["cross_three"] mod 1000).
    ("nested", lambda: fc.crossed_column([fc.crossed_column(["s", "t"], 1000), "n"], 1000),
     [[0, 894], [0, 897], [1, 214], [1, 681], [2, 73], [2, 73]]),
])
def test_crossed_ids_key_order_as_tf(label, column, expected):
    assert _sorted(ids_of(column(), CROSS_FEATURES)) == _sorted(expected)


def test_crossed_name():
    assert fc.crossed_column(["t", "s", fc.categorical_column_with_identity("n", 4)],
                             5).name == TF["cross_name"]


TABLE = np.arange(15, dtype=np.float32).reshape(5, 3) / 10.
ID_FEATURES = {"ids": np.array([[1, 3, 3], [4, -1, -1], [-1, -1, -1]], np.int64),
               "w": np.array([[1., 2., 0.5], [3., 0., 0.], [0., 0., 0.]], np.float32)}


def _table_init(shape, dtype=None):
    return tf.constant(TABLE)


@pytest.mark.parametrize("combiner, expected, weighted_expected", [
    ("mean", TF["embedding_mean"], TF["embedding_weighted_mean"]),
    ("sqrtn", TF["embedding_sqrtn"], TF["embedding_weighted_sqrtn"]),
    ("sum", TF["embedding_sum"], TF["embedding_weighted_sum"]),
])
def test_embedding_combiners(combiner, expected, weighted_expected):
    ids = fc.categorical_column_with_identity("ids", 5)
    got = dense([fc.embedding_column(ids, 3, combiner=combiner, initializer=_table_init)],
                ID_FEATURES)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    weighted = fc.weighted_categorical_column(ids, "w")
    got = dense([fc.embedding_column(weighted, 3, combiner=combiner, initializer=_table_init)],
                ID_FEATURES)
    np.testing.assert_allclose(got, weighted_expected, rtol=1e-5, atol=1e-6)


def test_embedding_max_norm():
    ids = fc.categorical_column_with_identity("ids", 5)
    got = dense([fc.embedding_column(ids, 3, initializer=_table_init, max_norm=0.5)],
                ID_FEATURES)
    np.testing.assert_allclose(got, TF["embedding_max_norm"], rtol=1e-5, atol=1e-6)


def test_indicator_counts_and_weights():
    ids = fc.categorical_column_with_identity("ids", 5)
    np.testing.assert_array_equal(dense([fc.indicator_column(ids)], ID_FEATURES),
                                  TF["indicator_multi"])
    np.testing.assert_array_equal(
        dense([fc.indicator_column(fc.weighted_categorical_column(ids, "w"))], ID_FEATURES),
        TF["indicator_weighted"])


MIXED = {"price": [[1.], [4.]], "size": [[1., 2.], [3., 40.]], "age": [[17.], [65.]],
         "color": [["red"], ["blue"]]}


def test_dense_features_orders_columns_by_name():
    got = dense([
        fc.numeric_column("size", shape=(2,), normalizer_fn=lambda x: x / 10.),
        fc.bucketized_column(fc.numeric_column("age"), [18., 40., 65.]),
        fc.numeric_column("price"),
        fc.indicator_column(fc.categorical_column_with_vocabulary_list(
            "color", ["red", "green", "blue"])),
        fc.bucketized_column(fc.numeric_column("size", shape=(2,)), [2., 10.]),
    ], MIXED)
    np.testing.assert_allclose(got, TF["dense_mixed"], rtol=1e-6)
    layer = tf.keras.layers.DenseFeatures([fc.numeric_column("size", shape=(2,)),
                                           fc.numeric_column("price")])
    assert [c.name for c in layer.feature_columns] == TF["dense_mixed_order"]


def test_linear_model_matches_tf():
    linear = fc.LinearModel([fc.numeric_column("price"),
                             fc.bucketized_column(fc.numeric_column("age"), [18., 40., 65.]),
                             fc.categorical_column_with_vocabulary_list(
                                 "color", ["red", "green", "blue"])],
                            units=2, name="linear_model")
    linear(MIXED)
    assert sorted(v.name for v in linear.weights) == TF["linear_variable_names"]
    for v in linear.weights:
        size = int(np.prod(v.shape))
        v.assign(np.arange(size, dtype=np.float32).reshape(v.shape) / 4. + 0.25)
    np.testing.assert_allclose(linear(MIXED).numpy(), TF["linear_output"], rtol=1e-6)


def test_sparse_features_as_parse_example_gives_them():
    from numpyflow.io.parsing import SparseTensorValue

    def sparse(indices, values, dtype=None):
        return SparseTensorValue(tf.constant(indices, dtype=tf.int64),
                                 tf.constant(values, dtype=dtype),
                                 tf.constant([2, 2], dtype=tf.int64))

    features = {"age": [[1.], [2.]],
                "c": sparse([[0, 0], [0, 1], [1, 0]], ["a", "b", "z"]),
                "i": sparse([[0, 0], [0, 1], [1, 0]], [1, 2, 4], tf.int64),
                "w": sparse([[0, 0], [0, 1], [1, 0]], [1., 3., 2.]),
                "s": sparse([[0, 0], [1, 0], [1, 1]], ["x", "y", "q"])}
    columns = [
        fc.numeric_column("age"),
        fc.indicator_column(fc.categorical_column_with_vocabulary_list("c", ["a", "b"])),
        fc.indicator_column(fc.weighted_categorical_column(
            fc.categorical_column_with_identity("i", 5), "w")),
        fc.indicator_column(fc.crossed_column(["c", "s"], 10)),
        fc.embedding_column(fc.categorical_column_with_hash_bucket("s", 5), 3,
                            combiner="sqrtn", initializer=_table_init),
    ]
    np.testing.assert_allclose(dense(columns, features), TF["sparse_dense_features"],
                               rtol=1e-5, atol=1e-6)
    spec = fc.make_parse_example_spec([
        fc.numeric_column("age"),
        fc.indicator_column(fc.categorical_column_with_vocabulary_list("c", ["a", "b"])),
        fc.embedding_column(fc.weighted_categorical_column(
            fc.categorical_column_with_identity("i", 5), "w"), 2),
        fc.crossed_column(["c", "s"], 10)])
    assert sorted([key, type(s).__name__, s.dtype.name] for key, s in spec.items()) == \
        TF["parse_spec"]
