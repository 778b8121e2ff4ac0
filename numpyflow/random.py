"""`tf.random`: random tensors and seeding."""

from numpyflow.ops.random_ops import (  # noqa: F401
    normal, set_seed, shuffle, truncated_normal, uniform)
from numpyflow.ops.stateless_random_ops import (  # noqa: F401
    stateless_categorical, stateless_normal, stateless_truncated_normal, stateless_uniform)
