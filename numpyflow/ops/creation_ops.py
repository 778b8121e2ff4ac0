"""Tensors made from a shape or a range: zeros, ones, fill, range, eye, linspace."""

from numpyflow.backend import xp
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops._convert import tensor


def _np_dtype(dtype):
    return dtypes.as_dtype(dtype)._np


def _is_integer(value):
    return isinstance(value, (int, xp.integer)) and not isinstance(value, (bool, xp.bool_))


def _shape(shape):
    """`shape` (ints, a list of ints or an integer Tensor) as a tuple, checked as TF's Fill.

    Raises:
      TypeError: A dimension is not an integer (TF's message for `tf.zeros((2.5, 3))`).
      InvalidArgumentError: A dimension is negative.
    """
    dims = shape._value.tolist() if isinstance(shape, Tensor) else shape
    if _is_integer(dims):
        dims = (dims,)
    elif hasattr(dims, "__iter__") and not isinstance(dims, (str, bytes)):
        dims = tuple(dims)  # Lists, tuples, TensorShapes, NumPy arrays.
    if not isinstance(dims, tuple) or not all(_is_integer(d) for d in dims):
        raise TypeError(f"Cannot convert {shape!r} to EagerTensor of dtype int32")
    for d in dims:
        if d < 0:
            raise invalid_argument("Fill", f"Dimension {d} must be >= 0")
    return tuple(int(d) for d in dims)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with zeros (float32 by default).

    >>> zeros((2, 3)).shape
    TensorShape([2, 3])
    """
    return Tensor(_zeros(_shape(shape), _np_dtype(dtype)))


def _zeros(shape, np_dtype):
    if np_dtype.kind == "O":  # tf.string: TF's zero is the empty string.
        return xp.full(shape, b"", dtype=object)
    return xp.zeros(shape, np_dtype)


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with ones (float32 by default)."""
    return Tensor(_ones(_shape(shape), _np_dtype(dtype)))


def zeros_like(input, dtype=None, name=None):  # noqa: A002 - TF's name
    """Zeros with the shape (and, unless `dtype` is given, the dtype) of `input`."""
    x = tensor(input)
    return Tensor(_zeros(x._value.shape, x._value.dtype if dtype is None else _np_dtype(dtype)))


def ones_like(input, dtype=None, name=None):  # noqa: A002
    """Ones with the shape (and, unless `dtype` is given, the dtype) of `input`."""
    x = tensor(input)
    return Tensor(_ones(x._value.shape, x._value.dtype if dtype is None else _np_dtype(dtype)))


def _ones(shape, np_dtype):
    if np_dtype.kind == "O":
        raise invalid_argument("Fill", "tf.string has no one: ones/ones_like need a numeric or "
                               "bool dtype; received dtype string.")
    return xp.ones(shape, np_dtype)


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with the scalar `value` (dtype inferred from it).

    >>> fill([2], 7).numpy()
    array([7, 7], dtype=int32)
    """
    scalar = convert_to_tensor(value)
    if scalar._value.ndim != 0:
        raise ValueError(f"fill: value must be a scalar; received shape {scalar.shape}.")
    try:
        shape = _shape(dims)
    except TypeError:
        raise invalid_argument("Fill", "Value for attr 'index_type' of float is not in the list "
                               "of allowed values: int32, int64") from None
    return Tensor(xp.full(shape, scalar._value, dtype=scalar._value.dtype))


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's name
    """Numbers from `start` up to (not including) `limit` in steps of `delta`, as `tf.range`.

    >>> range(5).numpy()
    array([0, 1, 2, 3, 4], dtype=int32)
    """
    if limit is None:
        start, limit = 0, start
    if delta == 0:
        raise ValueError("range: `delta` must not be 0.")
    values = [convert_to_tensor(v)._value for v in (start, limit, delta)]
    if dtype is None:
        # The widest of the argument dtypes, as TF infers it.
        order = [xp.int32, xp.int64, xp.float32, xp.float64]
        dtype = max((v.dtype.type for v in values), key=lambda t: order.index(t) if t in order else 0)
    np_dtype = _np_dtype(dtype)
    return Tensor(xp.arange(*[v.item() for v in values]).astype(np_dtype))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix (or a batch of them)."""
    matrix = xp.eye(num_rows, num_columns, dtype=_np_dtype(dtype))
    if batch_shape is not None:
        matrix = xp.broadcast_to(matrix, tuple(batch_shape) + matrix.shape).copy()
    return Tensor(matrix)


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` inclusive (float32 for Python floats)."""
    start, stop = convert_to_tensor(start), convert_to_tensor(stop)
    dtype = start._value.dtype if start._value.dtype.kind == "f" else xp.float32
    values = xp.linspace(start._value, stop._value, int(num), axis=axis)
    return Tensor(values.astype(dtype))

