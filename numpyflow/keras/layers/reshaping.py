"""Layers that rearrange or resize samples without weights.

`ZeroPadding1D`/`ZeroPadding2D` add zeros around the steps or the image, `Cropping1D`/
`Cropping2D` cut them away, `RepeatVector` repeats a vector `n` times and `Permute` reorders
the axes of each sample. (`Reshape` and `Flatten` live in core.py.)
"""

import numbers

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import normalize_data_format, positive_int
from numpyflow.keras.layers.input_spec import InputSpec


# -- argument helpers -----------------------------------------------------------------------

def _non_negative_int(value):
    """`value` as an int when it is an integer >= 0 (bools excluded), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if value != int(value) or value < 0:
        return None
    return int(value)


def _pair(value, arg_name, who):
    """An int >= 0 or a pair of them, as a tuple (before, after)."""
    items = (value, value) if _non_negative_int(value) is not None else value
    try:
        items = tuple(_non_negative_int(v) for v in items)
    except TypeError:
        items = ()
    if len(items) != 2 or None in items:
        raise ValueError(f"{who}: the `{arg_name}` argument must be a non-negative integer or "
                         f"a tuple of 2 non-negative integers. Received: {arg_name}={value!r}")
    return items


def _pairs_2d(value, arg_name, who):
    """((top, bottom), (left, right)) from an int, (symmetric_h, symmetric_w) or two pairs."""
    if _non_negative_int(value) is not None:
        return ((int(value),) * 2,) * 2
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (_pair(value[0], arg_name, who), _pair(value[1], arg_name, who))
    raise ValueError(f"{who}: the `{arg_name}` argument must be a non-negative integer, a tuple "
                     f"of 2 integers (symmetric_height, symmetric_width) or a tuple of 2 "
                     f"tuples of 2 integers ((top, bottom), (left, right)). "
                     f"Received: {arg_name}={value!r}")


def _check_rank(layer, input_shape, rank, layout):
    input_shape = tf.TensorShape(input_shape)
    if input_shape.rank != rank:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expects {rank}-D inputs "
                         f"{layout}; received input_shape={input_shape}")
    return input_shape


def _spatial_axes(data_format):
    """The (height, width) axes of a 4-D input."""
    return (2, 3) if data_format == "channels_first" else (1, 2)


def _image_layout(data_format):
    if data_format == "channels_first":
        return "(batch, channels, height, width)"
    return "(batch, height, width, channels)"


# -- padding ----------------------------------------------------------------------------------

class ZeroPadding1D(Layer):
    """Adds zeros at the start and end of the steps axis of (batch, steps, features) inputs.

    Args:
      padding: An int (the same on both sides) or a tuple (left_pad, right_pad).

    >>> import numpyflow as tf
    >>> tf.keras.layers.ZeroPadding1D(2)(tf.ones((1, 3, 4))).shape
    TensorShape([1, 7, 4])
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pair(padding, "padding", f"ZeroPadding1D layer '{self.name}'")
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return tf.pad(inputs, [[0, 0], list(self.padding), [0, 0]])

    def compute_output_shape(self, input_shape):
        batch, steps, features = _check_rank(self, input_shape, 3, "(batch, steps, features)")
        if steps is not None:
            steps += sum(self.padding)
        return tf.TensorShape((batch, steps, features))

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around each image.

    Args:
      padding: An int (the same on all four sides), a tuple (symmetric_height_pad,
        symmetric_width_pad), or ((top_pad, bottom_pad), (left_pad, right_pad)).
      data_format: "channels_last" (default, (batch, height, width, channels)) or
        "channels_first" ((batch, channels, height, width)).

    >>> import numpyflow as tf
    >>> tf.keras.layers.ZeroPadding2D(((1, 0), (2, 2)))(tf.ones((1, 3, 3, 2))).shape
    TensorShape([1, 4, 7, 2])
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"ZeroPadding2D layer '{self.name}'"
        self.padding = _pairs_2d(padding, "padding", who)
        self.data_format = normalize_data_format(
            data_format, who, supported=("channels_last", "channels_first"))
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        paddings = [[0, 0]] * 4
        for axis, pair in zip(_spatial_axes(self.data_format), self.padding):
            paddings[axis] = list(pair)
        return tf.pad(inputs, paddings)

    def compute_output_shape(self, input_shape):
        dims = list(_check_rank(self, input_shape, 4, _image_layout(self.data_format)))
        for axis, pair in zip(_spatial_axes(self.data_format), self.padding):
            if dims[axis] is not None:
                dims[axis] += sum(pair)
        return tf.TensorShape(dims)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


# -- cropping ---------------------------------------------------------------------------------

def _cropped_size(layer, size, pair, input_shape):
    """`size` less the cropping on both sides; ValueError unless at least one value is left."""
    if size is None:
        return None
    if sum(pair) >= size:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): values in `cropping` "
                         f"should be smaller than the corresponding dimension of the input. "
                         f"Received: input_shape={tuple(input_shape)}, "
                         f"cropping={layer.cropping}")
    return size - sum(pair)


