"""Review of keras.initializers.RandomUniform's integer dtypes against Keras 3.15 on
TF 2.21: int32 and int64 draw integers; unsigned dtypes are refused (TF's uniform integer
kernel takes minval/maxval for signed types only), as are the other integer dtypes."""

import pytest

import numpyflow as tf

RandomUniform = tf.keras.initializers.RandomUniform


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_signed_integer_draws(dtype):
    values = RandomUniform(-2.5, 2.5, seed=1)((1000,), dtype=dtype).numpy()
    assert values.dtype == dtype and values.min() == -2 and values.max() == 1


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64", "int8", "int16",
                                   "bool"])
def test_other_integer_dtypes_are_refused(dtype):
    with pytest.raises(ValueError, match=f"RandomUniform.*{dtype}"):
        RandomUniform(0, 5, seed=1)((4,), dtype=dtype)


def test_a_model_with_tf_constant_initializer_of_an_array_reloads(tmp_path):
    # tf.constant_initializer's config holds the array itself, which the .keras file
    # writes as a "__numpy__" object; Keras 3's Constant.from_config decodes it (a real
    # Keras 3.15 file of this model loads in Keras), so numpyflow's must too.
    import numpy as np
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(
        2, kernel_initializer=tf.constant_initializer(kernel))])
    model.save(tmp_path / "m.keras")
    loaded = tf.keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.layers[0].kernel.numpy(), kernel)
    fresh = tf.keras.layers.Dense.from_config(loaded.layers[0].get_config())
    fresh.build((None, 3))
    np.testing.assert_array_equal(fresh.kernel.numpy(), kernel)


def test_constant_from_config_decodes_a_serialized_array():
    config = {"value": {"class_name": "__numpy__",
                        "config": {"value": [[1.0, 2.0]], "dtype": "float64"}}}
    values = tf.keras.initializers.Constant.from_config(config)((1, 2), "float64").numpy()
    assert values.tolist() == [[1.0, 2.0]] and values.dtype == "float64"
