"""`Tensor`: an immutable n-dimensional value, and the conversions into it.

A Tensor wraps one NumPy array (later: any array of the backend's array API). Ops
never change a Tensor's array in place, so a Tensor can be shared freely — by the
user, by the tape that recorded it, by a gradient rule. Python operators
(`+`, `@`, `[]`, ...) are attached by `numpyflow.ops` so that this module depends
on nothing above it.
"""

import numpy as np

from numpyflow.framework import dtypes, trace_state
from numpyflow.framework.tensor_shape import TensorShape

_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


class Tensor:
    """An immutable multidimensional array with a dtype and a shape.

    Create tensors with `tf.constant` or `tf.convert_to_tensor`, or as the result of ops.

    >>> import numpyflow as tf
    >>> t = tf.constant([[1., 2.], [3., 4.]])
    >>> t.shape, t.dtype
    (TensorShape([2, 2]), tf.float32)
    >>> (t @ t).numpy()
    array([[ 7., 10.],
           [15., 22.]], dtype=float32)
    """

    # `_keras_logits`: set only on the output of a Keras softmax/sigmoid activation, to
    # `(activation_name, logits)`, so a loss given the probabilities can compute from the
    # logits (keras.activations.logits_from_softmax). Never set in __init__: readers use
    # getattr with a default, so creating a Tensor costs nothing more.
    # `_keras_mask`: set by Keras layers that produce or propagate a mask (Embedding with
    # mask_zero, Masking, ...) to a boolean Tensor of the output's leading dims, as Keras
    # keeps masks on tensors; read with getattr(t, "_keras_mask", None).
    __slots__ = ("_value", "_keras_logits", "_keras_mask", "__weakref__")
    # Makes `ndarray + Tensor` call `Tensor.__radd__`, so the result stays a Tensor.
    __array_priority__ = 100
    # Only trainable Variables are watched automatically; see Variable.
    _auto_watch = False

    def __init__(self, value):
        self._value = value

    # -- value access -------------------------------------------------------------------
    def numpy(self):
        """The value as a NumPy array (shares memory with the tensor; do not modify it).

        A scalar tensor gives a NumPy scalar (e.g. `np.float32`), as in TF.
        """
        if trace_state.current is not None:
            trace_state.current.record_value_read(self, ".numpy()")
        value = self._value
        return value[()] if value.ndim == 0 else value

    def __array__(self, dtype=None, copy=None):
        if trace_state.current is not None:
            trace_state.current.record_value_read(self, "np.asarray()")
        value = self._value
        if dtype is not None and value.dtype != dtype:
            if copy is False:
                raise ValueError(f"Unable to avoid a copy: a {self.dtype.name} Tensor as "
                                 f"{np.dtype(dtype)}.")
            return value.astype(dtype)
        # NumPy's protocol: copy=True (np.array's default) asks for a new array, so that
        # writing to it cannot change this immutable Tensor; None or False may share it.
        return value.copy() if copy else value

    def __format__(self, format_spec):
        # f"{loss:.4f}" works on scalar tensors, as on TF's eager tensors.
        value = self._value
        return format(value.item() if value.ndim == 0 else value, format_spec)

    @property
    def shape(self):
        return TensorShape._of(self._value.shape)

    def get_shape(self):
        return self.shape

    @property
    def dtype(self):
        return dtypes.from_numpy(self._value.dtype)

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def device(self):
        return _DEVICE

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        for i in range(self._value.shape[0]):
            yield self[i]  # Indexing is an op, so iteration keeps gradients.

    # Python reading a value: a trace must not freeze what the code decides from it.
    def __bool__(self):
        if trace_state.current is not None:
            trace_state.current.record_value_read(self, "bool()")
        if self._value.size == 0:
            return False  # As TF (NumPy now refuses the truth value of an empty array).
        return bool(self._value)

    def __float__(self):
        if trace_state.current is not None:
            trace_state.current.record_value_read(self, "float()")
        return float(self._value)

    def __int__(self):
        if trace_state.current is not None:
            trace_state.current.record_value_read(self, "int()")
        return int(self._value)

    def __index__(self):
        if self._value.dtype.kind not in "iu" or self._value.ndim != 0:
            raise TypeError(f"Only scalar integer tensors can be used as an index; "
                            f"received shape={self.shape}, dtype={self.dtype.name}.")
        return self.__int__()

    # Tensors compare element-wise, so (as in TF 2) they are not hashable; use `ref()`.
    __hash__ = None

    def ref(self):
        """A hashable reference to this tensor, for use as a dict key or in a set."""
        return Reference(self)

    # -- printing -----------------------------------------------------------------------
    def __repr__(self):
        return (f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, "
                f"numpy={_numpy_text(self._value, repr)}>")

    def __str__(self):
        return f"tf.Tensor({_numpy_text(self._value, str)}, shape={self.shape}, dtype={self.dtype.name})"


