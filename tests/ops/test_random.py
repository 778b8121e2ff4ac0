"""tf.random: TF's seeding semantics, dtypes, shapes and distribution sanity."""

import numpy as np
import pytest

import numpyflow as tf

SAMPLERS = {
    "normal": lambda **kw: tf.random.normal([64], **kw),
    "uniform": lambda **kw: tf.random.uniform([64], **kw),
    "uniform_int": lambda **kw: tf.random.uniform([64], maxval=1000, dtype=tf.int32, **kw),
    "truncated_normal": lambda **kw: tf.random.truncated_normal([64], **kw),
    "shuffle": lambda **kw: tf.random.shuffle(tf.range(64), **kw),
}


@pytest.fixture(autouse=True)
def _unseeded_afterwards():
    yield
    tf.random.set_seed(None)


@pytest.mark.parametrize("sample", SAMPLERS.values(), ids=SAMPLERS.keys())
def test_set_seed_makes_the_sequence_reproducible(sample):
    tf.random.set_seed(5)
    first = [sample().numpy(), sample().numpy()]
    tf.random.set_seed(5)
    again = [sample().numpy(), sample().numpy()]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[0], first[1]), "successive calls must differ"


@pytest.mark.parametrize("sample", SAMPLERS.values(), ids=SAMPLERS.keys())
def test_op_seed_streams(sample):
    tf.random.set_seed(5)
    a1, a2 = sample(seed=3).numpy(), sample(seed=3).numpy()
    assert not np.array_equal(a1, a2), "an op-seeded op still differs call to call"
    tf.random.set_seed(5)
    tf.random.normal([10])                       # unseeded draws do not disturb the stream
    b1 = sample(seed=3).numpy()
    other_op_seed = sample(seed=4).numpy()
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, other_op_seed)
    tf.random.set_seed(6)
    assert not np.array_equal(a1, sample(seed=3).numpy()), "the global seed matters too"


def test_op_seed_without_global_seed_is_reproducible():
    tf.random.set_seed(None)
    a = tf.random.normal([8], seed=11).numpy()
    tf.random.set_seed(None)  # Like a fresh program: op streams restart.
    np.testing.assert_array_equal(a, tf.random.normal([8], seed=11).numpy())


def test_unseeded_draws_differ():
    tf.random.set_seed(None)
    assert not np.array_equal(tf.random.normal([8]).numpy(), tf.random.normal([8]).numpy())


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_float_dtypes(dtype):
    for sample in (tf.random.normal, tf.random.uniform, tf.random.truncated_normal):
        assert sample([3, 2], dtype=dtype, seed=1).dtype == dtype
    assert tf.random.normal([2]).dtype == tf.float32
    assert tf.random.uniform([2]).dtype == tf.float32


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_int_uniform(dtype):
    values = tf.random.uniform([5000], minval=-3, maxval=4, dtype=dtype, seed=1)
    assert values.dtype == dtype
    assert sorted(set(values.numpy().tolist())) == list(range(-3, 4))


def test_int_uniform_errors():
    with pytest.raises(ValueError, match="maxval"):
        tf.random.uniform([2], dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval: 5 >= 5"):
        tf.random.uniform([2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(ValueError, match="dtype"):
        tf.random.uniform([2], dtype=tf.bool)
    with pytest.raises(ValueError, match="floating"):
        tf.random.normal([2], dtype=tf.int32)


@pytest.mark.parametrize("shape, expected", [([2, 3], (2, 3)), ((4,), (4,)), (5, (5,)),
                                             ([], ()), (tf.constant([2, 1]), (2, 1))])
def test_shapes(shape, expected):
    for sample in (tf.random.normal, tf.random.uniform, tf.random.truncated_normal):
        assert sample(shape).shape == expected


def test_uniform_bounds():
    values = tf.random.uniform([20000], minval=-2.0, maxval=3.0, seed=1).numpy()
    assert values.min() >= -2.0 and values.max() < 3.0
    assert abs(values.mean() - 0.5) < 0.05
    half = tf.random.uniform([200000], dtype=tf.float16, seed=2).numpy()
    assert half.min() >= 0 and half.max() < 1, "float16 draws must stay below maxval"


def test_normal_mean_and_stddev():
    values = tf.random.normal([200000], mean=3.0, stddev=2.0, seed=1).numpy()
    assert abs(values.mean() - 3.0) < 0.03
    assert abs(values.std() - 2.0) < 0.03


def test_truncated_normal_range_and_spread():
    values = tf.random.truncated_normal([200000], mean=1.0, stddev=0.5, seed=1).numpy()
    assert np.abs(values - 1.0).max() <= 2 * 0.5
    assert abs(values.mean() - 1.0) < 0.01
    # A standard normal truncated at +-2 has standard deviation ~0.8796.
    assert abs(values.std() - 0.8796 * 0.5) < 0.01


def test_shuffle_permutes_the_first_dimension():
    rows = np.arange(20).reshape(10, 2)
    shuffled = tf.random.shuffle(rows, seed=1).numpy()
    assert sorted(map(tuple, shuffled)) == sorted(map(tuple, rows))
    assert all(r[1] == r[0] + 1 for r in shuffled), "rows move whole"
    with pytest.raises(ValueError):
        tf.random.shuffle(tf.constant(1.0))


def test_dropout_mask_is_reproducible_and_scaled():
    x = tf.ones([1000])
    tf.random.set_seed(3)
    a = tf.nn.dropout(x, 0.3).numpy()
    tf.random.set_seed(3)
    b = tf.nn.dropout(x, 0.3).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a).tolist()) == {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.06
    assert not np.array_equal(a, tf.nn.dropout(x, 0.3).numpy())
