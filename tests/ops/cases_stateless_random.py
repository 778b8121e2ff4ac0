"""Op cases for numpyflow.ops.stateless_random_ops: the Philox stream against reference
values computed directly from `philox` words; functions of the seed, no gradient. (TF's
own numbers are checked in test_stateless_random.py.)"""

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
