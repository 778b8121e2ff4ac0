"""Behaviour of the session-7 array API that the op cases do not cover: TF's errors, dtypes,
edge cases, tf.function plans and Keras symbolic inputs. (Forward and gradient checks of
every op: tests/ops/cases_arrays_api.py.)"""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError

x = np.arange(24., dtype=np.float32).reshape(2, 3, 4)


def _grad(fn, value):
    value = tf.constant(value)
    with tf.GradientTape() as tape:
        tape.watch(value)
        out = fn(value)
    return tape.gradient(out, value)


# -- bad input gets TF's errors -----------------------------------------------------------------

@pytest.mark.parametrize("call, error, text", [
    (lambda: tf.reverse(x, [1, 1]), InvalidArgumentError, "specified more than once"),
    (lambda: tf.reverse(x, [3]), InvalidArgumentError, "out of valid range"),
    (lambda: tf.roll(x, [1, 2], [0]), InvalidArgumentError, "same size"),
    (lambda: tf.slice(x, [0, 0, 2], [1, 1, 3]), InvalidArgumentError, "size[2]"),
    (lambda: tf.repeat(x, [1, 2], axis=1), InvalidArgumentError, "length 3"),
    (lambda: tf.repeat(x, -1), InvalidArgumentError, "non-negative"),
    (lambda: tf.boolean_mask(x, [True]), ValueError, "does not match"),
    (lambda: tf.boolean_mask(x, [1, 0]), TypeError, "bool"),
    (lambda: tf.scatter_nd([[5]], [1.], [3]), InvalidArgumentError, "does not index into"),
    (lambda: tf.scatter_nd([[1]], [1., 2.], [3]), InvalidArgumentError, "updates must have"),
    (lambda: tf.tensor_scatter_nd_update(x, [[2]], np.ones((1, 3, 4), np.float32)),
     InvalidArgumentError, "indices[0] = [2]"),
    (lambda: tf.tensor_scatter_nd_add(x, [[0]], tf.ones((1, 3, 4), tf.float64)),
     InvalidArgumentError,
     "double tensor"),
    (lambda: tf.unravel_index([12], [3, 4]), InvalidArgumentError, "out of bounds"),
    (lambda: tf.nn.space_to_depth(np.zeros((1, 3, 4, 1)), 2), InvalidArgumentError, "divisible"),
    (lambda: tf.space_to_batch_nd(np.zeros((1, 3, 4, 1)), [2, 2], [[0, 0], [0, 0]]),
     InvalidArgumentError, "not divisible"),
    (lambda: tf.norm(x, ord="fro"), ValueError, "vector norm"),
    (lambda: tf.norm(x, ord=3, axis=[1, 2]), ValueError, "matrix norm"),
    (lambda: tf.norm(np.arange(3)), InvalidArgumentError, "floating-point"),
    (lambda: tf.clip_by_global_norm(tf.constant([1.]), 1.), TypeError, "sequence"),
    (lambda: tf.linalg.inv(np.zeros((2, 2), np.float32)), InvalidArgumentError, "not invertible"),
    (lambda: tf.linalg.det(np.eye(2, dtype=np.int32)), InvalidArgumentError, "float32 or float64"),
    (lambda: tf.linalg.det(np.ones((2, 3))), InvalidArgumentError, "square"),
    (lambda: tf.linalg.solve(np.eye(3), np.ones((4, 1))), InvalidArgumentError, "number of rows"),
    (lambda: tf.linalg.diag_part([1., 2.]), InvalidArgumentError, "2-dim"),
    (lambda: tf.linalg.diag([[1., 2.], [3., 4.]], k=(0, 1)), NotImplementedError, "one diagonal"),
    (lambda: tf.linalg.diag_part([[1., 2., 3.], [4., 5., 6.]], k=-2), InvalidArgumentError,
     "out of bound: -2"),
    (lambda: tf.linalg.set_diag([[1., 2., 3.], [4., 5., 6.]], [7., 8.], k=-1),
     InvalidArgumentError, "shape [1]"),
    (lambda: tf.linalg.diag([1., 2.], k=1, num_rows=3, num_cols=5), InvalidArgumentError,
     "num_rows=3 and num_cols=5"),
    (lambda: tf.broadcast_static_shape(tf.TensorShape([2]), tf.TensorShape([3])), ValueError,
     "Incompatible"),
    (lambda: tf.broadcast_dynamic_shape([2], [3]), InvalidArgumentError, "Incompatible"),
])
def test_bad_input_errors(call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)


