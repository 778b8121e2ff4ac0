"""Activation layers with their own arguments: `Softmax`, `ReLU`, `LeakyReLU`, `ELU`."""

import numpyflow as tf
from numpyflow.keras import activations
from numpyflow.keras.layers.base_layer import Layer


class _ElementWise(Layer):
    """A layer whose output has its input's shape (and, as in Keras 3, its mask)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)


class Softmax(_ElementWise):
    """Softmax over `axis` (the last by default; a list normalizes over several axes at
    once), e.g. to turn logits into probabilities.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Softmax()(tf.constant([[0., 0.]])).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        if mask is None and isinstance(self.axis, (list, tuple)) and len(self.axis) > 1:
            # Over several axes at once (a spatial softmax), as Keras computes it.
            return tf.exp(inputs - tf.reduce_logsumexp(inputs, axis=list(self.axis),
                                                       keepdims=True))
        if mask is None:
            axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
            return activations.softmax(inputs, axis=axis)
        # Keras 3: `mask` (broadcastable to the inputs, aligned on the last axes) leaves
        # entries out of the softmax; they come out as 0.
        mask_shape, input_shape = tuple(mask.shape), tuple(inputs.shape)
        if len(mask_shape) > len(input_shape) or any(
                m != 1 and m != i for m, i in zip(mask_shape[::-1], input_shape[::-1])):
            raise ValueError(f"The `mask` must be broadcastable to `inputs`. Each mask "
                             f"dimension must be 1 or match the corresponding input "
                             f"dimension. Received: inputs.shape={input_shape}, "
                             f"mask.shape={mask_shape}")
        from numpyflow.keras.layers.attention.masked_softmax import masked_softmax
        mask = tf.cast(mask, tf.bool) if mask.dtype == tf.bool else mask > 0.5
        return masked_softmax(inputs, mask, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ReLU(_ElementWise):
    """Rectified linear unit with optional cap, slope below the threshold, and threshold.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`, and
    `negative_slope * (x - threshold)` otherwise.

    >>> import numpyflow as tf
    >>> tf.keras.layers.ReLU(max_value=6.)(tf.constant([-1., 3., 9.])).numpy()
    array([0., 3., 6.], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0., threshold=0., **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU layer '{self.name}': max_value must be >= 0; received "
                             f"max_value={max_value}.")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"ReLU layer '{self.name}': negative_slope must be >= 0; "
                             f"received negative_slope={negative_slope}.")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        if self.max_value is None and not self.negative_slope and not self.threshold:
            return tf.nn.relu(inputs)
        return activations.relu(inputs, alpha=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_ElementWise):
    """`x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
      negative_slope: The slope below zero (0.3 by default). Keras 3's name; tf.keras 2.x
        called it `alpha`, which is still accepted.

    >>> import numpyflow as tf
    >>> tf.keras.layers.LeakyReLU(0.5)(tf.constant([-2., 3.])).numpy()
    array([-1.,  3.], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        alpha = kwargs.pop("alpha", None)
        if alpha is not None:
            negative_slope = alpha
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    @property
    def alpha(self):
        return self.negative_slope

    def call(self, inputs):
        return tf.nn.leaky_relu(inputs, alpha=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_ElementWise):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
