"""TFRecord files, tf.train.Example parsing and TensorProto, against files written by TF 2.21."""

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework.errors import DataLossError, InvalidArgumentError, NotFoundError
from numpyflow.io import example_proto as pb
from numpyflow.io.parsing import SparseTensorValue, sparse_to_dense
from numpyflow.io.tfrecord import masked_crc32c, read_records, tf_record_iterator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tfrecord")
BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
COMPRESSIONS = [("examples.tfrecord", ""), ("examples_gzip.tfrecord", "GZIP"),
                ("examples_zlib.tfrecord", "ZLIB")]
SPEC = {"label": tf.io.FixedLenFeature([], tf.int64),
        "x": tf.io.FixedLenFeature([3], tf.float32),
        "name": tf.io.FixedLenFeature([], "string"),
        "tags": tf.io.VarLenFeature(tf.int64)}

with open(os.path.join(FIXTURES, "values.json")) as _f:
    VALUES = json.load(_f)


def _decode(value):
    if isinstance(value, dict):
        return bytes.fromhex(value["bytes_hex"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _example_bytes(values):
    feature = {
        "label": pb.Feature(int64_list=pb.Int64List(value=[values["label"]])),
        "x": pb.Feature(float_list=pb.FloatList(value=values["x"])),
        "name": pb.Feature(bytes_list=pb.BytesList(value=[values["name"].encode("utf-8")])),
        "tags": pb.Feature(int64_list=pb.Int64List(value=values["tags"])),
    }
    return pb.Example(features=pb.Features(feature=feature)).SerializeToString()


def _write(path, records, options=None):
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for record in records:
            writer.write(record)


# --- files written by TensorFlow ---------------------------------------------------------

@pytest.mark.parametrize("name,compression", COMPRESSIONS)
def test_examples_written_by_tf_parse_to_their_values(name, compression):
    records = list(read_records(os.path.join(FIXTURES, name), compression))
    assert len(records) == 3
    for record, expected in zip(records, VALUES["examples"]):
        parsed = tf.io.parse_single_example(record, SPEC)
        assert parsed["label"].dtype == tf.int64 and parsed["label"].shape == ()
        assert parsed["label"].numpy() == expected["label"]
        np.testing.assert_array_equal(parsed["x"].numpy(), np.float32(expected["x"]))
        assert parsed["name"].dtype == tf.string
        assert parsed["name"].numpy() == expected["name"].encode("utf-8")
        assert isinstance(parsed["tags"], tf.sparse.SparseTensor)
        assert parsed["tags"].values.numpy().tolist() == expected["tags"]
        count = len(expected["tags"])
        assert parsed["tags"].indices.numpy().tolist() == [[i] for i in range(count)]
        assert parsed["tags"].dense_shape.numpy().tolist() == [len(expected["tags"])]


def test_parse_example_batches_like_tf():
    records = list(read_records(os.path.join(FIXTURES, "examples.tfrecord")))
    parsed = tf.io.parse_example(records, SPEC)
    assert parsed["x"].shape == (3, 3)
    assert parsed["label"].numpy().tolist() == [e["label"] for e in VALUES["examples"]]
    assert parsed["name"].numpy().tolist() == [b"alpha", "béta".encode(), b""]
    tags = parsed["tags"]
    assert tags.dense_shape.numpy().tolist() == [3, 3]
    assert tags.indices.numpy().tolist() == [[1, 0], [2, 0], [2, 1], [2, 2]]
    assert isinstance(tags, tf.SparseTensor) and tags.dtype == tf.int64
    expected = [[0, 0, 0], [4, 0, 0], [1, 2, 9223372036854775807]]
    assert sparse_to_dense(tags).numpy().tolist() == expected
    assert tf.sparse.to_dense(tags).numpy().tolist() == expected
    # tf.compat.v1.SparseTensorValue is still the plain named tuple, and sparse_to_dense
    # still takes one.
    value = tf.compat.v1.SparseTensorValue(tags.indices, tags.values, tags.dense_shape)
    assert tf.compat.v1.SparseTensorValue is SparseTensorValue
    assert sparse_to_dense(value).numpy().tolist() == expected


def test_tensors_written_by_tf_parse_to_their_values():
    records = list(tf_record_iterator(os.path.join(FIXTURES, "tensors.tfrecord")))
    assert len(records) == len(VALUES["tensors"]) == 9
    for record, (dtype, value) in zip(records, VALUES["tensors"]):
        parsed = tf.io.parse_tensor(record, "string" if dtype == "string" else getattr(tf, dtype))
        expected = np.array(_decode(value), dtype=object if dtype == "string" else dtype)
        got = np.asarray(parsed.numpy())
        assert got.shape == expected.shape and got.dtype == expected.dtype, dtype
        assert got.tolist() == expected.tolist(), dtype


def test_rewriting_tf_records_gives_the_identical_file(tmp_path):
    source = os.path.join(FIXTURES, "examples.tfrecord")
    _write(tmp_path / "copy.tfrecord", read_records(source))
    with open(source, "rb") as a, open(tmp_path / "copy.tfrecord", "rb") as b:
        assert a.read() == b.read()


# --- writer and reader -------------------------------------------------------------------

@pytest.mark.parametrize("options", [None, "", "GZIP", "ZLIB", tf.io.TFRecordOptions("GZIP"),
                                     tf.io.TFRecordOptions(compression_type="ZLIB",
                                                           compression_level=9),
                                     tf.io.TFRecordCompressionType.GZIP])
def test_round_trip(tmp_path, options):
    rng = np.random.default_rng(0)
    records = [b"", b"x", rng.bytes(1000), b"\x00" * (3 << 20), rng.bytes(70_000)]
    path = tmp_path / "r.tfrecord"
    _write(path, records, options)
    assert list(read_records(path, options)) == records
    name = tf.io.TFRecordOptions.get_compression_type_string(options)
    magic = {"": struct.pack("<Q", 0), "GZIP": b"\x1f\x8b", "ZLIB": b"\x78"}[name]
    assert path.read_bytes().startswith(magic)


def test_writer_accepts_str_and_counts_bytes(tmp_path):
    _write(tmp_path / "s.tfrecord", ["héllo"])
    assert list(read_records(tmp_path / "s.tfrecord")) == ["héllo".encode()]
    assert os.path.getsize(tmp_path / "s.tfrecord") == 12 + 6 + 4
    with pytest.raises(TypeError, match="expects bytes. Received: int"):
        _write(tmp_path / "bad.tfrecord", [3])


def test_masked_crc_matches_known_value():
    # CRC32C("123456789") = 0xE3069283 (RFC 3720); masked as TFRecord does.
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF)
                                           + 0xA282EAD8) & 0xFFFFFFFF


