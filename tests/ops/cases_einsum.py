"""Op cases for tf.einsum: contractions, transposes, diagonals, ellipses, implicit output."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, rand


def _einsum_case(equation, *shapes, id=None):
    arrays = [rand(*shape) for shape in shapes]
    return case("Einsum", lambda *t: tf.einsum(equation, *t),
                lambda *a: np.einsum(equation, *a), *arrays, id=id or f"einsum {equation}")


def _second_derivative(x, y):
    """d/dx of (d/dx sum(einsum('ij,jk->ik', x, y)) * x): the gradient rule differentiated."""
    with tf.GradientTape() as inner:
        inner.watch(x)
        z = tf.einsum("ij,jk->ik", x, y)
    g = inner.gradient(z, x)
    return tf.einsum("ij,ij->ij", g, x * x)


CASES = [
    _einsum_case("ij,jk->ik", (2, 3), (3, 4)),
    _einsum_case("ij,jk", (2, 3), (3, 4), id="einsum implicit matmul"),
    _einsum_case("ij->ji", (2, 3)),
    _einsum_case("ij->", (2, 3)),
    _einsum_case("ij->j", (2, 3)),
    _einsum_case("i,i->", (4,), (4,)),
    _einsum_case("i,j->ij", (3,), (2,)),
    _einsum_case("ii->i", (3, 3)),
    _einsum_case("ii", (3, 3), id="einsum trace"),
    _einsum_case("iij->ji", (2, 2, 3)),
    _einsum_case("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    _einsum_case("...ij,...jk->...ik", (2, 2, 3), (3, 2), id="einsum ellipsis broadcast"),
    _einsum_case("...ij,...jk->...ik", (1, 2, 3), (2, 3, 2), id="einsum ellipsis size 1"),
    _einsum_case("abc,cde->abde", (2, 2, 3), (3, 2, 2)),     # EinsumDense's projection.
    _einsum_case("aecd,abcd->acbe", (2, 3, 2, 2), (2, 2, 2, 2)),  # Attention scores.
    _einsum_case("ij,jk,kl->il", (2, 3), (3, 2), (2, 2)),
    _einsum_case("ijk->k", (2, 2, 3)),                      # Summed letters: broadcast back.
    _einsum_case("ij,k->i", (2, 3), (2,)),
    case("Einsum", lambda x: tf.einsum("ij,jk->ik", x, x),
         lambda a: a @ a, np.arange(4).reshape(2, 2).astype(np.int32), id="einsum int32"),
    case("Einsum", _second_derivative,
         lambda x, y: np.broadcast_to(y.sum(1), x.shape) * x * x, rand(2, 3), rand(3, 2),
         id="einsum second derivative"),
]
