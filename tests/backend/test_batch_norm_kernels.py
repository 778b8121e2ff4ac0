"""The blocked batch-norm kernels (backend/numpy/batch_norm.py) against plain NumPy formulas,
at shapes that exercise their layout: several blocks with a partial last one, row counts
that allow no widening (odd), channels wider than the widened inner loop, one row, none."""

import numpy as np
import pytest

from numpyflow.backend.numpy import batch_norm

SHAPES = [(1, 3), (7, 5), (64 * 9 * 9, 16), (4096 + 3, 32), (256, 2048), (2 * 5 * 5, 64)]


def arrays(rows, channels, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, channels)) * 3. + 5.).astype(dtype)
    dy = rng.standard_normal((rows, channels)).astype(dtype)
    factors = [rng.standard_normal(channels).astype(dtype) for _ in range(3)]
    return x, dy, factors


def tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_kernels_match_numpy(shape, dtype):
    x, dy, (a, b, c) = arrays(*shape, dtype)
    wide = x.astype(np.float64)
    moments = batch_norm.moments(x)
    assert moments.dtype == dtype and moments.shape == (2, shape[1])
    np.testing.assert_allclose(moments, [wide.mean(0), wide.var(0)], **tolerance(dtype))

    out = batch_norm.scale_and_shift(x, a, b)
    np.testing.assert_allclose(out, wide * a + b, **tolerance(dtype))

    mean = moments[0]
    sums = batch_norm.gradient_sums(dy, x, mean)
    expected = [dy.astype(np.float64).sum(0), (dy * (wide - mean)).sum(0)]
    np.testing.assert_allclose(sums, expected, rtol=tolerance(dtype)["rtol"],
                               atol=tolerance(dtype)["atol"] * shape[0])

    out = batch_norm.input_gradient(dy, x, a, b, c)
    np.testing.assert_allclose(out, dy * a + wide * b + c, **tolerance(dtype))
    assert out.dtype == dtype


def test_variance_of_values_far_from_zero_is_exact_enough():
    # Two-pass (centered) squares: E[x^2] - E[x]^2 would lose every digit here in float32.
    rng = np.random.default_rng(1)
    x = (1000. + rng.standard_normal((5000, 8))).astype(np.float32)
    variance = batch_norm.moments(x)[1]
    np.testing.assert_allclose(variance, x.astype(np.float64).var(0), rtol=1e-3)


def test_no_rows():
    empty = np.zeros((0, 4), np.float32)
    assert np.isnan(batch_norm.moments(empty)).all()
    assert batch_norm.scale_and_shift(empty, np.ones(4), np.ones(4)).shape == (0, 4)
    np.testing.assert_array_equal(batch_norm.gradient_sums(empty, empty, np.zeros(4)), 0.)
    assert batch_norm.input_gradient(empty, empty, *np.ones((3, 4))).shape == (0, 4)
