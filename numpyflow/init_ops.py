"""TF2's initializer names at the top level (`tf.constant_initializer`, ...): the Keras
initializers with TF's defaults, imported on first use so that `import numpyflow` does
not load Keras.

    >>> import numpyflow as tf
    >>> tf.constant_initializer(2.)([2]).numpy()
    array([2., 2.], dtype=float32)
"""


def _keras_initializers():
    from numpyflow.keras import initializers
    return initializers


def constant_initializer(value=0):
    """An initializer filling tensors with `value` (`tf.constant_initializer`)."""
    return _keras_initializers().Constant(value)


def zeros_initializer():
    """An initializer filling tensors with 0 (`tf.zeros_initializer`)."""
    return _keras_initializers().Zeros()


def ones_initializer():
    """An initializer filling tensors with 1 (`tf.ones_initializer`)."""
    return _keras_initializers().Ones()


def random_normal_initializer(mean=0.0, stddev=0.05, seed=None):
    """Normal(mean, stddev) values (`tf.random_normal_initializer`, TF's defaults)."""
    return _keras_initializers().RandomNormal(mean=mean, stddev=stddev, seed=seed)


def random_uniform_initializer(minval=-0.05, maxval=0.05, seed=None):
    """Uniform values in [minval, maxval) (`tf.random_uniform_initializer`, TF's defaults)."""
    return _keras_initializers().RandomUniform(minval=minval, maxval=maxval, seed=seed)
