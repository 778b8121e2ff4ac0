"""`Attention` (Luong-style, dot-product) and `AdditiveAttention` (Bahdanau-style).

Both take `[query, value]` or `[query, value, key]` of shapes (batch, Tq, dim),
(batch, Tv, dim), (batch, Tv, dim): scores of each query step against each key step,
a softmax over the key steps, and the weighted sum of the values.
"""

import numpyflow as tf
from numpyflow.keras.layers.attention.masked_softmax import causal_mask, masked_softmax
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.graph.keras_tensor import KerasTensor


class Attention(Layer):
    """Dot-product attention: `softmax(query @ key^T) @ value`.

    Args:
      use_scale: Whether to multiply the scores by a learned scalar `scale`.
      score_mode: "dot" (`query @ key^T`) or "concat" (`sum(tanh(query + key))`,
        weighted by a learned scalar).
      dropout: Fraction of the attention weights dropped in training.
      seed: Optional int for the dropout.

    Call arguments:
      inputs: `[query, value]` or `[query, value, key]` (key defaults to value).
      mask: Optional `[query_mask, value_mask]` (booleans of shapes (batch, Tq) and
        (batch, Tv)); filled in from the inputs' Keras masks. Masked value steps get no
        weight (unless all of a query step's are masked: then all get the same weight, as
        in Keras); outputs at masked query steps are 0.
      training: Whether dropout applies.
      return_attention_scores: Also return the (batch, Tq, Tv) attention weights.
      use_causal_mask: Whether query step t may only see value steps <= t.

    >>> import numpyflow as tf
    >>> query, value = tf.ones((2, 3, 4)), tf.ones((2, 5, 4))
    >>> tf.keras.layers.Attention()([query, value]).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True
        self.scale = self.concat_score_weight = None

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(),
                                                       initializer="ones")
        self.built = True

    def _calculate_scores(self, query, key):
        """(batch, Tq, Tv) scores of each query step against each key step."""
        if self.score_mode == "dot":
            scores = tf.matmul(query, key, transpose_b=True)
            return scores * self.scale if self.scale is not None else scores
        pairs = tf.expand_dims(query, -2) + tf.expand_dims(key, -3)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * tf.reduce_sum(tf.tanh(pairs), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask = mask[0] if mask else None
        value_mask = mask[1] if mask else None
        scores = self._calculate_scores(query, key)
        scores_mask = None
        if value_mask is not None:
            scores_mask = tf.expand_dims(tf.cast(value_mask, tf.bool), -2)  # (batch, 1, Tv)
        if use_causal_mask:
            causal = causal_mask(scores.shape[-2], scores.shape[-1])
            scores_mask = causal if scores_mask is None else tf.logical_and(scores_mask, causal)
        # Keras adds -1e9 to masked scores: a row with every key masked gets uniform weights.
        weights = masked_softmax(scores, scores_mask, zero_masked=False)
        attended = weights
        if training and self.dropout > 0:
            attended = tf.nn.dropout(weights, rate=self.dropout, seed=self.seed)
        outputs = tf.matmul(attended, value)
        if query_mask is not None:
            keep = tf.expand_dims(tf.cast(query_mask, tf.bool), -1)
            outputs = tf.where(keep, outputs, tf.zeros((), dtype=outputs.dtype))
        if return_attention_scores:
            return outputs, weights
        return outputs

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return tf.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        return tf.TensorShape(query_shape[:-1] + value_shape[-1:])

    def compute_output_spec(self, inputs, mask=None, training=None,
                            return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        output = KerasTensor(self.compute_output_shape([query.shape, value.shape]),
                             dtype=self._dtype)
        if return_attention_scores:
            scores = KerasTensor(tuple(query.shape[:-1]) + (key.shape[-2],), dtype=self._dtype)
            return output, scores
        return output

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or _is_shape(inputs):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: "
                             f"inputs={inputs}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             f"[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                                 f"value_mask]. Received: mask={mask}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. "
                                 f"Received: inputs={inputs}, mask={mask}.")

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


class AdditiveAttention(Attention):
    """Additive attention: scores `sum(scale * tanh(query + key))` over the features.

    Args:
      use_scale: Whether to learn a per-feature `scale` (shape (dim,)); else 1.
      dropout: Fraction of the attention weights dropped in training.

    Call arguments are those of `Attention`.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.AdditiveAttention()
    >>> layer([tf.ones((2, 3, 4)), tf.ones((2, 5, 4))]).shape
    TensorShape([2, 3, 4])
    >>> layer.scale.shape
    TensorShape([4])
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            dim = tuple(input_shape[0])[-1]
            self.scale = self.add_weight(name="scale", shape=(dim,),
                                         initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        pairs = tf.tanh(tf.expand_dims(query, -2) + tf.expand_dims(key, -3))
        if self.scale is not None:
            pairs = self.scale * pairs
        return tf.reduce_sum(pairs, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


def _is_shape(value):
    """Whether a list is one shape (ints/None) rather than a list of inputs or shapes."""
    return isinstance(value, tf.TensorShape) or (
        isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int) for d in value))
