"""Attention layers: `Attention`, `AdditiveAttention`, `MultiHeadAttention`."""

from numpyflow.keras.layers.attention.attention import AdditiveAttention, Attention  # noqa: F401
from numpyflow.keras.layers.attention.multi_head_attention import (  # noqa: F401
    MultiHeadAttention)
