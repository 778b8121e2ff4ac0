"""Normalization layers: `BatchNormalization`, `LayerNormalization`, `GroupNormalization`.

Each normalizes its inputs to zero mean and unit variance over some axes, then applies a
learned per-feature scale `gamma` and offset `beta`. They differ in which axes the
statistics are taken over: the batch (BatchNormalization, with moving statistics for
inference), the features of each sample (LayerNormalization), or groups of channels of
each sample (GroupNormalization).
"""

import numbers

import numpyflow as tf
from numpyflow.keras import initializers
from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.layers.core import (
    add_weight_with_args, set_weight_args, weight_args_config)
from numpyflow.keras.layers.input_spec import InputSpec
from numpyflow.ops import normalization_ops


# -- helpers --------------------------------------------------------------------------------

def _axis_argument(axis, layer_name):
    """`axis` as given (an int, or a list of ints), after checking its type."""
    def is_int(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if is_int(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    raise TypeError(f"{layer_name}: expected an int or a non-empty list/tuple of ints for "
                    f"the argument `axis`. Received: axis={axis!r}")


def _positive_axes(axis, rank, layer):
    """The axes `axis` names in an input of `rank`, as sorted non-negative ints."""
    given = axis if isinstance(axis, list) else [axis]
    axes = []
    for a in given:
        if not -rank <= a < rank:
            raise ValueError(f"Layer '{layer.name}': axis {a} is out of bounds for inputs of "
                             f"rank {rank}. Received: axis={axis}")
        axes.append(a % rank)
    if len(set(axes)) != len(axes):
        raise ValueError(f"Layer '{layer.name}': duplicate axes in axis={axis} for inputs "
                         f"of rank {rank}.")
    return sorted(axes)


def _defined_sizes(input_shape, axes, layer):
    """The sizes of `axes` in `input_shape`; they size the weights, so must be known."""
    sizes = tuple(input_shape[a] for a in axes)
    if None in sizes:
        raise ValueError(f"Layer '{layer.name}': the normalized axes {axes} of the input must "
                         f"have a defined size. Received: input_shape={tuple(input_shape)}")
    return sizes


def _broadcast_shape(rank, axes, sizes):
    """The shape that makes a weight of `sizes` (over `axes`) broadcast against the input.

    None when it broadcasts as it is: a single axis that is the last one.
    """
    if list(axes) == [rank - 1]:
        return None
    shape = [1] * rank
    for a, size in zip(axes, sizes):
        shape[a] = size
    return shape


def _check_epsilon(epsilon, layer_name):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
        raise ValueError(f"{layer_name}: `epsilon` must be a non-negative float. "
                         f"Received: epsilon={epsilon!r}")
    return float(epsilon)


class _ScaleAndOffset(Layer):
    """Keeps the `center`/`scale` arguments shared by the normalization layers.

    The regularizers and constraints are given to `add_weight`: the regularizers' penalties
    join `layer.losses`, and optimizers apply the constraints after each update.
    """

    def _set_scale_and_offset_args(self, center, scale, beta_initializer, gamma_initializer,
                                   beta_regularizer, gamma_regularizer, beta_constraint,
                                   gamma_constraint):
        self.center = bool(center)
        self.scale = bool(scale)
        set_weight_args(self, "beta", beta_initializer, beta_regularizer, beta_constraint)
        set_weight_args(self, "gamma", gamma_initializer, gamma_regularizer, gamma_constraint)
        self.gamma = self.beta = None

    def _add_gamma(self, shape):
        self.gamma = add_weight_with_args(self, "gamma", "gamma", shape)

    def _add_beta(self, shape):
        self.beta = add_weight_with_args(self, "beta", "beta", shape)

    def _build_weight_axes(self, input_shape):
        """(rank, axes, sizes): the input's rank, the axes `axis` names (sorted, >= 0) and
        their sizes, the weights' shape. Sets the input spec and the shape the weights
        broadcast to."""
        input_shape = tf.TensorShape(input_shape)
        rank = input_shape.rank
        axes = _positive_axes(self.axis, rank, self)
        sizes = _defined_sizes(input_shape, axes, self)
        self.input_spec = InputSpec(ndim=rank, axes=dict(zip(axes, sizes)))
        self._broadcast = _broadcast_shape(rank, axes, sizes)
        return rank, axes, sizes

    def _scale_and_offset_config(self):
        return {"center": self.center, "scale": self.scale,
                **weight_args_config(self, "beta", "gamma")}

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank is not None:
            _positive_axes(self.axis, input_shape.rank, self)  # Fails on bad axes.
        return input_shape


def _as_float32(inputs):
    """float16 inputs are normalized in float32 (their statistics overflow easily), as Keras."""
    if inputs.dtype == tf.float16:
        return tf.cast(inputs, tf.float32)
    return inputs


def _cast(value, dtype, shape=None):
    """`value` (a weight, or None) cast to `dtype` and reshaped to `shape` when given."""
    if value is None:
        return None
    if value.dtype != dtype:
        value = tf.cast(value, dtype)
    return value if shape is None else tf.reshape(value, shape)


# -- BatchNormalization ---------------------------------------------------------------------

class BatchNormalization(_ScaleAndOffset):
    """Normalizes each feature with the statistics of the batch (training) or moving ones.

    In training (`training=True`, as in `fit`) the output is
    `gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta` with the mean and (biased)
    variance of the batch, taken over every axis except `axis`; each such call also updates
    `moving_mean = moving_mean * momentum + mean(x) * (1 - momentum)` (and the same for
    `moving_variance`). In inference (`training=False` or not given, as in `predict` and
    `evaluate`) the moving statistics are used instead.

    As in Keras 3, a layer with `trainable = False` always runs in inference mode and leaves
    its moving statistics unchanged (the usual way to freeze a pretrained model).

    Args:
      axis: The feature axis (an int, -1 for channels-last), or a list of axes; the weights
        have one value per position on these axes.
      momentum: Momentum of the moving averages.
      epsilon: Small float added to the variance to avoid dividing by zero.
      center: Whether to add the learned offset `beta`.
      scale: Whether to multiply by the learned factor `gamma`.
      beta_initializer, gamma_initializer: Initializers of `beta` (zeros) and `gamma` (ones).
      moving_mean_initializer, moving_variance_initializer: Initializers of the moving
        statistics (zeros and ones).
      beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: Optional
        regularizers and constraints of `beta` and `gamma`.
      synchronized: Whether, under a `tf.distribute` strategy of several replicas, the
        batch statistics in training are those of the global batch (the replicas' sums
        all-reduced) rather than of each replica's own batch.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.BatchNormalization()
    >>> x = tf.constant([[0., 10.], [2., 30.]])
    >>> layer(x, training=True).numpy().round(2)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> layer.moving_mean.numpy().round(2)  # 0.99 * 0 + 0.01 * batch mean
    array([0.01, 0.2 ], dtype=float32)
    >>> [w.name for w in layer.weights]
    ['batch_normalization/gamma:0', 'batch_normalization/beta:0', \
'batch_normalization/moving_mean:0', 'batch_normalization/moving_variance:0']
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        label = f"BatchNormalization layer '{self.name}'"
        self.axis = _axis_argument(axis, label)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
            raise ValueError(f"{label}: `momentum` must be a float. Received: "
                             f"momentum={momentum!r}")
        self.momentum = float(momentum)
        self.epsilon = _check_epsilon(epsilon, label)
        if not isinstance(synchronized, bool):
            raise TypeError(f"{label}: `synchronized` must be a bool. Received: "
                            f"synchronized={synchronized!r}")
        self.synchronized = synchronized
        self._set_scale_and_offset_args(center, scale, beta_initializer, gamma_initializer,
                                        beta_regularizer, gamma_regularizer, beta_constraint,
                                        gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.moving_mean = self.moving_variance = None
        self.supports_masking = True

    def build(self, input_shape):
        rank, axes, sizes = self._build_weight_axes(input_shape)
        # Keras's weight order: gamma, beta (trainable), then the moving statistics.
        if self.scale:
            self._add_gamma(sizes)
        if self.center:
            self._add_beta(sizes)
        self.moving_mean = self.add_weight("moving_mean", shape=sizes,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape=sizes,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self._reduction_axes = [a for a in range(rank) if a not in axes]
        self.built = True

    def call(self, inputs, training=None):
        x = _as_float32(inputs)
        dtype, shape = x.dtype, self._broadcast
        if training and self.trainable and self._fused_training_applies(x):
            return tf.cast(self._fused_training(x), inputs.dtype)
        if training and self.trainable:
            mean, variance = self._batch_moments(x)
            self._update_moving_statistics(mean, variance)
            if shape is not None:
                mean, variance = tf.reshape(mean, shape), tf.reshape(variance, shape)
        else:
            mean = _cast(self.moving_mean, dtype, shape)
            variance = _cast(self.moving_variance, dtype, shape)
        gamma, beta = _cast(self.gamma, dtype, shape), _cast(self.beta, dtype, shape)
        outputs = tf.nn.batch_normalization(x, mean, variance, beta, gamma, self.epsilon)
        return tf.cast(outputs, inputs.dtype)

    def _fused_training_applies(self, x):
        """Whether the fused training primitives cover this call: statistics per channel
        of the last axis (`axis=-1`, Keras's default), float32/float64, and the batch of
        this replica alone (not `synchronized` across several)."""
        if self._broadcast is not None or x.dtype not in (tf.float32, tf.float64):
            return False
        if self.synchronized:
            context = tf.distribute.get_replica_context()
            return context is None or context.num_replicas_in_sync == 1
        return True

    def _fused_training(self, x):
        """Training with the batch's statistics as two fused primitives (see
        `ops/normalization_ops.py`): the same numbers as `_batch_moments` followed by
        `tf.nn.batch_normalization`, in fewer passes over `x` forward and backward."""
        moments = normalization_ops.batch_moments(x)
        mean, variance = tf.unstack(moments)
        self._update_moving_statistics(mean, variance)
        channels = x.shape[-1]
        gamma = (_cast(self.gamma, x.dtype) if self.scale
                 else tf.ones((channels,), dtype=x.dtype))
        beta = (_cast(self.beta, x.dtype) if self.center
                else tf.zeros((channels,), dtype=x.dtype))
        return normalization_ops.batch_norm_training(x, gamma, beta, self.epsilon,
                                                     moments=moments)

    def _batch_moments(self, x):
        """The batch's mean and variance over the reduction axes; with `synchronized`,
        over the global batch of all replicas (one all-reduce of the sums and count)."""
        context = tf.distribute.get_replica_context() if self.synchronized else None
        if context is None or context.num_replicas_in_sync == 1:
            return tf.nn.moments(x, axes=self._reduction_axes)
        axes = self._reduction_axes
        count = tf.cast(tf.reduce_prod(tf.gather(tf.shape(x), axes)), x.dtype)
        total, squares, count = context.all_reduce(
            "SUM", [tf.reduce_sum(x, axis=axes), tf.reduce_sum(tf.square(x), axis=axes),
                    count])
        mean = total / count
        return mean, tf.maximum(squares / count - tf.square(mean), 0.)

    def _update_moving_statistics(self, mean, variance):
        # Assignments are primitives, so a compiled training step (tf.function) repeats them.
        # They carry no gradient: the statistics are state, not a function being trained.
        for moving, batch_value in ((self.moving_mean, mean),
                                    (self.moving_variance, variance)):
            batch_value = tf.stop_gradient(batch_value)
            updated = (_cast(moving, batch_value.dtype) * self.momentum
                       + batch_value * (1. - self.momentum))
            moving.assign(tf.cast(updated, moving.dtype))

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._scale_and_offset_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer":
                initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
        })
        return config


# -- LayerNormalization ---------------------------------------------------------------------

class LayerNormalization(_ScaleAndOffset):
    """Normalizes each sample over its feature axes (no batch statistics, no moving state).

    For each sample, the mean and (biased) variance are taken over `axis`; the output is
    `gamma * (x - mean) / sqrt(variance + epsilon) + beta`, the same in training and
    inference. `gamma` and `beta` span the `axis` dimensions.

    Args:
      axis: The axis, or list of axes, to normalize over (-1: the last one).
      epsilon: Small float added to the variance to avoid dividing by zero.
      center: Whether to add the learned offset `beta`.
      scale: Whether to multiply by the learned factor `gamma`.
      rms_scaling: If True, `center` and `scale` are ignored and the output is
        `x * gamma / sqrt(variance(x) + epsilon)` (no mean subtracted, no beta), as Keras
        3.15 computes it; Keras deprecates the argument.
      beta_initializer, gamma_initializer: Initializers of `beta` (zeros) and `gamma` (ones).
      beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: Optional
        regularizers and constraints of `beta` and `gamma`.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.LayerNormalization(epsilon=0.)
    >>> layer(tf.constant([[1., 3.], [10., 30.]])).numpy()
    array([[-1.,  1.],
           [-1.,  1.]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        label = f"LayerNormalization layer '{self.name}'"
        self.axis = _axis_argument(axis, label)
        self.epsilon = _check_epsilon(epsilon, label)
        self.rms_scaling = bool(rms_scaling)
        self._set_scale_and_offset_args(center, scale, beta_initializer, gamma_initializer,
                                        beta_regularizer, gamma_regularizer, beta_constraint,
                                        gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        _, axes, sizes = self._build_weight_axes(input_shape)
        if self.scale or self.rms_scaling:
            self._add_gamma(sizes)
        if self.center and not self.rms_scaling:
            self._add_beta(sizes)
        self._axes = axes
        self.built = True

    def call(self, inputs):
        x = _as_float32(inputs)
        gamma = _cast(self.gamma, x.dtype, self._broadcast)
        beta = _cast(self.beta, x.dtype, self._broadcast)
        if self.rms_scaling:
            # Keras 3.15's (deprecated) rule: x (not centered) over sqrt(variance + epsilon).
            _, variance = tf.nn.moments(x, axes=self._axes, keepdims=True)
            outputs = x * tf.math.rsqrt(variance + self.epsilon) * gamma
        else:
            mean, variance = tf.nn.moments(x, axes=self._axes, keepdims=True)
            outputs = tf.nn.batch_normalization(x, mean, variance, beta, gamma, self.epsilon)
        return tf.cast(outputs, inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon,
                       **self._scale_and_offset_config(), "rms_scaling": self.rms_scaling})
        return config


# -- GroupNormalization ---------------------------------------------------------------------

class GroupNormalization(_ScaleAndOffset):
    """Normalizes each sample over groups of channels.

    The channels (`axis`) are split into `groups` groups of consecutive channels; each
    sample is normalized with the mean and (biased) variance of each group, taken over the
    group's channels and all other non-batch axes. `gamma` and `beta` have one value per
    channel. `groups=1` normalizes over the whole sample; `groups=-1` (one group per
    channel) is instance normalization.

    Args:
      groups: The number of groups; must divide the number of channels. -1 means one
        group per channel.
      axis: The channels axis (an int).
      epsilon: Small float added to the variance to avoid dividing by zero.
      center: Whether to add the learned offset `beta`.
      scale: Whether to multiply by the learned factor `gamma`.
      beta_initializer, gamma_initializer: Initializers of `beta` (zeros) and `gamma` (ones).
      beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: Optional
        regularizers and constraints of `beta` and `gamma`.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.GroupNormalization(groups=2, epsilon=0.)
    >>> layer(tf.constant([[1., 3., 10., 30.]])).numpy()
    array([[-1.,  1., -1.,  1.]], dtype=float32)
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        label = f"GroupNormalization layer '{self.name}'"
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or \
                (groups < 1 and groups != -1):
            raise ValueError(f"{label}: `groups` must be a positive integer, or -1 for one "
                             f"group per channel. Received: groups={groups!r}")
        self.groups = int(groups)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"{label}: `axis` must be an int (the channels axis). "
                            f"Received: axis={axis!r}")
        self.axis = int(axis)
        self.epsilon = _check_epsilon(epsilon, label)
        self._set_scale_and_offset_args(center, scale, beta_initializer, gamma_initializer,
                                        beta_regularizer, gamma_regularizer, beta_constraint,
                                        gamma_constraint)
        self.supports_masking = True

    def _groups_for(self, channels):
        """The number of groups for `channels` channels, after checking it divides them."""
        groups = channels if self.groups == -1 else self.groups
        if groups > channels:
            raise ValueError(f"Layer '{self.name}': the number of groups ({groups}) cannot be "
                             f"more than the number of channels ({channels}). Received: "
                             f"groups={self.groups}, {channels} channels on axis {self.axis}")
        if channels % groups:
            raise ValueError(f"Layer '{self.name}': the number of channels ({channels}) must "
                             f"be a multiple of the number of groups ({groups}). Received: "
                             f"groups={self.groups}, {channels} channels on axis {self.axis}")
        return groups

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        rank = input_shape.rank
        (axis,) = _positive_axes(self.axis, rank, self)
        if axis == 0:
            raise ValueError(f"Layer '{self.name}': axis={self.axis} is the batch axis; "
                             f"expected the channels axis.")
        (channels,) = _defined_sizes(input_shape, [axis], self)
        self._num_groups = self._groups_for(channels)
        if self.scale:
            self._add_gamma((channels,))
        if self.center:
            self._add_beta((channels,))
        self.input_spec = InputSpec(ndim=rank, axes={axis: channels})
        self._channel_axis = axis
        # On the input reshaped to (..., groups, channels // groups, ...), statistics are
        # taken over every axis except the batch and the group axis.
        self._group_reduction_axes = [a for a in range(1, rank + 1) if a != axis]
        self._grouped_param_shape = [1] * (rank + 1)
        self._grouped_param_shape[axis:axis + 2] = [self._num_groups,
                                                    channels // self._num_groups]
        self.built = True

    def call(self, inputs):
        x = _as_float32(inputs)
        shape = tuple(x.shape)
        axis, groups = self._channel_axis, self._num_groups
        grouped = tf.reshape(x, shape[:axis] + (groups, shape[axis] // groups)
                             + shape[axis + 1:])
        mean, variance = tf.nn.moments(grouped, axes=self._group_reduction_axes, keepdims=True)
        gamma = _cast(self.gamma, x.dtype, self._grouped_param_shape)
        beta = _cast(self.beta, x.dtype, self._grouped_param_shape)
        outputs = tf.nn.batch_normalization(grouped, mean, variance, beta, gamma, self.epsilon)
        return tf.cast(tf.reshape(outputs, shape), inputs.dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank is not None:
            (axis,) = _positive_axes(self.axis, input_shape.rank, self)
            if input_shape[axis] is not None:
                self._groups_for(input_shape[axis])  # Fails when groups don't divide them.
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                       **self._scale_and_offset_config()})
        return config


__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization"]
