"""GradientTape: what gets recorded, and how gradients combine."""

import sys

import numpy as np
import pytest

import numpyflow as tf


def test_issue_example_gradient_has_variable_shape():
    x = tf.constant([[1., 2.], [3., 4.]])
    w = tf.Variable(tf.random.normal((2, 3), seed=7))
    with tf.GradientTape() as tape:
        y = tf.reduce_mean(tf.nn.relu(x @ w))
    dw = tape.gradient(y, w)
    active = (x.numpy() @ w.numpy()) > 0
    expected = x.numpy().T @ (active / 6.0)
    assert isinstance(dw, tf.Tensor) and dw.shape == (2, 3)
    np.testing.assert_allclose(dw.numpy(), expected, rtol=1e-6)


def test_fan_out_gradients_are_summed():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x + x  # x used three times
    assert float(tape.gradient(y, x)) == pytest.approx(7.0)


def test_broadcast_gradients_are_summed_back_to_source_shape():
    x = tf.constant(np.ones((4, 3)))
    b = tf.constant(np.array([1., 2., 3.]))
    s = tf.constant(2.0, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([b, s])
        y = tf.reduce_sum((x + b) * s)
    db, ds = tape.gradient(y, [b, s])
    np.testing.assert_allclose(db.numpy(), [8., 8., 8.])
    assert db.shape == (3,) and ds.shape == ()
    assert float(ds) == pytest.approx(np.sum(np.ones((4, 3)) + [1., 2., 3.]))


def test_keepdims_broadcast_dimension_of_size_one():
    x = tf.constant(np.arange(6.).reshape(2, 3))
    c = tf.constant(np.ones((2, 1)))
    with tf.GradientTape() as tape:
        tape.watch(c)
        y = tf.reduce_sum(x * c)
    np.testing.assert_allclose(tape.gradient(y, c).numpy(), [[3.], [12.]])


def test_persistent_tape_can_be_used_twice():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x)) == pytest.approx(4.0)
    assert float(tape.gradient(z, x)) == pytest.approx(32.0)


def test_non_persistent_tape_refuses_second_gradient():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_second_derivative_through_nested_tapes():
    x = tf.constant([1.0, 2.0, -3.0])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    np.testing.assert_allclose(dy.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(d2y.numpy(), 6 * x.numpy())


def test_second_derivative_of_softmax_cross_entropy_matches_finite_differences():
    logits = tf.constant(np.array([[0.3, -1.2, 0.8]]))
    labels = tf.constant([2])
    direction = np.array([[1.0, 0.5, -0.3]])

    def grad_dot(values):
        z = tf.constant(values)
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, z))
        return float(tf.reduce_sum(tape.gradient(loss, z) * direction))

    with tf.GradientTape() as outer:
        outer.watch(logits)
        with tf.GradientTape() as inner:
            inner.watch(logits)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        g = tf.reduce_sum(inner.gradient(loss, logits) * direction)
    hessian_vector = outer.gradient(g, logits).numpy()
    eps = 1e-6
    numeric = [(grad_dot(logits.numpy() + eps * e) - grad_dot(logits.numpy() - eps * e)) / (2 * eps)
               for e in np.eye(3).reshape(3, 1, 3)]
    np.testing.assert_allclose(hessian_vector.ravel(), numeric, rtol=1e-5, atol=1e-7)


def test_trainable_variables_are_watched_automatically():
    v = tf.Variable(3.0)
    frozen = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * frozen
    dv, dfrozen = tape.gradient(y, [v, frozen])
    assert float(dv) == 2.0 and dfrozen is None
    assert tape.watched_variables() == (v,)


def test_watch_accessed_variables_false_records_only_watched():
    v = tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    assert tape.gradient(y, v) is None


def test_stop_gradient_blocks_flow():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * tf.stop_gradient(x * x)
    assert float(tape.gradient(y, x)) == pytest.approx(4.0)


def test_unconnected_sources_give_none_or_zero():
    x, z = tf.constant(1.0), tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = x * 2.0
    assert tape.gradient(y, z) is None
    zero = tape.gradient(y, z, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(zero.numpy(), [0., 0.])
    assert tape.gradient(y, z, unconnected_gradients="zero").shape == (2,)


def test_nested_structure_of_sources():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = a * b
    grads = tape.gradient(y, {"first": a, "rest": [b]})
    assert float(grads["first"]) == 2.0 and float(grads["rest"][0]) == 1.0


def test_output_gradients_weight_the_target():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=tf.constant([10.0, 1.0]))
    np.testing.assert_allclose(g.numpy(), [20.0, 4.0])


