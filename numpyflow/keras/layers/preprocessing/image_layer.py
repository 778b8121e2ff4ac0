"""What the image preprocessing layers share: batching of single images, the random
layers' training switch and seeds, factor and fill-mode arguments, and the centred
aspect-ratio crop behind `Resizing(crop_to_aspect_ratio=True)`, `CenterCrop` and
`RandomCrop`."""

import numbers

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import normalize_data_format

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def describe(layer):
    return f"{type(layer).__name__} layer '{layer.name}'"


def check_choice(layer, arg_name, value, allowed):
    """`value` if it is one of `allowed`; NotImplementedError naming the argument if not."""
    if value not in allowed:
        raise NotImplementedError(f"{describe(layer)}: unknown `{arg_name}` {value!r}. "
                                  f"Expected one of {list(allowed)}. Received: "
                                  f"{arg_name}={value!r}")
    return value


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def parse_factor(layer, factor, arg_name, low=-1., high=1., symmetric_floor=None):
    """(lower, upper) from a number f (-> (-|f|, |f|)) or a pair (sorted), within [low, high].

    Raises ValueError naming the layer and the argument for anything else.
    """
    message = (f"{describe(layer)}: the `{arg_name}` argument should be a number (or a list "
               f"of two numbers) in the range [{low}, {high}]. Received: {arg_name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(_is_number(f) for f in factor):
            raise ValueError(message)
        lower, upper = sorted(float(f) for f in factor)
    elif _is_number(factor):
        lower, upper = -abs(float(factor)), abs(float(factor))
    else:
        raise ValueError(message)
    if lower < low or upper > high:
        raise ValueError(message)
    return lower, upper


class ImageLayer(Layer):
    """A layer on 3-D images or 4-D batches of images, channels last.

    Subclasses implement `transform(images, training)` on 4-D batches; a single image is
    given a batch axis of 1 and loses it again.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, describe(self))

    def _check_rank(self, shape):
        rank = tf.TensorShape(shape).rank
        if rank not in (3, 4):
            raise ValueError(f"{describe(self)} expects a 3-D image (height, width, channels) "
                             f"or a 4-D batch (batch, height, width, channels). Received: "
                             f"input shape {tf.TensorShape(shape)}")
        return rank

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.built = True

    def _batched_call(self, inputs, training):
        if not inputs.dtype.is_floating or inputs.dtype.name != self.compute_dtype:
            inputs = tf.cast(inputs, self.compute_dtype)
        if self._check_rank(inputs.shape) == 3:
            return tf.squeeze(self.transform(tf.expand_dims(inputs, 0), training), 0)
        return self.transform(inputs, training)

    def call(self, inputs):
        return self._batched_call(inputs, training=False)

    def transform(self, images, training):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return tf.TensorShape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class RandomImageLayer(ImageLayer):
    """An augmentation layer: random only with `training=True`, otherwise the identity.

    Draws use the `tf.random` ops with the layer's `seed`, so that they are reproducible
    after `tf.random.set_seed` and fresh on each call, also inside compiled plans.
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"{describe(self)}: `seed` must be an integer or None. Received: "
                             f"seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def call(self, inputs, training=None):
        return self._batched_call(inputs, training=bool(training))

    def uniform(self, shape, low, high):
        """Uniform draws in [low, high) of the layer's dtype, from the layer's seed."""
        return tf.random.uniform(shape, minval=low, maxval=high, dtype=self.compute_dtype,
                                 seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


def aspect_crop_box(height, width, target_height, target_width):
    """(top, left, crop_height, crop_width): the largest centred window of the target's
    aspect ratio (as Keras's `smart_resize` computes it)."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top = int(float(height - crop_height) / 2)
    left = int(float(width - crop_width) / 2)
    return top, left, crop_height, crop_width


def smart_resize(images, target_height, target_width, interpolation="bilinear",
                 antialias=False):
    """Crops 4-D `images` to the target aspect ratio (centred), then resizes to the target."""
    height, width = images.shape[1], images.shape[2]
    top, left, crop_height, crop_width = aspect_crop_box(height, width, target_height,
                                                         target_width)
    images = images[:, top:top + crop_height, left:left + crop_width, :]
    if (crop_height, crop_width) == (target_height, target_width):
        return images
    resized = tf.image.resize(images, (target_height, target_width), method=interpolation,
                              antialias=antialias)
    return tf.cast(resized, images.dtype)


def positive_size(layer, value, arg_name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{describe(layer)}: `{arg_name}` must be a positive integer. "
                         f"Received: {arg_name}={value!r}")
    return int(value)


def sized_output_shape(layer, input_shape, height, width):
    """`input_shape` (3-D or 4-D) with its height and width replaced."""
    layer._check_rank(input_shape)
    dims = tf.TensorShape(input_shape).as_list()
    dims[-3], dims[-2] = height, width
    return tf.TensorShape(dims)