def test_writer_is_atomic(tmp_path):
    path = tmp_path / "a.tfrecord"
    _write(path, [b"old"])
    writer = tf.io.TFRecordWriter(str(path))
    writer.write(b"new")
    writer.flush()
    assert list(read_records(path)) == [b"old"]  # the new file appears on close
    writer.close()
    assert list(read_records(path)) == [b"new"]
    with pytest.raises(RuntimeError):
        with tf.io.TFRecordWriter(str(path)) as writer:
            writer.write(b"half")
            raise RuntimeError("boom")
    assert list(read_records(path)) == [b"new"]
    assert sorted(os.listdir(tmp_path)) == ["a.tfrecord"]  # no temporary file left
    with pytest.raises(ValueError, match="closed writer"):
        writer.write(b"late")


def test_options_refuse_what_they_do_not_support():
    with pytest.raises(NotImplementedError, match="window_bits"):
        tf.io.TFRecordOptions("GZIP", window_bits=12)
    with pytest.raises(ValueError, match="Received: 'SNAPPY'"):
        tf.io.TFRecordOptions("SNAPPY")
    with pytest.raises(ValueError, match="compression_level"):
        tf.io.TFRecordOptions("ZLIB", compression_level=11)


# --- corrupt and hostile files -----------------------------------------------------------