def _numpy_text(value, style):
    if value.ndim == 0:
        # The NumPy scalar's text, as TF shows it: a float32 0.1 reads "0.1", not the
        # float64 digits of `value.item()`.
        return str(value[()])
    text = style(value)
    return "\n" + text if "\n" in text else text  # TF's rule: a new line only for many lines.


class Reference:
    """A hashable handle to a Tensor or Variable, compared by identity."""

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, Reference) and other._obj is self._obj


def is_tensor(x):
    """True for numpyflow Tensors and Variables."""
    return isinstance(x, Tensor)


# -- conversion -------------------------------------------------------------------------

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _infer_array(value):
    """Converts a Python/NumPy value with TF's dtype inference.

    NumPy arrays and NumPy scalars keep their dtype. Python floats become float32 and
    Python ints int32 (int64 when they do not fit), as TF infers them.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind in "OSU":  # NumPy strings (or an object array of them): tf.string.
            return _bytes_array(array, value)
        return array
    array = _sequence_array(value)
    kind = array.dtype.kind
    if kind in "SU" or (kind == "O" and _holds_strings(value)):
        return _bytes_array(array, value)
    if array.dtype == object and _floats_with_huge_ints(array):
        array = array.astype(np.float64)  # As TF: [1.5, 2**64] is a float tensor.
    kind = array.dtype.kind
    if kind == "f" and array.dtype == np.float64:
        if array.ndim == 0 and -_FLOAT32_MAX <= value <= _FLOAT32_MAX:
            return array.astype(np.float32)  # A Python float that fits: skip errstate's ~1 us.
        if array.ndim and _float64_leaf(value):
            return array  # As TF: float64 NumPy values or Tensors in a list stay float64.
        with np.errstate(over="ignore"):  # As TF: 1e300 becomes float32 inf, silently.
            return array.astype(np.float32)
    if kind == "i" and array.dtype == np.int64:
        if array.size == 0 or (array.min() >= -2**31 and array.max() < 2**31):
            return array.astype(np.int32)
        return array
    if kind in "fiub" and array.dtype != np.uint64:  # NumPy's uint64: Python ints >= 2**63.
        return array
    raise _unsupported(value, array)


def _float64_leaf(value):
    """Whether a Python value's first leaf is a float64 NumPy value or Tensor."""
    while type(value) is list or type(value) is tuple:
        if not value:
            return False
        value = value[0]
    if type(value) is float:  # The common case: Python floats.
        return False
    if isinstance(value, Tensor):
        value = value._value
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype == np.float64


def _holds_strings(value):
    """Whether a Python value's first leaf is a str or bytes (a candidate tf.string)."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return isinstance(value, (str, bytes, np.str_, np.bytes_))


def _bytes_array(array, value):
    """An object array of Python `bytes` from strings: str is UTF-8 encoded, as TF does.

    `value` (the caller's value) is read again for bytes, since NumPy's fixed-width bytes
    drop trailing NUL bytes. Any leaf that is not a str or bytes is an error, as in TF.
    """
    if isinstance(value, np.ndarray):
        # NumPy's fixed-width bytes ("S") have already lost their trailing NULs.
        source = value if value.dtype.kind == "O" else value.astype(object)
    else:
        source = np.empty(array.shape, dtype=object)
        _fill_leaves(source, value, array.ndim)
    out = np.empty(source.shape, dtype=object)
    flat = out.reshape(-1)
    for i, item in enumerate(source.flat):
        if isinstance(item, bytes):
            flat[i] = bytes(item)
        elif isinstance(item, str):
            flat[i] = item.encode("utf-8")
        else:
            raise ValueError("Can't convert Python sequence with mixed types to Tensor."
                             if not isinstance(value, np.ndarray) else
                             f"Attempt to convert a value ({_short(item)}) with an unsupported "
                             f"type ({type(item)}) to a Tensor of dtype string.")
    return out


def _fill_leaves(out, value, ndim):
    """Copies the leaves of a rectangular nested list into the object array `out`."""
    if ndim == 0:
        out[()] = value
    elif ndim == 1:
        for index, item in enumerate(value):
            out[index] = item
    else:
        for index, item in enumerate(value):
            _fill_leaves(out[index], item, ndim - 1)


def _sequence_array(value):
    """`np.asarray(value)` for a Python value, with TF's error for ragged nested lists."""
    try:
        return np.asarray(value)
    except ValueError as error:
        if "inhomogeneous" in str(error):
            raise ValueError("Can't convert non-rectangular Python sequence to Tensor.") from None
        raise


def _floats_with_huge_ints(array):
    """Whether an object array holds Python floats and ints only, some of them floats."""
    types = {type(item) for item in array.flat}
    return float in types and types <= {float, int}


def _unsupported(value, array):
    """TF's error for a value whose elements are not numbers or booleans."""
    out_of_range = ValueError("Can't convert Python sequence with out-of-range integer to "
                              "Tensor.")
    if array.dtype == np.uint64:
        return out_of_range
    if array.dtype == object:
        for item in array.flat:
            if type(item) is int and not -2**63 <= item < 2**63:
                return out_of_range
            if not isinstance(item, (bool, int, float, np.generic)):
                return ValueError(f"Attempt to convert a value ({_short(item)}) with an "
                                  f"unsupported type ({type(item)}) to a Tensor.")
    return TypeError(f"Cannot convert {_short(value)} to a Tensor: unsupported element "
                     f"type {array.dtype}. Expected numbers or booleans.")


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _array_with_dtype(value, dtype):
    """Converts a Python/NumPy value to `dtype`, refusing conversions that lose meaning."""
    np_dtype = dtype._np
    if np_dtype.kind == "O":
        return _string_array_with_dtype(value)
    if isinstance(value, np.ndarray) and value.dtype == np_dtype:
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        source = np.asarray(value)
        if source.dtype.kind in "fiub":  # NumPy values are cast (astype), as in TF.
            with np.errstate(over="ignore", invalid="ignore"):
                return source.astype(np_dtype)
    else:
        source = _sequence_array(value)
    if source.dtype.kind not in "fiub":
        raise TypeError(f"Cannot convert {_short(value)} to a Tensor of dtype {dtype.name}.")
    # An empty list infers float64 but holds no values: it converts to any dtype, as in TF.
    if np_dtype.kind in "iub" and source.dtype.kind == "f" and source.size:
        raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype "
                        f"{dtype.name}: it holds floating-point values.")
    if np_dtype.kind == "b" and source.dtype.kind != "b" and source.size:
        raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype bool.")
    if np_dtype.kind == "f" and source.dtype.kind == "f" and np_dtype.itemsize < source.itemsize:
        with np.errstate(over="ignore"):  # As TF: values too large become inf, silently.
            return source.astype(np_dtype, copy=False)
    # Integers wrap around when they do not fit (2**40 as int32 is 0), as TF 2.21 does.
    return source.astype(np_dtype, copy=False)


