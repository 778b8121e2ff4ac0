"""`Conv1DTranspose` and `Conv2DTranspose`: the transpose (gradient) of a convolution, for
upsampling."""

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.conv import (
    check_strides_and_dilation, input_channels, normalize_tuple, positive_int_arg,
    require_rank, set_window_args, window_config)
from numpyflow.keras.layers.core import (
    add_bias_and_activate, add_weight_with_args, kernel_and_bias_config,
    set_kernel_and_bias_args)
from numpyflow.keras.layers.input_spec import InputSpec


def deconv_output_length(length, kernel_size, padding, output_padding, stride, dilation=1):
    """Output length of a transposed convolution along one axis (None stays None).

    Keras's rule: without `output_padding`, "same" gives length * stride and "valid"
    (length - 1) * stride + max(kernel, stride); with it, the base length
    (length - 1) * stride + kernel ("valid") or + kernel % 2 ("same") grows by
    `output_padding`.

    >>> deconv_output_length(7, 3, "same", None, 2), deconv_output_length(7, 3, "valid", 1, 2)
    (14, 16)
    """
    if length is None:
        return None
    kernel = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (length - 1) * stride + kernel + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + kernel % 2 + output_padding


class BaseConvTranspose(Layer):
    """What `Conv1DTranspose` and `Conv2DTranspose` share; subclasses set `rank` and
    `transpose_op`."""

    rank = None

    def __init__(self, filters, kernel_size, strides, padding, output_padding, data_format,
                 dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, bias_constraint, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = f"{type(self).__name__} layer '{self.name}'"
        self.filters = positive_int_arg(filters, "filters", who)
        set_window_args(self, who, kernel_size, strides, dilation_rate, padding, data_format)
        check_strides_and_dilation(self.strides, self.dilation_rate, who)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", who, allow_zero=True)
        self._check_output_padding(who)
        set_kernel_and_bias_args(self, activation, use_bias, kernel_initializer,
                                 bias_initializer, kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.kernel = self.bias = None

    def _check_output_padding(self, who):
        if self.output_padding is None:
            return
        for axis in range(self.rank):
            padding, stride = self.output_padding[axis], self.strides[axis]
            if padding >= stride:
                raise ValueError(f"{who}: `output_padding` must be < `strides` along each "
                                 f"axis. Received: output_padding={self.output_padding}, "
                                 f"strides={self.strides}")
            kernel = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
            if self.padding == "same" and kernel % 2 == 0 and padding == 0:
                # The output would be (input - 1) * stride, which a "same" convolution
                # maps back to input - 1 steps, not input: no transpose has that shape.
                raise ValueError(f"{who}: with padding='same', an even (dilated) kernel size "
                                 f"needs output_padding >= 1 along that axis. Received: "
                                 f"kernel_size={self.kernel_size}, dilation_rate="
                                 f"{self.dilation_rate}, output_padding="
                                 f"{self.output_padding}")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Rank check.
        channels = input_channels(self, input_shape)
        # The kernel of the convolution this layer transposes: it maps `filters` channels
        # to `channels`, so its last two axes are (filters, channels).
        self.kernel = add_weight_with_args(self, "kernel", "kernel",
                                           self.kernel_size + (self.filters, channels))
        if self.use_bias:
            self.bias = add_weight_with_args(self, "bias", "bias", (self.filters,))
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        return add_bias_and_activate(
            self, self.transpose_op(inputs, self._output_shape(inputs.shape)))

    def transpose_op(self, inputs, output_shape):
        raise NotImplementedError

    def _output_shape(self, input_shape):
        output_padding = self.output_padding or (None,) * self.rank
        dims = tuple(deconv_output_length(input_shape[1 + a], self.kernel_size[a],
                                          self.padding, output_padding[a], self.strides[a],
                                          self.dilation_rate[a]) for a in range(self.rank))
        return (input_shape[0],) + dims + (self.filters,)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(self._output_shape(require_rank(self, input_shape, self.rank)))

    def get_config(self):
        config = super().get_config()
        config["filters"] = self.filters
        config.update(window_config(self))
        # Keras 3 leaves output_padding out of the config (so from_config loses it);
        # tf.keras 2 kept it, and so does this layer.
        config["output_padding"] = self.output_padding
        config.update(kernel_and_bias_config(self))
        return config


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution over (batch, steps, channels): the gradient of a `Conv1D`
    with respect to its input. With padding "same" and stride s, the output is s times
    longer than the input.

    Args:
      filters: Number of output channels.
      kernel_size: An int or 1-tuple: the window length.
      strides: An int or 1-tuple: the upsampling factor.
      padding: "valid" or "same".
      output_padding: None, an int or 1-tuple: extra steps at the end of the output,
        < the stride. None lets the padding decide.
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or 1-tuple; cannot be combined with strides > 1.
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per filter.
      kernel_initializer, bias_initializer: Initializers (or names) of the
        (kernel_size, filters, input_channels) `kernel` and (filters,) `bias`.
      kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: Regularizers and constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Conv1DTranspose(4, 3, strides=2)(tf.zeros((2, 5, 8))).shape
    TensorShape([2, 11, 4])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def transpose_op(self, inputs, output_shape):
        return tf.nn.conv1d_transpose(inputs, self.kernel, output_shape, self.strides[0],
                                      padding=self.padding.upper(),
                                      dilations=self.dilation_rate[0])


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution ("deconvolution") over (batch, height, width, channels).

    Maps each input pixel to a kernel-sized patch of the output, strided by `strides`: the
    gradient of a `Conv2D` with respect to its input. With padding "same" and strides s,
    the output is s times larger than the input.

    Args:
      filters: Number of output channels.
      kernel_size: An int or (height, width) of the window.
      strides: An int or (sh, sw): the upsampling factors.
      padding: "valid" or "same".
      output_padding: None, an int or (ph, pw): extra rows/columns at the bottom/right of
        the output, each < the stride along its axis. None lets the padding decide.
      data_format: Only "channels_last" (the default) is supported.
      dilation_rate: An int or (dh, dw); cannot be combined with strides > 1.
      activation: Activation function or name; None is linear.
      use_bias: Whether to add a bias per filter.
      kernel_initializer, bias_initializer: Initializers (or names) of the
        (kh, kw, filters, input_channels) `kernel` and (filters,) `bias`.
      kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: Regularizers and constraints (or names) of the weights and output.

    >>> import numpyflow as tf
    >>> up = tf.keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    >>> up(tf.zeros((2, 7, 7, 8))).shape
    TensorShape([2, 14, 14, 4])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def transpose_op(self, inputs, output_shape):
        return tf.nn.conv2d_transpose(inputs, self.kernel, output_shape, self.strides,
                                      padding=self.padding.upper(),
                                      dilations=self.dilation_rate)


# Keras's aliases.
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
