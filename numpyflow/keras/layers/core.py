"""Core layers: `Dense`, `Flatten`, `Activation`, `Reshape`, `Dropout`."""

import math
import numbers

import numpyflow as tf
from numpyflow.keras import activations, constraints, initializers, regularizers
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.input_spec import InputSpec
from numpyflow.keras.utils.serialization import serialize_keras_object


# -- helpers shared with conv.py / pooling.py ---------------------------------------------

def positive_int(value):
    """`value` as an int when it is a positive integer (3, 3.0, np.int64(3)), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if value != int(value) or value <= 0:
        return None
    return int(value)


def normalize_data_format(value, layer_name, supported=("channels_last",)):
    """'channels_last' for None; raises ValueError naming the layer for unsupported formats."""
    value = "channels_last" if value is None else str(value).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer_name}: invalid `data_format` {value!r}. Expected "
                         f"'channels_last' or 'channels_first'.")
    if value not in supported:
        raise ValueError(f"{layer_name}: data_format={value!r} is not supported by numpyflow "
                         f"(only {list(supported)}); use channels-last inputs: (batch, "
                         f"steps, channels) or (batch, height, width, channels).")
    return value


def get_optional(module_name, identifier):
    """`keras.<module_name>.get(identifier)` for "regularizers" or "constraints": None stays
    None, a name or config becomes the object, an unknown name raises a ValueError."""
    modules = {"regularizers": regularizers, "constraints": constraints}
    if module_name not in modules:
        raise ValueError(f"get_optional: expected 'regularizers' or 'constraints'. Received: "
                         f"module_name={module_name!r}")
    return modules[module_name].get(identifier)


def serialize_optional(obj):
    """Config form of an optional regularizer/constraint/initializer (None stays None)."""
    return None if obj is None else serialize_keras_object(obj)


# A weight's initializer, regularizer and constraint arguments are kept on the layer under
# the weight's prefix, as Keras names them (`kernel_initializer`, `depthwise_regularizer`,
# `gamma_constraint`, ...): the three helpers below keep them, make the weight from them and
# write them to the config, for every layer with weights.

def set_weight_args(layer, prefix, initializer, regularizer, constraint):
    """Sets `layer.<prefix>_initializer`, `_regularizer` and `_constraint`."""
    setattr(layer, f"{prefix}_initializer", initializers.get(initializer))
    setattr(layer, f"{prefix}_regularizer", get_optional("regularizers", regularizer))
    setattr(layer, f"{prefix}_constraint", get_optional("constraints", constraint))


def add_weight_with_args(layer, prefix, name, shape):
    """A trainable weight made with the arguments `set_weight_args` kept under `prefix`."""
    return layer.add_weight(name, shape=shape,
                            initializer=getattr(layer, f"{prefix}_initializer"),
                            regularizer=getattr(layer, f"{prefix}_regularizer"),
                            constraint=getattr(layer, f"{prefix}_constraint"), trainable=True)


def weight_args_config(layer, *prefixes):
    """The config entries of the arguments `set_weight_args` kept under each of `prefixes`,
    in Keras's order: the initializers, then the regularizers, then the constraints."""
    config = {f"{prefix}_initializer": initializers.serialize(
        getattr(layer, f"{prefix}_initializer")) for prefix in prefixes}
    for kind in ("regularizer", "constraint"):
        config.update({f"{prefix}_{kind}": serialize_optional(
            getattr(layer, f"{prefix}_{kind}")) for prefix in prefixes})
    return config


# Dense and the convolutions take the same activation, bias, initializer, regularizer and
# constraint arguments after their own: the helpers below keep them, make the weights from
# them, apply them and write them to the config in one place.

def set_kernel_and_bias_args(layer, activation, use_bias, kernel_initializer,
                             bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint):
    """Sets `layer.activation`, `use_bias` and the kernel/bias arguments (names or objects).

    (`activity_regularizer` is the base Layer's argument and attribute.)
    """
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    set_weight_args(layer, "kernel", kernel_initializer, kernel_regularizer,
                    kernel_constraint)
    set_weight_args(layer, "bias", bias_initializer, bias_regularizer, bias_constraint)


