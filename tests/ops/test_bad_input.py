"""Bad input to ops and conversions gets TF 2.21's error (type and message), or TF's silence.

Each expected message below was observed in TensorFlow 2.21 (`.venv-bench`); where TF
accepts an input (an int that does not fit the requested dtype wraps), numpyflow does too.
"""

import warnings

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import trace_state
from numpyflow.framework.primitive import registered_primitives
from numpyflow.backend import quiet as _quiet
from tests.ops.test_ops import ALL_CASES

# -- NumPy's floating-point RuntimeWarnings: TF computes inf/NaN silently -------------------

# Raw NumPy ufuncs kept for speed (see numpyflow/backend/quiet.py): they warn only when a
# result overflows or an input is already inf/NaN. Variable updates live in framework/.
LOUD_ON_OVERFLOW = {"AddV2", "Sub", "Mul", "BiasAdd", "Square",
                    "AssignAddVariableOp", "AssignSubVariableOp"}


class _CallRecorder:
    """Stands in for a trace: collects each primitive call's (primitive, arrays, attrs)."""

    def __init__(self):
        self.calls = []

    def record_op(self, primitive, inputs, attrs, output, saved, was_array):
        self.calls.append((primitive, [x._value for x in inputs], attrs))

    def record_value_read(self, tensor, how):
        pass

    def record_assign(self, variable, new_value):
        pass


def _primitive_calls():
    """One recorded call of every primitive the op cases run, keyed by (name, dtypes)."""
    recorder = _CallRecorder()
    trace_state.current = recorder
    try:
        for op_case in ALL_CASES:
            op_case.fn(*[tf.constant(a) for a in op_case.inputs])
    finally:
        trace_state.current = None
    calls = {}
    for primitive, arrays, attrs in recorder.calls:
        key = (primitive.name, tuple(a.dtype.str for a in arrays), repr(sorted(attrs)))
        calls.setdefault(key, (primitive, arrays, attrs))
    return list(calls.values())


def _extremes(array):
    """`array` (same shape and dtype) refilled with values that make NumPy warn, each way."""
    if array.dtype.kind in "iu":
        info = np.iinfo(array.dtype)
        mixed = [0, info.min, info.max, 1] + ([-1] if array.dtype.kind == "i" else [])
        fills = [[0], [info.min], [info.max], mixed]
    elif array.dtype.kind == "f":
        info = np.finfo(array.dtype)
        mixed = [0., -0., 1., -1., np.inf, -np.inf, np.nan, info.max, -info.max, info.tiny / 4,
                 -2.]
        fills = [np.roll(mixed, shift) for shift in range(3)]
        fills += [[0.], [info.max], [-1.], [np.inf], [np.nan], [-info.max]]
    else:
        return []
    return [np.resize(np.asarray(fill, array.dtype), array.shape) for fill in fills]


_PROBED = [call for call in _primitive_calls() if call[0].name not in LOUD_ON_OVERFLOW
           and any(_extremes(a) for a in call[1])]


@pytest.mark.parametrize("call", _PROBED, ids=[f"{c[0].name}-{i}" for i, c in enumerate(_PROBED)])
def test_forward_is_silent_on_extreme_values(call):
    primitive, arrays, attrs = call
    numeric = [i for i, a in enumerate(arrays) if _extremes(a)]
    for replaced in [[i] for i in numeric] + [numeric]:
        variants = {i: _extremes(arrays[i]) for i in replaced}
        for v in range(max(len(found) for found in variants.values())):
            trial = [variants[i][v % len(variants[i])] if i in variants else a
                     for i, a in enumerate(arrays)]
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    primitive.forward(*trial, **attrs)
                except RuntimeWarning as warning:
                    pytest.fail(f"{primitive.name} warned on inputs {trial}: {warning}")
                except Exception:  # noqa: BLE001 - rejecting such values is fine; warning is not
                    pass


def test_every_primitive_is_probed_or_listed():
    probed = {c[0].name for c in _primitive_calls()}
    missing = set(registered_primitives()) - probed - LOUD_ON_OVERFLOW
    assert not missing, f"primitives no op case runs, so never probed: {sorted(missing)}"