def test_every_truncation_is_data_loss_or_a_clean_prefix(tmp_path):
    data = open(os.path.join(FIXTURES, "examples.tfrecord"), "rb").read()
    records = list(read_records(os.path.join(FIXTURES, "examples.tfrecord")))
    boundaries = np.cumsum([0] + [16 + len(r) for r in records]).tolist()
    path = tmp_path / "cut.tfrecord"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        if cut in boundaries:
            assert list(read_records(path)) == records[:boundaries.index(cut)]
        else:
            with pytest.raises(DataLossError, match=r"cut\.tfrecord: truncated record at offset"):
                list(read_records(path))


def test_every_flipped_byte_is_data_loss(tmp_path):
    data = bytearray(open(os.path.join(FIXTURES, "examples.tfrecord"), "rb").read())
    path = tmp_path / "flip.tfrecord"
    for position in range(len(data)):
        mutated = bytearray(data)
        mutated[position] ^= 0x01
        path.write_bytes(bytes(mutated))
        with pytest.raises(DataLossError, match=r"flip\.tfrecord: (corrupted|truncated) record "
                                                r"at offset \d+"):
            list(read_records(path))


def test_corrupt_offset_names_the_bad_record(tmp_path):
    path = tmp_path / "c.tfrecord"
    _write(path, [b"aaaa", b"bbbb"])
    data = bytearray(path.read_bytes())
    data[20 + 12] ^= 0xFF  # the second record's data
    path.write_bytes(bytes(data))
    reader = read_records(path)
    assert next(reader) == b"aaaa"
    with pytest.raises(DataLossError, match="at offset 20: the data's checksum"):
        next(reader)


def test_huge_declared_length_is_refused_without_allocating(tmp_path):
    length = struct.pack("<Q", 1 << 62)
    path = tmp_path / "bomb.tfrecord"
    path.write_bytes(length + struct.pack("<I", masked_crc32c(length)) + b"x" * 100)
    with pytest.raises(DataLossError, match="holds 4611686018427387904 bytes but the file ends"):
        list(read_records(path))


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_compressed_stream_damage_is_data_loss(tmp_path, compression):
    path = tmp_path / "z.tfrecord"
    _write(path, [b"record"] * 50, compression)
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.raises(DataLossError, match=f"z.tfrecord: the {compression} stream is truncated"):
        list(read_records(path, compression))
    path.write_bytes(data[:2] + b"\xff" * 8 + data[10:])
    with pytest.raises(DataLossError, match=f"z.tfrecord: (corrupt {compression} stream|"
                                            "corrupted record)"):
        list(read_records(path, compression))


def test_reading_with_the_wrong_compression_is_data_loss():
    with pytest.raises(DataLossError):
        list(read_records(os.path.join(FIXTURES, "examples_gzip.tfrecord"), ""))
    with pytest.raises(DataLossError, match="corrupt GZIP stream"):
        list(read_records(os.path.join(FIXTURES, "examples.tfrecord"), "GZIP"))


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="nothing.tfrecord"):
        list(read_records(tmp_path / "nothing.tfrecord"))


# --- parsing errors and defaults ---------------------------------------------------------

def _record(**features):
    return pb.Example(features=pb.Features(feature=features)).SerializeToString()


def test_defaults_and_missing_features():
    record = _record(a=pb.Feature(float_list=pb.FloatList(value=[1.0, 2.0])))
    parsed = tf.io.parse_single_example(record, {
        "b": tf.io.FixedLenFeature([2, 2], tf.float32, default_value=0.5),
        "c": tf.io.FixedLenFeature([], "string", default_value=b"none"),
        "v": tf.io.VarLenFeature(tf.float32)})
    assert parsed["b"].numpy().tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert parsed["c"].numpy() == b"none"
    assert parsed["v"].values.shape == (0,) and parsed["v"].dense_shape.numpy().tolist() == [0]
    with pytest.raises(InvalidArgumentError,
                       match=r"Feature: b \(data type: float\) is required but could not be found"):
        tf.io.parse_single_example(record, {"b": tf.io.FixedLenFeature([], tf.float32)})


