"""`tf.is_tensor` is True for SparseTensor and RaggedTensor, as in TF 2.21."""

import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf


def test_is_tensor_like_tf():
    assert tf.is_tensor(tf.constant(1.0)) and tf.is_tensor(tf.Variable(1.0))
    assert tf.is_tensor(tf.SparseTensor([[0]], [1.0], [2]))
    assert tf.is_tensor(tf.ragged.constant([[1], [2, 3]]))
    assert not tf.is_tensor(np.ones(2))
    assert not tf.is_tensor([1.0])
    assert not tf.is_tensor(tf.compat.v1.SparseTensorValue([[0]], [1.0], [2]))
    assert not tf.is_tensor(tf.TensorSpec([1]))
    assert not tf.is_tensor(tf.keras.Input((2,)))  # Keras 3's symbolic inputs are not


def test_is_tensor_does_not_load_sparse_or_ragged():
    code = ("import sys, numpyflow as tf; tf.is_tensor(1.0); "
            "print(sorted(m for m in sys.modules if m.startswith(('numpyflow.sparse', "
            "'numpyflow.ragged'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_keras_serialization_refuses_a_sparse_tensor_clearly():
    from numpyflow.keras.saving import serialization_lib
    with pytest.raises(TypeError, match="Cannot serialize object SparseTensor"):
        serialization_lib.serialize_keras_object(tf.SparseTensor([[0]], [1.0], [2]))
