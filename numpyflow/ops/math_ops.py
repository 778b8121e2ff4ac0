"""Element-wise arithmetic, matmul, cast, comparisons and logic — with their gradients.

Each primitive's forward (on arrays) and gradient (on Tensors) stand side by side.
Python operators on Tensors are attached at the bottom of this file.
"""

from numpyflow.backend import blas, xp
from numpyflow.framework import dtypes, errors, plan
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops._convert import require_float, tensor, tensor_pair
from numpyflow.backend import quiet as _quiet
from numpyflow.backend.quiet import quiet


def _incompatible_shapes(arrays, attrs, error):
    return "Incompatible shapes: " + " vs. ".join(
        "[" + ",".join(map(str, a.shape)) + "]" for a in arrays)


def _binary_primitive(name, forward, gradient=None, infallible=False):
    return Primitive(name, forward, gradient, explain=_incompatible_shapes, infallible=infallible)


# -- arithmetic -------------------------------------------------------------------------

AddV2 = _binary_primitive("AddV2", xp.add, lambda node, dy: (dy, dy))
Sub = _binary_primitive("Sub", xp.subtract, lambda node, dy: (dy, negative(dy)))
Mul = _binary_primitive("Mul", xp.multiply, lambda node, dy: (
    dy * node.inputs[1] if node.needs[0] else None,
    dy * node.inputs[0] if node.needs[1] else None))


def _real_div_grad(node, dy):
    x, y = node.inputs
    return (dy / y if node.needs[0] else None,
            negative(dy) * node.output / y if node.needs[1] else None)


RealDiv = _binary_primitive("RealDiv", quiet(xp.divide), _real_div_grad, infallible=True)


def _integer_division(ufunc, op_name):
    """`ufunc` (floor_divide or mod) raising TF's error where an integer divisor is 0.

    NumPy gives 0 there, with a RuntimeWarning; floats divide by 0 into inf/NaN silently.
    """
    def forward(x, y):
        if y.dtype.kind in "iu" and not y.all():
            raise errors.invalid_argument(op_name, "Integer division by zero")
        token = _quiet.silence()
        try:
            return ufunc(x, y)
        finally:
            _quiet.restore(token)
    return forward


FloorDiv = _binary_primitive("FloorDiv", _integer_division(xp.floor_divide, "FloorDiv"))


def _floor_mod_grad(node, dy):
    x, y = node.inputs
    return dy, negative(dy) * floor(x / y)


FloorMod = _binary_primitive("FloorMod", _integer_division(xp.mod, "FloorMod"), _floor_mod_grad)


def _pow_grad(node, dy):
    x, y = node.inputs
    dx = dy * y * pow(x, y - 1.) if node.needs[0] else None
    dexp = None
    if node.needs[1]:
        from numpyflow.ops import indexing_ops
        safe_log = indexing_ops.where(x > 0., log(indexing_ops.where(x > 0., x, 1.)), 0.)
        dexp = dy * node.output * safe_log
    return dx, dexp


Pow = _binary_primitive("Pow", quiet(xp.power), _pow_grad, infallible=True)


def _maximum_grad(node, dy, pick_first):
    x, y = node.inputs
    from numpyflow.ops import indexing_ops
    first = pick_first(x, y)
    zero = Tensor(xp.zeros((), dy._value.dtype))
    return indexing_ops.where(first, dy, zero), indexing_ops.where(first, zero, dy)


Maximum = _binary_primitive("Maximum", xp.maximum,
                            lambda node, dy: _maximum_grad(node, dy, greater_equal))
Minimum = _binary_primitive("Minimum", xp.minimum,
                            lambda node, dy: _maximum_grad(node, dy, less_equal))


def add(x, y, name=None):
    """Returns x + y element-wise, with broadcasting.

    >>> add([1., 2.], 1.).numpy()
    array([2., 3.], dtype=float32)
    """
    return AddV2(*tensor_pair(x, y, "AddV2"))


