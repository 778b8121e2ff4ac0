"""Recurrent layers: `RNN` and its cells, `SimpleRNN`, `LSTM`, `GRU`."""

from numpyflow.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # noqa: F401
from numpyflow.keras.layers.rnn.rnn import RNN  # noqa: F401
from numpyflow.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells  # noqa: F401
from numpyflow.keras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell  # noqa: F401
from numpyflow.keras.layers.rnn.lstm import LSTM, LSTMCell  # noqa: F401
from numpyflow.keras.layers.rnn.gru import GRU, GRUCell  # noqa: F401
from numpyflow.keras.layers.rnn.time_distributed import TimeDistributed, Wrapper  # noqa: F401
from numpyflow.keras.layers.rnn.bidirectional import Bidirectional  # noqa: F401
from numpyflow.keras.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D  # noqa: F401
