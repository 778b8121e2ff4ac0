"""tf.einsum: equations made explicit, and clear errors for ones that do not fit."""

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.ops.einsum_ops import explicit_equation


@pytest.mark.parametrize("equation, shapes, explicit", [
    ("ij,jk", [(2, 3), (3, 4)], "ij,jk->ik"),
    ("ba", [(2, 3)], "ba->ab"),                       # Implicit output: alphabetical.
    ("ii", [(3, 3)], "ii->"),
    ("...ij,jk", [(5, 2, 3), (3, 4)], "Aij,jk->Aik"),
    ("...ij,...jk->...ik", [(5, 6, 2, 3), (6, 3, 4)], "ABij,Bjk->ABik"),
    ("i j , j k -> i k", [(2, 3), (3, 4)], "ij,jk->ik"),
])
def test_explicit_equation(equation, shapes, explicit):
    assert explicit_equation(equation, shapes) == explicit


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ik", [(2, 3)], "2 input term"),
    ("ij->ik", [(2, 3)], "invalid output subscripts 'ik'"),
    ("ij->ii", [(2, 3)], "invalid output subscripts"),
    ("ijk->i", [(2, 3)], "names 3 axes, but its operand has rank 2"),
    ("i1->i", [(2, 3)], "subscripts must be letters"),
    ("...i,i->i", [(2, 3), (3,)], "'...' in its inputs but not in its output"),
])
def test_bad_equations(equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        tf.einsum(equation, *[np.ones(s, "float32") for s in shapes])


def test_mismatched_dimension_names_the_subscript():
    with pytest.raises(tf.errors.InvalidArgumentError, match="subscript 'j'"):
        tf.einsum("ij,jk->ik", np.ones((2, 3), "float32"), np.ones((4, 2), "float32"))


def test_mixed_dtypes_raise():
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.einsum("i,i->", tf.constant([1., 2.]), tf.constant([1, 2]))


def test_unknown_keyword_raises():
    with pytest.raises(TypeError, match="precision"):
        tf.einsum("i,i->", [1., 2.], [1., 2.], precision="high")


def test_list_of_operands_and_symbolic_inputs():
    a, b = np.ones((2, 3), "float32"), np.ones((3, 4), "float32")
    np.testing.assert_allclose(tf.einsum("ij,jk->ik", [a, b]).numpy(), a @ b)
    x = tf.keras.Input((3,))
    y = tf.einsum("bi,ij->bj", x, tf.constant(b))
    assert tuple(y.shape) == (None, 4)
    model = tf.keras.Model(x, y)
    np.testing.assert_allclose(model(a).numpy(), a @ b)


def test_bool_and_string_operands_name_the_op():
    error = tf.errors.InvalidArgumentError
    with pytest.raises(error, match=r"received dtype bool \[Op:Einsum\]"):
        tf.einsum("i,i->", tf.constant([True]), tf.constant([True]))
    with pytest.raises(error, match=r"received dtype string \[Op:Einsum\]"):
        tf.einsum("i->i", tf.constant(["a"]))