class Cropping1D(Layer):
    """Cuts steps away at the start and end of (batch, steps, features) inputs.

    Args:
      cropping: An int (the same on both sides) or a tuple (start_crop, end_crop).

    >>> import numpyflow as tf
    >>> tf.keras.layers.Cropping1D((1, 2))(tf.ones((1, 5, 3))).shape
    TensorShape([1, 2, 3])
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pair(cropping, "cropping", f"Cropping1D layer '{self.name}'")
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Fails early when cropping too much.
        self.built = True

    def call(self, inputs):
        steps = self.compute_output_shape(inputs.shape)[1]
        start = self.cropping[0]
        return inputs[:, start:start + steps, :]

    def compute_output_shape(self, input_shape):
        batch, steps, features = _check_rank(self, input_shape, 3, "(batch, steps, features)")
        steps = _cropped_size(self, steps, self.cropping, input_shape)
        return tf.TensorShape((batch, steps, features))

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class Cropping2D(Layer):
    """Cuts rows and columns away at the borders of each image.

    Args:
      cropping: An int (the same on all four sides), a tuple (symmetric_height_crop,
        symmetric_width_crop), or ((top_crop, bottom_crop), (left_crop, right_crop)).
      data_format: "channels_last" (default, (batch, height, width, channels)) or
        "channels_first" ((batch, channels, height, width)).

    >>> import numpyflow as tf
    >>> tf.keras.layers.Cropping2D(((2, 2), (4, 4)))(tf.ones((2, 28, 28, 3))).shape
    TensorShape([2, 24, 20, 3])
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Cropping2D layer '{self.name}'"
        self.cropping = _pairs_2d(cropping, "cropping", who)
        self.data_format = normalize_data_format(
            data_format, who, supported=("channels_last", "channels_first"))
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Fails early when cropping too much.
        self.built = True

    def call(self, inputs):
        out_shape = self.compute_output_shape(inputs.shape)
        index = [slice(None)] * 4
        for axis, pair in zip(_spatial_axes(self.data_format), self.cropping):
            # Explicit stops: `-bottom` would be wrong for a bottom crop of 0.
            index[axis] = slice(pair[0], pair[0] + out_shape[axis])
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        dims = list(_check_rank(self, input_shape, 4, _image_layout(self.data_format)))
        for axis, pair in zip(_spatial_axes(self.data_format), self.cropping):
            dims[axis] = _cropped_size(self, dims[axis], pair, input_shape)
        return tf.TensorShape(dims)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


# -- RepeatVector, Permute ------------------------------------------------------------------

class RepeatVector(Layer):
    """Repeats each input vector `n` times: (batch, features) -> (batch, n, features).

    Args:
      n: Positive int, the number of repetitions.

    >>> import numpyflow as tf
    >>> tf.keras.layers.RepeatVector(3)(tf.constant([[1., 2.]])).numpy()
    array([[[1., 2.],
            [1., 2.],
            [1., 2.]]], dtype=float32)
    """

    def __init__(self, n, **kwargs):
        checked = positive_int(n)
        if checked is None:
            raise ValueError(f"RepeatVector: expected a positive integer for `n`. "
                             f"Received: n={n!r}")
        super().__init__(**kwargs)
        self.n = checked
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return tf.tile(tf.expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape):
        batch, features = _check_rank(self, input_shape, 2, "(batch, features)")
        return tf.TensorShape((batch, self.n, features))

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Permute(Layer):
    """Reorders the axes of each sample (the batch axis stays first).

    Args:
      dims: A permutation of 1..rank-1 (axes are counted from 1, the batch axis excluded):
        (2, 1) swaps the two axes of (batch, a, b) inputs, giving (batch, b, a).

    >>> import numpyflow as tf
    >>> tf.keras.layers.Permute((2, 1))(tf.zeros((4, 10, 64))).shape
    TensorShape([4, 64, 10])
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            checked = tuple(_non_negative_int(d) for d in dims)
        except TypeError:
            checked = None
        if not checked or None in checked or \
                sorted(checked) != list(range(1, len(checked) + 1)):
            raise ValueError(f"Permute layer '{self.name}': invalid `dims`; expected a "
                             f"permutation of 1..n (axes counted from 1, the batch axis "
                             f"excluded), such as (2, 1). Received: dims={dims!r}")
        self.dims = checked
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return tf.transpose(inputs, perm=(0,) + self.dims)

    def compute_output_shape(self, input_shape):
        input_shape = _check_rank(self, input_shape, len(self.dims) + 1,
                                  f"(batch + {len(self.dims)} axes permuted by dims={self.dims})")
        return tf.TensorShape((input_shape[0],) + tuple(input_shape[d] for d in self.dims))

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
