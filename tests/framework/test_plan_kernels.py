"""`plan.register_plan_kernel`: the calls a plan makes for the traced shapes and dtypes
(Cast, Sum, Mean, ArgMax/ArgMin, Relu, ReluGrad) give the forwards' results bit for bit,
and the in-place ones write only into arrays that die with them."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework import plan
from numpyflow.framework.primitive import _REGISTRY


def plan_and_eager(function, *args):
    """(the plan's result, the eager result, the plan) of `function` on `args`."""
    compiled = tf.function(function)
    compiled(*args)
    compiled(*args)  # Two traces that agree: the next call runs the plan.
    planned = compiled(*args)
    (compiled_plan,) = [s.plan for s in compiled._signatures.values() if s.plan is not None]
    return planned, function(*args), compiled_plan


def called(compiled_plan, name):
    """What the plan's source calls under `name`."""
    return compiled_plan._run.__globals__[name]


def assert_same_bits(planned, eager):
    for got, want in zip(tf.nest.flatten(planned), tf.nest.flatten(eager)):
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()  # Bit for bit: NaN payloads, signs of zeros.


def random(shape, dtype="float32", seed=0):
    values = np.random.default_rng(seed).standard_normal(shape) * 3
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (32, 128), (2, 3, 4)])
def test_reductions_and_relu_match_the_forwards(dtype, shape):
    x = random(shape, dtype)

    def step(x):
        r = tf.nn.relu(x * 2.0)
        return (tf.reduce_sum(r, axis=0), tf.reduce_mean(r), tf.reduce_mean(x, axis=-1,
                                                                            keepdims=True),
                tf.argmax(x, axis=-1), tf.argmin(x, axis=0, output_type=tf.int32))

    planned, eager, compiled_plan = plan_and_eager(step, x)
    assert_same_bits(planned, eager)
    assert called(compiled_plan, "f_Relu") is np.maximum
    assert called(compiled_plan, "f_Sum") == np.add.reduce
    assert called(compiled_plan, "f_ArgMax") is np.ndarray.argmax
    assert called(compiled_plan, "f_ArgMin") is _REGISTRY["ArgMin"].forward  # int32: as is.
    assert called(compiled_plan, "f_Mean") is not _REGISTRY["Mean"].forward


def test_integer_sums_keep_their_dtype():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    planned, eager, compiled_plan = plan_and_eager(lambda x: tf.reduce_sum(x * 2, axis=1), x)
    assert_same_bits(planned, eager)
    assert planned.dtype == tf.int32 and called(compiled_plan, "f_Sum") == np.add.reduce


def test_a_sum_that_may_take_the_gemv_keeps_the_forward():
    x = random((512, 8))  # >= 256 rows summed over the first axis: blas.column_sums.
    planned, eager, compiled_plan = plan_and_eager(lambda x: tf.reduce_sum(x * 1.5, axis=0), x)
    assert_same_bits(planned, eager)
    assert called(compiled_plan, "f_Sum") is _REGISTRY["Sum"].forward


def test_a_cast_to_the_same_dtype_reads_its_input_and_leaves_it_alone():
    v = tf.Variable(random((4, 3)))
    before = v.numpy().copy()

    def step(x):
        same = tf.cast(v, tf.float32)
        # Relu could write into a dead input: not into the Variable's array.
        return tf.nn.relu(same) + tf.cast(x, tf.float32), tf.cast(x, tf.int64)

    x = np.arange(12, dtype=np.uint8).reshape(4, 3)
    planned, eager, compiled_plan = plan_and_eager(step, x)
    assert_same_bits(planned, eager)
    assert " = v0._value\n" in compiled_plan.source  # The same-dtype cast: no call.
    assert called(compiled_plan, "f_Cast") is np.ndarray.astype
    np.testing.assert_array_equal(v.numpy(), before)


def test_relu_and_its_gradient_write_only_into_dead_arrays():
    x = random((8, 16))
    kept = x.copy()
    w = tf.Variable(random((16, 16), seed=1))

    def step(x):
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)) * 3.0)
        return y, tape.gradient(y, w), tf.nn.relu(x)

    planned, eager, compiled_plan = plan_and_eager(step, x)
    assert_same_bits(planned, eager)
    relu_lines = [line for line in compiled_plan.source.splitlines() if "f_Relu(" in line]
    assert any("0, out=" in line for line in relu_lines)      # The product's ReLU: in place.
    assert any("(a0, 0)" in line for line in relu_lines)      # The argument's: not.
    assert any("out=" in line for line in compiled_plan.source.splitlines()
               if "f_ReluGrad(" in line)
    np.testing.assert_array_equal(x, kept)


def test_kernels_are_only_chosen_for_what_they_compute_exactly():
    x = np.array([[1, -2], [3, 4]], np.int32)
    _, _, compiled_plan = plan_and_eager(lambda x: tf.nn.relu(x + 1), x)
    assert called(compiled_plan, "f_Relu") is _REGISTRY["Relu"].forward  # Integers: as is.
    assert plan._PLAN_KERNELS[_REGISTRY["Relu"]] is not None


# -- softmax maxima read at the argmax (from ARGMAX_MAXIMA_MIN_ROWS rows) -----------------

def reference_softmax(x, axis=-1):
    """The softmax as computed before the argmax maxima: (softmax, shifted, exponentials)."""
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.add.reduce(e, axis=axis, keepdims=True), shifted, e


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows", [63, 64, 200])
def test_softmax_and_cross_entropy_at_many_rows_match_the_reduction(dtype, rows):
    x = random((rows, 10), dtype)
    x[0] = np.nan                                  # A NaN row stays NaN.
    x[1, 3] = np.nan
    x[2] = -np.inf
    x[3] = [0.0, -0.0] * 5                         # Tied zero maxima of both signs.
    x[4] = [-0.0, 0.0] * 5
    x[5, :] = 7.0                                  # Ties.
    x[6, 4] = np.inf
    labels = np.random.default_rng(1).integers(0, 10, rows).astype(np.uint8)
    with np.errstate(all="ignore"):
        want, shifted, e = reference_softmax(x)
        got = _REGISTRY["Softmax"].forward(x, axis=1)
        loss, probabilities = _REGISTRY["SparseSoftmaxCrossEntropyWithLogits"].forward(x, labels)
        want_loss = np.log(np.add.reduce(e, axis=-1)) - shifted[np.arange(rows), labels]
    for array, expected in ((got, want), (probabilities, want), (loss, want_loss)):
        assert array.dtype == expected.dtype
        np.testing.assert_array_equal(array.view(np.uint8), expected.view(np.uint8))


def test_softmax_over_a_non_contiguous_or_inner_axis_at_many_rows():
    x = random((10, 100)).T          # 100 rows, not C-contiguous.
    got = _REGISTRY["Softmax"].forward(x, axis=1)
    assert got.tobytes() == reference_softmax(x)[0].tobytes()
    y = random((100, 3, 4))
    got = tf.nn.softmax(y, axis=1).numpy()
    assert got.tobytes() == reference_softmax(y, axis=1)[0].tobytes()
