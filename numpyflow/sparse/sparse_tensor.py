"""`tf.sparse.SparseTensor` (= `tf.SparseTensor`): a tensor given by the positions and values
of its non-default elements.

    >>> import numpyflow as tf
    >>> sp = tf.sparse.SparseTensor(indices=[[0, 0], [1, 2]], values=[1, 2], dense_shape=[3, 4])
    >>> sp.shape
    TensorShape([3, 4])
"""

import numpy as np

from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor, convert_to_tensor

__all__ = ["SparseTensor", "SparseTensorSpec", "batch_sparse"]


def _int64(value, what):
    if isinstance(value, Tensor):
        array = np.asarray(value.numpy())
    else:
        array = np.asarray(value)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"SparseTensor: {what} must be integers (int64). Received dtype "
                        f"{array.dtype}.")
    return convert_to_tensor(array.astype(np.int64))


class SparseTensor:
    """A sparse tensor: `values[i]` sits at `indices[i]` in a tensor of shape `dense_shape`.

    Every other element is the default value (0, or b"" for strings) when made dense with
    `tf.sparse.to_dense`. `tf.io.parse_example` gives one for each `tf.io.VarLenFeature`.

    Args:
        indices: int64 array of shape `[N, rank]`, the positions of the values.
        values: A 1-D Tensor (any dtype) of the `N` values.
        dense_shape: int64 array of shape `[rank]`, the shape of the dense tensor.

    Raises:
        ValueError: The shapes of `indices`, `values` and `dense_shape` do not agree.

    Example:
        >>> import numpyflow as tf
        >>> sp = tf.SparseTensor([[0, 1]], [5.0], [2, 2])
        >>> tf.sparse.to_dense(sp).numpy().tolist()
        [[0.0, 5.0], [0.0, 0.0]]
    """

    def __init__(self, indices, values, dense_shape):
        indices = _int64(indices, "indices")
        dense_shape = _int64(dense_shape, "dense_shape")
        values = values if isinstance(values, Tensor) else convert_to_tensor(values)
        if indices.shape.rank == 1 and indices.shape[0] == 0:  # [] -> no entries
            indices = convert_to_tensor(np.zeros((0, dense_shape.shape[0] or 0), np.int64))
        if indices.shape.rank != 2:
            raise ValueError(f"SparseTensor: indices must have rank 2 ([N, rank]). Shape "
                             f"{indices.shape} must have rank 2")
        if values.shape.rank != 1:
            raise ValueError(f"SparseTensor: values must have rank 1 ([N]). Shape "
                             f"{values.shape} must have rank 1")
        if dense_shape.shape.rank != 1:
            raise ValueError(f"SparseTensor: dense_shape must have rank 1. Shape "
                             f"{dense_shape.shape} must have rank 1")
        if indices.shape[0] != values.shape[0]:
            raise ValueError(f"SparseTensor: indices has {indices.shape[0]} rows but values "
                             f"has {values.shape[0]} elements. Dimensions {indices.shape[0]} "
                             f"and {values.shape[0]} are not compatible")
        if indices.shape[1] != dense_shape.shape[0]:
            raise ValueError(f"SparseTensor: indices has {indices.shape[1]} columns but "
                             f"dense_shape has rank {dense_shape.shape[0]}. Dimensions "
                             f"{indices.shape[1]} and {dense_shape.shape[0]} are not "
                             "compatible")
        if np.any(dense_shape.numpy() < 0):
            raise ValueError(f"SparseTensor: dense_shape must be non-negative. Received: "
                             f"{dense_shape.numpy().tolist()}")
        self._indices, self._values, self._dense_shape = indices, values, dense_shape
        # Dims that depend on the data (None), as TF's static shape; set by parse_example.
        self._static_shape = None

    @classmethod
    def from_value(cls, sparse_tensor_value):
        """A SparseTensor from a `SparseTensor` or a `tf.compat.v1.SparseTensorValue`.

        Example:
            >>> import numpyflow as tf
            >>> v = tf.compat.v1.SparseTensorValue([[0]], [1], [2])
            >>> tf.SparseTensor.from_value(v).dense_shape.numpy().tolist()
            [2]
        """
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        value = sparse_tensor_value
        if not all(hasattr(value, f) for f in ("indices", "values", "dense_shape")):
            raise TypeError(f"SparseTensor.from_value: expected a SparseTensor or a "
                            f"SparseTensorValue. Received: {type(value).__name__}")
        return cls(value.indices, value.values, value.dense_shape)

    @property
    def indices(self):
        """The int64 Tensor `[N, rank]` of positions."""
        return self._indices

    @property
    def values(self):
        """The 1-D Tensor of the `N` values."""
        return self._values

    @property
    def dense_shape(self):
        """The int64 Tensor `[rank]`: the dense tensor's shape."""
        return self._dense_shape

    @property
    def dtype(self):
        """The dtype of the values."""
        return self._values.dtype

    @property
    def shape(self):
        """The dense shape as a `TensorShape`."""
        from numpyflow.framework.tensor_shape import TensorShape
        return TensorShape([int(d) for d in self._dense_shape.numpy()])

    def get_shape(self):
        """The dense shape as a `TensorShape` (same as `shape`)."""
        return self.shape

    def with_values(self, new_values):
        """A SparseTensor with the same indices and shape and `new_values`.

        Example:
            >>> import numpyflow as tf
            >>> tf.SparseTensor([[0]], [1.0], [2]).with_values([3.0]).values.numpy().tolist()
            [3.0]
        """
        return SparseTensor(self._indices, new_values, self._dense_shape)

    def __mul__(self, other):
        """`self * other` for a dense Tensor or scalar `other` (broadcast to the dense shape,
        read at this tensor's positions): a SparseTensor with the same indices, as in TF.

        Example:
            >>> import numpyflow as tf
            >>> (tf.SparseTensor([[0, 1]], [3.0], [2, 2]) * 2.0).values.numpy().tolist()
            [6.0]
        """
        from numpyflow.sparse.sparse_math import sparse_dense_cwise
        return sparse_dense_cwise(self, other, "mul")

    def __truediv__(self, other):
        """`self / other` for a dense Tensor or scalar `other`, as `__mul__`; integer values
        divide as floats (TF's true division). Dividing by a zero is an error.

        Example:
            >>> import numpyflow as tf
            >>> (tf.SparseTensor([[0]], [3], [2]) / 2).values.numpy().tolist()
            [1.5]
        """
        from numpyflow.sparse.sparse_math import sparse_dense_cwise
        return sparse_dense_cwise(self, other, "truediv")

    __div__ = __truediv__

    def __repr__(self):
        return (f"SparseTensor(indices={self._indices!s}, values={self._values!s}, "
                f"dense_shape={self._dense_shape!s})")

    __str__ = __repr__

    def __bool__(self):
        raise TypeError("SparseTensor has no truth value; use tf.sparse.to_dense first.")


