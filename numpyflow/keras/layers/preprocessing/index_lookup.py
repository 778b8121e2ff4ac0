"""`IndexLookup`: the vocabulary logic shared by `StringLookup`, `IntegerLookup` and
`TextVectorization`, with Keras 3's ordering, special tokens and output modes.

Indices, as in Keras: [mask token (output_mode="int" only)] [num_oov_indices OOV
indices] [the vocabulary]. `adapt` orders the vocabulary by decreasing frequency, ties by
decreasing token (bytes for strings), and keeps `max_tokens` entries with the special ones.

The table is a Python dict (tokens are strings as UTF-8 `bytes`, or ints); looking up is
bookkeeping on NumPy arrays, not a differentiable computation.
"""

import collections
import os

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.preprocessing import hashing_utils
from numpyflow.keras.layers.preprocessing.category_encoding import (
    check_not_sparse, check_output_mode, encode_categorical, encoded_shape)

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_INT64_MAX = np.iinfo(np.int64).max
VOCABULARY_FILENAME = "vocabulary.txt"


class IndexLookup(Layer):
    """Maps tokens to indices (or back, with `invert=True`); see StringLookup/IntegerLookup.

    Args:
      max_tokens: The largest vocabulary, special tokens included (None: no limit).
      num_oov_indices: How many indices out-of-vocabulary tokens share (hashed when > 1;
        0 makes an out-of-vocabulary token an error).
      mask_token: The token of index 0 in "int" mode (dropped in other modes), or None.
      oov_token: The token `invert=True` returns for OOV indices.
      vocabulary_dtype: "string" or "int64".
      vocabulary: A list/array/tensor of tokens, or a path to a file with one per line.
      idf_weights: The inverse document frequencies, with `vocabulary` in "tf_idf" mode.
      invert: Map indices to tokens (output_mode "int" only).
      output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
      sparse: Must be False.
      pad_to_max_tokens: Pad the encoded outputs' last axis to `max_tokens`.
      oov_method: "floormod" (integer OOV tokens go to token % num_oov_indices) or
        "farmhash" (hash their decimal string, as for strings).
      salt: With a salt, OOV tokens are hashed with SipHash (`to_hash_bucket_strong`).
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, **kwargs):
        frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)  # Lookup layers compute in their vocabulary's dtype.
        super().__init__(name=name, **kwargs)
        what = f"{type(self).__name__} layer '{self.name}'"
        self._what = what
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{what}: if set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{what}: if pad_to_max_tokens is True, `max_tokens` must be set. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"{what}: `num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{what}: `oov_method` must be one of ['floormod', 'farmhash']. "
                             f"Received: oov_method={oov_method!r}")
        if vocabulary_dtype not in ("string", "int64"):
            raise ValueError(f"{what}: `vocabulary_dtype` must be 'string' or 'int64'. "
                             f"Received: vocabulary_dtype={vocabulary_dtype!r}")
        if salt is not None:
            if vocabulary_dtype == "int64" and oov_method != "farmhash":
                raise ValueError(f"{what}: `salt` can only be used when "
                                 f"`oov_method='farmhash'`. Received: oov_method={oov_method}")
            salt = hashing_utils.salt_pair(salt, what)
        output_mode = check_output_mode(self.name, output_mode, OUTPUT_MODES)
        check_not_sparse(self.name, sparse)
        if invert and output_mode != "int":
            raise ValueError(f"{what}: `output_mode` must be 'int' when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{what}: `idf_weights` should only be set if `output_mode` is "
                             f"'tf_idf'. Received: output_mode={output_mode}")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{what}: when specifying the `vocabulary` argument in TF-IDF "
                             f"output mode, the `idf_weights` argument must also be provided.")
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_vocab_size
        self._has_input_vocabulary = has_input_vocabulary
        # The vocabulary as given (a path is not kept: the vocabulary goes into saved assets).
        self.input_vocabulary = None if isinstance(vocabulary, str) else _listify(vocabulary)
        self.input_idf_weights = _listify(idf_weights)
        self._tokens = None          # The learned or given tokens, in index order (keys).
        self._table = None           # {key: index}
        self.idf_weights = None      # A non-trainable Variable in "tf_idf" mode.
        self._reset_counts()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif output_mode == "tf_idf" and frozen_vocab_size is not None:
            # Restored from a config: the saved IDF weights are loaded into this variable,
            # then the vocabulary from the saved assets.
            self._set_idf_weights(np.zeros(frozen_vocab_size))
        self.built = True

    # -- keys: strings as UTF-8 bytes, integers as ints -------------------------------------
    @property
    def _is_string(self):
        return self.vocabulary_dtype == "string"

    def _key(self, token):
        if self._is_string:
            if isinstance(token, bytes):
                return token
            if isinstance(token, (str, np.str_)):
                return token.encode(getattr(self, "encoding", "utf-8"))
            raise TypeError(f"{self._what} expects string tokens. Received: {token!r}")
        if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)):
            raise TypeError(f"{self._what} expects integer tokens. Received: {token!r}")
        return int(token)

    def _token(self, key):
        """A key as get_vocabulary shows it: str for strings, int for integers."""
        if self._is_string and isinstance(key, bytes):
            return key.decode(getattr(self, "encoding", "utf-8"))
        return key

    def _keys_array(self, data):
        """`data` (tensor, array, list) as an array of keys: object array of bytes, or int64."""
        if isinstance(data, tf.Tensor):
            data = data.numpy()
        array = np.asarray(data) if not isinstance(data, np.ndarray) else data
        if self._is_string:
            if array.dtype.kind == "S":
                return array.astype(object)
            if array.dtype.kind in "UO":
                flat = [self._key(t) for t in array.reshape(-1)]
                out = np.empty(len(flat), dtype=object)
                out[:] = flat
                return out.reshape(array.shape)
            raise TypeError(f"{self._what} expects string inputs. Received an array of dtype "
                            f"{array.dtype}.")
        if array.dtype.kind in "iu":
            return array.astype(np.int64)
        if array.dtype.kind == "f" and np.all(array == np.round(array)):
            return array.astype(np.int64)
        raise TypeError(f"{self._what} expects integer inputs. Received an array of dtype "
                        f"{array.dtype}.")

    # -- vocabulary ----------------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The size of the vocabulary, mask and OOV indices included."""
        return len(self._tokens or ()) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: a token's position is its index when `include_special_tokens`."""
        tokens = [self._token(k) for k in (self._tokens or ())]
        if not include_special_tokens:
            return tokens
        special = [self.oov_token] * self._token_start_index()
        if self._oov_start_index():
            special[0] = self.mask_token
        return special + tokens

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list, array, tensor, or a path to a text file with one
        token per line) and, in "tf_idf" mode, the IDF weights (same length)."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{self._what}: `idf_weights` must be set if output_mode is "
                                 f"'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"{self._what}: `idf_weights` should only be set if output_mode "
                             f"is 'tf_idf'. Received: output_mode={self.output_mode}")
        if isinstance(vocabulary, str):
            vocabulary = self._read_vocabulary_file(vocabulary)
        tokens = [self._key(t) for t in _listify(vocabulary)]
        if not tokens:
            raise ValueError(f"{self._what}: cannot set an empty vocabulary. Received: "
                             f"vocabulary={vocabulary!r}")
        token_start = self._token_start_index()
        special = [self._special_key(self.mask_token)] * self._oov_start_index() + \
            [self._special_key(self.oov_token)] * self.num_oov_indices
        found_special = tokens[:token_start] == special
        if found_special:
            tokens = tokens[token_start:]
        repeated = [self._token(t) for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"{self._what}: the passed vocabulary has at least one repeated "
                             f"term. Please uniquify your dataset. The repeated terms are: "
                             f"{repeated}")
        for name, token, applies in (("mask", self.mask_token, True),
                                     ("OOV", self.oov_token, self.invert)):
            if applies and token is not None and self._special_key(token) in tokens:
                raise ValueError(
                    f"{self._what}: found reserved {name} token {token!r} at an unexpected "
                    f"location in `vocabulary`. The passed `vocabulary` does not need to include "
                    f"the OOV and mask tokens. Either remove all mask and OOV tokens, or include "
                    f"them only at the start of the vocabulary in precisely this order: "
                    f"{[self._token(s) for s in special]}.")
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(f"{self._what}: attempted to set a vocabulary larger than the "
                             f"maximum vocab size. Received vocabulary size is "
                             f"{token_start + len(tokens)}; `max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            weights = np.asarray(_listify(idf_weights), dtype=np.float64)
            expected = len(tokens) + (token_start if found_special else 0)
            if weights.ndim != 1 or len(weights) != expected:
                raise ValueError(f"{self._what}: `idf_weights` must be a 1D array of the "
                                 f"vocabulary's length, {expected}. Received idf_weights of "
                                 f"shape {weights.shape}.")
            if not found_special:
                weights = np.concatenate([np.full(token_start, weights.mean()), weights])
            self._set_idf_weights(weights)

    def _special_key(self, token):
        return None if token is None else self._key(token)

    def _read_vocabulary_file(self, path):
        from numpyflow.keras.saving.serialization_lib import in_safe_mode
        if in_safe_mode() is not None:
            # Keras's CVE-2025-12058: a loaded config must not make us read arbitrary files.
            raise ValueError(
                f"{self._what}: the config asks to read the vocabulary file {path!r}, outside "
                f"the saved model. numpyflow refuses to read files named by a loaded config "
                f"(a saved lookup layer keeps its vocabulary inside the `.keras` archive). "
                f"Build the layer in code with `vocabulary={path!r}` if you trust the file.")
        if self.output_mode == "tf_idf":
            raise ValueError(f"{self._what}: output_mode 'tf_idf' does not support loading a "
                             f"vocabulary from a file.")
        if not os.path.isfile(path):
            raise ValueError(f"{self._what}: vocabulary file {path} does not exist.")
        with open(path, "rb") as file:
            lines = file.read().decode(getattr(self, "encoding", "utf-8")).split("\n")
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        while lines and lines[-1] == "":
            lines.pop()
        return lines if self._is_string else [int(line) for line in lines]

    def _set_tokens(self, tokens):
        new_size = len(tokens) + self._token_start_index()
        if (self.output_mode != "int" and not self.pad_to_max_tokens
                and self._frozen_vocab_size is not None
                and new_size != self._frozen_vocab_size):
            raise RuntimeError(f"{self._what}: when using `output_mode={self.output_mode}` and "
                               f"`pad_to_max_tokens=False`, the vocabulary size cannot be "
                               f"changed once set. Old vocab size is "
                               f"{self._frozen_vocab_size}, new vocab size is {new_size}")
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._table = {key: start + i for i, key in enumerate(self._tokens)}
        self._frozen_vocab_size = new_size

    def _set_idf_weights(self, weights):
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights = np.pad(weights, (0, self.max_tokens - len(weights)))
        weights = np.asarray(weights, dtype=backend.floatx())
        if self.idf_weights is not None and tuple(self.idf_weights.shape) == weights.shape:
            self.idf_weights.assign(weights)
            return
        if self.idf_weights is not None:
            self._tracked_weights.remove(self.idf_weights)
        self.idf_weights = tf.Variable(weights, trainable=False, name="idf_weights")

    @property
    def _variable_store_keys(self):
        # Keras 3 saves the IDF weights as `vars/idf_weights` (see weights_store).
        return ["idf_weights"] if self.idf_weights is not None else None

    # -- adapt -----------------------------------------------------------------------------
    def _reset_counts(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def adapt(self, data, steps=None):
        """Learns the vocabulary (and IDF weights) from `data`: an array, list or tensor of
        tokens (1D: one token per sample), a `tf.data.Dataset` or an iterable of batches."""
        adapt_layer(self, data, steps, self._keys_array)

    def update_state(self, data):
        """Counts the tokens of one batch (rows are documents; a list of arrays is ragged)."""
        if self._has_input_vocabulary:
            raise ValueError(f"{self._what}: cannot adapt the layer after setting a static "
                             f"vocabulary via the `vocabulary` argument or `set_vocabulary()`.")
        if isinstance(data, list) and all(isinstance(r, np.ndarray) for r in data):
            rows = data  # Ragged: one array of keys per document (from TextVectorization).
        else:
            keys = self._keys_array(data)
            if keys.ndim <= 1:
                keys = keys.reshape(1, -1)
            rows = list(keys.reshape(keys.shape[0], -1)) if keys.shape[0] else []
        for row in rows:
            self._token_counts.update(row.tolist())
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(row.tolist()))
        self._num_documents += len(rows)

    def finalize_state(self):
        if self._has_input_vocabulary:
            return
        counts = dict(self._token_counts)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._key(special), None)
        if not counts:
            return
        # Decreasing count, ties by decreasing token (Keras's reversed lexsort).
        tokens = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            tokens = tokens[:self.max_tokens - self._token_start_index()]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            doc_counts = np.array([self._document_counts[t] for t in tokens], np.float64)
            idf = np.log(1 + self._num_documents / (1 + doc_counts)).astype(backend.floatx())
            idf = idf.astype(np.float64)
            self._set_idf_weights(np.concatenate(
                [np.full(self._token_start_index(), idf.mean()), idf]))
        self.reset_state()

    def reset_state(self):
        self._reset_counts()

    # -- call ------------------------------------------------------------------------------
    def _convert_inputs(self, inputs):
        if isinstance(inputs, (tf.Tensor, tf.RaggedTensor)):
            return inputs
        if self.invert or not self._is_string:
            return tf.constant(self._int_array(inputs))
        return tf.constant(self._keys_array(inputs), dtype=tf.string)

    def _int_array(self, inputs):
        array = np.asarray(inputs)
        if array.dtype.kind not in "iuf":
            raise TypeError(f"{self._what} expects integer inputs. Received dtype "
                            f"{array.dtype}.")
        return array.astype(np.int64)

    def _ensure_vocabulary(self):
        if self._tokens is None:
            raise ValueError(f"{self._what} has no vocabulary: call `adapt(data)` or "
                             f"`set_vocabulary(...)`, or pass `vocabulary=` to the constructor, "
                             f"before using it.")

    def lookup_keys(self, keys):
        """The int64 indices of an array of keys (mask and OOV handling included)."""
        self._ensure_vocabulary()
        shape = keys.shape
        flat = keys.reshape(-1)
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        table = self._table
        indices = np.fromiter((table.get(k, default) for k in flat.tolist()), np.int64,
                              count=flat.size)
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else _INT64_MAX
            indices[flat == self._key(self.mask_token)] = mask_value
        oov = indices == -1
        if self.num_oov_indices == 0 and oov.any():
            found = [self._token(k) for k in flat[oov][:10]]
            raise ValueError(f"{self._what}: when `num_oov_indices=0` all inputs should be in "
                             f"vocabulary, found OOV values {found}; consider setting "
                             f"`num_oov_indices=1`.")
        if self.num_oov_indices > 1 and oov.any():
            indices[oov] = self._oov_buckets(flat[oov]) + self._oov_start_index()
        return indices.reshape(shape)

    def _oov_buckets(self, keys):
        if not self._is_string and self.oov_method == "floormod":
            return np.mod(keys.astype(np.int64), self.num_oov_indices)
        if not self._is_string:
            keys = np.array([str(int(k)).encode() for k in keys], dtype=object)
        return hashing_utils.hash_to_buckets(keys, self.num_oov_indices, self.salt)

    def _invert_lookup(self, indices):
        self._ensure_vocabulary()
        vocab = [self._special_key(t) for t in self.get_vocabulary()]
        oov = self._special_key(self.oov_token)
        flat = indices.reshape(-1)
        values = [vocab[i] if 0 <= i < len(vocab) else oov for i in flat.tolist()]
        if self.mask_token is not None:
            mask = self._special_key(self.mask_token)
            values = [mask if i == 0 else v for i, v in zip(flat.tolist(), values)]
        if self._is_string:
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return tf.constant(out.reshape(indices.shape), dtype=tf.string)
        return tf.constant(np.asarray(values, dtype=np.int64).reshape(indices.shape))

    def call(self, inputs):
        if isinstance(inputs, tf.RaggedTensor):
            # Looked up value by value, keeping the rows (output_mode="int" only).
            if self.output_mode != "int":
                raise NotImplementedError(f"{self._what}: ragged inputs are supported with "
                                          f"output_mode='int' only in numpyflow. Received: "
                                          f"output_mode={self.output_mode!r}")
            return inputs.with_flat_values(self.call(inputs.flat_values))
        if self.invert:
            return self._invert_lookup(self._int_array(inputs.numpy()))
        return self.encode_indices(self.lookup_keys(self._keys_array(inputs)))

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def encode_indices(self, indices):
        """The layer's output for int64 `indices` (from `lookup_keys`)."""
        if self.output_mode == "int":
            return tf.constant(indices)
        if self._depth() is None:
            raise RuntimeError(f"{self._what}: when using `output_mode={self.output_mode}` and "
                               f"`pad_to_max_tokens=False`, you must set the layer's vocabulary "
                               f"before calling it.")
        if self.output_mode != "tf_idf":
            return encode_categorical(indices, self.output_mode, self._depth(), backend.floatx())
        counts = encode_categorical(indices, "count", self._depth(), backend.floatx())
        return counts * self.idf_weights

    # -- shapes and config -----------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape).as_list()
        if self.output_mode == "int":
            return tf.TensorShape(shape)
        return tf.TensorShape(encoded_shape(shape, self.output_mode, self._depth()))

    def _output_dtype(self):
        if self.output_mode != "int":
            return backend.floatx()
        return self.vocabulary_dtype if self.invert else "int64"

    def compute_output_spec(self, inputs, *args, **kwargs):
        from numpyflow.keras.graph import node as node_module
        return node_module.outputs_for(self.compute_output_shape(inputs.shape),
                                       self._output_dtype())

    @property
    def compute_dtype(self):
        return self.vocabulary_dtype

    @property
    def variable_dtype(self):
        return self.vocabulary_dtype

    def get_config(self):
        config = super().get_config()
        config.update({
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": self.input_idf_weights, "vocabulary": self.input_vocabulary,
            "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
            "salt": self.salt})
        return config

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.built = True

    # -- saving: the vocabulary is an asset of the saved file (Keras 3's hooks) --------------
    def save_assets(self, dir_path):
        """Writes the vocabulary (special tokens included) to `dir_path/vocabulary.txt`,
        unless it was given to the constructor (then it is in the config)."""
        if self.input_vocabulary is not None or self._tokens is None:
            return
        lines = [str(t) for t in self.get_vocabulary(include_special_tokens=True)]
        with open(os.path.join(dir_path, VOCABULARY_FILENAME), "wb") as file:
            file.write("\n".join(lines).encode(getattr(self, "encoding", "utf-8")))

    def load_assets(self, dir_path):
        """Reads the vocabulary `save_assets` wrote (from inside a saved file)."""
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, VOCABULARY_FILENAME)
        if not os.path.isfile(path):
            return
        with open(path, "rb") as file:
            lines = file.read().decode(getattr(self, "encoding", "utf-8")).splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        if not self._is_string:
            try:
                lines = [int(line) for line in lines]
            except ValueError:
                raise ValueError(f"{self._what}: the saved vocabulary holds a line that is not "
                                 f"an integer.") from None
        idf = None
        if self.output_mode == "tf_idf":
            idf = self.idf_weights.numpy()[:len(lines)] if self.idf_weights is not None else None
        # Not a user-given path: read while loading is fine (it came from inside the file).
        self.set_vocabulary(lines, idf_weights=idf)


def _listify(value):
    if value is None:
        return None
    if isinstance(value, tf.Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    value = list(value)
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in value]


def adapt_layer(layer, data, steps, as_array):
    """What `adapt` does for the lookup layers and TextVectorization: restarts the counts,
    feeds `data` to `layer.update_state` (batch by batch for a Dataset or another iterable,
    at most `steps` batches; else whole, as `as_array(data)` with one token per row when
    it is 1-D) and finalizes the vocabulary."""
    layer.reset_state()
    if _is_batches(data):
        for i, batch in enumerate(data):
            if steps is not None and i >= steps:
                break
            layer.update_state(batch)
    else:
        values = as_array(data)
        layer.update_state(values[:, None] if values.ndim == 1 else values)
    layer.finalize_state()


def _is_batches(data):
    """Whether `adapt` reads `data` batch by batch (a Dataset or another iterable)."""
    if isinstance(data, (list, tuple, np.ndarray, tf.Tensor, str, bytes)):
        return False
    return hasattr(data, "__iter__")
