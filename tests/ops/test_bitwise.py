"""tf.bitwise: values, dtypes and errors as TF 2.21 gives them (probed), traced use, and
the ONNX export of the ops ONNX has."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import bitwise

INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64]


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_logic_ops_match_numpy_for_every_integer_dtype(dtype):
    info = np.iinfo(dtype)
    x = np.array([0, 1, 5, info.max, info.min], dtype)
    y = np.array([3, info.max, 6, 1, info.min], dtype)
    for op, reference in [(bitwise.bitwise_and, np.bitwise_and),
                          (bitwise.bitwise_or, np.bitwise_or),
                          (bitwise.bitwise_xor, np.bitwise_xor)]:
        out = op(tf.constant(x), tf.constant(y))
        assert out.dtype == tf.as_dtype(dtype)
        np.testing.assert_array_equal(out, reference(x, y))
    np.testing.assert_array_equal(bitwise.invert(x), np.invert(x))


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_shift_amounts_are_clamped_to_the_bit_width(dtype):
    bits = np.dtype(dtype).itemsize * 8
    x = np.array([1, 5, 3], dtype)
    past = np.array([bits, bits + 1, min(bits + 3, 127)], dtype)
    np.testing.assert_array_equal(bitwise.left_shift(x, past), x << np.asarray(bits - 1, dtype))
    np.testing.assert_array_equal(bitwise.right_shift(x, past), x >> np.asarray(bits - 1, dtype))
    if np.dtype(dtype).kind == "i":
        negative = np.array([-1, -2, -100], dtype)
        np.testing.assert_array_equal(bitwise.left_shift(x, negative), x)
        np.testing.assert_array_equal(bitwise.right_shift(-x, negative), -x)


def test_tf_values_for_signed_shifts():
    int8 = tf.constant([1, 5, -3], tf.int8)
    assert bitwise.left_shift(int8, tf.constant([0, 3, 7], tf.int8)).numpy().tolist() == \
        [1, 40, -128]
    assert bitwise.right_shift(tf.constant([-8, -1]), [1, 40]).numpy().tolist() == [-4, -1]
    assert bitwise.left_shift(tf.constant([1, 3]), [31, 31]).numpy().tolist() == \
        [-2147483648, -2147483648]


def test_broadcasting_python_numbers_and_batch_one():
    np.testing.assert_array_equal(bitwise.bitwise_and([[12], [3]], [10, 6]), [[8, 4], [2, 2]])
    out = bitwise.bitwise_and(tf.constant([12, 10], tf.uint8), 6)
    assert out.dtype == tf.uint8 and out.numpy().tolist() == [4, 2]
    assert bitwise.left_shift(tf.constant([[1, 2, 3]]), 2).numpy().tolist() == [[4, 8, 12]]


@pytest.mark.parametrize("call, op", [
    (lambda: bitwise.bitwise_and([1.], [1.]), "BitwiseAnd"),
    (lambda: bitwise.bitwise_or(tf.constant([True]), tf.constant([True])), "BitwiseOr"),
    (lambda: bitwise.invert([True]), "Invert"),
    (lambda: bitwise.left_shift([1.5], 1), "LeftShift"),
])
def test_non_integer_operands_are_refused(call, op):
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"Value for attr 'T' of \w+ is not in the list.*\[Op:{op}\]"):
        call()


def test_mixed_dtypes_are_refused():
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a int32 tensor "
                                                             "but is a int64 tensor"):
        bitwise.bitwise_xor(tf.constant([1]), tf.constant([1], tf.int64))


def test_no_gradient_and_tracing():
    x = tf.Variable([1, 2])
    with tf.GradientTape() as tape:
        y = bitwise.left_shift(x, 1)
    assert tape.gradient(y, x) is None

    @tf.function
    def mix(a, b):
        return bitwise.bitwise_xor(bitwise.left_shift(a, b), bitwise.invert(a))

    for a, b in ([[1, 2], [1, 40]], [[7, -7], [0, -1]]):
        a32, b32 = np.int32(a), np.clip(np.int32(b), 0, 31)
        want = np.bitwise_xor(np.left_shift(a32, b32), np.invert(a32))
        np.testing.assert_array_equal(mix(tf.constant(a), tf.constant(b)), want)


def test_onnx_export_of_and_or_xor_invert(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from numpyflow.export.onnx import export_onnx

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.int32),
                                  tf.TensorSpec([None, 3], tf.int32)])
    def f(x, y):
        return (bitwise.bitwise_and(x, y), bitwise.bitwise_or(x, y), bitwise.bitwise_xor(x, 6),
                bitwise.invert(x))

    export_onnx(f, str(tmp_path / "bitwise.onnx"))
    session = ort.InferenceSession(str(tmp_path / "bitwise.onnx"),
                                   providers=["CPUExecutionProvider"])
    x = np.array([[12, 10, -7], [0, 255, -1]], np.int32)
    y = np.array([[10, 6, 3], [1, 2, 3]], np.int32)
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), [x, y])})
    for g, w in zip(got, f(tf.constant(x), tf.constant(y))):
        assert g.dtype == np.int32
        np.testing.assert_array_equal(g, w)
