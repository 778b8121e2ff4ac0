"""`TimeDistributed`: applies a layer to every timestep of a sequence; `Wrapper`, the base
of the layers that wrap another layer (`TimeDistributed`, `Bidirectional`)."""

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer


class Wrapper(Layer):
    """Base class of layers that wrap another layer (kept as `self.layer`).

    Its config holds the wrapped layer's config under "layer", as Keras 3 writes it.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} must wrap a `keras.layers.Layer` "
                             f"instance. Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self):
        from numpyflow.keras.layers.serialization import serialize
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from numpyflow.keras.layers.serialization import deserialize
        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects=custom_objects)
        return super().from_config({**config, "layer": layer})


class TimeDistributed(Wrapper):
    """Applies `layer` to every timestep (axis 1) of its input, with the same weights.

    An input of shape (batch, timesteps, ...) is folded to (batch * timesteps, ...), given
    to `layer` in one call, and unfolded to (batch, timesteps, ...layer's output). Each
    timestep is computed as if on its own, except by layers whose training-mode result
    depends on the whole batch (`BatchNormalization` sees batch * timesteps samples here;
    Keras 3 calls the layer once per timestep instead). A mask of shape (batch,
    timesteps, ...) is folded alike for layers whose `call` takes a `mask`, and passed on
    unchanged to the layers after this one.

    Args:
      layer: The `keras.layers.Layer` to apply to each timestep.

    Example:

    >>> import numpyflow as tf
    >>> frames = tf.zeros((2, 10, 8, 8, 3))          # 2 videos of 10 frames each
    >>> conv = tf.keras.layers.Conv2D(4, 3)
    >>> tf.keras.layers.TimeDistributed(conv)(frames).shape
    TensorShape([2, 10, 6, 6, 4])
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_input_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank is None or input_shape.rank < 3:
            raise ValueError(f"Layer '{self.name}' (TimeDistributed) expects inputs with at "
                             f"least 3 dimensions (batch, timesteps, ...). Received: "
                             f"input_shape={input_shape}")
        batch, steps = input_shape[0], input_shape[1]
        folded = None if batch is None or steps is None else batch * steps
        return tf.TensorShape((folded,) + tuple(input_shape[2:]))

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._build_from_shape(self._child_input_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        child = tf.TensorShape(self.layer.compute_output_shape(
            self._child_input_shape(input_shape)))
        return tf.TensorShape((input_shape[0], input_shape[1]) + tuple(child[1:]))

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_input_shape(shape)  # Rank check, with the layer's name.
        batch, steps = shape[0], shape[1]
        kwargs = {} if training is None else {"training": training}
        if mask is not None:
            mask_shape = tuple(mask.shape)
            if len(mask_shape) < 2 or mask_shape[:2] != (batch, steps):
                raise ValueError(f"Layer '{self.name}' (TimeDistributed): the mask's first "
                                 f"two dimensions must be the input's (batch, timesteps) = "
                                 f"{(batch, steps)}. Received: mask shape {mask_shape}, "
                                 f"input shape {shape}")
            if getattr(self.layer, "_call_accepts_mask", False):
                kwargs["mask"] = tf.reshape(mask, (batch * steps,) + mask_shape[2:])
        folded = tf.reshape(inputs, (batch * steps,) + shape[2:])
        outputs = self.layer(folded, **kwargs)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self._unfold(out, batch, steps) for out in outputs)
        return self._unfold(outputs, batch, steps)

    @staticmethod
    def _unfold(outputs, batch, steps):
        return tf.reshape(outputs, (batch, steps) + tuple(outputs.shape[1:]))
