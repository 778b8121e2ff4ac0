"""Layers that merge a list of tensors into one.

Element-wise: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum` (inputs are
broadcast against each other sample by sample); `Concatenate` joins along an axis and `Dot`
takes batched dot products. Each has a function form (`add([a, b])`, `concatenate(...)`) that
makes the layer and calls it.

Every merge layer is called on a list of tensors, so `build` and `compute_output_shape`
receive a list of shapes.
"""

import math
import numbers

import numpyflow as tf
from numpyflow.keras.layers.base_layer import Layer


def _shape_list(layer, input_shape, min_inputs, max_inputs=None):
    """`input_shape` as a list of TensorShapes, checking it is a list of enough shapes."""
    is_list = (isinstance(input_shape, (list, tuple)) and len(input_shape) > 0
               and all(isinstance(s, (list, tuple)) for s in input_shape))
    if not is_list:
        raise ValueError(f"A `{type(layer).__name__}` layer ('{layer.name}') should be called "
                         f"on a list of inputs. Received: input_shape={input_shape} (not a "
                         f"list of shapes)")
    shapes = [tf.TensorShape(s) for s in input_shape]
    count = len(shapes)
    if max_inputs == min_inputs and count != min_inputs:
        raise ValueError(f"A `{type(layer).__name__}` layer ('{layer.name}') should be called "
                         f"on exactly {min_inputs} inputs. Received {count} inputs: "
                         f"input_shape={_show(shapes)}")
    if count < min_inputs:
        raise ValueError(f"A `{type(layer).__name__}` layer ('{layer.name}') should be called "
                         f"on a list of at least {min_inputs} inputs. Received {count} "
                         f"input(s): input_shape={_show(shapes)}")
    return shapes


def _show(shapes):
    """Shapes as a list of plain tuples, for error messages."""
    return [tuple(s) for s in shapes]


def _batch_size(layer, shapes):
    """The common known batch size (or None); ValueError if the inputs disagree."""
    sizes = {s[0] for s in shapes if s.rank} - {None}
    if len(sizes) > 1:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot merge tensors "
                         f"with different batch sizes. Received: input_shape={_show(shapes)}")
    return sizes.pop() if sizes else None


def _check_inputs(layer, inputs, min_inputs):
    """Call-time check (the shapes were checked at build): a list of enough tensors."""
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"A `{type(layer).__name__}` layer ('{layer.name}') should be called "
                         f"on a list of inputs. Received: inputs of shape "
                         f"{getattr(inputs, 'shape', None)} (not a list of tensors)")
    if len(inputs) < min_inputs:
        raise ValueError(f"A `{type(layer).__name__}` layer ('{layer.name}') should be called "
                         f"on a list of at least {min_inputs} inputs. Received {len(inputs)} "
                         f"input(s).")


# -- element-wise merges ----------------------------------------------------------------------

class _Merge(Layer):
    """Element-wise merges: `_merge_function` combines tensors of broadcastable shapes."""

    _min_inputs = 2
    _max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Checks the number of inputs and the shapes.
        self.built = True

    def call(self, inputs):
        _check_inputs(self, inputs, self._min_inputs)
        # Samples broadcast against each other, the batch axis stays first: a (batch, 3)
        # input merged with a (batch, 4, 3) one is first viewed as (batch, 1, 3).
        rank = max(x.ndim for x in inputs)
        inputs = [_expand_after_batch(x, rank) for x in inputs]
        return self._merge_function(inputs)

    def compute_mask(self, inputs, previous_mask):
        """Keras masks: a step is kept where any input keeps it (None if one is unmasked)."""
        if previous_mask is None or any(m is None for m in previous_mask):
            return None
        output_mask = previous_mask[0]
        for mask in previous_mask[1:]:
            output_mask = tf.logical_or(output_mask, mask)
        return output_mask

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(self, input_shape, self._min_inputs, self._max_inputs)
        batch = _batch_size(self, shapes)
        sample = ()
        for shape in shapes:
            sample = self._broadcast(sample, tuple(shape[1:]), shapes)
        return tf.TensorShape((batch,) + sample)

    def _broadcast(self, a, b, shapes):
        """The broadcast shape of samples `a` and `b` (aligned on their last axes)."""
        if len(a) < len(b):
            a, b = b, a
        result = list(a[:len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i is None or j is None:
                # An unknown size broadcasts with 1 to itself; against another size it is
                # only known at call time.
                result.append(j if i is None and j not in (None, 1) else
                              i if j is None and i not in (None, 1) else None)
            elif i == 1 or j == 1 or i == j:
                result.append(j if i == 1 else i)
            else:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): inputs have "
                                 f"incompatible shapes. Received: input_shape={_show(shapes)}")
        return tuple(result)

    def get_config(self):
        return super().get_config()