def add_n(inputs, name=None):
    """Sums a list of same-shaped tensors element-wise.

    >>> add_n([[1., 2.], [3., 4.], [5., 6.]]).numpy()
    array([ 9., 12.], dtype=float32)
    """
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError(f"add_n: inputs must be a non-empty list of tensors; received "
                         f"{inputs!r}.")
    total = tensor(inputs[0])
    shape = total._value.shape
    for item in inputs[1:]:
        item = tensor(item)
        if item._value.shape != shape:
            raise ValueError(f"add_n: all inputs must have the same shape; received shapes "
                             f"{list(shape)} and {list(item._value.shape)}.")
        total = add(total, item)
    return total


def subtract(x, y, name=None):
    """Returns x - y element-wise, with broadcasting."""
    return Sub(*tensor_pair(x, y, "Sub"))


def multiply(x, y, name=None):
    """Returns x * y element-wise, with broadcasting."""
    return Mul(*tensor_pair(x, y, "Mul"))


def divide(x, y, name=None):
    """Returns x / y element-wise (true division: integers divide as float64, as in TF)."""
    x, y = tensor_pair(x, y, "RealDiv")
    if x._value.dtype.kind != "f":
        x, y = cast(x, dtypes.float64), cast(y, dtypes.float64)
    return RealDiv(x, y)


truediv = divide


def _div_no_nan_forward(x, y):
    if x.ndim == 0 and y.ndim == 0:  # Metric results: skip the masked division's setup.
        if y.dtype is x.dtype and x.dtype in _EXACT_IN_PYTHON_FLOATS:
            # Python floats: ~0.5 us instead of ~1.3 (two ufunc calls on 0-d arrays). A
            # quotient of 24-bit floats computed in 53 bits and rounded again to 24 is
            # NumPy's float32 quotient (Figueroa: 53 >= 2 * 24 + 2): the same bits.
            return x.dtype.type(x.item() / y.item()) if y else xp.zeros((), x.dtype)
        return xp.divide(x, y) if y != 0 else xp.zeros((), x.dtype)
    nonzero = y != 0
    return xp.divide(x, y, out=xp.zeros(xp.broadcast_shapes(x.shape, y.shape), x.dtype),
                     where=nonzero)


def _div_no_nan_grad(node, dy):
    x, y = node.inputs
    return (DivNoNan(dy, y) if node.needs[0] else None,
            DivNoNan(DivNoNan(negative(dy) * x, y), y) if node.needs[1] else None)


_EXACT_IN_PYTHON_FLOATS = (xp.dtype(xp.float16), xp.dtype(xp.float32), xp.dtype(xp.float64))

# Metrics divide running totals by counts that start at 0: one op instead of four.
DivNoNan = _binary_primitive("DivNoNan", quiet(_div_no_nan_forward), _div_no_nan_grad,
                             infallible=True)


def divide_no_nan(x, y, name=None):
    """x / y element-wise, but 0 wherever y is 0 (no NaN or infinity, no warning).

    >>> divide_no_nan([1., 2.], [0., 4.]).numpy()
    array([0. , 0.5], dtype=float32)
    """
    x, y = tensor_pair(x, y, "DivNoNan")
    require_float(x, "DivNoNan")
    return DivNoNan(x, y)


def floordiv(x, y, name=None):
    """Returns floor(x / y) element-wise. Not differentiable."""
    return FloorDiv(*tensor_pair(x, y, "FloorDiv"))


floor_div = floordiv


def floormod(x, y, name=None):
    """Returns the remainder of floor division, with the sign of `y` (Python's `%`)."""
    return FloorMod(*tensor_pair(x, y, "FloorMod"))


mod = floormod


def pow(x, y, name=None):  # noqa: A001 - TF's public name
    """Returns x ** y element-wise."""
    return Pow(*tensor_pair(x, y, "Pow"))


