"""`run_layer_test` cases of the categorical and text preprocessing layers (registered in
`layer_cases.py`). Their outputs are indices or encodings with no gradient, and they have no
trainable weights, so the training step only checks that nothing breaks (Discretization
takes float inputs, which have no gradient through its bins: its step is skipped)."""

import numpy as np

from numpyflow.keras.layers import (
    CategoryEncoding, Discretization, Hashing, IntegerLookup, StringLookup, TextVectorization)
from tests.keras.layer_cases import LayerCase

WORDS = np.array([["a", "b", "zz"], ["c", "a", "d"]])
SENTENCES = np.array(["The cat sat.", "a dog and a cat"])
VOCABULARY = ["the", "cat", "dog", "a"]

LOOKUP_CASES = [
    LayerCase(CategoryEncoding, {"num_tokens": 10}, (2, 4), (2, 10), 0, input_dtype="int64"),
    LayerCase(CategoryEncoding, {"num_tokens": 10, "output_mode": "one_hot"}, (3,), (3, 10),
              0, input_dtype="int32"),
    LayerCase(CategoryEncoding, {"num_tokens": 10, "output_mode": "count"}, (2, 5), (2, 10), 0,
              input_dtype="int64"),
    LayerCase(Discretization, {"bin_boundaries": [-1.0, 0.0, 1.0]}, (2, 3), (2, 3), 0,
              training_step=False),
    LayerCase(Discretization, {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"},
              (4, 1), (4, 3), 0, training_step=False),
    LayerCase(IntegerLookup, {"vocabulary": [1, 3, 5, 7]}, (2, 3), (2, 3), 0,
              input_dtype="int64"),
    LayerCase(IntegerLookup, {"vocabulary": [1, 3, 5, 7], "output_mode": "multi_hot",
                              "mask_token": 0}, (2, 3), (2, 5), 0, input_dtype="int64"),
    LayerCase(StringLookup, {"vocabulary": ["a", "b", "c"]}, (2, 3), (2, 3), 0,
              input_data=WORDS),
    LayerCase(StringLookup, {"vocabulary": ["a", "b", "c"], "output_mode": "tf_idf",
                             "idf_weights": [0.5, 1.0, 2.0]}, (2, 3), (2, 4), 0, 1,
              input_data=WORDS),
    LayerCase(Hashing, {"num_bins": 5}, (2, 3), (2, 3), 0, input_data=WORDS),
    LayerCase(Hashing, {"num_bins": 4, "salt": 7, "output_mode": "count"}, (2, 3), (2, 4), 0,
              input_data=WORDS),
    LayerCase(TextVectorization, {"vocabulary": VOCABULARY, "output_sequence_length": 4},
              (2,), (2, 4), 0, input_data=SENTENCES),
    LayerCase(TextVectorization, {"vocabulary": VOCABULARY, "output_mode": "multi_hot"},
              (2,), (2, 5), 0, input_data=SENTENCES),
]
