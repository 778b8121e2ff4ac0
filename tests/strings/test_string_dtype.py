"""The `tf.string` dtype: string Tensors hold object arrays of bytes (expected values: TF 2.21)."""

import numpy as np
import pytest

import numpyflow as tf


def test_constant_holds_bytes_and_prints_as_tf():
    t = tf.constant(["a", "b"])
    assert t.dtype == tf.string and t.dtype is tf.as_dtype("string")
    value = t.numpy()
    assert value.dtype == object and value.tolist() == [b"a", b"b"]
    assert tf.constant("a").numpy() == b"a" and type(tf.constant("a").numpy()) is bytes
    assert repr(t) == \
        "<tf.Tensor: shape=(2,), dtype=string, numpy=array([b'a', b'b'], dtype=object)>"
    assert str(t) == "tf.Tensor([b'a' b'b'], shape=(2,), dtype=string)"
    assert repr(tf.constant("héllo")) == \
        r"<tf.Tensor: shape=(), dtype=string, numpy=b'h\xc3\xa9llo'>"
    assert str(tf.constant("x")) == "tf.Tensor(b'x', shape=(), dtype=string)"
    assert repr(tf.constant([["a", "b"], ["c", "d"]])) == (
        "<tf.Tensor: shape=(2, 2), dtype=string, numpy=\n"
        "array([[b'a', b'b'],\n       [b'c', b'd']], dtype=object)>")
    assert repr(tf.constant([], dtype=tf.string)) == \
        "<tf.Tensor: shape=(0,), dtype=string, numpy=array([], dtype=object)>"


def test_conversions_from_python_and_numpy():
    assert tf.constant([b"a", "b"]).numpy().tolist() == [b"a", b"b"]
    assert tf.constant(np.array(["a", "é"])).numpy().tolist() == [b"a", "é".encode()]
    # NumPy's fixed-width bytes drop trailing NULs; an object array keeps them.
    kept = tf.constant(np.array([b"a\x00", b"b"], dtype=object)).numpy().tolist()
    assert kept == [b"a\x00", b"b"]
    assert tf.convert_to_tensor(["x"], dtype=tf.string).numpy().tolist() == [b"x"]
    assert tf.constant("a", shape=(2,)).numpy().tolist() == [b"a", b"a"]
    assert tf.zeros([2], tf.string).numpy().tolist() == [b"", b""]
    assert tf.zeros_like(tf.constant(["q"])).numpy().tolist() == [b""]
    assert tf.fill([2], "q").numpy().tolist() == [b"q", b"q"]
    with pytest.raises(ValueError, match="mixed types"):
        tf.constant([1, "a"])
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.constant([1], dtype=tf.string)
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.constant(["a"], dtype=tf.int32)
    with pytest.raises(ValueError, match="unsupported type"):
        tf.constant(np.array([b"x", 1], dtype=object))
    with pytest.raises(TypeError, match="dtype string"):
        tf.constant(tf.constant([1]), dtype=tf.string)
    with pytest.raises(TypeError, match="dtype int32"):
        tf.constant(tf.constant(["1"]), dtype=tf.int32)
    assert tf.constant(np.bytes_(b"ab")).numpy() == b"ab"
    assert tf.constant(np.array([["x"], ["yz"]])).numpy().tolist() == [[b"x"], [b"yz"]]


def test_dtype_properties():
    assert tf.as_dtype(np.bytes_) is tf.string and tf.as_dtype(np.str_) is tf.string
    assert tf.as_dtype(object) is tf.string and repr(tf.string) == "tf.string"
    assert tf.string.size == 0 and not tf.string.is_floating and not tf.string.is_integer
    assert tf.string.as_numpy_dtype is object
    with pytest.raises(TypeError, match="Cannot find maximum value"):
        tf.string.max
    spec = tf.TensorSpec(shape=(), dtype=tf.string)
    assert repr(spec) == "TensorSpec(shape=(), dtype=tf.string, name=None)"
    assert spec.is_compatible_with(tf.constant("a"))
    assert not spec.is_compatible_with(tf.constant(1))


def test_shape_ops_on_strings():
    t = tf.constant([["a", "b"], ["c", "d"]])
    assert tf.reshape(t, [-1]).numpy().tolist() == [b"a", b"b", b"c", b"d"]
    assert tf.gather(tf.constant(["a", "b"]), [1, 1, 0]).numpy().tolist() == [b"b", b"b", b"a"]
    assert tf.concat([t, t], 0).shape == (4, 2)
    assert tf.stack([tf.constant(["a"]), tf.constant(["b"])], 1).numpy().tolist() == [[b"a", b"b"]]
    assert t[1, 0].numpy() == b"c" and t[:, ::-1].numpy().tolist() == [[b"b", b"a"], [b"d", b"c"]]
    assert tf.shape(t).numpy().tolist() == [2, 2] and tf.size(t).numpy() == 4
    assert tf.transpose(t).numpy().tolist() == [[b"a", b"c"], [b"b", b"d"]]
    assert tf.where([True, False], tf.constant(["a", "b"]), "z").numpy().tolist() == [b"a", b"z"]
    assert [x.numpy() for x in tf.unstack(tf.constant(["a", "b"]))] == [b"a", b"b"]