def test_diagonals_off_the_main_one_as_tf():
    # Expected values from TF 2.21.
    np.testing.assert_array_equal(tf.linalg.diag([1, 2], k=-1),
                                  [[0, 0, 0], [1, 0, 0], [0, 2, 0]])
    np.testing.assert_array_equal(tf.linalg.diag([1, 2], k=(1, 1)),
                                  [[0, 1, 0], [0, 0, 2], [0, 0, 0]])
    np.testing.assert_array_equal(tf.linalg.diag([1, 2], k=1, num_rows=2), [[0, 1, 0], [0, 0, 2]])
    np.testing.assert_array_equal(tf.linalg.diag([1, 2], k=1, num_cols=4),
                                  [[0, 1, 0, 0], [0, 0, 2, 0]])
    np.testing.assert_array_equal(tf.linalg.diag([1, 2], k=1, num_rows=4),
                                  [[0, 1, 0], [0, 0, 2], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(tf.linalg.diag([1, 2], num_rows=4),
                                  [[1, 0], [0, 2], [0, 0], [0, 0]])
    np.testing.assert_array_equal(
        tf.linalg.diag([[1, 2], [3, 4]], k=-2, padding_value=7)[1],
        [[7, 7, 7, 7], [7, 7, 7, 7], [3, 7, 7, 7], [7, 4, 7, 7]])
    wide = [[1, 2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(tf.linalg.diag_part(wide, k=-1), [4])
    np.testing.assert_array_equal(tf.linalg.diag_part(wide, k=2), [3])
    np.testing.assert_array_equal(tf.linalg.diag_part(wide, k=(1, 1)), [2, 6])
    np.testing.assert_array_equal(tf.linalg.diag_part(np.arange(24).reshape(2, 3, 4), k=1),
                                  [[1, 6, 11], [13, 18, 23]])
    np.testing.assert_array_equal(tf.linalg.set_diag(wide, [7], k=-1), [[1, 2, 3], [7, 5, 6]])
    np.testing.assert_array_equal(tf.linalg.set_diag(wide, [7], k=2), [[1, 2, 7], [4, 5, 6]])
    np.testing.assert_array_equal(tf.linalg.set_diag(wide, [7, 8], k=(1, 1)),
                                  [[1, 7, 3], [4, 5, 8]])
    np.testing.assert_array_equal(
        tf.linalg.set_diag(np.arange(24).reshape(2, 4, 3), [[7, 8], [9, 10]], k=-2)[1],
        [[12, 13, 14], [15, 16, 17], [9, 19, 20], [21, 10, 23]])
    # The main diagonal of a matrix with no rows or columns is empty (TF allows k=0 always).
    assert tf.linalg.diag_part(np.ones((2, 0, 3))).shape == (2, 0)
    assert float(tf.linalg.trace(np.ones((0, 0)))) == 0.
    # The gradients reach the chosen diagonal only.
    np.testing.assert_array_equal(_grad(lambda m: tf.linalg.diag_part(m, k=1), np.ones((2, 3))),
                                  [[0., 1., 0.], [0., 0., 1.]])
    np.testing.assert_array_equal(_grad(lambda d: tf.linalg.diag(d, k=-1), [1., 2.]), [1., 1.])
    np.testing.assert_array_equal(
        _grad(lambda m: tf.linalg.set_diag(m, [5.], k=2), np.ones((2, 3))),
        [[1., 1., 0.], [1., 1., 1.]])


def test_lstsq_robust_path_gives_the_minimum_norm_solution_as_tf():
    # fast=False: TF's orthogonal-decomposition path, which ignores l2_regularizer and
    # handles rank-deficient matrices (values from TF 2.21).
    deficient = [[1., 1.], [1., 1.], [2., 2.]]
    for l2 in (0., 1.):
        np.testing.assert_allclose(tf.linalg.lstsq(deficient, [[1.], [2.], [3.]], fast=False,
                                                   l2_regularizer=l2), [[0.75], [0.75]], rtol=1e-5)
    np.testing.assert_allclose(tf.linalg.lstsq([[1., 0., 1.], [0., 1., 1.]], [[1.], [2.]],
                                               fast=False), [[0.], [1.], [1.]], atol=1e-6)
    batch = np.array([[[1., 0.], [0., 2.], [1., 1.]]] * 2)
    out = tf.linalg.lstsq(batch, np.ones((2, 3, 2)), fast=False)
    assert out.dtype == tf.float64 and out.shape == (2, 2, 2)
    np.testing.assert_allclose(out[0], [[7 / 9, 7 / 9], [4 / 9, 4 / 9]])


def test_qr_gradient_of_a_wide_matrix_as_tf():
    wide = np.ones((2, 3)) + np.eye(2, 3)
    weights = np.arange(1., 7.)
    # Values from TF 2.21: the loss sum(q * [1..4]) and sum(r * [1..6]).
    np.testing.assert_allclose(
        _grad(lambda m: tf.reduce_sum(tf.linalg.qr(m)[0] * weights[:4].reshape(2, 2)), wide),
        [[1.16276, 0., 0.], [-2.32551, 0., 0.]], atol=1e-5)
    np.testing.assert_allclose(
        _grad(lambda m: tf.reduce_sum(tf.linalg.qr(m)[1] * weights.reshape(2, 3)), wide),
        [[3.30938, -4.02492, -5.36656], [-8.85483, 3.57771, 4.02492]], atol=1e-5)


def test_gradients_refused_where_tf_has_none():
    wide = np.ones((2, 3)) + np.eye(2, 3)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        _grad(lambda m: tf.linalg.qr(m, full_matrices=True)[0], wide.T)
    with pytest.raises(NotImplementedError, match="square matrices only"):
        _grad(lambda m: tf.linalg.svd(m, full_matrices=True)[1], wide)


# -- values and dtypes --------------------------------------------------------------------------

def test_cholesky_of_a_non_positive_definite_matrix_is_nan_as_in_tf():
    factors = tf.linalg.cholesky(np.stack([-np.eye(2), 4 * np.eye(2)])).numpy()
    assert np.isnan(factors[0][np.tril_indices(2)]).all() and factors[0, 0, 1] == 0
    np.testing.assert_array_equal(factors[1], 2 * np.eye(2))


def test_linalg_keeps_float32():
    m = tf.constant([[2., 1.], [1., 3.]])
    for out in (tf.linalg.inv(m), tf.linalg.det(m), tf.linalg.slogdet(m)[1], tf.linalg.eigh(m)[1],
                tf.linalg.svd(m)[0], tf.linalg.qr(m)[1], tf.linalg.cholesky(m), tf.linalg.pinv(m)):
        assert out.dtype == tf.float32


def test_slogdet_sign_and_log():
    sign, log_abs = tf.linalg.slogdet(np.array([[[0., 2.], [3., 0.]], [[2., 0.], [0., 3.]]]))
    np.testing.assert_allclose(sign.numpy(), [-1., 1.])
    np.testing.assert_allclose(log_abs.numpy(), np.log([6., 6.]))


def test_shapes_of_qr_and_svd_outputs():
    tall = np.ones((2, 5, 3)) + np.eye(5, 3)
    q, r = tf.linalg.qr(tall, full_matrices=True)
    assert q.shape == (2, 5, 5) and r.shape == (2, 5, 3)
    s, u, v = tf.linalg.svd(tall, full_matrices=True)
    assert s.shape == (2, 3) and u.shape == (2, 5, 5) and v.shape == (2, 3, 3)
    np.testing.assert_allclose((u[..., :3] * s[:, None, :]).numpy() @ np.swapaxes(v, 1, 2),
                               tall, atol=1e-12)


def test_scatter_keeps_integer_dtypes():
    out = tf.tensor_scatter_nd_add([1, 1, 1], [[0], [0]], [2, 3])
    assert out.dtype == tf.int32 and out.numpy().tolist() == [6, 1, 1]
    assert tf.tensor_scatter_nd_max([1, 5], [[0]], [3]).numpy().tolist() == [3, 5]


def test_tensor_scatter_max_splits_the_gradient_between_ties():
    grads = []
    target, updates = tf.constant([1., 2.]), tf.constant([1.])
    with tf.GradientTape() as tape:
        tape.watch([target, updates])
        out = tf.tensor_scatter_nd_max(target, [[0]], updates)
    grads = tape.gradient(out, [target, updates])
    np.testing.assert_allclose(grads[0].numpy(), [0.5, 1.])
    np.testing.assert_allclose(grads[1].numpy(), [0.5])


def test_clip_by_global_norm_passes_none_and_poisons_on_inf():
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.]), None, [4.]], 1.)
    assert clipped[1] is None and float(norm) == 5.
    np.testing.assert_allclose(clipped[0].numpy(), [0.6], rtol=1e-6)
    clipped, _ = tf.clip_by_global_norm([tf.constant([np.inf, 1.])], 1.)
    assert np.isnan(clipped[0].numpy()).all()
    unchanged, _ = tf.clip_by_global_norm([tf.constant([0.3, 0.4])], 1.)
    np.testing.assert_allclose(unchanged[0].numpy(), [0.3, 0.4])