def maximum(x, y, name=None):
    """Element-wise max of x and y; the gradient goes to x where x >= y."""
    return Maximum(*tensor_pair(x, y, "Maximum"))


def minimum(x, y, name=None):
    """Element-wise min of x and y; the gradient goes to x where x <= y."""
    return Minimum(*tensor_pair(x, y, "Minimum"))


# -- unary ------------------------------------------------------------------------------

Neg = Primitive("Neg", xp.negative, lambda node, dy: (negative(dy),))
Exp = Primitive("Exp", quiet(xp.exp), lambda node, dy: (dy * node.output,), infallible=True)
Log = Primitive("Log", quiet(xp.log), lambda node, dy: (dy / node.inputs[0],), infallible=True)
Sqrt = Primitive("Sqrt", quiet(xp.sqrt), lambda node, dy: (dy * 0.5 / node.output,),
                 infallible=True)


def _rsqrt(x):
    return 1. / xp.sqrt(x)


Rsqrt = Primitive("Rsqrt", quiet(_rsqrt), lambda node, dy: (dy * -0.5 * node.output ** 3,),
                  infallible=True)
Square = Primitive("Square", xp.square, lambda node, dy: (dy * 2. * node.inputs[0],))
Abs = Primitive("Abs", xp.abs, lambda node, dy: (dy * sign(node.inputs[0]),))
Sign = Primitive("Sign", xp.sign)
Floor = Primitive("Floor", xp.floor)
# TF rounds half to even, as NumPy does.
Round = Primitive("Round", xp.round)


def _float_unary(primitive):
    def op(x, name=None):
        x = tensor(x)
        require_float(x, primitive.name)
        return primitive(x)
    return op


def negative(x, name=None):
    """Returns -x element-wise."""
    return Neg(tensor(x))


exp = _float_unary(Exp)
log = _float_unary(Log)
sqrt = _float_unary(Sqrt)
rsqrt = _float_unary(Rsqrt)
floor = _float_unary(Floor)
round = _float_unary(Round)  # noqa: A001 - TF's public name


def square(x, name=None):
    """Returns x * x element-wise."""
    return Square(tensor(x))


def abs(x, name=None):  # noqa: A001 - TF's public name
    """Returns |x| element-wise."""
    return Abs(tensor(x))


def sign(x, name=None):
    """Returns -1, 0 or 1 by the sign of x. Not differentiable (gradient None)."""
    return Sign(tensor(x))


exp.__doc__ = "Returns e ** x element-wise.\n\n    >>> float(exp(0.))\n    1.0\n    "
log.__doc__ = "Returns the natural logarithm of x element-wise."
sqrt.__doc__ = "Returns the square root of x element-wise."
rsqrt.__doc__ = "Returns 1 / sqrt(x) element-wise."
floor.__doc__ = "Returns the largest integer not greater than x. Not differentiable."
round.__doc__ = "Rounds half to even, element-wise. Not differentiable."


# -- matmul -----------------------------------------------------------------------------

def _matmul_forward(a, b, transpose_a=False, transpose_b=False):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError("rank")
    # The arrays' own swapaxes: xp.swapaxes adds ~0.4 us of dispatch, three times in a
    # Dense layer's backward pass.
    if transpose_a:
        a = a.swapaxes(-1, -2)
    if transpose_b:
        b = b.swapaxes(-1, -2)
    return blas.matmul(a, b)


def _matmul_grad(node, dy):
    a, b = node.inputs
    ta, tb = node.attrs.get("transpose_a", False), node.attrs.get("transpose_b", False)
    need_a, need_b = node.needs
    da = db = None
    if not ta and not tb:
        da = matmul(dy, b, transpose_b=True) if need_a else None
        db = matmul(a, dy, transpose_a=True) if need_b else None
    elif not ta and tb:
        da = matmul(dy, b) if need_a else None
        db = matmul(dy, a, transpose_a=True) if need_b else None
    elif ta and not tb:
        da = matmul(b, dy, transpose_b=True) if need_a else None
        db = matmul(a, dy) if need_b else None
    else:
        da = matmul(b, dy, transpose_a=True, transpose_b=True) if need_a else None
        db = matmul(dy, a, transpose_a=True, transpose_b=True) if need_b else None
    return da, db


