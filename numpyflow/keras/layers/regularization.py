"""Regularization layers beyond plain `Dropout` (which lives in core.py).

`SpatialDropout1D/2D/3D` drop whole channels, `GaussianNoise` adds noise,
`GaussianDropout` multiplies by noise and `AlphaDropout` drops to SELU's saturation value —
all only while training (`training=True`), the identity otherwise.
`ActivityRegularization` passes its input through and adds a penalty on it to the layer's
losses (through the base Layer's `activity_regularizer`, as Keras does).

Random values come from the `tf.random` samplers with the layer's `seed`, so a compiled
training step draws fresh values on each call and a seeded run is reproducible.
"""

import math
import numbers

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import Dropout, normalize_data_format
from numpyflow.keras.layers.input_spec import InputSpec


def _check_unit_interval(value, argument, layer_name):
    """`value` as a float, after checking it is a number in [0, 1] (as Keras requires)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{layer_name}: invalid value received for argument `{argument}`. "
                         f"Expected a float value between 0 and 1. "
                         f"Received: {argument}={value!r}")
    return float(value)


# -- SpatialDropout1D/2D/3D -----------------------------------------------------------------

class _SpatialDropout(Dropout):
    """Dropout with one keep/drop decision per (sample, channel), shared over the other axes.

    Subclasses set `_rank` (the input rank) and take `data_format` when they have one.
    """

    _rank = None

    def __init__(self, rate, seed=None, **kwargs):
        if "noise_shape" in kwargs:
            raise TypeError(f"{type(self).__name__} does not take `noise_shape`: its mask is "
                            f"always one value per sample and channel. Received: "
                            f"noise_shape={kwargs['noise_shape']}")
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=self._rank)
        self._channels_first = False

    def _mask_shape(self, inputs):
        shape = tuple(inputs.shape)
        if self._channels_first:
            return shape[:2] + (1,) * (len(shape) - 2)
        return (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != self._rank:
            raise ValueError(f"Layer '{self.name}': {type(self).__name__} expects inputs of "
                             f"rank {self._rank}; received input_shape={input_shape}")
        return input_shape

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]  # Fixed by the layer, not an argument (as in Keras).
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole 1-D feature maps: inputs (batch, steps, channels).

    While training, each channel of each sample is dropped entirely (all its steps) with
    probability `rate`, and kept channels are scaled by 1 / (1 - rate). This regularizes
    better than element-wise `Dropout` when neighbouring steps are strongly correlated.

    Args:
      rate: Fraction of the channels to drop, in [0, 1].
      seed: Optional int for reproducible masks.

    >>> import numpyflow as tf
    >>> y = tf.keras.layers.SpatialDropout1D(0.5, seed=1)(tf.ones((2, 3, 4)), training=True)
    >>> bool((y.numpy() == y.numpy()[:, :1, :]).all())  # the same over the steps
    True
    """

    _rank = 3


