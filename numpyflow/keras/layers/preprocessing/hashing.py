"""`Hashing`: hashes strings or integers into a fixed number of bins, as Keras 3 does
(TensorFlow's `to_hash_bucket_fast`, or `_strong` with a salt, of the values as strings)."""

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.preprocessing import hashing_utils
from numpyflow.keras.layers.preprocessing.category_encoding import (
    check_not_sparse, check_output_mode, encode_categorical, encoded_shape)


class Hashing(Layer):
    """Hashes each value (string or integer) to a bin in [0, num_bins).

    Integers (and floats, truncated to integers) are hashed as their decimal string, so
    `Hashing` gives the same bins as Keras 3 on TensorFlow.

    Args:
      num_bins: The number of bins, the mask bin included when `mask_value` is set.
      mask_value: A value that goes to bin 0 (the others hash to [1, num_bins)).
      salt: An integer or a pair of integers: use the keyed SipHash (to_hash_bucket_strong).
      output_mode: "int" (default), "one_hot", "multi_hot" or "count".
      sparse: Must be False.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Hashing(num_bins=3)
    >>> layer([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy()
    array([[1],
           [0],
           [1],
           [1],
           [2]])
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else backend.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"Hashing layer '{self.name}': `num_bins` cannot be `None` or a "
                             f"non-positive value. Received: num_bins={num_bins}.")
        self.output_mode = check_output_mode(self.name, output_mode,
                                             ("int", "one_hot", "multi_hot", "count"))
        if self.output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(f"Hashing layer '{self.name}': when `output_mode=\"int\"`, `dtype` "
                             f"should be an integer type, 'int32' or 'int64'. Received: "
                             f"dtype={self.dtype}")
        check_not_sparse(self.name, sparse)
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.salt = None if salt is None else hashing_utils.salt_pair(
            salt, f"Hashing layer '{self.name}'")
        self.sparse = False

    def _convert_inputs(self, inputs):
        if isinstance(inputs, tf.Tensor):
            return inputs
        array = np.asarray(inputs)
        if array.dtype.kind in "USO":
            return tf.constant(array.astype(object) if array.dtype.kind != "U" else array,
                               dtype=tf.string)
        return tf.constant(array)

    def _hash(self, values):
        """int64 bins of an array of values (strings as bytes, or numbers)."""
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask_value = self.mask_value
            if values.dtype == object and isinstance(mask_value, str):
                mask_value = mask_value.encode("utf-8")
            mask = values == mask_value
        if values.dtype.kind == "f":
            values = values.astype(np.int64)
        if values.dtype != object:  # Hashed as tf.as_string writes them ("true" for True).
            keys = np.empty(values.shape, dtype=object)
            keys.reshape(-1)[:] = [(str(bool(v)).lower() if values.dtype.kind == "b"
                                    else str(int(v))).encode() for v in values.reshape(-1)]
            values = keys
        hashed = hashing_utils.hash_to_buckets(values, bins, self.salt)
        if mask is not None:
            hashed = np.where(mask, 0, hashed + 1)
        return hashed

    def call(self, inputs):
        values = inputs.numpy()
        if inputs.dtype == tf.string:  # A rank-0 string tensor gives `bytes`, not an array.
            values = np.asarray(values, dtype=object)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        indices = self._hash(values)
        if self.output_mode == "int":
            return tf.constant(indices.astype(self.dtype))
        return encode_categorical(indices, self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape).as_list()
        if self.output_mode == "one_hot" and shape and shape[-1] == 1:
            shape = shape[:-1]
        return tf.TensorShape(encoded_shape(shape, self.output_mode, self.num_bins))

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
