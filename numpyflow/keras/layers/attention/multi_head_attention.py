"""`MultiHeadAttention`, with Keras 3's sublayers and weight layout.

The query, key and value are projected per head by `EinsumDense` sublayers named
`query`, `key` and `value` (attributes `query_dense`, ... as in Keras 3, which are also their
paths in a `.keras` file) (kernels (dim, num_heads, key_dim), biases (num_heads,
key_dim)), attended per head, and projected back by `attention_output` (kernel
(num_heads, value_dim, output dim)): weights taken from Keras 3 give Keras 3's outputs.
"""

import math
import string

import numpy as np

import numpyflow as tf
from numpyflow.keras import initializers
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.graph.node import has_symbolic
from numpyflow.keras.layers.attention.masked_softmax import causal_mask, masked_softmax
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import get_optional, serialize_optional
from numpyflow.keras.layers.einsum_dense import EinsumDense


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017): `num_heads` dot-product attentions of
    projected queries, keys and values, concatenated and projected back.

    Args:
      num_heads: Number of attention heads.
      key_dim: Size of each head's query and key projections.
      value_dim: Size of each head's value projection (`key_dim` by default).
      dropout: Fraction of the attention weights dropped in training.
      use_bias: Whether the projections have biases.
      output_shape: The output's last dimension(s) (the query's last by default).
      attention_axes: The axes attention runs over (default: all but the batch, heads and
        features axes).
      kernel_initializer, bias_initializer: Initializers of the projections.
      kernel_regularizer, bias_regularizer, activity_regularizer: Optional regularizers.
      kernel_constraint, bias_constraint: Optional constraints.
      seed: Optional int for the dropout.

    Call arguments:
      query: (batch, T, dim) Tensor. value: (batch, S, dim). key: (batch, S, dim),
        `value` by default.
      query_mask, value_mask, key_mask: Optional boolean (batch, T) / (batch, S) masks,
        filled in from the inputs' Keras masks.
      attention_mask: Optional boolean (batch, T, S) mask: False stops query step t from
        attending to key step s.
      return_attention_scores: Also return the (batch, num_heads, T, S) attention weights.
      training: Whether dropout applies.
      use_causal_mask: Whether query step t may only attend to key steps <= t.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    >>> out, scores = layer(tf.ones((1, 4, 8)), tf.ones((1, 5, 8)),
    ...                     return_attention_scores=True)
    >>> out.shape, scores.shape
    (TensorShape([1, 4, 8]), TensorShape([1, 2, 4, 5]))
    >>> layer.query_dense.kernel.shape
    TensorShape([8, 2, 3])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, sliding_window=None, flash_attention=None, use_gate=False,
                 **kwargs):
        for argument, value in (("sliding_window", sliding_window),
                                ("flash_attention", flash_attention), ("use_gate", use_gate)):
            if value is not None and value is not False:
                raise NotImplementedError(f"MultiHeadAttention: `{argument}` is not supported "
                                          f"by numpyflow. Received: {argument}={value!r}")
        for argument, value, optional in (("num_heads", num_heads, False),
                                          ("key_dim", key_dim, False),
                                          ("value_dim", value_dim, True)):
            if (value is None and optional) or (
                    isinstance(value, int) and not isinstance(value, bool) and value > 0):
                continue
            expected = "a positive integer or `None`" if optional else "a positive integer"
            raise ValueError(f"Received an invalid value for argument `{argument}`, expected "
                             f"{expected}. Received: {argument}={value}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, int) \
                else tuple(output_shape)
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple."
                             f"Received: attention_axes={attention_axes}")
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = get_optional("regularizers", kernel_regularizer)
        self._bias_regularizer = get_optional("regularizers", bias_regularizer)
        self._activity_regularizer = get_optional("regularizers", activity_regularizer)
        self._kernel_constraint = get_optional("constraints", kernel_constraint)
        self._bias_constraint = get_optional("constraints", bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    # -- building ------------------------------------------------------------------------------
    def build(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(tf.TensorShape(query_shape))
        value_shape = query_shape if value_shape is None else tuple(tf.TensorShape(value_shape))
        key_shape = value_shape if key_shape is None else tuple(tf.TensorShape(key_shape))
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        self.query_dense = self._projection(query_shape, self._key_dim, "query")
        self.key_dense = self._projection(key_shape, self._key_dim, "key")
        self.value_dense = self._projection(value_shape, self._value_dim, "value")
        rank = len(query_shape) + 1  # Of the projected tensors: (batch, ..., heads, dim).
        if self._attention_axes is None:
            axes = tuple(range(1, rank - 2))
        else:
            axes = tuple(axis if axis >= 0 else rank - 1 + axis
                         for axis in self._attention_axes)
        self._attention_axes = axes
        self._dot_product_equation, self._combine_equation, scores_rank = \
            _attention_equations(rank, axes)
        self._softmax_axes = tuple(range(scores_rank - len(axes), scores_rank))
        output_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes, output_rank = _projection_equation(
            len(query_shape) - 1, bound_dims=2, output_dims=len(output_shape))
        self.output_dense = EinsumDense(
            equation, output_shape=[None] * (output_rank - 1 - len(output_shape)) +
            list(output_shape), bias_axes=bias_axes if self._use_bias else None,
            name="attention_output", **self._sublayer_arguments())
        projected = list(self.query_dense.compute_output_shape(query_shape))
        projected[-1] = self._value_dim
        self.output_dense.build(tuple(projected))
        self.built = True

    def _projection(self, input_shape, head_dim, name):
        equation, bias_axes, output_rank = _projection_equation(
            len(input_shape) - 1, bound_dims=1, output_dims=2)
        layer = EinsumDense(equation, output_shape=[None] * (output_rank - 3) +
                            [self._num_heads, head_dim],
                            bias_axes=bias_axes if self._use_bias else None, name=name,
                            **self._sublayer_arguments())
        layer.build(input_shape)
        return layer

    def _sublayer_arguments(self):
        return dict(
            kernel_initializer=type(self._kernel_initializer).from_config(
                self._kernel_initializer.get_config()),
            bias_initializer=type(self._bias_initializer).from_config(
                self._bias_initializer.get_config()),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint, bias_constraint=self._bias_constraint,
            dtype=self.dtype)

    # -- calling -------------------------------------------------------------------------------
    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:
            raise ValueError(f"MultiHeadAttention '{self.name}' needs a `value` (for "
                             f"self-attention, pass the same tensor as query and value).")
        if not self.built:
            shapes = {"query_shape": _shape(query), "value_shape": _shape(value)}
            if key is not None:
                shapes["key_shape"] = _shape(key)
            self.build(**shapes)
        if not has_symbolic((query, value, key)):
            value = self._convert_inputs(value)
            key = None if key is None else self._convert_inputs(key)
        return super().__call__(query, value, key=key, **kwargs)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        if key is None:
            key = value
        if attention_mask is not None:
            self._check_attention_mask(attention_mask, query, key)
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        # The projections do not pass masks on (the attention mask above has them all).
        query = self.query_dense(_without_mask(query))
        key = self.key_dense(_without_mask(key))
        value = self.value_dense(_without_mask(value))
        output, scores = self._compute_attention(query, key, value, attention_mask, training,
                                                 return_attention_scores)
        output = self.output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _check_attention_mask(self, attention_mask, query, key):
        """A ValueError naming the layer unless `attention_mask` broadcasts to the scores."""
        axes = self._attention_axes
        query_shape, key_shape = tuple(query.shape), tuple(key.shape)
        shape = tuple(attention_mask.shape)
        targets = tuple(query_shape[a] for a in axes) + tuple(key_shape[a] for a in axes)
        leading = tuple(d for a, d in enumerate(query_shape[:-1]) if a not in axes)
        scores_shape = leading + (self._num_heads,) + targets
        if any(d is None for d in scores_shape + shape):
            return
        ok = len(shape) >= len(targets)
        if ok:
            tail = len(targets)
            expanded = shape[:len(shape) - tail] + (1,) * (len(scores_shape) - len(shape)) + \
                shape[len(shape) - tail:]
            try:
                ok = np.broadcast_shapes(expanded, scores_shape) == scores_shape
            except ValueError:
                ok = False
        if not ok:
            raise ValueError(f"MultiHeadAttention '{self.name}': `attention_mask` must be "
                             f"broadcastable to (batch, query steps, key steps) = "
                             f"{leading + targets} (or, per head, {scores_shape}). Received: "
                             f"attention_mask.shape={shape}")

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None,
                                key_mask=None, attention_mask=None, use_causal_mask=False):
        """The (batch, T, S) boolean mask of the query and key steps that may attend."""
        combined = None
        for mask, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):
            if mask is not None:
                mask = tf.expand_dims(tf.cast(mask, tf.bool), axis)
                combined = mask if combined is None else tf.logical_and(combined, mask)
        if use_causal_mask:
            mask = causal_mask(query.shape[1], value.shape[1])
            combined = mask if combined is None else tf.logical_and(combined, mask)
        if attention_mask is not None:
            attention_mask = tf.cast(attention_mask, tf.bool)
            if combined is not None:
                attention_mask = tf.logical_and(attention_mask, combined)
            return attention_mask
        return combined

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False):
        query = query * tf.constant(self._inverse_sqrt_key_dim, dtype=query.dtype)
        scores = tf.einsum(self._dot_product_equation, key, query)
        if attention_mask is not None:
            expand_at = -len(self._attention_axes) * 2 - 1  # Before the heads axis.
            for _ in range(scores.ndim - attention_mask.ndim):
                attention_mask = tf.expand_dims(attention_mask, expand_at)
        # Keras 3 runs its fused attention unless scores are returned or dropout is on:
        # there, a query step with every key masked attends uniformly (not with 0 weights).
        fused = not (self._dropout > 0.0 or return_attention_scores or query.ndim != 4)
        scores = masked_softmax(scores, attention_mask, axis=self._softmax_axes,
                                zero_masked=not fused)
        attended = scores
        if training and self._dropout > 0.0:
            attended = tf.nn.dropout(scores, rate=self._dropout, seed=self.seed)
        output = tf.einsum(self._combine_equation, attended, value)
        return output, scores

    # -- shapes and config -----------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(tf.TensorShape(query_shape))
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if self._output_shape:
            query_shape = query_shape[:-1] + tuple(self._output_shape)
        return tf.TensorShape(query_shape)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False,
                            **kwargs):
        shape = self.compute_output_shape(query.shape, value.shape,
                                          None if key is None else key.shape)
        output = KerasTensor(shape, dtype=self._dtype)
        if return_attention_scores:
            scores_shape = (query.shape[0], self._num_heads, query.shape[1],
                            (value if key is None else key).shape[1])
            return output, KerasTensor(scores_shape, dtype=self._dtype)
        return output

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Given to the projections (below).
        config.update({
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": False,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": None,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": serialize_optional(self._kernel_regularizer),
            "bias_regularizer": serialize_optional(self._bias_regularizer),
            "activity_regularizer": serialize_optional(self._activity_regularizer),
            "kernel_constraint": serialize_optional(self._kernel_constraint),
            "bias_constraint": serialize_optional(self._bias_constraint),
            "seed": self.seed,
        })
        return config


