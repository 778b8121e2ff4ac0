"""`tf.random.stateless_*`: random tensors that are a pure function of `seed=(a, b)`.

The numbers are TF's own (CPU, the default "auto_select"/"philox" algorithm): the seed
pair is turned into a Philox-4x32-10 key and counter as TF does, and the words are turned
into floats, normals and truncated normals with TF's conversions (see `philox.py`).
"""

import enum

from numpyflow.backend import errstate, xp
from numpyflow.framework import dtypes
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import philox
from numpyflow.ops._convert import tensor

_TRUNCATE = 2.0          # TF's truncated normal keeps |x| < 2.
_RESERVED_PER_GROUP = 256  # Philox counters reserved per group of 4 truncated normals.
_FIRST_DRAWS = 8  # Philox blocks tried per group at once; more only for a rare short group.


def _words(key, counter, count):
    """The first `count` 32-bit words of the stream."""
    blocks = philox.philox_blocks(key, counter, -(-count // 4))
    return blocks.ravel()[:count]


def _box_muller(x0, x1, np_dtype):
    """TF's Box-Muller: two normals from two uniforms (sin term first, then cos)."""
    if np_dtype == xp.float64:
        u1, u2 = x0, x1
    else:
        u1, u2 = philox.uint32_to_float(x0), philox.uint32_to_float(x1)
    if np_dtype == xp.float64:
        u1 = xp.maximum(u1, 1.0e-7)
        v1 = 2.0 * xp.pi * u2
        radius = xp.sqrt(-2.0 * xp.log(u1))
        return xp.sin(v1) * radius, xp.cos(v1) * radius
    # float32: logf/sinf/cosf as the C library TF calls computes them (philox.float32_libm).
    f32 = xp.float32
    u1 = xp.maximum(u1, f32(1.0e-7))
    v1 = (2.0 * xp.pi * u2.astype(xp.float64)).astype(f32)  # TF: float(2.0f * M_PI * u)
    log_u1 = philox.float32_libm("logf", u1)
    radius = xp.sqrt(f32(-2.0) * log_u1)
    return philox.float32_libm("sinf", v1) * radius, philox.float32_libm("cosf", v1) * radius


def _uniform(key, counter, n, np_dtype):
    if np_dtype == xp.float64:
        words = _words(key, counter, 2 * n).reshape(-1, 2)
        return philox.uint64_to_double(words[:, 0], words[:, 1])
    words = _words(key, counter, n)
    if np_dtype == xp.float16:
        return philox.uint32_to_half(words)
    return philox.uint32_to_float(words)


def _normal(key, counter, n, np_dtype):
    if np_dtype == xp.float64:
        words = _words(key, counter, 4 * (-(-n // 2))).reshape(-1, 4)
        first = philox.uint64_to_double(words[:, 0], words[:, 1])
        second = philox.uint64_to_double(words[:, 2], words[:, 3])
        a, b = _box_muller(first, second, xp.float64)
    else:
        words = _words(key, counter, 2 * (-(-n // 2))).reshape(-1, 2)
        a, b = _box_muller(words[:, 0], words[:, 1], xp.float32)
    return xp.stack([a, b], axis=1).ravel()[:n].astype(np_dtype)


def _truncated_normal(key, counter, n, np_dtype):
    """Each group of 4 outputs (2 for float64) starts at its own reserved counter range and
    takes normals in order, rejecting |x| >= 2, as TF's sequential sampler does."""
    per_group = 2 if np_dtype == xp.float64 else 4
    groups = -(-n // per_group)
    out = xp.empty((groups, per_group), dtype=xp.float64 if np_dtype == xp.float64 else xp.float32)
    draws = _FIRST_DRAWS
    pending = xp.arange(groups)
    while pending.size:
        # TF skips per_group * 256 words (that many / 4 counters) between groups.
        starts = pending.astype(xp.uint64) * xp.uint64(per_group * _RESERVED_PER_GROUP // 4)
        offsets = starts[:, None] + xp.arange(draws, dtype=xp.uint64)[None, :]
        blocks = philox._rounds(philox._add_counter(counter, offsets.ravel()), key)
        blocks = blocks.reshape(len(pending), draws, 4)
        if np_dtype == xp.float64:
            first = philox.uint64_to_double(blocks[..., 0], blocks[..., 1])
            second = philox.uint64_to_double(blocks[..., 2], blocks[..., 3])
            a, b = _box_muller(first, second, xp.float64)
        else:
            words = blocks.reshape(len(pending), -1, 2)
            a, b = _box_muller(words[..., 0], words[..., 1], xp.float32)
        normals = xp.stack([a, b], axis=-1).reshape(len(pending), -1)
        keep = xp.abs(normals) < _TRUNCATE
        rank = xp.cumsum(keep, axis=1)  # 1-based position among the accepted values
        done = rank[:, -1] >= per_group
        take = keep & (rank <= per_group)
        out[pending[done]] = normals[done][take[done]].reshape(-1, per_group)
        pending = pending[~done]
        draws *= 4
    return out.ravel()[:n].astype(np_dtype)


def _uniform_int(key, counter, n, np_dtype, low, high):
    span = int(high) - int(low)
    if np_dtype.itemsize == 8:
        words = _words(key, counter, 2 * n).reshape(-1, 2).astype(xp.uint64)
        bits = words[:, 0] | (words[:, 1] << xp.uint64(32))
        with errstate(over="ignore"):
            return (xp.uint64(low & 0xFFFFFFFFFFFFFFFF) + bits % xp.uint64(span)).view(np_dtype) \
                if np_dtype.kind == "i" else bits % xp.uint64(span) + xp.uint64(low)
    words = _words(key, counter, n)
    with errstate(over="ignore"):
        values = xp.uint32(low & 0xFFFFFFFF) + words % xp.uint32(span)
    return values.view(np_dtype) if np_dtype.kind == "i" else values


def _full_int(key, counter, n, np_dtype):
    if np_dtype.itemsize == 8:
        words = _words(key, counter, 2 * n).reshape(-1, 2).astype(xp.uint64)
        return (words[:, 0] | (words[:, 1] << xp.uint64(32))).view(np_dtype)
    return _words(key, counter, n).view(np_dtype)


def _forward(seed, shape, dtype, distribution, low=None, high=None):
    key, counter = philox.seed_to_key_counter(seed)
    n = int(xp.prod(shape, dtype=xp.int64))
    if distribution == "uniform":
        values = _uniform(key, counter, n, dtype)
    elif distribution == "normal":
        values = _normal(key, counter, n, dtype)
    elif distribution == "truncated_normal":
        values = _truncated_normal(key, counter, n, dtype)
    elif distribution == "uniform_int":
        values = _uniform_int(key, counter, n, dtype, low, high)
    else:
        values = _full_int(key, counter, n, dtype)
    return xp.asarray(values, dtype=dtype).reshape(shape)


# A pure function of the seed: not stateful (a traced plan may fold it for a constant seed).
StatelessRandom = Primitive("StatelessRandom", _forward, infallible=True)


# -- the public functions ------------------------------------------------------------------

def _seed_tensor(seed, op):
    seed = tensor(seed) if not isinstance(seed, Tensor) else seed
    if seed.shape.as_list() != [2]:
        raise ValueError(f"{op}: `seed` must be a pair of integers (shape [2]); received "
                         f"shape {seed.shape.as_list()}.")
    if seed._value.dtype.kind not in "iu":
        raise TypeError(f"{op}: `seed` must be int32 or int64; received "
                        f"{seed._value.dtype.name}.")
    return seed


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return (int(shape),) if isinstance(shape, (int, xp.integer)) else tuple(int(d) for d in shape)


class Algorithm(enum.Enum):
    """`tf.random.Algorithm`: the counter-based generators TF's stateless ops name.

    numpyflow implements PHILOX (what AUTO_SELECT picks on CPU). THREEFRY is refused: TF
    2.21's CPU kernels do not run it either.

    Example:
        >>> Algorithm.PHILOX.value
        1
    """
    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


_ALG_NAMES = {"philox": Algorithm.PHILOX, "threefry": Algorithm.THREEFRY,
              "auto_select": Algorithm.AUTO_SELECT}


def _check_alg(alg, op):
    """The Algorithm `alg` names (None: AUTO_SELECT); THREEFRY is not implemented."""
    if alg is None:
        return Algorithm.AUTO_SELECT
    if isinstance(alg, Algorithm):
        algorithm = alg
    elif isinstance(alg, str) and alg.lower() in _ALG_NAMES:
        algorithm = _ALG_NAMES[alg.lower()]
    elif isinstance(alg, (int, xp.integer)) and not isinstance(alg, bool) and alg in (1, 2, 3):
        algorithm = Algorithm(int(alg))
    elif isinstance(alg, str):
        raise ValueError(f"Argument `alg` got unsupported value {alg}. Supported values are "
                         "philox for the Philox algorithm, threefry for the ThreeFry "
                         "algorithm, and auto_select for auto-selection.")
    else:
        raise ValueError(f"Argument `alg` got unsupported value {alg}. Supported values are 1 "
                         "for the Philox algorithm, 2 for the ThreeFry algorithm, and 3 for "
                         "auto-selection.")
    if algorithm is Algorithm.THREEFRY:
        raise NotImplementedError(f"{op}: alg={alg!r} (ThreeFry) is not supported by "
                                  "numpyflow, nor by TF 2.21's CPU kernels; use 'philox' or "
                                  "'auto_select'.")
    return algorithm


def _const(value, np_dtype):
    if isinstance(value, Tensor):
        return value
    return tensor(xp.asarray(value, dtype=np_dtype))


def _float_dtype(dtype, op):
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype not in (xp.float16, xp.float32, xp.float64):
        raise ValueError(f"{op}: `dtype` must be float16, float32 or float64; received "
                         f"{np_dtype.name}.")
    return np_dtype


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None,
                      alg="auto_select"):
    """Uniform values in [minval, maxval), TF's numbers for the same `seed`.

    Example:
        >>> tf.random.stateless_uniform([2], seed=[1, 2]).numpy()
        array([0.8440604 , 0.19204533], dtype=float32)
    """
    op = "random.stateless_uniform"
    _check_alg(alg, op)
    seed = _seed_tensor(seed, op)
    np_dtype = dtypes.as_dtype(dtype)._np
    shape = _shape(shape)
    if np_dtype.kind in "iu":
        if (minval is None) != (maxval is None):
            raise ValueError(f"{op}: for integer dtype {np_dtype.name}, `minval` and `maxval` "
                             f"must be both None or both set; received minval={minval}, "
                             f"maxval={maxval}.")
        if minval is None:
            return StatelessRandom(seed, shape=shape, dtype=np_dtype, distribution="full_int")
        if np_dtype.kind == "u":
            raise ValueError(f"{op}: unsigned dtype {np_dtype.name} with `minval` is not "
                             f"supported (as in TF).")
        low, high = int(minval), int(maxval)
        if low >= high:
            raise ValueError(f"{op}: need minval < maxval; received minval={low}, "
                             f"maxval={high}.")
        return StatelessRandom(seed, shape=shape, dtype=np_dtype, distribution="uniform_int",
                               low=low, high=high)
    np_dtype = _float_dtype(dtype, op)
    unit = StatelessRandom(seed, shape=shape, dtype=np_dtype, distribution="uniform")
    maxval = 1 if maxval is None else maxval
    low = _const(minval, np_dtype)
    return unit * (_const(maxval, np_dtype) - low) + low


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                     alg="auto_select"):
    """Normal values, TF's numbers for the same `seed`.

    Example:
        >>> tf.random.stateless_normal([2], seed=[1, 2]).numpy()
        array([0.5441101 , 0.20738031], dtype=float32)
    """
    op = "random.stateless_normal"
    _check_alg(alg, op)
    np_dtype = _float_dtype(dtype, op)
    unit = StatelessRandom(_seed_tensor(seed, op), shape=_shape(shape), dtype=np_dtype,
                           distribution="normal")
    return unit * _const(stddev, np_dtype) + _const(mean, np_dtype)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                               name=None, alg="auto_select"):
    """Normal values redrawn beyond 2 stddevs, TF's numbers for the same `seed`.

    Example:
        >>> tf.random.stateless_truncated_normal([2], seed=[1, 2]).numpy()
        array([0.5441101 , 0.20738031], dtype=float32)
    """
    op = "random.stateless_truncated_normal"
    _check_alg(alg, op)
    np_dtype = _float_dtype(dtype, op)
    unit = StatelessRandom(_seed_tensor(seed, op), shape=_shape(shape), dtype=np_dtype,
                           distribution="truncated_normal")
    return unit * _const(stddev, np_dtype) + _const(mean, np_dtype)


def _multinomial_forward(logits, seed, num_samples, dtype):
    """Rows are sampled in order from one stream, 2 words (one double) per sample, each
    draw scaled by the row's unnormalized CDF total and located with an upper bound."""
    key, counter = philox.seed_to_key_counter(seed)
    batch, classes = logits.shape
    words = _words(key, counter, 2 * batch * num_samples).reshape(batch, num_samples, 2)
    draws = philox.uint64_to_double(words[..., 0], words[..., 1])
    out = xp.empty((batch, num_samples), dtype=dtype)
    with errstate(all="ignore"):  # inf/NaN logits: TF samples silently
        _fill_samples(out, logits, draws)
    return out


def _fill_samples(out, logits, draws):
    classes = logits.shape[1]
    for row in range(logits.shape[0]):
        values = logits[row].astype(xp.float64)
        finite = xp.isfinite(values)
        top = values[finite].max() if finite.any() else xp.finfo(logits.dtype).min
        weights = xp.where(finite, xp.exp(xp.where(finite, values, 0.0) - float(top)), 0.0)
        cdf = xp.cumsum(weights)
        total = cdf[-1] if classes else 0.0
        out[row] = xp.searchsorted(cdf, draws[row] * total, side="right")


StatelessMultinomial = Primitive("StatelessMultinomial", _multinomial_forward)


def stateless_categorical(logits, num_samples, seed, dtype=dtypes.int64, name=None):
    """Draws class indices from each row of unnormalized log-probabilities, TF's numbers
    for the same `seed`.

    Example:
        >>> tf.random.stateless_categorical(tf.math.log([[0.5, 0.5]]), 5, seed=[7, 17]).numpy()
        array([[1, 0, 1, 0, 0]])

    Rows are drawn from one stream, as TF does for inputs it evaluates in one CPU shard;
    for large inputs TF restarts the stream per shard, which depends on its thread count.
    """
    op = "random.stateless_categorical"
    logits = tensor(logits)
    if logits.shape.rank != 2:
        raise ValueError(f"{op}: `logits` must be 2-D [batch_size, num_classes]; received "
                         f"shape {logits.shape.as_list()}.")
    if logits._value.dtype.kind != "f":
        raise TypeError(f"{op}: `logits` must be floating-point; received "
                        f"{logits._value.dtype.name}.")
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype not in (xp.int32, xp.int64):
        raise ValueError(f"{op}: `dtype` must be int32 or int64; received {np_dtype.name}.")
    num_samples = int(num_samples.numpy() if isinstance(num_samples, Tensor) else num_samples)
    if num_samples < 0:
        raise ValueError(f"{op}: `num_samples` must be >= 0; received {num_samples}.")
    if logits.shape[1] == 0 and num_samples:
        raise ValueError(f"{op}: `logits` has no classes (shape {logits.shape.as_list()}), "
                         f"so no sample can be drawn.")
    return StatelessMultinomial(logits, _seed_tensor(seed, op), num_samples=num_samples,
                                dtype=np_dtype)


def stateless_split(seed, num=2, alg="auto_select"):
    """`tf.random.experimental.stateless_split`: `num` new seeds from `seed`, TF's numbers.

    Returns:
        An int Tensor `[num, 2]` of `seed`'s dtype (int32 for Python ints).

    Example:
        >>> tf.random.experimental.stateless_split([1, 2], num=1).numpy()
        array([[1105988140, 1738052849]], dtype=int32)
    """
    op = "random.experimental.stateless_split"
    _check_alg(alg, op)
    seed = _seed_tensor(seed, op)
    return StatelessRandom(seed, shape=(int(num), 2), dtype=seed._value.dtype,
                           distribution="full_int")


def stateless_fold_in(seed, data, alg="auto_select"):
    """`tf.random.experimental.stateless_fold_in`: a new seed from `seed` and an integer
    `data`, TF's numbers: `[a draw of data's dtype, data]`.

    Example:
        >>> tf.random.experimental.stateless_fold_in([1, 2], 17).numpy()
        array([1105988140,         17], dtype=int32)
    """
    from numpyflow.ops.array_ops import stack
    op = "random.experimental.stateless_fold_in"
    _check_alg(alg, op)
    data = data if isinstance(data, Tensor) else tensor(data)
    if data._value.dtype.kind not in "iu" or data.shape.rank != 0:
        raise ValueError(f"{op}: `data` must be an integer scalar; received dtype "
                         f"{data.dtype.name} and shape {data.shape.as_list()}.")
    drawn = StatelessRandom(_seed_tensor(seed, op), shape=(), dtype=data._value.dtype,
                            distribution="full_int")
    return stack([drawn, data])
