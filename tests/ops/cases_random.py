"""Op cases for numpyflow.ops.random_ops: each sampler against NumPy's generator for the
same (global seed, op seed) stream. Random ops have no gradient; their float64 input is
only there for the no-gradient check."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, rand

GLOBAL_SEED, OP_SEED = 1234, 7


def seeded(sample):
    def run(*_):
        tf.random.set_seed(GLOBAL_SEED)
        return sample()
    return run


def seeded_shuffle(x):
    tf.random.set_seed(GLOBAL_SEED)
    return tf.random.shuffle(x, seed=OP_SEED)


def stream():
    return np.random.default_rng((GLOBAL_SEED, OP_SEED))


def np_truncated_normal(shape):
    rng = stream()
    values = rng.standard_normal(shape, dtype=np.float32)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()), dtype=np.float32)
        outside = np.abs(values) > 2
    return values * np.float32(0.5) + np.float32(1.)


CASES = [
    case("RandomStandardNormal",
         seeded(lambda: tf.random.normal([3, 4], mean=1., stddev=2., seed=OP_SEED)),
         lambda _: stream().standard_normal((3, 4), dtype=np.float32) * np.float32(2.)
         + np.float32(1.), rand(1), grad=False),
    case("RandomUniform",
         seeded(lambda: tf.random.uniform([5], minval=-1., maxval=3., seed=OP_SEED)),
         lambda _: stream().random(5, dtype=np.float32) * np.float32(4.) - np.float32(1.),
         rand(1), grad=False),
    case("RandomUniformInt",
         seeded(lambda: tf.random.uniform([6], 2, 9, dtype=tf.int32, seed=OP_SEED)),
         lambda _: stream().integers(2, 9, size=6).astype(np.int32), rand(1), grad=False),
    case("TruncatedNormal",
         seeded(lambda: tf.random.truncated_normal([50], mean=1., stddev=.5, seed=OP_SEED)),
         lambda _: np_truncated_normal(50), rand(1), grad=False),
    case("RandomShuffle", seeded_shuffle, lambda x: x[stream().permutation(len(x))],
         rand(6, 2), grad=False),
]
