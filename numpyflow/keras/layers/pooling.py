"""Pooling layers: max and average pooling over 1-D and 2-D windows, and their global
versions."""

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.conv import (
    normalize_padding, normalize_tuple, require_rank, spatial_output_shape)
from numpyflow.keras.layers.core import normalize_data_format
from numpyflow.keras.layers.input_spec import InputSpec


class _Pooling(Layer):
    """Shared by max and average pooling: a window of `pool_size` slid by `strides` over
    `rank` spatial axes."""

    rank = None
    _op_name = None  # The tf.nn function that pools.

    def __init__(self, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} layer '{self.name}'"
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", who)
        # Keras: strides default to the pool size (non-overlapping windows).
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, self.rank, "strides", who)
        self.padding = normalize_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Rank and output size checks.
        self.built = True

    def call(self, inputs):
        pool = getattr(tf.nn, self._op_name)
        window = self.pool_size if self.rank > 1 else self.pool_size[0]
        strides = self.strides if self.rank > 1 else self.strides[0]
        return pool(inputs, ksize=window, strides=strides, padding=self.padding.upper())

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        channels = input_shape[-1] if input_shape.rank else None
        return spatial_output_shape(self, input_shape, channels, self.pool_size, self.strides,
                                    self.padding)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides,
                       "padding": self.padding, "data_format": self.data_format})
        return config


class _Pooling1D(_Pooling):
    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _Pooling2D(_Pooling):
    rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling1D):
    """Takes the maximum over each window of `pool_size` steps.

    Args:
      pool_size: An int (or 1-tuple): the window length; 2 by default.
      strides: An int (or 1-tuple); defaults to `pool_size`.
      padding: "valid" or "same".
      data_format: Only "channels_last" (the default) is supported.

    >>> import numpyflow as tf
    >>> tf.keras.layers.MaxPooling1D()(tf.zeros((1, 10, 3))).shape
    TensorShape([1, 5, 3])
    """

    _op_name = "max_pool1d"


class AveragePooling1D(_Pooling1D):
    """Takes the mean over each window of `pool_size` steps (arguments as `MaxPooling1D`).

    With padding="same", windows that overlap the border average only the real values.

    >>> import numpyflow as tf
    >>> tf.keras.layers.AveragePooling1D(3, strides=1)(tf.zeros((1, 10, 3))).shape
    TensorShape([1, 8, 3])
    """

    _op_name = "avg_pool1d"


class MaxPooling2D(_Pooling2D):
    """Takes the maximum over each `pool_size` window.

    Args:
      pool_size: An int or (height, width) of the window; (2, 2) by default.
      strides: An int or (sh, sw); defaults to `pool_size`.
      padding: "valid" or "same".
      data_format: Only "channels_last" (the default) is supported.

    >>> import numpyflow as tf
    >>> tf.keras.layers.MaxPooling2D()(tf.zeros((1, 28, 28, 3))).shape
    TensorShape([1, 14, 14, 3])
    """

    _op_name = "max_pool2d"


class AveragePooling2D(_Pooling2D):
    """Takes the mean over each `pool_size` window (same arguments as `MaxPooling2D`).

    With padding="same", windows that overlap the border average only the real values.

    >>> import numpyflow as tf
    >>> tf.keras.layers.AveragePooling2D(3, strides=1)(tf.zeros((1, 5, 5, 2))).shape
    TensorShape([1, 3, 3, 2])
    """

    _op_name = "avg_pool2d"


class _GlobalPooling(Layer):
    """Reduces the `rank` spatial axes of (batch, *spatial, channels) inputs."""

    rank = None
    _reduce_name = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format,
                                                 f"{type(self).__name__} layer '{self.name}'")
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        axes = tuple(range(1, self.rank + 1))
        return getattr(tf, self._reduce_name)(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = require_rank(self, input_shape, self.rank)
        if self.keepdims:
            return tf.TensorShape((input_shape[0],) + (1,) * self.rank + (input_shape[-1],))
        return tf.TensorShape((input_shape[0], input_shape[-1]))

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps: (batch, steps, c) -> (batch, c).

    A Keras mask (from `Embedding(mask_zero=True)`, `Masking`, ...) or a `mask` argument
    of shape (batch, steps) leaves the masked steps out of the mean; the output has no mask.

    Args:
      data_format: Only "channels_last" (the default) is supported.
      keepdims: Keep the steps axis with size 1: (batch, 1, c).

    >>> import numpyflow as tf
    >>> tf.keras.layers.GlobalAveragePooling1D()(tf.ones((2, 5, 3))).shape
    TensorShape([2, 3])
    >>> x = tf.constant([[[1.], [3.], [100.]]])
    >>> tf.keras.layers.GlobalAveragePooling1D()(x, mask=tf.constant([[True, True, False]]))
    <tf.Tensor: shape=(1, 1), dtype=float32, numpy=array([[2.]], dtype=float32)>
    """

    rank = 1
    _reduce_name = "reduce_mean"

    def call(self, inputs, mask=None):
        if mask is None:
            return tf.reduce_mean(inputs, axis=1, keepdims=self.keepdims)
        keep = tf.expand_dims(tf.cast(mask, tf.bool), 2)
        weights = tf.cast(keep, inputs.dtype)
        total = tf.reduce_sum(tf.where(keep, inputs, tf.zeros((), inputs.dtype)), axis=1,
                              keepdims=self.keepdims)
        return total / tf.reduce_sum(weights, axis=1, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask):
        return None  # Pooling over the steps leaves no steps to mask.


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over the steps: (batch, steps, c) -> (batch, c) (arguments as
    `GlobalAveragePooling1D`).

    >>> import numpyflow as tf
    >>> tf.keras.layers.GlobalMaxPooling1D(keepdims=True)(tf.ones((2, 5, 3))).shape
    TensorShape([2, 1, 3])
    """

    rank = 1
    _reduce_name = "reduce_max"


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width: (batch, h, w, c) -> (batch, c).

    Args:
      data_format: Only "channels_last" (the default) is supported.
      keepdims: Keep the spatial axes with size 1: (batch, 1, 1, c).

    >>> import numpyflow as tf
    >>> tf.keras.layers.GlobalAveragePooling2D()(tf.ones((2, 4, 4, 3))).shape
    TensorShape([2, 3])
    """

    rank = 2
    _reduce_name = "reduce_mean"


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over height and width: (batch, h, w, c) -> (batch, c).

    >>> import numpyflow as tf
    >>> tf.keras.layers.GlobalMaxPooling2D(keepdims=True)(tf.ones((2, 4, 4, 3))).shape
    TensorShape([2, 1, 1, 3])
    """

    rank = 2
    _reduce_name = "reduce_max"


# Keras's aliases.
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
