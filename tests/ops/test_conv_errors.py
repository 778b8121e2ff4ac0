"""Bad inputs to grouped conv2d, depthwise/separable conv2d, conv1d and the 1-D poolings:
TF's exception types, with messages naming the op, what was received and what was
expected. (Values and gradients are checked in cases_conv.py.)"""

import numpy as np

import numpyflow as tf
from tests.ops.test_nn_errors import raises

images = np.zeros((2, 8, 8, 4), np.float32)
sequences = np.zeros((2, 8, 4), np.float32)


def test_grouped_conv2d_needs_divisible_output_channels():
    # Filter depth 2 over 4 channels: 2 groups, so 3 output channels cannot be split.
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "3 output channels",
                "2 groups"):
        tf.nn.conv2d(images, np.zeros((3, 3, 2, 3), np.float32), 1, "SAME")


def test_conv2d_filter_depth_must_divide_input_depth():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv2D]", "4 vs 3"):
        tf.nn.conv2d(images, np.zeros((3, 3, 3, 6), np.float32), 1, "SAME")


def test_depthwise_depth_mismatch():
    with raises(tf.errors.InvalidArgumentError, "[Op:DepthwiseConv2dNative]", "4 vs 3"):
        tf.nn.depthwise_conv2d(images, np.zeros((3, 3, 3, 1), np.float32), [1, 1, 1, 1],
                               "SAME")


def test_depthwise_filter_rank():
    with raises(tf.errors.InvalidArgumentError, "[Op:DepthwiseConv2dNative]",
                "4-dimensional", "[3, 3, 4]"):
        tf.nn.depthwise_conv2d(images, np.zeros((3, 3, 4), np.float32), 1, "SAME")


def test_separable_pointwise_filter_must_be_1x1():
    with raises(tf.errors.InvalidArgumentError, "pointwise_filter", "[3, 3, 4, 2]"):
        tf.nn.separable_conv2d(images, np.zeros((3, 3, 4, 1), np.float32),
                               np.zeros((3, 3, 4, 2), np.float32), 1, "SAME")


def test_conv1d_ranks():
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv1D]", "3-dimensional", "[8, 4]"):
        tf.nn.conv1d(sequences[0], np.zeros((3, 4, 2), np.float32), 1, "SAME")
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv1D]", "filters", "[3, 3, 4, 2]"):
        tf.nn.conv1d(sequences, np.zeros((3, 3, 4, 2), np.float32), 1, "SAME")


def test_conv1d_arguments():
    kernel = np.zeros((3, 4, 2), np.float32)
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv1D]", "'CAUSAL'"):
        tf.nn.conv1d(sequences, kernel, 1, "CAUSAL")
    with raises(tf.errors.InvalidArgumentError, "[Op:Conv1D]", "stride", "[2, 1, 1]"):
        tf.nn.conv1d(sequences, kernel, [2, 1, 1], "SAME")
    with raises(tf.errors.UnimplementedError, "NWC", "NCW"):
        tf.nn.conv1d(sequences, kernel, 1, "SAME", data_format="NCW")


def test_conv1d_extra_batch_dims():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 4)).astype(np.float32)
    kernel = np.ones((2, 4, 1), np.float32)
    out = tf.nn.conv1d(x, kernel, 1, "VALID")
    np.testing.assert_allclose(out.numpy()[..., 0], (x[:, :, :-1] + x[:, :, 1:]).sum(-1),
                               rtol=1e-5)


def test_pool1d_rank_and_format():
    with raises(tf.errors.InvalidArgumentError, "[Op:MaxPool1D]", "3-dimensional"):
        tf.nn.max_pool1d(images, 2, 2, "VALID")
    with raises(tf.errors.UnimplementedError, "NWC"):
        tf.nn.avg_pool1d(sequences, 2, 2, "VALID", data_format="NCW")
