"""Argument conversion shared by the public op functions."""

from numpyflow.backend import xp
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.backend import quiet as _quiet

def _kind_name(np_dtype):
    if np_dtype == xp.float64:
        return "double"
    if np_dtype == xp.float16:
        return "half"
    if np_dtype.kind == "O":
        return "string"
    return np_dtype.name


def tensor(x):
    """`x` as a Tensor (Tensors and Variables pass through unchanged)."""
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def tensor_pair(x, y, op_name):
    """Converts two operands to Tensors of one dtype, with TF's rules.

    A Tensor operand fixes the dtype; a Python number or NumPy array on the other side is
    converted to it. Two Tensors of different dtypes are an error, as in TF.
    """
    x_is_tensor = isinstance(x, Tensor)
    y_is_tensor = isinstance(y, Tensor)
    if x_is_tensor and y_is_tensor:
        if x._value.dtype != y._value.dtype:
            raise invalid_argument(
                op_name, f"cannot compute {op_name} as input #1(zero-based) was expected to be a "
                f"{_kind_name(x._value.dtype)} tensor but is a {_kind_name(y._value.dtype)} tensor")
        return x, y
    if x_is_tensor:
        return x, _like(y, x)
    if y_is_tensor:
        return _like(x, y), y
    x = convert_to_tensor(x)
    return x, _like(y, x)


def _like(value, other):
    """Converts `value` to `other`'s dtype (the common case, a Python scalar, made fast)."""
    np_dtype = other._value.dtype
    if type(value) is float and np_dtype.kind == "f":
        if -65504. <= value <= 65504. or np_dtype.itemsize == 8:  # Fits every float dtype.
            return Tensor(xp.asarray(value, dtype=np_dtype))
        token = _quiet.silence()  # As TF: 1e5 in float16 is inf, silently.
        try:
            return Tensor(xp.asarray(value, dtype=np_dtype))
        finally:
            _quiet.restore(token)
    if type(value) is int and np_dtype.kind in "fiu":
        return Tensor(xp.asarray(value, dtype=np_dtype))
    return convert_to_tensor(value, dtype=other.dtype)


def axis_tuple(axis, ndim, op_name):
    """Normalizes an `axis` argument (None, int, list, Tensor) to a tuple of positive ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Tensor):
        axis = axis._value.tolist()
    axes = (axis,) if isinstance(axis, (int, xp.integer)) else tuple(axis)
    result = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise invalid_argument(op_name, f"Invalid reduction dimension {a} for input with "
                                   f"{ndim} dimensions (expected an axis in [{-ndim}, {ndim}))")
        result.append(a % ndim if ndim else 0)
    return tuple(result)


def require_float(x, op_name):
    if x._value.dtype.kind != "f":
        raise invalid_argument(op_name, f"{op_name} expects a floating-point tensor "
                               f"(float16/32/64); received dtype {x.dtype.name}")
