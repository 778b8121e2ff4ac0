"""Tensor, Variable, dtypes and conversion rules."""

import numpy as np
import pytest

import numpyflow as tf


def test_python_values_get_tf_default_dtypes():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant([1, 2]).dtype == tf.int32
    assert tf.constant(2 ** 40).dtype == tf.int64
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant([[1, 2.5]]).dtype == tf.float32


def test_numpy_arrays_keep_their_dtype():
    assert tf.constant(np.zeros(3)).dtype == tf.float64
    assert tf.convert_to_tensor(np.zeros(3, np.int64)).dtype == tf.int64
    assert tf.constant(np.uint8(3)).dtype == tf.uint8


def test_constant_copies_and_fills():
    source = np.array([1.0, 2.0])
    t = tf.constant(source)
    source[0] = 99.0
    assert t.numpy()[0] == 1.0
    np.testing.assert_array_equal(tf.constant(7, shape=(2, 2)).numpy(), np.full((2, 2), 7))
    with pytest.raises(TypeError, match="shape"):
        tf.constant([1, 2, 3], shape=(2, 2))


def test_mixing_float32_and_float64_tensors_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"AddV2.*double"):
        tf.constant(1.0) + tf.constant(np.float64(1.0))


def test_python_scalars_take_the_tensor_dtype():
    x = tf.constant(np.array([1.0, 2.0]))
    assert (x * 2).dtype == tf.float64
    assert (2.5 - tf.constant(1.0)).dtype == tf.float32
    assert (tf.constant([1, 2]) + 1).dtype == tf.int32
    with pytest.raises(TypeError, match="int32"):
        tf.constant([1, 2]) + 1.5


def test_numpy_array_on_the_left_keeps_a_tensor():
    result = np.ones(2, np.float32) + tf.constant([1.0, 2.0])
    assert isinstance(result, tf.Tensor)
    np.testing.assert_array_equal(result.numpy(), [2.0, 3.0])