def test_type_and_size_mismatches_are_invalid_argument():
    record = _record(a=pb.Feature(float_list=pb.FloatList(value=[1.0, 2.0])))
    with pytest.raises(InvalidArgumentError, match="Data type: float but expected type: int64"):
        tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([2], tf.int64)})
    with pytest.raises(InvalidArgumentError, match=r"Values size: 2 but output shape: \[3\]"):
        tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([3], tf.float32)})
    with pytest.raises(InvalidArgumentError, match="Could not parse example input"):
        tf.io.parse_single_example(b"\xff\xff\xff", {"a": tf.io.FixedLenFeature([3], tf.float32)})


def test_unsupported_specs_are_refused():
    record = _record()
    with pytest.raises(ValueError, match="unsupported dtype"):
        tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([], tf.int32)})
    with pytest.raises(ValueError, match="shape must be fully defined"):
        tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([-1], tf.float32)})
    with pytest.raises(NotImplementedError, match="dict is not supported"):
        tf.io.parse_single_example(record, {"a": {}})
    with pytest.raises(ValueError, match="default_value has shape"):
        tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([3], tf.float32,
                                                                       default_value=[1., 2.])})


# --- serialize_tensor / parse_tensor -----------------------------------------------------

@pytest.mark.parametrize("value", [np.float32([[1.5, -2.0]]), np.arange(6, dtype=np.int64),
                                   np.uint8([0, 255]), np.bool_([True, False]),
                                   np.float16(0.25), np.int32(7)])
def test_tensor_round_trip(value):
    data = tf.io.serialize_tensor(tf.constant(value))
    parsed = tf.io.parse_tensor(data, tf.as_dtype(value.dtype)).numpy()
    assert parsed.dtype == value.dtype and parsed.shape == value.shape
    np.testing.assert_array_equal(parsed, value)


def test_string_tensor_round_trip():
    data = tf.io.serialize_tensor(np.array([[b"a", b"bc"]], dtype=object))
    parsed = tf.io.parse_tensor(data, "string")
    assert data.dtype == tf.string and data.shape == ()
    assert parsed.shape == (1, 2) and parsed.numpy().tolist() == [[b"a", b"bc"]]


def test_scalar_string_tensor_serializes_as_tf():
    # TF 2.21's bytes for tf.io.serialize_tensor(tf.constant(b"hi")).
    for value in (tf.constant(b"hi"), tf.constant("hi"), b"hi", np.array(b"hi", object)):
        data = tf.io.serialize_tensor(value)
        assert data.numpy() == bytes.fromhex("0807120042026869")
        assert tf.io.parse_tensor(data, tf.string).numpy() == b"hi"


def test_parse_tensor_repeated_fields_and_errors():
    proto = pb.TensorProto(dtype=1, float_val=[2.0])
    proto.tensor_shape.dim.add(size=3)
    assert tf.io.parse_tensor(proto.SerializeToString(), tf.float32).numpy().tolist() == [2.0] * 3
    with pytest.raises(InvalidArgumentError, match=r"Type mismatch between parsed tensor "
                                                   r"\(float\) and dtype \(int32\)"):
        tf.io.parse_tensor(proto.SerializeToString(), tf.int32)
    bomb = pb.TensorProto(dtype=1, float_val=[1.0])
    bomb.tensor_shape.dim.add(size=1 << 40)
    with pytest.raises(InvalidArgumentError, match="refused"):
        tf.io.parse_tensor(bomb.SerializeToString(), tf.float32)
    short = pb.TensorProto(dtype=1, tensor_content=b"\x00" * 4)
    short.tensor_shape.dim.add(size=2)
    with pytest.raises(InvalidArgumentError, match="tensor_content holds 4 bytes"):
        tf.io.parse_tensor(short.SerializeToString(), tf.float32)
    with pytest.raises(InvalidArgumentError, match="Could not parse"):
        tf.io.parse_tensor(b"\xff\xff", tf.float32)


# --- the package stays light, and TF reads our files ------------------------------------

