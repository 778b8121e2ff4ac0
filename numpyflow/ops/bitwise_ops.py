"""Bitwise ops on integer tensors (`tf.bitwise`): and, or, xor, invert and the shifts.

They take the eight integer dtypes only (a float or bool operand is an error, as in TF)
and, like every integer op, have no gradient. Shifts follow what TF's CPU kernels do with
an amount outside [0, bit width): it is clamped into [0, bit width - 1], so `1 << 40` on
int32 is `1 << 31` and a negative amount shifts by 0; right shifts of signed values are
arithmetic (they keep the sign).

    >>> bitwise_and([12, 10], [10, 6]).numpy()  # tf.bitwise.bitwise_and
    array([8, 2], dtype=int32)
"""

from numpyflow.backend import xp
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.ops._convert import tensor, tensor_pair

_INTEGER_DTYPES = "int8, int16, int32, int64, uint8, uint16, uint32, uint64"


def _checked_integer(x, op_name):
    if x._value.dtype.kind not in "iu":
        raise invalid_argument(op_name, f"Value for attr 'T' of {x.dtype.name} is not in the "
                                        f"list of allowed values: {_INTEGER_DTYPES}")
    return x


def _clamped_shift(shift_ufunc):
    def forward(x, y):
        # TF's kernels clamp the amount; NumPy (like C) leaves larger shifts undefined.
        bits = x.dtype.itemsize * 8
        return shift_ufunc(x, xp.clip(y, 0, bits - 1).astype(x.dtype, copy=False))
    return forward


# No gradient rules: the outputs are integers.
BitwiseAnd = Primitive("BitwiseAnd", xp.bitwise_and)
BitwiseOr = Primitive("BitwiseOr", xp.bitwise_or)
BitwiseXor = Primitive("BitwiseXor", xp.bitwise_xor)
Invert = Primitive("Invert", xp.invert)
LeftShift = Primitive("LeftShift", _clamped_shift(xp.left_shift), infallible=True)
RightShift = Primitive("RightShift", _clamped_shift(xp.right_shift), infallible=True)


def _binary(primitive, public_name, example):
    def op(x, y, name=None):
        x, y = tensor_pair(x, y, primitive.name)
        return primitive(_checked_integer(x, primitive.name), y)
    op.__name__ = op.__qualname__ = public_name
    op.__doc__ = f"""Elementwise `{public_name}` of two integer tensors of one dtype
    (broadcast; a Python number takes the tensor's dtype).

    >>> {public_name}([12, 10], [1, 2]).numpy()
    {example}
    """
    return op


bitwise_and = _binary(BitwiseAnd, "bitwise_and", "array([0, 2], dtype=int32)")
bitwise_or = _binary(BitwiseOr, "bitwise_or", "array([13, 10], dtype=int32)")
bitwise_xor = _binary(BitwiseXor, "bitwise_xor", "array([13,  8], dtype=int32)")
left_shift = _binary(LeftShift, "left_shift", "array([24, 40], dtype=int32)")
right_shift = _binary(RightShift, "right_shift", "array([6, 2], dtype=int32)")


def invert(x, name=None):
    """Flips every bit of an integer tensor (`~x`: -x - 1 for signed, max - x unsigned).

    >>> import numpy as np
    >>> invert(np.array([0, 5], np.uint8)).numpy()
    array([255, 250], dtype=uint8)
    """
    return Invert(_checked_integer(tensor(x), "Invert"))