@pytest.mark.parametrize("expression, expected", [
    (lambda: tf.math.log(tf.constant([0., -1.])), [-np.inf, np.nan]),
    (lambda: tf.exp(tf.constant([1000.])), [np.inf]),
    (lambda: tf.constant([0., 1.]) / tf.constant([0., 0.]), [np.nan, np.inf]),
    (lambda: tf.sqrt(tf.constant([-1.])), [np.nan]),
    (lambda: tf.math.rsqrt(tf.constant([0.])), [np.inf]),
    (lambda: tf.pow(tf.constant([0.]), -1.), [np.inf]),
    (lambda: tf.math.log1p(tf.constant([-1.])), [-np.inf]),
    (lambda: tf.constant([1.]) // tf.constant([0.]), [np.inf]),
    (lambda: tf.constant([1]) / tf.constant([0]), [np.inf]),
    (lambda: tf.constant(1e300, dtype=tf.float32), np.inf),
    (lambda: tf.constant(1e300), np.inf),
    (lambda: tf.cast(tf.constant([1e300], tf.float64), tf.float32), [np.inf]),
    (lambda: tf.nn.softmax(tf.constant([[np.inf, 1.]])), [[np.nan, np.nan]]),
    (lambda: tf.reduce_sum(tf.constant([3e38, 3e38])), np.inf),
    (lambda: tf.constant([2.], tf.float16) / 1e5, [0.]),  # 1e5 is inf in float16.
    (lambda: tf.constant([1.]) - 1e300, [-np.inf]),
])
def test_eager_ops_compute_inf_and_nan_silently(expression, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = expression()
    np.testing.assert_array_equal(result.numpy(), np.asarray(expected, np.float32)
                                  if result.dtype == tf.float32 else expected)


def test_compiled_plan_is_silent():
    @tf.function
    def f(x, y):
        return tf.math.log(x), tf.exp(y) / x

    x, y = tf.constant([0., 1.]), tf.constant([1000., 0.])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):  # Traces twice, then runs the plan.
            logs, ratios = f(x, y)
    assert f.plan_sources(), "the function should run as a compiled plan"
    np.testing.assert_array_equal(logs.numpy(), [-np.inf, 0.])
    np.testing.assert_array_equal(ratios.numpy(), [np.inf, 1.])


def test_quiet_leaves_numpy_error_state_alone():
    before = np.geterr()
    with np.errstate(divide="raise"):
        assert np.isneginf(_quiet.quiet(np.log)(np.zeros(1))).all()
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))
    assert np.geterr() == before


def test_silence_nests_and_restores_the_callers_state():
    with np.errstate(over="raise"):
        outer = _quiet.silence()
        inner = _quiet.silence()
        np.exp(np.array([1000.]))  # Silent.
        _quiet.restore(inner)
        np.exp(np.array([1000.]))
        _quiet.restore(outer)
        with pytest.raises(FloatingPointError):
            np.exp(np.array([1000.]))


# -- integer division by zero -----------------------------------------------------------------

@pytest.mark.parametrize("expression, op_name", [
    (lambda: tf.constant([5, 3]) // tf.constant([0, 1]), "FloorDiv"),
    (lambda: tf.math.floordiv(tf.constant(5), 0), "FloorDiv"),
    (lambda: tf.math.floordiv(tf.constant([5], tf.uint8), tf.constant([0], tf.uint8)), "FloorDiv"),
    (lambda: tf.math.floormod(tf.constant([5]), tf.constant([0])), "FloorMod"),
    (lambda: tf.constant([5], tf.int64) % 0, "FloorMod"),
])
def test_integer_division_by_zero_raises(expression, op_name):
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"^Integer division by zero \[Op:{op_name}\]$"):
        expression()


def test_integer_division_by_zero_raises_in_a_plan():
    @tf.function
    def f(x, y):
        return x // y, x % y

    ones, twos = tf.constant([1, 1]), tf.constant([2, 2])
    for _ in range(3):  # Traces twice, then runs the plan.
        f(ones, twos)
    assert f.plan_sources()
    with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
        f(ones, tf.constant([2, 0]))


def test_float_floor_division_by_zero_is_inf_as_in_tf():
    result = tf.constant([5., -5., 0.]) // tf.constant([0., 0., 0.])
    np.testing.assert_array_equal(result.numpy(), [np.inf, -np.inf, np.nan])


