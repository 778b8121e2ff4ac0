"""Tests for numpyflow.keras.utils.to_categorical (tf.keras behaviour)."""

import numpy as np
import pytest

from numpyflow.keras.utils import to_categorical


def test_list_input_gives_float32_one_hot():
    result = to_categorical([0, 2, 1], num_classes=3)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(
        result, [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    )


def test_num_classes_defaults_to_max_plus_one():
    assert to_categorical(np.array([0, 4])).shape == (2, 5)


def test_matches_identity_rows():
    labels = np.random.default_rng(0).integers(0, 10, size=50)
    np.testing.assert_array_equal(
        to_categorical(labels, 10), np.eye(10, dtype=np.float32)[labels]
    )


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((), (4,)),  # a scalar becomes one one-hot row
        ((1,), (1, 4)),  # 1-D is never squeezed
        ((6,), (6, 4)),
        ((6, 1), (6, 4)),  # a label column is squeezed, as in Keras
        ((2, 3), (2, 3, 4)),
        ((2, 3, 1), (2, 3, 4)),
        ((1, 1), (1, 4)),
    ],
)
def test_output_shapes(shape, expected):
    labels = np.full(shape, 3, dtype=np.int64)
    result = to_categorical(labels, num_classes=4)
    assert result.shape == expected
    np.testing.assert_array_equal(result.argmax(-1), np.full(expected[:-1], 3))


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64, np.float32,
                                   np.float64])
def test_accepts_integer_valued_dtypes(dtype):
    result = to_categorical(np.array([1, 0], dtype=dtype), 2)
    np.testing.assert_array_equal(result, [[0, 1], [1, 0]])


def test_accepts_objects_with_array_protocol():
    class FakeTensor:
        def __array__(self, dtype=None, copy=None):
            return np.array([[2], [0]], dtype=np.int32)

    result = to_categorical(FakeTensor(), 3)
    np.testing.assert_array_equal(result, [[0, 0, 1], [1, 0, 0]])


def test_dtype_argument():
    assert to_categorical([1], 2, dtype="int32").dtype == np.int32


def test_result_does_not_alias_input():
    labels = np.array([0, 1])
    result = to_categorical(labels, 2)
    result[:] = 7
    np.testing.assert_array_equal(labels, [0, 1])


def test_empty_input_with_num_classes():
    assert to_categorical([], num_classes=3).shape == (0, 3)


def test_empty_input_without_num_classes_raises():
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([])


def test_negative_label_raises_naming_it():
    with pytest.raises(ValueError, match="-1"):
        to_categorical([0, -1, 2], num_classes=3)


def test_label_not_below_num_classes_raises_naming_it():
    with pytest.raises(ValueError, match=r"5.*num_classes=3"):
        to_categorical([0, 5], num_classes=3)


def test_non_integer_label_raises():
    with pytest.raises(ValueError, match="2.5"):
        to_categorical([0.0, 2.5], num_classes=3)


@pytest.mark.parametrize("bad", [0, -2, 2.5, "3", True])
def test_bad_num_classes_raises(bad):
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([0], num_classes=bad)


def test_non_numeric_input_raises():
    with pytest.raises(ValueError, match="integer class indices"):
        to_categorical(["cat", "dog"], num_classes=2)
