"""`IntegerLookup`: maps integer features to contiguous indices from a vocabulary."""

from numpyflow.keras.layers.preprocessing.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps integers to indices (vocabulary given or learned by `adapt`).

    Index 0 is the mask token's (if `mask_token` is set and output_mode="int"), then
    `num_oov_indices` indices for out-of-vocabulary values, then the vocabulary, most
    frequent first after `adapt`.

    Args:
      max_tokens: The largest vocabulary, special indices included (None: no limit).
      num_oov_indices: OOV indices (1); values go to `value % num_oov_indices` when > 1.
      mask_token: An integer meaning "masked" (None).
      oov_token: What `invert=True` returns for OOV indices (-1).
      vocabulary: A list/array/tensor of integers, or a path to a file of one per line.
      vocabulary_dtype: "int64".
      idf_weights: IDF weights with `vocabulary` when output_mode="tf_idf".
      invert: Map indices back to integers.
      output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
      sparse: Must be False.
      pad_to_max_tokens: Pad encoded outputs to `max_tokens`.
      oov_method: "floormod" or "farmhash".
      salt: A SipHash salt for "farmhash" OOV hashing.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]]).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only `vocabulary_dtype='int64'` is supported. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
