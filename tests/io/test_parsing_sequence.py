"""`FixedLenSequenceFeature`, `SparseFeature` and SequenceExample parsing, replayed against
what TF 2.21 returned for the same serialized records (tests/fixtures/parsing/, written by
tests/fixtures/make_parsing_fixtures.py): values, shapes, dtypes, and errors with messages."""

import json
import os
import re

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.io import example_proto as pb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "tests", "fixtures", "parsing", "cases_tf221.json")) as _f:
    FIXTURE = json.load(_f)
CASES = {case["name"]: case for case in FIXTURE["cases"]}
ERRORS = {"InvalidArgumentError": InvalidArgumentError, "ValueError": ValueError}


def _value(value):
    if isinstance(value, dict):
        return bytes.fromhex(value["bytes_hex"])
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def _spec(json_spec):
    kind, *args = json_spec
    if kind == "FixedLenFeature":
        shape, dtype, default = args
        return tf.io.FixedLenFeature(shape, getattr(tf, dtype), default_value=_value(default))
    if kind == "VarLenFeature":
        return tf.io.VarLenFeature(getattr(tf, args[0]))
    if kind == "FixedLenSequenceFeature":
        shape, dtype, allow_missing, default = args
        return tf.io.FixedLenSequenceFeature(shape, getattr(tf, dtype), allow_missing,
                                             _value(default))
    index_key, value_key, dtype, size, already_sorted = args
    return tf.io.SparseFeature(index_key, value_key, getattr(tf, dtype), size, already_sorted)


def _specs(json_specs):
    return None if json_specs is None else {k: _spec(s) for k, s in json_specs.items()}


def _check_output(got, expected, where):
    if "indices" in expected:
        assert isinstance(got, tf.sparse.SparseTensor), where
        assert got.indices.numpy().tolist() == expected["indices"], where
        assert got.values.numpy().tolist() == _value(expected["values"]), where
        assert got.dense_shape.numpy().tolist() == expected["dense_shape"], where
        assert got.indices.dtype.name == "int64" and got.dense_shape.dtype.name == "int64"
    else:
        assert isinstance(got, tf.Tensor), where
        assert got.shape.as_list() == expected["shape"], where
        assert got.numpy().tolist() == _value(expected["value"]), where
    assert got.dtype.name == expected["dtype"], where


def _check_dict(got, expected, where):
    assert sorted(got) == sorted(expected), where
    for key in expected:
        _check_output(got[key], expected[key], f"{where}[{key}]")


def _check(call, expected, where):
    if isinstance(expected, dict) and "error" in expected:
        with pytest.raises(ERRORS[expected["error"]]) as info:
            call()
        message = re.sub(r" \[Op:\w+\]$", "", str(info.value))
        assert message == expected["message"], where
        return
    got = call()
    if isinstance(expected, list):  # (context, sequence[, lengths])
        assert isinstance(got, tuple) and len(got) == len(expected), where
        for part, (got_part, expected_part) in enumerate(zip(got, expected)):
            _check_dict(got_part, expected_part, f"{where} part {part}")
    else:
        _check_dict(got, expected, where)


@pytest.mark.parametrize("name", [c["name"] for c in FIXTURE["cases"] if c["kind"] == "example"])
def test_example_features_like_tf(name):
    case = CASES[name]
    records = [bytes.fromhex(r) for r in case["records"]]
    specs = _specs(case["features"])
    _check(lambda: tf.io.parse_single_example(records[0], specs), case["single"], "single")
    _check(lambda: tf.io.parse_example(records, specs), case["batch"], "batch")


@pytest.mark.parametrize("name", [c["name"] for c in FIXTURE["cases"]
                                  if c["kind"] == "sequence_example"])
def test_sequence_examples_like_tf(name):
    case = CASES[name]
    records = [bytes.fromhex(r) for r in case["records"]]
    context, sequence = _specs(case["context_features"]), _specs(case["sequence_features"])
    _check(lambda: tf.io.parse_single_sequence_example(records[0], context, sequence),
           case["single"], "single")
    _check(lambda: tf.io.parse_sequence_example(records, context, sequence),
           case["batch"], "batch")
    _check(lambda: tf.io.parse_sequence_example(records[0], context, sequence),
           case["batch_scalar"], "batch_scalar")


def test_fixture_covers_the_features():
    assert FIXTURE["tensorflow"].startswith("2.21")
    kinds = {spec[0] for case in FIXTURE["cases"]
             for specs in (case.get("features"), case.get("context_features"),
                           case.get("sequence_features")) if specs for spec in specs.values()}
    assert kinds == {"FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature",
                     "SparseFeature"}


def _sequence_record(values):
    steps = [pb.Feature(float_list=pb.FloatList(value=v)) for v in values]
    return pb.SequenceExample(feature_lists=pb.FeatureLists(feature_list={
        "x": pb.FeatureList(feature=steps)})).SerializeToString()


