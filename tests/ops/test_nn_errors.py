"""Bad inputs to the nn ops raise TF's exception types, with messages that name the op and
say what was received and what was expected."""

import numpy as np
import pytest

import numpyflow as tf

images = np.zeros((2, 8, 8, 3), np.float32)
filters = np.zeros((3, 3, 3, 4), np.float32)


def raises(error_type, *fragments):
    """pytest.raises that also checks the message contains every fragment."""
    class Check:
        def __enter__(self):
            self._ctx = pytest.raises(error_type)
            self._info = self._ctx.__enter__()
            return self._info

        def __exit__(self, *exc):
            suppressed = self._ctx.__exit__(*exc)
            message = str(self._info.value)
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in {message!r}"
            return suppressed
    return Check()


# -- conv2d -------------------------------------------------------------------------------

def test_conv2d_rank3_input():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "4-dimensional", "[8, 8, 3]"):
        tf.nn.conv2d(images[0], filters, 1, "SAME")


def test_conv2d_channel_mismatch():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "3 vs 2"):
        tf.nn.conv2d(images, np.zeros((3, 3, 2, 4), np.float32), 1, "SAME")


def test_conv2d_filter_rank():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "filter", "[3, 3, 3]"):
        tf.nn.conv2d(images, np.zeros((3, 3, 3), np.float32), 1, "SAME")


@pytest.mark.parametrize("padding", ["FOO", "same", "EXPLICIT"])
def test_conv2d_bad_padding_string(padding):
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "padding", repr(padding),
                '"SAME", "VALID"'):
        tf.nn.conv2d(images, filters, 1, padding)


def test_conv2d_bad_explicit_padding():
    with raises(ValueError, "4 pairs"):
        tf.nn.conv2d(images, filters, 1, [[0, 0], [1, 1]])
    with raises(tf.errors.InvalidArgumentError, "batch or depth"):
        tf.nn.conv2d(images, filters, 1, [[1, 0], [1, 1], [1, 1], [0, 0]])


def test_conv2d_filter_larger_than_input():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "output size would be negative",
                "input_size: 8", "effective_filter_size: 10"):
        tf.nn.conv2d(images, np.zeros((10, 10, 3, 1), np.float32), 1, "VALID")


def test_conv2d_strides():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "batch and depth", "[2, 1, 1, 1]"):
        tf.nn.conv2d(images, filters, [2, 1, 1, 1], "SAME")
    with raises(ValueError, "strides", "length 1, 2 or 4", "3"):
        tf.nn.conv2d(images, filters, [1, 1, 1], "SAME")
    with raises(tf.errors.InvalidArgumentError, "strides must be positive", "[0, 0]"):
        tf.nn.conv2d(images, filters, 0, "SAME")


def test_conv2d_dtypes():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "int32"):
        tf.nn.conv2d(tf.constant(images.astype(np.int32)), tf.constant(filters.astype(np.int32)),
                     1, "SAME")
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "float", "double"):
        tf.nn.conv2d(tf.constant(images), tf.constant(filters.astype(np.float64)), 1, "SAME")


def test_conv2d_nchw_is_unimplemented_on_cpu():
    with raises(tf.errors.UnimplementedError, "NHWC", "NCHW", "[Op:Conv2D]"):
        tf.nn.conv2d(images, filters, 1, "SAME", data_format="NCHW")


def test_conv2d_transpose_shape_mismatch():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2DBackpropInput]", "[2, 7, 7, 4]",
                "[2, 8, 8, 4]"):
        tf.nn.conv2d_transpose(np.zeros((2, 7, 7, 4), np.float32), filters, [2, 8, 8, 3], 1,
                               "SAME")


# -- pooling ------------------------------------------------------------------------------

@pytest.mark.parametrize("pool, op", [(tf.nn.max_pool2d, "MaxPool"),
                                      (tf.nn.avg_pool2d, "AvgPool")])