def _matmul_explain(arrays, attrs, error):
    a, b = arrays
    if a.ndim < 2 or b.ndim < 2:
        return (f"In[0] and In[1] must have rank >= 2 for MatMul; received shapes "
                f"{list(a.shape)} and {list(b.shape)}")
    return ("Matrix size-incompatible: In[0]: [" + ",".join(map(str, a.shape)) +
            "], In[1]: [" + ",".join(map(str, b.shape)) + "]")


MatMul = Primitive("MatMul", quiet(_matmul_forward), _matmul_grad, explain=_matmul_explain)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None):
    """Matrix product of the last two axes; leading (batch) axes broadcast.

    `adjoint_*` is `transpose_*` (numpyflow has no complex dtypes). `output_type` may name
    the inputs' dtype, or int32 for int8/uint8 inputs (whose products are then summed in
    int32, as TF). `a_is_sparse`/`b_is_sparse` and `grad_a`/`grad_b` are hints to TF's
    kernels; the result does not depend on them.

    >>> matmul([[1., 2.]], [[3.], [4.]]).numpy()
    array([[11.]], dtype=float32)
    """
    a, b = tensor_pair(a, b, "MatMul")
    if output_type is not None:
        out = dtypes.as_dtype(output_type)
        if out != a.dtype:
            if a.dtype not in (dtypes.int8, dtypes.uint8) or out != dtypes.int32:
                raise errors.invalid_argument(
                    "MatMul", f"output_type={out.name} is not available for {a.dtype.name} "
                    f"inputs (only int32 for int8/uint8 inputs, or the inputs' own dtype)")
            a, b = cast(a, out), cast(b, out)
    transpose_a, transpose_b = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    if transpose_a or transpose_b:
        return MatMul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    return MatMul(a, b)


# -- cast -------------------------------------------------------------------------------

def _cast_grad(node, dy):
    source = node.inputs[0]
    if source._value.dtype.kind != "f":
        return (None,)
    return (Cast(dy, dtype=source._value.dtype),)


def _cast_forward(x, dtype):
    if x.dtype.kind == "f" and (dtype.kind != "f" or dtype.itemsize < x.dtype.itemsize):
        # inf/NaN to integers, or values too large for a narrower float: TF casts silently.
        token = _quiet.silence()
        try:
            return x.astype(dtype, copy=False)
        finally:
            _quiet.restore(token)
    return x.astype(dtype, copy=False)


Cast = Primitive("Cast", _cast_forward, _cast_grad, infallible=True)


def _cast_kernel(equation):
    """A cast to the dtype its input has returns the input (`copy=False`): an optimizer
    casts its learning rate to each variable's dtype every step, mostly this case. Other
    casts: `astype` itself (a plan runs with NumPy's error reports off already)."""
    dtype = plan.traced_shape_and_dtype(equation.inputs[0])[1]
    if dtype is None:
        return None
    if dtype == equation.attrs["dtype"]:
        return plan.SAME_AS_INPUT
    return plan.PlanKernel(xp.ndarray.astype, attrs={"dtype": equation.attrs["dtype"]})


plan.register_plan_kernel(Cast, _cast_kernel)


def cast(x, dtype, name=None):
    """Casts `x` to `dtype`. Floats cast to integers truncate toward zero, as in TF.

    >>> cast([1.7, -1.7], "int32").numpy()
    array([ 1, -1], dtype=int32)
    """
    x = tensor(x)
    np_dtype = dtypes.as_dtype(dtype)._np
    if x._value.dtype == np_dtype and type(x) is Tensor:  # A Variable is read, not aliased.
        return x
    if np_dtype.kind == "O" or x._value.dtype.kind == "O":
        raise errors.UnimplementedError(
            None, None, f"Cast {x.dtype.name} to {dtypes.as_dtype(np_dtype).name} is not "
            f"supported (use tf.strings.to_number / tf.strings.as_string) [Op:Cast]")
    return Cast(x, dtype=np_dtype)


