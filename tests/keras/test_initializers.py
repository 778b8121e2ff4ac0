"""Tests of keras.initializers: distributions, fans, seeding, lookup and configs."""

import math

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras import initializers


# -- distributions --------------------------------------------------------------------------

def test_zeros_ones_constant():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((2,)).numpy(), [1., 1.])
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)).numpy(), 2.5)
    assert initializers.Zeros()((2,), dtype="int32").dtype == tf.int32
    assert initializers.Ones()((2,)).dtype == tf.float32


def test_constant_broadcasts_array_value():
    np.testing.assert_array_equal(initializers.Constant([1., 2.])((3, 2)).numpy(),
                                  [[1., 2.]] * 3)
    with pytest.raises(ValueError, match="Constant"):
        initializers.Constant([1., 2., 3.])((3, 2))


def test_glorot_uniform_limit_and_variance():
    fan_in, fan_out = 300, 200
    limit = math.sqrt(6 / (fan_in + fan_out))
    values = initializers.GlorotUniform(seed=1)((fan_in, fan_out)).numpy()
    assert values.dtype == np.float32
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit
    assert values.var() == pytest.approx(limit ** 2 / 3, rel=0.03)


def test_he_normal_std_and_truncation():
    values = initializers.HeNormal(seed=2)((400, 300)).numpy()
    std = math.sqrt(2 / 400)
    assert values.std() == pytest.approx(std, rel=0.03)
    # Truncated at 2 stddevs of the underlying (wider) normal.
    assert np.abs(values).max() <= 2 * std / 0.87962566103423978 + 1e-6


@pytest.mark.parametrize("cls, expected_variance", [
    (initializers.GlorotNormal, 2 / (400 + 300)),
    (initializers.HeUniform, 2 / 400),
    (initializers.LecunNormal, 1 / 400),
    (initializers.LecunUniform, 1 / 400),
])
def test_variance_scaling_presets(cls, expected_variance):
    values = cls(seed=3)((400, 300)).numpy()
    assert values.var() == pytest.approx(expected_variance, rel=0.04)
    assert abs(values.mean()) < 0.05 * math.sqrt(expected_variance)


def test_random_normal_uniform_truncated():
    normal = initializers.RandomNormal(mean=1., stddev=2., seed=4)((200, 200)).numpy()
    assert normal.mean() == pytest.approx(1., abs=0.05)
    assert normal.std() == pytest.approx(2., rel=0.02)
    uniform = initializers.RandomUniform(-3., 1., seed=4)((200, 200)).numpy()
    assert uniform.min() >= -3. and uniform.max() < 1.
    assert uniform.mean() == pytest.approx(-1., abs=0.05)
    truncated = initializers.TruncatedNormal(stddev=1., seed=4)((200, 200)).numpy()
    assert np.abs(truncated).max() <= 2.


def test_untruncated_variance_scaling():
    init = initializers.VarianceScaling(scale=3., mode="fan_out",
                                        distribution="untruncated_normal", seed=5)
    values = init((100, 400)).numpy()
    assert values.std() == pytest.approx(math.sqrt(3 / 400), rel=0.03)


def test_conv_kernel_fans_use_receptive_field():
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((5, 7)) == (5, 7)
    assert initializers.compute_fans((4,)) == (4, 4)
    assert initializers.compute_fans(()) == (1, 1)
    values = initializers.GlorotUniform(seed=0)((3, 3, 16, 32)).numpy()
    assert np.abs(values).max() <= math.sqrt(6 / (144 + 288))


def test_orthogonal_and_identity():
    q = initializers.Orthogonal(seed=1)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    q = initializers.Orthogonal(gain=2.)((3, 5)).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-4)
    np.testing.assert_array_equal(initializers.Identity(3.)((2, 3)).numpy(),
                                  3 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


def test_float64_dtype_and_int_dtype_rejected_for_random():
    assert initializers.GlorotUniform()((2, 2), dtype="float64").dtype == tf.float64
    with pytest.raises(ValueError, match="int32"):
        initializers.GlorotUniform()((2, 2), dtype="int32")


# -- seeding --------------------------------------------------------------------------------

def test_seeded_initializer_repeats():
    a = initializers.GlorotUniform(seed=7)((5, 5)).numpy()
    init = initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(init((5, 5)).numpy(), a)
    np.testing.assert_array_equal(init((5, 5)).numpy(), a)  # Stateless: same every call.
    assert not np.array_equal(initializers.GlorotUniform(seed=8)((5, 5)).numpy(), a)


def test_unseeded_follows_global_seed():
    tf.random.set_seed(11)
    a = [initializers.HeNormal()((4, 4)).numpy() for _ in range(2)]
    tf.random.set_seed(11)
    b = [initializers.HeNormal()((4, 4)).numpy() for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])


def test_dense_init_is_reproducible_with_set_seed():
    def kernel():
        layer = tf.keras.layers.Dense(3)
        layer(np.zeros((1, 4), np.float32))
        return layer.kernel.numpy()
    tf.random.set_seed(0)
    first = kernel()
    tf.random.set_seed(0)
    np.testing.assert_array_equal(kernel(), first)


# -- lookup and configs -------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("zeros", initializers.Zeros),
    ("he_normal", initializers.HeNormal), ("GlorotNormal", initializers.GlorotNormal),
    ("random_normal", initializers.RandomNormal), ("uniform", initializers.RandomUniform),
    ("orthogonal", initializers.Orthogonal), ("variance_scaling", initializers.VarianceScaling),
])
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_other_identifiers():
    assert initializers.get(None) is None
    init = initializers.RandomNormal(stddev=3.)
    assert initializers.get(init) is init
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    fn = lambda shape, dtype=None: tf.zeros(shape)  # noqa: E731
    assert initializers.get(fn) is fn
    restored = initializers.get({"class_name": "RandomNormal",
                                 "config": {"mean": 0., "stddev": 3., "seed": None}})
    assert restored.stddev == 3.


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown initializer: 'glorot'.*'glorot_uniform'"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get(3)


@pytest.mark.parametrize("init", [
    initializers.Zeros(), initializers.Constant(1.5), initializers.RandomUniform(-1., 2., 3),
    initializers.TruncatedNormal(0.5, 0.1, 2), initializers.GlorotUniform(seed=4),
    initializers.HeUniform(), initializers.VarianceScaling(2., "fan_avg", "uniform", 9),
    initializers.Orthogonal(0.5, 1), initializers.Identity(2.),
])
def test_serialize_round_trip(init):
    config = initializers.serialize(init)
    restored = initializers.deserialize(config)
    assert type(restored) is type(init)
    assert restored.get_config() == init.get_config()


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"
