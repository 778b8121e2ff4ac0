"""TF2's initializer names at the top level (`tf.constant_initializer`, ...).

`tf.constant_initializer` and `tf.random_uniform_initializer` are TensorFlow's own classes,
whose rules differ from Keras 3's `Constant` and `RandomUniform`: the constant keeps its
value's dtype when none is asked for and reshapes a value with as many elements as the
requested shape; the uniform one takes integer dtypes only with integer bounds. The others
are the Keras initializers with TF's defaults. Keras is imported on first use so that
`import numpyflow` does not load it.

    >>> import numpyflow as tf
    >>> tf.constant_initializer(2.)([2]).numpy()
    array([2., 2.], dtype=float32)
    >>> tf.constant_initializer([1, 2, 3, 4])([2, 2]).numpy()
    array([[1, 2],
           [3, 4]], dtype=int32)
"""

import numpy as np


def _keras_initializers():
    from numpyflow.keras import initializers
    return initializers


class Initializer:
    """Base class of TensorFlow's initializers: `__call__(shape, dtype=None)`, configs."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`.")

    def get_config(self):
        """The constructor arguments, as a dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Recreates the initializer from `get_config()`'s dict."""
        return cls(**config)


class Constant(Initializer):
    """Fills tensors with `value` (`tf.constant_initializer`).

    Without a dtype at call time the result has the value's own dtype (an int gives int32, a
    float float32, an array its dtype), as `tf.constant(value)` would. A scalar or
    one-element value fills any shape; any other value needs exactly as many elements as
    the shape, and is reshaped to it (no broadcasting, unlike Keras's `Constant`).

    Args:
      value: A Python scalar, list or tuple of values, or NumPy array.

    Raises:
      TypeError: for any other value, and at call time for a value whose element count
        does not fit the shape or that the dtype cannot hold.

    >>> import numpyflow as tf
    >>> tf.constant_initializer(3)([2]).numpy()
    array([3, 3], dtype=int32)
    """

    def __init__(self, value=0, support_partition=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"constant_initializer: invalid type for initial value: "
                            f"{type(value).__name__}. Expected Python scalar, list or tuple "
                            f"of values, or numpy.ndarray.")
        self.value = value
        self.support_partition = support_partition

    def __call__(self, shape, dtype=None, **kwargs):
        import numpyflow as tf
        try:
            return tf.constant(self.value, dtype=dtype, shape=shape)
        except TypeError as error:  # Say which API the user called, not the inner op.
            raise TypeError(f"constant_initializer: {error}") from None

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    """Values uniform in [minval, maxval) (`tf.random_uniform_initializer`).

    Floating dtypes and int32/int64 are accepted (float32 by default); an integer dtype
    needs integer `minval` and `maxval` (TF refuses 0.5, and even 0.0, there). A seeded
    initializer returns the same values on every call.

    >>> import numpyflow as tf
    >>> tf.random_uniform_initializer(0, 10, seed=1)([3], tf.int32).dtype
    tf.int32
    """

    _INTEGER_DTYPES = ("int32", "int64")  # What TF's random_uniform kernel takes.

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, **kwargs):
        import numpyflow as tf
        dtype = tf.as_dtype(dtype or tf.float32)
        if not (dtype.is_floating or dtype.is_integer):
            raise ValueError(f"random_uniform_initializer: `dtype` expected to be numeric. "
                             f"Received {dtype.name}.")
        if dtype.is_integer:
            if dtype.name not in self._INTEGER_DTYPES:
                raise ValueError(f"random_uniform_initializer: `dtype` got invalid value "
                                 f"{dtype.name}. Accepted dtypes are floating-point ones, "
                                 f"{', '.join(self._INTEGER_DTYPES)}.")
            for name, bound in (("minval", self.minval), ("maxval", self.maxval)):
                if np.asarray(bound).dtype.kind not in "iu":
                    raise TypeError(f"random_uniform_initializer: cannot convert "
                                    f"{name}={bound!r} to dtype {dtype.name}: it is not an "
                                    f"integer.")
        return _keras_initializers().RandomUniform(
            minval=self.minval, maxval=self.maxval, seed=self.seed)(shape, dtype=dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


# TF exports these classes under lower-case names.
constant_initializer = Constant
random_uniform_initializer = RandomUniform


def zeros_initializer():
    """An initializer filling tensors with 0 (`tf.zeros_initializer`)."""
    return _keras_initializers().Zeros()


def ones_initializer():
    """An initializer filling tensors with 1 (`tf.ones_initializer`)."""
    return _keras_initializers().Ones()


def random_normal_initializer(mean=0.0, stddev=0.05, seed=None):
    """Normal(mean, stddev) values (`tf.random_normal_initializer`, TF's defaults)."""
    return _keras_initializers().RandomNormal(mean=mean, stddev=stddev, seed=seed)
