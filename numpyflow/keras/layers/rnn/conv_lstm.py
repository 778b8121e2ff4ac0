"""`ConvLSTM1D`, `ConvLSTM2D`: LSTMs whose input and recurrent transforms are convolutions.

The cell is composed of numpyflow ops (one `conv1d`/`conv2d` of the input and one of the
state per step, the gates split from their outputs), run over time by the generic `RNN`
loop; there is no fused primitive. Only channels-last inputs are supported, and no
`ConvLSTM3D` (numpyflow has no 3-D convolution yet).
"""

import numpyflow as tf
from numpyflow.keras import activations, constraints, initializers, regularizers
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.conv import conv_output_length, normalize_padding, normalize_tuple
from numpyflow.keras.layers.core import normalize_data_format
from numpyflow.keras.layers.input_spec import InputSpec
from numpyflow.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from numpyflow.keras.layers.rnn.rnn import RNN
from numpyflow.keras.saving import layer_config

class ConvLSTMCell(DropoutRNNCell, Layer):
    """One step of a ConvLSTM: gates i, f, c, o from convolutions of the input and state.

    `kernel` has shape `kernel_size + (input_channels, 4 * filters)` and
    `recurrent_kernel` `kernel_size + (filters, 4 * filters)`, each the four gates side by
    side in Keras's order (i, f, c, o). The input convolution uses `strides`, `padding`
    and `dilation_rate`; the state convolution uses stride 1 and "same" padding, as in
    Keras 3. States: `[h, c]`, each (batch, *output_spatial, filters).

    Args:
      rank: 1 or 2, the number of spatial axes.
      (the others as in `ConvLSTM2D`).
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        who = f"ConvLSTM{rank}D"
        if rank not in (1, 2):
            raise NotImplementedError(f"ConvLSTMCell: rank={rank!r} is not supported by "
                                      f"numpyflow (only 1 and 2: ConvLSTM1D, ConvLSTM2D).")
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{who}: `filters` must be a positive integer. Received: "
                             f"filters={filters!r}")
        super().__init__(**kwargs)
        self.rank = rank
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", who)
        self.strides = normalize_tuple(strides, rank, "strides", who)
        self.padding = normalize_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{who}: specifying `strides > 1` is not compatible with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.dropout_mask_count = 4  # One mask per gate, as Keras draws them.
        self.state_size = [filters, filters]  # Channels of h and c; see get_initial_state.
        self.input_spec = InputSpec(ndim=rank + 2)

    def build(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(tf.TensorShape(inputs_shape).as_list())
        self.spatial_dims = inputs_shape[1:-1]
        if None in self.spatial_dims:
            raise ValueError(f"Layer '{self.name}': ConvLSTM layers only support static input "
                             f"shapes for the spatial dimensions. Received: input_shape="
                             f"{inputs_shape}")
        if inputs_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}': the channel dimension of the inputs (last "
                             f"axis) must be known. Received: input_shape={inputs_shape}")
        self.input_dim = inputs_shape[-1]
        gates = 4 * self.filters
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (self.input_dim, gates),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=self.kernel_size + (self.filters, gates),
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(gates,), initializer="zeros",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
            dtype = self.bias.dtype
            parts = [self.bias_initializer((self.filters,), dtype=dtype),
                     tf.ones((self.filters,), dtype=dtype),
                     self.bias_initializer((2 * self.filters,), dtype=dtype)] \
                if self.unit_forget_bias else [self.bias_initializer((gates,), dtype=dtype)]
            self.bias.assign(tf.concat(parts, axis=0))
        self.built = True

    def _conv(self, x, kernel, strides, padding, dilations):
        if self.rank == 1:
            return tf.nn.conv1d(x, kernel, stride=strides[0], padding=padding.upper(),
                                dilations=dilations[0])
        return tf.nn.conv2d(x, kernel, strides=strides, padding=padding.upper(),
                            dilations=dilations)

    def _input_conv(self, x, kernel):
        return self._conv(x, kernel, self.strides, self.padding, self.dilation_rate)

    def _recurrent_conv(self, h, kernel):
        ones = (1,) * self.rank
        return self._conv(h, kernel, ones, "same", ones)

    def _gate_preactivations(self, inputs, h, training):
        """x_i + h_i, ..., x_o + h_o (with the bias), one convolution pair per gate under
        dropout (each gate sees its own mask), else one pair for all four gates."""
        input_masks = self.get_dropout_mask(inputs) if training and \
            0.0 < self.dropout < 1.0 else None
        state_masks = self.get_recurrent_dropout_mask(h) if training and \
            0.0 < self.recurrent_dropout < 1.0 else None
        if input_masks is None and state_masks is None:
            z = self._input_conv(inputs, self.kernel) + self._recurrent_conv(
                h, self.recurrent_kernel)
            if self.bias is not None:
                z = z + self.bias
            return tf.split(z, 4, axis=-1)
        kernels = tf.split(self.kernel, 4, axis=-1)
        recurrent_kernels = tf.split(self.recurrent_kernel, 4, axis=-1)
        biases = tf.split(self.bias, 4) if self.bias is not None else [None] * 4
        gates = []
        for g in range(4):
            x_g = inputs if input_masks is None else inputs * input_masks[g]
            h_g = h if state_masks is None else h * state_masks[g]
            z = self._input_conv(x_g, kernels[g]) + self._recurrent_conv(h_g,
                                                                         recurrent_kernels[g])
            gates.append(z if biases[g] is None else z + biases[g])
        return gates

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        z_i, z_f, z_c, z_o = self._gate_preactivations(inputs, h_tm1, training)
        return self._gates_to_states(z_i, z_f, z_c, z_o, c_tm1)

    def _gates_to_states(self, z_i, z_f, z_c, z_o, c_tm1):
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def output_shape_for(self, inputs_shape):
        """(batch, *output_spatial, filters) for a step input of `inputs_shape`."""
        spatial = [conv_output_length(size, k, self.padding, s, d) for size, k, s, d in
                   zip(inputs_shape[1:-1], self.kernel_size, self.strides,
                       self.dilation_rate)]
        for axis, size in enumerate(spatial):
            if size is not None and size <= 0:
                raise ValueError(f"Layer '{self.name}': the input's spatial shape "
                                 f"{tuple(inputs_shape[1:-1])} is too small for kernel_size="
                                 f"{self.kernel_size} with padding={self.padding!r} (axis "
                                 f"{axis} would have size {size}).")
        return (inputs_shape[0],) + tuple(spatial) + (self.filters,)

    def get_initial_state(self, batch_size=None):
        shape = self.output_shape_for((batch_size,) + tuple(self.spatial_dims) +
                                      (self.input_dim,))
        return [tf.zeros(shape, dtype=self.compute_dtype),
                tf.zeros(shape, dtype=self.compute_dtype)]

    def get_config(self):
        config = super().get_config()
        config.update({"rank": self.rank, **_cell_arguments_config(self)})
        return config


def _cell_arguments_config(cell):
    """The cell's arguments in Keras 3's ConvLSTM config order (without `rank`)."""
    return {
        "filters": cell.filters,
        "kernel_size": cell.kernel_size,
        "strides": cell.strides,
        "padding": cell.padding,
        "data_format": cell.data_format,
        "dilation_rate": cell.dilation_rate,
        "activation": activations.serialize(cell.activation),
        "recurrent_activation": activations.serialize(cell.recurrent_activation),
        "use_bias": cell.use_bias,
        "kernel_initializer": initializers.serialize(cell.kernel_initializer),
        "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
        "bias_initializer": initializers.serialize(cell.bias_initializer),
        "unit_forget_bias": cell.unit_forget_bias,
        "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
        "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
        "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
        "kernel_constraint": constraints.serialize(cell.kernel_constraint),
        "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
        "bias_constraint": constraints.serialize(cell.bias_constraint),
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
        "seed": cell.seed,
    }


class ConvLSTM(RNN):
    """The N-D convolutional LSTM layer (base of `ConvLSTM1D` and `ConvLSTM2D`)."""

    _CELL_ARGUMENTS = ("filters", "kernel_size", "strides", "padding", "data_format",
                       "dilation_rate", "activation", "recurrent_activation", "use_bias",
                       "kernel_initializer", "recurrent_initializer", "bias_initializer",
                       "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                       "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                       "bias_constraint", "dropout", "recurrent_dropout", "seed")

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, **kwargs):
        cell = ConvLSTMCell(
            rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.rank = rank
        self.input_spec = InputSpec(ndim=rank + 3)

    def _sequence_shape(self, sequences_shape):
        shape = tuple(tf.TensorShape(sequences_shape).as_list())
        if len(shape) != self.rank + 3:
            axes = "steps" if self.rank == 1 else "rows, cols"
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects "
                             f"{self.rank + 3}-D inputs (batch, time, {axes}, channels). "
                             f"Received: input_shape={shape}")
        return shape

    def build(self, sequences_shape, initial_state_shape=None):
        shape = self._sequence_shape(sequences_shape)
        if not self.cell.built:
            self.cell._build_from_shape((shape[0],) + shape[2:])
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            elif shape[0] is None:
                raise ValueError(f"Layer '{self.name}': when using `stateful=True` in a RNN, "
                                 f"the batch size must be static. Found dynamic batch size: "
                                 f"sequence.shape={shape}")
            else:
                self._create_state_variables(shape[0])
        self.built = True

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self._sequence_shape(sequences_shape)
        batch, steps = shape[0], shape[1]
        state_shape = self.cell.output_shape_for((batch,) + shape[2:])
        output_shape = (batch, steps) + state_shape[1:] if self.return_sequences \
            else state_shape
        if self.return_state:
            return [output_shape, state_shape, state_shape]
        return output_shape

    def _batch_size_of(self, sequences):
        return self._sequence_shape(sequences.shape)[0]

    def _check_initial_state(self, initial_state, sequences):
        """[h, c], cast and checked to have the shape of the state for `sequences`."""
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
        sequences_shape = self._sequence_shape(sequences.shape)
        expected = self.cell.output_shape_for((sequences_shape[0],) + sequences_shape[2:])
        if len(states) != 2:
            raise ValueError(f"Layer '{self.name}' expects 2 initial states (h and c), each "
                             f"of shape {expected}. Received {len(states)}.")
        checked = []
        for i, state in enumerate(states):
            state = tf.convert_to_tensor(state)
            if state.dtype.name != self.compute_dtype:
                state = tf.cast(state, self.compute_dtype)
            if tuple(state.shape) != expected:
                raise ValueError(f"Layer '{self.name}': initial state {i} must have shape "
                                 f"{expected}. Received: shape={tuple(state.shape)}")
            checked.append(state)
        return checked

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        config.update(_cell_arguments_config(self.cell))
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**layer_config.constructor_arguments(cls, config))


# The cell's arguments read through the layer (layer.filters, layer.padding, ...), as Keras.
for _name in ConvLSTM._CELL_ARGUMENTS:
    setattr(ConvLSTM, _name, property(lambda self, name=_name: getattr(self.cell, name)))
del _name


_ARGUMENTS_DOC = """
    Args:
      filters: Number of output channels of the convolutions (channels of the states).
      kernel_size: Int or tuple: the convolution window.
      strides: Int or tuple: the input convolution's strides (the state convolution always
        uses stride 1). Not with `dilation_rate` > 1.
      padding: "valid" (default) or "same" for the input convolution (the state
        convolution always uses "same").
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: Int or tuple: the input convolution's dilation.
      activation: Activation of the candidate and output ("tanh").
      recurrent_activation: Activation of the gates ("sigmoid").
      use_bias: Whether the gates have a bias.
      kernel_initializer, recurrent_initializer, bias_initializer: Initializers of the
        weights ("glorot_uniform", "orthogonal", "zeros").
      unit_forget_bias: Whether the forget gate's bias starts at 1.
      kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer:
        Optional regularizers.
      kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
      dropout: Fraction of the input to drop (per gate, in training).
      recurrent_dropout: Fraction of the state to drop (per gate, in training).
      seed: Seed of the dropout masks.
      return_sequences: Whether to return every step's output or only the last.
      return_state: Whether to also return the final states `h`, `c`.
      go_backwards: Whether to read the sequence backwards.
      stateful: Whether each batch's final states start the next batch.
"""


class ConvLSTM2D(ConvLSTM):
    __doc__ = """2-D convolutional LSTM over (batch, time, rows, cols, channels) inputs.

    Output: (batch, [time,] new_rows, new_cols, filters).
    """ + _ARGUMENTS_DOC + """
    Example:

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)
    >>> layer(tf.zeros((2, 5, 8, 8, 1))).shape
    TensorShape([2, 5, 8, 8, 4])
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(2, filters, kernel_size, **kwargs)


class ConvLSTM1D(ConvLSTM):
    __doc__ = """1-D convolutional LSTM over (batch, time, steps, channels) inputs.

    Output: (batch, [time,] new_steps, filters).
    """ + _ARGUMENTS_DOC + """
    Example:

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.ConvLSTM1D(4, 3)
    >>> layer(tf.zeros((2, 5, 10, 1))).shape
    TensorShape([2, 8, 4])
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(1, filters, kernel_size, **kwargs)
