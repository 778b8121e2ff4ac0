"""Depthwise convolution (one filter set per input channel) and separable convolution
(depthwise, then a 1x1 convolution mixing the channels), in 1-D and 2-D.

The 1-D layers run the 2-D ops on a height-1 image."""

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.conv import (
    input_channels, positive_int_arg, set_window_args, spatial_output_shape, window_config)
from numpyflow.keras.layers.core import (
    add_bias_and_activate, add_weight_with_args, serialize_optional, set_weight_args,
    weight_args_config)
from numpyflow.keras.layers.input_spec import InputSpec


class _DepthwiseBase(Layer):
    """The window, activation and bias arguments all these layers share; subclasses set
    `rank`."""

    rank = None

    def __init__(self, kernel_size, strides, padding, depth_multiplier, data_format,
                 dilation_rate, activation, use_bias, bias_initializer, bias_regularizer,
                 activity_regularizer, bias_constraint, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._who = f"{type(self).__name__} layer '{self.name}'"
        self.depth_multiplier = positive_int_arg(depth_multiplier, "depth_multiplier",
                                                 self._who)
        set_window_args(self, self._who, kernel_size, strides, dilation_rate, padding,
                        data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_args(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.bias = None

    def _window_2d(self):
        """(strides, dilations) for the 2-D op (a 1-D layer's image has height 1)."""
        if self.rank == 2:
            return self.strides, self.dilation_rate
        return (1,) + self.strides, (1,) + self.dilation_rate

    def _to_2d(self, tensor, axis):
        """A 1-D layer's inputs (axis 1) or kernels (axis 0) with a height-1 axis added."""
        return tensor if self.rank == 2 else tf.expand_dims(tensor, axis)

    def _finish(self, outputs):
        """The 2-D op's outputs back at the layer's rank, plus bias and activation."""
        if self.rank == 1:
            outputs = tf.squeeze(outputs, 1)
        return add_bias_and_activate(self, outputs)

    def _output_shape(self, input_shape, channels_out):
        return spatial_output_shape(self, input_shape, channels_out, self.kernel_size,
                                    self.strides, self.padding, self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config["depth_multiplier"] = self.depth_multiplier
        config.update(window_config(self))
        config.update({"activation": activations.serialize(self.activation),
                       "use_bias": self.use_bias})
        return config


class _DepthwiseConv(_DepthwiseBase):
    """Builds and runs a depthwise convolution of `rank` spatial axes."""

    def __init__(self, kernel_size, strides, padding, depth_multiplier, data_format,
                 dilation_rate, activation, use_bias, depthwise_initializer, bias_initializer,
                 depthwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, bias_constraint, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        set_weight_args(self, "depthwise", depthwise_initializer, depthwise_regularizer,
                        depthwise_constraint)
        self.kernel = None

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Rank and output size checks.
        channels = input_channels(self, input_shape)
        self.kernel = add_weight_with_args(self, "depthwise", "kernel",
                                           self.kernel_size + (channels,
                                                               self.depth_multiplier))
        if self.use_bias:
            self.bias = add_weight_with_args(self, "bias", "bias",
                                             (channels * self.depth_multiplier,))
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        strides, dilations = self._window_2d()
        return self._finish(tf.nn.depthwise_conv2d(
            self._to_2d(inputs, 1), self._to_2d(self.kernel, 0), strides,
            self.padding.upper(), dilations=dilations))

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        channels = input_shape[-1] if input_shape.rank else None
        return self._output_shape(
            input_shape, None if channels is None else channels * self.depth_multiplier)

    def get_config(self):
        config = super().get_config()
        config.update(weight_args_config(self, "depthwise", "bias"))
        config["activity_regularizer"] = serialize_optional(self.activity_regularizer)
        return config


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution: each input channel convolved with its own filters.

    Input channel c, convolved with its `depth_multiplier` filters, gives output channels
    c * depth_multiplier ... c * depth_multiplier + depth_multiplier - 1.

    Args:
      kernel_size: An int or 1-tuple: the window length.
      strides: An int or 1-tuple.
      padding: "valid" or "same".
      depth_multiplier: Filters per input channel.
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or 1-tuple.
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per output channel.
      depthwise_initializer, bias_initializer: Initializers (or names) of the
        (kernel_size, input_channels, depth_multiplier) `kernel` and the `bias`.
      depthwise_regularizer, bias_regularizer, activity_regularizer, depthwise_constraint,
      bias_constraint: Regularizers and constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> tf.keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(tf.zeros((1, 8, 3))).shape
    TensorShape([1, 6, 6])
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         **kwargs)


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each input channel convolved with its own filters.

    Input channel c, convolved with its `depth_multiplier` filters, gives output channels
    c * depth_multiplier ... c * depth_multiplier + depth_multiplier - 1: no mixing across
    channels (follow with a 1x1 `Conv2D`, or use `SeparableConv2D`, to mix them).

    Args:
      kernel_size: An int or (height, width) of the window.
      strides: An int or (sh, sw).
      padding: "valid" or "same".
      depth_multiplier: Filters per input channel; the output has
        input_channels * depth_multiplier channels.
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or (dh, dw).
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per output channel.
      depthwise_initializer, bias_initializer: Initializers (or names) of the
        (kh, kw, input_channels, depth_multiplier) `kernel` and the `bias`.
      depthwise_regularizer, bias_regularizer, activity_regularizer, depthwise_constraint,
      bias_constraint: Regularizers and constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> tf.keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(tf.zeros((1, 8, 8, 3))).shape
    TensorShape([1, 6, 6, 6])
    """

    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         **kwargs)


class _SeparableConv(_DepthwiseBase):
    """Builds and runs a separable convolution of `rank` spatial axes."""

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 depth_multiplier, activation, use_bias, depthwise_initializer,
                 pointwise_initializer, bias_initializer, depthwise_regularizer,
                 pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = positive_int_arg(filters, "filters", self._who)
        set_weight_args(self, "depthwise", depthwise_initializer, depthwise_regularizer,
                        depthwise_constraint)
        set_weight_args(self, "pointwise", pointwise_initializer, pointwise_regularizer,
                        pointwise_constraint)
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Rank and output size checks.
        channels = input_channels(self, input_shape)
        self.depthwise_kernel = add_weight_with_args(
            self, "depthwise", "depthwise_kernel",
            self.kernel_size + (channels, self.depth_multiplier))
        self.pointwise_kernel = add_weight_with_args(
            self, "pointwise", "pointwise_kernel",
            (1,) * self.rank + (channels * self.depth_multiplier, self.filters))
        if self.use_bias:
            self.bias = add_weight_with_args(self, "bias", "bias", (self.filters,))
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        strides, dilations = self._window_2d()
        return self._finish(tf.nn.separable_conv2d(
            self._to_2d(inputs, 1), self._to_2d(self.depthwise_kernel, 0),
            self._to_2d(self.pointwise_kernel, 0), strides, self.padding.upper(),
            dilations=dilations))

    def compute_output_shape(self, input_shape):
        return self._output_shape(input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config["filters"] = self.filters
        config.update(weight_args_config(self, "depthwise", "pointwise", "bias"))
        config["activity_regularizer"] = serialize_optional(self.activity_regularizer)
        return config


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1-D convolution: a `DepthwiseConv1D`, then a pointwise (size 1)
    convolution to `filters` channels.

    Args:
      filters: Number of output channels.
      kernel_size: An int or 1-tuple: the depthwise window length.
      strides: An int or 1-tuple of the depthwise step.
      padding: "valid" or "same".
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or 1-tuple of the depthwise step.
      depth_multiplier: Depthwise filters per input channel.
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per output channel.
      depthwise_initializer, pointwise_initializer, bias_initializer: Initializers (or
        names) of the (kernel_size, input_channels, depth_multiplier) `depthwise_kernel`,
        the (1, input_channels * depth_multiplier, filters) `pointwise_kernel` and the
        (filters,) `bias`.
      depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
      depthwise_constraint, pointwise_constraint, bias_constraint: Regularizers and
        constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> tf.keras.layers.SeparableConv1D(8, 3, padding="same")(tf.zeros((1, 10, 3))).shape
    TensorShape([1, 10, 8])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint,
                         **kwargs)


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2-D convolution: a `DepthwiseConv2D`, then a 1x1 convolution to
    `filters` channels — far fewer weights than a full `Conv2D` of the same window.

    Args:
      filters: Number of output channels.
      kernel_size: An int or (height, width) of the depthwise window.
      strides: An int or (sh, sw) of the depthwise step.
      padding: "valid" or "same".
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or (dh, dw) of the depthwise step.
      depth_multiplier: Depthwise filters per input channel.
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per output channel.
      depthwise_initializer, pointwise_initializer, bias_initializer: Initializers (or
        names) of the (kh, kw, input_channels, depth_multiplier) `depthwise_kernel`, the
        (1, 1, input_channels * depth_multiplier, filters) `pointwise_kernel` and the
        (filters,) `bias`.
      depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
      depthwise_constraint, pointwise_constraint, bias_constraint: Regularizers and
        constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> tf.keras.layers.SeparableConv2D(8, 3, padding="same")(tf.zeros((1, 8, 8, 3))).shape
    TensorShape([1, 8, 8, 8])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint,
                         **kwargs)


# Keras's aliases.
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
