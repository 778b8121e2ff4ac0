"""`StringLookup`: maps string features to integer indices from a vocabulary."""

from numpyflow.keras.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Maps strings to indices (vocabulary given or learned by `adapt`).

    Index 0 is the mask token's (if `mask_token` is set and output_mode="int"), then
    `num_oov_indices` indices for out-of-vocabulary strings (hashed with FarmHash when
    more than one), then the vocabulary, most frequent first after `adapt`.

    Args:
      max_tokens: The largest vocabulary, special tokens included (None: no limit).
      num_oov_indices: OOV indices (1).
      mask_token: A string meaning "masked" (None).
      oov_token: What `invert=True` returns for OOV indices ("[UNK]").
      vocabulary: A list/array/tensor of strings, or a path to a file of one per line.
      idf_weights: IDF weights with `vocabulary` when output_mode="tf_idf".
      invert: Map indices back to strings.
      output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
      pad_to_max_tokens: Pad encoded outputs to `max_tokens`.
      sparse: Must be False.
      encoding: The text encoding of the strings ("utf-8").
      salt: A SipHash salt for hashing OOV strings.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)  # Strings only (Keras does not save it either).
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