def test_output_gradients_must_match_the_target_shape():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match=r"output_gradients of shape \[3\].*shape \[2\]"):
        tape.gradient(y, x, output_gradients=tf.constant([1.0, 2.0, 3.0]))


def test_list_of_targets_sums_gradients():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        targets = [x * x, x * 3.0]
    assert float(tape.gradient(targets, x)) == pytest.approx(7.0)


def test_integer_tensors_carry_no_gradient():
    x = tf.constant([1, 2, 3])
    f = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)  # ignored, with a warning, as in TF
        tape.watch(f)
        y = tf.cast(x, tf.float32) * 2.0
        idx = tf.argmax(f)
    assert tape.gradient(y, x) is None
    assert idx.dtype == tf.int64


def test_stop_recording_pauses_the_tape():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x * x
        z = x * 3.0 + y
    assert float(tape.gradient(z, x)) == pytest.approx(3.0)


def test_ops_after_the_with_block_are_not_recorded():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    z = y * y
    assert tape.gradient(z, x) is None


def test_deep_graph_does_not_hit_recursion_limit():
    x = tf.constant(1.0)
    depth = sys.getrecursionlimit() * 3
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for _ in range(depth):
            y = y + x * 1e-4
    assert float(tape.gradient(y, x)) == pytest.approx(1.0 + depth * 1e-4, rel=1e-4)


def test_gradient_with_respect_to_intermediate_tensor():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x * 2.0
        y = h * h
    dh, dx = tape.gradient(y, [h, x])
    assert float(dh) == pytest.approx(12.0) and float(dx) == pytest.approx(24.0)


def test_reduce_max_ties_share_the_gradient():
    x = tf.constant(np.array([1.0, 3.0, 3.0]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_max(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.0, 0.5, 0.5])


def test_cast_between_float_types_passes_gradient():
    x = tf.constant(np.array([1.0, 2.0]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.cast(x, tf.float32) * 3.0)
    g = tape.gradient(y, x)
    assert g.dtype == tf.float64
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])


# -- tapes are per thread ------------------------------------------------------------------

def _run_in_thread(fn):
    """Runs `fn` in a new thread and returns its result (re-raising its error here)."""
    import threading
    result, errors = [], []

    def target():
        try:
            result.append(fn())
        except BaseException as error:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def test_a_tape_does_not_record_another_threads_ops():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        other = _run_in_thread(lambda: x * x)  # Same watched input, other thread.
        mine = x * 2.0
    assert tape.gradient(other, x) is None
    assert float(tape.gradient(mine, x)) == pytest.approx(2.0)


def test_a_long_running_tape_does_not_grow_from_other_threads():
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(w * w)
        recorded = len(tape._nodes)

        def busy_thread():
            for _ in range(100):
                tf.reduce_sum(w * w)  # Reads the trainable variable: would be auto-watched.

        _run_in_thread(busy_thread)
        assert len(tape._nodes) == recorded
        assert tape.watched_variables() == (w,)
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [2.0, 4.0])


def test_each_thread_has_its_own_tape():
    def gradient_in_thread(scale):
        x = tf.constant(1.5)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x * scale
        return float(tape.gradient(y, x))

    with tf.GradientTape() as outer:
        w = tf.Variable(2.0)
        z = w * w
        assert _run_in_thread(lambda: gradient_in_thread(10.0)) == pytest.approx(30.0)
    assert float(outer.gradient(z, w)) == pytest.approx(4.0)


def test_is_recording_sees_only_this_threads_unpaused_tapes():
    from numpyflow.framework import tape as tape_module
    assert not tape_module.is_recording()
    with tf.GradientTape() as tape:
        assert tape_module.is_recording()
        assert tape_module.recording_tapes() == [tape]
        assert not _run_in_thread(tape_module.is_recording)
        with tape.stop_recording():
            assert not tape_module.is_recording()
            assert tape_module.recording_tapes() == []
    assert not tape_module.is_recording()


def test_exiting_a_tape_in_another_thread_raises():
    tape = tf.GradientTape()
    tape.__enter__()
    try:
        with pytest.raises(RuntimeError, match="thread that entered it"):
            _run_in_thread(lambda: tape.__exit__(None, None, None))
    finally:
        tape.__exit__(None, None, None)
