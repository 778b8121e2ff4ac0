"""Random tensors with TF's seeding rules: `set_seed` plus optional per-op seeds.

As in TF: with neither seed set, results differ from run to run. With a global seed
(`set_seed`), the sequence of random ops is reproducible from program start. With an op
`seed`, that op draws from its own stream, keyed by (global seed, op seed), so calling
it repeatedly gives different values that still repeat across runs; `set_seed` restarts
all streams.
"""

from numpyflow.backend import xp
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
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
            _state.global_stream = xp.random.default_rng(_state.global_seed)
        return _state.global_stream
    key = (_DEFAULT_GLOBAL_SEED if _state.global_seed is None else _state.global_seed, int(seed))
    stream = _state.op_streams.get(key)
    if stream is None:
        stream = _state.op_streams[key] = xp.random.default_rng(key)
    return stream


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return (int(shape),) if isinstance(shape, (int, xp.integer)) else tuple(int(d) for d in shape)


def _float_dtype(dtype, op):
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype.kind != "f":
        raise ValueError(f"{op}: dtype must be a floating-point type; received {np_dtype.name}.")
    return np_dtype


def _standard_normal(rng, shape, np_dtype):
    if np_dtype in (xp.float32, xp.float64):
        return rng.standard_normal(shape, dtype=np_dtype)
    return rng.standard_normal(shape).astype(np_dtype)


# Each sampler is a stateful primitive: it draws when it runs, so a compiled plan
# (`tf.function`) draws fresh values on every call, from the same seeded streams.

def _normal_forward(shape, dtype, mean, stddev, seed):
    values = _standard_normal(_stream(seed), shape, dtype)
    return (values * dtype.type(stddev) + dtype.type(mean)).astype(dtype)


def _uniform_forward(shape, dtype, low, span, seed):
    return (_unit_uniform(_stream(seed), shape, dtype) * span + low).astype(dtype)


def _uniform_int_forward(shape, dtype, low, high, seed):
    return _stream(seed).integers(low, high, size=shape).astype(dtype)


def _truncated_normal_forward(shape, dtype, mean, stddev, seed):
    rng = _stream(seed)
    values = _standard_normal(rng, shape, dtype)
    outside = xp.abs(values) > 2
    while outside.any():
        values[outside] = _standard_normal(rng, int(outside.sum()), dtype)
        outside = xp.abs(values) > 2
    return (values * dtype.type(stddev) + dtype.type(mean)).astype(dtype)


def _shuffle_forward(x, seed):
    return x[_stream(seed).permutation(x.shape[0])]


# Random draws of fixed shapes cannot fail, whatever the values (see Primitive).
_SAMPLER = dict(stateful=True, infallible=True)
RandomStandardNormal = Primitive("RandomStandardNormal", _normal_forward, **_SAMPLER)
RandomUniform = Primitive("RandomUniform", _uniform_forward, **_SAMPLER)
RandomUniformInt = Primitive("RandomUniformInt", _uniform_int_forward, **_SAMPLER)
TruncatedNormal = Primitive("TruncatedNormal", _truncated_normal_forward, **_SAMPLER)
RandomShuffle = Primitive("RandomShuffle", _shuffle_forward, **_SAMPLER)


def _seed(seed):
    return None if seed is None else int(seed)


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from a normal distribution.

    >>> normal((2, 3), seed=1).shape
    TensorShape([2, 3])
    """
    return RandomStandardNormal(shape=_shape(shape), dtype=_float_dtype(dtype, "random.normal"),
                                mean=float(mean), stddev=float(stddev), seed=_seed(seed))


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Samples uniformly from [minval, maxval) (maxval defaults to 1 for floats)."""
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype.kind not in "fiu":
        raise ValueError(f"random.uniform: dtype must be a floating-point or integer type; "
                         f"received {np_dtype.name}.")
    if np_dtype.kind in "iu":
        if maxval is None:
            raise ValueError("random.uniform: `maxval` must be given for integer dtypes.")
        low, high = int(minval), int(maxval)
        if low >= high:
            raise invalid_argument("RandomUniformInt",
                                   f"Need minval < maxval: {low} >= {high}")
        return RandomUniformInt(shape=_shape(shape), dtype=np_dtype, low=low, high=high,
                                seed=_seed(seed))
    maxval = 1.0 if maxval is None else maxval
    low = xp.asarray(minval, dtype=np_dtype)
    span = xp.asarray(maxval, dtype=np_dtype) - low
    return RandomUniform(shape=_shape(shape), dtype=np_dtype, low=low, span=span,
                         seed=_seed(seed))


