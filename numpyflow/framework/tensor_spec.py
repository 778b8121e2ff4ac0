"""`TensorSpec`: the shape and dtype a tensor is expected to have, as `tf.TensorSpec`.

    >>> import numpyflow as tf
    >>> spec = tf.TensorSpec([None, 2], tf.float32)
    >>> spec.is_compatible_with(tf.constant([[1., 2.]]))
    True
"""

from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_shape import TensorShape


class TensorSpec:
    """Describes a tensor: a `TensorShape` (dims may be None) and a `DType`.

    Args:
        shape: The shape; a list, tuple or TensorShape (None for an unknown dim), or
            None for an unknown rank (`shape` is then None and prints as `<unknown>`).
        dtype: The dtype (default `tf.float32`).
        name: Optional name.

    Example:
        >>> TensorSpec([None, 3], "int32")
        TensorSpec(shape=(None, 3), dtype=tf.int32, name=None)
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        shape = None if shape is None else TensorShape(shape)
        # An unknown rank is kept as None (what `.shape` returns), whether it came as None or
        # as TensorShape(None): the data pipeline's code tests `spec.shape is None`.
        self._shape = None if shape is None or shape.rank is None else shape
        if dtype is None:
            raise TypeError("TensorSpec: `dtype` is None. Expected a DType such as tf.float32 "
                            "or tf.string.")
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        """The spec of `tensor` (its exact shape and dtype)."""
        return cls(tensor.shape, tensor.dtype, name)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    def is_compatible_with(self, spec_or_tensor):
        """Whether a tensor or spec has this dtype and a compatible shape."""
        other = spec_or_tensor
        if not isinstance(other, (TensorSpec, Tensor)):
            return False
        if other.dtype != self._dtype:
            return False
        if self._shape is None or (isinstance(other, TensorSpec) and other.shape is None):
            return True
        return self._shape.is_compatible_with(other.shape)

    def most_specific_compatible_type(self, other):
        """The spec that both `self` and `other` satisfy (differing dims become None)."""
        if other.dtype != self._dtype:
            raise ValueError(f"No TensorSpec is compatible with both {self} and {other}.")
        if self._shape is None or other.shape is None or len(other.shape) != len(self._shape):
            return TensorSpec(None, self._dtype)
        dims = [a if a == b else None for a, b in zip(self._shape, other.shape)]
        return TensorSpec(dims, self._dtype)

    def __eq__(self, other):
        return (type(other) is type(self) and _dims(self._shape) == _dims(other._shape)
                and self._dtype == other._dtype and self._name == other._name)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((_dims(self._shape), self._dtype.name, self._name))

    def __repr__(self):
        name = "None" if self._name is None else repr(self._name)
        shape = "<unknown>" if self._shape is None else self._shape
        return f"TensorSpec(shape={shape}, dtype={self._dtype!r}, name={name})"

    def __reduce__(self):
        return TensorSpec, (_dims(self._shape), self._dtype.name, self._name)


def _dims(shape):
    return None if shape is None else tuple(shape)
