"""`keras.regularizers`: penalties on weights or activations, added to the training loss.

A regularizer is a callable `regularizer(x) -> scalar Tensor`. Layers take them as
`kernel_regularizer`, `bias_regularizer` (on a weight: `Layer.add_weight(regularizer=...)`)
and `activity_regularizer` (on the layer's outputs); the penalties appear in
`layer.losses`, which `Model.fit` adds to the loss.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Dense(2, kernel_initializer="ones",
    ...                               kernel_regularizer=tf.keras.regularizers.L2(0.1))
    >>> _ = layer(tf.ones((1, 3)))
    >>> [round(float(loss), 4) for loss in layer.losses]   # 0.1 * (6 weights * 1.0**2)
    [0.6]
"""

import math
import numbers

import numpyflow as tf
from numpyflow.keras.utils.serialization import (
    deserialize_from_tables, get_from_identifier, serialize_keras_object)


def _non_negative_float(value, name, owner):
    """`value` as a float; ValueError naming `owner` unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{owner}: invalid value for argument `{name}`: expected a "
                         f"non-negative float. Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class of regularizers: override `__call__(x)` and `get_config()`.

    Any function `x -> scalar Tensor` also works as a regularizer; subclass this to make
    one that can be written into a layer's config.

    >>> class SumOfSquares(Regularizer):
    ...     def __init__(self, factor=1.0):
    ...         self.factor = factor
    ...     def __call__(self, x):
    ...         return self.factor * tf.reduce_sum(tf.square(x))
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    >>> float(SumOfSquares(0.5)(tf.constant([1., 2.])))
    2.5
    """

    def __call__(self, x):
        """The penalty for `x` (a scalar Tensor); the base class penalizes nothing."""
        return tf.constant(0.0, dtype=tf.convert_to_tensor(x).dtype)

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    @classmethod
    def from_config(cls, config):
        """Recreates a regularizer from `get_config()`'s dict."""
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Args:
      l1: Non-negative float, the L1 factor (None counts as 0).
      l2: Non-negative float, the L2 factor (None counts as 0).

    >>> round(float(L1L2(l1=0.1, l2=0.5)(tf.constant([1., -2.]))), 4)
    2.8
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _non_negative_float(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _non_negative_float(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        x = tf.convert_to_tensor(x)
        penalty = tf.constant(0.0, dtype=x.dtype)
        if self.l1:
            penalty = penalty + self.l1 * tf.reduce_sum(tf.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * tf.reduce_sum(tf.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(abs(x))`. Also available as `keras.regularizers.l1` and the name "l1".

    Args:
      l1: Non-negative float, the factor (None means the default, 0.01).

    >>> float(L1(0.5)(tf.constant([1., -2.])))
    1.5
    """

    def __init__(self, l1=0.01):
        self.l1 = _non_negative_float(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return self.l1 * tf.reduce_sum(tf.abs(tf.convert_to_tensor(x)))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))`. Also available as `keras.regularizers.l2` and the name "l2".

    Args:
      l2: Non-negative float, the factor (None means the default, 0.01).

    >>> float(L2(0.5)(tf.constant([1., -2.])))
    2.5
    """

    def __init__(self, l2=0.01):
        self.l2 = _non_negative_float(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        return self.l2 * tf.reduce_sum(tf.square(tf.convert_to_tensor(x)))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a rank-2 weight towards being orthogonal.

    The penalty is `factor * 0.5 * sum(|dot products of distinct unit rows|) / pairs`,
    `pairs = n * (n - 1) / 2` for `n` rows (columns with `mode="columns"`).

    Args:
      factor: Non-negative float, the strength.
      mode: "rows" or "columns".

    >>> float(OrthogonalRegularizer(1.0)(tf.constant([[1., 0.], [0., 1.]])))
    0.0
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _non_negative_float(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: invalid value for argument `mode`. "
                             f"Expected 'rows' or 'columns'. Received: mode={mode!r}")
        self.mode = mode

    def __call__(self, x):
        x = tf.convert_to_tensor(x)
        if x.shape.rank != 2:
            raise ValueError(f"OrthogonalRegularizer: inputs must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        if self.mode == "columns":
            x = tf.transpose(x)
        # Rows scaled to unit length (rows of zeros stay zero).
        norms = tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(x), axis=1, keepdims=True), 1e-12))
        unit = x / norms
        size = x.shape[0]
        products = tf.matmul(unit, unit, transpose_b=True)
        off_diagonal = products * (1.0 - tf.eye(size, dtype=x.dtype))
        pairs = size * (size - 1) / 2.0
        return self.factor * 0.5 * tf.reduce_sum(tf.abs(off_diagonal)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01):
    """An `L1L2` regularizer whose factors both default to 0.01 (the name "l1_l2").

    >>> l1_l2()
    L1L2(l1=0.01, l2=0.01)
    """
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_CLASSES = {cls.__name__: cls for cls in (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)}
# Lower-case names, as layer arguments take them ("l2"); each makes a default instance.
_NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": L1L2,
          "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    """The Keras 3 config of a regularizer (None stays None).

    >>> serialize(L2(0.1))["class_name"], serialize(L2(0.1))["config"]
    ('L2', {'l2': 0.1})
    """
    if regularizer is None:
        return None
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """The regularizer a config (Keras 3's or the older `{"class_name", "config"}`) or a
    name describes.

    Args:
      config: A config dict, or a name such as "l2" (a new default instance).
      custom_objects: Optional dict of your own regularizer classes/functions by name
        (registered ones and custom object scopes are found too).
    """
    return deserialize_from_tables(config, _CLASSES, kind="regularizer",
                                   custom_objects=custom_objects, names=_NAMES)


def get(identifier):
    """A regularizer from None, a name, a config dict, a class, or any callable.

    Raises:
      ValueError: for an unknown name (the message lists the known ones), or an identifier
        that is none of the above.

    >>> get("l2")
    L2(l2=0.01)
    >>> get(None) is None
    True
    """
    return get_from_identifier(identifier, deserialize, "regularizer",
                               "Expected a name such as 'l2', a config dict, or a callable")


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "serialize", "deserialize", "get"]
