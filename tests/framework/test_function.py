"""`tf.function`: eager semantics, then compiled plans that match them."""

import weakref

import numpy as np
import pytest

import numpyflow as tf


def test_decorated_training_step_matches_the_undecorated_one():
    w = tf.Variable([[1.0], [2.0]])
    x = tf.constant([[1.0, 1.0], [2.0, 0.5]])

    def step(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(inputs @ w))
        return loss, tape.gradient(loss, w)

    compiled = tf.function(step)
    (loss_a, grad_a), (loss_b, grad_b) = step(x), compiled(x)
    assert float(loss_a) == float(loss_b)
    np.testing.assert_array_equal(grad_a.numpy(), grad_b.numpy())
    assert compiled.python_function is step and compiled.__name__ == "step"


def test_decorator_with_arguments_and_on_methods():
    class Doubler:
        @tf.function(input_signature=None, jit_compile=False)
        def __call__(self, x):
            return x * 2.0

    assert float(Doubler()(tf.constant(1.5))) == 3.0


# -- compiled plans ---------------------------------------------------------------------------

def _sgd_step_function():
    """A function training a linear model: forward, gradient and assignment."""
    w = tf.Variable([[0.5], [-1.0]])

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(x @ w - y))
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return {"loss": loss, "w": w}

    return step, w


def _batches(count, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(4, 2)).astype(np.float32),
             rng.normal(size=(4, 1)).astype(np.float32)) for _ in range(count)]


def test_plan_compiled_after_two_agreeing_traces_matches_eager_bit_for_bit():
    compiled, w_compiled = _sgd_step_function()
    eager, w_eager = _sgd_step_function()
    for x, y in _batches(6):
        got = compiled(x, y)
        expected = eager.python_function(tf.constant(x), tf.constant(y))
        assert float(got["loss"]) == float(expected["loss"])
        assert got["w"] is w_compiled and list(got) == ["loss", "w"]
        np.testing.assert_array_equal(w_compiled.numpy(), w_eager.numpy())
    assert compiled.experimental_get_tracing_count() == 2
    (source,) = compiled.plan_sources()
    assert "AssignSubVariableOp" in source and "MatMul" in source


def test_python_side_effects_run_only_while_tracing():
    calls = []

    @tf.function
    def double(x):
        calls.append(1)
        return x * 2.0

    for value in range(5):
        assert float(double(tf.constant(float(value)))) == 2.0 * value
    assert len(calls) == 2


def test_new_shape_gets_its_own_plan():
    @tf.function
    def total(x):
        return tf.reduce_sum(x * x)

    for n in (2, 2, 2, 3, 3, 3):
        x = np.arange(n, dtype=np.float32)
        assert float(total(x)) == float(np.sum(x * x))
    assert total.experimental_get_tracing_count() == 4
    assert len(total.plan_sources()) == 2


def test_python_branch_on_a_traced_value_stays_eager():
    @tf.function
    def absolute(x):
        return x if float(x) > 0 else -x

    results = [float(absolute(tf.constant(v))) for v in (1.0, 2.0, -3.0, 4.0, -5.0)]
    assert results == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert absolute.plan_sources() == [] and "float()" in absolute.eager_reasons()[0]


def test_constants_computed_outside_ops_keep_the_function_eager():
    state = {"step": 0}

    @tf.function
    def scaled(x):
        state["step"] += 1  # Changes a constant on every call: no plan may freeze it.
        return x * tf.constant(float(state["step"]))

    results = [float(scaled(tf.constant(1.0))) for _ in range(6)]
    assert results == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert scaled.plan_sources() == [] and "traces differed" in scaled.eager_reasons()[0]


def test_called_under_a_tape_runs_eagerly_so_gradients_flow():
    @tf.function
    def cube(x):
        return x * x * x

    x = tf.constant(2.0)
    for _ in range(3):
        cube(x)  # Compiled by now.
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = cube(x)
    assert float(tape.gradient(y, x)) == 12.0


def test_failing_plan_restores_variables_and_raises_the_ops_error():
    w = tf.Variable([[0.0, 0.0]])

    @tf.function
    def step(x, labels):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels, x @ w))
        w.assign_sub(tape.gradient(loss, w))
        w.assign_add(tf.ones_like(w))  # Assigned once more after the failing op's gradient.
        return loss

    x = np.ones((2, 1), np.float32)
    for _ in range(3):
        step(x, np.array([0, 1]))
    assert step.plan_sources()
    before = w.numpy()
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 7"):
        step(x, np.array([0, 7]))
    np.testing.assert_array_equal(w.numpy(), before)


def test_dropout_draws_a_fresh_mask_in_every_compiled_call():
    @tf.function
    def drop(x):
        return tf.nn.dropout(x, rate=0.5)

    tf.random.set_seed(5)
    masks = [drop(tf.ones((64,))).numpy() for _ in range(5)]
    assert drop.plan_sources()
    assert all(not np.array_equal(masks[i], masks[i + 1]) for i in range(4))
    tf.random.set_seed(5)
    eager = [tf.nn.dropout(tf.ones((64,)), rate=0.5).numpy() for _ in range(5)]
    np.testing.assert_array_equal(np.array(masks), np.array(eager))


