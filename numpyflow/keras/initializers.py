"""`keras.initializers`: how a layer's weights get their first values.

An initializer is called as `initializer(shape, dtype)` and returns a Tensor. Unseeded
random initializers draw from `tf.random`, so `tf.random.set_seed` makes a whole model's
initialization reproducible. A seeded initializer is stateless, as in tf.keras >= 2.7:
every call with the same shape returns the same values.

    >>> import numpyflow as tf
    >>> init = tf.keras.initializers.get("glorot_uniform")
    >>> init((784, 128)).shape
    TensorShape([784, 128])
"""

import math

import numpy as np

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.saving import serialization_lib
from numpyflow.keras.utils.serialization import (
    custom_object, deserialize_from_tables, get_from_identifier, serialize_keras_object,
    unknown_object_error)

# stddev of a standard normal truncated to [-2, 2]: VarianceScaling divides by it so that
# the truncated draw still has the variance it asks for.
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


# -- helpers ------------------------------------------------------------------------------

def _shape_tuple(shape, who):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    dims = tuple(shape)
    if any(d is None for d in dims):
        raise ValueError(f"{who}: cannot initialize a weight of partially unknown shape "
                         f"{dims}; every dimension must be known.")
    return tuple(int(d) for d in dims)


def _dtype(dtype):
    return tf.as_dtype(dtype or backend.floatx())


def _float_dtype(dtype, who):
    dtype = _dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"{who}: expected a floating-point dtype (float16/32/64) for random "
                         f"initialization; received dtype={dtype.name}.")
    return dtype


# Integer dtypes a uniform draw may have: those TensorFlow's uniform integer kernel takes
# with minval/maxval, so Keras 3 (on TensorFlow) accepts them in RandomUniform too (it
# refuses uint32/uint64 there: TF draws them only without bounds).
_UNIFORM_INTEGER_DTYPES = ("int32", "int64")


def _uniform_dtype(dtype, who):
    dtype = _dtype(dtype)
    if not (dtype.is_floating or dtype.name in _UNIFORM_INTEGER_DTYPES):
        raise ValueError(f"{who}: expected a floating-point dtype or one of "
                         f"{', '.join(_UNIFORM_INTEGER_DTYPES)}; received dtype={dtype.name}.")
    return dtype


def _draw_uniform_integers(shape, dtype, seed, minval, maxval):
    """Integers uniform in [minval, maxval); Keras 3 truncates float bounds to integers."""
    low, high = int(minval), int(maxval)
    if low >= high:
        raise tf.errors.InvalidArgumentError(
            None, None, f"RandomUniform: need minval < maxval for integer dtype {dtype.name}; "
                        f"received minval={minval!r}, maxval={maxval!r}.")
    if seed is None:
        return tf.random.uniform(shape, low, high, dtype=dtype)
    values = np.random.default_rng(int(seed)).integers(low, high, shape)
    return tf.constant(values.astype(dtype.as_numpy_dtype))


def _draw(distribution, shape, dtype, seed, **params):
    """Random values: 'normal'/'truncated_normal' (mean, stddev) or 'uniform' (minval, maxval).

    Unseeded draws use `tf.random` (the global stream that `tf.random.set_seed` controls).
    Seeded draws come from a fresh generator keyed by the seed, so they repeat every call.
    """
    if seed is None:
        return getattr(tf.random, distribution)(shape, dtype=dtype, **params)
    rng = np.random.default_rng(int(seed))
    if distribution == "uniform":
        values = rng.uniform(params["minval"], params["maxval"], shape)
    else:
        values = rng.standard_normal(shape)
        if distribution == "truncated_normal":
            outside = np.abs(values) > 2
            while outside.any():  # Redraw, as tf.random.truncated_normal does.
                values[outside] = rng.standard_normal(int(outside.sum()))
                outside = np.abs(values) > 2
        values = values * params["stddev"] + params["mean"]
    return tf.constant(values.astype(dtype.as_numpy_dtype))


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as Keras computes them.

    Dense kernels are (in, out); conv kernels (..., in_channels, out_channels), where the
    receptive field (the product of the leading dims) multiplies both fans.

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# -- base class ---------------------------------------------------------------------------

class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`.

    >>> import numpyflow as tf
    >>> class Twos(tf.keras.initializers.Initializer):
    ...     def __call__(self, shape, dtype=None, **kwargs):
    ...         return tf.fill(shape, 2.)
    >>> Twos()((2,)).numpy()
    array([2., 2.], dtype=float32)
    """

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`.")

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Recreates an initializer from `get_config()`'s dict."""
        config = dict(config)
        config.pop("dtype", None)  # Older configs carried a dtype; __call__ takes it now.
        for key in ("input_axes", "output_axes"):  # Keras 3.12+: None means the usual fans.
            if key in config and config[key] is None:
                del config[key]
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# -- constants ----------------------------------------------------------------------------

class Zeros(Initializer):
    """Initializes with 0.

    >>> Zeros()((2,)).numpy()
    array([0., 0.], dtype=float32)
    """

    def __call__(self, shape, dtype=None, **kwargs):
        return tf.zeros(_shape_tuple(shape, "Zeros"), dtype=_dtype(dtype))