# -- comparison and logic (no gradients) ----------------------------------------------

Equal = _binary_primitive("Equal", xp.equal)
NotEqual = _binary_primitive("NotEqual", xp.not_equal)
Less = _binary_primitive("Less", xp.less)
LessEqual = _binary_primitive("LessEqual", xp.less_equal)
Greater = _binary_primitive("Greater", xp.greater)
GreaterEqual = _binary_primitive("GreaterEqual", xp.greater_equal)
LogicalAnd = _binary_primitive("LogicalAnd", xp.logical_and)
LogicalOr = _binary_primitive("LogicalOr", xp.logical_or)
LogicalNot = Primitive("LogicalNot", xp.logical_not)


def _comparison(primitive):
    def op(x, y, name=None):
        return primitive(*tensor_pair(x, y, primitive.name))
    op.__name__ = primitive.name
    op.__doc__ = f"Element-wise `{primitive.name}` with broadcasting; returns a bool Tensor."
    return op


equal = _comparison(Equal)
not_equal = _comparison(NotEqual)
less = _comparison(Less)
less_equal = _comparison(LessEqual)
greater = _comparison(Greater)
greater_equal = _comparison(GreaterEqual)


def _logical(primitive):
    def op(x, y, name=None):
        x, y = tensor_pair(x, y, primitive.name)
        if x._value.dtype != xp.bool_:
            raise TypeError(f"{primitive.name} expects bool tensors; received {x.dtype.name}.")
        return primitive(x, y)
    op.__doc__ = f"Element-wise `{primitive.name}` of two bool Tensors."
    return op


logical_and = _logical(LogicalAnd)
logical_or = _logical(LogicalOr)


def logical_not(x, name=None):
    """Element-wise NOT of a bool Tensor."""
    x = tensor(x)
    if x._value.dtype != xp.bool_:
        raise TypeError(f"LogicalNot expects a bool tensor; received {x.dtype.name}.")
    return LogicalNot(x)