def test_clip_by_norm_of_zeros_has_a_finite_gradient():
    grad = _grad(lambda t: tf.clip_by_norm(t, 1.), np.zeros(3))
    np.testing.assert_array_equal(grad.numpy(), np.ones(3))


def test_clip_by_norm_takes_a_negative_or_other_dtype_clip_norm_as_tf():
    # TF clamps clip_norm at 0 (so a negative one zeroes t, never flips its sign) and casts a
    # tensor clip_norm to t's dtype.
    np.testing.assert_array_equal(tf.clip_by_norm([[3., 4.]], -1.), [[0., 0.]])
    np.testing.assert_array_equal(tf.clip_by_norm([[3., 4.]], tf.constant(-2.)), [[0., 0.]])
    clipped = tf.clip_by_norm([[3., 4.]], tf.constant(1., tf.float64))
    assert clipped.dtype == tf.float32
    np.testing.assert_allclose(clipped, [[0.6, 0.8]], rtol=1e-6)


def test_tensordot_over_an_empty_axis_is_zeros():
    out = tf.tensordot(np.ones((2, 0)), np.ones((0, 3)), 1)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))
    assert tf.tensordot(np.ones((0, 2)), np.ones((2, 3)), 1).shape == (0, 3)


def test_linalg_matmul_output_type_widens_8_bit_integers_as_tf():
    a = np.full((2, 20), 100, np.int8)
    out = tf.linalg.matmul(a, a, transpose_b=True, output_type=tf.int32)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out, np.full((2, 2), 200000))
    assert tf.linalg.matmul(np.ones((1, 1)), np.ones((1, 1)), output_type=tf.float64).dtype == \
        tf.float64
    with pytest.raises(InvalidArgumentError, match="output_type"):
        tf.linalg.matmul(np.ones((1, 1), np.float32), np.ones((1, 1), np.float32),
                         output_type=tf.float64)