def test_methods_get_one_plan_cache_per_instance():
    class Scaler:
        def __init__(self, factor):
            self.factor = tf.Variable(factor)

        @tf.function
        def __call__(self, x):
            return x * self.factor

    two, three = Scaler(2.0), Scaler(3.0)
    for _ in range(3):
        assert float(two(tf.constant(1.0))) == 2.0
        assert float(three(tf.constant(1.0))) == 3.0
    two.factor.assign(5.0)  # Plans read variables when they run.
    assert float(two(tf.constant(1.0))) == 5.0


def test_plans_never_write_into_arguments_outputs_or_variables():
    w = tf.Variable(np.ones((2, 3), np.float32))

    @tf.function
    def f(x):
        flat = tf.reshape(x, (2, 3))            # A view of the argument.
        scaled = (flat + 1.0) * 2.0             # Temporaries the plan may reuse...
        return scaled, tf.exp(scaled) - w, w * 3.0  # ...but never what it returns.

    inputs = [np.full((6,), float(i), np.float32) for i in range(5)]
    results = [f(x) for x in inputs]
    assert "out=" in f.plan_sources()[0]
    for i, (x, (scaled, shifted, tripled)) in enumerate(zip(inputs, results)):
        np.testing.assert_array_equal(x, np.full((6,), float(i), np.float32))
        np.testing.assert_array_equal(scaled.numpy(), np.full((2, 3), (i + 1.0) * 2.0))
        np.testing.assert_allclose(shifted.numpy(), np.exp((i + 1.0) * 2.0) - 1.0, rtol=1e-6)
        np.testing.assert_array_equal(tripled.numpy(), np.full((2, 3), 3.0))
    np.testing.assert_array_equal(w.numpy(), np.ones((2, 3)))


def test_ops_of_other_threads_do_not_enter_a_trace():
    import threading

    started, other_done = threading.Event(), threading.Event()

    @tf.function
    def slow_square(x):
        y = x * x
        started.set()
        other_done.wait(5)  # Another thread runs ops and functions meanwhile.
        return y + 1.0

    @tf.function
    def other(x):
        return x - 1.0

    counter = tf.Variable(0.0)

    def other_thread():
        started.wait(5)
        for value in range(4):
            assert float(other(tf.constant(float(value)))) == value - 1.0
            tf.exp(counter)
            counter.assign_add(1.0)
        other_done.set()

    for value in (2.0, 3.0):  # The two traces.
        started.clear()
        other_done.clear()
        worker = threading.Thread(target=other_thread)
        worker.start()
        assert float(slow_square(tf.constant(value))) == value * value + 1.0
        worker.join()
    other_done.set()
    assert float(slow_square(tf.constant(4.0))) == 17.0
    (source,) = slow_square.plan_sources()
    assert "Exp" not in source and "Assign" not in source
    assert float(counter) == 8.0


def test_random_ops_draw_fresh_values_in_compiled_calls_as_eagerly():
    @tf.function
    def noisy(x):
        return (x + tf.random.normal([3]) + tf.random.uniform([3], seed=2),
                tf.random.shuffle(tf.range(5)))

    def draws(fn):
        tf.random.set_seed(9)
        return [np.concatenate([part.numpy().astype(np.float64) for part in fn(tf.zeros(3))])
                for _ in range(5)]

    compiled = draws(noisy)
    assert noisy.plan_sources() and noisy.eager_reasons() == []
    np.testing.assert_array_equal(compiled, draws(noisy.python_function))
    assert len({d.tobytes() for d in compiled}) == 5


