"""tf.constant_initializer / tf.random_uniform_initializer follow TF 2.21's rules, which
differ from Keras 3's Constant / RandomUniform (values probed on TF 2.21)."""

import numpy as np
import pytest

import numpyflow as tf


def test_constant_initializer_keeps_the_value_dtype_without_a_dtype():
    assert tf.constant_initializer(2)([2]).dtype == tf.int32
    assert tf.constant_initializer(2.)([2]).dtype == tf.float32
    assert tf.constant_initializer(np.arange(2))([2]).dtype == tf.int64
    assert tf.constant_initializer(True)([2], tf.bool).numpy().tolist() == [True, True]
    out = tf.constant_initializer(2)([2], dtype=tf.float64)
    assert out.dtype == tf.float64 and out.numpy().tolist() == [2., 2.]


def test_constant_initializer_reshapes_a_value_of_the_same_size():
    out = tf.constant_initializer([1, 2, 3, 4, 5, 6])([2, 3])
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(tf.constant_initializer([[1, 2], [3, 4]])([4]), [1, 2, 3, 4])
    np.testing.assert_array_equal(tf.constant_initializer([7])([2, 2]), [[7, 7], [7, 7]])


def test_constant_initializer_refuses_what_tf_refuses():
    with pytest.raises(TypeError, match="constant_initializer.*3 elements"):
        tf.constant_initializer([1, 2, 3])([2, 3])  # No broadcasting, unlike Keras.
    with pytest.raises(TypeError, match="constant_initializer.*2.7"):
        tf.constant_initializer(2.7)([2], tf.int32)
    with pytest.raises(TypeError, match="constant_initializer.*dict"):
        tf.constant_initializer({"a": 1})


def test_keras_constant_still_broadcasts_and_defaults_to_float32():
    out = tf.keras.initializers.Constant([1, 2, 3])((2, 3))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out, [[1, 2, 3], [1, 2, 3]])


def test_tf_initializers_in_a_layer_save_and_load_as_keras_ones(tmp_path):
    layer = tf.keras.layers.Dense(2, kernel_initializer=tf.constant_initializer(list(range(6))))
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.kernel, np.arange(6.).reshape(3, 2))
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(
        2, kernel_initializer=tf.constant_initializer(0.5),
        bias_initializer=tf.random_uniform_initializer(seed=3))])
    model.save(tmp_path / "m.keras")
    loaded = tf.keras.models.load_model(tmp_path / "m.keras").layers[0]
    assert isinstance(loaded.kernel_initializer, tf.keras.initializers.Constant)
    assert isinstance(loaded.bias_initializer, tf.keras.initializers.RandomUniform)
    assert loaded.bias_initializer.seed == 3
    # The config TensorFlow itself writes for tf.constant_initializer loads too.
    init = tf.keras.initializers.deserialize(
        {"module": "tensorflow.python.ops.init_ops_v2", "class_name": "Constant",
         "config": {"value": 1}, "registered_name": "Constant"})
    assert isinstance(init, tf.keras.initializers.Constant) and init.value == 1


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_random_uniform_initializer_draws_integers(dtype):
    values = tf.random_uniform_initializer(0, 10, seed=1)([500], dtype)
    assert values.dtype == dtype
    assert values.numpy().min() >= 0 and values.numpy().max() <= 9
    assert len(np.unique(values.numpy())) == 10
    np.testing.assert_array_equal(values, tf.random_uniform_initializer(0, 10, seed=1)([500],
                                                                                       dtype))
    unseeded = tf.random_uniform_initializer(-3, 3)([500], dtype).numpy()
    assert unseeded.min() >= -3 and unseeded.max() <= 2


def test_random_uniform_initializer_float_default_unchanged():
    values = tf.random_uniform_initializer(seed=2)([1000])
    assert values.dtype == tf.float32
    assert -0.05 <= values.numpy().min() and values.numpy().max() < 0.05
    assert tf.random_uniform_initializer(0, 1, seed=2)([3], tf.float64).dtype == tf.float64


def test_random_uniform_initializer_refuses_what_tf_refuses():
    with pytest.raises(TypeError, match="random_uniform_initializer.*minval=-0.05.*int32"):
        tf.random_uniform_initializer()([2], tf.int32)
    with pytest.raises(TypeError, match="maxval=10.0"):
        tf.random_uniform_initializer(0, 10.)([2], tf.int32)
    with pytest.raises(ValueError, match="random_uniform_initializer.*uint8"):
        tf.random_uniform_initializer(0, 10)([2], tf.uint8)
    with pytest.raises(ValueError, match="random_uniform_initializer.*bool"):
        tf.random_uniform_initializer(0, 1)([2], tf.bool)
    with pytest.raises(tf.errors.InvalidArgumentError, match="minval < maxval"):
        tf.random_uniform_initializer(3, 3)([2], tf.int32)


def test_keras_random_uniform_takes_integer_dtypes_as_keras_3_does():
    uniform = tf.keras.initializers.RandomUniform
    values = uniform(0.5, 10.5, seed=1)((200,), "int32")  # Keras truncates the bounds.
    assert values.dtype == tf.int32
    assert values.numpy().min() >= 0 and values.numpy().max() <= 9
    assert uniform(0, 2 ** 40, seed=1)((3,), "int64").numpy().max() >= 2 ** 31
    for unsigned in ("uint8", "uint32"):  # Keras 3 on TF 2.21 refuses uint32 too.
        with pytest.raises(ValueError, match=f"RandomUniform.*{unsigned}"):
            uniform(0, 10)((2,), unsigned)
    with pytest.raises(tf.errors.InvalidArgumentError, match="RandomUniform.*minval < maxval"):
        uniform(seed=1)((2,), "int32")  # -0.05 and 0.05 both truncate to 0.
    with pytest.raises(ValueError, match="RandomNormal"):
        tf.keras.initializers.RandomNormal()((2,), "int32")
