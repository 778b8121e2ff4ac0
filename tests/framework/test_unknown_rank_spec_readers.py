"""Readers of a TensorSpec's shape outside tf.data take TensorShape(None) (unknown rank)."""

import pytest

import numpyflow as tf
from numpyflow.estimator import export


def test_map_fn_over_no_elements_with_an_unknown_rank_signature():
    # TF 2.21: shape (0,).
    empty = tf.map_fn(lambda x: x, tf.zeros([0]), fn_output_signature=tf.TensorSpec(None))
    assert empty.shape == (0,) and empty.dtype == tf.float32


def test_placeholder_of_unknown_rank_is_refused_by_name():
    def receiver_fn():
        x = export.placeholder(tf.float32, tf.TensorShape(None), name="x")
        return export.ServingInputReceiver(x, x)

    with pytest.raises(ValueError, match="placeholder x: the shape must be given"):
        export._call_receiver_fn(receiver_fn)
