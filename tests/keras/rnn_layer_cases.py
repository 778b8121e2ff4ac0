"""The standard layer checks (`run_layer_test`) of the recurrent layers, one line per main
configuration; `layer_cases.py` appends them to its `CASES`."""

from numpyflow.keras.layers import (
    GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells)
from tests.keras.layer_cases import TRAINING, LayerCase


RNN_CASES = [
    LayerCase(SimpleRNN, {"units": 3}, (2, 4, 5), (2, 3), 3),
    LayerCase(SimpleRNN, {"units": 3, "activation": "relu", "return_sequences": True,
                          "go_backwards": True}, (2, 4, 5), (2, 4, 3), 3),
    LayerCase(SimpleRNN, {"units": 3, "activation": "sigmoid", "use_bias": False}, (2, 4, 5),
              (2, 3), 2, label="generic-loop"),
    LayerCase(LSTM, {"units": 3}, (2, 4, 5), (2, 3), 3),
    LayerCase(LSTM, {"units": 3, "return_sequences": True, "go_backwards": True},
              (2, 4, 5), (2, 4, 3), 3),
    LayerCase(LSTM, {"units": 3, "dropout": 0.3, "recurrent_dropout": 0.3, "seed": 1},
              (2, 4, 5), (2, 3), 3, call_kwargs=TRAINING, label="dropout-train"),
    LayerCase(LSTM, {"units": 3, "activation": "relu"}, (2, 4, 5), (2, 3), 3,
              label="generic-loop"),
    LayerCase(GRU, {"units": 3}, (2, 4, 5), (2, 3), 3),
    LayerCase(GRU, {"units": 3, "reset_after": False, "return_sequences": True}, (2, 4, 5),
              (2, 4, 3), 3),
    LayerCase(GRU, {"units": 3, "dropout": 0.5, "seed": 3}, (2, 4, 5), (2, 3), 3,
              call_kwargs=TRAINING, label="dropout-train"),
    LayerCase(RNN, {"cell": SimpleRNNCell(3)}, (2, 4, 5), (2, 3), 3, label="simple-cell"),
    LayerCase(RNN, {"cell": LSTMCell(3), "return_sequences": True}, (2, 4, 5), (2, 4, 3), 3,
              label="lstm-cell"),
    LayerCase(RNN, {"cell": [GRUCell(3), LSTMCell(2)]}, (2, 4, 5), (2, 2), 6, label="stacked"),
    LayerCase(RNN, {"cell": StackedRNNCells([SimpleRNNCell(3), GRUCell(2, reset_after=False)]),
                    "go_backwards": True}, (2, 4, 5), (2, 2), 6, label="stacked-cells"),
]