def test_shape_helpers():
    assert tf.broadcast_static_shape(tf.TensorShape([None, 1]), tf.TensorShape([3])) == \
        tf.TensorShape([None, 3])
    assert tf.broadcast_dynamic_shape([2, 1], [3]).numpy().tolist() == [2, 3]
    shapes = tf.shape_n([x, x[0]], out_type=tf.int64)
    assert [s.numpy().tolist() for s in shapes] == [[2, 3, 4], [3, 4]]
    assert shapes[0].dtype == tf.int64
    a, b = tf.identity_n([x, [1, 2]])
    assert a.shape == (2, 3, 4) and b.dtype == tf.int32
    assert tf.parallel_stack([x[0], x[1]]).shape == (2, 3, 4)
    assert tf.unravel_index(7, [3, 4]).numpy().tolist() == [1, 3]


def test_meshgrid_matches_numpy():
    for indexing in ("xy", "ij"):
        grids = tf.meshgrid([1, 2, 3], [4., 5.], [6, 7, 8, 9], indexing=indexing)
        expected = np.meshgrid([1, 2, 3], [4., 5.], [6, 7, 8, 9], indexing=indexing)
        for got, want in zip(grids, expected):
            np.testing.assert_array_equal(got.numpy(), want)


def test_sequence_mask():
    np.testing.assert_array_equal(tf.sequence_mask([1, 3, 0], 4).numpy(),
                                  np.arange(4) < np.array([[1], [3], [0]]))
    assert tf.sequence_mask([[1], [2]]).shape == (2, 1, 2)
    assert tf.sequence_mask([1, 2], 3, dtype=tf.float32).dtype == tf.float32
    assert tf.sequence_mask([1.5]).numpy().tolist() == [[True, True]]  # As TF: ceil(max).


