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
           "metrics", "summary", "train"]
