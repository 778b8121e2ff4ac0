"""`Bidirectional`: runs a recurrent layer forwards and a copy of it backwards, and merges
the two outputs."""

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras.layers.base_layer import Layer

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _without_prefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _copy_layer(layer, name, go_backwards=None):
    """A new layer from `layer`'s config (built like it, new weights), renamed."""
    from numpyflow.keras.layers.serialization import deserialize, serialize
    config = serialize(layer)
    config["config"] = {**config["config"], "name": name}
    if go_backwards is not None:
        config["config"]["go_backwards"] = go_backwards
    return deserialize(config)


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs: the sequence read forwards and backwards.

    `layer` is copied twice from its config (so `layer` itself is never used and holds
    none of the weights): `forward_layer`, named `forward_<name>`, and `backward_layer`,
    named `backward_<name>`, which reads the sequence in the opposite direction. Their
    outputs are merged by `merge_mode`; with `return_sequences` the backward outputs are
    first reversed in time, so that step t of both describes input step t. The weights
    are the forward layer's followed by the backward layer's, as in Keras 3.

    Args:
      layer: An `RNN` layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN(cell)`, `ConvLSTM2D`...).
      merge_mode: "concat" (default), "sum", "mul", "ave", or None to return the two
        outputs as a list.
      backward_layer: Optional recurrent layer to use for the backward direction instead
        of a copy of `layer`; it must have the opposite `go_backwards` and the same
        `return_sequences`, `return_state` and `stateful`.

    Call arguments:
      sequences: The input sequence (batch, time, ...).
      initial_state: Optional list of initial states: the forward layer's followed by
        the backward layer's.
      mask: Optional boolean (batch, time) mask, given to both layers.
      training: Passed to both layers (dropout).

    With `return_state` the output is followed by the forward layer's final states and
    then the backward layer's.

    Example:

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(4, return_sequences=True))
    >>> layer(tf.ones((2, 5, 3))).shape
    TensorShape([2, 5, 8])
    >>> layer.forward_layer.name, layer.backward_layer.name
    ('forward_lstm', 'backward_lstm')
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: layer={layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: backward_layer={backward_layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: merge_mode={merge_mode!r}. Merge "
                             f"mode should be one of {{'sum', 'mul', 'ave', 'concat', None}}")
        for attribute in ("go_backwards", "return_sequences", "return_state", "stateful"):
            if not hasattr(layer, attribute):
                raise ValueError(f"Bidirectional wraps a recurrent layer (with `{attribute}`, "
                                 f"such as LSTM or RNN). Received: {type(layer).__name__} "
                                 f"'{layer.name}'")
        super().__init__(**kwargs)
        self.forward_layer = _copy_layer(
            layer, f"forward_{_without_prefix(layer.name, 'forward_')}")
        if backward_layer is None:
            # tf.keras 2.x's rule (Keras 3 always sets True, refusing go_backwards=True).
            backward_layer = _copy_layer(
                layer, f"backward_{_without_prefix(layer.name, 'backward_')}",
                go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        self._verify_layer_config()
        for direction in (self.forward_layer, self.backward_layer):
            if getattr(direction, "zero_output_for_mask", None) is not None:
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different "
                             f"`go_backwards` value. Received: forward_layer.go_backwards="
                             f"{forward.go_backwards}, backward_layer.go_backwards="
                             f"{backward.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            forward_value = getattr(forward, attribute)
            backward_value = getattr(backward, attribute, None)
            if forward_value != backward_value:
                raise ValueError(f"Forward layer and backward layer are expected to have the "
                                 f"same value for attribute \"{attribute}\", got "
                                 f"\"{forward_value}\" for forward layer and "
                                 f"\"{backward_value}\" for backward layer")

    # -- shapes, masks, states --------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        for direction in (self.forward_layer, self.backward_layer):
            if not direction.built:
                direction._build_from_shape(sequences_shape)
        self.built = True

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        backward_shape = self.backward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            backward_shape, backward_states = backward_shape[0], list(backward_shape[1:])
            state_shapes += backward_states
        output_shape = tuple(tf.TensorShape(output_shape).as_list())
        backward_shape = tuple(tf.TensorShape(backward_shape).as_list())
        if self.merge_mode == "concat":
            last = (None if output_shape[-1] is None or backward_shape[-1] is None
                    else output_shape[-1] + backward_shape[-1])
            outputs = [output_shape[:-1] + (last,)]
        elif self.merge_mode is None:
            outputs = [output_shape, backward_shape]
        else:
            outputs = [output_shape]
        if not self.return_state and len(outputs) == 1:
            return outputs[0]
        return outputs + state_shapes

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        output_masks = [output_mask] if self.merge_mode else [output_mask, output_mask]
        if not self.return_state:
            return output_masks[0] if self.merge_mode else output_masks
        return output_masks + [None] * (self._num_states(self.forward_layer) +
                                        self._num_states(self.backward_layer))

    @staticmethod
    def _num_states(layer):
        return len(nest.flatten(layer.state_size)) if hasattr(layer, "state_size") else 0

    @property
    def states(self):
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states) + tuple(self.backward_layer.states)
        return None

    def reset_states(self):
        """Zeroes the states of both directions of a stateful Bidirectional layer."""
        self.reset_state()

    def reset_state(self):
        if not self.stateful:
            raise AttributeError(f"Layer '{self.name}' must be stateful to reset its states.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    # -- calling ----------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if training is not None:
            kwargs["training"] = training
        forward_kwargs, backward_kwargs = dict(kwargs), dict(kwargs)
        if mask is not None:
            for direction, direction_kwargs in ((self.forward_layer, forward_kwargs),
                                                (self.backward_layer, backward_kwargs)):
                if direction._call_accepts_mask:
                    direction_kwargs["mask"] = mask
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            if len(states) % 2:
                raise ValueError(f"Layer '{self.name}' (Bidirectional): `initial_state` must "
                                 f"hold the forward layer's states followed by the backward "
                                 f"layer's, an even number of tensors. Received "
                                 f"{len(states)}: {[tuple(s.shape) for s in states]}")
            half = len(states) // 2
            forward_state, backward_state = states[:half], states[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, **forward_kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **backward_kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            outputs = [tf.concat([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            outputs = [y + y_rev]
        elif self.merge_mode == "ave":
            outputs = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, y_rev]
        if not self.return_state and len(outputs) == 1:
            return outputs[0]
        return outputs + states

    # -- configuration ----------------------------------------------------------------------
    def get_config(self):
        from numpyflow.keras.layers.serialization import serialize
        config = super().get_config()
        config.update({"merge_mode": self.merge_mode,
                       "layer": serialize(self.forward_layer),
                       "backward_layer": serialize(self.backward_layer)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from numpyflow.keras.layers.serialization import deserialize
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects=custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"],
                                                   custom_objects=custom_objects)
        return super().from_config(config)
