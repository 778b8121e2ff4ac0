"""Op cases for tf.bitwise (ops/bitwise_ops.py): integer-only, no gradients. The shift
cases past the bit width and with negative amounts hold values printed by TF 2.21."""

import numpy as np

from numpyflow.ops import bitwise_ops
from tests.ops.opcheck import case

a = np.array([[12, 10, -7], [0, 255, -1]], np.int32)
b = np.array([10, 6, 3], np.int32)
small = np.array([1, 5, -3], np.int8)

CASES = [
    case("BitwiseAnd", bitwise_ops.bitwise_and, np.bitwise_and, a, b),
    case("BitwiseOr", bitwise_ops.bitwise_or, np.bitwise_or, a, b),
    case("BitwiseXor", bitwise_ops.bitwise_xor, np.bitwise_xor, a, b),
    case("BitwiseAnd", bitwise_ops.bitwise_and, np.bitwise_and,
         np.array([200, 15, 255], np.uint8), np.array([136, 9, 0], np.uint8),
         id="bitwise_and_uint8"),
    case("Invert", bitwise_ops.invert, np.invert, small),
    case("Invert", bitwise_ops.invert, np.invert, np.array([0, 5, 65535], np.uint16),
         id="invert_uint16"),
    case("LeftShift", bitwise_ops.left_shift, np.left_shift, a, np.array([0, 3, 31], np.int32)),
    case("LeftShift", bitwise_ops.left_shift,
         lambda x, s: np.array([-128, -128, -128], np.int8), small,
         np.array([8, 9, 100], np.int8), id="left_shift_past_width_int8"),
    case("LeftShift", bitwise_ops.left_shift, lambda x, s: x, small,
         np.array([-1, -2, -3], np.int8), id="left_shift_negative_amount"),
    case("LeftShift", bitwise_ops.left_shift,
         lambda x, s: np.array([128, 128, 0], np.uint8), np.array([1, 5, 200], np.uint8),
         np.array([8, 9, 100], np.uint8), id="left_shift_past_width_uint8"),
    case("RightShift", bitwise_ops.right_shift, np.right_shift, a, np.array([1, 2, 1], np.int32)),
    case("RightShift", bitwise_ops.right_shift, lambda x, s: np.array([0, 0, -1], np.int8),
         small, np.array([8, 9, 100], np.int8), id="right_shift_past_width_keeps_sign"),
    case("RightShift", bitwise_ops.right_shift, lambda x, s: np.array([0, 0, 0], np.uint64),
         np.array([1, 5, 200], np.uint64), np.array([64, 65, 67], np.uint64),
         id="right_shift_past_width_uint64"),
]
