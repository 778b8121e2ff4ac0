"""`StackedRNNCells`: several RNN cells run as one, each feeding the next at every step."""

from numpyflow.keras.layers.base_layer import Layer


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells so that an `RNN` runs them stacked.

    At each step the first cell reads the input, each later cell reads the output of the
    one before; the states are one entry per cell (each an int-sized state or a list).

    Args:
      cells: A list of RNN cells.

    >>> import numpyflow as tf
    >>> cells = [tf.keras.layers.SimpleRNNCell(4), tf.keras.layers.LSTMCell(3)]
    >>> tf.keras.layers.RNN(cells)(tf.ones((2, 5, 6))).shape
    TensorShape([2, 3])
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"StackedRNNCells: all cells must have a `call` method. "
                                 f"Received: cell={cell!r}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError(f"StackedRNNCells: all cells must have a `state_size` "
                                 f"attribute. Received: cell={cell!r}")
        self.cells = cells

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        size = last.state_size
        return size[0] if isinstance(size, (list, tuple)) else size

    def get_initial_state(self, batch_size=None):
        import numpyflow as tf
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(tf.zeros((batch_size, cell.state_size), dtype=self.compute_dtype))
            else:
                states.append([tf.zeros((batch_size, d), dtype=self.compute_dtype)
                               for d in cell.state_size])
        return states

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            was_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if was_list else [cell_states]
            kwargs = {}
            if isinstance(cell, Layer) and cell._call_accepts_training:
                kwargs["training"] = training
            call = cell if isinstance(cell, Layer) else cell.call
            inputs, cell_states = call(inputs, cell_states, **kwargs)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not was_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        batch = tuple(input_shape)[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) \
                    else cell.state_size
            input_shape = (batch, size)
        self.built = True

    def get_config(self):
        from numpyflow.keras.saving import serialization_lib
        config = super().get_config()
        config["cells"] = [serialization_lib.serialize_keras_object(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from numpyflow.keras.saving import serialization_lib
        config = dict(config)
        cells = [serialization_lib.deserialize_keras_object(c, custom_objects=custom_objects)
                 for c in config.pop("cells")]
        return cls(cells, **config)
