"""`tf.compat`: the small part of `tf.compat.v1` that Estimator programs use.

`tf.compat.v1.train` (global step, the v1 optimizers with `minimize(loss, global_step)`),
`tf.compat.v1.estimator.inputs.numpy_input_fn`, `tf.compat.v1.metrics` and
`tf.compat.v1.losses` (the common ones), `tf.compat.v1.logging`. Loaded on first use.

    >>> import numpyflow as tf
    >>> tf.compat.v1.estimator.ModeKeys.TRAIN
    'train'
"""

from numpyflow.compat import v1  # noqa: F401

__all__ = ["v1"]
