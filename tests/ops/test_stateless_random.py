"""`tf.random.stateless_*` against TF 2.21's own numbers (fixture written by
`tests/fixtures/make_stateless_random.py`), plus Philox-4x32-10's published test vectors."""

import json
import pathlib

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.ops import philox

_FIXTURE = (pathlib.Path(__file__).parents[1] / "fixtures" / "stateless_random"
            / "stateless_random_tf221.json")
ENTRIES = json.loads(_FIXTURE.read_text())["entries"]


def _id(entry):
    return f"{entry['fn']}-{entry['shape']}-{entry['seed']}-{entry['kwargs']}"


def _run(entry):
    return getattr(tf.random, entry["fn"])(entry["shape"], entry["seed"], **entry["kwargs"])


def test_philox_known_answers():
    """Random123's known-answer vectors for Philox-4x32-10."""
    zero = philox._rounds(np.zeros((1, 4), np.uint32), np.zeros(2, np.uint32))[0]
    assert [hex(w) for w in zero] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]
    ones = philox._rounds(np.full((1, 4), 0xFFFFFFFF, np.uint32),
                          np.full(2, 0xFFFFFFFF, np.uint32))[0]
    assert [hex(w) for w in ones] == ["0x408f276d", "0x41c83b0e", "0xa20bc7c6", "0x6d5451fd"]


def test_counter_carries_into_high_words():
    counter = np.array([0xFFFFFFFF, 0xFFFFFFFF, 7, 0], np.uint32)
    assert philox._add_counter(counter, [1]).tolist() == [[0, 0, 8, 0]]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["fn"] == "stateless_uniform"],
                         ids=_id)
def test_uniform_equals_tf_exactly(entry):
    got = _run(entry)
    assert got.shape.as_list() == entry["shape"]
    values = got.numpy().ravel()
    if values.dtype.kind in "iu":
        expected = np.array(entry["values"], dtype=values.dtype)  # exact big ints
    else:
        expected = np.asarray(entry["values"]).astype(values.dtype)
    np.testing.assert_array_equal(values, expected)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["fn"] != "stateless_uniform"],
                         ids=_id)
def test_normals_equal_tf_within_two_ulp(entry):
    """Box-Muller's log/sin/cos may round differently from TF's libm by an ulp."""
    got = _run(entry)
    assert got.shape.as_list() == entry["shape"]
    values = got.numpy().ravel()
    expected = np.asarray(entry["values"]).astype(values.dtype)
    ulp = np.spacing(np.abs(expected)).astype(np.float64)
    scale = max(1.0, abs(entry["kwargs"].get("stddev", 1.0)) + abs(entry["kwargs"].get("mean", 0.)))
    assert np.all(np.abs(values.astype(np.float64) - expected) <= 2 * scale * ulp + 1e-30)
    assert np.mean(values == expected) > 0.9  # Most values are bit-identical.


def test_truncated_normal_stays_within_two_stddevs():
    values = tf.random.stateless_truncated_normal([5000], seed=[3, 4]).numpy()
    assert np.abs(values).max() < 2.0
    assert 0.7 < values.std() < 0.9  # A standard normal truncated at 2 has std 0.88.


def test_same_seed_same_values_and_seed_matters():
    a = tf.random.stateless_normal([4], seed=[5, 6]).numpy()
    np.testing.assert_array_equal(a, tf.random.stateless_normal([4], seed=[5, 6]).numpy())
    assert not np.array_equal(a, tf.random.stateless_normal([4], seed=[6, 5]).numpy())


def test_seed_as_tensor_and_inside_function():
    seed = tf.constant([1, 2])

    @tf.function
    def draw(s):
        return tf.random.stateless_uniform([3], seed=s)

    expected = np.array([0.8440604209899902, 0.19204533100128174, 0.9962232112884521], np.float32)
    np.testing.assert_array_equal(draw(seed).numpy(), expected)
    np.testing.assert_array_equal(tf.random.stateless_uniform([3], seed).numpy(), expected)
    assert not np.array_equal(draw(tf.constant([2, 1])).numpy(), expected)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="seed.*shape \\[2\\].*\\[3\\]"):
        tf.random.stateless_uniform([2], seed=[1, 2, 3])
    with pytest.raises(TypeError, match="seed.*int32 or int64"):
        tf.random.stateless_uniform([2], seed=[1.0, 2.0])
    with pytest.raises(ValueError, match="minval.*maxval"):
        tf.random.stateless_uniform([2], seed=[1, 2], minval=None, maxval=5, dtype=tf.int32)
    with pytest.raises(ValueError, match="minval < maxval"):
        tf.random.stateless_uniform([2], seed=[1, 2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(ValueError, match="dtype.*int32"):
        tf.random.stateless_normal([2], seed=[1, 2], dtype=tf.int32)
    with pytest.raises(NotImplementedError, match="threefry"):
        tf.random.stateless_uniform([2], seed=[1, 2], alg="threefry")


_IMAGES = json.loads(_FIXTURE.read_text())["images"]


@pytest.mark.parametrize("call", _IMAGES["calls"],
                         ids=lambda c: f"{c['fn']}-rank{c['rank']}-{c['seed']}")
def test_image_stateless_ops_make_tfs_choices(call):
    """Flips, deltas, factors and crop offsets come from the same Philox draws as TF's."""
    batch = np.array(_IMAGES["batch"], np.float32)
    image = batch if call["rank"] == 4 else batch[0]
    got = getattr(tf.image, call["fn"])(image, seed=call["seed"], **call["kwargs"]).numpy()
    np.testing.assert_allclose(got, np.array(call["values"], np.float32), rtol=0, atol=2e-6)


@pytest.mark.parametrize("entry", json.loads(_FIXTURE.read_text())["categorical"],
                         ids=lambda e: f"{len(e['logits'])}x{len(e['logits'][0])}-"
                                       f"{e['num_samples']}-{e['seed']}")
def test_categorical_equals_tf(entry):
    logits = np.array(entry["logits"], np.float32)
    got = tf.random.stateless_categorical(logits, entry["num_samples"], entry["seed"])
    assert got.dtype == tf.int64
    np.testing.assert_array_equal(got.numpy(), np.array(entry["values"]))


def test_categorical_never_draws_impossible_classes():
    logits = tf.math.log([[0.0, 1.0, 0.0, 3.0]])
    values = tf.random.stateless_categorical(logits, 2000, seed=[4, 4], dtype=tf.int32).numpy()
    assert set(values.ravel().tolist()) == {1, 3}
    assert 0.7 < np.mean(values == 3) < 0.8


def test_categorical_bad_arguments():
    with pytest.raises(ValueError, match="logits.*2-D.*\\[3\\]"):
        tf.random.stateless_categorical([1.0, 2.0, 3.0], 2, seed=[1, 2])
    with pytest.raises(ValueError, match="dtype.*int32 or int64.*float32"):
        tf.random.stateless_categorical([[1.0, 2.0]], 2, seed=[1, 2], dtype=tf.float32)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_truncated_normal_redraw_path_gives_the_same_values(monkeypatch, dtype):
    """With one Philox block per first try, many groups take the longer second pass."""
    from numpyflow.ops import stateless_random_ops
    expected = tf.random.stateless_truncated_normal([400], seed=[8, 1], dtype=dtype).numpy()
    monkeypatch.setattr(stateless_random_ops, "_FIRST_DRAWS", 1)
    got = tf.random.stateless_truncated_normal([400], seed=[8, 1], dtype=dtype).numpy()
    np.testing.assert_array_equal(got, expected)