def test_space_to_batch_matches_tf_documentation_example():
    out = tf.space_to_batch_nd([[[[1.], [2.]], [[3.], [4.]]]], [2, 2], [[0, 0], [0, 0]])
    assert out.numpy().reshape(-1).tolist() == [1., 2., 3., 4.] and out.shape == (4, 1, 1, 1)
    back = tf.batch_to_space(out, [2, 2], [[0, 0], [0, 0]])
    assert back.numpy().reshape(-1).tolist() == [1., 2., 3., 4.] and back.shape == (1, 2, 2, 1)


def test_batch_of_one_and_empty_selection():
    assert tf.boolean_mask(x, np.zeros((2, 3), bool)).shape == (0, 4)
    assert tf.repeat(x[:1], 3, axis=0).shape == (3, 3, 4)
    assert tf.reverse_sequence(x[:1], [0], seq_axis=1).numpy().tolist() == x[:1].tolist()
    assert tf.linalg.inv(np.eye(2)[None]).shape == (1, 2, 2)


def test_norm_matches_numpy():
    np.testing.assert_allclose(tf.norm(x).numpy(), np.linalg.norm(x), rtol=1e-6)
    np.testing.assert_allclose(tf.norm(x, ord=1, axis=[-1, -2]).numpy(),
                               np.linalg.norm(x, ord=1, axis=(-1, -2)), rtol=1e-6)
    assert tf.norm(x, axis=1, keepdims=True).shape == (2, 1, 4)
    assert tf.norm(x, ord=2, axis=[0, 2], keepdims=True).shape == (1, 3, 1)


def test_linalg_l2_normalize_is_the_math_one_when_present():
    if hasattr(tf.math, "l2_normalize"):
        assert tf.linalg.l2_normalize is tf.math.l2_normalize
    else:
        with pytest.raises(AttributeError):
            tf.linalg.l2_normalize  # noqa: B018


# -- inside tf.function and Keras ----------------------------------------------------------------