class SparseTensorSpec:
    """The type of a SparseTensor: its dense shape (dims may be None) and dtype.

    tf.data gives one in `element_spec` for SparseTensor components.

    Example:
        >>> import numpyflow as tf
        >>> tf.SparseTensorSpec([None, 2], tf.int64)
        SparseTensorSpec(TensorShape([None, 2]), tf.int64)
    """

    def __init__(self, shape=None, dtype="float32"):
        from numpyflow.framework.tensor_shape import TensorShape
        self._shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)

    @classmethod
    def from_value(cls, value):
        """The spec of a SparseTensor (data-dependent dims, as after parsing, are None)."""
        static = getattr(value, "_static_shape", None)
        return cls(value.shape if static is None else static, value.dtype)

    @property
    def shape(self):
        """The dense shape (a `TensorShape`)."""
        return self._shape

    @property
    def dtype(self):
        """The dtype of the values."""
        return self._dtype

    @property
    def value_type(self):
        """`SparseTensor`."""
        return SparseTensor

    def is_compatible_with(self, spec_or_value):
        """Whether a SparseTensor or SparseTensorSpec fits this spec."""
        if isinstance(spec_or_value, SparseTensor):
            spec_or_value = SparseTensorSpec.from_value(spec_or_value)
        return (isinstance(spec_or_value, SparseTensorSpec)
                and self._dtype == spec_or_value.dtype
                and self._shape.is_compatible_with(spec_or_value.shape))

    def most_specific_compatible_type(self, other):
        """A spec both fit: dims that differ become None (ranks and dtypes must agree)."""
        if not isinstance(other, SparseTensorSpec) or other.dtype != self._dtype:
            raise TypeError(f"No compatible type for {self!r} and {other!r}.")
        if self._shape.rank is None or other.shape.rank is None or \
                self._shape.rank != other.shape.rank:
            return SparseTensorSpec(None, self._dtype)
        return SparseTensorSpec([a if a == b else None for a, b in zip(
            self._shape.as_list(), other.shape.as_list())], self._dtype)

    def __eq__(self, other):
        # TensorShape equality covers both ranks: the unknown rank equals only itself.
        return (isinstance(other, SparseTensorSpec) and self._dtype == other.dtype
                and self._shape == other.shape)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self._dtype, str(self._shape)))

    def __repr__(self):
        return f"SparseTensorSpec({self._shape!r}, {self._dtype!r})"


def batch_sparse(elements):
    """The SparseTensor of rank r + 1 batching SparseTensors of rank r, as tf.data's `batch`.

    Row `b` holds `elements[b]`; the dense shape is the batch size followed by the largest
    size of each dimension.

    Raises:
        InvalidArgumentError: The elements' ranks differ.

    Example:
        >>> import numpyflow as tf
        >>> b = batch_sparse([tf.SparseTensor([[0]], [1], [1]), tf.SparseTensor([[2]], [3], [3])])
        >>> b.dense_shape.numpy().tolist(), b.indices.numpy().tolist()
        ([2, 3], [[0, 0], [1, 2]])
    """
    from numpyflow.framework.errors import InvalidArgumentError
    from numpyflow.ops.array_ops import concat
    shapes = [np.asarray(e.dense_shape.numpy()) for e in elements]
    if len({s.size for s in shapes}) != 1:
        raise InvalidArgumentError(None, None, f"Cannot batch SparseTensors of different ranks: "
                                   f"dense shapes {[s.tolist() for s in shapes]}.")
    indices = [np.concatenate([np.full((len(e.values.numpy()), 1), b, np.int64),
                               np.asarray(e.indices.numpy(), np.int64)], axis=1)
               for b, e in enumerate(elements)]
    dense_shape = np.concatenate([[len(elements)], np.max(np.stack(shapes), axis=0)])
    return SparseTensor(np.concatenate(indices).reshape(-1, shapes[0].size + 1),
                        concat([e.values for e in elements], axis=0),
                        dense_shape.astype(np.int64))
