"""tf.print and tf.debugging: output as TF prints it, failing assertions with TF's messages,
and both running on every call of a compiled tf.function (not only while tracing)."""

import sys

import numpy as np
import pytest

import numpyflow as tf


def test_print_writes_tensors_and_python_values_as_tf_does(capsys):
    tf.print("loss:", tf.constant(0.5), [1, tf.constant([True, False])], {"n": 3},
             output_stream=sys.stdout)
    tf.print(tf.constant(["ab", "c"]), tf.range(12), sep=" | ", end="!\n")
    out, err = capsys.readouterr()
    assert out == "loss: 0.5 [1, [1 0]] {'n': 3}\n"
    assert err == '["ab" "c"] | [0 1 2 ... 9 10 11]!\n'  # stderr, as TF's default


def test_print_appends_to_a_file_and_refuses_unknown_streams(tmp_path):
    path = tmp_path / "log.txt"
    tf.print(tf.constant([[1.5, 2.0]]), output_stream=f"file://{path}")
    tf.print("again", output_stream=f"file://{path}")
    assert path.read_text() == "[[1.5 2]]\nagain\n"
    with pytest.raises(ValueError, match="Unsupported output stream or file: 42"):
        tf.print(1, output_stream=42)


def test_print_and_assertions_run_on_every_call_of_a_compiled_function(capsys):
    counter = tf.Variable(0)

    @tf.function
    def step(x):
        counter.assign_add(1)
        tf.print("step", counter, x, output_stream=sys.stdout)
        tf.debugging.assert_less(x, 10, message="x must stay below 10")
        return x * 2

    for value in range(4):
        assert int(step(tf.constant(value))) == value * 2
    assert step.eager_reasons() == []  # Compiled into a plan, the print kept in it.
    assert capsys.readouterr().out == "step 1 0\nstep 2 1\nstep 3 2\nstep 4 3\n"
    with pytest.raises(tf.errors.InvalidArgumentError, match="x must stay below 10"):
        step(tf.constant(12))
    # Printed once before the failing check (the failure is not retried eagerly).
    assert capsys.readouterr().out == "step 5 12\n"


def test_comparison_failure_lists_the_differing_values():
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        tf.debugging.assert_equal(tf.constant([1, 2, 3, 4]), tf.constant([1, 5, 3, 6]),
                                  message="labels differ")
    assert str(raised.value) == (
        "labels differ\nCondition x == y did not hold.\n"
        "Indices of first 2 different values:\n[[1]\n [3]]\n"
        "Corresponding x values:\n[2 4]\nCorresponding y values:\n[5 6]\n"
        "First 3 elements of x:\n[1 2 3]\nFirst 3 elements of y:\n[1 5 3]")


@pytest.mark.parametrize("assertion, x, y, passes", [
    (tf.debugging.assert_less, [1, 2], 3, True),
    (tf.debugging.assert_less, [1, 3], 3, False),
    (tf.debugging.assert_less_equal, [1, 3], 3, True),
    (tf.debugging.assert_greater, [4, 5], 3, True),
    (tf.debugging.assert_greater, [4, 3], 3, False),
    (tf.debugging.assert_greater_equal, [3, 4], 3, True),
    (tf.debugging.assert_none_equal, [1, 2], [2, 1], True),
    (tf.debugging.assert_none_equal, [1, 2], [1, 1], False),
    (tf.assert_equal, [[1, 2], [1, 2]], [1, 2], True),  # broadcasts
])
def test_comparisons(assertion, x, y, passes):
    x = tf.constant(x)
    if passes:
        assert assertion(x, y) is None
    else:
        with pytest.raises(tf.errors.InvalidArgumentError, match="did not hold"):
            assertion(x, y)


