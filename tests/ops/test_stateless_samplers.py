"""`tf.random.stateless_gamma`, `stateless_poisson`, `stateless_binomial`,
`stateless_parameterized_truncated_normal` and `tf.random.experimental.stateless_split` /
`stateless_fold_in` against TF 2.21's own numbers (tests/fixtures/stateless_random/
samplers_tf221.json, written by tests/fixtures/make_stateless_samplers.py)."""

import json
import os

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.ops import philox, stateless_random_samplers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "tests", "fixtures", "stateless_random",
                       "samplers_tf221.json")) as _f:
    FIXTURE = json.load(_f)
SAMPLES = [e for e in FIXTURE["entries"] if e["fn"].startswith("stateless_")
           and e["fn"] not in ("stateless_split", "stateless_fold_in")
           and not e["fn"].endswith("_gradient")]
# TF splits large truncated-normal outputs across its thread pool (see the docstring).
SHARDED = {("stateless_parameterized_truncated_normal", 2000): 250}


def _argument(value):
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        return tf.constant(value[0], getattr(tf, value[1]))
    if isinstance(value, str):
        return getattr(tf, value)
    return value


def _id(entry):
    return f"{entry['fn']}-{entry['kwargs']['shape']}-{entry['seed']}-" \
           f"{entry['kwargs'].get('dtype', entry['kwargs'].get('output_dtype', ''))}"


@pytest.mark.parametrize("entry", SAMPLES, ids=[_id(e) for e in SAMPLES])
def test_samplers_give_tfs_numbers(entry):
    kwargs = {k: _argument(v) for k, v in entry["kwargs"].items()}
    size = int(np.prod(entry["shape"]))
    shard = SHARDED.get((entry["fn"], size))
    result = getattr(tf.random, entry["fn"])(seed=entry["seed"], **kwargs)
    assert result.dtype.name == entry["dtype"]
    assert result.shape.as_list() == entry["shape"]
    want = np.asarray(entry["values"], dtype=entry["dtype"])
    got = result.numpy().ravel()
    if shard is None:
        np.testing.assert_array_equal(got, want)
        return
    np.testing.assert_array_equal(got[:shard], want[:shard])  # TF's first shard
    replay = stateless_random_samplers.StatelessParameterizedTruncatedNormal(
        tf.constant(entry["seed"]), *[kwargs[k] for k in ("means", "stddevs", "minvals",
                                                          "maxvals")],
        shape=tuple(entry["shape"]), shard=shard)
    np.testing.assert_array_equal(replay.numpy().ravel(), want)  # all shards, as TF ran


@pytest.mark.parametrize("entry", [e for e in FIXTURE["entries"]
                                   if e["fn"] in ("stateless_split", "stateless_fold_in")],
                         ids=lambda e: f"{e['fn']}-{e['seed']}-{e['seed_dtype']}")
def test_split_and_fold_in_give_tfs_seeds(entry):
    seed = tf.constant(entry["seed"], getattr(tf, entry["seed_dtype"]))
    result = getattr(tf.random.experimental, entry["fn"])(seed, *entry["kwargs"].values())
    assert result.dtype.name == entry["dtype"]
    assert result.numpy().ravel().tolist() == entry["values"]


def test_parameterized_truncated_normal_gradient_is_tfs():
    entry = next(e for e in FIXTURE["entries"]
                 if e["fn"] == "stateless_parameterized_truncated_normal_gradient")
    params = [tf.constant(np.float32(p)) for p in entry["params"]]
    with tf.GradientTape() as tape:
        for p in params:
            tape.watch(p)
        sample = tf.random.stateless_parameterized_truncated_normal(entry["shape"],
                                                                    entry["seed"], *params)
        loss = tf.reduce_sum(sample * tf.constant(entry["weights"]))
    np.testing.assert_array_equal(sample.numpy(), np.float32(entry["sample"]))
    for got, want in zip(tape.gradient(loss, params), entry["gradients"]):
        np.testing.assert_allclose(got.numpy(), want, rtol=2e-6)


