"""Random tensors with TF's seeding rules: `set_seed` plus optional per-op seeds.

As in TF: with neither seed set, results differ from run to run. With a global seed
(`set_seed`), the sequence of random ops is reproducible from program start. With an op
`seed`, that op draws from its own stream, keyed by (global seed, op seed), so calling
it repeatedly gives different values that still repeat across runs; `set_seed` restarts
all streams.
"""

import numpy as np

from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.tensor import Tensor
from numpyflow.ops._convert import tensor

_DEFAULT_GLOBAL_SEED = 87654321  # TF's default graph-level seed when only an op seed is set.


class _SeedState:
    def __init__(self):
        self.global_seed = None
        # Made on first use: importing numpy.random costs ~20 ms of `import numpyflow`.
        self.global_stream = None
        self.op_streams = {}


_state = _SeedState()


def set_seed(seed):
    """Sets the global random seed, making subsequent random ops reproducible.

    >>> set_seed(3); a = normal([2])
    >>> set_seed(3); b = normal([2])
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    _state.global_seed = None if seed is None else int(seed)
    _state.global_stream = None
    _state.op_streams = {}


def get_global_generator_seed():
    return _state.global_seed


def _stream(seed):
    if seed is None:
        if _state.global_stream is None:
            _state.global_stream = np.random.default_rng(_state.global_seed)
        return _state.global_stream
    key = (_DEFAULT_GLOBAL_SEED if _state.global_seed is None else _state.global_seed, int(seed))
    stream = _state.op_streams.get(key)
    if stream is None:
        stream = _state.op_streams[key] = np.random.default_rng(key)
    return stream


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def _float_dtype(dtype, op):
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype.kind != "f":
        raise ValueError(f"{op}: dtype must be a floating-point type; received {np_dtype.name}.")
    return np_dtype


def _standard_normal(rng, shape, np_dtype):
    if np_dtype in (np.float32, np.float64):
        return rng.standard_normal(shape, dtype=np_dtype)
    return rng.standard_normal(shape).astype(np_dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from a normal distribution.

    >>> normal((2, 3), seed=1).shape
    TensorShape([2, 3])
    """
    np_dtype = _float_dtype(dtype, "random.normal")
    values = _standard_normal(_stream(seed), _shape(shape), np_dtype)
    return Tensor((values * np_dtype.type(stddev) + np_dtype.type(mean)).astype(np_dtype))


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Samples uniformly from [minval, maxval) (maxval defaults to 1 for floats)."""
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype.kind not in "fiu":
        raise ValueError(f"random.uniform: dtype must be a floating-point or integer type; "
                         f"received {np_dtype.name}.")
    rng = _stream(seed)
    if np_dtype.kind in "iu":
        if maxval is None:
            raise ValueError("random.uniform: `maxval` must be given for integer dtypes.")
        low, high = int(minval), int(maxval)
        if low >= high:
            raise invalid_argument("RandomUniformInt",
                                   f"Need minval < maxval: {low} >= {high}")
        return Tensor(rng.integers(low, high, size=_shape(shape)).astype(np_dtype))
    maxval = 1.0 if maxval is None else maxval
    low = np.asarray(minval, dtype=np_dtype)
    span = np.asarray(maxval, dtype=np_dtype) - low
    return Tensor((_unit_uniform(rng, _shape(shape), np_dtype) * span + low).astype(np_dtype))


def _unit_uniform(rng, shape, np_dtype):
    """Uniform values in [0, 1) of `np_dtype`.

    float16 is drawn on its own 2**-11 grid: rounding float64 draws to float16 would turn
    values just below 1 into exactly 1.
    """
    if np_dtype == np.float16:
        return (rng.integers(0, 2 ** 11, size=shape) * 2.0 ** -11).astype(np.float16)
    return rng.random(shape, dtype=np.float32 if np_dtype == np.float32 else np.float64)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from a normal distribution, redrawing values more than 2 stddevs from the mean."""
    np_dtype = _float_dtype(dtype, "random.truncated_normal")
    rng = _stream(seed)
    values = _standard_normal(rng, _shape(shape), np_dtype)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = _standard_normal(rng, int(outside.sum()), np_dtype)
        outside = np.abs(values) > 2
    return Tensor((values * np_dtype.type(stddev) + np_dtype.type(mean)).astype(np_dtype))


def shuffle(value, seed=None, name=None):
    """Randomly shuffles a tensor along its first dimension."""
    x = tensor(value)
    if x._value.ndim == 0:
        raise ValueError("random.shuffle: value must have rank >= 1; received a scalar.")
    return Tensor(x._value[_stream(seed).permutation(x._value.shape[0])])


def stateless_seed_stream(seed):
    """A NumPy Generator for internal users (dropout masks) that honours TF's seeding."""
    return _stream(seed)
