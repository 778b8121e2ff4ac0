"""`keras.constraints`: projections applied to a weight after each optimizer update.

A constraint is a callable `constraint(w) -> Tensor` of `w`'s shape. Layers take them as
`kernel_constraint` / `bias_constraint` (`Layer.add_weight(constraint=...)`); the weight
keeps it as `variable.constraint`, and the optimizer assigns `constraint(variable)` to the
variable right after updating it.

    >>> import numpyflow as tf
    >>> tf.keras.constraints.NonNeg()(tf.constant([-1., 2.])).numpy()
    array([0., 2.], dtype=float32)
"""

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.utils.serialization import (
    deserialize_from_tables, get_from_identifier, serialize_keras_object)


def _norms(w, axis):
    """The L2 norms of `w` along `axis`, kept as size-1 axes so they broadcast against `w`."""
    return tf.sqrt(tf.reduce_sum(tf.square(w), axis=axis, keepdims=True))


def _axis_config(axis):
    return list(axis) if isinstance(axis, tuple) else axis


class Constraint:
    """Base class of weight constraints: override `__call__(w)` (and `get_config()` when
    the constructor takes arguments). The base class leaves the weight as it is.

    >>> class Clip(Constraint):
    ...     def __call__(self, w):
    ...         return tf.clip_by_value(w, -1., 1.)
    >>> Clip()(tf.constant([-3., 0.5])).numpy()
    array([-1. ,  0.5], dtype=float32)
    """

    def __call__(self, w):
        """The projected weight (the base class returns `w` unchanged)."""
        return w

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Recreates a constraint from `get_config()`'s dict."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scales each weight vector along `axis` down to an L2 norm of at most `max_value`.

    Args:
      max_value: The largest norm allowed.
      axis: Axis (or list of axes) along which norms are taken: 0 for a Dense kernel of
        shape (input_dim, units), one norm per unit; [0, 1, 2] for a Conv2D kernel.

    >>> MaxNorm(1.0)(tf.constant([[3.], [4.]])).numpy().round(4)
    array([[0.6],
           [0.8]], dtype=float32)
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = tf.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = tf.clip_by_value(norms, 0., self.max_value)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": _axis_config(self.axis)}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    >>> NonNeg()(tf.constant([-0.5, 1.5])).numpy()
    array([0. , 1.5], dtype=float32)
    """

    def __call__(self, w):
        return tf.maximum(tf.convert_to_tensor(w), 0.)


class UnitNorm(Constraint):
    """Scales each weight vector along `axis` to an L2 norm of 1.

    Args:
      axis: Axis (or list of axes) along which norms are taken (see `MaxNorm`).

    >>> UnitNorm()(tf.constant([[3.], [4.]])).numpy().round(4)
    array([[0.6],
           [0.8]], dtype=float32)
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = tf.convert_to_tensor(w)
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": _axis_config(self.axis)}


class MinMaxNorm(Constraint):
    """Scales each weight vector along `axis` to an L2 norm between two bounds.

    Args:
      min_value: The smallest norm allowed.
      max_value: The largest norm allowed.
      rate: How far to move: each norm becomes `(1 - rate) * norm + rate *
        clip(norm, min_value, max_value)`; 1.0 enforces the bounds at once, smaller values
        move towards them step by step.
      axis: Axis (or list of axes) along which norms are taken (see `MaxNorm`).

    >>> MinMaxNorm(2.0, 3.0)(tf.constant([[0.6], [0.8]])).numpy().round(4)
    array([[1.2],
           [1.6]], dtype=float32)
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = tf.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * tf.clip_by_value(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": _axis_config(self.axis)}


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_CLASSES = {cls.__name__: cls for cls in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
# Lower-case names, as layer arguments take them ("non_neg"); each makes a default instance.
_NAMES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
          "min_max_norm": MinMaxNorm}


def serialize(constraint):
    """The Keras 3 config of a constraint (None stays None).

    >>> serialize(MaxNorm(3))["config"]
    {'max_value': 3, 'axis': 0}
    """
    if constraint is None:
        return None
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """The constraint a config (Keras 3's or the older `{"class_name", "config"}`) or a name
    describes.

    Args:
      config: A config dict, or a name such as "non_neg" (a new default instance).
      custom_objects: Optional dict of your own constraint classes/functions by name
        (registered ones and custom object scopes are found too).
    """
    return deserialize_from_tables(config, _CLASSES, kind="constraint",
                                   custom_objects=custom_objects, names=_NAMES)


def get(identifier):
    """A constraint from None, a name, a config dict, a class, or any callable.

    Raises:
      ValueError: for an unknown name (the message lists the known ones), or an identifier
        that is none of the above.

    >>> get("max_norm")
    MaxNorm(max_value=2, axis=0)
    >>> get(None) is None
    True
    """
    return get_from_identifier(identifier, deserialize, "constraint",
                               "Expected a name such as 'non_neg', a config dict, or a "
                               "callable")


__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg",
           "unit_norm", "min_max_norm", "serialize", "deserialize", "get"]
