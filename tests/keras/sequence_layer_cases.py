"""The standard layer checks (`run_layer_test`) of Embedding, Masking, TimeDistributed,
Bidirectional and the ConvLSTM layers; `layer_cases.py` appends them to its `CASES`."""

from numpyflow.keras.layers import (
    GRU, LSTM, Bidirectional, Conv2D, ConvLSTM1D, ConvLSTM2D, Dense, Embedding, Masking,
    TimeDistributed)
from tests.keras.layer_cases import TRAINING, LayerCase

# Dropout cases skip the one-step loss check: each call draws new masks, so the loss after
# a step may rise whatever the gradient (test_conv_lstm.py checks dropout itself).

SEQUENCE_CASES = [
    LayerCase(Embedding, {"input_dim": 10, "output_dim": 3}, (2, 4), (2, 4, 3), 1,
              input_dtype="int32"),
    LayerCase(Embedding, {"input_dim": 12, "output_dim": 2, "mask_zero": True,
                          "embeddings_initializer": "glorot_uniform"}, (2, 3, 5), (2, 3, 5, 2),
              1, input_dtype="uint8"),
    LayerCase(Masking, {"mask_value": 0.5}, (2, 4, 3), (2, 4, 3), 0),
    LayerCase(TimeDistributed, {"layer": Dense(3)}, (2, 4, 5), (2, 4, 3), 2),
    LayerCase(TimeDistributed, {"layer": Conv2D(2, 3)}, (2, 3, 5, 5, 1), (2, 3, 3, 3, 2), 2,
              label="conv2d"),
    LayerCase(Bidirectional, {"layer": LSTM(3)}, (2, 4, 5), (2, 6), 6),
    LayerCase(Bidirectional, {"layer": GRU(2, return_sequences=True), "merge_mode": "ave"},
              (2, 4, 5), (2, 4, 2), 6, label="gru-ave"),
    LayerCase(Bidirectional, {"layer": LSTM(2, return_sequences=True, dropout=0.5, seed=1),
                              "merge_mode": "mul"}, (2, 4, 5), (2, 4, 2), 6,
              call_kwargs=TRAINING, training_step=False, label="lstm-mul-dropout-train"),
    LayerCase(ConvLSTM2D, {"filters": 2, "kernel_size": 3}, (2, 3, 5, 5, 1), (2, 3, 3, 2), 3),
    LayerCase(ConvLSTM2D, {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same",
                           "return_sequences": True, "go_backwards": True},
              (2, 3, 5, 4, 2), (2, 3, 3, 2, 2), 3),
    LayerCase(ConvLSTM2D, {"filters": 2, "kernel_size": 3, "dropout": 0.3,
                           "recurrent_dropout": 0.3, "seed": 2}, (2, 3, 5, 5, 1), (2, 3, 3, 2),
              3, call_kwargs=TRAINING, training_step=False, label="dropout-train"),
    LayerCase(ConvLSTM1D, {"filters": 3, "kernel_size": 2, "dilation_rate": 2,
                           "use_bias": False}, (2, 3, 6, 2), (2, 4, 3), 2),
]
