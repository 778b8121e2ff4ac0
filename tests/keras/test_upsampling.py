"""Tests of `UpSampling2D`."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import UpSampling2D
from tests.keras.layer_test import run_layer_test
from tests.ops.cases_image import np_resize_bilinear


def test_upsampling_nearest_default():
    run_layer_test(UpSampling2D, {}, (2, 3, 4, 2), (2, 6, 8, 2), 0)


def test_upsampling_rectangular_size():
    run_layer_test(UpSampling2D, {"size": (3, 1)}, (1, 2, 5, 3), (1, 6, 5, 3), 0)


def test_upsampling_bilinear():
    run_layer_test(UpSampling2D, {"size": 2, "interpolation": "bilinear"}, (2, 3, 3, 1),
                   (2, 6, 6, 1), 0)


def test_nearest_repeats_rows_and_columns():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 2)).astype(np.float32)
    out = UpSampling2D(size=(2, 3))(x).numpy()
    np.testing.assert_array_equal(out, np.repeat(np.repeat(x, 2, axis=1), 3, axis=2))


def test_bilinear_matches_tf2_resize():
    x = np.random.default_rng(1).normal(size=(1, 3, 4, 2)).astype(np.float32)
    out = UpSampling2D(size=2, interpolation="bilinear")(x).numpy()
    np.testing.assert_allclose(out, np_resize_bilinear(x, (6, 8)), rtol=1e-5, atol=1e-6)


def test_output_shape_with_unknown_dims_and_config():
    layer = UpSampling2D(size=(2, 3))
    assert layer.compute_output_shape((None, None, 5, 3)) == tf.TensorShape((None, None, 15, 3))
    config = layer.get_config()
    assert config["size"] == (2, 3) and config["interpolation"] == "nearest"
    assert config["data_format"] == "channels_last"


def test_errors_name_the_layer_and_argument():
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'"):
        UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="interpolation='cubic'"):
        UpSampling2D(interpolation="cubic")
    with pytest.raises(ValueError, match="size=0"):
        UpSampling2D(size=0)
    with pytest.raises(ValueError, match="channels_first"):
        UpSampling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="ndim=4"):
        UpSampling2D()(np.zeros((2, 3, 3), np.float32))