def logical_xor(x, y, name="LogicalXor"):
    """Element-wise XOR of two bool Tensors."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


# -- Python operators on Tensor ---------------------------------------------------------

# Incompatible shapes (InvalidArgumentError), mixed dtypes or non-numeric operands.
_NOT_COMPARABLE = (errors.InvalidArgumentError, TypeError, ValueError)


def _tensor_equals(self, other):
    """`==` as in TF 2: element-wise, but False (not an error) for incompatible shapes."""
    if other is None:
        return False
    try:
        return equal(self, other)
    except _NOT_COMPARABLE:  # TF returns False for a pair it cannot compare
        return False


def _tensor_not_equals(self, other):
    if other is None:
        return True
    try:
        return not_equal(self, other)
    except _NOT_COMPARABLE:
        return True


def _swap(op):
    return lambda self, other: op(other, self)


def _logical_or_bitwise(logical, bitwise, reverse=False):
    """TF's `&`, `|`, `^` on a Tensor: logical for a bool tensor, bitwise for an integer
    one (any other dtype gets the bitwise op's error, as in TF)."""
    def operator(self, other):
        x, y = (other, self) if reverse else (self, other)
        if self.dtype == dtypes.bool:
            return logical(x, y)
        return getattr(_bitwise_ops(), bitwise)(x, y)
    return operator


def _bitwise_ops():
    # Loaded on first use: `import numpyflow` stays small (its memory is benchmarked).
    from numpyflow.ops import bitwise_ops
    return bitwise_ops


def _invert(self):
    """TF's `~`: logical NOT of a bool tensor, bitwise NOT of an integer one."""
    return logical_not(self) if self.dtype == dtypes.bool else _bitwise_ops().invert(self)


Tensor.__add__ = add
Tensor.__radd__ = _swap(add)
Tensor.__sub__ = subtract
Tensor.__rsub__ = _swap(subtract)
Tensor.__mul__ = multiply
Tensor.__rmul__ = _swap(multiply)
Tensor.__truediv__ = divide
Tensor.__rtruediv__ = _swap(divide)
Tensor.__floordiv__ = floordiv
Tensor.__rfloordiv__ = _swap(floordiv)
Tensor.__mod__ = floormod
Tensor.__rmod__ = _swap(floormod)
Tensor.__pow__ = pow
Tensor.__rpow__ = _swap(pow)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = _swap(matmul)
Tensor.__neg__ = negative
Tensor.__abs__ = abs
Tensor.__lt__ = less
Tensor.__le__ = less_equal
Tensor.__gt__ = greater
Tensor.__ge__ = greater_equal
Tensor.__eq__ = _tensor_equals
Tensor.__ne__ = _tensor_not_equals
Tensor.__and__ = _logical_or_bitwise(logical_and, "bitwise_and")
Tensor.__rand__ = _logical_or_bitwise(logical_and, "bitwise_and", reverse=True)
Tensor.__or__ = _logical_or_bitwise(logical_or, "bitwise_or")
Tensor.__ror__ = _logical_or_bitwise(logical_or, "bitwise_or", reverse=True)
Tensor.__xor__ = _logical_or_bitwise(logical_xor, "bitwise_xor")
Tensor.__rxor__ = _logical_or_bitwise(logical_xor, "bitwise_xor", reverse=True)
Tensor.__invert__ = _invert
Tensor.__hash__ = None


# -- reciprocal, log1p, expm1, squared_difference ---------------------------------------

def _reciprocal_forward(x):
    if x.dtype.kind in "iu" and not x.all():
        raise ValueError("Integer division by zero in reciprocal")
    return xp.reciprocal(x)


Reciprocal = Primitive("Reciprocal", quiet(_reciprocal_forward),
                       lambda node, dy: (negative(dy) * square(node.output),))
Log1p = Primitive("Log1p", quiet(xp.log1p), lambda node, dy: (dy / (node.inputs[0] + 1.),),
                  infallible=True)
# exp(x) rather than output + 1: exact where expm1(x) is tiny.
Expm1 = Primitive("Expm1", quiet(xp.expm1), lambda node, dy: (dy * exp(node.inputs[0]),),
                  infallible=True)


def reciprocal(x, name=None):
    """Returns 1 / x element-wise (integers divide as integers, as in TF).

    >>> reciprocal([2., 4.]).numpy()
    array([0.5 , 0.25], dtype=float32)
    """
    x = tensor(x)
    if x._value.dtype.kind not in "fiu":
        raise TypeError(f"Reciprocal expects a numeric tensor; received dtype {x.dtype.name}.")
    return Reciprocal(x)


log1p = _float_unary(Log1p)
expm1 = _float_unary(Expm1)
log1p.__doc__ = """Returns log(1 + x) element-wise, accurate for small x.

    >>> float(log1p(0.))
    0.0
    """
expm1.__doc__ = """Returns exp(x) - 1 element-wise, accurate for small x.

    >>> float(expm1(0.))
    0.0
    """


def _squared_difference_grad(node, dy):
    x, y = node.inputs
    dx = 2. * dy * (x - y)
    return (dx if node.needs[0] else None, negative(dx) if node.needs[1] else None)


SquaredDifference = _binary_primitive(
    "SquaredDifference", quiet(lambda x, y: xp.square(xp.subtract(x, y))),
    _squared_difference_grad)


def squared_difference(x, y, name=None):
    """Returns (x - y) ** 2 element-wise, with broadcasting.

    >>> squared_difference([1., 5.], 2.).numpy()
    array([1., 9.], dtype=float32)
    """
    return SquaredDifference(*tensor_pair(x, y, "SquaredDifference"))
