"""Reductions over axes (sum, mean, max, ...) and arg-reductions — with gradients."""

import math

from numpyflow.backend import blas, xp
from numpyflow.framework import dtypes, plan
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.backend import quiet as _quiet
from numpyflow.backend.quiet import quiet
from numpyflow.ops import array_ops, math_ops
from numpyflow.ops._convert import axis_tuple, tensor


_BLAS_FLOATS = (xp.dtype(xp.float32), xp.dtype(xp.float64))


def _kept_shape(node):
    """The input's shape with the reduced axes set to 1 (the keepdims output shape)."""
    shape = list(node.inputs[0]._value.shape)
    for a in node.attrs["axis"]:
        shape[a] = 1
    return tuple(shape)


def _spread(node, dy):
    """Broadcasts an upstream gradient of a reduction back over the reduced axes."""
    dy = array_ops.reshape(dy, _kept_shape(node))
    return array_ops.broadcast_to(dy, node.inputs[0]._value.shape)


def _reduced_count(shape, axes):
    """How many elements each result of reducing `shape` over `axes` combines."""
    return math.prod(shape[a] for a in axes)


# Below this many rows, xp.sum beats the GEMV's call overhead.
_GEMV_SUM_MIN_ROWS = 256


def _sum_forward(x, axis, keepdims):
    token = _quiet.silence()  # Inline rather than _quiet.quiet: Sum is on the hot path.
    try:
        # The size test first: it settles the small sums of a training step (bias
        # gradients at batch 32) without building tuple(range(...)) (~0.35 us).
        if (x.ndim >= 2 and x.size >= _GEMV_SUM_MIN_ROWS * x.shape[-1] > 0
                and axis == tuple(range(x.ndim - 1)) and x.dtype in _BLAS_FLOATS
                and x.flags.c_contiguous):
            # Summing every axis but the last (bias gradients): one GEMV, see
            # blas.column_sums.
            sums = blas.column_sums(x.reshape(-1, x.shape[-1]))
            return sums.reshape((1,) * (x.ndim - 1) + sums.shape) if keepdims else sums
        # xp.add.reduce is xp.sum without its Python-level argument handling (~2 µs a call).
        if x.dtype.kind in "iu":  # TF keeps the dtype; NumPy widens small ints to int64.
            return xp.add.reduce(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        return xp.add.reduce(x, axis=axis, keepdims=keepdims)
    finally:
        _quiet.restore(token)


def _mean_forward(x, axis, keepdims):
    token = _quiet.silence()  # Inline rather than _quiet.quiet: Mean is on the hot path.
    try:
        if x.dtype.kind != "f":
            # TF's mean of integers stays integer (truncating); NumPy's becomes float64.
            return xp.mean(x, axis=axis, keepdims=keepdims).astype(x.dtype, copy=False)
        # What xp.mean computes for floats (a pairwise sum, then one division), minus its
        # argument handling. `/` rather than xp.true_divide: the same division, and on the
        # NumPy scalar of a full reduction (a batch's mean loss) it skips the ufunc call
        # (~1.4 us of a training step's 3).
        count = x.shape[axis[0]] if len(axis) == 1 else _reduced_count(x.shape, axis)
        return xp.add.reduce(x, axis=axis, keepdims=keepdims) / (count or xp.nan)
    finally:
        _quiet.restore(token)


def _mean_grad(node, dy):
    count = _reduced_count(node.inputs[0]._value.shape, node.attrs["axis"])
    return (_spread(node, dy) / float(max(count, 1)),)


Sum = Primitive("Sum", _sum_forward, lambda node, dy: (_spread(node, dy),), infallible=True)
Mean = Primitive("Mean", _mean_forward, _mean_grad, infallible=True)


def _sum_kernel(equation):
    """`xp.add.reduce` itself where `_sum_forward` would call it (no GEMV): what the plan
    knows of the shape settles the forward's tests once (~0.5 us of a bias gradient's 2)."""
    shape, dtype = plan.traced_shape_and_dtype(equation.inputs[0])
    if shape is None or dtype is None or dtype.kind not in "iufc":
        return None  # (Bools: the forward's sum.)
    axis, keepdims = equation.attrs["axis"], equation.attrs["keepdims"]
    size = math.prod(shape)
    if (len(shape) >= 2 and size >= _GEMV_SUM_MIN_ROWS * shape[-1] > 0
            and axis == tuple(range(len(shape) - 1)) and dtype in _BLAS_FLOATS):
        return None  # The forward may take the GEMV (it depends on the array's layout).
    attrs = {"axis": axis, "keepdims": keepdims}
    if dtype.kind in "iu":
        attrs["dtype"] = dtype  # As the forward: TF keeps an integer sum's dtype.
    return plan.PlanKernel(_ADD_REDUCE, attrs=attrs)


_ADD_REDUCE = xp.add.reduce  # One bound method: one name in a plan's source.


plan.register_plan_kernel(Sum, _sum_kernel)


def _mean_kernel(equation):
    """`_mean_forward` on floats, its count settled from the traced shape (a loss's mean
    each training step: ~0.4 us of 2)."""
    shape, dtype = plan.traced_shape_and_dtype(equation.inputs[0])
    if shape is None or dtype is None or dtype.kind != "f":
        return None
    axis, keepdims = equation.attrs["axis"], equation.attrs["keepdims"]
    count = _reduced_count(shape, axis) or xp.nan
    add = xp.add.reduce

    def mean(x):
        return add(x, axis=axis, keepdims=keepdims) / count
    return plan.PlanKernel(mean)


plan.register_plan_kernel(Mean, _mean_kernel)


def _extremum_grad(node, dy):
    # The gradient is shared equally among tied extrema, as in TF.
    x = node.inputs[0]
    out = array_ops.reshape(node.output, _kept_shape(node))
    mask = math_ops.cast(math_ops.equal(x, out), x.dtype)
    ties = Sum(mask, axis=node.attrs["axis"], keepdims=True)
    return (mask * _spread(node, dy) / ties,)


Max = Primitive("Max", lambda x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                _extremum_grad, explain=lambda a, k, e: f"{e}: cannot reduce an empty tensor",
                infallible=True)
Min = Primitive("Min", lambda x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
                _extremum_grad, explain=lambda a, k, e: f"{e}: cannot reduce an empty tensor",
                infallible=True)


def _prod_grad(node, dy):
    # The product of the *other* elements, from exclusive cumulative products from both
    # sides, so zeros in the input are handled exactly. It is treated as a constant, so
    # second derivatives of reduce_prod are not supported.
    x = node.inputs[0]._value
    axes = node.attrs["axis"]
    moved = xp.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = xp.cumprod(xp.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = xp.moveaxis((left * right).reshape(moved.shape), tuple(range(-len(axes), 0)), axes)
    return (_spread(node, dy) * Tensor(others),)


def _prod_forward(x, axis, keepdims):
    # TF keeps an integer input's dtype; NumPy widens small ints to int64.
    dtype = x.dtype if x.dtype.kind in "iu" else None
    return xp.prod(x, axis=axis, keepdims=keepdims, dtype=dtype)


Prod = Primitive("Prod", quiet(_prod_forward), _prod_grad)


def _reducer(primitive, doc):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        x = tensor(input_tensor)
        return primitive(x, axis=axis_tuple(axis, x._value.ndim, primitive.name),
                         keepdims=bool(keepdims))
    reduce.__doc__ = doc
    return reduce


reduce_sum = _reducer(Sum, """Sum of elements across `axis` (all axes when None).

    >>> reduce_sum([[1., 2.], [3., 4.]], axis=0).numpy()
    array([4., 6.], dtype=float32)
    """)
reduce_mean = _reducer(Mean, "Mean of elements across `axis`; integer inputs truncate, as TF.")
reduce_max = _reducer(Max, "Maximum across `axis`; ties share the gradient equally.")
reduce_min = _reducer(Min, "Minimum across `axis`; ties share the gradient equally.")
reduce_prod = _reducer(Prod, "Product of elements across `axis`.")


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) across `axis`, computed stably by subtracting the maximum first."""
    x = tensor(input_tensor)
    peak = array_ops.stop_gradient(reduce_max(x, axis=axis, keepdims=True))
    total = reduce_sum(math_ops.exp(x - peak), axis=axis, keepdims=keepdims)
    if not keepdims:
        peak = array_ops.reshape(peak, total._value.shape)
    return math_ops.log(total) + peak


def _arg_reducer(name, method):
    # The ndarray method, and no copy when the index dtype is already right: 0.55 vs 1.7 us
    # for a training batch's predictions (32x10), the accuracy metric's argmax each step.
    prim = Primitive(name, lambda x, axis, output_type: method(x, axis).astype(
        output_type, copy=False), infallible=True)

    def arg(input, axis=None, output_type=dtypes.int64, name=None):  # noqa: A002 - TF's name
        x = tensor(input)
        axis = 0 if axis is None else axis_tuple(axis, x._value.ndim, prim.name)[0]
        return prim(x, axis=axis, output_type=dtypes.as_dtype(output_type)._np)
    arg.__doc__ = f"Index of the {'largest' if 'Max' in name else 'smallest'} value along `axis` (0 by default)."
    return prim, arg


ArgMax, argmax = _arg_reducer("ArgMax", xp.ndarray.argmax)
ArgMin, argmin = _arg_reducer("ArgMin", xp.ndarray.argmin)


def _arg_kernel(method):
    def choose(equation):
        # NumPy's indices are intp: the ndarray method alone (an accuracy metric's argmax
        # each training step: ~0.4 us instead of ~1.5).
        if equation.attrs["output_type"] != xp.intp:
            return None
        return plan.PlanKernel(method, attrs={"axis": equation.attrs["axis"]})
    return choose


plan.register_plan_kernel(ArgMax, _arg_kernel(xp.ndarray.argmax))
plan.register_plan_kernel(ArgMin, _arg_kernel(xp.ndarray.argmin))


# -- logical reductions, variance, counting -------------------------------------------------

Any = Primitive("Any", lambda x, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims))
All = Primitive("All", lambda x, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims))


def _logical_reducer(primitive, doc):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        x = tensor(input_tensor)
        if x._value.dtype != xp.bool_:
            raise TypeError(f"{primitive.name} expects a bool tensor; received dtype "
                            f"{x.dtype.name}.")
        return primitive(x, axis=axis_tuple(axis, x._value.ndim, primitive.name),
                         keepdims=bool(keepdims))
    reduce.__doc__ = doc
    return reduce


reduce_any = _logical_reducer(Any, """Logical OR of a bool tensor's elements across `axis`.

    >>> reduce_any([[False, True], [False, False]], axis=1).numpy()
    array([ True, False])
    """)
reduce_all = _logical_reducer(All, """Logical AND of a bool tensor's elements across `axis`.

    >>> reduce_all([[True, True], [False, True]], axis=0).numpy()
    array([False,  True])
    """)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance (dividing by N) of a float tensor across `axis`.

    >>> float(reduce_variance([1., 2., 3., 4.]))
    1.25
    """
    x = tensor(input_tensor)
    if x._value.dtype.kind != "f":
        raise TypeError(f"reduce_variance: input must be real (floating point); received "
                        f"dtype {x.dtype.name}.")
    axes = axis_tuple(axis, x._value.ndim, "Mean")
    mean = Mean(x, axis=axes, keepdims=True)
    return Mean(math_ops.squared_difference(x, mean), axis=axes, keepdims=bool(keepdims))


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation of a float tensor across `axis`.

    >>> float(reduce_std([1., 3.]))
    1.0
    """
    return math_ops.sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def count_nonzero(input, axis=None, keepdims=None, dtype=dtypes.int64, name=None):  # noqa: A002
    """The number of non-zero (or True) elements across `axis`, as `dtype` (int64 default).

    >>> count_nonzero([[0., 1.], [2., 3.]], axis=1).numpy()
    array([1, 2])
    """
    x = tensor(input)
    axes = axis_tuple(axis, x._value.ndim, "CountNonzero")
    counts = xp.count_nonzero(x._value, axis=axes, keepdims=bool(keepdims))
    return Tensor(xp.asarray(counts, dtype=dtypes.as_dtype(dtype)._np))