def test_pool_errors(pool, op):
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "4-dimensional", "[8, 8, 3]"):
        pool(images[0], 2, 2, "VALID")
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "padding", "'valid'"):
        pool(images, 2, 2, "valid")
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "padding"):
        pool(images, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "batch and depth"):
        pool(images, [2, 2, 2, 1], 2, "VALID")
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "NHWC"):
        pool(images, 2, 2, "VALID", data_format="NCHW")
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "negative"):
        pool(images, 10, 1, "VALID")


def test_avg_pool_needs_floats():
    with raises(tf.errors.InvalidArgumentError, "[Op:AvgPool]", "int32"):
        tf.nn.avg_pool2d(images.astype(np.int32), 2, 2, "VALID")


def test_max_pool_rank5_is_not_supported():
    with raises(ValueError, "max_pool", "rank 5"):
        tf.nn.max_pool(np.zeros((1, 2, 2, 2, 1), np.float32), 2, 2, "VALID")


# -- activations --------------------------------------------------------------------------

@pytest.mark.parametrize("fn, op", [(tf.sigmoid, "Sigmoid"), (tf.tanh, "Tanh"),
                                    (tf.nn.elu, "Elu"), (tf.nn.selu, "Selu"),
                                    (tf.nn.softplus, "Softplus"), (tf.nn.softsign, "Softsign"),
                                    (tf.math.erf, "Erf")])
def test_activations_need_floats(fn, op):
    with raises(tf.errors.InvalidArgumentError, f"[Op:{op}]", "int32"):
        fn(tf.constant([1, 2]))


def test_gelu_needs_floats():
    with raises(ValueError, "floating point", "int32"):
        tf.nn.gelu(tf.constant([1, 2]))


# -- losses, dropout ----------------------------------------------------------------------

def test_xent_shapes_must_broadcast():
    with raises(tf.errors.InvalidArgumentError, "[Op:SoftmaxCrossEntropyWithLogits]",
                "broadcastable", "logits_size=[2, 3]", "labels_size=[2, 4]"):
        tf.nn.softmax_cross_entropy_with_logits(np.zeros((2, 4)), tf.zeros((2, 3)))


def test_xent_dtypes_must_match():
    with raises(tf.errors.InvalidArgumentError, "SoftmaxCrossEntropyWithLogits", "int32"):
        tf.nn.softmax_cross_entropy_with_logits(tf.constant([[0, 1]]), tf.zeros((1, 2)))


def test_xent_axis_out_of_range():
    with raises(tf.errors.InvalidArgumentError, "axis 2", "[2, 3]"):
        tf.nn.softmax_cross_entropy_with_logits(np.zeros((2, 3)), tf.zeros((2, 3)), axis=2)


@pytest.mark.parametrize("rate", [1, 1.5, -0.1])
def test_dropout_bad_rate(rate):
    with raises(ValueError, "rate", "[0, 1)", str(rate)):
        tf.nn.dropout(tf.ones((2, 2)), rate)


def test_dropout_needs_floats():
    with raises(ValueError, "floating point", "int32"):
        tf.nn.dropout(tf.constant([1, 2]), 0.5)


def test_fused_rnn_ops_refuse_mixed_or_integer_dtypes():
    from numpyflow.ops import rnn_ops
    h = tf.zeros((2, 5))
    with pytest.raises(TypeError, match=r"LSTMSequence: .*float64.*float32"):
        rnn_ops.lstm_sequence(tf.ones((2, 3, 4), tf.float64), h, h, tf.ones((4, 20)),
                              tf.ones((5, 20)), None)
    with pytest.raises(TypeError, match=r"SimpleRNNSequence: .*int32"):
        rnn_ops.simple_rnn_sequence(tf.ones((2, 3, 4), tf.int32), h, tf.ones((4, 5)),
                                    tf.ones((5, 5)), None)
    h64 = tf.zeros((2, 5), tf.float64)
    out = rnn_ops.gru_sequence(tf.ones((2, 3, 4), tf.float64), h64,
                               tf.ones((4, 15), tf.float64), tf.ones((5, 15), tf.float64),
                               tf.zeros((2, 15), tf.float64))
    assert out.dtype == tf.float64
