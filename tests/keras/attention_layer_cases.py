"""Standard layer checks (`LayerCase` lines, see layer_cases.py) for the attention layers
and EinsumDense; layer_cases.py adds them to its `CASES`."""

import numpy as np

from numpyflow.keras.layers import AdditiveAttention, Attention, EinsumDense, MultiHeadAttention
from tests.keras.layer_cases import TRAINING, LayerCase

# MultiHeadAttention is called as layer(query, value=...): the query is the checked input.
_VALUE = {"value": np.random.default_rng(5).normal(size=(2, 6, 5)).astype("float32")}

ATTENTION_CASES = [
    LayerCase(EinsumDense, {"equation": "abc,cd->abd", "output_shape": (None, 5),
                            "bias_axes": "d", "activation": "relu"}, (2, 3, 4), (2, 3, 5), 2),
    LayerCase(EinsumDense, {"equation": "...b,bc->...c", "output_shape": 5}, (2, 3, 2, 4),
              (2, 3, 2, 5), 1),
    LayerCase(EinsumDense, {"equation": "abc,cde->abde", "output_shape": (None, 2, 3),
                            "bias_axes": "de"}, (2, 4, 5), (2, 4, 2, 3), 2),
    LayerCase(Attention, {}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), 0),
    LayerCase(Attention, {"use_scale": True, "score_mode": "concat"},
              [(2, 3, 4), (2, 5, 4), (2, 5, 4)], (2, 3, 4), 2),
    LayerCase(Attention, {"dropout": 0.5, "seed": 1}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), 0,
              call_kwargs=TRAINING),
    LayerCase(AdditiveAttention, {}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), 1),
    LayerCase(MultiHeadAttention, {"num_heads": 2, "key_dim": 3}, (2, 4, 5), (2, 4, 5), 8,
              call_kwargs=_VALUE),
    LayerCase(MultiHeadAttention, {"num_heads": 3, "key_dim": 2, "value_dim": 4,
                                   "use_bias": False, "output_shape": 7, "dropout": 0.2},
              (2, 4, 5), (2, 4, 7), 4, call_kwargs={**_VALUE, "use_causal_mask": True}),
]
