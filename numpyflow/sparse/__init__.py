"""`tf.sparse`: `SparseTensor` and the functions on it.

    >>> import numpyflow as tf
    >>> sp = tf.sparse.SparseTensor([[0, 1]], [7], [1, 3])
    >>> tf.sparse.to_dense(sp).numpy().tolist()
    [[0, 7, 0]]
"""

from numpyflow.sparse.sparse_ops import (  # noqa: F401
    concat, from_dense, reduce_sum, reorder, reshape, sparse_dense_matmul, to_dense,
    to_indicator)
from numpyflow.sparse.sparse_math import (  # noqa: F401
    add, fill_empty_rows, maximum, minimum, retain, slice, transpose)
from numpyflow.sparse.sparse_tensor import SparseTensor, SparseTensorSpec  # noqa: F401

__all__ = ["SparseTensor", "SparseTensorSpec", "add", "concat", "fill_empty_rows", "from_dense",
           "maximum", "minimum", "reduce_sum", "reorder", "reshape", "retain", "slice",
           "sparse_dense_matmul", "to_dense", "to_indicator", "transpose"]
