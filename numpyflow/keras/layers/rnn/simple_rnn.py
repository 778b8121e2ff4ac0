"""`SimpleRNNCell` and `SimpleRNN`: the fully-connected recurrence h = act(x W + h U + b)."""

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.input_spec import InputSpec
from numpyflow.keras.layers.rnn.dropout_rnn_cell import RecurrentCell, states_list
from numpyflow.keras.layers.rnn.rnn import CellLayer, fused_results
from numpyflow.ops import rnn_ops


class SimpleRNNCell(RecurrentCell):
    """The cell of `SimpleRNN`: one step `output = activation(x @ kernel + h @ U + bias)`.

    Args:
      units: Size of the output and of the state.
      activation: Defaults to "tanh".
      use_bias, kernel_initializer ("glorot_uniform"), recurrent_initializer
        ("orthogonal"), bias_initializer ("zeros"), *_regularizer, *_constraint: as Dense.
      dropout: Fraction of the inputs dropped while training (one mask per RNN call).
      recurrent_dropout: Fraction of the recurrent state dropped while training.
      seed: Seed of the dropout masks.

    >>> import numpyflow as tf
    >>> cell = tf.keras.layers.SimpleRNNCell(4)
    >>> out, state = cell(tf.ones((2, 3)), [tf.zeros((2, 4))])
    >>> out.shape, state[0].shape
    (TensorShape([2, 4]), TensorShape([2, 4]))
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self._add_kernels(input_shape, 1)
        self.bias = None
        if self.use_bias:
            self._add_bias((self.units,))
        self.built = True

    def call(self, sequence, states, training=False):
        was_list = isinstance(states, (list, tuple))
        prev = states_list(states)[0]
        h = tf.matmul(self._dropped_input(sequence, training), self.kernel)
        if self.bias is not None:
            h = h + self.bias
        output = h + tf.matmul(self._dropped_state(prev, training), self.recurrent_kernel)
        if self.activation is not None:
            output = self.activation(output)
        return output, ([output] if was_list else output)


class SimpleRNN(CellLayer):
    """Fully-connected RNN whose output is fed back as the next step's state.

    Args:
      units: Size of the output.
      activation: Defaults to "tanh" ("tanh" and "relu" run as one fused op).
      return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.
      The other arguments are `SimpleRNNCell`'s.

    >>> import numpyflow as tf
    >>> tf.keras.layers.SimpleRNN(4)(tf.ones((2, 3, 5))).shape
    TensorShape([2, 4])
    """

    _cell_keys = ("units", "activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                  "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                  "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
                  "seed")

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="simple_rnn_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _fused_activation(self):
        for name in rnn_ops.FUSED_ACTIVATIONS["SimpleRNN"]:
            if self.cell.activation is activations.get(name):
                return name
        return None

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        activation = self._fused_activation()
        if (activation is None or type(cell) is not SimpleRNNCell
                or (training and 0.0 < cell.recurrent_dropout < 1.0)):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        x = self.dropped_sequences(sequences, training)
        states = rnn_ops.simple_rnn_sequence(
            x, initial_state[0], cell.kernel, cell.recurrent_kernel, cell.bias, mask=mask,
            activation=activation, go_backwards=self.go_backwards)
        return fused_results(states, cell.units, 1, mask, self.go_backwards,
                             self.zero_output_for_mask, self.return_sequences)
