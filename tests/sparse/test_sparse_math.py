"""`tf.sparse.add`/`slice`/`retain`/`fill_empty_rows`/`transpose`/`maximum`/`minimum` and the
SparseTensor `*` and `/` operators, replayed against TF 2.21's outputs, gradients and errors
(tests/fixtures/sparse/, written by tests/fixtures/make_sparse_fixtures.py)."""

import json
import os
import re

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "tests", "fixtures", "sparse", "sparse_ops_tf221.json")) as _f:
    FIXTURE = json.load(_f)
ERRORS = {"InvalidArgumentError": InvalidArgumentError, "ValueError": ValueError,
          "TypeError": TypeError}


def _build(argument, watched):
    if isinstance(argument, dict) and "sparse" in argument:
        indices, values, shape, dtype = argument["sparse"]
        values = tf.constant(values, getattr(tf, dtype))
        watched.append(values)
        return tf.SparseTensor(indices, values, shape)
    if isinstance(argument, dict):
        value, dtype = argument["dense"]
        value = tf.constant(value, getattr(tf, dtype))
        watched.append(value)
        return value
    return argument


def _call(op, args):
    if op == "mul":
        return args[0] * args[1]
    if op == "truediv":
        return args[0] / args[1]
    return getattr(tf.sparse, op)(*args)


def _check(got, expected):
    if "indices" in expected:
        assert isinstance(got, tf.SparseTensor)
        assert got.indices.numpy().tolist() == expected["indices"]
        assert got.dense_shape.numpy().tolist() == expected["dense_shape"]
        np.testing.assert_allclose(got.values.numpy(), np.asarray(expected["values"]),
                                   rtol=1e-6)
    else:
        assert isinstance(got, tf.Tensor)
        np.testing.assert_allclose(got.numpy(), np.asarray(expected["value"]), rtol=1e-6)
    assert got.dtype.name == expected["dtype"]


def _loss(main):
    flat = main.values if isinstance(main, tf.SparseTensor) else tf.reshape(main, [-1])
    n = int(flat.shape[0])
    weights = tf.constant(np.arange(1, n + 1, dtype=np.float64) * 0.5)
    return tf.reduce_sum(tf.cast(flat, tf.float64) * weights)


def _expected_gradients(case):
    """TF's gradients, or (where TF 2.21's own gradient fails: sparse op scalar) the exact
    derivative: d(sum w_i * v_i * s)/dv_i = w_i * s, and w_i / s for division."""
    if "gradients" in case:
        return case["gradients"]
    if "gradient_error" not in case:
        return None
    scalar = case["arguments"][1]
    n = len(case["result"]["values"])
    weights = np.arange(1, n + 1) * 0.5
    factor = scalar if case["op"] == "mul" else 1.0 / scalar
    return [(weights * factor).tolist()]


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_sparse_math_like_tf(case):
    watched = []
    args = [_build(a, watched) for a in case["arguments"]]
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as info:
            _call(case["op"], args)
        message = re.sub(r" \[Op:\w+\]$", "", str(info.value))
        assert message == case["message"]
        return
    with tf.GradientTape() as tape:
        for w in watched:
            tape.watch(w)
        result = _call(case["op"], args)
        main = result[0] if case["op"] == "fill_empty_rows" else result
        loss = _loss(main) if main.dtype.is_floating else None
    if case["op"] == "fill_empty_rows":
        _check(result[0], case["result"][0])
        _check(result[1], case["result"][1])
    else:
        _check(result, case["result"])
    expected = _expected_gradients(case)
    if expected is None:
        return
    grads = tape.gradient(loss, watched)
    for got, want in zip(grads, expected):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(tf.convert_to_tensor(got).numpy(), np.asarray(want),
                                       rtol=1e-6)


def test_fixture_is_tf_221():
    assert FIXTURE["tensorflow"].startswith("2.21")
    assert {c["op"] for c in FIXTURE["cases"]} == {
        "add", "slice", "retain", "fill_empty_rows", "transpose", "maximum", "minimum", "mul",
        "truediv"}


