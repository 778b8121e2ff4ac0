"""`tf.compat.v1`: global step, v1 optimizers, metrics, losses and logging for Estimator
`model_fn`s (see the submodules).

    >>> import numpyflow as tf
    >>> tf.compat.v1.logging.INFO
    20
"""

from numpyflow.compat.v1 import (  # noqa: F401
    estimator, feature_column, layers, logging, losses, metrics, summary, train)
from numpyflow.io.parsing import SparseTensorValue  # noqa: F401

__all__ = ["SparseTensorValue", "estimator", "feature_column", "layers", "logging", "losses",
           "metrics", "placeholder", "summary", "train"]


def placeholder(dtype, shape=None, name=None):
    """`tf.compat.v1.placeholder`: an input of the SavedModel that
    `Estimator.export_saved_model` writes, inside its `serving_input_receiver_fn` (see
    `numpyflow.estimator.export.placeholder`); elsewhere it raises, as in TF 2's eager mode.
    """
    from numpyflow.estimator.export import placeholder as receiver_placeholder
    return receiver_placeholder(dtype, shape, name)
