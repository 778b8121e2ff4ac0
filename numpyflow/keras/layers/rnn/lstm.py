"""`LSTMCell` and `LSTM`: long short-term memory, Keras's gate order i, f, c, o."""

import numpyflow as tf
from numpyflow.keras import activations, initializers
from numpyflow.keras.layers.input_spec import InputSpec
from numpyflow.keras.layers.rnn.dropout_rnn_cell import (
    RecurrentCell, gate_projections, states_list)
from numpyflow.keras.layers.rnn.rnn import CellLayer, fused_results
from numpyflow.ops import rnn_ops


def check_use_cudnn(layer_name, use_cudnn):
    """Keras's `use_cudnn`: "auto" and False run the same math here; True cannot be met."""
    if use_cudnn not in ("auto", True, False):
        raise ValueError(f"{layer_name}: invalid value received for argument `use_cudnn`. "
                         f"Expected one of {{'auto', True, False}}. Received: "
                         f"use_cudnn={use_cudnn!r}")
    if use_cudnn is True:
        raise NotImplementedError(f"{layer_name}: use_cudnn=True was specified, but numpyflow "
                                  f"has no cuDNN. Pass use_cudnn='auto' (the default).")
    return use_cudnn


class LSTMCell(RecurrentCell):
    """The cell of `LSTM`: one step of the long short-term memory recurrence.

    `z = x @ kernel + h @ recurrent_kernel + bias`, split into i, f, c, o;
    `c' = f * c + i * activation(z_c)`, `h' = o * activation(c')` with
    i, f, o = recurrent_activation(z_i, z_f, z_o). The states are `[h, c]`.

    Args:
      units: Size of the output and of each state.
      activation: Defaults to "tanh". recurrent_activation: Defaults to "sigmoid".
      unit_forget_bias: Whether the forget gate's bias starts at 1 (Jozefowicz et al.).
      The rest as `SimpleRNNCell`.

    >>> import numpyflow as tf
    >>> cell = tf.keras.layers.LSTMCell(4)
    >>> out, (h, c) = cell(tf.ones((2, 3)), [tf.zeros((2, 4)), tf.zeros((2, 4))])
    >>> out.shape, c.shape
    (TensorShape([2, 4]), TensorShape([2, 4]))
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        if implementation not in (1, 2):
            raise ValueError(f"LSTMCell: `implementation` must be 1 or 2. Received: "
                             f"implementation={implementation!r}")
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]
        self.output_size = units
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        if self.implementation == 1:
            self.dropout_mask_count = 4

    def build(self, input_shape):
        self._add_kernels(input_shape, 4)
        self.bias = None
        if self.use_bias:
            initializer = self.bias_initializer
            if self.unit_forget_bias:
                base = self.bias_initializer
                units = self.units

                def initializer(shape, dtype=None):
                    return tf.concat([base((units,), dtype=dtype),
                                      initializers.get("ones")((units,), dtype=dtype),
                                      base((2 * units,), dtype=dtype)], axis=0)
            self._add_bias((4 * self.units,), initializer)
        self.built = True

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states_list(states)[:2]
        dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
        rdp = (self.get_recurrent_dropout_mask(h_prev)
               if training and 0.0 < self.recurrent_dropout < 1.0 else None)
        x_parts = gate_projections(inputs, self.kernel, dp, 4)
        h_parts = gate_projections(h_prev, self.recurrent_kernel, rdp, 4)
        z = [a + b for a, b in zip(x_parts, h_parts)]
        if self.bias is not None:
            z = [zk + bk for zk, bk in zip(z, tf.split(self.bias, 4))]
        i = self.recurrent_activation(z[0])
        f = self.recurrent_activation(z[1])
        c = f * c_prev + i * self.activation(z[2])
        o = self.recurrent_activation(z[3])
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class LSTM(CellLayer):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997).

    With the default activations ("tanh", "sigmoid") and no recurrent dropout while
    training, the whole sequence runs as one fused op with its own BPTT gradient;
    otherwise `LSTMCell` runs step by step.

    Args:
      units: Size of the output and of the states.
      activation, recurrent_activation, use_bias, kernel_initializer,
      recurrent_initializer, bias_initializer, unit_forget_bias, *_regularizer,
      *_constraint, dropout, recurrent_dropout, seed: as `LSTMCell`.
      activity_regularizer: Regularizer of the layer's output.
      return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.
      use_cudnn: "auto" (default) or False; numpyflow has no cuDNN.

    >>> import numpyflow as tf
    >>> out, h, c = tf.keras.layers.LSTM(4, return_state=True)(tf.ones((2, 3, 5)))
    >>> out.shape, c.shape
    (TensorShape([2, 4]), TensorShape([2, 4]))
    """

    _cell_keys = ("units", "activation", "recurrent_activation", "use_bias",
                  "kernel_initializer", "recurrent_initializer", "bias_initializer",
                  "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                  "bias_constraint", "dropout", "recurrent_dropout", "seed")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        check_use_cudnn("LSTM", use_cudnn)
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="lstm_cell",
            implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        self.use_cudnn = use_cudnn

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if not self.runs_fused(LSTMCell, training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        x = self.dropped_sequences(sequences, training)
        states = rnn_ops.lstm_sequence(x, initial_state[0], initial_state[1], cell.kernel,
                                       cell.recurrent_kernel, cell.bias, mask=mask,
                                       go_backwards=self.go_backwards)
        return fused_results(states, cell.units, 2, mask, self.go_backwards,
                             self.zero_output_for_mask, self.return_sequences)