def _string_array_with_dtype(value):
    """`value` as a tf.string array: str/bytes leaves only (numbers are refused, as TF)."""
    array = np.asarray(value) if isinstance(value, (np.ndarray, np.generic)) \
        else _sequence_array(value)
    if array.dtype.kind not in "OSU" and array.size:
        raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype string")
    try:
        return _bytes_array(array, value)
    except ValueError:
        raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype string") \
            from None


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Converts `value` (Tensor, NumPy array, Python number or nested list) to a Tensor.

    Tensors (and Variables) are returned as they are, so gradients keep flowing through
    them. NumPy arrays keep their dtype unless `dtype` is given; Python floats become
    float32 and ints int32.

    >>> convert_to_tensor([1, 2]).dtype
    tf.int32
    >>> convert_to_tensor(np.zeros(2)).dtype
    tf.float64
    """
    if isinstance(value, Tensor):
        if dtype is not None and dtypes.as_dtype(dtype)._np != value._value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                             f"for Tensor with dtype {value.dtype.name}: {value!r}")
        return value
    if dtype is not None:
        return Tensor(_array_with_dtype(value, dtypes.as_dtype(dtype)))
    if dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        try:
            return Tensor(_array_with_dtype(value, dtypes.as_dtype(dtype_hint)))
        except TypeError:
            pass
    return Tensor(_infer_array(value))


def constant(value, dtype=None, shape=None, name="Const"):
    """Creates a constant tensor from a Python or NumPy value.

    Args:
      value: A number, nested list, NumPy array or Tensor.
      dtype: Optional element type; inferred as in TF when omitted.
      shape: Optional shape; a scalar `value` is broadcast to it, other values are reshaped.
      name: Unused; kept for TF compatibility.

    >>> constant(0., shape=(2, 2)).numpy()
    array([[0., 0.],
           [0., 0.]], dtype=float32)
    """
    if isinstance(value, Tensor):
        if dtype is not None and (dtypes.as_dtype(dtype)._np.kind == "O") != (
                value._value.dtype.kind == "O"):
            raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype "
                            f"{dtypes.as_dtype(dtype).name}")
        array = value._value if dtype is None else value._value.astype(dtypes.as_dtype(dtype)._np)
    elif dtype is not None:
        array = _array_with_dtype(value, dtypes.as_dtype(dtype))
    else:
        array = _infer_array(value)
    # A constant owns its value: later changes to the caller's array must not leak in.
    array = np.array(array, copy=True)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if array.size == 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                            f"{_short(value)} (converted from shape {array.shape}) has "
                            f"{array.size} elements, but got `shape` {shape} with "
                            f"{int(np.prod(shape))} elements.")
    return Tensor(array)