def test_gamma_gradient_is_tfs():
    entry = next(e for e in FIXTURE["entries"] if e["fn"] == "stateless_gamma_gradient")
    alpha, beta = tf.constant(np.float32(entry["alpha"])), tf.constant(np.float32(entry["beta"]))
    with tf.GradientTape() as tape:
        tape.watch(alpha)
        tape.watch(beta)
        sample = tf.random.stateless_gamma(entry["shape"], entry["seed"], alpha=alpha, beta=beta)
        loss = tf.reduce_sum(sample * tf.constant(entry["weights"]))
    np.testing.assert_array_equal(sample.numpy(), np.float32(entry["sample"]))
    for got, want in zip(tape.gradient(loss, [alpha, beta]), entry["gradients"]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_samplers_are_pure_functions_of_the_seed():
    for fn, kwargs in ((tf.random.stateless_gamma, {"alpha": 3.0}),
                       (tf.random.stateless_poisson, {"lam": 4.0}),
                       (tf.random.stateless_binomial, {"counts": 20.0, "probs": 0.3}),
                       (tf.random.stateless_parameterized_truncated_normal, {})):
        a = fn([50], seed=[3, 4], **kwargs).numpy()
        b = fn([50], seed=[3, 4], **kwargs).numpy()
        c = fn([50], seed=[3, 5], **kwargs).numpy()
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_sampler_statistics():
    # Beyond the fixture: means and variances of large samples (exact-number checks above).
    gamma = tf.random.stateless_gamma([10000, 2], [1, 2], alpha=[0.5, 3.0], beta=2.0)
    np.testing.assert_allclose(gamma.numpy().mean(axis=0), [0.25, 1.5], rtol=0.05)
    poisson = tf.random.stateless_poisson([20000], [1, 2], lam=40.0, dtype=tf.float32).numpy()
    assert abs(poisson.mean() - 40) < 0.4 and abs(poisson.var() - 40) < 2.5
    binomial = tf.random.stateless_binomial([20000], [1, 2], 30.0, 0.7).numpy()
    assert abs(binomial.mean() - 21) < 0.1 and binomial.min() >= 0 and binomial.max() <= 30
    ptn = tf.random.stateless_parameterized_truncated_normal([20000], [1, 2], 1.0, 2.0,
                                                             0.0, 3.0).numpy()
    assert ptn.min() >= 0.0 and ptn.max() <= 3.0


def test_bad_parameters_are_tfs_errors():
    with pytest.raises(InvalidArgumentError, match="must end with broadcasted shape"):
        tf.random.stateless_gamma([3], [1, 2], alpha=[1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="Invalid parameters"):
        tf.random.stateless_parameterized_truncated_normal([3], [1, 2], 0.0, 1.0, 2.0, 1.0)
    with pytest.raises(NotImplementedError, match="ThreeFry"):
        tf.random.stateless_normal([2], [1, 2], alg=tf.random.Algorithm.THREEFRY)
    with pytest.raises(ValueError, match="unsupported value foo"):
        tf.random.stateless_uniform([2], [1, 2], alg="foo")
    assert tf.random.experimental.Algorithm is tf.random.Algorithm


with open(os.path.join(ROOT, "tests", "fixtures", "stateless_random",
                       "stateless_random_tf221.json")) as _f:
    _EARLIER = json.load(_f)["entries"]
_NORMALS = [e for e in _EARLIER if e["fn"] in ("stateless_normal", "stateless_truncated_normal")
    and e["kwargs"].get("dtype", "float32") == "float32"]


@pytest.mark.skipif(philox._libm() is None,
                    reason="float32 normals are bit-identical to TF's with glibc's logf/sincosf")
@pytest.mark.parametrize("entry", _NORMALS, ids=lambda e: f"{e['fn']}-{e['shape']}-{e['seed']}")
def test_float32_normals_are_bit_identical_with_glibc(entry):
    kwargs = {k: v for k, v in entry["kwargs"].items() if k != "dtype"}
    got = getattr(tf.random, entry["fn"])(entry["shape"], entry["seed"], **kwargs)
    np.testing.assert_array_equal(got.numpy().ravel(), np.float32(entry["values"]))


def test_docstring_examples_run():
    import doctest
    for module in (stateless_random_samplers, __import__(
            "numpyflow.ops.stateless_random_ops", fromlist=["_"])):
        result = doctest.testmod(module, extraglobs={"tf": tf}, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0


def test_gamma_of_zero_or_negative_alpha_and_poisson_of_infinite_lam_as_tf():
    # TF 2.21 prints [[1.1754944e-38, nan, 2.2619925], [1.1754944e-38, nan, 1.4950695]].
    out = tf.random.stateless_gamma([2, 3], seed=(1, 2), alpha=[0.0, -1.0, 2.0]).numpy()
    np.testing.assert_array_equal(out[:, 0], np.finfo(np.float32).tiny)
    assert np.isnan(out[:, 1]).all()
    np.testing.assert_allclose(out[:, 2], [2.2619925, 1.4950695], rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="lam must be finite"):
        tf.random.stateless_poisson([2], seed=(1, 2), lam=float("inf"))
