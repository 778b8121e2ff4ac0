"""`keras.utils.set_random_seed`: one seed for Python, NumPy and numpyflow."""

import random

import numpy as np


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and numpyflow (`tf.random.set_seed`).

    After it, weight initializers, dropout, `fit(shuffle=True)` and `tf.data` shuffling
    repeat from run to run, as with Keras's `keras.utils.set_random_seed`.

    Args:
      seed: An int.

    Raises:
      ValueError: if `seed` is not an int (Keras's error).

    >>> import numpyflow as tf
    >>> tf.keras.utils.set_random_seed(7); a = tf.random.uniform([2]).numpy()
    >>> tf.keras.utils.set_random_seed(7); b = tf.random.uniform([2]).numpy()
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
                         f"(of type {type(seed)})")
    import numpyflow as tf

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
