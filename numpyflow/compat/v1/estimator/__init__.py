"""`tf.compat.v1.estimator`: the Estimator API, plus `inputs.numpy_input_fn`.

    >>> import numpyflow as tf
    >>> callable(tf.compat.v1.estimator.inputs.numpy_input_fn)
    True
"""

from numpyflow.compat.v1.estimator import inputs  # noqa: F401


def __getattr__(name):
    import numpyflow.estimator as estimator
    return getattr(estimator, name)
