"""DivNoNan of two scalars (a metric's result each step) gives NumPy's quotient bit for bit,
whatever path its forward takes, and 0 where the divisor is 0."""

import numpy as np
import pytest

from numpyflow.ops import math_ops


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_scalar_div_no_nan_is_numpys_quotient(dtype):
    rng = np.random.default_rng(0)
    info = np.finfo(dtype)
    exponents = rng.uniform(np.log2(float(info.smallest_subnormal)), np.log2(float(info.max)),
                            (2, 4000))
    values = (np.exp2(exponents) * rng.choice([-1.0, 1.0], exponents.shape)).astype(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.max, info.tiny], dtype)
    lefts = np.concatenate([values[0], np.repeat(special, len(special))])
    rights = np.concatenate([values[1], np.tile(special, len(special))])
    for left, right in zip(lefts, rights):
        with np.errstate(all="ignore"):  # As the op's quiet wrapper runs it.
            got = np.asarray(math_ops._div_no_nan_forward(np.array(left), np.array(right)))
            expected = np.divide(np.array(left), np.array(right)) if right != 0 else dtype(0)
        assert got.dtype == dtype and got.tobytes() == np.asarray(expected).tobytes(), \
            (left, right, got, expected)