def test_sequence_examples_through_tf_data_and_tensor_inputs():
    records = [_sequence_record([[1.0, 2.0]] * n) for n in (1, 3, 2)]
    spec = {"x": tf.io.FixedLenSequenceFeature([2], tf.float32)}
    ds = tf.data.Dataset.from_tensor_slices(records).map(
        lambda r: tf.io.parse_single_sequence_example(r, sequence_features=spec)[1]["x"])
    assert [t.shape for t in ds.as_numpy_iterator()] == [(1, 2), (3, 2), (2, 2)]
    _, sequence, lengths = tf.io.parse_sequence_example(tf.constant(records), None, spec)
    assert sequence["x"].shape == (3, 3, 2)
    assert lengths["x"].numpy().tolist() == [1, 3, 2]
    assert sequence["x"].numpy()[0, 1:].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_example_names_appear_in_errors():
    bad = _sequence_record([[1.0]])
    with pytest.raises(InvalidArgumentError, match="Name: rec7, Key: x, Index: 0"):
        tf.io.parse_sequence_example([bad, _sequence_record([[1.0, 2.0]])], None,
                                     {"x": tf.io.FixedLenSequenceFeature([2], tf.float32)},
                                     example_names=["rec7", "rec8"])
    with pytest.raises(InvalidArgumentError, match="example id: odd"):
        tf.io.parse_single_sequence_example(b"\xff\xff", None, {"x": tf.io.VarLenFeature(
            tf.float32)}, example_name="odd")


def test_unsupported_specs_name_the_key():
    record = _sequence_record([])
    with pytest.raises(NotImplementedError, match="'s': SparseFeature"):
        tf.io.parse_single_sequence_example(
            record, sequence_features={"s": tf.io.SparseFeature("i", "v", tf.float32, 3)})
    with pytest.raises(ValueError, match="default_value must be a scalar"):
        tf.io.parse_example([pb.Example().SerializeToString()], {
            "x": tf.io.FixedLenSequenceFeature([2], tf.float32, True, default_value=[1.0, 2.0])})
    with pytest.raises(ValueError, match="one per entry of size"):
        tf.io.parse_single_example(pb.Example().SerializeToString(), {
            "s": tf.io.SparseFeature(["a", "b"], "v", tf.float32, 3)})


def test_sparse_feature_output_and_its_spec():
    record = pb.Example(features=pb.Features(feature={
        "i": pb.Feature(int64_list=pb.Int64List(value=[2, 0])),
        "v": pb.Feature(float_list=pb.FloatList(value=[1.5, 2.5]))})).SerializeToString()
    sp = tf.io.parse_single_example(record, {"s": tf.io.SparseFeature("i", "v", tf.float32, 4)})
    assert tf.sparse.to_dense(sp["s"]).numpy().tolist() == [2.5, 0.0, 1.5, 0.0]
    spec = tf.SparseTensorSpec.from_value(sp["s"])
    assert spec.shape.as_list() == [4] and spec.dtype == tf.float32
    batch = tf.io.parse_example([record], {"s": tf.io.SparseFeature("i", "v", tf.float32, 4)})
    assert tf.SparseTensorSpec.from_value(batch["s"]).shape.as_list() == [None, 4]
    assert np.asarray(batch["s"].dense_shape.numpy()).tolist() == [1, 4]


BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")


def _plain(value):
    if isinstance(value, tf.sparse.SparseTensor):
        return {"indices": value.indices.numpy().tolist(), "values": _plain(value.values),
                "dense_shape": value.dense_shape.numpy().tolist()}
    array = value.numpy()
    if array.dtype == object:
        return [v.hex() for v in array.reshape(-1).tolist()]
    return array.tolist()


@pytest.mark.skipif(not os.path.exists(BENCH_PYTHON), reason="needs TensorFlow in .venv-bench")
def test_sequence_examples_written_here_parse_in_tensorflow(tmp_path):
    import json as json_module
    import subprocess

    def record(name, tags, frames, words):
        return pb.SequenceExample(
            context=pb.Features(feature={
                "id": pb.Feature(bytes_list=pb.BytesList(value=[name])),
                "tags": pb.Feature(int64_list=pb.Int64List(value=tags))}),
            feature_lists=pb.FeatureLists(feature_list={
                "frames": pb.FeatureList(feature=[
                    pb.Feature(float_list=pb.FloatList(value=f)) for f in frames]),
                "words": pb.FeatureList(feature=[
                    pb.Feature(bytes_list=pb.BytesList(value=w)) for w in words])}),
        ).SerializeToString()

    records = [record(b"a", [1, 2], [[0.5, 1.5], [2.0, -1.0]], [[b"x"], [b"y", b"z"]]),
               record(b"\xc3\xa9", [], [[3.0, 4.0]], [[]])]
    path = tmp_path / "records.json"
    path.write_text(json_module.dumps({"records": [r.hex() for r in records]}))
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures",
                                    "check_sequence_example_with_tf.py"), str(path)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr
    from_tf = json_module.loads(result.stdout.strip().splitlines()[-1])
    context, sequence, lengths = tf.io.parse_sequence_example(
        records,
        {"id": tf.io.FixedLenFeature([], tf.string), "tags": tf.io.VarLenFeature(tf.int64)},
        {"frames": tf.io.FixedLenSequenceFeature([2], tf.float32),
         "words": tf.io.VarLenFeature(tf.string)})
    here = {part: {k: _plain(v) for k, v in d.items()} for part, d in
            (("context", context), ("sequence", sequence), ("lengths", lengths))}
    assert here == from_tf


