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

# -- stateful generators and samplers (session 7, helper "runtime") --
from numpyflow.ops.stateful_random_ops import (  # noqa: E402,F401
    Generator, categorical, create_rng_state, gamma, get_global_generator, poisson,
    set_global_generator)

# TF 2's names for the seed utilities.
fold_in = stateless_fold_in
split = stateless_split
experimental.Generator = Generator
experimental.create_rng_state = create_rng_state
experimental.get_global_generator = get_global_generator
experimental.set_global_generator = set_global_generator