def _without_mask(x):
    """`x`, or (when it carries a Keras mask) the same values without it."""
    return tf.identity(x) if getattr(x, "_keras_mask", None) is not None else x


def _shape(x):
    return tuple(tf.TensorShape(x.shape if hasattr(x, "shape") else tf.convert_to_tensor(x).shape))


def _letters(count, offset=0):
    return string.ascii_lowercase[offset:offset + count]


def _projection_equation(free_dims, bound_dims, output_dims):
    """`(equation, bias_axes, output rank)` of a projection keeping `free_dims` axes,
    contracting `bound_dims` and adding `output_dims` (Keras 3's letters: a, b, c, ...)."""
    free = _letters(free_dims)
    bound = _letters(bound_dims, free_dims)
    added = _letters(output_dims, free_dims + bound_dims)
    return f"{free}{bound},{bound}{added}->{free}{added}", added, len(free) + len(added)


def _attention_equations(rank, attention_axes):
    """The query-key product and the weights-value combination as einsum equations, for
    projected tensors of `rank` (batch, ..., heads, head_dim), attending over
    `attention_axes`; and the rank of the scores (batch dims, heads, query axes, key axes).
    """
    target = _letters(rank)
    batch_axes = [axis for axis in range(rank)
                  if axis not in attention_axes and axis != rank - 1]
    source, offset = "", rank
    for axis in range(rank):
        if axis in batch_axes or axis == rank - 1:
            source += target[axis]
        else:
            source += _letters(1, offset)
            offset += 1
    product = ("".join(target[axis] for axis in batch_axes) +
               "".join(target[axis] for axis in attention_axes) +
               "".join(source[axis] for axis in attention_axes))
    return (f"{source},{target}->{product}", f"{product},{source}->{target}", len(product))
