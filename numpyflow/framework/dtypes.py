"""TensorFlow-named dtypes (`tf.float32`, ...) mapped onto NumPy dtypes."""

import numpy as np


class DType:
    """A tensor element type, e.g. `numpyflow.float32`.

    Compares equal to other spellings of the same type, as TF's DType does:

    >>> import numpyflow as tf
    >>> tf.float32 == "float32" and tf.float32 == np.float32
    True
    """

    __slots__ = ("name", "_np")

    def __init__(self, name, np_dtype):
        self.name = name
        self._np = np.dtype(np_dtype)

    @property
    def as_numpy_dtype(self):
        return object if self._np.kind == "O" else self._np.type  # TF: tf.string -> object

    @property
    def is_floating(self):
        return self._np.kind == "f"

    @property
    def is_integer(self):
        return self._np.kind in "iu"

    @property
    def is_unsigned(self):
        return self._np.kind == "u"

    @property
    def is_bool(self):
        return self._np.kind == "b"

    @property
    def is_string(self):
        """Whether this is `tf.string` (held as a NumPy object array of Python `bytes`)."""
        return self._np.kind == "O"

    @property
    def is_numeric(self):
        return self._np.kind in "fiu"

    @property
    def size(self):
        return 0 if self._np.kind == "O" else self._np.itemsize  # TF: tf.string.size == 0

    @property
    def min(self):
        self._check_has_range("minimum")
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        self._check_has_range("maximum")
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def _check_has_range(self, what):
        if self._np.kind in "Ob":
            raise TypeError(f"Cannot find {what} value of {self!r} with type {self!r}.")

    @property
    def base_dtype(self):
        return self

    def __eq__(self, other):
        if other is self:
            return True
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"tf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
uint32 = DType("uint32", np.uint32)
uint64 = DType("uint64", np.uint64)
bool = DType("bool", np.bool_)  # noqa: A001 - TF's public name
# `tf.string`: variable-length byte strings. A string Tensor holds a NumPy object array
# whose elements are Python `bytes` (str input is UTF-8 encoded), exactly as TF's
# `.numpy()` gives them.
string = DType("string", object)
half = float16
double = float64

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool,
        string)
_BY_NP = {d._np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, double=float64, float=float32, int=int32)


def as_dtype(type_value):
    """Converts a DType, NumPy dtype, Python type or name to a numpyflow `DType`.

    >>> as_dtype("float32")
    tf.float32
    """
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        found = _BY_NAME.get(type_value)
        if found is not None:
            return found
        raise TypeError(f"Cannot convert {type_value!r} to a numpyflow DType. "
                        f"Expected one of: {sorted(_BY_NAME)}.")
    if type_value is None:  # np.dtype(None) is float64; TF refuses None.
        raise TypeError("Cannot convert None to a numpyflow DType.")
    if type_value is float:
        return float32
    if type_value is int:
        return int32
    try:
        np_dtype = np.dtype(type_value)
    except TypeError:
        raise TypeError(f"Cannot convert {type_value!r} to a numpyflow DType.") from None
    found = _BY_NP.get(np_dtype)
    if found is None and np_dtype.kind in "SU":  # np.bytes_/np.str_ arrays: tf.string, as TF.
        return string
    if found is None:
        raise TypeError(f"Unsupported dtype {np_dtype}. Expected one of: "
                        f"{[d.name for d in _ALL]}.")
    return found


def from_numpy(np_dtype):
    """Fast path: the DType for a NumPy dtype object (no validation of other spellings)."""
    found = _BY_NP.get(np_dtype)
    if found is None:
        return as_dtype(np_dtype)
    return found