def test_comparison_and_concatenation():
    t = tf.constant(["a", "b"])
    assert (t == "a").numpy().tolist() == [True, False]
    assert (t != b"a").numpy().tolist() == [False, True]
    assert tf.equal(t, tf.constant(["a", "c"])).numpy().tolist() == [True, False]
    assert (t + t).numpy().tolist() == [b"aa", b"bb"]  # TF's Add concatenates strings.
    assert tf.add(t, "!").numpy().tolist() == [b"a!", b"b!"]


@pytest.mark.parametrize("op, name", [(lambda t: t * t, "Mul"), (lambda t: t - t, "Sub"),
                                      (lambda t: -t, "Neg"), (tf.abs, "Abs")])
def test_arithmetic_on_strings_raises_naming_the_op(op, name):
    with pytest.raises(tf.errors.InvalidArgumentError, match=rf"of string.*\[Op:{name}\]"):
        op(tf.constant(["a", "b"]))


def test_cast_to_and_from_string_raises_as_tf():
    with pytest.raises(tf.errors.UnimplementedError,
                       match="Cast string to float32 is not supported"):
        tf.cast(tf.constant(["1"]), tf.float32)
    with pytest.raises(tf.errors.UnimplementedError, match="Cast int32 to string is not supported"):
        tf.cast(tf.constant([1]), tf.string)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a int32 tensor but "
                       "is a string tensor"):
        tf.constant(1) + tf.constant("a")


def test_strings_never_reach_the_tape():
    t = tf.constant(["a"])
    with tf.GradientTape() as tape:
        x = tf.Variable(1.)
        out = tf.gather(t, [0, 0])
        y = x * 2.
    assert out.numpy().tolist() == [b"a", b"a"] and tape.gradient(y, x).numpy() == 2.


def test_dataset_of_strings():
    ds = tf.data.Dataset.from_tensor_slices(["a", "b"])
    assert repr(ds.element_spec) == "TensorSpec(shape=(), dtype=tf.string, name=None)"
    first = next(iter(ds))
    assert first.dtype == tf.string and first.shape == ()
    assert list(ds.as_numpy_iterator()) == [b"a", b"b"]
    assert ds.batch(2).element_spec.dtype == tf.string
    assert [b.tolist() for b in ds.batch(2).as_numpy_iterator()] == [[b"a", b"b"]]

    def gen():
        yield "x"
        yield b"y"
    made = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.string))
    assert list(made.as_numpy_iterator()) == [b"x", b"y"]
    padded = tf.data.Dataset.from_tensor_slices(tf.constant([["a", "b"], ["c", "d"]]))
    batch = next(iter(padded.map(lambda s: s[:1]).padded_batch(2, padded_shapes=[2])))
    assert batch.numpy().tolist() == [[b"a", b""], [b"c", b""]]


def test_keras_input_of_strings():
    inputs = tf.keras.Input(shape=(1,), dtype="string")
    assert inputs.shape == (None, 1) and inputs.dtype == tf.string


def test_io_gives_string_tensors(tmp_path):
    path = tmp_path / "a.bin"
    tf.io.write_file(str(path), tf.constant(b"\x00\x01"))
    contents = tf.io.read_file(str(path))
    assert contents.dtype == tf.string and contents.shape == () and contents.numpy() == b"\x00\x01"
    png = tf.io.encode_png(np.zeros((2, 3, 1), np.uint8))
    assert png.dtype == tf.string and png.numpy()[:4] == b"\x89PNG"
    assert tf.io.decode_png(png).shape == (2, 3, 1)
    data = tf.io.serialize_tensor(tf.constant(["x", "yz"]))
    assert data.dtype == tf.string
    parsed = tf.io.parse_tensor(data, tf.string)
    assert parsed.dtype == tf.string and parsed.numpy().tolist() == [b"x", b"yz"]
    from numpyflow.io import example_proto as pb
    record = pb.Example(features=pb.Features(feature={"s": pb.Feature(
        bytes_list=pb.BytesList(value=[b"a", b"b"]))})).SerializeToString()
    spec = {"s": tf.io.FixedLenFeature([2], tf.string)}
    single = tf.io.parse_single_example(tf.constant(record), spec)["s"]
    assert single.dtype == tf.string and single.numpy().tolist() == [b"a", b"b"]
    batch = tf.io.parse_example(tf.constant([record, record]), spec)["s"]
    assert batch.dtype == tf.string and batch.shape == (2, 2)


def test_variables_and_signatures_of_strings():
    v = tf.Variable(["a", "b"])
    assert v.dtype == tf.string and v.numpy().tolist() == [b"a", b"b"]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def shout(x):
        return tf.strings.upper(x)
    assert shout(["b", "c"]).numpy().tolist() == [b"B", b"C"]


def test_string_ops_on_keras_inputs_build_a_model():
    inputs = tf.keras.Input(shape=(), dtype="string")
    lowered = tf.strings.lower(inputs)
    number = tf.strings.to_number(lowered)
    assert lowered.dtype == tf.string and number.dtype == tf.float32
    model = tf.keras.Model(inputs, [lowered, number])
    out_text, out_number = model(tf.constant(["2E1", "3"]))
    assert out_text.numpy().tolist() == [b"2e1", b"3"]
    assert out_number.numpy().tolist() == [20.0, 3.0]
