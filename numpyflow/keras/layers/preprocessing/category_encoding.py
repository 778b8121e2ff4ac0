"""`CategoryEncoding`, and `encode_categorical`: integer indices to one-hot, multi-hot or
count vectors (shared by the lookup, hashing and discretization layers)."""

import numpy as np

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def check_output_mode(layer_name, output_mode, allowed):
    """`output_mode`, with Keras's aliases ("binary", "tf-idf") resolved, or a ValueError."""
    output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
    if output_mode not in allowed:
        raise ValueError(f"Layer '{layer_name}': invalid value for argument `output_mode`. "
                         f"Expected one of {list(allowed)}. Received: output_mode={output_mode!r}")
    return output_mode


def check_not_sparse(layer_name, sparse):
    if sparse:
        raise NotImplementedError(f"Layer '{layer_name}': `sparse=True` is not supported by "
                                  f"numpyflow (it has no SparseTensor). Received: sparse=True")


def encoded_shape(input_shape, output_mode, depth):
    """The output shape of `encode_categorical` for an input shape (Keras's rules)."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    if len(input_shape) >= 3:  # Keras 3 reduces axis 1 of inputs of rank 3 and more.
        return (input_shape[0],) + input_shape[2:] + (depth,)
    return input_shape[:-1] + (depth,)


def encode_categorical(indices, output_mode, depth, dtype="float32", count_weights=None):
    """Encodes integer `indices` (a NumPy array or Tensor) as Keras's `output_mode` does.

    - "one_hot": each index becomes a vector of `depth` (a last axis of size 1 is replaced);
    - "multi_hot": the last axis is one sample: a 1 for each index present in it;
    - "count": as multi_hot, with the number of times each index occurs (or the sum of
      `count_weights`, a float tensor of the indices' shape, which stays differentiable).

    For inputs of rank 3 and more, multi_hot and count reduce axis 1, as Keras 3 does.
    Indices >= depth (mask values of the lookup layers) set no position, as with
    TensorFlow's `one_hot` and `bincount`; negative ones set none with one_hot and are an
    error otherwise (TensorFlow's `bincount` refuses them).

    >>> encode_categorical(np.array([[0, 2, 2]]), "count", 3).numpy()
    array([[1., 0., 2.]], dtype=float32)
    """
    if isinstance(indices, tf.Tensor):
        indices = indices.numpy()
    indices = np.asarray(indices).astype(np.int64)
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return tf.one_hot(tf.constant(_in_range(indices, depth)), depth, dtype=dtype)
    if np.any(indices < 0):
        raise ValueError(f"Categorical encoding ({output_mode!r}) expects non-negative integer "
                         f"inputs. Received the value {int(indices.min())}.")
    # multi_hot and count: one-hot each index of a sample, then sum over the sample's axis.
    one_hot = np.eye(depth + 1, depth, dtype=np.float64)[_in_range(indices, depth, depth)]
    axis = 1 if indices.ndim >= 3 else -2
    if output_mode == "multi_hot":
        return tf.constant(one_hot.max(axis=axis, initial=0.0), dtype=dtype)
    if count_weights is None:
        return tf.constant(one_hot.sum(axis=axis), dtype=dtype)
    weights = tf.convert_to_tensor(count_weights)
    if tuple(weights.shape) != indices.shape:
        raise ValueError(f"`count_weights` must have the shape of the inputs. Received: "
                         f"count_weights.shape={tuple(weights.shape)}, inputs.shape="
                         f"{indices.shape}")
    weights = tf.cast(weights, dtype)
    return tf.reduce_sum(tf.constant(one_hot, dtype=dtype) * tf.expand_dims(weights, -1),
                         axis=axis)


def _in_range(indices, depth, outside=-1):
    """`indices` with those outside [0, depth) replaced by `outside` (a row that is all 0)."""
    return np.where((indices >= 0) & (indices < depth), indices, outside)


class CategoryEncoding(Layer):
    """Encodes integer features as one-hot, multi-hot or count vectors.

    Args:
      num_tokens: The number of tokens; inputs are integers in [0, num_tokens).
      output_mode: "multi_hot" (default; the last axis is one sample), "one_hot" (one vector
        per value) or "count" (occurrences of each token in a sample).
      sparse: Must be False (numpyflow has no SparseTensor).

    Call arguments:
      inputs: Integer indices.
      count_weights: Optional weights of the inputs' shape, summed instead of counted
        (only with output_mode="count").

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    >>> layer([3, 2, 0]).numpy()
    array([[0., 0., 0., 1.],
           [0., 0., 1., 0.],
           [1., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        output_mode = check_output_mode(self.name, output_mode, OUTPUT_MODES)
        check_not_sparse(self.name, sparse)
        if num_tokens is None:
            raise ValueError(f"CategoryEncoding layer '{self.name}': `num_tokens` must be set "
                             f"to use this layer. If the number of tokens is not known "
                             f"beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"CategoryEncoding layer '{self.name}': `num_tokens` must be >= 1. "
                             f"Received: num_tokens={num_tokens}.")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def _convert_inputs(self, inputs):
        return inputs if isinstance(inputs, tf.Tensor) else tf.convert_to_tensor(inputs)

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"CategoryEncoding layer '{self.name}': `count_weights` is not "
                             f"used when `output_mode` is not 'count'. Received: "
                             f"output_mode={self.output_mode!r}")
        if inputs.dtype.is_floating:
            values = inputs.numpy()
            if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
                raise ValueError(f"CategoryEncoding layer '{self.name}' expects integer "
                                 f"inputs in [0, {self.num_tokens}). Received non-integer "
                                 f"values of dtype {inputs.dtype.name}.")
        return encode_categorical(inputs, self.output_mode, self.num_tokens,
                                  self.compute_dtype, count_weights)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(encoded_shape(tf.TensorShape(input_shape).as_list(),
                                            self.output_mode, self.num_tokens))

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config
