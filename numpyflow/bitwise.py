"""`tf.bitwise`: and, or, xor, invert and shifts of integer tensors (ops/bitwise_ops.py).

    >>> left_shift(1, [0, 3]).numpy()  # tf.bitwise.left_shift
    array([1, 8], dtype=int32)
"""

from numpyflow.ops.bitwise_ops import (  # noqa: F401
    bitwise_and, bitwise_or, bitwise_xor, invert, left_shift, right_shift)