def add_kernel_and_bias(layer, kernel_shape):
    """Creates `layer.kernel`, and with `use_bias` a `layer.bias` of one value per output."""
    layer.kernel = add_weight_with_args(layer, "kernel", "kernel", kernel_shape)
    if layer.use_bias:
        layer.bias = add_weight_with_args(layer, "bias", "bias", kernel_shape[-1:])


def add_bias_and_activate(layer, outputs):
    """`outputs` plus `layer.bias` (when there is one), through `layer.activation`."""
    if layer.bias is not None:
        outputs = tf.nn.bias_add(outputs, layer.bias)
    if layer.activation is not activations.linear:  # Skips an identity op on the hot path.
        outputs = layer.activation(outputs)
    return outputs


def kernel_and_bias_config(layer):
    """The config entries of the arguments `set_kernel_and_bias_args` takes."""
    return {
        "activation": activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        **weight_args_config(layer, "kernel", "bias"),
        # Written even when None, as Keras 3 writes it for the convolutions.
        "activity_regularizer": serialize_optional(layer.activity_regularizer),
    }


# -- Dense ----------------------------------------------------------------------------------

class Dense(Layer):
    """A densely-connected layer: `activation(inputs @ kernel + bias)`.

    Inputs of rank > 2 are transformed along their last axis: (batch, d0, input_dim)
    gives (batch, d0, units).

    Args:
      units: Positive int, the size of the output's last axis.
      activation: Activation function or name ("relu", "softmax", ...); None is linear.
      use_bias: Whether to add a bias vector.
      kernel_initializer: Initializer (or name) of the (input_dim, units) `kernel`.
      bias_initializer: Initializer (or name) of the (units,) `bias`.
      kernel_regularizer, bias_regularizer: Optional regularizers (or names, e.g. "l2")
        whose penalties of the weights appear in `losses` (see `keras.regularizers`).
      activity_regularizer: Optional regularizer of the outputs (per sample: divided by
        the batch size).
      kernel_constraint, bias_constraint: Optional constraints (or names, e.g.
        "non_neg") applied by the optimizer after each update (see `keras.constraints`).

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Dense(4, activation="relu")
    >>> layer(tf.ones((2, 3))).shape
    TensorShape([2, 4])
    >>> [w.shape for w in layer.weights]
    [TensorShape([3, 4]), TensorShape([4])]
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        checked_units = positive_int(units)
        if checked_units is None:
            raise ValueError(f"Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = checked_units
        set_kernel_and_bias_args(self, activation, use_bias, kernel_initializer,
                                 bias_initializer, kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        last_dim = input_shape[-1] if input_shape.rank else None
        if last_dim is None:
            raise ValueError(f"Layer '{self.name}': the last dimension of the inputs to a "
                             f"Dense layer should be defined. Found None. Full input shape "
                             f"received: {input_shape}")
        add_kernel_and_bias(self, (last_dim, self.units))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last_dim})
        self.built = True

    def call(self, inputs):
        # The training hot path: Layer.__call__ has already converted and checked `inputs`.
        if inputs.ndim == 2:
            outputs = tf.matmul(inputs, self.kernel)
        else:
            # One big matmul over all leading axes beats a batched one (and its gradient).
            leading = inputs.shape[:-1]
            flat = tf.reshape(inputs, (-1, inputs.shape[-1]))
            outputs = tf.reshape(tf.matmul(flat, self.kernel), leading + (self.units,))
        return add_bias_and_activate(self, outputs)

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank < 2:
            raise ValueError(f"Layer '{self.name}': Dense expects inputs of rank >= 2; "
                             f"received input_shape={input_shape}")
        return input_shape[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        config.update(kernel_and_bias_config(self))
        return config


# -- Flatten --------------------------------------------------------------------------------

class Flatten(Layer):
    """Flattens each sample to one axis: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

    Args:
      data_format: "channels_last" (default) or "channels_first"; with the latter the
        channels axis is moved last first, so the order matches a channels-last model.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Flatten()(tf.zeros((2, 28, 28))).shape
    TensorShape([2, 784])
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(
            data_format, f"Flatten layer '{self.name}'",
            supported=("channels_last", "channels_first"))
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        rank = inputs.ndim
        if self.data_format == "channels_first" and rank > 2:
            inputs = tf.transpose(inputs, perm=[0, *range(2, rank), 1])
        # The sample size is computed, not left to -1, so that an empty batch works.
        batch, *sample = inputs.shape
        return tf.reshape(inputs, (batch, math.prod(sample)))

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank < 1:
            raise ValueError(f"Layer '{self.name}': Flatten expects inputs of rank >= 1 "
                             f"(a batch axis); received input_shape={input_shape}")
        return tf.TensorShape((input_shape[0], input_shape[1:].num_elements()))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