def test_import_numpyflow_loads_neither_protobuf_nor_crc32c():
    code = ("import sys, numpyflow; numpyflow.io.TFRecordWriter; "
            "print(sorted(m for m in sys.modules if m.startswith(('google', 'h5py'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def _write_interop_files(directory):
    for name, compression in COMPRESSIONS:
        _write(directory / name, [_example_bytes(e) for e in VALUES["examples"]], compression)
    records = []
    for dtype, value in VALUES["tensors"]:
        value = _decode(value)
        array = np.array(value, dtype=object) if dtype == "string" else np.array(value, dtype)
        records.append(tf.io.serialize_tensor(array))
    _write(directory / "tensors.tfrecord", records)
    (directory / "values.json").write_text(json.dumps(VALUES))


@pytest.mark.skipif(not os.path.exists(BENCH_PYTHON), reason="needs TensorFlow in .venv-bench")
def test_files_written_here_parse_in_tensorflow(tmp_path):
    _write_interop_files(tmp_path)
    result = subprocess.run(
        [BENCH_PYTHON, os.path.join(ROOT, "tests", "fixtures", "check_tfrecord_with_tf.py"),
         str(tmp_path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALL OK" in result.stdout


# --- tf.data.TFRecordDataset -------------------------------------------------------------

def _dataset_class():
    from numpyflow.data.tfrecord_dataset import TFRecordDataset
    assert tf.data.TFRecordDataset is TFRecordDataset
    return TFRecordDataset


def _letter_files(tmp_path):
    files = []
    for letter, count in (("a", 3), ("b", 1), ("c", 4), ("d", 2)):
        files.append(str(tmp_path / f"{letter}.tfrecord"))
        _write(files[-1], [f"{letter}{i}".encode() for i in range(count)])
    return files


# The orders TF 2.21 gives for these four files (printed by tf.data.TFRecordDataset).
TF_ORDERS = {None: "a0 a1 a2 b0 c0 c1 c2 c3 d0 d1", 1: "a0 a1 a2 b0 c0 c1 c2 c3 d0 d1",
             2: "a0 b0 a1 a2 c0 c1 d0 c2 d1 c3", 3: "a0 b0 c0 a1 c1 a2 d0 c2 d1 c3"}


@pytest.mark.parametrize("reads", sorted(TF_ORDERS, key=str))
def test_dataset_reads_files_in_tf_order(tmp_path, reads):
    ds = _dataset_class()(_letter_files(tmp_path), num_parallel_reads=reads)
    assert b" ".join(ds.as_numpy_iterator()).decode() == TF_ORDERS[reads]
    # a second pass reads again
    assert b" ".join(ds.as_numpy_iterator()).decode() == TF_ORDERS[reads]
    assert repr(ds.element_spec) == "TensorSpec(shape=(), dtype=tf.string, name=None)"
    assert int(ds.cardinality()) == -2


@pytest.mark.parametrize("name,compression", COMPRESSIONS)
def test_dataset_of_tf_files_maps_through_parse(name, compression):
    ds = _dataset_class()(os.path.join(FIXTURES, name), compression_type=compression,
                          buffer_size=64)
    labels = [int(parsed["label"]) for parsed in
              ds.map(lambda record: tf.io.parse_single_example(
                  record, {"label": tf.io.FixedLenFeature([], tf.int64)}))]
    assert labels == [e["label"] for e in VALUES["examples"]]


def test_dataset_errors_name_the_file(tmp_path):
    TFRecordDataset = _dataset_class()
    with pytest.raises(NotFoundError, match="missing.tfrecord"):
        list(TFRecordDataset(str(tmp_path / "missing.tfrecord")))
    (tmp_path / "bad.tfrecord").write_bytes(b"\x05" + b"\x00" * 7 + b"\x00" * 4)
    with pytest.raises(DataLossError, match="bad.tfrecord: corrupted record at offset 0"):
        list(TFRecordDataset(str(tmp_path / "bad.tfrecord")))
    with pytest.raises(ValueError, match="num_parallel_reads=0"):
        TFRecordDataset([], num_parallel_reads=0)
    with pytest.raises(ValueError, match="Received: 'SNAPPY'"):
        TFRecordDataset([], compression_type="SNAPPY")
    assert list(TFRecordDataset([])) == []


def test_dataset_of_file_names(tmp_path):
    from numpyflow.data.dataset import Dataset
    _letter_files(tmp_path)
    files = Dataset.list_files(str(tmp_path / "*.tfrecord"), shuffle=False)
    assert b" ".join(_dataset_class()(files).as_numpy_iterator()).decode() == TF_ORDERS[None]
