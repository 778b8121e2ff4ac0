"""`GRUCell` and `GRU`: gated recurrent units, Keras's gate order z, r, h."""

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.input_spec import InputSpec
from numpyflow.keras.layers.rnn.dropout_rnn_cell import (
    RecurrentCell, gate_projections, states_list)
from numpyflow.keras.layers.rnn.lstm import check_use_cudnn
from numpyflow.keras.layers.rnn.rnn import CellLayer, fused_results
from numpyflow.ops import rnn_ops


class GRUCell(RecurrentCell):
    """The cell of `GRU`: one step of the gated recurrent unit (Cho et al., 2014).

    z, r = recurrent_activation(x W_{z,r} + h U_{z,r} + b); candidate
    hh = activation(x W_h + r * (h U_h + b_h)) with `reset_after` (the default, cuDNN's
    form) or activation(x W_h + (r * h) U_h) without; h' = z * h + (1 - z) * hh.

    Args:
      units: Size of the output and of the state.
      activation: Defaults to "tanh". recurrent_activation: Defaults to "sigmoid".
      reset_after: Whether the reset gate applies after the recurrent product; the bias is
        then (2, 3 * units) (input and recurrent biases), else (3 * units,).
      The rest as `SimpleRNNCell`.

    >>> import numpyflow as tf
    >>> out, h = tf.keras.layers.GRUCell(4)(tf.ones((2, 3)), [tf.zeros((2, 4))])
    >>> out.shape
    TensorShape([2, 4])
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        if implementation not in (1, 2):
            raise ValueError(f"GRUCell: `implementation` must be 1 or 2. Received: "
                             f"implementation={implementation!r}")
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.state_size = units
        self.output_size = units
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        if self.implementation == 1:
            self.dropout_mask_count = 3

    def build(self, input_shape):
        self._add_kernels(input_shape, 3)
        self.bias = None
        if self.use_bias:
            self._add_bias((2, 3 * self.units) if self.reset_after else (3 * self.units,))
        self.built = True

    def call(self, inputs, states, training=False):
        was_list = isinstance(states, (list, tuple))
        h_prev = states_list(states)[0]
        n = self.units
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = ((self.bias[0], self.bias[1]) if self.reset_after
                                          else (self.bias, None))
        dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
        rdp = (self.get_recurrent_dropout_mask(h_prev)
               if training and 0.0 < self.recurrent_dropout < 1.0 else None)
        x_z, x_r, x_h = gate_projections(inputs, self.kernel, dp, 3)
        if input_bias is not None:
            x_z = x_z + input_bias[:n]
            x_r = x_r + input_bias[n:2 * n]
            x_h = x_h + input_bias[2 * n:]
        h_parts = ([h_prev * rdp[k] for k in range(3)] if isinstance(rdp, (list, tuple))
                   else [h_prev if rdp is None else h_prev * rdp] * 3)
        u = self.recurrent_kernel
        if self.reset_after:
            inner = [tf.matmul(h_parts[k], u[:, k * n:(k + 1) * n]) for k in range(3)] \
                if rdp is not None else tf.split(tf.matmul(h_prev, u), 3, axis=-1)
            if recurrent_bias is not None:
                inner = [inner[k] + recurrent_bias[k * n:(k + 1) * n] for k in range(3)]
            z = self.recurrent_activation(x_z + inner[0])
            r = self.recurrent_activation(x_r + inner[1])
            recurrent_h = r * inner[2]
        else:
            z = self.recurrent_activation(x_z + tf.matmul(h_parts[0], u[:, :n]))
            r = self.recurrent_activation(x_r + tf.matmul(h_parts[1], u[:, n:2 * n]))
            recurrent_h = tf.matmul(r * h_parts[2], u[:, 2 * n:])
        hh = self.activation(x_h + recurrent_h)
        h = z * h_prev + (1 - z) * hh
        return h, ([h] if was_list else h)

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config


class GRU(CellLayer):
    """Gated Recurrent Unit layer (Cho et al., 2014).

    With the default activations ("tanh", "sigmoid") and no recurrent dropout while
    training, the whole sequence runs as one fused op; otherwise `GRUCell` runs step by step.

    Args:
      units: Size of the output and of the state.
      reset_after: GRU convention (True: reset gate after the recurrent product, the
        default and cuDNN's; False: before).
      The rest as `LSTM`.

    >>> import numpyflow as tf
    >>> tf.keras.layers.GRU(4, return_sequences=True)(tf.ones((2, 3, 5))).shape
    TensorShape([2, 3, 4])
    """

    _cell_keys = ("units", "activation", "recurrent_activation", "use_bias",
                  "kernel_initializer", "recurrent_initializer", "bias_initializer",
                  "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                  "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout", "reset_after", "seed")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        check_use_cudnn("GRU", use_cudnn)
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            seed=seed, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name="gru_cell", implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        self.use_cudnn = use_cudnn

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if not self.runs_fused(GRUCell, training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        x = self.dropped_sequences(sequences, training)
        states = rnn_ops.gru_sequence(x, initial_state[0], cell.kernel, cell.recurrent_kernel,
                                      cell.bias, mask=mask, go_backwards=self.go_backwards,
                                      reset_after=cell.reset_after)
        return fused_results(states, cell.units, 1, mask, self.go_backwards,
                             self.zero_output_for_mask, self.return_sequences)
