"""`tf.debugging`: assertions on values, shapes and dtypes, and `check_numerics`.

Value assertions (`assert_equal`, `assert_less`, `assert_near`, `Assert`, ...) are ops: in a
`tf.function` they run on every call. Shape, rank and dtype assertions check what is known
when the code runs (numpyflow traces with concrete shapes, so always) and raise ValueError
or TypeError at once, as TF does for statically known shapes.

    >>> import numpyflow as tf
    >>> x = tf.zeros((2, 3))
    >>> tf.debugging.assert_shapes([(x, ("N", "D")), (tf.zeros((2,)), ("N",))])
    >>> tf.debugging.assert_rank(x, 2)
"""

from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops.debug_ops import (  # noqa: F401 - re-exported
    Assert, assert_all_finite, assert_equal, assert_greater, assert_greater_equal, assert_less,
    assert_less_equal, assert_near, assert_negative, assert_non_negative, assert_non_positive,
    assert_none_equal, assert_positive, check_numerics)

__all__ = [
    "Assert", "assert_all_finite", "assert_equal", "assert_greater", "assert_greater_equal",
    "assert_integer", "assert_less", "assert_less_equal", "assert_near", "assert_negative",
    "assert_non_negative", "assert_non_positive", "assert_none_equal", "assert_positive",
    "assert_proper_iterable", "assert_rank", "assert_rank_at_least", "assert_rank_in",
    "assert_same_float_dtype", "assert_scalar", "assert_shapes", "assert_type",
    "check_numerics", "is_numeric_tensor"]


def _tensor(x):
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _failed(message, text):
    return f"{message}\n{text}" if message else text


def _shape_text(shape):
    return str(tuple(shape))


def assert_rank(x, rank, message=None, name=None):
    """Raises ValueError unless `x` has rank `rank`.

    Example:
        >>> tf.debugging.assert_rank(tf.zeros((2, 3)), 2)
    """
    x = _tensor(x)
    if x.ndim != int(rank):
        raise ValueError(_failed(message, f"Tensor must have rank {int(rank)}. Received rank "
                                          f"{x.ndim}, shape {_shape_text(x.shape)}"))


def assert_rank_at_least(x, rank, message=None, name=None):
    """Raises ValueError unless `x` has rank `rank` or more."""
    x = _tensor(x)
    if x.ndim < int(rank):
        raise ValueError(_failed(message, f"Tensor must have rank at least {int(rank)}. "
                                          f"Received rank {x.ndim}, shape {_shape_text(x.shape)}"))


def assert_rank_in(x, ranks, message=None, name=None):
    """Raises ValueError unless the rank of `x` is one of `ranks`."""
    x = _tensor(x)
    ranks = tuple(int(r) for r in ranks)
    if x.ndim not in ranks:
        raise ValueError(_failed(message, f"Tensor must have rank in {ranks}. Received rank "
                                          f"{x.ndim}, shape {_shape_text(x.shape)}"))


def assert_scalar(tensor, message=None, name=None):
    """Raises ValueError unless `tensor` is a scalar; returns it."""
    tensor = _tensor(tensor)
    if tensor.ndim != 0:
        raise ValueError(_failed(message, f"Expected scalar shape, saw shape: "
                                          f"{_shape_text(tensor.shape)}."))
    return tensor


def assert_type(tensor, tf_type, message=None, name=None):
    """Raises TypeError unless `tensor` has dtype `tf_type`."""
    expected = dtypes.as_dtype(tf_type)
    actual = _tensor(tensor).dtype
    if actual != expected:
        raise TypeError(_failed(message, f"tensor must be of type tf.{expected.name}; got "
                                         f"tf.{actual.name}"))


def assert_integer(x, message=None, name=None):
    """Raises TypeError unless `x` has an integer dtype."""
    dtype = _tensor(x).dtype
    if not dtype.is_integer:
        raise TypeError(_failed(message, f'Expected "x" to be integer type. Found: tensor of '
                                         f"dtype tf.{dtype.name}"))