def test_ops_compile_into_a_plan():
    @tf.function
    def step(m, v):
        rolled = tf.roll(tf.reverse(m, [0]), 1, 1)
        scattered = tf.tensor_scatter_nd_update(rolled, [[0, 0]], [1.])
        solved = tf.linalg.solve(scattered + 4. * tf.eye(3), v)
        return tf.norm(solved) + tf.linalg.det(m) + tf.reduce_sum(tf.linalg.svd(m)[0])

    for seed in range(3):
        m = tf.constant(np.random.default_rng(seed).normal(size=(3, 3)), tf.float32)
        v = tf.ones((3, 1))
        out = step(m, v)
        np.testing.assert_allclose(out.numpy(), step.__wrapped__(m, v).numpy(), rtol=1e-5)
    assert step.eager_reasons() == []


def test_ops_reading_values_run_eagerly_in_tf_function():
    @tf.function
    def pick(t, keep):
        return tf.boolean_mask(t, keep)

    for keep in ([True, False], [False, True], [True, True]):
        out = pick(tf.constant([1., 2.]), tf.constant(keep))
        assert out.numpy().tolist() == [v for v, k in zip([1., 2.], keep) if k]
    assert "reads the value" in pick.eager_reasons()[0]


def test_keras_symbolic_inputs_build_a_model():
    inputs = tf.keras.Input((3, 3))
    # (Keras infers shapes by running ops on ones, so a functional model cannot hold ops
    # that refuse a matrix of ones, such as tf.linalg.inv.)
    rolled = tf.roll(inputs, 1, 1)
    outputs = tf.linalg.matvec(tf.linalg.band_part(rolled, 0, -1), tf.norm(inputs, axis=-1))
    model = tf.keras.Model(inputs, [outputs, tf.linalg.det(inputs)])
    m = np.eye(3, dtype=np.float32)[None] * 2
    values, determinant = model(m)
    np.testing.assert_allclose(values.numpy(), [[4., 0., 0.]], rtol=1e-6)
    np.testing.assert_allclose(determinant.numpy(), [8.], rtol=1e-6)


@pytest.mark.parametrize("name", ["numpyflow.ops.manipulation_ops", "numpyflow.ops.clip_ops",
                                  "numpyflow.ops.linalg_ops", "numpyflow.linalg"])
def test_docstring_examples(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("op", [
    lambda m: tf.linalg.det(m),
    lambda m: tf.linalg.svd(m, compute_uv=False)[0],
    lambda m: tf.linalg.eigvalsh(m + tf.transpose(m))[1],
    lambda m: tf.reduce_sum(tf.linalg.inv(m)),
])
def test_second_derivatives_match_finite_differences(op):
    """The gradient rules are written with ops, so a nested tape differentiates them."""
    base = np.array([[2., 1.], [0.5, 3.]])
    weights = np.array([[1., 2.], [3., 4.]])

    def squared_gradient(m):
        with tf.GradientTape() as tape:
            tape.watch(m)
            y = op(m)
        return tf.reduce_sum(tape.gradient(y, m) ** 2 * weights)

    analytic = _grad(squared_gradient, base).numpy()
    numeric = np.zeros_like(base)
    for i in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[i] = 1e-6
        numeric[i] = (squared_gradient(tf.constant(base + step)).numpy() -
                      squared_gradient(tf.constant(base - step)).numpy()) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_scatter_in_a_plan_takes_new_indices_and_still_rejects_bad_ones():
    @tf.function
    def place(indices):
        return tf.scatter_nd(indices, [1., 2.], [4])

    assert place(tf.constant([[1], [2]])).numpy().tolist() == [0., 1., 2., 0.]
    assert place(tf.constant([[3], [3]])).numpy().tolist() == [0., 0., 0., 3.]
    assert place(tf.constant([[0], [3]])).numpy().tolist() == [1., 0., 0., 2.]
    assert place.eager_reasons() == []
    with pytest.raises(InvalidArgumentError):
        place(tf.constant([[-1], [3]]))  # Negative indices do not wrap around.
