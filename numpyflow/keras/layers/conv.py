"""`Conv2D`, and the argument/shape helpers that convolution and pooling layers share."""

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import (
    add_kernel_and_bias, kernel_and_bias_config, normalize_data_format, positive_int,
    set_kernel_and_bias_args)
from numpyflow.keras.layers.input_spec import InputSpec

PADDINGS = ("valid", "same")


# -- argument helpers -----------------------------------------------------------------------

def normalize_tuple(value, n, arg_name, who):
    """An int or a length-`n` sequence of positive ints, as a tuple of `n` ints."""
    items = (value,) * n if positive_int(value) else value
    try:
        items = tuple(positive_int(v) for v in items)
    except TypeError:
        items = ()
    if len(items) != n or None in items:
        raise ValueError(f"{who}: the `{arg_name}` argument must be a positive integer or a "
                         f"tuple of {n} positive integers. Received: {arg_name}={value!r}")
    return items


def normalize_padding(value, who):
    """'valid' or 'same' (any case); raises ValueError listing them otherwise."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in PADDINGS:
        raise ValueError(f"{who}: invalid `padding` argument {value!r}. Expected one of "
                         f"{list(PADDINGS)}.")
    return padding


def conv_output_length(length, kernel_size, padding, stride, dilation=1):
    """Output length along one spatial axis (None stays None), as Keras computes it.

    >>> conv_output_length(28, 3, "valid", 1), conv_output_length(28, 3, "same", 2)
    (26, 14)
    """
    if length is None:
        return None
    dilated_kernel = (kernel_size - 1) * dilation + 1
    covered = length if padding == "same" else length - dilated_kernel + 1
    return (covered + stride - 1) // stride


def spatial_output_shape(layer, input_shape, channels_out, kernel_size, strides, padding,
                         dilation=(1, 1)):
    """(batch, out_h, out_w, channels_out) for a 4-D channels-last `input_shape`."""
    input_shape = tf.TensorShape(input_shape)
    if input_shape.rank != 4:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expects 4-D inputs "
                         f"(batch, height, width, channels); received input_shape="
                         f"{input_shape}")
    dims = tuple(conv_output_length(input_shape[1 + i], kernel_size[i], padding, strides[i],
                                    dilation[i]) for i in range(2))
    if any(d is not None and d <= 0 for d in dims):
        raise ValueError(f"Layer '{layer.name}': one of the dimensions in the output is <= 0 "
                         f"due to downsampling. Received input_shape={input_shape}, which "
                         f"would give output spatial dims {dims}; use a larger input, "
                         f"padding='same' or smaller kernel/strides.")
    return tf.TensorShape((input_shape[0],) + dims + (channels_out,))


# -- Conv2D ---------------------------------------------------------------------------------

class Conv2D(Layer):
    """2-D convolution over (batch, height, width, channels) inputs.

    Args:
      filters: Number of output channels.
      kernel_size: An int or (height, width) of the window.
      strides: An int or (sh, sw).
      padding: "valid" (no padding) or "same" (output size = ceil(input / stride)).
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or (dh, dw); cannot be combined with strides > 1.
      groups: Number of channel groups (input channels and `filters` must be divisible).
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per filter.
      kernel_initializer, bias_initializer: Initializers (or names) of the
        (kh, kw, in_channels / groups, filters) `kernel` and (filters,) `bias`.
      kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: Accepted and kept in the config; not applied yet.

    >>> import numpyflow as tf
    >>> conv = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(tf.zeros((2, 28, 28, 1))).shape
    TensorShape([2, 28, 28, 8])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = f"Conv2D layer '{self.name}'"
        self.filters = positive_int(filters)
        if self.filters is None:
            raise ValueError(f"{who}: invalid value for argument `filters`. Expected a "
                             f"positive integer. Received: filters={filters!r}")
        self.groups = positive_int(groups)
        if self.groups is None or self.filters % self.groups:
            raise ValueError(f"{who}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups!r}, "
                             f"filters={filters!r}")
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", who)
        self.strides = normalize_tuple(strides, 2, "strides", who)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{who}: `strides > 1` is not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = normalize_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        set_kernel_and_bias_args(self, activation, use_bias, kernel_initializer,
                                 bias_initializer, kernel_regularizer, bias_regularizer,
                                 activity_regularizer, kernel_constraint, bias_constraint)
        self.input_spec = InputSpec(ndim=4)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        self.compute_output_shape(input_shape)  # Rank and output size checks.
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the channel dimension (last axis) of the "
                             f"inputs should be defined. Found None. Full input shape "
                             f"received: {input_shape}")
        if channels % self.groups:
            raise ValueError(f"Layer '{self.name}': the number of input channels must be "
                             f"evenly divisible by the number of groups. Received "
                             f"groups={self.groups}, but the input has {channels} channels "
                             f"(full input_shape={input_shape}).")
        add_kernel_and_bias(self, self.kernel_size + (channels // self.groups, self.filters))
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        if self.groups == 1:
            outputs = self._convolve(inputs, self.kernel)
        else:
            # tf.nn.conv2d has no grouped convolution here: one convolution per group, each
            # seeing its slice of the input channels and producing its slice of the filters.
            in_size = self.kernel.shape[2]
            out_size = self.filters // self.groups
            outputs = tf.concat([
                self._convolve(inputs[..., g * in_size:(g + 1) * in_size],
                               self.kernel[..., g * out_size:(g + 1) * out_size])
                for g in range(self.groups)], axis=-1)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, self.bias)
        if self.activation is not activations.linear:
            outputs = self.activation(outputs)
        return outputs

    def _convolve(self, inputs, kernel):
        return tf.nn.conv2d(inputs, kernel, strides=self.strides, padding=self.padding.upper(),
                            dilations=self.dilation_rate)

    def compute_output_shape(self, input_shape):
        return spatial_output_shape(self, input_shape, self.filters, self.kernel_size,
                                    self.strides, self.padding, self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
        })
        config.update(kernel_and_bias_config(self))
        return config


Convolution2D = Conv2D