def assert_same_float_dtype(tensors=None, dtype=None):
    """The one floating dtype of `tensors` (and `dtype`, if given; float32 if neither says);
    raises ValueError if they disagree or one is not floating."""
    found = dtypes.as_dtype(dtype) if dtype is not None else None
    for tensor in tensors or ():
        current = _tensor(tensor).dtype
        if found is not None and current != found:
            raise ValueError(f"Expected tensors of dtype {found.name}, got one of "
                             f"{current.name}.")
        found = current
    if found is None:
        return dtypes.float32
    if not found.is_floating:
        raise ValueError(f"Expected a floating point dtype, got {found.name}.")
    return found


def assert_proper_iterable(values):
    """Raises TypeError if `values` is not iterable, or is a Tensor, array, string or bytes
    (iterable, but rarely meant as a collection of values)."""
    import numpy as np
    if isinstance(values, (Tensor, np.ndarray, str, bytes)):
        raise TypeError(f"Expected argument 'values' to be a \"proper\" iterable. Found: "
                        f"{type(values).__name__}")
    try:
        iter(values)
    except TypeError:
        raise TypeError(f"Expected argument 'values' to be iterable. Found: "
                        f"{type(values).__name__}") from None


def is_numeric_tensor(tensor):
    """Whether `tensor` is a Tensor of a number dtype (not bool, not string)."""
    return isinstance(tensor, Tensor) and (tensor.dtype.is_floating or tensor.dtype.is_integer
                                           or tensor.dtype._np.kind == "c")


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Raises ValueError unless each tensor's shape matches its spec, with symbols agreeing.

    Args:
      shapes: (tensor, spec) pairs, or a dict {tensor: spec}. A spec lists one entry per
        dimension: an int (that size), a string symbol (the same size wherever the symbol
        appears), None (any size); "..." or "*" as its first entry stands for any number
        of leading dimensions. A scalar's spec is ().
      data, summarize: Accepted as TF's (what a failed check would print); shapes here are
        always known, so the check never defers to run time.
      message: Put first in the error's message.

    Example:
        >>> tf.debugging.assert_shapes([(tf.zeros((4, 3)), ("N", 3)), (tf.zeros(4), ("N",))])
    """
    pairs = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    sizes = {}  # symbol -> (size, the description that set it)
    for tensor, spec in pairs:
        tensor = _tensor(tensor.deref() if hasattr(tensor, "deref") else tensor)
        shape = tuple(tensor.shape)
        spec = tuple("..." if entry is Ellipsis else entry for entry in spec)
        if any(entry in ("...", "*") for entry in spec[1:]):
            raise ValueError(f"Tensor shape={shape}: '...' or '*' (any number of dimensions) "
                             f"is allowed only as the first entry of a spec, got {spec}.")
        if spec and spec[0] in ("...", "*"):
            spec = spec[1:]
            if len(shape) < len(spec):
                raise ValueError(_failed(message, f"Tensor must have rank at least {len(spec)}. "
                                                  f"Received rank {len(shape)}, shape {shape}"))
            shape_tail = shape[len(shape) - len(spec):]
        else:
            if len(shape) != len(spec):
                raise ValueError(_failed(message, f"Tensor must have rank {len(spec)}. "
                                                  f"Received rank {len(shape)}, shape {shape}"))
            shape_tail = shape
        offset = len(shape) - len(spec)
        for index, (entry, size) in enumerate(zip(spec, shape_tail)):
            where = f"Tensor shape={shape} dimension {index + offset}"
            if entry is None:
                continue
            if isinstance(entry, str):
                if entry not in sizes:
                    sizes[entry] = (size, where)
                    continue
                expected, origin = sizes[entry]
                if size != expected:
                    raise ValueError(_failed(message, f"Specified by {origin} (symbol {entry!r}). "
                                                      f"{where} must have size {expected}. "
                                                      f"Received size {size}, shape {shape}"))
            elif size != int(entry):
                raise ValueError(_failed(message, f"Specified explicitly. {where} must have size "
                                                  f"{int(entry)}. Received size {size}, "
                                                  f"shape {shape}"))
