"""Softmax over attention scores where a boolean mask leaves some keys out."""

import numpyflow as tf

# What Keras puts in place of masked-out scores before the softmax (float16: -3e4).
LARGE_NEGATIVE = -1e9


def masked_softmax(scores, mask=None, axis=-1, zero_masked=True):
    """`softmax(scores)` over `axis` (an int or a tuple of ints), ignoring masked scores.

    Args:
      scores: Float Tensor of attention scores.
      mask: Optional boolean Tensor broadcastable to `scores`; False leaves a score out.
      axis: The axis (or axes) the probabilities sum to 1 over.
      zero_masked: Whether masked positions come out as 0 (the Softmax layer's rule); if
        False, a row with every key masked gets uniform weights (the fused attention rule).

    >>> import numpyflow as tf
    >>> masked_softmax(tf.constant([[1., 1., 5.]]), tf.constant([[True, True, False]])).numpy()
    array([[0.5, 0.5, 0. ]], dtype=float32)
    """
    if mask is not None:
        mask = tf.cast(mask, tf.bool)
        large_negative = -3e4 if scores.dtype == tf.float16 else LARGE_NEGATIVE
        scores = tf.where(mask, scores, tf.constant(large_negative, dtype=scores.dtype))
    if isinstance(axis, (tuple, list)) and len(axis) > 1:
        weights = tf.exp(scores - tf.reduce_logsumexp(scores, axis=list(axis), keepdims=True))
    else:
        axis = axis[0] if isinstance(axis, (tuple, list)) else axis
        weights = tf.nn.softmax(scores, axis=axis)
    if mask is not None and zero_masked:
        weights = tf.where(mask, weights, tf.zeros((), dtype=weights.dtype))
    return weights


def causal_mask(query_length, value_length):
    """A (1, T, S) boolean mask: query step t sees value steps s <= t."""
    rows = tf.reshape(tf.range(query_length), (1, query_length, 1))
    columns = tf.reshape(tf.range(value_length), (1, 1, value_length))
    return tf.greater_equal(rows, columns)
