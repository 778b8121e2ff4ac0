"""`Masking`: marks timesteps whose features all equal `mask_value` as padding."""

import numbers

import numpy as np

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer


class Masking(Layer):
    """Masks timesteps: those whose features all equal `mask_value` are skipped downstream.

    For inputs of shape (batch, timesteps, features), timestep `t` of sample `b` is masked
    when `inputs[b, t, :] == mask_value` everywhere. The output is the input with masked
    timesteps set to zero, and carries the mask `any(inputs != mask_value, axis=-1)`
    (True = keep) for the layers after it (recurrent layers skip masked steps; losses and
    metrics ignore them).

    Args:
      mask_value: The value that marks padding (0.0 by default).

    Example:

    >>> import numpyflow as tf
    >>> x = tf.constant([[[1., 2.], [0., 0.], [3., 0.]]])
    >>> layer = tf.keras.layers.Masking(mask_value=0.)
    >>> layer(x).numpy().tolist()
    [[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]]
    >>> layer.compute_mask(x).numpy()
    array([[ True, False,  True]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise ValueError(f"Masking: `mask_value` must be a number. Received: "
                             f"mask_value={mask_value!r}")
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, inputs, keepdims):
        mask_value = self.mask_value
        if not inputs.dtype.is_floating and not _representable(mask_value, inputs.dtype):
            # Casting 0.5 (or 2**40) to int32 would give 0: compare as floats instead (no
            # integer equals a fractional, non-finite or out-of-range mask_value, as in Keras).
            inputs = tf.cast(inputs, tf.float64)
        return tf.reduce_any(tf.not_equal(inputs, tf.cast(mask_value, inputs.dtype)),
                             axis=-1, keepdims=keepdims)

    def call(self, inputs):
        keep = self._keep(inputs, keepdims=True)
        # Keras 3 selects (rather than multiplies), so non-finite masked values become 0 too.
        return tf.where(keep, inputs, tf.zeros((), inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        """True for the timesteps to keep: `any(inputs != mask_value, axis=-1)`."""
        return self._keep(tf.convert_to_tensor(inputs), keepdims=False)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


def _representable(value, dtype):
    """Whether the number `value` is exactly a value of the (integer or bool) `dtype`."""
    with np.errstate(all="ignore"):
        try:
            return bool(np.asarray(value).astype(dtype.as_numpy_dtype) == value)
        except (OverflowError, ValueError):
            return False
