"""Cumulative (scan) ops along an axis — with gradients."""

from numpyflow.backend import xp
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.ops._convert import tensor
from numpyflow.backend.quiet import quiet
from numpyflow.ops.array_ops import _axis_int, _shape_text


def _shift_forward(x, axis):
    """x moved one step along `axis`, a zero entering first: turns inclusive sums exclusive."""
    out = xp.zeros_like(x)
    lead = (slice(None),) * axis
    out[lead + (slice(1, None),)] = x[lead + (slice(None, -1),)]
    return out


def _cumsum_forward(x, axis, exclusive, reverse):
    if reverse:
        x = xp.flip(x, axis)
    # dtype= keeps int32 int32 (NumPy would widen it to the platform integer).
    out = xp.cumsum(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = _shift_forward(out, axis)
    if reverse:
        out = xp.flip(out, axis)
    return out


# Each output sums the inputs before it, so each input's gradient sums the upstream
# gradients after it: the same scan, run the other way.
Cumsum = Primitive(
    "Cumsum", quiet(_cumsum_forward),
    lambda node, dy: (Cumsum(dy, axis=node.attrs["axis"], exclusive=node.attrs["exclusive"],
                             reverse=not node.attrs["reverse"]),))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum of `x` along `axis`.

    Args:
      x: A numeric tensor.
      axis: The axis to sum along (negative counts from the end).
      exclusive: If True, each output excludes its own input (the first output is 0).
      reverse: If True, sums from the end of the axis towards the start.

    >>> cumsum([1., 2., 3.]).numpy()
    array([1., 3., 6.], dtype=float32)
    >>> cumsum([1., 2., 3.], exclusive=True, reverse=True).numpy()
    array([5., 3., 0.], dtype=float32)
    """
    x = tensor(x)
    if x._value.dtype.kind not in "fiu":
        raise invalid_argument("Cumsum", f"Cumsum expects a numeric tensor; received dtype "
                               f"{x.dtype.name}")
    ndim = x._value.ndim
    axis = _axis_int(axis, "Cumsum")
    if not -ndim <= axis < ndim:
        raise invalid_argument("Cumsum", f"ScanOp: Expected scan axis in the range [{-ndim}, "
                               f"{ndim}), but got {axis} (input shape "
                               f"{_shape_text(x._value.shape)})")
    return Cumsum(x, axis=axis % ndim, exclusive=bool(exclusive), reverse=bool(reverse))
