"""The fast paths of a compiled plan's calls: Python-float scalar updates (`plan._update`),
the signature key of a call (`function._call_key`)."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import function as function_module
from numpyflow.framework import plan as plan_module


class _Holder:
    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value


def _awkward_floats(dtype, count, rng):
    """Values of every magnitude the dtype holds: subnormals, huge ones, signed zeros,
    infinities and NaN, where rounding twice could show."""
    info = np.finfo(dtype)
    exponents = rng.uniform(np.log2(float(info.smallest_subnormal)), np.log2(float(info.max)),
                            count)
    values = (np.exp2(exponents) * rng.choice([-1.0, 1.0], count)).astype(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.max, -info.max,
                        info.smallest_subnormal, info.eps, 1.0], dtype)
    return np.concatenate([values, special])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("ufunc", [np.add, np.subtract])
def test_scalar_update_in_python_floats_gives_numpys_bits(dtype, ufunc, monkeypatch):
    python_form = plan_module._PYTHON_SCALAR_FORMS[ufunc]
    calls = []

    def counted(left, right):
        calls.append(1)
        return python_form(left, right)

    monkeypatch.setitem(plan_module._PYTHON_SCALAR_FORMS, ufunc, counted)
    rng = np.random.default_rng(0)
    lefts, rights = _awkward_floats(dtype, 3000, rng), _awkward_floats(dtype, 3000, rng)
    # Close magnitudes too, where the sum's last bit is decided by the rounding.
    rights[:1000] = (lefts[:1000] * (1 + rng.uniform(-1e-3, 1e-3, 1000))).astype(dtype)
    mismatches = []
    for left, right in zip(lefts, rights[rng.permutation(len(rights))]):
        holder = _Holder(np.array(left, dtype))
        with np.errstate(all="ignore"):
            plan_module._update(holder, ufunc, ufunc, np.asarray(right))
            expected = ufunc(np.array(left, dtype), np.array(right, dtype))
        got = holder._value
        if got.dtype != dtype or got.tobytes() != np.asarray(expected, dtype).tobytes():
            mismatches.append((left, right, got, expected))
    assert not mismatches, mismatches[:5]
    assert len(calls) == len(lefts)  # Every update took the Python-float path.


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64])
@pytest.mark.parametrize("ufunc", [np.add, np.subtract])
def test_integer_scalar_updates_give_numpys_values_and_wrap_as_numpy(dtype, ufunc):
    info = np.iinfo(dtype)
    values = np.array([info.min, info.max, 0, 1, info.max // 2, info.min // 2 + 1], dtype)
    for left in values:
        for right in values:
            counter = _Holder(np.array(left, dtype))
            with np.errstate(all="ignore"):
                plan_module._update(counter, ufunc, ufunc, np.asarray(right))
                expected = ufunc(np.array(left, dtype), np.array(right, dtype))
            assert counter._value.dtype == dtype and counter._value == expected, (left, right)


def test_scalar_update_of_mixed_dtypes_keeps_numpys_arithmetic():
    mixed = _Holder(np.array(1.0, np.float32))
    plan_module._update(mixed, np.add, np.add, np.asarray(1e-10))  # float64 operand.
    assert mixed._value.dtype == np.float32 and mixed._value == np.float32(1.0)


def test_compiled_metric_totals_equal_the_eager_ones():
    total, count = tf.Variable(0.0), tf.Variable(0.0)

    def step(x):
        total.assign_add(tf.reduce_sum(x))
        count.assign_add(tf.cast(tf.size(x), tf.float32))
        return total / count

    compiled = tf.function(step)
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal(7) * 10.0 ** rng.integers(-8, 8)).astype(np.float32)
               for _ in range(40)]
    results = [compiled(batch).numpy() for batch in batches]
    assert any("update(" in source for source in compiled.plan_sources())
    compiled_state = (total.numpy(), count.numpy())
    total.assign(0.0)
    count.assign(0.0)
    eager = [step(tf.constant(batch)).numpy() for batch in batches]
    np.testing.assert_array_equal(results, eager)
    assert (total.numpy(), count.numpy()) == compiled_state


def test_call_keys_of_positional_and_keyword_calls_differ():
    a, b = (np.ones(2, np.float32),), {"b": np.ones(2, np.float32)}
    # f(a, b) passes a tuple and a dict; f(*a, **b) their items: two signatures.
    assert function_module._call_key((a, b), {}, []) != function_module._call_key(a, b, [])
    arrays = []
    key = function_module._call_key(((np.zeros((3, 2)), np.zeros(3, np.int64)),), {}, arrays)
    assert key == function_module._call_key(((np.ones((3, 2)), np.ones(3, np.int64)),), {}, [])
    assert len(arrays) == 2
    assert key != function_module._call_key(((np.zeros((4, 2)), np.zeros(4, np.int64)),), {}, [])


def test_positional_and_keyword_calls_run_their_own_plans():
    @tf.function
    def f(x, y=None):
        return x * 2.0 if y is None else x + y

    x = np.ones(2, np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(f(x).numpy(), [2.0, 2.0])
        np.testing.assert_array_equal(f(x, y=x).numpy(), [2.0, 2.0])
        np.testing.assert_array_equal(f(x=x).numpy(), [2.0, 2.0])
        np.testing.assert_array_equal(f(x, x * 3).numpy(), [4.0, 4.0])
    assert len(f.plan_sources()) == 4