def test_operators():
    a, b = tf.constant([6.0, -7.0]), tf.constant([4.0, 2.0])
    np.testing.assert_allclose((a + b).numpy(), [10, -5])
    np.testing.assert_allclose((a - b).numpy(), [2, -9])
    np.testing.assert_allclose((a * b).numpy(), [24, -14])
    np.testing.assert_allclose((a / b).numpy(), [1.5, -3.5])
    np.testing.assert_allclose((a // b).numpy(), [1, -4])
    np.testing.assert_allclose((a % b).numpy(), [2, 1])
    np.testing.assert_allclose((b ** 2).numpy(), [16, 4])
    np.testing.assert_allclose((-a).numpy(), [-6, 7])
    np.testing.assert_allclose(abs(a).numpy(), [6, 7])
    np.testing.assert_array_equal((a > b).numpy(), [True, False])
    np.testing.assert_array_equal((a == b).numpy(), [False, False])
    np.testing.assert_array_equal(((a > 0) & (b > 0)).numpy(), [True, False])
    np.testing.assert_array_equal((~(a > 0)).numpy(), [False, True])
    m = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose((m @ m).numpy(), [[7, 10], [15, 22]])
    assert (tf.constant([1, 2]) == tf.constant([1, 2, 3])) is False


def test_integer_true_division_gives_float64_like_tf():
    result = tf.constant([3, 4]) / 2
    assert result.dtype == tf.float64
    np.testing.assert_allclose(result.numpy(), [1.5, 2.0])


def test_getitem_slices_and_gradients():
    x = tf.constant(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(x[1].numpy(), [4, 5, 6, 7])
    np.testing.assert_array_equal(x[:, -1].numpy(), [3, 7, 11])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(x[1:, ::2])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(),
                                  [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="StridedSlice"):
        x[5]


def test_iteration_and_scalars():
    rows = list(tf.constant([[1, 2], [3, 4]]))
    assert len(rows) == 2 and rows[1].numpy().tolist() == [3, 4]
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(3)) == 3
    assert bool(tf.constant(True))
    assert [10, 20, 30][tf.constant(1)] == 20
    with pytest.raises(TypeError):
        len(tf.constant(1.0))


def test_shape_is_tensorshape_like():
    t = tf.zeros((2, 3, 4))
    assert t.shape == (2, 3, 4) and t.shape == [2, 3, 4]
    assert t.shape.as_list() == [2, 3, 4] and t.shape.rank == 3 and t.ndim == 3
    assert t.shape[1] == 3 and t.shape[1:] == tf.TensorShape([3, 4])
    assert repr(t.shape) == "TensorShape([2, 3, 4])" and str(t.shape) == "(2, 3, 4)"
    assert tf.TensorShape([None, 3]).num_elements() is None


def test_array_protocol_and_repr():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.asarray(t), [[1, 2], [3, 4]])
    assert np.exp(t).shape == (2, 2)
    assert repr(t) == ("<tf.Tensor: shape=(2, 2), dtype=float32, numpy=\n"
                       "array([[1., 2.],\n       [3., 4.]], dtype=float32)>")
    assert repr(tf.constant(1.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=1.0>"
    # A float32 scalar shows its own shortest digits, as TF's NumPy value does.
    assert repr(tf.constant(0.1)) == "<tf.Tensor: shape=(), dtype=float32, numpy=0.1>"
    assert str(tf.constant(0.1)) == "tf.Tensor(0.1, shape=(), dtype=float32)"
    assert str(tf.constant("ab")) == "tf.Tensor(b'ab', shape=(), dtype=string)"
    assert str(tf.constant([1, 2])) == "tf.Tensor([1 2], shape=(2,), dtype=int32)"


def test_tensors_are_unhashable_but_have_refs():
    t = tf.constant(1.0)
    with pytest.raises(TypeError):
        hash(t)
    assert {t.ref(): 1}[t.ref()] == 1 and t.ref().deref() is t


def test_dtype_objects_compare_with_other_spellings():
    assert tf.float32 == "float32" and tf.float32 == np.float32 and tf.float64 != tf.float32
    assert tf.as_dtype("double") is tf.float64 and tf.int32.is_integer
    assert tf.float32.as_numpy_dtype is np.float32 and repr(tf.float32) == "tf.float32"
    with pytest.raises(TypeError, match="Expected one of"):
        tf.as_dtype("complex-ish")


def test_convert_to_tensor_rules():
    t = tf.constant(1.0)
    assert tf.convert_to_tensor(t) is t
    with pytest.raises(ValueError, match="requested dtype float64"):
        tf.convert_to_tensor(t, dtype=tf.float64)
    assert tf.convert_to_tensor([1, 2], dtype_hint=tf.float32).dtype == tf.float32
    assert tf.convert_to_tensor(np.zeros(2), dtype=tf.float32).dtype == tf.float32
    with pytest.raises(TypeError, match="int32"):
        tf.convert_to_tensor([1.5], dtype=tf.int32)
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.constant("text", dtype=tf.float32)  # tf.string exists; a str is not a float.


def test_cast_and_creation_ops():
    assert tf.cast(tf.constant([1.7, -1.7]), tf.int32).numpy().tolist() == [1, -1]
    assert tf.zeros((2,)).dtype == tf.float32 and tf.ones((2,), tf.int64).dtype == tf.int64
    assert tf.zeros_like(tf.constant([1, 2])).dtype == tf.int32
    np.testing.assert_array_equal(tf.ones_like(tf.constant([1.0, 2.0])).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(tf.fill([2], 7).numpy(), [7, 7])
    assert tf.range(5).numpy().tolist() == [0, 1, 2, 3, 4] and tf.range(5).dtype == tf.int32
    assert tf.range(1, 2, 0.5).dtype == tf.float32
    np.testing.assert_array_equal(tf.eye(2).numpy(), np.eye(2))
    np.testing.assert_allclose(tf.linspace(0.0, 1.0, 3).numpy(), [0, 0.5, 1])


def test_matmul_shape_mismatch_names_the_op_and_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.matmul(tf.ones((2, 2)), tf.ones((3, 3)))
    message = str(info.value)
    assert "Matrix size-incompatible: In[0]: [2,2], In[1]: [3,3]" in message
    assert "[Op:MatMul]" in message


def test_broadcast_mismatch_names_the_op_and_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Incompatible shapes: \[2,3\] vs. \[4\] \[Op:AddV2\]"):
        tf.ones((2, 3)) + tf.ones((4,))


def test_float_only_ops_reject_integers():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Exp.*int32"):
        tf.exp(tf.constant([1, 2]))


class TestVariable:
    def test_assign_family(self):
        v = tf.Variable([1.0, 2.0], name="w")
        assert v.name == "w:0" and v.trainable and v.dtype == tf.float32
        v.assign([3.0, 4.0])
        v.assign_add(tf.constant([1.0, 1.0]))
        v.assign_sub([0.5, 0.5])
        np.testing.assert_allclose(v.numpy(), [3.5, 4.5])

    def test_numpy_is_a_snapshot_and_tensors_read_earlier_keep_their_value(self):
        v = tf.Variable([1.0])
        snapshot = v.numpy()
        read = v.read_value()
        y = v * 2.0
        v.assign([5.0])
        assert snapshot[0] == 1.0 and read.numpy()[0] == 1.0 and y.numpy()[0] == 2.0

    def test_variable_works_in_ops_and_numpy(self):
        v = tf.Variable(np.ones((2, 2), np.float32))
        assert isinstance(v @ v, tf.Tensor)
        assert np.asarray(v).sum() == 4.0

    def test_bad_assignments_raise(self):
        v = tf.Variable([1.0, 2.0])
        with pytest.raises(ValueError, match="shape"):
            v.assign([1.0, 2.0, 3.0])
        with pytest.raises(TypeError, match="float64"):
            v.assign(tf.constant(np.array([1.0, 2.0])))
        with pytest.raises(ValueError, match="initial_value"):
            tf.Variable()

    def test_dtype_and_callable_initial_value(self):
        assert tf.Variable(1, dtype=tf.float32).dtype == tf.float32
        assert tf.Variable(lambda: tf.zeros((2,))).shape == (2,)
        assert repr(tf.Variable(1.0)).startswith("<tf.Variable 'Variable:0' shape=() dtype=float32")


class TestRandom:
    def test_global_seed_makes_sequences_reproducible(self):
        tf.random.set_seed(42)
        first = [tf.random.normal((3,)).numpy(), tf.random.uniform((2,)).numpy()]
        tf.random.set_seed(42)
        second = [tf.random.normal((3,)).numpy(), tf.random.uniform((2,)).numpy()]
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b)

    def test_op_seed_alone_is_reproducible_across_resets(self):
        tf.random.set_seed(None)
        a = tf.random.normal((2, 3), seed=1).numpy()
        b = tf.random.normal((2, 3), seed=1).numpy()
        assert not np.array_equal(a, b)  # successive calls differ ...
        tf.random.set_seed(None)
        np.testing.assert_array_equal(tf.random.normal((2, 3), seed=1).numpy(), a)  # ... and repeat


def test_variable_creators_receive_every_argument_as_tf():
    # TF passes each constructor argument to a creator, defaults included, so creators can
    # read `kwargs["name"]` for a Variable made without one.
    seen = {}

    def creator(next_creator, **kwargs):
        seen.update(kwargs)
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        v = tf.Variable(1.)
    assert seen["name"] is None and seen["dtype"] is None and seen["trainable"] is True
    assert seen["shape"] is None and seen["constraint"] is None
    assert v.name == "Variable:0" and v.trainable


def test_empty_lists_convert_to_any_dtype():
    # TF: an empty list holds no floats, so it converts to int and bool dtypes too.
    for dtype in (tf.int32, tf.int64, tf.bool, tf.uint8):
        assert tf.constant([], dtype).dtype == dtype
        assert tf.convert_to_tensor([[], []], dtype=dtype).shape.as_list() == [2, 0]
    with pytest.raises(TypeError, match="floating-point"):
        tf.constant([1.5], tf.int32)
    with pytest.raises(TypeError, match="dtype bool"):
        tf.constant([1], tf.bool)


def test_dtypes_refuse_none_and_bool_ranges_as_tf():
    assert not tf.float64 == None  # noqa: E711 - the comparison under test
    assert tf.float64 != None  # noqa: E711
    with pytest.raises(TypeError, match="None"):
        tf.as_dtype(None)
    with pytest.raises(TypeError, match="Cannot find minimum value of tf.bool"):
        tf.bool.min
    with pytest.raises(TypeError, match="Cannot find maximum value of tf.bool"):
        tf.bool.max


def test_numpy_values_cast_to_a_requested_dtype_as_tf():
    # TF 2.21 casts NumPy arrays and scalars with astype (Python lists are still checked).
    assert tf.constant(np.array([1.5, -2.7]), tf.int32).numpy().tolist() == [1, -2]
    assert tf.convert_to_tensor(np.float64(1.5), tf.int32).numpy() == 1
    assert tf.constant(np.array([2, 0]), tf.bool).numpy().tolist() == [True, False]
    assert tf.constant(np.array([0.5]), tf.bool).numpy().tolist() == [True]
    with pytest.raises(TypeError, match="floating-point"):
        tf.constant([1.5], tf.int32)


def test_lists_of_float64_numpy_values_or_tensors_stay_float64():
    # TF 2.21: NumPy/Tensor leaves keep their dtype; only Python floats default to float32.
    assert tf.constant([np.float64(1.), 2.]).dtype == tf.float64
    assert tf.constant([np.zeros(2), np.ones(2)]).dtype == tf.float64
    assert tf.convert_to_tensor([tf.constant(1., tf.float64), 2.]).dtype == tf.float64
    assert tf.constant([np.float32(1.), 2.]).dtype == tf.float32
    assert tf.constant([[1., 2.]]).dtype == tf.float32


def test_empty_tensor_is_false_as_tf():
    assert not bool(tf.constant([]))


def test_np_array_copies_so_tensors_stay_immutable():
    t = tf.constant([1., 2.])
    copied = np.array(t)  # NumPy's default copy=True must give a new array.
    copied[0] = 5.
    explicit = np.array(t, dtype=np.float32, copy=True)
    explicit[1] = 7.
    assert t.numpy().tolist() == [1., 2.]
    v = tf.Variable([1., 2.])
    np.array(v)[0] = 9.
    assert v.numpy().tolist() == [1., 2.]
    assert np.asarray(t).tolist() == [1., 2.]  # copy=None: no copy needed.
    assert np.array(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)


def test_variable_refuses_tf_arguments_it_cannot_honour():
    assert tf.Variable(1., validate_shape=True, caching_device=None).numpy() == 1.
    with pytest.raises(NotImplementedError, match="validate_shape=False"):
        tf.Variable(1., validate_shape=False)
    with pytest.raises(NotImplementedError, match="aggregation='sum'"):
        tf.Variable(1., aggregation="sum")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        tf.Variable(1., colour="red")
