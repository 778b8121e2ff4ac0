"""Channels-last columns (conv.CHANNELS_LAST_MIN_CHANNELS): the same forward and gradients
as the planes layout, whole or split across threads, with the saved columns or without."""

import numpy as np
import pytest

from numpyflow.backend import threads
from numpyflow.backend.numpy import conv, conv_channels_last
from tests.ops.cases_conv import pads_for


CONFIGS = [  # (x shape, filter shape, strides, dilations, padding)
    ((4, 8, 8, 32), (3, 3, 32, 64), (1, 1), (1, 1), "SAME"),      # CIFAR CNN-like
    ((1, 5, 7, 16), (3, 3, 16, 64), (1, 1), (1, 1), "SAME"),       # batch 1, odd sizes
    ((3, 7, 6, 17), (3, 2, 17, 64), (2, 1), (1, 2), "VALID"),      # strided, dilated
    ((2, 6, 9, 16), (2, 3, 16, 65), (1, 2), (2, 1), [[0, 0], [2, 0], [1, 3], [0, 0]]),
    # Padding wider than the kernel: some offsets reach no input (their windows clip away).
    ((2, 5, 4, 16), (2, 2, 16, 64), (2, 3), (1, 1), [[0, 0], [3, 2], [0, 4], [0, 0]]),
    ((2, 6, 6, 16), (3, 3, 16, 64), (2, 2), (1, 1), "VALID"),     # last row/column unread
    ((1, 3, 3, 16), (3, 3, 16, 64), (1, 1), (1, 1), "VALID"),     # one output pixel
    ((2, 7, 5, 16), (3, 3, 16, 64), (1, 1), (2, 2), "SAME"),      # dilated SAME
]


def _kernels(x_shape, f_shape, strides, dilations, padding, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    f = rng.standard_normal(f_shape).astype(dtype)
    pads = pads_for(padding, x_shape, f_shape[:2], strides, dilations)
    y, saved = conv.conv2d(x, f, strides, dilations, pads)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = conv.conv2d_backprop_input(f, dy, x_shape, strides, dilations, pads)
    df_saved = conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads,
                                           columns=saved)
    df_built = conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads)
    return saved, (y, dx, df_saved, df_built)


@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS)
def test_channels_last_matches_planes(config, dtype, split, monkeypatch):
    if split:  # Every kernel split across two threads, whatever the machine.
        monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
        monkeypatch.setattr(threads, "cores", lambda: 2)
    else:
        monkeypatch.setattr(threads, "SPLIT_ABOVE", float("inf"))
    monkeypatch.setattr(conv, "CHANNELS_LAST_MIN_CHANNELS", None)
    planes_saved, expected = _kernels(*config, dtype)
    monkeypatch.setattr(conv, "CHANNELS_LAST_MIN_CHANNELS", 16)
    saved, got = _kernels(*config, dtype)
    assert planes_saved.ndim != 6 and saved.ndim == 6  # Each path really ran.
    tolerance = 1e-12 if dtype == np.float64 else 1e-5  # Summation order differs.
    for want, have in zip(expected, got):
        assert have.shape == want.shape and have.dtype == want.dtype
        np.testing.assert_allclose(have, want, rtol=tolerance,
                                   atol=tolerance * np.abs(want).max())


def test_saved_columns_are_used_whatever_the_flag_later(monkeypatch):
    """Channels-last columns saved by the forward serve the filter gradient even when the
    flag is flipped between the two (and planes saved before serve it after)."""
    x_shape, f_shape, strides, dilations, padding = CONFIGS[0]
    pads = pads_for(padding, x_shape, f_shape[:2], strides, dilations)
    rng = np.random.default_rng(1)
    x, f = rng.standard_normal(x_shape), rng.standard_normal(f_shape)
    y, saved = conv.conv2d(x, f, strides, dilations, pads)
    dy = rng.standard_normal(y.shape)
    expected = conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads)
    monkeypatch.setattr(conv, "CHANNELS_LAST_MIN_CHANNELS", None)
    np.testing.assert_allclose(
        conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads, columns=saved),
        expected, rtol=1e-12, atol=1e-12)
    _, planes_saved = conv.conv2d(x, f, strides, dilations, pads)
    monkeypatch.setattr(conv, "CHANNELS_LAST_MIN_CHANNELS", 16)
    np.testing.assert_allclose(
        conv.conv2d_backprop_filter(x, dy, f_shape, strides, dilations, pads,
                                    columns=planes_saved),
        expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels, filters, expected", [
    (3, 64, False),    # an RGB input: runs of a few values
    (32, 32, False),   # narrow GEMMs: the planes' row blocks
    (16, 64, True), (64, 128, True)])
def test_which_convolutions_go_channels_last(channels, filters, expected):
    layout = conv._Layout((2, 8, 8, channels), (3, 3, channels, filters), (1, 1), (1, 1),
                          ((1, 1), (1, 1)))
    assert conv._channels_last(layout) is expected


@pytest.mark.parametrize("block_bytes", [1, 5000, None])  # 1 image per block, a few, all
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
def test_blocks_of_images_do_not_change_results(block_bytes, split, monkeypatch):
    if split:
        monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
        monkeypatch.setattr(threads, "cores", lambda: 2)
    config = ((5, 6, 5, 16), (3, 3, 16, 64), (1, 1), (1, 1), "SAME")
    _, expected = _kernels(*config, np.float64)
    monkeypatch.setattr(conv_channels_last, "BLOCK_BYTES", block_bytes)
    _, got = _kernels(*config, np.float64)
    for want, have in zip(expected, got):
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
def test_saved_windows_survive_a_later_convolution_of_the_same_shape(split, monkeypatch):
    """What the forward saves is its own array, not a buffer that the next convolution of
    the same shapes (a second identical layer) overwrites before the backward runs."""
    if split:
        monkeypatch.setattr(threads, "SPLIT_ABOVE", 0)
        monkeypatch.setattr(threads, "cores", lambda: 2)
    rng = np.random.default_rng(2)
    x_shape, f_shape = (4, 6, 6, 16), (3, 3, 16, 64)
    pads = ((1, 1), (1, 1))
    x, f = rng.standard_normal(x_shape), rng.standard_normal(f_shape)
    y, saved = conv.conv2d(x, f, (1, 1), (1, 1), pads)
    conv.conv2d(rng.standard_normal(x_shape), f, (1, 1), (1, 1), pads)  # Same shapes.
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(
        conv.conv2d_backprop_filter(x, dy, f_shape, (1, 1), (1, 1), pads, columns=saved),
        conv.conv2d_backprop_filter(x, dy, f_shape, (1, 1), (1, 1), pads),
        rtol=1e-12, atol=1e-12)
