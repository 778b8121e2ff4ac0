"""`tf.random`: random tensors and seeding; `tf.random.experimental` for seed utilities."""

import types as _types

from numpyflow.ops.random_ops import (  # noqa: F401
    normal, set_seed, shuffle, truncated_normal, uniform)
from numpyflow.ops.stateless_random_ops import (  # noqa: F401
    Algorithm, stateless_categorical, stateless_fold_in, stateless_normal, stateless_split,
    stateless_truncated_normal, stateless_uniform)
from numpyflow.ops.stateless_random_samplers import (  # noqa: F401
    stateless_binomial, stateless_gamma, stateless_parameterized_truncated_normal,
    stateless_poisson)

# `tf.random.experimental`: a namespace of names defined above, as in TF.
experimental = _types.ModuleType("numpyflow.random.experimental",
                                 "`tf.random.experimental`: stateless seed utilities.")
experimental.Algorithm = Algorithm
experimental.stateless_split = stateless_split
experimental.stateless_fold_in = stateless_fold_in
