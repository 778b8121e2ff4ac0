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
            None for an unknown rank (`shape` is then `TensorShape(None)`, which prints
            as `<unknown>`).
        dtype: The dtype (default `tf.float32`).
        name: Optional name.

    Example:
        >>> TensorSpec([None, 3], "int32")
        TensorSpec(shape=(None, 3), dtype=tf.int32, name=None)
        >>> TensorSpec(None).shape.rank is None
        True
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        # Always a TensorShape, as in TF: an unknown rank is TensorShape(None), so readers
        # ask `spec.shape.rank is None` and `spec.shape` answers `rank`, `as_list()` and
        # `is_compatible_with` whatever the rank.
        self._shape = TensorShape(shape)
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
        return other.dtype == self._dtype and self._shape.is_compatible_with(other.shape)

    def most_specific_compatible_type(self, other):
        """The spec that both `self` and `other` satisfy (differing dims become None, and
        differing ranks an unknown rank).

        Raises:
            ValueError: The dtypes differ.
        """
        if other.dtype != self._dtype:
            raise ValueError(f"No TensorSpec is compatible with both {self} and {other}.")
        return TensorSpec(self._shape.most_specific_compatible_shape(other.shape), self._dtype)

    def most_specific_common_supertype(self, others):
        """The most specific spec that `self` and every spec in `others` satisfy, or None
        if there is none (a dtype or a name differs), as TF's.

        >>> TensorSpec([2, 3]).most_specific_common_supertype([TensorSpec([2, 4])])
        TensorSpec(shape=(2, None), dtype=tf.float32, name=None)
        """
        shape = self._shape
        for other in others:
            if (type(other) is not type(self) or other.dtype != self._dtype
                    or other.name != self._name):
                return None
            shape = shape.most_specific_compatible_shape(other.shape)
        return TensorSpec(shape, self._dtype, self._name)

    def __eq__(self, other):
        return (type(other) is type(self) and self._shape == other._shape
                and self._dtype == other._dtype and self._name == other._name)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self._shape, self._dtype.name, self._name))

    def __repr__(self):
        name = "None" if self._name is None else repr(self._name)
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={name})"

    def __reduce__(self):
        dims = None if self._shape.rank is None else tuple(self._shape)
        return TensorSpec, (dims, self._dtype.name, self._name)
