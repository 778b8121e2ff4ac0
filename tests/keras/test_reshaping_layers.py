"""ZeroPadding1D/2D, Cropping1D/2D, RepeatVector and Permute."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.layers import (
    Cropping1D, Cropping2D, Permute, RepeatVector, ZeroPadding1D, ZeroPadding2D)
from tests.keras.layer_test import run_layer_test

images = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
sequences = np.arange(2 * 6 * 3, dtype=np.float32).reshape(2, 6, 3)


# -- ZeroPadding ------------------------------------------------------------------------------

def test_zero_padding_2d_layer():
    run_layer_test(ZeroPadding2D, {}, (2, 4, 5, 3), (2, 6, 7, 3), 0, input_data=images,
                   expected_output=np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0))))
    run_layer_test(ZeroPadding2D, {"padding": 2}, (2, 4, 5, 3), (2, 8, 9, 3), 0)
    run_layer_test(ZeroPadding2D, {"padding": (1, 0)}, (2, 4, 5, 3), (2, 6, 5, 3), 0)
    run_layer_test(ZeroPadding2D, {"padding": ((1, 2), (0, 3))}, (2, 4, 5, 3), (2, 7, 8, 3), 0,
                   input_data=images,
                   expected_output=np.pad(images, ((0, 0), (1, 2), (0, 3), (0, 0))))
    run_layer_test(ZeroPadding2D, {"padding": ((1, 2), (0, 3)), "data_format": "channels_first"},
                   (2, 3, 4, 5), (2, 3, 7, 8), 0, input_data=images.reshape(2, 3, 4, 5),
                   expected_output=np.pad(images.reshape(2, 3, 4, 5),
                                          ((0, 0), (0, 0), (1, 2), (0, 3))))


def test_zero_padding_2d_config_and_unknown_sizes():
    layer = ZeroPadding2D([[1, 2], [3, 4]])  # Lists, as a JSON config gives them.
    assert layer.get_config()["padding"] == ((1, 2), (3, 4))
    assert layer.get_config()["data_format"] == "channels_last"
    assert layer.compute_output_shape((None, None, 5, 3)) == (None, None, 12, 3)


def test_zero_padding_1d_layer():
    run_layer_test(ZeroPadding1D, {}, (2, 6, 3), (2, 8, 3), 0, input_data=sequences,
                   expected_output=np.pad(sequences, ((0, 0), (1, 1), (0, 0))))
    run_layer_test(ZeroPadding1D, {"padding": (0, 2)}, (2, 6, 3), (2, 8, 3), 0,
                   input_data=sequences,
                   expected_output=np.pad(sequences, ((0, 0), (0, 2), (0, 0))))


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), ((1, 2), (3,)), "same", ((1, -1), (0, 0)),
                                     1.5, True])
def test_zero_padding_2d_rejects_bad_padding(padding):
    with pytest.raises(ValueError, match=r"ZeroPadding2D layer .*padding"):
        ZeroPadding2D(padding)


def test_padding_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"ZeroPadding1D layer .*Received: padding=-2"):
        ZeroPadding1D(-2)
    with pytest.raises(ValueError, match="data_format"):
        ZeroPadding2D(data_format="channels_middle")
    with pytest.raises(ValueError, match=r"'zp'.*4-D inputs.*input_shape=\(None, 3, 3\)"):
        ZeroPadding2D(name="zp").compute_output_shape((None, 3, 3))
    with pytest.raises(ValueError, match="ndim=4"):
        ZeroPadding2D()(np.zeros((2, 3, 3), np.float32))


# -- Cropping ---------------------------------------------------------------------------------

def test_cropping_2d_layer():
    run_layer_test(Cropping2D, {}, (2, 4, 5, 3), (2, 4, 5, 3), 0, input_data=images,
                   expected_output=images)
    run_layer_test(Cropping2D, {"cropping": 1}, (2, 4, 5, 3), (2, 2, 3, 3), 0,
                   input_data=images, expected_output=images[:, 1:-1, 1:-1])
    run_layer_test(Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 4, 5, 3), (2, 3, 2, 3), 0,
                   input_data=images, expected_output=images[:, 1:, 2:-1])
    run_layer_test(Cropping2D, {"cropping": (0, 2), "data_format": "channels_first"},
                   (2, 3, 4, 5), (2, 3, 4, 1), 0, input_data=images.reshape(2, 3, 4, 5),
                   expected_output=images.reshape(2, 3, 4, 5)[:, :, :, 2:-2])


def test_cropping_1d_layer():
    run_layer_test(Cropping1D, {}, (2, 6, 3), (2, 4, 3), 0, input_data=sequences,
                   expected_output=sequences[:, 1:-1])
    run_layer_test(Cropping1D, {"cropping": (2, 0)}, (2, 6, 3), (2, 4, 3), 0,
                   input_data=sequences, expected_output=sequences[:, 2:])


def test_cropping_more_than_the_input_is_an_error():
    layer = Cropping2D(((2, 2), (0, 0)), name="crop")
    assert layer.compute_output_shape((None, None, 5, 3)) == (None, None, 5, 3)
    with pytest.raises(ValueError, match=r"'crop'.*smaller than the corresponding dimension.*"
                                         r"input_shape=\(None, 4, 5, 3\)"):
        layer.compute_output_shape((None, 4, 5, 3))
    with pytest.raises(ValueError, match="smaller than"):
        layer(images)  # Cropping all 4 rows leaves nothing.
    with pytest.raises(ValueError, match="smaller than"):
        Cropping2D(((0, 0), (3, 3)), data_format="channels_first")(images)
    with pytest.raises(ValueError, match="smaller than"):
        Cropping1D((3, 3))(sequences)
    with pytest.raises(ValueError, match=r"Cropping2D layer .*cropping"):
        Cropping2D(((1, 2, 3), (0, 0)))
    with pytest.raises(ValueError, match=r"Cropping1D layer .*Received: cropping=\(-1, 0\)"):
        Cropping1D((-1, 0))


# -- RepeatVector, Permute ------------------------------------------------------------------

def test_repeat_vector_layer():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    run_layer_test(RepeatVector, {"n": 4}, (2, 3), (2, 4, 3), 0, input_data=x,
                   expected_output=np.repeat(x[:, None, :], 4, axis=1))
    assert RepeatVector(2).compute_output_shape((None, None)) == (None, 2, None)


def test_repeat_vector_errors():
    for n in (0, -1, 2.5, "3", None):
        with pytest.raises(ValueError, match=f"RepeatVector.*Received: n={n!r}"):
            RepeatVector(n)
    with pytest.raises(ValueError, match=r"2-D inputs.*\(None, 3, 4\)"):
        RepeatVector(2).compute_output_shape((None, 3, 4))


def test_permute_layer():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    run_layer_test(Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), 0, input_data=x,
                   expected_output=x.transpose(0, 2, 1))
    y = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    run_layer_test(Permute, {"dims": [3, 1, 2]}, (2, 3, 4, 5), (2, 5, 3, 4), 0, input_data=y,
                   expected_output=y.transpose(0, 3, 1, 2))
    assert Permute((2, 1)).compute_output_shape((None, None, 7)) == (None, 7, None)


@pytest.mark.parametrize("dims", [(1, 1), (0, 1), (2, 3), (), (1, 2.5), 3, ("a", "b")])
def test_permute_rejects_non_permutations(dims):
    with pytest.raises(ValueError, match=r"Permute layer .*permutation of 1\.\.n.*Received: dims="):
        Permute(dims)


def test_permute_rank_mismatch():
    with pytest.raises(ValueError, match=r"Permute.*3-D inputs.*\(None, 4\)"):
        Permute((2, 1)).compute_output_shape((None, 4))
    with pytest.raises(ValueError, match="ndim=3"):
        Permute((2, 1))(np.zeros((2, 4), np.float32))


def test_reshaping_layers_in_a_sequential_model(fresh_names):
    model = tf.keras.Sequential([
        ZeroPadding2D(1, input_shape=(4, 4, 1)),
        Cropping2D(((0, 1), (1, 0))),
        tf.keras.layers.Flatten(),
        RepeatVector(2),
        Permute((2, 1)),
    ])
    assert model(np.ones((3, 4, 4, 1), np.float32)).shape == (3, 25, 2)
    assert tuple(model.output_shape) == (None, 25, 2)
