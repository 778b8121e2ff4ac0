"""`tf.numpy_function` and `tf.py_function`: run a Python function inside a pipeline.

numpyflow is eager everywhere, so both call the function at once: `numpy_function` with
NumPy values, `py_function` with Tensors. The results are converted to `Tout`'s dtypes.
Neither records gradients (as `numpy_function` in TF; `py_function`'s gradient in TF
flows through the Tensors the function computes with, which here needs no special op).

    >>> import numpyflow as tf
    >>> tf.numpy_function(lambda x: x * 2, [tf.constant([1, 2])], tf.int32).numpy()
    array([2, 4], dtype=int32)
"""

from numpyflow.backend import host
from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor, convert_to_tensor


def _outputs(result, Tout, what):
    if isinstance(Tout, (list, tuple)):
        values = list(result) if isinstance(result, (list, tuple)) else [result]
        if len(values) != len(Tout):
            raise ValueError(f"{what}: the function returned {len(values)} values, but Tout "
                             f"lists {len(Tout)} dtypes.")
        return [_convert(v, t, what) for v, t in zip(values, Tout)]
    if Tout is None:
        return None
    return _convert(result, Tout, what)


def _convert(value, dtype, what):
    dtype = dtypes.as_dtype(dtype)
    array = value._value if isinstance(value, Tensor) else host.asarray(value)
    if array.dtype != dtype._np:
        raise TypeError(f"{what}: the function returned a value of dtype {array.dtype}, but "
                        f"Tout expects {dtype.name}.")
    return Tensor(array)


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """Calls `func` on the NumPy values of `inp`; returns its result as Tensors of `Tout`.

    Args:
        func: A Python function taking NumPy arrays and returning arrays.
        inp: A list of Tensors (or values convertible to them).
        Tout: A dtype, or a list/tuple of dtypes (then a list of Tensors is returned).
        stateful: Accepted for TF compatibility (every call runs the function).
        name: Unused.

    Example:
        >>> numpy_function(np.sort, [np.array([3, 1])], "int64").numpy()
        array([1, 3])
    """
    args = [convert_to_tensor(x).numpy() if not isinstance(x, Tensor) else x.numpy()
            for x in inp]
    return _outputs(func(*args), Tout, "numpy_function")


def py_function(func, inp, Tout, name=None):
    """Calls `func` on the Tensors `inp`; returns its result as Tensors of `Tout`.

    Example:
        >>> py_function(lambda x: x + 1, [np.int32(1)], "int32").numpy()
        np.int32(2)
    """
    args = [convert_to_tensor(x) for x in inp]
    return _outputs(func(*args), Tout, "py_function")
