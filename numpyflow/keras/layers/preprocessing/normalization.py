"""`Normalization`: shifts and scales inputs by a mean and variance, given or adapted."""

import numbers

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.layers.base_layer import Layer


def _axis_tuple(axis, name):
    if axis is None:
        return ()
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return (int(axis),)
    if isinstance(axis, (tuple, list)) and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
        return tuple(int(a) for a in axis)
    raise ValueError(f"Normalization layer '{name}': `axis` must be an integer, a tuple of "
                     f"integers or None. Received: axis={axis!r}")


def _as_config(value):
    return None if value is None else np.asarray(value, dtype=np.float64).tolist()


class Normalization(Layer):
    """Normalizes inputs to zero mean and unit variance: (x - mean) / sqrt(variance).

    The mean and variance are either given, or computed from data with `adapt()` before
    the layer is used (then they are non-trainable weights, saved with the model).

    Args:
      axis: The axis or axes that keep separate statistics (the features; -1 by default).
        The statistics are computed over all other axes. None: one mean and variance for
        all values.
      mean: Optional mean, broadcast to the kept axes.
      variance: Optional variance (given together with `mean`).
      invert: Apply the inverse transformation, x * sqrt(variance) + mean.

    >>> import numpy as np
    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Normalization()
    >>> layer.adapt(np.array([[0., 10.], [2., 30.]], np.float32))
    >>> layer(np.array([[1., 20.]], np.float32)).numpy()
    array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # Keras 3: element-wise, masks pass through.
        self.axis = _axis_tuple(axis, self.name)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization layer '{self.name}': when setting `mean` or "
                             f"`variance`, both must be set. Received: mean={mean!r} and "
                             f"variance={variance!r}")
        self.input_mean = _as_config(mean)
        self.input_variance = _as_config(variance)
        self.invert = bool(invert)
        self._adapted = False

    # -- shapes and weights -------------------------------------------------------------------
    def _axes_for(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        ndim = input_shape.rank
        for a in self.axis:
            if not -ndim <= a < ndim:
                raise ValueError(f"Normalization layer '{self.name}': all `axis` values must be "
                                 f"in the range [-ndim, ndim). Received inputs with ndim="
                                 f"{ndim}, while axis={self.axis}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        dims = input_shape.as_list()
        if any(dims[a] is None for a in keep):
            raise ValueError(f"Normalization layer '{self.name}': all `axis` values to be kept "
                             f"must have a known shape. Received axis={self.axis}, inputs.shape="
                             f"{input_shape}")
        reduce = tuple(d for d in range(ndim) if d not in keep)
        broadcast = [dims[d] if d in keep else 1 for d in range(ndim)]
        return keep, reduce, broadcast, tuple(dims[d] for d in keep)

    def build(self, input_shape):
        _, _, self._broadcast_shape, stats_shape = self._axes_for(input_shape)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=stats_shape,
                                              initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=stats_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
        else:
            self._mean = self._broadcast_constant(self.input_mean, "mean")
            self._variance = self._broadcast_constant(self.input_variance, "variance")
        self.built = True

    def _broadcast_constant(self, value, arg_name):
        array = np.asarray(value, dtype=np.float64)
        try:
            array = np.broadcast_to(array, self._broadcast_shape)
        except ValueError:
            raise ValueError(f"Normalization layer '{self.name}': `{arg_name}` of shape "
                             f"{array.shape} cannot be broadcast to the shape "
                             f"{tuple(self._broadcast_shape)} of the statistics for axis="
                             f"{self.axis}.") from None
        return tf.constant(array, dtype=self.compute_dtype)

    # -- adapt ------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` (an array or tensor of samples) over
        every axis but `axis`, and stores them in the layer's weights."""
        if batch_size is not None or steps is not None:
            raise NotImplementedError(f"Normalization layer '{self.name}': adapt() takes the "
                                      f"whole data at once in numpyflow; `batch_size` and "
                                      f"`steps` are not supported.")
        if self.input_mean is not None:
            raise ValueError(f"Normalization layer '{self.name}': cannot adapt a layer created "
                             f"with a fixed `mean` and `variance`.")
        if isinstance(data, tf.Tensor):
            data = data.numpy()
        try:
            data = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"Normalization layer '{self.name}': adapt() expects a NumPy array "
                            f"or a tensor of numbers. Received: {type(data).__name__}") from None
        if data.ndim == 0 or data.shape[0] == 0:
            raise ValueError(f"Normalization layer '{self.name}': adapt() needs at least one "
                             f"sample. Received data of shape {data.shape}")
        if not self.built:
            self._build_from_shape((None,) + data.shape[1:])
        keep, reduce, _, stats_shape = self._axes_for((None,) + data.shape[1:])
        expected = tuple(self.adapt_mean.shape)
        if stats_shape != expected:
            raise ValueError(f"Normalization layer '{self.name}': adapt() data of shape "
                             f"{data.shape} gives statistics of shape {stats_shape}, but the "
                             f"layer was built for {expected}.")
        mean = data.mean(axis=reduce)
        variance = data.var(axis=reduce)
        self.adapt_mean.assign(mean.astype(self.compute_dtype))
        self.adapt_variance.assign(variance.astype(self.compute_dtype))
        self.count.assign(np.int64(data.size // max(int(np.prod(stats_shape)), 1)))
        self._adapted = True

    def set_weights(self, weights):
        super().set_weights(weights)
        self._adapted = True  # Statistics restored (e.g. from a saved model) count as adapted.

    # -- call -------------------------------------------------------------------------------
    def _statistics(self):
        if self.input_mean is not None:
            return self._mean, self._variance
        if not self._adapted:
            raise ValueError(f"Normalization layer '{self.name}' has no mean and variance: call "
                             f"`adapt(data)` before using it, or pass `mean` and `variance` "
                             f"to the constructor.")
        shape = self._broadcast_shape
        return (tf.reshape(self.adapt_mean, shape), tf.reshape(self.adapt_variance, shape))

    def call(self, inputs):
        if not inputs.dtype.is_floating or inputs.dtype.name != self.compute_dtype:
            inputs = tf.cast(inputs, self.compute_dtype)
        mean, variance = self._statistics()
        scale = tf.maximum(tf.sqrt(variance), backend.epsilon())
        if self.invert:
            return mean + inputs * scale
        return (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert, "mean": self.input_mean,
                       "variance": self.input_variance})
        return config
