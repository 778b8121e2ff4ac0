"""Shape and indexing ops: reshape, broadcast, slicing, selection — with gradients."""

import numpy as np

from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops._convert import tensor, tensor_pair


# -- reshape / broadcast ----------------------------------------------------------------

def _reshape_explain(arrays, attrs, error):
    x = arrays[0]
    requested = [int(d) for d in attrs["shape"]]
    return (f"Input to reshape is a tensor with {x.size} values, but the requested shape "
            f"{requested} cannot hold them (input shape {list(x.shape)})")


Reshape = Primitive("Reshape", lambda x, shape: np.reshape(x, shape),
                    lambda node, dy: (reshape(dy, node.inputs[0]._value.shape),),
                    explain=_reshape_explain)


def _shape_tuple(shape):
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return tuple(-1 if d is None else int(d) for d in shape)


def reshape(tensor_, shape, name=None):
    """Reshapes to `shape`; one dimension may be -1 and is inferred.

    >>> reshape([1., 2., 3., 4.], (2, -1)).shape
    TensorShape([2, 2])
    """
    x = tensor(tensor_)
    shape = _shape_tuple(shape)
    if x._value.shape == shape:
        return x
    return Reshape(x, shape=shape)


# The tape sums the gradient back over the broadcast axes (tape._unbroadcast).
BroadcastTo = Primitive(
    "BroadcastTo", lambda x, shape: np.broadcast_to(x, shape), lambda node, dy: (dy,),
    explain=lambda arrays, attrs, e: f"Unable to broadcast tensor of shape "
                                     f"{list(arrays[0].shape)} to shape {list(attrs['shape'])}")


def broadcast_to(input, shape, name=None):  # noqa: A002 - TF's name
    """Broadcasts `input` to `shape` (NumPy rules)."""
    x = tensor(input)
    shape = _shape_tuple(shape)
    if x._value.shape == shape:
        return x
    return BroadcastTo(x, shape=shape)


# -- identity and gradient blocking -----------------------------------------------------

Identity = Primitive("Identity", lambda x: x, lambda node, dy: (dy,))
StopGradient = Primitive("StopGradient", lambda x: x)


def identity(input, name=None):  # noqa: A002
    """Returns a tensor with the same value as `input` (gradients pass through)."""
    return Identity(tensor(input))


def stop_gradient(input, name=None):  # noqa: A002
    """Returns `input`'s value, but blocks gradients from flowing through it.

    >>> import numpyflow as tf
    >>> x = tf.constant(2.)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * tf.stop_gradient(x)
    >>> float(tape.gradient(y, x))
    2.0
    """
    return StopGradient(tensor(input))


# -- selection --------------------------------------------------------------------------

def _select_grad(node, dy):
    condition = node.inputs[0]
    zero = Tensor(np.zeros((), dy._value.dtype))
    return (None, where(condition, dy, zero), where(condition, zero, dy))


Select = Primitive("SelectV2", lambda c, x, y: np.where(c, x, y), _select_grad,
                   explain=lambda arrays, attrs, e: "condition, x and y must be broadcastable; "
                   "received shapes " + ", ".join(str(list(a.shape)) for a in arrays))


def where(condition, x=None, y=None, name=None):
    """Picks from `x` where `condition` is True, else from `y` (broadcasting all three).

    With only `condition`, returns the int64 coordinates of its True elements, shape
    (num_true, rank), as TF does.
    """
    condition = tensor(condition)
    if condition._value.dtype != np.bool_:
        raise TypeError(f"where: `condition` must be a bool tensor; received dtype "
                        f"{condition.dtype.name}.")
    if x is None and y is None:
        return Tensor(np.argwhere(condition._value).astype(np.int64))
    if x is None or y is None:
        raise ValueError("where: `x` and `y` must both be given, or neither.")
    x, y = tensor_pair(x, y, "SelectV2")
    return Select(condition, x, y)


# -- indexing (tensor[...]) ---------------------------------------------------------------

def _index_key(key):
    """Turns Tensors inside an index into plain ints/arrays NumPy understands."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        value = key._value
        return value.item() if value.ndim == 0 and value.dtype.kind in "iu" else value
    if isinstance(key, list):
        return np.asarray(key)
    return key


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice))
               for p in parts)


def _slice_grad(node, dy):
    return (SliceGrad(dy, key=node.attrs["key"], shape=node.inputs[0]._value.shape),)


def _slice_grad_forward(dy, key, shape):
    result = np.zeros(shape, dtype=dy.dtype)
    if _is_basic(key):
        result[key] = dy
    else:
        np.add.at(result, key, dy)  # Repeated indices accumulate.
    return result


def _index_explain(arrays, attrs, error):
    return f"Index {attrs['key']!r} is invalid for a tensor of shape {list(arrays[0].shape)}: {error}"


StridedSlice = Primitive("StridedSlice", lambda x, key: x[key], _slice_grad,
                         explain=_index_explain)
# The gradient of slicing: scatters the upstream gradient into zeros of the input shape.
SliceGrad = Primitive("StridedSliceGrad", _slice_grad_forward,
                      lambda node, ddy: (StridedSlice(ddy, key=node.attrs["key"]),))


def _getitem(self, key):
    return StridedSlice(self, key=_index_key(key))


Tensor.__getitem__ = _getitem