def _unit_uniform(rng, shape, np_dtype):
    """Uniform values in [0, 1) of `np_dtype`.

    float16 is drawn on its own 2**-11 grid: rounding float64 draws to float16 would turn
    values just below 1 into exactly 1.
    """
    if np_dtype == xp.float16:
        return (rng.integers(0, 2 ** 11, size=shape) * 2.0 ** -11).astype(xp.float16)
    return rng.random(shape, dtype=xp.float32 if np_dtype == xp.float32 else xp.float64)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from a normal distribution, redrawing values more than 2 stddevs from the mean."""
    return TruncatedNormal(shape=_shape(shape),
                           dtype=_float_dtype(dtype, "random.truncated_normal"),
                           mean=float(mean), stddev=float(stddev), seed=_seed(seed))


def shuffle(value, seed=None, name=None):
    """Randomly shuffles a tensor along its first dimension."""
    x = tensor(value)
    if x._value.ndim == 0:
        raise ValueError("random.shuffle: value must have rank >= 1; received a scalar.")
    return RandomShuffle(x, seed=_seed(seed))


def stateless_seed_stream(seed):
    """A NumPy Generator for internal users (dropout masks) that honours TF's seeding."""
    return _stream(seed)


# -- saving and restoring the seeded streams (for `keras.callbacks.BackupAndRestore`) ----------

def get_state():
    """The state of every random stream, as plain JSON-serializable values.

    Not a TF API: it lets a resumed training run draw exactly what the interrupted one
    would have drawn next (shuffling, dropout, augmentation).

    >>> set_seed(1); state = get_state(); a = normal([2])
    >>> set_state(state); b = normal([2])
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    def generator_state(rng):
        return None if rng is None else _pcg64_state(rng.bit_generator.state)

    return {"global_seed": _state.global_seed,
            "global_stream": generator_state(_state.global_stream),
            "op_streams": [[key[0], key[1], generator_state(rng)]
                           for key, rng in _state.op_streams.items()]}


def set_state(state):
    """Restores the streams from a `get_state()` value (validated: ints only, no code).

    Raises:
        ValueError: `state` is not what `get_state()` returns; the message says what is wrong.
    """
    if not isinstance(state, dict) or set(state) != {"global_seed", "global_stream",
                                                      "op_streams"}:
        raise ValueError(f"random state: expected a dict with keys 'global_seed', "
                         f"'global_stream' and 'op_streams'; received {state!r:.200}.")
    global_seed = state["global_seed"]
    if global_seed is not None and not _is_int(global_seed):
        raise ValueError(f"random state: 'global_seed' must be an int or None; received "
                         f"{global_seed!r:.100}.")
    streams = state["op_streams"]
    if not isinstance(streams, list) or not all(
            isinstance(s, list) and len(s) == 3 and _is_int(s[0]) and _is_int(s[1])
            for s in streams):
        raise ValueError(f"random state: 'op_streams' must be a list of [global seed, op seed, "
                         f"generator state]; received {streams!r:.200}.")
    global_stream = (None if state["global_stream"] is None
                     else _generator(state["global_stream"]))
    op_streams = {(int(g), int(s)): _generator(rng_state) for g, s, rng_state in streams}
    _state.global_seed = global_seed
    _state.global_stream = global_stream
    _state.op_streams = op_streams


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _pcg64_state(raw):
    inner = raw["state"]
    return {"bit_generator": raw["bit_generator"], "state": int(inner["state"]),
            "inc": int(inner["inc"]), "has_uint32": int(raw["has_uint32"]),
            "uinteger": int(raw["uinteger"])}


def _generator(saved):
    keys = {"bit_generator", "state", "inc", "has_uint32", "uinteger"}
    if (not isinstance(saved, dict) or set(saved) != keys or saved["bit_generator"] != "PCG64"
            or not all(_is_int(saved[k]) for k in keys - {"bit_generator"})):
        raise ValueError(f"random state: a generator state must be a PCG64 state "
                         f"({sorted(keys)}, ints); received {saved!r:.200}.")
    rng = xp.random.default_rng()
    rng.bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": saved["state"], "inc": saved["inc"]},
                               "has_uint32": saved["has_uint32"], "uinteger": saved["uinteger"]}
    return rng