# -- conversion ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [[[1, 2], [3]], [[[1.], [2.]], [[3.]]], [1, [2]]])
def test_ragged_list_gets_tf_message(value):
    with pytest.raises(ValueError,
                       match=r"^Can't convert non-rectangular Python sequence to Tensor\.$"):
        tf.constant(value)
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.convert_to_tensor(value, dtype=tf.float32)


@pytest.mark.parametrize("value", [2**63, -2**63 - 1, [1, 2**64]])
def test_python_int_beyond_int64_raises(value):
    with pytest.raises(ValueError, match=r"^Can't convert Python sequence with out-of-range "
                                         r"integer to Tensor\.$"):
        tf.constant(value)


def test_huge_int_among_floats_becomes_float_as_in_tf():
    result = tf.constant([1.5, 2**64])
    assert result.dtype == tf.float32
    np.testing.assert_array_equal(result.numpy(), np.float32([1.5, 2.**64]))


def test_none_raises_tf_message():
    with pytest.raises(ValueError, match=r"^Attempt to convert a value \(None\) with an "
                                         r"unsupported type \(<class 'NoneType'>\) to a Tensor\.$"):
        tf.constant([1., None])


def test_int_that_does_not_fit_wraps_as_tf_2_21():
    # Observed in TF 2.21: no error; the value wraps modulo 2**bits.
    assert tf.constant(2**40, dtype=tf.int32).numpy() == 0
    assert tf.constant(2**31, dtype=tf.int32).numpy() == -2**31
    np.testing.assert_array_equal(tf.constant([300], tf.int8).numpy(), [44])
    np.testing.assert_array_equal(tf.constant([-1], tf.uint8).numpy(), [255])
    assert tf.constant(2**40).dtype == tf.int64  # Without a dtype, int64 holds it.


# -- shapes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [tf.zeros, tf.ones])
def test_zeros_with_float_dimension_raises_tf_type_error(make):
    with pytest.raises(TypeError, match=r"^Cannot convert \(2\.5, 3\) to EagerTensor of dtype "
                                        r"int32$"):
        make((2.5, 3))


def test_zeros_with_negative_dimension_raises():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Dimension -1 must be >= 0 \[Op:Fill\]$"):
        tf.zeros((-1, 3))


def test_fill_with_float_dimension_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"attr 'index_type' of float"):
        tf.fill((2.5, 3), 1.)


def test_zeros_takes_shapes_of_every_integer_kind():
    x = tf.zeros((2, 3))
    assert tf.zeros(x.shape).shape == (2, 3)
    assert tf.zeros(np.array([2, 3])).shape == (2, 3)
    assert tf.ones(tf.constant([2, 1])).shape == (2, 1)
    assert tf.zeros(np.int64(4)).shape == (4,)


@pytest.mark.parametrize("shape, message", [
    ((-2, 3), r"^Size 0 must be non-negative, not -2 \[Op:Reshape\]$"),
    ((3, -5), r"^Size 1 must be non-negative, not -5 \[Op:Reshape\]$"),
    ((-1, -1), r"^Only one input size may be -1, not both 0 and 1 \[Op:Reshape\]$"),
    ((2.5, 3), r"^Value for attr 'Tshape' of float is not in the list of allowed values: "
               r"int32, int64 \[Op:Reshape\]$"),
])
def test_reshape_bad_shape_raises_tf_error(shape, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        tf.reshape(tf.zeros((2, 3)), shape)


def test_reshape_still_infers_one_dimension():
    x = tf.zeros((2, 3))
    assert tf.reshape(x, (-1, 2)).shape == (3, 2)
    assert tf.reshape(x, [None, 6]).shape == (1, 6)
    assert tf.reshape(x, tf.constant([3, -1])).shape == (3, 2)


def test_reshape_takes_scalar_integer_tensors_as_dimensions():
    x = tf.zeros((2, 3))
    assert tf.reshape(x, (tf.shape(x)[0], -1)).shape == (2, 3)
    assert tf.reshape(x, [tf.constant(3, tf.int64), 2]).shape == (3, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'Tshape' of float32"):
        tf.reshape(x, [tf.constant(3.), 2])