# Edge cases checked against TF 2.21 by hand (review).

def _example(**floats):
    return pb.Example(features=pb.Features(feature={
        key: pb.Feature(float_list=pb.FloatList(value=values))
        for key, values in floats.items()})).SerializeToString()


def test_parse_example_of_an_empty_batch_gives_empty_outputs_like_tf():
    parsed = tf.io.parse_example(tf.constant([], tf.string), {
        "x": tf.io.FixedLenFeature([3], tf.float32),
        "y": tf.io.VarLenFeature(tf.int64),
        "z": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True),
        "s": tf.io.SparseFeature("ix", "v", tf.float32, 5)})
    assert parsed["x"].shape == (0, 3)
    assert parsed["y"].dense_shape.numpy().tolist() == [0, 0]
    assert parsed["z"].shape == (0, 0, 2)
    assert parsed["s"].indices.shape == (0, 2)
    assert parsed["s"].dense_shape.numpy().tolist() == [0, 5]


def test_parse_example_of_a_scalar_gives_one_unbatched_example_like_tf():
    record = _example(x=[1.0, 2.0, 3.0])
    spec = {"x": tf.io.FixedLenFeature([3], tf.float32), "w": tf.io.VarLenFeature(tf.float32)}
    for serialized in (record, tf.constant(record)):
        parsed = tf.io.parse_example(serialized, spec)
        assert parsed["x"].shape == (3,)
        assert parsed["w"].dense_shape.numpy().tolist() == [0]
    with pytest.raises(InvalidArgumentError, match="Name: nm, Feature: v"):
        tf.io.parse_example(tf.constant(record), {"v": tf.io.FixedLenFeature([1], tf.float32)},
                            example_names="nm")


def test_parse_example_refuses_a_matrix_and_names_of_another_length_like_tf():
    record = _example(x=[1.0, 2.0, 3.0])
    spec = {"x": tf.io.FixedLenFeature([3], tf.float32)}
    with pytest.raises(InvalidArgumentError, match=r"Expected serialized to be a scalar or "
                                                   r"vector, got shape: \[1,2\]"):
        tf.io.parse_example(tf.constant([[record, record]]), spec)
    with pytest.raises(InvalidArgumentError, match=r"Expected names have the same shape as "
                                                   r"serialized: name.shape=\[1\], "
                                                   r"serialized.shape=\[2\]"):
        tf.io.parse_example([record, record], spec, example_names=["one"])


def test_parse_sequence_example_refuses_a_matrix_and_names_of_another_length_like_tf():
    record = pb.SequenceExample().SerializeToString()
    spec = {"x": tf.io.FixedLenSequenceFeature([], tf.float32, allow_missing=True)}
    with pytest.raises(InvalidArgumentError, match=r"Expected serialized to be a scalar or "
                                                   r"vector, got shape: \[1,2\] "
                                                   r"\[Op:ParseSequenceExampleV2\]"):
        tf.io.parse_sequence_example(tf.constant([[record, record]]), sequence_features=spec)
    with pytest.raises(InvalidArgumentError, match="example_names must be empty or have the "
                                                   "correct number of elements"):
        tf.io.parse_sequence_example([record, record], sequence_features=spec,
                                     example_names=["a"])


def test_fixed_len_errors_name_the_example_s_index_like_tf():
    two, one = _example(v=[1.0, 2.0]), _example(v=[3.0])
    spec = {"v": tf.io.FixedLenFeature([2], tf.float32)}
    with pytest.raises(InvalidArgumentError, match=re.escape(
            "Name: n2, Key: v, Index: 2.  Number of float values != expected.  Values size: 1 "
            "but output shape: [2] [Op:ParseExampleV2]")):
        tf.io.parse_example([two, two, one], spec, example_names=["n0", "n1", "n2"])
    ints = {"v": tf.io.FixedLenFeature([2], tf.int64)}
    with pytest.raises(InvalidArgumentError, match=re.escape(
            "Name: <unknown>, Key: v, Index: 1.  Data types don't match. Data type: float but "
            "expected type: int64 [Op:ParseExampleV2]")):
        tf.io.parse_example([pb.Example().SerializeToString(), two], {
            "v": tf.io.FixedLenFeature([2], tf.int64, default_value=[0, 0])})
    with pytest.raises(InvalidArgumentError, match=re.escape(
            "Key: v.  Data types don't match. Data type: float but expected type: int64 "
            "[Op:ParseExampleV2]")):
        tf.io.parse_single_example(two, ints)
