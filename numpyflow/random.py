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

# TF 2's names for the seed utilities.
fold_in = stateless_fold_in
split = stateless_split

# Stateful generators and samplers load on first use (`import numpyflow` stays small).
from numpyflow.framework.lazy import lazy_attributes as _lazy_attributes  # noqa: E402
from numpyflow.framework.lazy import names_from as _names_from  # noqa: E402

_STATEFUL = "numpyflow.ops.stateful_random_ops"
__getattr__ = _lazy_attributes(globals(), _names_from(
    _STATEFUL, "Generator categorical create_rng_state gamma get_global_generator poisson "
    "set_global_generator"))
experimental.__getattr__ = _lazy_attributes(vars(experimental), _names_from(
    _STATEFUL, "Generator create_rng_state get_global_generator set_global_generator"))