def test_sign_checks_name_the_condition():
    tf.debugging.assert_positive(tf.constant([1.0, 2.0]))
    tf.debugging.assert_non_negative(tf.constant([0, 2]))
    tf.debugging.assert_negative(tf.constant([-1]))
    tf.debugging.assert_non_positive(tf.constant([0.0, -1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        tf.debugging.assert_positive(tf.constant([1, 0]))
    assert str(raised.value) == ("Condition x > 0 did not hold element-wise:\n"
                                 "x (shape=(2,) dtype=int32) = \n[1 0]")


def test_assert_near_uses_tf_default_tolerances():
    tf.debugging.assert_near(tf.constant([1.0]), tf.constant([1.0 + 1e-6]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rtol = 1.1920929e-06"):
        tf.debugging.assert_near(tf.constant([1.0]), tf.constant([1.0 + 1e-5]))
    tf.debugging.assert_near(tf.constant([1.0]), tf.constant([1.1]), atol=0.2)
    with pytest.raises(TypeError, match="floating-point"):
        tf.debugging.assert_near(tf.constant([1]), tf.constant([1]))


def test_assert_lists_its_data():
    x = tf.constant([3, -1])
    tf.debugging.Assert(tf.reduce_all(x > -5), ["never shown", x])
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        tf.Assert(tf.reduce_all(x > 0), ["x has a non-positive entry:", x])
    assert str(raised.value) == "assertion failed: [x has a non-positive entry:] [[3 -1]]"
    with pytest.raises(TypeError, match="bool tensor"):
        tf.debugging.Assert(tf.constant(1), [])


def test_dtype_mismatch_and_shape_mismatch_are_clear():
    with pytest.raises(TypeError, match="same dtype, got int32 and float32"):
        tf.debugging.assert_equal(tf.constant([1]), tf.constant([1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
        tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 2, 3]))


def test_check_numerics_passes_values_and_checks_the_gradient():
    x = tf.constant([1.0, 4.0])
    np.testing.assert_array_equal(tf.debugging.check_numerics(x, "x").numpy(), [1.0, 4.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="activations : Tensor had NaN"):
        tf.debugging.check_numerics(tf.constant([1.0, np.nan]), "activations")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had Inf and NaN values"):
        tf.debugging.assert_all_finite(tf.constant([np.inf, np.nan]), "both")
    with pytest.raises(tf.errors.InvalidArgumentError, match="floating-point"):
        tf.debugging.check_numerics(tf.constant([1]), "ints")
    w = tf.Variable([1.0, 1.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.debugging.check_numerics(w * 2.0, "scaled") * tf.constant([np.inf, 1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="detected in gradient. scaled"):
        tape.gradient(y, w)  # The product's gradient into check_numerics is [inf, 2].


def test_a_layer_checking_its_input_stops_fit_on_nan():
    class Finite(tf.keras.layers.Layer):
        def call(self, x):
            return tf.debugging.check_numerics(x, "input to Finite")

    model = tf.keras.Sequential([tf.keras.Input((3,)), Finite(), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3), np.float32), np.ones((8, 1), np.float32)
    model.fit(x, y, verbose=0)
    x[5, 1] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="input to Finite : Tensor had NaN"):
        model.fit(x, y, verbose=0)


def test_static_rank_type_and_scalar_checks():
    x = tf.zeros((2, 3))
    tf.debugging.assert_rank(x, 2)
    tf.debugging.assert_rank_at_least(x, 1)
    tf.debugging.assert_rank_in(x, [0, 2])
    with pytest.raises(ValueError, match=r"must have rank 3. Received rank 2, shape \(2, 3\)"):
        tf.assert_rank(x, 3)
    with pytest.raises(ValueError, match="rank at least 3"):
        tf.debugging.assert_rank_at_least(x, 3)
    with pytest.raises(ValueError, match=r"rank in \(0, 1\)"):
        tf.debugging.assert_rank_in(x, (0, 1))
    assert tf.debugging.assert_scalar(tf.constant(1.0)).shape == ()
    with pytest.raises(ValueError, match="Expected scalar shape"):
        tf.debugging.assert_scalar(x)
    tf.debugging.assert_type(x, tf.float32)
    with pytest.raises(TypeError, match="must be of type tf.int32; got tf.float32"):
        tf.debugging.assert_type(x, tf.int32)
    tf.debugging.assert_integer(tf.constant([1]))
    with pytest.raises(TypeError, match="integer type"):
        tf.debugging.assert_integer(x)
    assert tf.debugging.assert_same_float_dtype([x, tf.ones(2)]) == tf.float32
    with pytest.raises(ValueError, match="float64"):
        tf.debugging.assert_same_float_dtype([x], tf.float64)
    assert tf.debugging.is_numeric_tensor(x) and not tf.debugging.is_numeric_tensor(
        tf.constant(["a"])) and not tf.debugging.is_numeric_tensor(1.0)
    tf.debugging.assert_proper_iterable([1, 2])
    with pytest.raises(TypeError, match="proper"):
        tf.debugging.assert_proper_iterable(x)


def test_assert_shapes_symbols_ellipsis_and_exact_sizes():
    n, d = tf.zeros((4, 3)), tf.zeros((4,))
    tf.debugging.assert_shapes([(n, ("N", "D")), (d, ("N",)), (tf.zeros((2, 5, 3)), ("...", "D"))])
    tf.debugging.assert_shapes([(n, (None, 3)), (tf.constant(1.0), ())])
    with pytest.raises(ValueError, match="symbol 'N'.*dimension 0 must have size 4. Received size 5"):
        tf.debugging.assert_shapes([(n, ("N", "D")), (tf.zeros(5), ("N",))])
    with pytest.raises(ValueError, match="dimension 1 must have size 2. Received size 3"):
        tf.debugging.assert_shapes([(n, ("N", 2))])
    with pytest.raises(ValueError, match="must have rank 1"):
        tf.debugging.assert_shapes([(n, ("N",))])
    with pytest.raises(ValueError, match="only as the first entry"):
        tf.debugging.assert_shapes([(n, ("N", ...))])


def test_exporting_a_model_that_prints_names_the_op(tmp_path):
    pytest.importorskip("onnx")

    class Loud(tf.keras.layers.Layer):
        def call(self, x):
            tf.print("batch", tf.shape(x))
            return x

    model = tf.keras.Sequential([tf.keras.Input((3,)), Loud(), tf.keras.layers.Dense(2)])
    with pytest.raises(Exception, match="PrintV2.*debugging aid") as raised:
        model.export(str(tmp_path / "model.onnx"), format="onnx")
    print(raised.value)
