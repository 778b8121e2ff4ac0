"""Op cases for numpyflow.ops.stateless_random_ops: the Philox stream against reference
values computed directly from `philox` words; functions of the seed, no gradient. (TF's
own numbers are checked in test_stateless_random.py.) The rejection samplers of
stateless_random_samplers.py are checked against TF's recorded values (their parameter
gradients are not finite differences of a fixed stream: test_stateless_samplers.py)."""

import json
import pathlib

import numpy as np

import numpyflow as tf
from numpyflow.ops import philox
from tests.ops.opcheck import case, rand


def reference(_):
    key, counter = philox.seed_to_key_counter(np.array([7, 9], np.int32))
    return philox.uint32_to_float(philox.philox_blocks(key, counter, 2).ravel()[:6])


def categorical_reference(logits):
    key, counter = philox.seed_to_key_counter(np.array([7, 9], np.int32))
    words = philox.philox_blocks(key, counter, 4).ravel().reshape(-1, 2)
    draws = philox.uint64_to_double(words[:, 0], words[:, 1]).reshape(2, 4)
    out = []
    for row, u in zip(logits, draws):
        cdf = np.cumsum(np.exp(row - row.max()))
        out.append(np.searchsorted(cdf, u * cdf[-1], side="right"))
    return np.array(out, np.int64)


CASES = [
    case("StatelessRandom", lambda _: tf.random.stateless_uniform([6], seed=[7, 9]), reference,
         rand(1), grad=False),
    case("StatelessMultinomial",
         lambda x: tf.random.stateless_categorical(x, 4, seed=[7, 9]), categorical_reference,
         rand(2, 5), grad=False),
]


_SAMPLERS = json.loads((pathlib.Path(__file__).parents[1] / "fixtures" / "stateless_random"
                        / "samplers_tf221.json").read_text())["entries"]


def _tf_values(fn, shape, seed=(1, 2), **match):
    entry = next(e for e in _SAMPLERS if e["fn"] == fn and e["kwargs"]["shape"] == shape
                 and e["seed"] == list(seed)
                 and all(e["kwargs"][k] == v for k, v in match.items()))
    return lambda *_: np.asarray(entry["values"], entry["dtype"]).reshape(shape)


CASES += [
    case("StatelessRandomGammaV3",
         lambda _: tf.random.stateless_gamma([3, 5], seed=[1, 2], alpha=2.5),
         _tf_values("stateless_gamma", [3, 5]), rand(1), grad=False),
    case("StatelessRandomPoisson",
         lambda _: tf.random.stateless_poisson([8], seed=[1, 2], lam=25.0),
         _tf_values("stateless_poisson", [8], lam=[25.0, "float32"]), rand(1), grad=False),
    case("StatelessRandomBinomial",
         lambda _: tf.random.stateless_binomial([6], seed=[1, 2], counts=tf.constant(
             50.0, tf.float64), probs=tf.constant(0.6, tf.float64), output_dtype=tf.int64),
         _tf_values("stateless_binomial", [6]), rand(1), grad=False),
    case("StatelessParameterizedTruncatedNormal",
         lambda _: tf.random.stateless_parameterized_truncated_normal(
             [6], seed=[1, 2], means=tf.constant(0.0, tf.float64),
             stddevs=tf.constant(1.0, tf.float64), minvals=tf.constant(3.0, tf.float64),
             maxvals=tf.constant(100.0, tf.float64)),
         _tf_values("stateless_parameterized_truncated_normal", [6]), rand(1), grad=False),
]
