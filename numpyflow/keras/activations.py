"""`keras.activations`: element-wise activation functions, looked up by name.

`softmax` and `sigmoid` remember the logits each of their outputs was computed from, so
that a loss given their output can compute the cross-entropy from the logits instead
(numerically stable and cheaper): see `logits_from_softmax` / `logits_from_sigmoid`.

    >>> import numpyflow as tf
    >>> relu = tf.keras.activations.get("relu")
    >>> relu(tf.constant([-1., 2.])).numpy()
    array([0., 2.], dtype=float32)
"""

import numpyflow as tf
from numpyflow.keras.saving import object_registration
from numpyflow.keras.utils.serialization import (
    custom_object, deserialize_from_tables, serialize_keras_object, uninterpretable_error,
    unknown_object_error)

# -- logits remembered by softmax / sigmoid -----------------------------------------------
# As Keras keeps them (`output._keras_logits`), the logits live on the output tensor
# itself, in its `_keras_logits` slot as `(activation_name, logits)`: they are freed with
# the output and cannot be confused with another tensor's.


def _recall(output, activation_name):
    entry = getattr(output, "_keras_logits", None)
    if entry is not None and entry[0] == activation_name:
        return entry[1]
    return None


def logits_from_softmax(output):
    """The logits `output` was computed from by `softmax` over its last axis, else None.

    >>> logits = tf.constant([[1., 2.]])
    >>> logits_from_softmax(softmax(logits)) is logits
    True
    """
    return _recall(output, "softmax")


def logits_from_sigmoid(output):
    """The logits `output` was computed from by `sigmoid`, else None.

    >>> logits = tf.constant([0.5])
    >>> logits_from_sigmoid(sigmoid(logits)) is logits
    True
    """
    return _recall(output, "sigmoid")


def remember_logits(output, softmax_logits=None, sigmoid_logits=None):
    """Makes `output` remember logits it was computed from (for a tensor rebuilt from one
    that did, e.g. by a compiled plan). Returns `output`.

    Raises:
      ValueError: if both are given (an output comes from one activation).
    """
    if softmax_logits is not None and sigmoid_logits is not None:
        raise ValueError("remember_logits: an output has either softmax or sigmoid logits; "
                         "received both.")
    if softmax_logits is not None:
        output._keras_logits = ("softmax", softmax_logits)
    if sigmoid_logits is not None:
        output._keras_logits = ("sigmoid", sigmoid_logits)
    return output


# -- activations --------------------------------------------------------------------------

def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras's options.

    Args:
      x: Input tensor.
      alpha: Slope for values below `threshold` (leaky ReLU when non-zero).
      max_value: Optional upper bound of the output.
      threshold: Values below it are set to zero (or scaled by `alpha`).

    >>> relu(tf.constant([-2., 1., 8.]), alpha=0.5, max_value=6.).numpy()
    array([-1.,  1.,  6.], dtype=float32)
    """
    if alpha == 0 and max_value is None and threshold == 0:
        return tf.nn.relu(x)  # The common case: one op.
    x = tf.convert_to_tensor(x)
    if alpha != 0:
        negative_part = tf.nn.relu(-x + threshold) if threshold != 0 else tf.nn.relu(-x)
    if threshold != 0:
        result = x * tf.cast(tf.greater(x, threshold), x.dtype)
    else:
        result = tf.nn.relu(x)
    if max_value is not None:
        result = tf.minimum(result, max_value)
    if alpha != 0:
        result = result - alpha * negative_part
    return result


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`; remembers `x` for `logits_from_softmax`.

    >>> softmax(tf.constant([[0., 0.]])).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """
    x = tf.convert_to_tensor(x)
    output = tf.nn.softmax(x, axis=axis)
    if axis is None or axis == -1 or axis == x.ndim - 1:  # Losses use the last axis.
        output._keras_logits = ("softmax", x)
    return output


def sigmoid(x):
    """1 / (1 + exp(-x)); remembers `x` for `logits_from_sigmoid`.

    >>> sigmoid(tf.constant([0.])).numpy()
    array([0.5], dtype=float32)
    """
    x = tf.convert_to_tensor(x)
    output = tf.nn.sigmoid(x)
    output._keras_logits = ("sigmoid", x)
    return output


def tanh(x):
    """Hyperbolic tangent."""
    return tf.nn.tanh(x)


