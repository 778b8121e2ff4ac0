"""Op cases for the Variable assignment primitives (framework/variable.py)."""

import numpy as np

import numpyflow as tf
from tests.ops.opcheck import case, rand


def _assigned(method):
    def run(initial, value):
        variable = tf.Variable(initial)
        getattr(variable, method)(value)
        return variable
    return run


CASES = [
    case("AssignVariableOp", _assigned("assign"), lambda v, new: new, rand(2, 3), rand(2, 3),
         grad=False),
    case("AssignAddVariableOp", _assigned("assign_add"), np.add, rand(2, 3), rand(2, 3),
         grad=False),
    case("AssignSubVariableOp", _assigned("assign_sub"), np.subtract, rand(4), rand(4),
         grad=False),
]