def _expand_after_batch(x, rank):
    while x.ndim < rank:
        x = tf.expand_dims(x, 1)
    return x


class Add(_Merge):
    """Adds a list of inputs element-wise (all broadcastable to one shape).

    >>> import numpyflow as tf
    >>> tf.keras.layers.Add()([tf.ones((2, 3)), tf.ones((2, 3))]).numpy()[0]
    array([2., 2., 2.], dtype=float32)
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(_Merge):
    """Subtracts its second input from its first: `inputs[0] - inputs[1]`.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Subtract()([tf.ones((2, 3)), tf.ones((2, 3))]).numpy()[0]
    array([0., 0., 0.], dtype=float32)
    """

    _min_inputs = _max_inputs = 2

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer ('{self.name}') should be called on exactly "
                             f"2 inputs. Received {len(inputs)} inputs.")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Multiplies a list of inputs element-wise.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Multiply()([tf.fill((1, 2), 3.), tf.fill((1, 2), 2.)]).numpy()
    array([[6., 6.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output * x
        return output


class Average(_Merge):
    """The element-wise mean of a list of inputs.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Average()([tf.fill((1, 2), 1.), tf.fill((1, 2), 3.)]).numpy()
    array([[2., 2.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(_Merge):
    """The element-wise maximum of a list of inputs.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Maximum()([tf.constant([[1., 5.]]), tf.constant([[3., 2.]])]).numpy()
    array([[3., 5.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = tf.maximum(output, x)
        return output


class Minimum(_Merge):
    """The element-wise minimum of a list of inputs.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Minimum()([tf.constant([[1., 5.]]), tf.constant([[3., 2.]])]).numpy()
    array([[1., 2.]], dtype=float32)
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = tf.minimum(output, x)
        return output


# -- Concatenate ------------------------------------------------------------------------------

class Concatenate(Layer):
    """Concatenates a list of inputs along `axis`.

    All inputs must have the same rank and the same sizes on every other axis.

    Args:
      axis: The axis to join along (negative counts from the end); -1 by default.

    >>> import numpyflow as tf
    >>> tf.keras.layers.Concatenate(axis=1)([tf.zeros((2, 2, 5)), tf.zeros((2, 1, 5))]).shape
    TensorShape([2, 3, 5])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"Concatenate layer '{self.name}': `axis` must be an integer. "
                             f"Received: axis={axis!r}")
        self.axis = int(axis)
        self.supports_masking = True

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Checks ranks and the non-concat axes.
        self.built = True

    def call(self, inputs):
        _check_inputs(self, inputs, 1)
        return tf.concat(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, previous_mask):
        """Keras masks, concatenated as the inputs are (an unmasked input keeps all),
        then reduced over the last axis as Keras 3 does."""
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        masks = []
        for x, mask in zip(inputs, previous_mask):
            if mask is None:
                mask = tf.ones(tuple(x.shape), dtype=tf.bool)
            elif mask.ndim < x.ndim:
                mask = tf.broadcast_to(tf.expand_dims(mask, -1), tuple(x.shape))
            masks.append(mask)
        return tf.reduce_any(tf.concat(masks, axis=self.axis), axis=-1)

    def compute_output_shape(self, input_shape):
        # As in Keras 3, a single input is allowed (the output is that input).
        shapes = _shape_list(self, input_shape, 1)
        mismatch = ValueError(
            f"A `Concatenate` layer requires inputs with matching shapes except for the "
            f"concatenation axis. Received: input_shape={_show(shapes)}")
        rank = shapes[0].rank
        if any(s.rank != rank for s in shapes):
            raise mismatch
        if not -rank <= self.axis < rank:
            raise ValueError(f"Concatenate layer '{self.name}': axis={self.axis} is out of "
                             f"range for inputs of rank {rank}. Received: "
                             f"input_shape={_show(shapes)}")
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"Concatenate layer '{self.name}': cannot concatenate along the "
                             f"batch axis (axis={self.axis}). Received: "
                             f"input_shape={_show(shapes)}")
        output = []
        for i in range(rank):
            sizes = [s[i] for s in shapes]
            if i == axis:
                output.append(None if None in sizes else sum(sizes))
                continue
            known = set(sizes) - {None}
            if len(known) > 1:
                raise mismatch
            output.append(known.pop() if known else None)
        return tf.TensorShape(output)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


# -- Dot --------------------------------------------------------------------------------------

class Dot(Layer):
    """The dot products of the samples of two inputs along one axis of each.

    For inputs of shapes (batch, a, k) and (batch, k, b), `Dot(axes=(2, 1))` gives
    (batch, a, b): per sample, the product of the two matrices. The output drops the two
    summed axes (and the second input's batch axis); an output of one axis becomes
    (batch, 1).

    Args:
      axes: An int (the same axis of both inputs) or a pair (axis of input 0, axis of
        input 1); never the batch axis 0. Negative axes count from the end.
      normalize: Whether to L2-normalize both inputs along their dot axes first, so that
        the output is the cosine similarity.

    >>> import numpyflow as tf
    >>> x = tf.constant([[1., 2.], [3., 4.]])
    >>> tf.keras.layers.Dot(axes=1)([x, x]).numpy()
    array([[ 5.],
           [25.]], dtype=float32)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            valid = len(axes) == 2 and all(_is_int(a) for a in axes)
            self.axes = tuple(int(a) for a in axes) if valid else None
        else:
            valid = _is_int(axes)
            self.axes = int(axes) if valid else None
        if not valid:
            raise ValueError(f"Dot layer '{self.name}': `axes` must be an integer or a tuple "
                             f"of 2 integers. Received: axes={axes!r}")
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _resolve_axes(self, shapes):
        """The two axes as non-negative ints for inputs of `shapes`; validates them."""
        wanted = self.axes if isinstance(self.axes, tuple) else (self.axes, self.axes)
        axes = []
        for axis, shape in zip(wanted, shapes):
            if shape.rank < 2:
                raise ValueError(f"Dot layer '{self.name}': inputs must have rank >= 2 "
                                 f"(batch, ...). Received: input_shape={_show(shapes)}")
            if not -shape.rank <= axis < shape.rank or axis % shape.rank == 0:
                raise ValueError(f"Dot layer '{self.name}': axes={self.axes} is invalid for "
                                 f"input_shape={_show(shapes)}; each axis must be a non-batch "
                                 f"axis of its input (not 0).")
            axes.append(axis % shape.rank)
        size0, size1 = shapes[0][axes[0]], shapes[1][axes[1]]
        if size0 is not None and size1 is not None and size0 != size1:
            raise ValueError(f"Dot layer '{self.name}': incompatible input shapes: axis size "
                             f"{size0} (at axis {axes[0]}) != {size1} (at axis {axes[1]}). "
                             f"Received: input_shape={_show(shapes)}")
        return axes

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_mask(self, inputs, previous_mask):
        return None  # As Keras 3: the product has no steps left to mask.

    def call(self, inputs):
        _check_inputs(self, inputs, 2)
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer ('{self.name}') should be called on exactly 2 "
                             f"inputs. Received {len(inputs)} inputs.")
        x, y = inputs
        ax, ay = self._resolve_axes([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
        # Per sample: x with its dot axis last, as an (m, k) matrix; y with its dot axis
        # first, as a (k, n) matrix; one batched matmul gives (batch, m, n).
        x = _move_axis(x, ax, x.ndim - 1)
        y = _move_axis(y, ay, 1)
        batch, k = x.shape[0], x.shape[-1]
        x_rest, y_rest = tuple(x.shape[1:-1]), tuple(y.shape[2:])
        m, n = math.prod(x_rest), math.prod(y_rest)
        product = tf.matmul(tf.reshape(x, (batch, m, k)), tf.reshape(y, (batch, k, n)))
        out = x_rest + y_rest
        return tf.reshape(product, (batch,) + (out if out else (1,)))

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(self, input_shape, 2, 2)
        ax, ay = self._resolve_axes(shapes)
        batch = _batch_size(self, shapes)
        x_rest = tuple(d for i, d in enumerate(shapes[0]) if i not in (0, ax))
        y_rest = tuple(d for i, d in enumerate(shapes[1]) if i not in (0, ay))
        out = x_rest + y_rest
        return tf.TensorShape((batch,) + (out if out else (1,)))

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _move_axis(x, source, destination):
    if source == destination:
        return x
    perm = [i for i in range(x.ndim) if i != source]
    perm.insert(destination, source)
    return tf.transpose(x, perm=perm)


def _l2_normalize(x, axis, epsilon=1e-12):
    """x / max(||x||, sqrt(epsilon)) along `axis`, as Keras's `normalize`."""
    square_sum = tf.reduce_sum(tf.square(x), axis=axis, keepdims=True)
    return x * tf.math.rsqrt(tf.maximum(square_sum, epsilon))


# -- function forms -----------------------------------------------------------------------

def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`: the element-wise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`: `inputs[0] - inputs[1]`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`: the element-wise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`: the element-wise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)`: the element-wise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`: the element-wise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis, **kwargs)(inputs)`: joins a list of tensors along `axis`.

    >>> import numpyflow as tf
    >>> tf.keras.layers.concatenate([tf.zeros((2, 3)), tf.ones((2, 1))]).shape
    TensorShape([2, 4])
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """`Dot(axes, normalize, **kwargs)(inputs)`: batched dot products of two tensors."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