class _ImageSpatialDropout(_SpatialDropout):
    """Spatial dropout of images and volumes, which may be channels-first."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(
            data_format, f"{type(self).__name__} layer '{self.name}'",
            supported=("channels_last", "channels_first"))
        self._channels_first = self.data_format == "channels_first"

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout2D(_ImageSpatialDropout):
    """Dropout of whole 2-D feature maps: inputs (batch, rows, cols, channels).

    While training, each channel of each sample is dropped entirely with probability
    `rate` (mask shape (batch, 1, 1, channels)), and kept channels are scaled by
    1 / (1 - rate). Outside training it is the identity.

    Args:
      rate: Fraction of the channels to drop, in [0, 1].
      data_format: "channels_last" (default; (batch, rows, cols, channels)) or
        "channels_first" ((batch, channels, rows, cols)).
      seed: Optional int for reproducible masks.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.SpatialDropout2D(0.5, seed=1)
    >>> y = layer(tf.ones((2, 4, 4, 3)), training=True).numpy()
    >>> bool((y == y[:, :1, :1, :]).all())  # one value per sample and channel
    True
    """

    _rank = 4


class SpatialDropout3D(_ImageSpatialDropout):
    """Dropout of whole 3-D feature maps: inputs (batch, dim1, dim2, dim3, channels).

    As `SpatialDropout2D`, for volumes: the mask has shape (batch, 1, 1, 1, channels)
    (or (batch, channels, 1, 1, 1) with `data_format="channels_first"`).

    Args:
      rate: Fraction of the channels to drop, in [0, 1].
      data_format: "channels_last" (default) or "channels_first".
      seed: Optional int for reproducible masks.

    >>> import numpyflow as tf
    >>> tf.keras.layers.SpatialDropout3D(0.5)(tf.ones((1, 2, 2, 2, 3))).shape
    TensorShape([1, 2, 2, 2, 3])
    """

    _rank = 5


# -- GaussianNoise, GaussianDropout, AlphaDropout -------------------------------------------

class GaussianNoise(Layer):
    """Adds zero-centered Gaussian noise of standard deviation `stddev` while training.

    Outside training (`training=False` or not given) it is the identity.

    Args:
      stddev: Standard deviation of the noise, in [0, 1] (as Keras 3 requires).
      seed: Optional int for reproducible noise.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.GaussianNoise(0.1, seed=1)
    >>> bool((layer(tf.ones((2, 3))).numpy() == 1.).all())  # inference: unchanged
    True
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _check_unit_interval(stddev, "stddev", f"GaussianNoise layer "
                                                             f"'{self.name}'")
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + tf.random.normal(inputs.shape, stddev=self.stddev,
                                         dtype=inputs.dtype, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(Layer):
    """Multiplies by 1-centered Gaussian noise while training (a smooth form of dropout).

    The noise has standard deviation `sqrt(rate / (1 - rate))`, the one of `Dropout(rate)`'s
    scaled keep/drop mask. Outside training (`training=False` or not given) it is the
    identity.

    Args:
      rate: Drop probability, as for `Dropout`, in [0, 1].
      seed: Optional int for reproducible noise.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.GaussianDropout(0.2, seed=1)
    >>> layer(tf.ones((2, 3)), training=True).shape
    TensorShape([2, 3])
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_unit_interval(rate, "rate", f"GaussianDropout layer '{self.name}'")
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            # The noise's standard deviation would be infinite; Keras gives NaN or inf. A
            # layer that drops everything is more useful as zeros, as Dropout(1.) gives.
            return inputs * 0.
        stddev = math.sqrt(self.rate / (1. - self.rate))
        return inputs * tf.random.normal(inputs.shape, mean=1., stddev=stddev,
                                         dtype=inputs.dtype, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of its inputs, for SELU networks.

    While training, each value is dropped with probability `rate` to SELU's negative
    saturation value `-alpha * scale` (not to 0), then the result is transformed by the
    affine map that restores the inputs' mean and variance (for zero-mean, unit-variance
    inputs), so that self-normalizing networks stay normalized. Outside training it is the
    identity.

    Args:
      rate: Drop probability, in [0, 1].
      noise_shape: Optional shape of the keep/drop mask, broadcast over the input (None
        entries take the input's size).
      seed: Optional int for reproducible masks.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.AlphaDropout(0.2, seed=1)
    >>> x = tf.random.normal((1000, 100), seed=2)  # zero mean, unit variance
    >>> y = layer(x, training=True).numpy()
    >>> bool(abs(y.mean()) < 0.02), round(float(y.std()), 1)  # still
    (True, 1.0)
    """

    # SELU's constants (see `tf.nn.selu`).
    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_unit_interval(rate, "rate", f"AlphaDropout layer '{self.name}'")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.supports_masking = True

    def _mask_shape(self, inputs):
        if self.noise_shape is None:
            return inputs.shape
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(f"Layer '{self.name}': noise_shape={self.noise_shape} must have "
                             f"one entry per input axis. Received inputs of shape "
                             f"{tuple(inputs.shape)}")
        return tuple(dim if want is None else want
                     for want, dim in zip(self.noise_shape, inputs.shape))

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            # The affine map's factor is infinite there; its limit as rate -> 1 is all zeros.
            return inputs * 0.
        saturation = -self._ALPHA * self._SCALE
        kept = tf.cast(tf.random.uniform(self._mask_shape(inputs), dtype=inputs.dtype,
                                         seed=self.seed) >= self.rate, inputs.dtype)
        a = ((1. - self.rate) * (1. + self.rate * saturation ** 2)) ** -0.5
        b = -a * saturation * self.rate
        return (inputs * kept + saturation * (1. - kept)) * a + b

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


# -- ActivityRegularization -----------------------------------------------------------------

class ActivityRegularization(Layer):
    """Passes its input through and adds `l1 * sum(|x|) + l2 * sum(x ** 2)` to its losses.

    As in Keras 3, this is the base Layer's `activity_regularizer` (an `L1L2`) on an identity
    layer: on every call, in training and inference alike, the penalty of the output divided
    by the batch size is added to `layer.losses`, and `fit` adds it to the training loss.

    Args:
      l1: Non-negative L1 regularization factor.
      l2: Non-negative L2 regularization factor.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.ActivityRegularization(l1=0.1)
    >>> layer(tf.constant([[1., -2.], [3., 0.]])).numpy()
    array([[ 1., -2.],
           [ 3.,  0.]], dtype=float32)
    >>> [round(float(loss), 4) for loss in layer.losses]  # 0.1 * 6 / 2 samples
    [0.3]
    """

    def __init__(self, l1=0., l2=0., **kwargs):
        # Imported here: keras.regularizers imports helpers that import the layers package.
        from numpyflow.keras import regularizers
        for argument, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"ActivityRegularization: `{argument}` must be a "
                                 f"non-negative float. Received: {argument}={value!r}")
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Made from l1 and l2, as in Keras.
        config.update({"l1": self.l1, "l2": self.l2})
        return config


__all__ = ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