def test_fill_empty_rows_gradient_reaches_default_value():
    # TF: d default_value = the sum of the output gradients at the filled entries.
    sp = tf.SparseTensor([[1, 0]], [5.0], [4, 2])
    default = tf.constant(-1.0)
    with tf.GradientTape() as tape:
        tape.watch(default)
        out, _ = tf.sparse.fill_empty_rows(sp, default)
        loss = tf.reduce_sum(out.values * tf.constant([1.0, 2.0, 3.0, 4.0]))
    assert float(tape.gradient(loss, default)) == 1.0 + 3.0 + 4.0


def test_maximum_has_no_gradient_like_tf():
    values = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = tf.sparse.maximum(tf.SparseTensor([[0], [1]], values, [2]),
                                tf.SparseTensor([[0]], [3.0], [2]))
        loss = tf.reduce_sum(out.values)
    assert tape.gradient(loss, values) is None


def test_large_sorted_add_matches_dense_sum():
    rng = np.random.default_rng(0)
    dense_a = np.where(rng.random((60, 70)) < 0.2, rng.normal(size=(60, 70)), 0.0)
    dense_b = np.where(rng.random((60, 70)) < 0.2, rng.normal(size=(60, 70)), 0.0)
    total = tf.sparse.add(tf.sparse.from_dense(dense_a), tf.sparse.from_dense(dense_b))
    np.testing.assert_allclose(tf.sparse.to_dense(total).numpy(), dense_a + dense_b)
    both = np.count_nonzero((dense_a != 0) | (dense_b != 0))
    assert total.indices.shape[0] == both


def test_transpose_refuses_a_non_permutation():
    sp = tf.SparseTensor([[0, 1]], [1.0], [2, 3])
    with pytest.raises(InvalidArgumentError, match=r"perm must be a permutation of 0..1"):
        tf.sparse.transpose(sp, [0, 0])


def test_sparse_operators_need_a_dense_operand():
    sp = tf.SparseTensor([[0]], [1.0], [2])
    with pytest.raises(ValueError, match="unsupported type"):
        sp * sp
    with pytest.raises(TypeError):
        2.0 * sp  # TF defines no __rmul__ on SparseTensor
    with pytest.raises(TypeError):
        sp + sp  # nor __add__: tf.sparse.add


# Edge cases checked against TF 2.21 by hand (review): bad indices and sizes get TF's op
# error instead of a NumPy IndexError or a silently wrong result.

def test_fill_empty_rows_refuses_rows_out_of_range_like_tf():
    for row in (5, -1):
        sp = tf.SparseTensor([[0, 1], [row, 0]], [1.0, 2.0], [3, 4])
        with pytest.raises(InvalidArgumentError,
                           match=rf"indices\(1, 0\) is invalid: {row} >= 3 "
                                 r"\[Op:SparseFillEmptyRows\]"):
            tf.sparse.fill_empty_rows(sp, 7.0)


def test_slice_refuses_a_negative_size_like_tf():
    sp = tf.SparseTensor([[0, 1]], [1.0], [3, 4])
    with pytest.raises(InvalidArgumentError,
                       match=r"Expected a non-negative size, got -1 \[Op:SparseSlice\]"):
        tf.sparse.slice(sp, [0, 0], [-1, 2])


def test_sparse_times_dense_with_indices_out_of_bounds_names_the_op():
    sp = tf.SparseTensor([[5, 0]], [3.0], [3, 4])
    with pytest.raises(InvalidArgumentError,
                       match=r"Provided indices are out-of-bounds w.r.t. dense side with "
                             r"broadcasted shape \[Op:SparseDenseCwiseMul\]"):
        sp * tf.ones([3, 4])
    with pytest.raises(InvalidArgumentError, match=r"\[Op:SparseDenseCwiseDiv\]"):
        sp / tf.ones([3, 4])


def test_from_dense_refuses_a_scalar_like_tf():
    with pytest.raises(InvalidArgumentError,
                       match=r"WhereOp : Unhandled input dimensions: 0 \[Op:Where\]"):
        tf.sparse.from_dense(tf.constant(3.0))


def test_sparse_plus_dense_of_another_dtype_names_tf_s_input_index():
    with pytest.raises(InvalidArgumentError,
                       match=r"cannot compute SparseTensorDenseAdd as input #3\(zero-based\) "
                             r"was expected to be a float tensor but is a double tensor"):
        tf.sparse.add(tf.SparseTensor([[0]], [1.0], [2]), tf.ones([2], tf.float64))
