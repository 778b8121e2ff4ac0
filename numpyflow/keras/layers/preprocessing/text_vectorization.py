"""`TextVectorization`: strings to token indices or token vectors, as Keras 3 does it:
standardize, split, form n-grams, then look up in a `StringLookup` vocabulary whose index
0 is the padding/mask token "" and index 1 the OOV token "[UNK]".
"""

import numpy as np

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.preprocessing import text_ops
from numpyflow.keras.layers.preprocessing.category_encoding import check_not_sparse
from numpyflow.keras.layers.preprocessing.index_lookup import _INT64_MAX, adapt_layer
from numpyflow.keras.layers.preprocessing.string_lookup import StringLookup

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _check_choice(layer_name, arg_name, value, allowed):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(f"TextVectorization layer '{layer_name}': `{arg_name}` must be None, a "
                     f"callable or one of {list(allowed)}. Received: {arg_name}={value!r}")


class TextVectorization(Layer):
    """Maps text to integer sequences or to multi-hot/count/TF-IDF vectors.

    Args:
      max_tokens: The largest vocabulary, the mask "" and OOV "[UNK]" tokens included.
      standardize: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation",
        None, or a callable taking and returning a string tensor. Lowercasing is ASCII-only,
        as in TensorFlow.
      split: "whitespace" (default), "character", None (each input is one token), or a
        callable taking a 1D string tensor and returning a list of token lists.
      ngrams: None, an integer n (all n-grams up to n) or a tuple of n-gram widths.
      output_mode: "int" (default), "multi_hot", "count" or "tf_idf".
      output_sequence_length: In "int" mode, pad or truncate each sequence to this length
        (without it, sequences are padded to the batch's longest).
      pad_to_max_tokens: Pad encoded outputs to `max_tokens` entries.
      vocabulary: A list of tokens or a path to a file of one token per line.
      idf_weights: IDF weights with `vocabulary` in "tf_idf" mode.
      ragged: In "int" mode, return a RaggedTensor of each text's token indices
        (truncated to `output_sequence_length` if set) instead of a padded tensor.
      sparse: Must be False.
      encoding: The text encoding ("utf-8").

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog ran!"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'ran', 'dog', 'cat']
    >>> layer(["the cat ran away"]).numpy()
    array([[2, 6, 4, 1]])
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        what = f"TextVectorization layer '{self.name}'"
        check_not_sparse(self.name, sparse)
        if ragged and output_mode not in ("int",):
            raise ValueError(f"{what}: `ragged` must not be true if `output_mode` is not "
                             f"'int'. Received: ragged={ragged} and output_mode={output_mode}")
        _check_choice(self.name, "standardize", standardize, _STANDARDIZE)
        _check_choice(self.name, "split", split, _SPLIT)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in ("int", "multi_hot", "count", "tf_idf"):
            if output_mode == "one_hot":
                raise NotImplementedError(f"{what}: output_mode='one_hot' is not supported by "
                                          f"numpyflow; use 'int' and a CategoryEncoding layer.")
            raise ValueError(f"{what}: invalid value for argument `output_mode`. Expected one "
                             f"of ['int', 'multi_hot', 'count', 'tf_idf']. Received: "
                             f"output_mode={output_mode!r}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        def positive_int(n):
            return isinstance(n, int) and not isinstance(n, bool) and n >= 1

        if not (ngrams is None or positive_int(ngrams)
                or (isinstance(ngrams, tuple) and ngrams and all(map(positive_int, ngrams)))):
            raise ValueError(f"{what}: `ngrams` must be None, a positive integer, or a tuple "
                             f"of positive integers. Received: ngrams={ngrams!r}")
        if output_mode == "int" and not (output_sequence_length is None or (
                isinstance(output_sequence_length, int) and
                not isinstance(output_sequence_length, bool) and output_sequence_length >= 0)):
            raise ValueError(f"{what}: `output_sequence_length` must be either None or a "
                             f"non-negative integer when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length!r}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"{what}: `output_sequence_length` must not be set if "
                             f"`output_mode` is not 'int'. Received: output_sequence_length="
                             f"{output_sequence_length}.")
        self._what = what
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._ragged = bool(ragged)
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size, name=f"{self.name}_lookup")
        self._sync_idf_weights()
        self.built = True

    def _sync_idf_weights(self):
        """Holds the lookup's IDF weights as this layer's own variable too: Keras 3 saves
        them under both layers (`vars/idf_weights`), so files match in both directions."""
        current = self._lookup_layer.idf_weights
        self._tracked_weights[:] = [] if current is None else [current]

    @property
    def _variable_store_keys(self):
        return self._lookup_layer._variable_store_keys

    # -- vocabulary ---------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary; with the special tokens, a token's position is its index."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The vocabulary's size, mask and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (list or path to a file) and, for "tf_idf", the IDF weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)
        self._sync_idf_weights()

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from `data`: a list, array or tensor of strings, or a
        `tf.data.Dataset` (batched or not) or another iterable of them."""
        if batch_size is not None:
            raise NotImplementedError(f"{self._what}: adapt() reads `data` as given; "
                                      f"`batch_size` is not supported. Received: "
                                      f"batch_size={batch_size}")
        adapt_layer(self, data, steps, self._string_array)

    def update_state(self, data):
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()
        self._sync_idf_weights()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # -- the text pipeline ----------------------------------------------------------------
    def _string_array(self, data):
        if isinstance(data, tf.Tensor):
            if not data.dtype.is_string:
                raise TypeError(f"{self._what} expects string inputs. Received a tensor of "
                                f"dtype {data.dtype.name}.")
            return np.asarray(data.numpy(), dtype=object)
        array = np.asarray(data)
        if array.dtype.kind not in "USO":
            raise TypeError(f"{self._what} expects string inputs. Received an array of "
                            f"dtype {array.dtype}.")
        return text_ops.as_bytes_array(array, self._encoding)

    def _standardized(self, strings):
        standardize = self._standardize
        if standardize in ("lower", "lower_and_strip_punctuation"):
            strings = text_ops.lower(strings)
        if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            strings = text_ops.strip_punctuation(strings)
        if callable(standardize):
            result = standardize(tf.constant(strings, dtype=tf.string))
            strings = self._string_array(result)
        return strings

    def _preprocess(self, data):
        """Standardized, split tokens: a list of 1D arrays of `bytes` (one per row), or,
        with `split=None`, an array of the standardized strings."""
        strings = self._standardized(self._string_array(data))
        if self._split is None:
            tokens = strings
            if self._ngrams is not None:
                raise NotImplementedError(f"{self._what}: `ngrams` with `split=None` is not "
                                          f"supported by numpyflow.")
            return tokens
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(f"{self._what}: when tokenizing strings, the input rank must "
                                 f"be 1 or the last dimension must be 1. Received: inputs.shape="
                                 f"{strings.shape} with rank={strings.ndim}")
            strings = strings[..., 0]
        if strings.ndim == 0:
            strings = strings.reshape(1)  # One string: one document.
        if strings.ndim != 1:
            raise ValueError(f"{self._what} expects a batch of strings of shape (batch,) or "
                             f"(batch, 1). Received shape {strings.shape}")
        if self._split == "whitespace":
            rows = text_ops.split_whitespace(strings)
        elif self._split == "character":
            rows = text_ops.split_characters(strings)
        else:
            rows = text_ops.rows_of(self._split(tf.constant(strings, dtype=tf.string)))
            if len(rows) != len(strings):
                raise ValueError(f"{self._what}: the `split` callable returned {len(rows)} "
                                 f"rows for {len(strings)} strings.")
        if self._ngrams is not None:
            rows = text_ops.ngrams(rows, self._ngrams)
        return [text_ops.as_bytes_array(np.asarray(row, dtype=object), self._encoding)
                if len(row) else np.empty(0, dtype=object) for row in rows]

    # -- call ------------------------------------------------------------------------------
    def _convert_inputs(self, inputs):
        if isinstance(inputs, tf.Tensor):
            return inputs
        return tf.constant(self._string_array(inputs), dtype=tf.string)

    def call(self, inputs):
        outputs = self._call_batch(inputs)
        if self._split is not None and len(inputs.shape) == 0:
            # One string (rank 0) is one document: Keras returns its row without a batch axis.
            return outputs.values if self._ragged else outputs[0]
        return outputs

    def _call_batch(self, inputs):
        lookup = self._lookup_layer
        tokens = self._preprocess(inputs)
        if self._split is None:
            indices = lookup.lookup_keys(tokens)
            if self._output_mode != "int":
                return lookup.encode_indices(indices)
            return tf.constant(self._fit_length(indices))
        rows = [lookup.lookup_keys(row) for row in tokens]
        if self._ragged:
            rows = [row[:self._output_sequence_length] for row in rows]
            values = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            return tf.RaggedTensor.from_row_lengths(tf.constant(values.astype(np.int64)),
                                                   [len(row) for row in rows])
        if self._output_mode == "int":
            longest = max((len(r) for r in rows), default=0)
            width = self._output_sequence_length
            padded = np.zeros((len(rows), longest if width is None else width), np.int64)
            for i, row in enumerate(rows):
                row = row[:padded.shape[1]]
                padded[i, :len(row)] = row
            return tf.constant(padded)
        longest = max((len(r) for r in rows), default=0)
        padded = np.full((len(rows), max(longest, 1)), _INT64_MAX, np.int64)  # Ignored.
        for i, row in enumerate(rows):
            padded[i, :len(row)] = row
        return lookup.encode_indices(padded)

    def _fit_length(self, indices):
        width = self._output_sequence_length
        if width is None:
            return indices
        if indices.ndim == 0:
            indices = indices[None]
        indices = indices[..., :width]
        pad = [(0, 0)] * (indices.ndim - 1) + [(0, width - indices.shape[-1])]
        return np.pad(indices, pad)

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape).as_list()
        if self._output_mode == "int":
            if self._split is None:
                if self._output_sequence_length is not None:
                    shape = (shape or [1])[:-1] + [self._output_sequence_length]
                return tf.TensorShape(shape)
            if not shape:  # One string: one unbatched row, as `call` gives.
                return tf.TensorShape([self._output_sequence_length])
            return tf.TensorShape([shape[0], self._output_sequence_length])
        if self._split is not None:
            shape = shape[:1]
        else:
            shape = shape[:-1] if len(shape) > 1 else shape[:0]
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup.vocabulary_size()
        return tf.TensorShape(shape + [depth])

    def compute_output_spec(self, inputs, *args, **kwargs):
        from numpyflow.keras.graph import node as node_module
        dtype = "int64" if self._output_mode == "int" else "float32"
        return node_module.outputs_for(self.compute_output_shape(inputs.shape), dtype)

    @property
    def compute_dtype(self):
        return "string"

    @property
    def variable_dtype(self):
        return "string"

    def get_config(self):
        lookup = self._lookup_layer
        config = super().get_config()
        config.update({
            "max_tokens": lookup.max_tokens,
            "standardize": self._serialize_callable(self._standardize),
            "split": self._serialize_callable(self._split),
            "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False,
            "ragged": self._ragged,
            "vocabulary": lookup.input_vocabulary, "idf_weights": lookup.input_idf_weights,
            "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()})
        return config

    @staticmethod
    def _serialize_callable(value):
        if callable(value):
            from numpyflow.keras.saving.serialization_lib import serialize_keras_object
            return serialize_keras_object(value)
        return value

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                # A registered function (by name only: loading never runs code from a file).
                from numpyflow.keras.saving.serialization_lib import deserialize_keras_object
                config[key] = deserialize_keras_object(config[key])
        return super().from_config(config)

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.built = True

    # -- saving: the vocabulary goes into the saved file's assets -------------------------
    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)
        self._sync_idf_weights()