# -- Activation -----------------------------------------------------------------------------

class Activation(Layer):
    """Applies an activation function.

    Args:
      activation: A name ("relu", "softmax", ...) or a callable.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Activation("relu")(tf.constant([[-1., 2.]])).numpy()
    array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


# -- Reshape --------------------------------------------------------------------------------

class Reshape(Layer):
    """Reshapes each sample to `target_shape` (the batch axis is kept).

    Args:
      target_shape: The shape of one sample; one entry may be -1, inferred from the size.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Reshape((-1, 2))(tf.zeros((3, 8))).shape
    TensorShape([3, 4, 2])
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, numbers.Integral):
            target_shape = (target_shape,)
        dims = tuple(-1 if d is None else d for d in target_shape)
        valid = all(d == -1 or positive_int(d) for d in dims)
        if not valid or dims.count(-1) > 1:
            raise ValueError(f"Reshape layer '{self.name}': invalid `target_shape` "
                             f"{tuple(target_shape)}. Expected positive integers and at most "
                             f"one -1 (the inferred dimension).")
        self.target_shape = tuple(int(d) for d in dims)

    def _sample_shape(self, input_shape):
        """`target_shape` with its -1 resolved for one sample of `input_shape` (if known)."""
        sample = tuple(input_shape[1:])
        if None in sample:
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(sample)
        fixed = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % fixed == 0:
                return tuple(size // fixed if d == -1 else d for d in self.target_shape)
        elif size == fixed:
            return self.target_shape
        raise ValueError(f"Reshape layer '{self.name}': cannot reshape an input of shape "
                         f"{tuple(input_shape)} ({size} values per sample) to target_shape "
                         f"{self.target_shape}. The total size must be unchanged.")

    def build(self, input_shape):
        self._sample_shape(tf.TensorShape(input_shape))  # Fails early on impossible shapes.
        self.built = True

    def call(self, inputs):
        shape = inputs.shape
        return tf.reshape(inputs, (shape[0],) + self._sample_shape(shape))

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        return tf.TensorShape((input_shape[0],) + self._sample_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


# -- Dropout --------------------------------------------------------------------------------

class Dropout(Layer):
    """Randomly zeroes a fraction `rate` of its inputs while training.

    Kept values are scaled by 1 / (1 - rate) so the expected sum is unchanged. Outside
    training (`training=False` or not given, as in `predict`/`evaluate`) it is the identity.

    Args:
      rate: Fraction of the inputs to drop, in [0, 1].
      noise_shape: Optional shape of the binary mask, broadcast over the input (None
        entries take the input's size), e.g. (batch, 1, features) to share it over time.
      seed: Optional int for reproducible masks.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Dropout(0.5)
    >>> bool((layer(tf.ones((2, 3))).numpy() == 1.).all())  # inference: unchanged
    True
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.supports_masking = True

    def _mask_shape(self, inputs):
        if self.noise_shape is None:
            return None
        return tuple(dim if want is None else want
                     for want, dim in zip(self.noise_shape, inputs.shape))

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.  # tf.nn.dropout refuses rate=1; everything is dropped.
        return tf.nn.dropout(inputs, rate=self.rate, noise_shape=self._mask_shape(inputs),
                             seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config