class Ones(Initializer):
    """Initializes with 1.

    >>> Ones()((2,)).numpy()
    array([1., 1.], dtype=float32)
    """

    def __call__(self, shape, dtype=None, **kwargs):
        return tf.ones(_shape_tuple(shape, "Ones"), dtype=_dtype(dtype))


class Constant(Initializer):
    """Initializes with `value` (a scalar, or an array broadcastable to the shape).

    >>> Constant(3.)((2,)).numpy()
    array([3., 3.], dtype=float32)
    """

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None, **kwargs):
        shape, dtype = _shape_tuple(shape, "Constant"), _dtype(dtype)
        value = np.asarray(self.value, dtype=dtype.as_numpy_dtype)
        try:
            return tf.constant(np.broadcast_to(value, shape))
        except ValueError:
            raise ValueError(f"Constant: cannot fill a weight of shape {shape} with a value of "
                             f"shape {value.shape}.") from None

    def get_config(self):
        value = self.value
        if isinstance(value, (np.ndarray, np.generic)) or isinstance(value, tf.Tensor):
            value = np.asarray(value).tolist()  # JSON-friendly
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        # The value may be a serialized array: tf.constant_initializer's config holds the
        # array itself, which a .keras file writes as a "__numpy__" object (Keras 3 decodes
        # it here too).
        return cls(serialization_lib.deserialize_keras_object(config.get("value", 0)))


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only).

    >>> Identity()((2, 2)).numpy()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        shape, dtype = _shape_tuple(shape, "Identity"), _float_dtype(dtype, "Identity")
        if len(shape) != 2:
            raise ValueError(f"Identity initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return tf.constant((self.gain * np.eye(*shape)).astype(dtype.as_numpy_dtype))

    def get_config(self):
        return {"gain": self.gain}


# -- plain random distributions -----------------------------------------------------------

class RandomNormal(Initializer):
    """Draws from a normal distribution N(mean, stddev**2).

    >>> RandomNormal(stddev=1., seed=1)((2, 2)).shape
    TensorShape([2, 2])
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("normal", _shape_tuple(shape, "RandomNormal"),
                     _float_dtype(dtype, "RandomNormal"), self.seed,
                     mean=self.mean, stddev=self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Like `RandomNormal`, but values more than 2 stddevs from the mean are redrawn.

    >>> float(abs(TruncatedNormal(stddev=1.)((1000,))).numpy().max()) <= 2.
    True
    """

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("truncated_normal", _shape_tuple(shape, "TruncatedNormal"),
                     _float_dtype(dtype, "TruncatedNormal"), self.seed,
                     mean=self.mean, stddev=self.stddev)


class RandomUniform(Initializer):
    """Draws uniformly from [minval, maxval).

    Integer dtypes (int32, int64) draw integers, with the bounds truncated to integers as
    Keras 3 does.

    >>> RandomUniform(-1., 1., seed=3)((4,)).shape
    TensorShape([4])
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, **kwargs):
        shape = _shape_tuple(shape, "RandomUniform")
        dtype = _uniform_dtype(dtype, "RandomUniform")
        if dtype.is_integer:
            return _draw_uniform_integers(shape, dtype, self.seed, self.minval, self.maxval)
        return _draw("uniform", shape, dtype, self.seed, minval=self.minval, maxval=self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


# -- variance scaling (Glorot, He, LeCun) -------------------------------------------------

_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Random values whose variance is `scale / n`, with n the fan given by `mode`.

    Args:
      scale: Positive scaling factor.
      mode: "fan_in", "fan_out" or "fan_avg" (mean of both).
      distribution: "truncated_normal" (alias "normal"), "untruncated_normal" or "uniform"
        (on [-limit, limit] with limit = sqrt(3 * scale / n)).
      seed: Optional int; a seeded initializer returns the same values on every call.

    >>> VarianceScaling(2., "fan_in", "untruncated_normal")((64, 32)).shape
    TensorShape([64, 32])
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if not scale > 0.0:
            raise ValueError(f"VarianceScaling: `scale` must be positive. Received: "
                             f"scale={scale}")
        mode = str(mode).lower()
        if mode not in _MODES:
            raise ValueError(f"VarianceScaling: invalid `mode` argument: {mode!r}. Expected "
                             f"one of {list(_MODES)}.")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"  # Keras's historical meaning of "normal".
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: invalid `distribution` argument: "
                             f"{distribution!r}. Expected one of "
                             f"{list(_DISTRIBUTIONS) + ['normal']}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None, **kwargs):
        who = type(self).__name__
        shape, dtype = _shape_tuple(shape, who), _float_dtype(dtype, who)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            return _draw("truncated_normal", shape, dtype, self.seed, mean=0.0,
                         stddev=math.sqrt(variance) / _TRUNCATED_NORMAL_STDDEV)
        if self.distribution == "untruncated_normal":
            return _draw("normal", shape, dtype, self.seed, mean=0.0, stddev=math.sqrt(variance))
        limit = math.sqrt(3.0 * variance)
        return _draw("uniform", shape, dtype, self.seed, minval=-limit, maxval=limit)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling preset: only `seed` is configurable."""

    _preset = None  # (scale, mode, distribution)

    def __init__(self, seed=None):
        super().__init__(*self._preset, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform on [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)): Keras's default.

    >>> w = GlorotUniform(seed=0)((100, 50)).numpy()
    >>> bool(abs(w).max() <= (6 / 150) ** 0.5)
    True
    """
    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out)).

    >>> GlorotNormal()((3, 3)).shape
    TensorShape([3, 3])
    """
    _preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in): suits ReLU networks.

    >>> HeNormal()((3, 3)).shape
    TensorShape([3, 3])
    """
    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform on [-limit, limit], limit = sqrt(6 / fan_in).

    >>> HeUniform()((3, 3)).shape
    TensorShape([3, 3])
    """
    _preset = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in): suits SELU networks.

    >>> LecunNormal()((3, 3)).shape
    TensorShape([3, 3])
    """
    _preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform on [-limit, limit], limit = sqrt(3 / fan_in).

    >>> LecunUniform()((3, 3)).shape
    TensorShape([3, 3])
    """
    _preset = (1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    """A random orthogonal matrix (of the shape flattened to 2-D), times `gain`.

    >>> q = Orthogonal(seed=0)((4, 4)).numpy()
    >>> bool(np.allclose(q @ q.T, np.eye(4), atol=1e-5))
    True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None, **kwargs):
        shape, dtype = _shape_tuple(shape, "Orthogonal"), _float_dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer requires a shape of rank >= 2. "
                             f"Received: shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        sample = _draw("normal", (max(rows, cols), min(rows, cols)), tf.float64, self.seed,
                       mean=0.0, stddev=1.0).numpy()
        q, r = np.linalg.qr(sample)
        q = q * np.sign(np.diag(r))  # Makes the distribution uniform over orthogonal matrices.
        if rows < cols:
            q = q.T
        return tf.constant((self.gain * q).reshape(shape).astype(dtype.as_numpy_dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


# -- lookup by name / config --------------------------------------------------------------

_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "identity": Identity,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal,
}
# Short spellings Keras accepts too.
_ALIASES = {"zero": Zeros, "one": Ones, "normal": RandomNormal, "uniform": RandomUniform}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}

# Lower-case aliases, as Keras exports them (`keras.initializers.glorot_uniform()`).
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform


# Modules of TensorFlow's own initializer classes, as numpyflow and TensorFlow write them.
_TF_INITIALIZER_MODULES = ("numpyflow.init_ops", "tensorflow.python.ops.init_ops_v2")


def _class_for(name):
    cls = _BY_NAME.get(name) or _ALIASES.get(name) or _BY_CLASS_NAME.get(name)
    if cls is None:
        raise unknown_object_error("initializer", name, sorted(_BY_NAME),
                                   " (or their class names, e.g. 'GlorotUniform')",
                                   lead="Valid names are:")
    return cls


def serialize(initializer):
    """The Keras 3 config of an initializer (None stays None).

    >>> serialize(Zeros())
    {'module': 'keras.initializers', 'class_name': 'Zeros', 'config': {}, 'registered_name': None}
    """
    if initializer is None:
        return None
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """Recreates an initializer from `serialize()`'s dict (or from a name).

    Reads Keras 3 configs and the older `{"class_name", "config"}` form; custom classes are
    found in `custom_objects`, the active custom object scopes and the registry.

    >>> deserialize({"module": "keras.initializers", "class_name": "HeNormal",
    ...              "config": {"seed": 3}, "registered_name": None})
    HeNormal(seed=3)
    """
    if isinstance(config, str):
        found = custom_object(config, custom_objects) or _class_for(config)
        return found() if isinstance(found, type) else found
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not deserialize initializer: expected a dict with "
                         f"'class_name' and 'config' keys; received {config!r}.")
    if config.get("module") in _TF_INITIALIZER_MODULES:
        # TensorFlow's own initializers (tf.constant_initializer, ...) load as the Keras
        # class of the same name, as Keras 3 loads them.
        config = {**config, "module": None, "registered_name": None}
    return deserialize_from_tables(config, {**_BY_NAME, **_ALIASES, **_BY_CLASS_NAME},
                                   kind="initializer", custom_objects=custom_objects)


def get(identifier):
    """An initializer from a name, a config dict, an instance or a callable.

    Args:
      identifier: None (returns None), a name such as "glorot_uniform" or "GlorotUniform"
        (or a registered custom name), a Keras 3 or older config dict, an `Initializer`, a
        class, or any callable `(shape, dtype) -> Tensor`.

    Raises:
      ValueError: for an unknown name (the message lists the valid ones) or an identifier
        that is none of the above.

    >>> get("he_normal")
    HeNormal(seed=None)
    """
    return get_from_identifier(identifier, deserialize, "initializer", "Expected a name such "
                               "as 'glorot_uniform', a config dict, or a callable")