def linear(x):
    """The identity: returns `x` unchanged."""
    return x


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    result = tf.nn.elu(x)
    if alpha == 1:
        return result
    return tf.where(tf.greater(result, 0.), result, alpha * result)


def selu(x):
    """Scaled ELU (the self-normalizing activation; pair it with `lecun_normal`)."""
    return tf.nn.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (tanh approximation when `approximate`)."""
    return tf.nn.gelu(x, approximate=approximate)


def softplus(x):
    """log(exp(x) + 1)."""
    return tf.nn.softplus(x)


def softsign(x):
    """x / (abs(x) + 1)."""
    return tf.nn.softsign(x)


def swish(x):
    """x * sigmoid(x) (also called SiLU)."""
    return tf.nn.silu(x)


silu = swish


def exponential(x):
    """exp(x)."""
    return tf.exp(x)


def relu6(x):
    """min(max(x, 0), 6)."""
    return tf.nn.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    """x for x >= 0, negative_slope * x otherwise."""
    return tf.nn.leaky_relu(x, alpha=negative_slope)


def hard_sigmoid(x):
    """A piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1), as in tf.keras 2."""
    return tf.minimum(tf.nn.relu(0.2 * tf.convert_to_tensor(x) + 0.5), 1.)


def mish(x):
    """x * tanh(softplus(x))."""
    x = tf.convert_to_tensor(x)
    return x * tf.nn.tanh(tf.nn.softplus(x))


def log_softmax(x, axis=-1):
    """Logarithm of the softmax along `axis`."""
    return tf.nn.log_softmax(x, axis=axis)


# -- lookup by name -----------------------------------------------------------------------

_BY_NAME = {fn.__name__: fn for fn in (
    relu, softmax, sigmoid, tanh, linear, elu, selu, gelu, softplus, softsign, swish,
    exponential, relu6, leaky_relu, hard_sigmoid, mish, log_softmax)}
_BY_NAME["silu"] = swish


def _keras_version_of(fn):
    """`softmax`/`sigmoid` above for `tf.nn.softmax`-style functions, else `fn` itself.

    `Dense(10, activation=tf.nn.softmax)` then remembers its logits like
    `activation="softmax"` does, so losses can use them.
    """
    for name, keras_fn in (("softmax", softmax), ("sigmoid", sigmoid)):
        if any(getattr(module, name, None) is fn for module in (tf.nn, tf.math, tf)):
            return keras_fn
    return fn


def serialize(activation):
    """An activation as layer configs store it: a built-in one by name ("relu", ...).

    A registered custom function is written as its Keras 3 config (so that its registered
    name travels with it), an object (a layer used as activation) as its Keras 3 config,
    and any other named function by its name.

    >>> serialize(relu)
    'relu'
    """
    if activation is None:
        return "linear"
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return "swish" if name == "silu" else name
    if hasattr(activation, "get_config") or object_registration.is_registered(activation):
        return serialize_keras_object(activation)
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Could not serialize activation {activation!r}: it is neither a "
                         f"known activation nor a named function.")
    return name


def deserialize(config, custom_objects=None):
    """The activation a name or config stands for (see `get`).

    >>> deserialize("tanh") is tanh
    True
    """
    if isinstance(config, str):
        found = custom_object(config, custom_objects) or _BY_NAME.get(config)
        if found is None:
            raise unknown_object_error("activation function", config, sorted(_BY_NAME),
                                       lead="Valid names are:")
        return found
    if isinstance(config, dict):
        if config.get("class_name") in _BY_NAME and "module" not in config:
            return _BY_NAME[config["class_name"]]  # tf.keras 2's {"class_name": "relu"}.
        found = deserialize_from_tables(config, {}, _BY_NAME, "activation",
                                        custom_objects)
        return _keras_version_of(found) if callable(found) else found
    raise uninterpretable_error("activation function", config,
                                "Expected a name such as 'relu' or a config dict")


def get(identifier):
    """An activation function from a name, a config, a callable, or None (gives `linear`).

    Raises:
      ValueError: for an unknown name (the message lists the valid ones), or for an
        identifier that is neither a string, a config dict nor callable.

    >>> get("softmax") is softmax, get(None) is linear
    (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return _keras_version_of(identifier)
    raise uninterpretable_error("activation function", identifier,
                                "Expected a name such as 'relu', a callable, or None")
