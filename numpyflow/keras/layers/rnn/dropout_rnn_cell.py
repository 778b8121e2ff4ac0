"""`DropoutRNNCell`: dropout masks for RNN cells, drawn once per RNN call.

A cell mixing this in gets `get_dropout_mask(step_input)` and
`get_recurrent_dropout_mask(state)`: the first call of a sequence draws a mask (or
`dropout_mask_count` masks, one per gate) and every later step reuses it, as Keras does;
the `RNN` layer resets the masks before and after each call. Masks are used only while
training.

`RecurrentCell` holds what SimpleRNNCell, LSTMCell and GRUCell share: their activation,
initializer, regularizer, constraint, dropout and seed arguments and their config keys.
"""

import numpyflow as tf
from numpyflow.keras import activations, constraints, initializers, regularizers
from numpyflow.keras.layers.base_layer import Layer


class DropoutRNNCell:
    """Mixin caching dropout masks across the timesteps of one RNN call.

    The cell needs `dropout`, `recurrent_dropout` and `seed` attributes.

    >>> import numpyflow as tf
    >>> cell = tf.keras.layers.LSTMCell(3, dropout=0.5, seed=1)
    >>> m1 = cell.get_dropout_mask(tf.ones((2, 4)))
    >>> m2 = cell.get_dropout_mask(tf.ones((2, 4)))
    >>> m1 is m2
    True
    """

    def _create_dropout_mask(self, step_input, rate):
        ones = tf.ones_like(step_input)
        count = getattr(self, "dropout_mask_count", None)
        if count is None:
            return tf.nn.dropout(ones, rate=rate, seed=self.seed)
        return [tf.nn.dropout(ones, rate=rate, seed=self.seed) for _ in range(count)]

    def get_dropout_mask(self, step_input):
        """The input dropout mask of this RNN call (drawn on first use), or None."""
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        """The recurrent-state dropout mask of this RNN call (drawn on first use), or None."""
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(step_input,
                                                                     self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class RecurrentCell(DropoutRNNCell, Layer):
    """The arguments and config shared by the built-in cells (not a public class)."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"{type(self).__name__}: received an invalid value for argument "
                             f"`units`, expected a positive integer. Received: units={units!r}")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed

    def _add_kernels(self, input_shape, gates):
        input_dim = tf.TensorShape(input_shape)[-1]
        if input_dim is None:
            raise ValueError(f"Layer '{self.name}': the last dimension of the inputs must be "
                             f"known. Received: input_shape={tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(input_dim, gates * self.units), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, gates * self.units), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)

    def _add_bias(self, shape, initializer=None):
        self.bias = self.add_weight(shape=shape, name="bias",
                                    initializer=initializer or self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)

    def _dropped_input(self, inputs, training):
        if training and 0.0 < self.dropout < 1.0:
            return inputs * self.get_dropout_mask(inputs)
        return inputs

    def _dropped_state(self, h, training):
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return h * self.get_recurrent_dropout_mask(h)
        return h

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [tf.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        })
        return config


def states_list(states):
    """A cell's `states` argument as a list (Keras passes a list; one Tensor is allowed)."""
    return list(states) if isinstance(states, (list, tuple)) else [states]


def gate_projections(inputs, kernel, masks, gates):
    """`[inputs_k @ kernel_k for each gate k]`, where kernel_k is the k-th block of columns
    and inputs_k is `inputs * masks[k]` (one mask per gate, as Keras's implementation 1 with
    recurrent dropout), `inputs * masks` (one mask), or `inputs` (masks None)."""
    if masks is None or not isinstance(masks, (list, tuple)):
        if masks is not None:
            inputs = inputs * masks
        return tf.split(tf.matmul(inputs, kernel), gates, axis=-1)
    units = kernel.shape[-1] // gates
    return [tf.matmul(inputs * masks[k], kernel[:, k * units:(k + 1) * units])
            for k in range(gates)]
