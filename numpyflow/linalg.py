"""`tf.linalg`: matrix products, decompositions, solves, norms and diagonal helpers.

    >>> import numpyflow as tf
    >>> float(tf.linalg.det([[1., 2.], [3., 4.]]))
    -2.0
"""

from numpyflow.ops.clip_ops import global_norm, norm  # noqa: F401
from numpyflow.ops.creation_ops import eye  # noqa: F401
from numpyflow.ops.einsum_ops import einsum  # noqa: F401
from numpyflow.ops.linalg_ops import (  # noqa: F401
    adjoint, band_part, cholesky, cholesky_solve, cross, det, diag, diag_part, eigh, eigvalsh,
    inv, logdet, lstsq, matmul, matrix_transpose, matvec, normalize, pinv, qr, set_diag, slogdet,
    solve, svd, trace, triangular_solve)
from numpyflow.ops.manipulation_ops import tensordot  # noqa: F401

from numpyflow.framework.dispatch import dispatch_namespace as _dispatch_namespace  # noqa: E402

_dispatch_namespace(globals(), "linalg.")


def __getattr__(name):
    # tf.linalg.l2_normalize is tf.math.l2_normalize, which the math ops define.
    if name == "l2_normalize":
        from numpyflow import math
        if hasattr(math, "l2_normalize"):
            return math.l2_normalize
    raise AttributeError(f"module 'numpyflow.linalg' has no attribute {name!r}")