def test_compiled_updates_write_into_the_variables_own_arrays():
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    steps = tf.Variable(0, dtype=tf.int64)

    def step(x):
        w.assign_sub(x * 0.5)
        w.assign_add(tf.ones_like(x))
        steps.assign_add(1)
        return tf.reduce_sum(w)

    compiled = tf.function(step)
    x = tf.constant(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    for _ in range(3):
        compiled(x)
    (source,) = compiled.plan_sources()
    assert source.count("update(") == 3
    arrays = (weakref.ref(w._value), weakref.ref(steps._value))  # Holding them would count.
    expected_w = w.numpy()
    for _ in range(4):
        compiled(x)
        expected_w = expected_w - x.numpy() * 0.5 + 1.0
    assert arrays[0]() is w._value and arrays[1]() is steps._value
    np.testing.assert_array_equal(w.numpy(), expected_w)
    assert int(steps) == 7


def test_values_read_before_a_compiled_update_keep_their_value():
    v = tf.Variable([1.0, 2.0])

    @tf.function
    def bump_and_return_the_old_view():
        old = tf.reshape(v, [2, 1])  # A view of v's array, returned after v changes.
        v.assign_add([1.0, 1.0])
        return old

    for _ in range(3):
        bump_and_return_the_old_view()
    assert "update(" in bump_and_return_the_old_view.plan_sources()[0]
    alias, view, tensor = np.asarray(v), tf.reshape(v, [2]), tf.identity(v)
    old = bump_and_return_the_old_view()
    np.testing.assert_array_equal(old.numpy(), [[4.0], [5.0]])
    for held in (alias, view, tensor):
        np.testing.assert_array_equal(np.asarray(held), [4.0, 5.0])
    np.testing.assert_array_equal(v.numpy(), [5.0, 6.0])
    newer = bump_and_return_the_old_view()
    np.testing.assert_array_equal(old.numpy(), [[4.0], [5.0]])
    np.testing.assert_array_equal(newer.numpy(), [[5.0], [6.0]])
    np.testing.assert_array_equal(v.numpy(), [6.0, 7.0])


@pytest.mark.parametrize("failing_op_reads_the_update", [False, True])
def test_failing_compiled_call_has_the_eager_calls_effects_once(failing_op_reads_the_update):
    w = tf.Variable([0.5, -0.5])
    calls = tf.Variable(0.0)

    @tf.function
    def step(x, labels):
        w.assign_sub(0.25 * x)
        calls.assign_add(1.0)
        if failing_op_reads_the_update:  # The plan rebinds and puts w and calls back...
            return tf.gather(w, labels)
        # ...or, independent of the updates, the op runs before them and w is updated in place.
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.reshape(x, [1, 2]))

    x = np.ones(2, np.float32)
    for _ in range(3):
        step(x, np.array([1]))
    (source,) = step.plan_sources()
    assert ("update(" in source) is not failing_op_reads_the_update
    with pytest.raises(tf.errors.InvalidArgumentError):
        step(x, np.array([5]))
    # As eagerly: the updates written before the failing op happened, once.
    np.testing.assert_allclose(w.numpy(), [0.5 - 4 * 0.25, -0.5 - 4 * 0.25])
    assert float(calls) == 4.0


def test_error_among_in_place_updates_does_not_repeat_them(monkeypatch):
    w = tf.Variable([1.0, 2.0])

    @tf.function
    def step(x):
        w.assign_add(x)
        w.assign_add(x * 10.0)

    for _ in range(3):
        step(tf.ones(2))
    from numpyflow.framework import plan as plan_module
    updates = []

    def interrupted_on_the_second(variable, forward, in_place, operand):
        updates.append(1)
        if len(updates) == 2:
            raise FloatingPointError("overflow")  # As under np.seterr(all="raise").
        plan_module._update(variable, forward, in_place, operand)

    step.plan_sources()  # The plan's namespace binds `update` at compile time:
    plan = next(iter(step._signatures.values())).plan
    monkeypatch.setitem(plan._run.__globals__, "update", interrupted_on_the_second)
    with pytest.raises(FloatingPointError):
        step(tf.ones(2))
    np.testing.assert_array_equal(w.numpy(), [1.0 + 33.0 + 1.0, 2.0 + 33.0 + 1.0])


def test_random_ops_keep_their_order_around_updates():
    v = tf.Variable(tf.zeros([8]))

    def step(x):
        v.assign_add(x)
        shuffled = tf.random.shuffle(v)  # Waits for the update; draws first...
        noise = tf.random.uniform([8])   # ...so this one may not move above it.
        return shuffled, noise

    def draws(fn):
        v.assign(tf.range(8.0))
        tf.random.set_seed(3)
        return [np.concatenate([part.numpy() for part in fn(tf.ones([8]))]) for _ in range(5)]

    compiled = tf.function(step)
    np.testing.assert_array_equal(draws(compiled), draws(step))
    assert compiled.plan_sources() and "update(" in compiled.plan_sources()[0]


def test_get_concrete_function_fixes_a_signature():
    @tf.function(input_signature=[tf.TensorSpec([None, 2])])
    def double(x):
        return x * 2.0

    concrete = double.get_concrete_function()
    assert concrete.structured_input_signature == ((tf.TensorSpec([None, 2]),), {})
    np.testing.assert_array_equal(concrete(tf.ones((1, 2))).numpy(), [[2.0, 2.0]])
    from_tensor = tf.function(lambda x: x).get_concrete_function(tf.zeros((3,), tf.int32))
    assert from_tensor.input_signature == [tf.TensorSpec([3], tf.int32)]
    with pytest.raises(ValueError, match="needs the input TensorSpecs"):
        tf.function(lambda x: x).get_concrete_function()
    with pytest.raises(TypeError, match="expected tf.TensorSpec"):
        double.get_concrete_function("x")
    with pytest.raises(NotImplementedError, match="keyword arguments"):
        double.get_concrete_function(x=tf.TensorSpec([1]))
