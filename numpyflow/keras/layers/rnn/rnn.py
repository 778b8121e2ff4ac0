"""`RNN`: runs a recurrent cell over the time axis of (batch, time, features) inputs.

The cell is any object with `call(inputs, states)` returning `(output, new_states)` and a
`state_size` (an int, or a list with one entry per state; an entry may itself be a list, for
`StackedRNNCells`); `get_initial_state(batch_size)` and `output_size` are optional. A list
of cells is stacked into `StackedRNNCells`, as Keras does.

Semantics follow Keras 3's `backend.rnn`: with `go_backwards` the input is read from the
last step and the returned sequence is in processing order; under a mask (boolean
(batch, time)) a masked step keeps every state unchanged and outputs the previous output
(zeros before the first unmasked step), or zeros when `zero_output_for_mask`.

The generic loop here calls the cell once per step with numpyflow ops. `SimpleRNN`, `LSTM`
and `GRU` override `inner_loop` with one fused primitive (`numpyflow/ops/rnn_ops.py`)
when their configuration allows.
"""

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras.layers.base_layer import Layer


class RNN(Layer):
    """Base class for recurrent layers: a cell applied over the time axis.

    Args:
      cell: An RNN cell (an object with `call(inputs, states)` and `state_size`), or a
        list of cells (stacked with `StackedRNNCells`).
      return_sequences: Whether to return the output of every step (batch, time, units)
        or only the last one (batch, units).
      return_state: Whether to return the final states after the output.
      go_backwards: Whether to process the input sequence backwards (the returned
        sequence is then in processing order, i.e. reversed).
      stateful: Whether the final states of a batch are the initial states of the next
        one (needs a fixed batch size; `reset_states()` zeroes them).
      unroll: Accepted for compatibility; the loop computes the same values either way.
      zero_output_for_mask: Whether masked steps output zeros (instead of the previous
        output) in the returned sequence.

    Call arguments:
      sequences: A 3-D tensor (batch, time, features).
      initial_state: Optional list of initial state tensors (zeros by default).
      mask: Optional boolean (batch, time) tensor; False marks steps to skip. Taken from
        the input's Keras mask when not given.
      training: Passed to the cell (dropout).

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(4), return_sequences=True)
    >>> layer(tf.ones((2, 3, 5))).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            from numpyflow.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: "
                             f"cell={cell!r}")
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError(f"The RNN cell should have a `state_size` attribute (single "
                             f"integer or list of integers, one integer per RNN state). "
                             f"Received: cell={cell!r}")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(f"state_size must be an integer, or a list/tuple of integers "
                             f"(one for each state tensor). Received: state_size={state_size!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)
        object.__setattr__(self, "states", None)  # Stateful state Variables: not weights.
        self._expected_batch_size = None

    # -- shapes and masks -----------------------------------------------------------------
    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        if size is None:
            size = self.state_size[0]
        if not isinstance(size, int):
            raise ValueError(f"Layer '{self.name}': the cell's output_size must be an integer. "
                             f"Received: output_size={size!r}")
        return size

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(tf.TensorShape(sequences_shape).as_list())
        if len(sequences_shape) != 3:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects 3-D inputs "
                             f"(batch, time, features). Received: input_shape={sequences_shape}")
        batch, length = sequences_shape[:2]
        size = self._output_size()
        output = (batch, length, size) if self.return_sequences else (batch, size)
        if not self.return_state:
            return output
        states = [(batch, s) if isinstance(s, int) else [(batch, i) for i in s]
                  for s in self.state_size]
        return [output] + states

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    # -- building and states --------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(tf.TensorShape(sequences_shape).as_list())
        if len(shape) != 3:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects 3-D inputs "
                             f"(batch, time, features). Received: input_shape={shape}")
        step_shape = (shape[0],) + shape[2:]
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if shape[0] is None:
                    raise ValueError(f"Layer '{self.name}': when using `stateful=True` in a "
                                     f"RNN, the batch size must be static. Found dynamic batch "
                                     f"size: sequence.shape={shape}")
                self._create_state_variables(shape[0])
        self.built = True

    def _create_state_variables(self, batch_size):
        states = [tf.Variable(state, trainable=False, name=f"{self.name}/rnn_state")
                  for state in nest.flatten(self.get_initial_state(batch_size))]
        object.__setattr__(self, "states", states)
        self._expected_batch_size = batch_size

    def get_initial_state(self, batch_size):
        """The zero initial states (or the cell's `get_initial_state`), as a list."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            states = fn(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        dtype = getattr(self.cell, "compute_dtype", None) or self.compute_dtype
        return [_zeros_for(size, batch_size, dtype) for size in self.state_size]

    def reset_states(self):
        """Zeroes the states of a stateful RNN (nothing to do otherwise)."""
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            for variable in self.states:
                variable.assign(tf.zeros_like(variable))

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        initial_state = kwargs.get("initial_state")
        if initial_state is None and args:
            initial_state = args[0]
        if isinstance(inputs, (list, tuple)) and initial_state is None:
            # Keras also accepts `layer([sequences, state_1, ...])`.
            inputs, kwargs["initial_state"] = inputs[0], list(inputs[1:]) or None
        return super().__call__(inputs, *args, **kwargs)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        batch = self._batch_size_of(sequences)
        if sequences.shape[1] == 0:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) received inputs with "
                             f"no timesteps (time dimension 0): inputs.shape="
                             f"{tuple(sequences.shape)}")
        mask = self._check_mask(sequences, mask)
        if initial_state is None:
            initial_state = self.states if self.stateful else self.get_initial_state(batch)
        if self.stateful and self._expected_batch_size not in (None, batch):
            raise ValueError(f"Layer '{self.name}': if an RNN is stateful, the batch size of the "
                             f"input sequences must be the same as the batch size of the initial "
                             f"state.\n- Expected batch size: {self._expected_batch_size}\n"
                             f"- Received batch size: {batch}")
        initial_state = self._check_initial_state(initial_state, sequences)
        self._reset_dropout_masks(self.cell)
        try:
            last_output, outputs, states = self.inner_loop(sequences, initial_state, mask,
                                                           training=bool(training))
        finally:
            self._reset_dropout_masks(self.cell)
        if self.stateful:
            for variable, state in zip(self.states, nest.flatten(states)):
                variable.assign(state)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(states)
        return output

    def _check_mask(self, sequences, mask):
        if mask is None:
            mask = getattr(sequences, "_keras_mask", None)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        mask = tf.convert_to_tensor(mask)
        if tuple(mask.shape) != tuple(sequences.shape[:2]):
            raise ValueError(f"Layer '{self.name}': the mask must have shape (batch, time) = "
                             f"{tuple(sequences.shape[:2])}. Received: mask.shape="
                             f"{tuple(mask.shape)}")
        return mask if mask.dtype.is_bool else tf.cast(mask, "bool")

    def _batch_size_of(self, sequences):
        """The batch size of `sequences`, checked to be (batch, time, features)."""
        if sequences.shape.rank != 3:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects 3-D inputs "
                             f"(batch, time, features). Received: inputs.shape="
                             f"{tuple(sequences.shape)}")
        return sequences.shape[0]

    def _check_initial_state(self, initial_state, sequences):
        """The initial states as a list (nested like `state_size`), cast and shape-checked."""
        batch = sequences.shape[0]
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        flat = nest.flatten(initial_state)
        sizes = nest.flatten(self.state_size)
        if len(flat) != len(sizes):
            raise ValueError(f"Layer '{self.name}' expects {len(sizes)} initial state(s) of "
                             f"sizes {sizes}, but it received {len(flat)} initial state "
                             f"tensor(s): {[tuple(tf.convert_to_tensor(s).shape) for s in flat]}")
        dtype = self.compute_dtype
        checked = []
        for i, (state, size) in enumerate(zip(flat, sizes)):
            state = tf.convert_to_tensor(state)
            if state.dtype.name != dtype:
                state = tf.cast(state, dtype)
            if isinstance(size, int) and tuple(state.shape) != (batch, size):
                raise ValueError(f"Layer '{self.name}': initial state {i} must have shape "
                                 f"{(batch, size)} (batch, state size). Received: "
                                 f"shape={tuple(state.shape)}")
            checked.append(state)
        return nest.pack_sequence_as(self._state_structure(), checked)

    def _state_structure(self):
        return [s if isinstance(s, int) else list(s) for s in self.state_size]

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """`(last_output, outputs, final_states)` of the cell run over the sequences.

        This generic loop calls the cell once per step; subclasses override it with a fused
        primitive when they can.
        """
        return generic_rnn_loop(self.cell, sequences, initial_state, mask, training,
                                go_backwards=self.go_backwards,
                                zero_output_for_mask=self.zero_output_for_mask,
                                single_state=self.single_state)

    def _reset_dropout_masks(self, cell):
        from numpyflow.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
        from numpyflow.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells
        if isinstance(cell, DropoutRNNCell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        if isinstance(cell, StackedRNNCells):
            for inner in cell.cells:
                self._reset_dropout_masks(inner)

    # -- configuration --------------------------------------------------------------------
    def get_config(self):
        from numpyflow.keras.saving import serialization_lib
        config = super().get_config()
        config.update({"return_sequences": self.return_sequences,
                       "return_state": self.return_state,
                       "go_backwards": self.go_backwards,
                       "stateful": self.stateful,
                       "unroll": self.unroll,
                       "zero_output_for_mask": self.zero_output_for_mask,
                       "cell": serialization_lib.serialize_keras_object(self.cell)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from numpyflow.keras.saving import serialization_lib
        config = dict(config)
        cell = serialization_lib.deserialize_keras_object(config.pop("cell"),
                                                          custom_objects=custom_objects)
        from numpyflow.keras.saving import layer_config
        return cls(cell, **layer_config.constructor_arguments(cls, config))


def _zeros_for(size, batch_size, dtype):
    if isinstance(size, (list, tuple)):
        return [_zeros_for(s, batch_size, dtype) for s in size]
    return tf.zeros((batch_size, size), dtype=dtype)


def generic_rnn_loop(cell, sequences, initial_state, mask, training, go_backwards=False,
                     zero_output_for_mask=False, single_state=False):
    """Runs `cell` step by step (Keras's `backend.rnn` semantics), with numpyflow ops.

    Returns:
      `(last_output, outputs, final_states)`; outputs are (batch, time, ...) in
      processing order.
    """
    kwargs = {}
    if isinstance(cell, Layer) and cell._call_accepts_training:
        kwargs["training"] = training
    step = cell if isinstance(cell, Layer) else cell.call
    steps = sequences.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    states = initial_state
    prev_output = None
    outputs = []
    for t in order:
        output, new_states = step(sequences[:, t], states, **kwargs)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        new_states = list(new_states)
        if mask is not None:
            keep = tf.reshape(mask[:, t], (-1, 1))
            if prev_output is None:
                prev_output = tf.zeros_like(output)
            fallback = tf.zeros_like(output) if zero_output_for_mask else prev_output
            output = tf.where(_expand(keep, output), output, fallback)
            flat_new = [tf.where(_expand(keep, new), new, old)
                        for new, old in zip(nest.flatten(new_states), nest.flatten(states))]
            new_states = nest.pack_sequence_as(new_states, flat_new)
        prev_output = output
        outputs.append(output)
        states = new_states
    if not outputs:
        raise ValueError("RNN: the input has no timesteps (time dimension 0).")
    return outputs[-1], tf.stack(outputs, axis=1), list(states)


def _expand(keep, like):
    """The (batch, 1) mask reshaped to broadcast against `like` (batch, ...)."""
    rank = like.shape.rank
    return keep if rank == 2 else tf.reshape(keep, (-1,) + (1,) * (rank - 1))


def fused_results(all_states, units, num_states, mask, go_backwards, zero_output_for_mask,
                  return_sequences):
    """`(last_output, outputs, final_states)` from a fused op's per-step states.

    `all_states` is (batch, time, num_states * units) in processing order, the output being
    the first state. Under a mask, the sequence shows the previous output at masked steps
    (zeros before the first unmasked one), or zeros with `zero_output_for_mask`, as the
    generic loop does.
    """
    final = [all_states[:, -1, i * units:(i + 1) * units] for i in range(num_states)]
    if num_states == 1 and return_sequences:
        sequence = all_states
    elif return_sequences:
        sequence = all_states[:, :, :units]
    else:
        sequence = None
    last_output = final[0]
    if mask is not None:
        ordered = mask[:, ::-1] if go_backwards else mask
        shown = tf.cast(ordered, all_states.dtype)
        if not zero_output_for_mask:  # Shown once any step so far was unmasked.
            shown = tf.cast(tf.math.cumsum(shown, axis=1) > 0, all_states.dtype)
        if sequence is not None:
            sequence = sequence * tf.expand_dims(shown, -1)
        last_output = last_output * shown[:, -1:]
    return last_output, sequence, final


class CellLayer(RNN):
    """What `SimpleRNN`, `LSTM` and `GRU` share: a built-in cell made from the layer's own
    arguments, properties reading them from the cell, a flat config (the cell's arguments
    beside the RNN's, no `cell` entry) and input dropout applied to the whole sequence
    before a fused op. Subclasses list the cell's config keys in `_cell_keys`."""

    _cell_keys = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for key in cls._cell_keys:
            if not hasattr(cls, key):
                setattr(cls, key, property(lambda self, key=key: getattr(self.cell, key)))

    def dropped_sequences(self, sequences, training):
        """`sequences` times the cell's input dropout mask (one per call) while training."""
        cell = self.cell
        if not (training and 0.0 < cell.dropout < 1.0):
            return sequences
        mask = cell.get_dropout_mask(sequences[:, 0])
        return sequences * tf.expand_dims(mask, 1)

    def can_fuse_dropout(self, training):
        """False when training needs the cell's per-gate masks (Keras's implementation 1)."""
        cell = self.cell
        if not training:
            return True
        if 0.0 < cell.recurrent_dropout < 1.0:
            return False
        return not (0.0 < cell.dropout < 1.0 and getattr(cell, "dropout_mask_count", None))

    def runs_fused(self, cell_class, training):
        """Whether the fused op computes this gated layer (LSTM, GRU): its own cell class
        with the default activations ("tanh", "sigmoid"), and dropout it can apply."""
        from numpyflow.keras import activations
        cell = self.cell
        return (type(cell) is cell_class and self.can_fuse_dropout(training)
                and cell.activation is activations.get("tanh")
                and cell.recurrent_activation is activations.get("sigmoid"))

    def get_config(self):
        from numpyflow.keras import regularizers
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({key: cell_config[key] for key in self._cell_keys})
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return Layer.from_config.__func__(cls, config)
