"""`Embedding`: integer indices to dense vectors, rows of a trainable (input_dim, output_dim)
table."""

import numbers
import warnings

import numpyflow as tf
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.keras import constraints, initializers, regularizers
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import serialize_optional


def _check_positive_int(layer_name, argument, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{layer_name}: `{argument}` must be a positive integer. Received: "
                         f"{argument}={value!r} (of type {type(value).__name__}).")
    return int(value)


class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    Output `[..., d]` is row `inputs[...]` of the `embeddings` table, of shape
    `(input_dim, output_dim)`: an input of shape (batch, length) gives (batch, length,
    output_dim). Inputs of any integer dtype are used as they are; other dtypes (floats,
    bools) are cast to int32 first (floats truncate), as Keras does. An index outside
    `[0, input_dim)` raises `InvalidArgumentError` naming the layer. The gradient of the
    table is the scatter-add of the output gradient into the rows used.

    Args:
      input_dim: Size of the vocabulary: the largest index + 1.
      output_dim: Size of each embedding vector.
      embeddings_initializer: Initializer of the table ("uniform": U(-0.05, 0.05)).
      embeddings_regularizer: Optional regularizer of the table.
      embeddings_constraint: Optional constraint of the table.
      mask_zero: Whether index 0 is padding: the layer then returns the mask
        `inputs != 0` (see `compute_mask`), which the layers after it use.
      weights: Optional initial table (an array of shape (input_dim, output_dim), or a
        list holding one); the layer is then built right away.
      input_length: Accepted and ignored with a warning, as Keras 3 does (it is
        deprecated there).

    Example:

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Embedding(1000, 64, mask_zero=True)
    >>> x = tf.constant([[4, 20, 0]])
    >>> layer(x).shape
    TensorShape([1, 3, 64])
    >>> layer.compute_mask(x).numpy()
    array([[ True,  True, False]])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        input_dim = _check_positive_int("Embedding", "input_dim", input_dim)
        output_dim = _check_positive_int("Embedding", "output_dim", output_dim)
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.",
                          stacklevel=2)
        for argument, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                                ("quantization_config", quantization_config)):
            if value is not None:
                raise NotImplementedError(f"Embedding: `{argument}` is not supported by "
                                          f"numpyflow. Received: {argument}={value!r}")
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer, regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint, trainable=True)
        self.built = True

    def _convert_inputs(self, inputs):
        """Indices stay integers (the base Layer would cast them to the float dtype)."""
        if not isinstance(inputs, tf.Tensor):
            inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype not in (tf.int32, tf.int64):
            inputs = tf.cast(inputs, tf.int32)
        return inputs

    def call(self, inputs):
        if inputs.dtype not in (tf.int32, tf.int64):
            inputs = tf.cast(inputs, tf.int32)
        try:
            return tf.gather(self.embeddings, inputs)
        except InvalidArgumentError as error:
            raise InvalidArgumentError(
                None, None, f"Layer '{self.name}' (Embedding, input_dim={self.input_dim}) "
                f"expects indices in [0, {self.input_dim}). Received: {error.message}"
            ) from error

    def compute_mask(self, inputs, mask=None):
        """`inputs != 0` with `mask_zero=True`, else None."""
        if not self.mask_zero:
            return None
        return tf.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(tuple(input_shape) + (self.output_dim,))

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": serialize_optional(self.embeddings_regularizer),
            "activity_regularizer": serialize_optional(self.activity_regularizer),
            "embeddings_constraint": serialize_optional(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        })
        return config
