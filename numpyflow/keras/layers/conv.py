"""`Conv1D` and `Conv2D`, and the argument/shape helpers that convolution and pooling
layers share."""

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import (
    add_bias_and_activate, add_kernel_and_bias, kernel_and_bias_config,
    normalize_data_format, positive_int, set_kernel_and_bias_args)
from numpyflow.keras.layers.input_spec import InputSpec

PADDINGS = ("valid", "same")


# -- argument helpers -----------------------------------------------------------------------

def normalize_tuple(value, n, arg_name, who, allow_zero=False):
    """An int or a length-`n` sequence of positive ints (or non-negative, with
    `allow_zero`), as a tuple of `n` ints."""
    def checked(v):
        if allow_zero and not isinstance(v, bool) and v == 0:
            return 0
        return positive_int(v)

    try:
        items = (value,) * n if checked(value) is not None else value
        items = tuple(checked(v) for v in items)
    except TypeError:
        items = ()
    if len(items) != n or None in items:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{who}: the `{arg_name}` argument must be a {kind} integer or a "
                         f"tuple of {n} {kind} integers. Received: {arg_name}={value!r}")
    return items


def normalize_padding(value, who, allowed=PADDINGS):
    """One of `allowed` ('valid', 'same'; any case); raises ValueError listing them."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"{who}: invalid `padding` argument {value!r}. Expected one of "
                         f"{list(allowed)}.")
    return padding


def conv_output_length(length, kernel_size, padding, stride, dilation=1):
    """Output length along one spatial axis (None stays None), as Keras computes it.

    "causal" (left padding only) gives the length "same" gives.

    >>> conv_output_length(28, 3, "valid", 1), conv_output_length(28, 3, "same", 2)
    (26, 14)
    """
    if length is None:
        return None
    dilated_kernel = (kernel_size - 1) * dilation + 1
    covered = length if padding in ("same", "causal") else length - dilated_kernel + 1
    return (covered + stride - 1) // stride


def require_rank(layer, input_shape, rank):
    """`input_shape` as a TensorShape; ValueError naming `layer` unless it has `rank`
    spatial axes (rank + 2 in all, with batch and channels)."""
    input_shape = tf.TensorShape(input_shape)
    if input_shape.rank != rank + 2:
        axes = "steps" if rank == 1 else "height, width"
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expects "
                         f"{rank + 2}-D inputs (batch, {axes}, channels); received "
                         f"input_shape={input_shape}")
    return input_shape


def spatial_output_shape(layer, input_shape, channels_out, kernel_size, strides, padding,
                         dilation=None):
    """(batch, *spatial, channels_out) for a channels-last `input_shape` with
    len(kernel_size) spatial axes; raises ValueError naming `layer` if an axis would be
    empty."""
    rank = len(kernel_size)
    input_shape = require_rank(layer, input_shape, rank)
    dilation = dilation or (1,) * rank
    dims = tuple(conv_output_length(input_shape[1 + i], kernel_size[i], padding, strides[i],
                                    dilation[i]) for i in range(rank))
    if any(d is not None and d <= 0 for d in dims):
        raise ValueError(f"Layer '{layer.name}': one of the dimensions in the output is <= 0 "
                         f"due to downsampling. Received input_shape={input_shape}, which "
                         f"would give output spatial dims {dims}; use a larger input, "
                         f"padding='same' or smaller kernel/strides.")
    return tf.TensorShape((input_shape[0],) + dims + (channels_out,))


def input_channels(layer, input_shape):
    """The (defined) channel dimension, the last axis of `input_shape`."""
    channels = tf.TensorShape(input_shape)[-1]
    if channels is None:
        raise ValueError(f"Layer '{layer.name}': the channel dimension (last axis) of the "
                         f"inputs should be defined. Found None. Full input shape received: "
                         f"{tf.TensorShape(input_shape)}")
    return channels


def positive_int_arg(value, arg_name, who):
    """`value` as a positive int; raises ValueError naming the argument otherwise."""
    checked = positive_int(value)
    if checked is None:
        raise ValueError(f"{who}: invalid value for argument `{arg_name}`. Expected a "
                         f"positive integer. Received: {arg_name}={value!r}")
    return checked


def check_strides_and_dilation(strides, dilation_rate, who):
    # Keras rejects the combination (TF's dilated convolution has no strided form).
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(f"{who}: `strides > 1` is not supported in conjunction with "
                         f"`dilation_rate > 1`. Received: strides={strides} and "
                         f"dilation_rate={dilation_rate}")


def set_window_args(layer, who, kernel_size, strides, dilation_rate, padding, data_format,
                    paddings=PADDINGS):
    """Checks and sets the window arguments every convolution takes (`kernel_size`,
    `strides`, `dilation_rate` as `layer.rank`-tuples, `padding` among `paddings`,
    `data_format`); errors name `who`."""
    layer.kernel_size = normalize_tuple(kernel_size, layer.rank, "kernel_size", who)
    layer.strides = normalize_tuple(strides, layer.rank, "strides", who)
    layer.dilation_rate = normalize_tuple(dilation_rate, layer.rank, "dilation_rate", who)
    layer.padding = normalize_padding(padding, who, paddings)
    layer.data_format = normalize_data_format(data_format, who)


def window_config(layer):
    """The config entries of the arguments `set_window_args` took."""
    return {
        "kernel_size": layer.kernel_size,
        "strides": layer.strides,
        "padding": layer.padding,
        "data_format": layer.data_format,
        "dilation_rate": layer.dilation_rate,
    }


# -- Conv1D / Conv2D ------------------------------------------------------------------------

class BaseConv(Layer):
    """What `Conv1D` and `Conv2D` share; subclasses set `rank` and `convolution_op`."""

    rank = None

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 groups, activation, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, bias_constraint, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = f"{type(self).__name__} layer '{self.name}'"
        self.filters = positive_int_arg(filters, "filters", who)
        self.groups = positive_int_arg(groups, "groups", who)
        if self.filters % self.groups:
            raise ValueError(f"{who}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups!r}, "
                             f"filters={filters!r}")
        allowed = PADDINGS + ("causal",) if self.rank == 1 else PADDINGS
        set_window_args(self, who, kernel_size, strides, dilation_rate, padding, data_format,
                        allowed)
        check_strides_and_dilation(self.strides, self.dilation_rate, who)
        set_kernel_and_bias_args(self, activation, use_bias, kernel_initializer,
                                 bias_initializer, kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.kernel = self.bias = None

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Rank and output size checks.
        channels = input_channels(self, input_shape)
        if channels % self.groups:
            raise ValueError(f"Layer '{self.name}': the number of input channels must be "
                             f"evenly divisible by the number of groups. Received "
                             f"groups={self.groups}, but the input has {channels} channels "
                             f"(full input_shape={tf.TensorShape(input_shape)}).")
        add_kernel_and_bias(self, self.kernel_size + (channels // self.groups, self.filters))
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        # A kernel of depth channels / groups makes tf.nn's convolution a grouped one.
        return add_bias_and_activate(self, self.convolution_op(inputs, self.kernel))

    def convolution_op(self, inputs, kernel):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return spatial_output_shape(self, input_shape, self.filters, self.kernel_size,
                                    self.strides, self.padding, self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config["filters"] = self.filters
        config.update(window_config(self))
        config["groups"] = self.groups
        config.update(kernel_and_bias_config(self))
        return config


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels) inputs.

    Args:
      filters: Number of output channels.
      kernel_size: An int or a 1-tuple: the window length.
      strides: An int or a 1-tuple.
      padding: "valid" (no padding), "same" (output length = ceil(steps / stride)) or
        "causal" (zeros before the sequence only, so output t sees inputs <= t).
      dilation_rate: An int or a 1-tuple; cannot be combined with strides > 1.
      data_format: Only "channels_last" (the default) is supported.
      groups: Number of channel groups: each run of input_channels / groups inputs is
        convolved with its own filters / groups filters (both must be divisible).
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per filter.
      kernel_initializer, bias_initializer: Initializers (or names) of the
        (*kernel_size, input_channels / groups, filters) `kernel` and (filters,) `bias`.
      kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: Regularizers and constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> conv = tf.keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2)
    >>> conv(tf.zeros((2, 10, 3))).shape
    TensorShape([2, 10, 4])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)

    def convolution_op(self, inputs, kernel):
        padding = self.padding
        if padding == "causal":
            # Causal: all the padding goes before the sequence, then a valid convolution.
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs = tf.pad(inputs, [[0, 0], [left, 0], [0, 0]])
            padding = "valid"
        return tf.nn.conv1d(inputs, kernel, stride=self.strides[0], padding=padding.upper(),
                            dilations=self.dilation_rate[0])


class Conv2D(BaseConv):
    """2-D convolution over (batch, height, width, channels) inputs.

    Args:
      filters: Number of output channels.
      kernel_size: An int or (height, width) of the window.
      strides: An int or (sh, sw).
      padding: "valid" (no padding) or "same" (output size = ceil(input / stride)).
      dilation_rate: An int or (dh, dw); cannot be combined with strides > 1.
      data_format: Only "channels_last" (the default) is supported.
      groups: Number of channel groups: each run of input_channels / groups inputs is
        convolved with its own filters / groups filters (both must be divisible).
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per filter.
      kernel_initializer, bias_initializer: Initializers (or names) of the
        (*kernel_size, input_channels / groups, filters) `kernel` and (filters,) `bias`.
      kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: Regularizers and constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> conv = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(tf.zeros((2, 28, 28, 1))).shape
    TensorShape([2, 28, 28, 8])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)

    def convolution_op(self, inputs, kernel):
        return tf.nn.conv2d(inputs, kernel, strides=self.strides, padding=self.padding.upper(),
                            dilations=self.dilation_rate)


# Keras's aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
