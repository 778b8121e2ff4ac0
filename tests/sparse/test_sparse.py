"""tf.sparse and tf.SparseTensor (expected values and texts printed by TF 2.21 in
`.venv-bench`, written here)."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError


def _sp():
    return tf.sparse.SparseTensor(indices=[[0, 0], [1, 2]], values=[1, 2], dense_shape=[3, 4])


def test_fields_dtypes_shape_and_repr_as_tf():
    sp = _sp()
    assert tf.SparseTensor is tf.sparse.SparseTensor
    assert sp.indices.dtype == tf.int64 and sp.dense_shape.dtype == tf.int64
    assert sp.dtype == tf.int32 and sp.values.dtype == tf.int32
    assert sp.shape == tf.TensorShape([3, 4]) and sp.get_shape() == sp.shape
    # TF 2.21: repr(sp) and str(sp)
    expected = ("SparseTensor(indices=tf.Tensor(\n[[0 0]\n [1 2]], shape=(2, 2), dtype=int64), "
                "values=tf.Tensor([1 2], shape=(2,), dtype=int32), "
                "dense_shape=tf.Tensor([3 4], shape=(2,), dtype=int64))")
    assert repr(sp) == expected and str(sp) == expected
    assert not isinstance(sp, tf.Tensor)


def test_constructor_checks_shapes():
    with pytest.raises(ValueError, match="Dimensions 1 and 2 are not compatible"):
        tf.SparseTensor([[0, 0]], [1., 2.], [2, 2])
    with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank 2"):
        tf.SparseTensor([0, 0], [1.], [2, 2])
    with pytest.raises(ValueError, match="Dimensions 1 and 2 are not compatible"):
        tf.SparseTensor([[0]], [1.], [2, 2])  # index rank 1, dense rank 2
    with pytest.raises(TypeError, match="indices must be integers"):
        tf.SparseTensor([[0.5]], [1.], [2])


def test_from_value_and_with_values():
    value = tf.compat.v1.SparseTensorValue([[0]], [1], [2])
    sp = tf.SparseTensor.from_value(value)
    assert isinstance(sp, tf.SparseTensor)
    assert tf.sparse.to_dense(sp).numpy().tolist() == [1, 0]
    assert tf.SparseTensor.from_value(sp) is sp
    assert tf.sparse.to_dense(sp.with_values([7])).numpy().tolist() == [7, 0]
    with pytest.raises(TypeError, match="expected a SparseTensor or a SparseTensorValue"):
        tf.SparseTensor.from_value([1, 2])


def test_to_dense_default_value_and_strings():
    assert tf.sparse.to_dense(_sp()).numpy().tolist() == [[1, 0, 0, 0], [0, 0, 2, 0],
                                                          [0, 0, 0, 0]]
    assert tf.sparse.to_dense(_sp(), default_value=-1).numpy().tolist() == [
        [1, -1, -1, -1], [-1, -1, 2, -1], [-1, -1, -1, -1]]
    strings = tf.sparse.to_dense(tf.SparseTensor([[0]], ["a"], [2]))
    assert strings.dtype == tf.string and strings.numpy().tolist() == [b"a", b""]
    empty = tf.SparseTensor(np.zeros([0, 2], np.int64), tf.zeros([0]), [2, 2])
    assert tf.sparse.to_dense(empty).numpy().tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_to_dense_errors_as_tf():
    unordered = tf.SparseTensor([[1, 0], [0, 1]], [1., 2.], [2, 2])
    with pytest.raises(InvalidArgumentError,
                       match=r"indices\[1\] = \[0,1\] is out of order. Many sparse ops require "
                             r"sorted indices.\n    Use `tf.sparse.reorder`"):
        tf.sparse.to_dense(unordered)
    assert tf.sparse.to_dense(unordered, validate_indices=False).numpy().tolist() == [
        [0.0, 2.0], [1.0, 0.0]]
    with pytest.raises(InvalidArgumentError,
                       match=r"indices\[0\] = \[5,0\] is out of bounds: need 0 <= index < "
                             r"\[2,2\] \[Op:SparseToDense\]"):
        tf.sparse.to_dense(tf.SparseTensor([[5, 0]], [1.], [2, 2]))
    with pytest.raises(InvalidArgumentError, match=r"indices\[1\] = \[0,0\] is repeated"):
        tf.sparse.to_dense(tf.SparseTensor([[0, 0], [0, 0]], [1., 2.], [2, 2]))


def test_from_dense_reorder_reshape_concat():
    sp = tf.sparse.from_dense([[0, 3], [4, 0]])
    assert sp.indices.numpy().tolist() == [[0, 1], [1, 0]]
    assert sp.values.numpy().tolist() == [3, 4] and sp.dense_shape.numpy().tolist() == [2, 2]
    words = tf.sparse.from_dense(tf.constant([b"", b"x"]))
    assert words.indices.numpy().tolist() == [[1]] and words.values.numpy().tolist() == [b"x"]
    ordered = tf.sparse.reorder(tf.SparseTensor([[1, 0], [0, 1]], [1., 2.], [2, 2]))
    assert ordered.indices.numpy().tolist() == [[0, 1], [1, 0]]
    assert ordered.values.numpy().tolist() == [2.0, 1.0]
    reshaped = tf.sparse.reshape(_sp(), [4, 3])
    assert reshaped.indices.numpy().tolist() == [[0, 0], [2, 0]]
    assert reshaped.dense_shape.numpy().tolist() == [4, 3]
    assert tf.sparse.reshape(_sp(), [-1]).indices.numpy().tolist() == [[0], [6]]
    with pytest.raises(InvalidArgumentError,
                       match=r"Input to reshape is a tensor with 12 dense values, but the "
                             r"requested shape has 10. input_shape=\[3,4\] output_shape=\[5,2\]"):
        tf.sparse.reshape(_sp(), [5, 2])
    joined = tf.sparse.concat(1, [_sp(), _sp()])
    assert joined.indices.numpy().tolist() == [[0, 0], [0, 4], [1, 2], [1, 6]]
    assert joined.values.numpy().tolist() == [1, 1, 2, 2]
    assert joined.dense_shape.numpy().tolist() == [3, 8]
    with pytest.raises(InvalidArgumentError, match="Input shapes must match: expected 4 for "
                                                   "dimension 1 but got 2 at position 1"):
        tf.sparse.concat(0, [_sp(), tf.SparseTensor([[0, 0]], [1], [1, 2])])
    wide = tf.sparse.concat(0, [_sp(), tf.SparseTensor([[0, 5]], [9], [1, 6])],
                            expand_nonconcat_dims=True)
    assert wide.dense_shape.numpy().tolist() == [4, 6]
    assert wide.indices.numpy().tolist() == [[0, 0], [1, 2], [3, 5]]


def test_reduce_sum_keeps_dtype():
    total = tf.sparse.reduce_sum(_sp())
    assert total.dtype == tf.int32 and total.numpy() == 3
    assert tf.sparse.reduce_sum(_sp(), axis=1).numpy().tolist() == [1, 2, 0]
    kept = tf.sparse.reduce_sum(_sp(), axis=0, keepdims=True)
    assert kept.shape == (1, 4) and kept.numpy().tolist() == [[1, 0, 2, 0]]
    with pytest.raises(NotImplementedError, match="output_is_sparse"):
        tf.sparse.reduce_sum(_sp(), axis=1, output_is_sparse=True)


def test_sparse_dense_matmul_and_adjoints():
    sp = tf.SparseTensor([[1, 0], [0, 1]], [1., 2.], [2, 2])
    b = tf.constant([[1., 2.], [3., 4.]])
    assert tf.sparse.sparse_dense_matmul(sp, b).numpy().tolist() == [[6., 8.], [1., 2.]]
    a = np.array([[0., 2., 0.], [1., 0., 3.]], np.float32)
    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    sa = tf.sparse.from_dense(a)
    np.testing.assert_allclose(tf.sparse.sparse_dense_matmul(sa, m).numpy(), a @ m)
    np.testing.assert_allclose(
        tf.sparse.sparse_dense_matmul(sa, m.T, adjoint_b=True).numpy(), a @ m)
    np.testing.assert_allclose(
        tf.sparse.sparse_dense_matmul(sa, a, adjoint_a=True).numpy(), a.T @ a)
    with pytest.raises(InvalidArgumentError,
                       match=r"inner dimension does not match: 3 vs. 2.  Did you forget a "
                             r"transpose\?  Dimensions of A: \[2, 3\).  Dimensions of B: \[2,2\]"):
        tf.sparse.sparse_dense_matmul(sa, b)


def test_gradients_flow_to_values_and_dense_operand_as_tf():
    v = tf.Variable([1., 2.])
    b = tf.constant([[1., 2.], [3., 4.]])
    w = tf.constant([[1., 2.], [3., 4.]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(b)
        s = tf.SparseTensor([[0, 1], [1, 0]], v, [2, 2])
        y = tf.reduce_sum(tf.sparse.to_dense(s) * w)
        z = tf.reduce_sum(tf.sparse.sparse_dense_matmul(s, b) * w)
        r = tf.reduce_sum(tf.sparse.reduce_sum(s, axis=0) * tf.constant([5., 7.]))
    # TF 2.21 prints [2. 3.] and [11. 11.].
    assert tape.gradient(y, v).numpy().tolist() == [2.0, 3.0]
    assert tape.gradient(z, v).numpy().tolist() == [11.0, 11.0]
    assert tape.gradient(r, v).numpy().tolist() == [7.0, 5.0]
    # d z / d b = A^T w with A = [[0, 1], [2, 0]].
    assert tape.gradient(z, b).numpy().tolist() == [[6.0, 8.0], [1.0, 2.0]]


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    indices = [[0, 1], [1, 0], [2, 2]]
    values = rng.normal(size=3)
    dense = rng.normal(size=(3, 2))
    weights = rng.normal(size=(3, 2))

    def loss(vals, b):
        sp = tf.SparseTensor(indices, vals, [3, 3])
        return tf.reduce_sum(tf.sparse.sparse_dense_matmul(sp, b) * weights)

    vals, b = tf.Variable(values), tf.Variable(dense)
    with tf.GradientTape() as tape:
        out = loss(vals, b)
    grad_v, grad_b = tape.gradient(out, [vals, b])
    eps = 1e-6
    for i in range(3):
        step = np.zeros(3)
        step[i] = eps
        numeric = (loss(tf.constant(values + step), tf.constant(dense)).numpy()
                   - loss(tf.constant(values - step), tf.constant(dense)).numpy()) / (2 * eps)
        assert abs(grad_v.numpy()[i] - numeric) < 1e-6
    for i, j in np.ndindex(3, 2):
        step = np.zeros((3, 2))
        step[i, j] = eps
        numeric = (loss(tf.constant(values), tf.constant(dense + step)).numpy()
                   - loss(tf.constant(values), tf.constant(dense - step)).numpy()) / (2 * eps)
        assert abs(grad_b.numpy()[i, j] - numeric) < 1e-6


def test_to_indicator():
    sp = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [0, 2, 1], [2, 3])
    assert tf.sparse.to_indicator(sp, 4).numpy().tolist() == [
        [True, False, True, False], [False, True, False, False]]
    with pytest.raises(InvalidArgumentError, match=r"Indices are not valid \(out of bounds\)"
                                                   r".*values\[1\] = 2 is not in \[0, 2\)"):
        tf.sparse.to_indicator(sp, 2)


def test_functions_refuse_dense_inputs():
    with pytest.raises(TypeError, match="tf.sparse.to_dense: Input must be a SparseTensor"):
        tf.sparse.to_dense(tf.constant([1, 2]))


def test_sparse_tensor_spec():
    spec = tf.SparseTensorSpec([None, 2], tf.int64)
    # TF 2.21 prints: SparseTensorSpec(TensorShape([None, 2]), tf.int64)
    assert repr(spec) == "SparseTensorSpec(TensorShape([None, 2]), tf.int64)"
    assert spec.shape.as_list() == [None, 2] and spec.dtype == tf.int64
    assert spec.value_type is tf.SparseTensor
    value = tf.SparseTensor([[0, 1]], tf.constant([5], tf.int64), [3, 2])
    assert spec.is_compatible_with(value)
    assert not spec.is_compatible_with(tf.SparseTensor([[0, 1]], [5.0], [3, 2]))
    assert tf.SparseTensorSpec.from_value(value) == tf.SparseTensorSpec([3, 2], tf.int64)
    assert spec.most_specific_compatible_type(tf.SparseTensorSpec([4, 2], tf.int64)) == spec
    with pytest.raises(TypeError, match="No compatible type"):
        spec.most_specific_compatible_type(tf.SparseTensorSpec([4, 2], tf.float32))
