"""The batch-norm kernels with their blocks shared out between the cores
(`batch_norm.SPLIT_FROM_BYTES`) give the same numbers, bit for bit, as on one thread, and
the same as with more or fewer cores."""

import numpy as np
import pytest

from numpyflow.backend import threads
from numpyflow.backend.numpy import batch_norm

# Several blocks each (256 KiB blocks); odd row counts (no widening, a partial last block),
# one channel, channels wider than a widened row, a large layer of the CIFAR CNN.
SHAPES = [(64 * 32 * 32, 32), (3 * 4099, 7), (20001, 1), (1025, 2048), (2 * 4096 + 2, 64)]


def run_all(x, dy, factors):
    a, b, c = factors
    moments = batch_norm.moments(x)
    return [moments, batch_norm.scale_and_shift(x, a, b),
            batch_norm.gradient_sums(dy, x, moments[0]),
            batch_norm.input_gradient(dy, x, a, b, c)]


def arrays(shape, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 2. + 3.).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    return x, dy, [rng.standard_normal(shape[1]).astype(dtype) for _ in range(3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_split_equals_whole(shape, dtype, monkeypatch):
    x, dy, factors = arrays(shape, dtype)
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", None)
    whole = run_all(x, dy, factors)
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", 1)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    split = run_all(x, dy, factors)
    monkeypatch.setattr(threads, "cores", lambda: 3)  # More parts than this machine's cores.
    monkeypatch.setattr(batch_norm, "PARTS_PER_CORE", 2)
    three = run_all(x, dy, factors)
    for name, one, two, more in zip(["moments", "scale_and_shift", "gradient_sums",
                                     "input_gradient"], whole, split, three):
        assert one.dtype == dtype, name
        np.testing.assert_array_equal(one, two, err_msg=name)
        np.testing.assert_array_equal(one, more, err_msg=name)
    # And the split results are right (the whole ones are checked against NumPy elsewhere).
    wide = x.astype(np.float64)
    np.testing.assert_allclose(split[0], [wide.mean(0), wide.var(0)],
                               rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_threshold_decides_the_split(monkeypatch):
    x = np.ones((64, 4), np.float32)
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", x.nbytes)
    assert batch_norm._splits(x)
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", x.nbytes + 1)
    assert not batch_norm._splits(x)
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", None)
    assert not batch_norm._splits(x)


def test_gradient_sums_match_numpy_in_runs(monkeypatch):
    # Summed in GRADIENT_SUM_RUNS runs: still the plain sums, up to rounding.
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", 1)
    x, dy, _ = arrays((5 * 4096 + 6, 16), np.float32)
    mean = x.mean(0)
    sums = batch_norm.gradient_sums(dy, x, mean)
    wide, wide_dy = x.astype(np.float64), dy.astype(np.float64)
    np.testing.assert_allclose(sums, [wide_dy.sum(0), (wide_dy * (wide - mean)).sum(0)],
                               rtol=1e-4, atol=1e-3)


def test_error_in_a_part_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(batch_norm, "SPLIT_FROM_BYTES", 1)
    monkeypatch.setattr(threads, "cores", lambda: 2)
    x = np.ones((4096 * 4, 8), np.float32)
    with pytest.raises(ValueError):
        batch_norm.input_gradient(x[:-8], x, np.ones(8, np.float32), np.ones(8, np.float32),
                                  np.ones(8, np.float32))
