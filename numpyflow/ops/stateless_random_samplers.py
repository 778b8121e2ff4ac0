"""`tf.random.stateless_gamma`, `stateless_poisson`, `stateless_binomial` and
`stateless_parameterized_truncated_normal`: rejection samplers, TF's numbers for the seed.

Gamma, Poisson and binomial draw each output from its own stretch of the Philox stream:
output `o` (counted parameter-major: all samples of the first alpha/rate, then the next)
starts 256 counters (42 for binomial inversion) after output `o - 1` and takes as many blocks
as its rejection loop needs. Uniform and normal doubles come four words (one block) at a time
and are used last-first, as TF's sample buffers hand them out. The per-output loop runs in
double precision with Python's `math` (the C library's functions, as TF's kernels call), and
the result is rounded to the requested dtype. The parameterized truncated normal instead
walks one stream through all outputs in the parameters' own dtype (see its docstring).

    >>> import numpyflow as tf
    >>> tf.random.stateless_poisson([3], seed=[1, 2], lam=3.0).numpy()
    array([5, 5, 4], dtype=int32)
"""

import math

from numpyflow.backend import errstate, special, xp
from numpyflow.framework import dtypes
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor
from numpyflow.ops import philox
from numpyflow.ops._convert import tensor

__all__ = ["stateless_gamma", "stateless_poisson", "stateless_binomial",
           "stateless_parameterized_truncated_normal"]

_RESERVED_PER_OUTPUT = 256  # Philox counters between two outputs' streams, as in TF
_FIRST_BLOCKS = 4           # blocks computed up front per output (vectorized)
_MAX_ATTEMPTS = 100000      # a rejection loop this long means a non-finite parameter
_TWO_52 = float(2 ** 52)


class _OutputStreams:
    """The Philox blocks of a group of outputs: output `o` reads blocks
    counter + stride * o + k (TF reserves `stride` counters per output)."""

    def __init__(self, key, counter, outputs, stride):
        self._key, self._counter, self._stride = key, counter, stride
        self._row = {o: i for i, o in enumerate(outputs)}
        offsets = (xp.asarray(outputs, dtype=xp.uint64)[:, None] * xp.uint64(stride)
                   + xp.arange(_FIRST_BLOCKS, dtype=xp.uint64)[None, :])
        blocks = philox._rounds(philox._add_counter(counter, offsets.ravel()), key)
        self._blocks = blocks.reshape(len(outputs), _FIRST_BLOCKS, 4).astype(xp.int64).tolist()

    def block(self, output, k):
        if k < _FIRST_BLOCKS:
            return self._blocks[self._row[output]][k]
        offset = xp.array([output * self._stride + k], dtype=xp.uint64)
        return philox._rounds(philox._add_counter(self._counter, offset), self._key)[0].tolist()


class _Draws:
    """One output's generator: double uniforms and normals, each from its own buffer of
    two, refilled with the stream's next block and emptied last-first (TF's
    RandomSampleBuffer)."""

    def __init__(self, streams, output):
        self._streams, self._output, self._next = streams, output, 0
        self._uniforms, self._normals = [], []

    def _block(self):
        block = self._streams.block(self._output, self._next)
        self._next += 1
        if self._next > _MAX_ATTEMPTS:
            raise invalid_argument("StatelessRandom", "the rejection sampler found no sample "
                                   "(is a parameter infinite or NaN?)")
        return block

    @staticmethod
    def _doubles(block):
        # Uint64ToDouble: 52 mantissa bits (20 from the first word, 32 from the second).
        return (((block[0] & 0xFFFFF) << 32 | block[1]) / _TWO_52,
                ((block[2] & 0xFFFFF) << 32 | block[3]) / _TWO_52)

    def uniform(self):
        if not self._uniforms:
            self._uniforms = list(self._doubles(self._block()))
        return self._uniforms.pop()

    def normal(self):
        if not self._normals:
            u1, u2 = self._doubles(self._block())
            u1 = max(u1, 1.0e-7)
            v1 = 2 * math.pi * u2
            radius = math.sqrt(-2.0 * math.log(u1))
            self._normals = [math.sin(v1) * radius, math.cos(v1) * radius]
        return self._normals.pop()


def _gamma_sample(draws, alpha):
    """Marsaglia and Tsang's method (alpha != 1) as TF's StatelessRandomGamma kernel runs
    it; below 1 the draw for alpha + 1 is scaled by uniform ** (1 / alpha)."""
    small = alpha < 1.0
    d = alpha + (2.0 / 3 if small else -1.0 / 3)
    c = 1.0 / 3 / math.sqrt(d)
    while True:
        x = draws.normal()
        v = 1 + c * x
        if v <= 0:
            continue
        v = v * v * v
        u = draws.uniform()
        if u < 1 - 0.0331 * (x * x) * (x * x) or \
                math.log(u) < 0.5 * x * x + d * (1 - v + math.log(v)):
            result = d * v
            if small:
                result *= math.pow(draws.uniform(), 1 / alpha)
            return result


def _poisson_sample(draws, rate, highest, per_rate):
    """Knuth's product method below rate 10, Hormann's transformed rejection above, as TF's
    Poisson kernel (in double). `per_rate` holds the constants computed once per rate."""
    if rate < 10:
        exp_neg_rate = per_rate
        product, x = 1.0, 0.0
        while True:
            product = product * draws.uniform()
            if product <= exp_neg_rate and x <= highest:
                return x
            x += 1
    log_rate, b, a, inv_alpha = per_rate
    while True:
        u = draws.uniform() - 0.5
        v = draws.uniform()
        u_shifted = 0.5 - abs(u)
        k = math.floor((2 * a / u_shifted + b) * u + rate + 0.43)
        if k > highest:
            continue
        if u_shifted >= 0.07 and v <= 0.9277 - 3.6224 / (b - 2):
            return k
        if k < 0 or (u_shifted < 0.013 and v > u_shifted):
            continue
        s = math.log(v * inv_alpha / (a / (u_shifted * u_shifted) + b))
        t = -rate + k * log_rate - math.lgamma(k + 1)
        if s <= t:
            return k


def _poisson_constants(rate):
    if rate < 10:
        return math.exp(-rate)
    b = 0.931 + 2.53 * math.sqrt(rate)
    a = -0.059 + 0.02483 * b
    return math.log(rate), b, a, 1.1239 + 1.1328 / (b - 3.4)


def _fill(seed, shape, params, sample, stride=lambda value: _RESERVED_PER_OUTPUT):
    """Runs `sample(draws, param, cache)` for every output: samples of one parameter lie
    `num_params` apart in the (row-major) output, streams are numbered parameter-major and
    `stride(param)` counters apart."""
    shape = tuple(shape)
    n = int(xp.prod(shape, dtype=xp.int64))
    flat = params.reshape(-1).tolist() if isinstance(params, xp.ndarray) else list(params)
    num_params = len(flat)
    out = xp.empty(n, dtype=xp.float64)
    if n == 0:
        return out.reshape(shape)
    per_param = n // num_params
    key, counter = philox.seed_to_key_counter(seed)
    for p, value in enumerate(flat):
        cache = {}
        outputs = list(range(p * per_param, (p + 1) * per_param))
        streams = _OutputStreams(key, counter, outputs, stride(value))
        for s, output in enumerate(outputs):
            out[s * num_params + p] = sample(_Draws(streams, output), value, cache)
    return out.reshape(shape)


def _check_ends_with(shape, param_shape, op):
    if len(param_shape) > len(shape) or tuple(shape[len(shape) - len(param_shape):]) != \
            tuple(param_shape):
        raise invalid_argument(op, "Shape passed in must end with broadcasted shape.")


def _to_dtype(values, np_dtype):
    if np_dtype == xp.float16:  # Eigen::half from double goes through float
        return values.astype(xp.float32).astype(xp.float16)
    return values.astype(np_dtype)


def _gamma_forward(seed, alpha, shape, dtype):
    _check_ends_with(shape, alpha.shape, "StatelessRandomGammaV3")
    if alpha.size == 0:
        raise invalid_argument("StatelessRandomGammaV3", f"Input alpha should have non-zero "
                               f"element count, got: {alpha.size}")

    def sample(draws, value, _):
        if not value > 0.0:  # As TF's kernel: zeros for alpha 0, NaN for alpha < 0 or NaN.
            return 0.0 if value == 0.0 else math.nan
        if value == 1.0:  # Exponential: the first block's second uniform.
            u = draws.uniform()
            return -math.log1p(-u)
        return _gamma_sample(draws, value)

    return _to_dtype(_fill(seed, shape, alpha.astype(xp.float64), sample), dtype)


def _poisson_forward(seed, lam, shape, dtype):
    _check_ends_with(shape, lam.shape, "StatelessRandomPoisson")
    np_dtype = xp.dtype(dtype)
    highest = float(xp.finfo(np_dtype).max if np_dtype.kind == "f" else xp.iinfo(np_dtype).max)

    def sample(draws, rate, cache):
        if not math.isfinite(rate):  # TF's kernel never ends on NaN; say what is wrong.
            raise invalid_argument("StatelessRandomPoisson", f"lam must be finite; received "
                                   f"lam={rate}")
        if "constants" not in cache:
            cache["constants"] = _poisson_constants(rate)
        return _poisson_sample(draws, rate, highest, cache["constants"])

    return _to_dtype(_fill(seed, shape, lam.astype(xp.float64), sample), np_dtype)


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287)


def _stirling_tail(k):
    """The error of Stirling's approximation of log(k!): a table below 10, a series above."""
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 + 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(draws, count, prob):
    """Sums geometric waiting times until they pass `count` (for count * prob < 10)."""
    total, successes = 0.0, 0
    log_q = math.log1p(-prob)
    while True:
        total += math.ceil(math.log(draws.uniform()) / log_q)
        if total > count:
            return float(successes)
        successes += 1


def _btrs(draws, count, prob):
    """Hormann's BTRS transformed rejection (count * prob >= 10), as TF's kernel."""
    stddev = math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    while True:
        u = draws.uniform()
        v = draws.uniform()
        u = u - 0.5
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + c)
        if us >= 0.07 and v <= v_r:
            return float(k)
        if k < 0 or k > count:
            continue
        alpha = (2.83 + 5.1 / b) * stddev
        m = math.floor((count + 1) * prob)
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                 + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(count - k))
        if v <= upper:
            return float(k)


def _binomial_plan(count, prob):
    """TF's choice per (count, prob), with its tests in the parameters' own dtype:
    (method, parameter, stride): "zero", "all", "nan", or a sampler on p or on q = 1 - p."""
    one, ten = type(prob)(1), type(prob)(10)
    if float(count) <= 0.0 or prob <= 0:
        return "zero", None, 0
    if prob >= one:
        return "all", None, 0
    if prob <= type(prob)(0.5):
        return ("btrs" if count * prob >= ten else "inversion"), float(prob), \
            256 if count * prob >= ten else 42
    if prob > type(prob)(0.5):
        q = one - prob
        return ("btrs_q" if count * q >= ten else "inversion_q"), float(q), \
            256 if count * q >= ten else 42
    return "nan", None, 0


def _binomial_forward(seed, counts, probs, shape, dtype):
    op = "StatelessRandomBinomial"
    try:
        batch = xp.broadcast_shapes(counts.shape, probs.shape)
    except ValueError:
        raise invalid_argument(op, f"counts and probs must have compatible batch dimensions: "
                               f"{list(counts.shape)} vs. {list(probs.shape)}") from None
    _check_ends_with(shape, batch, op)
    pairs = list(zip(xp.broadcast_to(counts, batch).reshape(-1),
                     xp.broadcast_to(probs, batch).reshape(-1)))

    def sample(draws, pair, cache):
        count, prob = pair
        if "plan" not in cache:
            cache["plan"] = _binomial_plan(count, prob)
        method, p, _ = cache["plan"]
        dcount = float(count)
        if method == "zero":
            return 0.0
        if method == "all":
            return dcount
        if method == "nan":
            return math.nan
        drawn = (_btrs if method.startswith("btrs") else _binomial_inversion)(draws, dcount, p)
        return dcount - drawn if method.endswith("_q") else drawn

    def stride(pair):
        return max(_binomial_plan(*pair)[2], 1)

    with errstate(invalid="ignore"):  # NaN into an integer dtype, as TF's cast
        return _to_dtype(_fill(seed, shape, pairs, sample, stride), xp.dtype(dtype))


class _SequentialStream:
    """Consecutive Philox blocks from the start of the stream, computed in chunks."""

    _CHUNK = 256

    def __init__(self, seed, start=0):
        self._key, self._counter = philox.seed_to_key_counter(seed)
        self._blocks, self._first, self._next = xp.zeros((0, 4), xp.uint32), start, start

    def block(self):
        position = self._next - self._first
        if position >= len(self._blocks):
            self._blocks = philox.philox_blocks(self._key, self._counter, self._CHUNK,
                                                start=self._next)
            self._first, position = self._next, 0
        self._next += 1
        return self._blocks[position:position + 1]


def _uniforms_of(block, np_type):
    """One block as TF's UniformDistribution: 4 floats (or halves) or 2 doubles."""
    if np_type == xp.float64:
        return philox.uint64_to_double(block[:, [0, 2]].ravel(), block[:, [1, 3]].ravel())
    if np_type == xp.float16:
        return philox.uint32_to_half(block.ravel())
    return philox.uint32_to_float(block.ravel())


def _normals_of(block, np_type):
    """One block as TF's NormalDistribution: 4 floats (Box-Muller on word pairs) or 2
    doubles."""
    from numpyflow.ops.stateless_random_ops import _box_muller
    if np_type == xp.float64:
        first, second = _uniforms_of(block, xp.float64)
        a, b = _box_muller(xp.array([first]), xp.array([second]), xp.float64)
        return xp.array([a[0], b[0]])
    words = block.reshape(2, 2)
    a, b = _box_muller(words[:, 0], words[:, 1], xp.float32)
    return xp.stack([a, b], axis=1).ravel().astype(np_type)


def _t_exp(x, t):
    """exp in the dtype `t`: expf for float32 as TF's kernel calls it, else rounded double."""
    if t == xp.float32:
        return philox.float32_libm("expf", xp.array([x], xp.float32))[0]
    return t(math.exp(float(x)))


def _t_log(x, t):
    if t == xp.float32:
        return philox.float32_libm("logf", xp.array([x], xp.float32))[0]
    return t(math.log(float(x)))


def _ptn_batch(stream, mean, stddev, minval, maxval, count, t):
    """`count` samples of one (mean, stddev, minval, maxval), in the parameters' dtype `t`,
    as TF's TruncatedNormalFunctorV2: a normal, uniform or exponential rejection sampler
    chosen from the standardized bounds; a block's unused draws are dropped at the end."""
    if not (stddev > 0 and minval < maxval and (math.isfinite(minval) or
                                                math.isfinite(maxval))):
        raise invalid_argument("StatelessParameterizedTruncatedNormal", "Invalid parameters")
    if (math.isinf(minval) and minval < 0) or maxval < mean:
        minval, maxval, stddev = maxval, minval, -stddev
    norm_min = t((minval - mean) / stddev)
    norm_max = t((maxval - mean) / stddev)
    sqrt_factor = t(xp.sqrt(norm_min * norm_min + t(4)))
    cutoff = t(t(2) * _t_exp(t(0.5) + (norm_min * (norm_min - sqrt_factor)) / t(4), t)
               / (norm_min + sqrt_factor))
    diff = t(norm_max - norm_min)
    inside = t(1.3)
    out, iterations = [], 0
    if (norm_min < -inside and norm_max >= 0) or (norm_max > inside and norm_min <= 0):
        while len(out) < count:
            for z in _normals_of(stream.block(), t):
                if norm_min <= z <= norm_max:
                    out.append(t(z * stddev + mean))
                    iterations = 0
                    if len(out) >= count:
                        break
                else:
                    iterations += 1
                    _give_up(iterations > 1000, "randn")
    elif diff < cutoff:
        plus = t(0) if norm_min < 0 else t(norm_min * norm_min)
        while len(out) < count:
            z = _uniforms_of(stream.block(), t) * diff + norm_min
            g = (plus - z * z) / t(2)
            u = _uniforms_of(stream.block(), t)
            for zi, gi, ui in zip(z, g, u):
                if ui <= _t_exp(gi, t):
                    out.append(t(zi * stddev + mean))
                    iterations = 0
                    if len(out) >= count:
                        break
                else:
                    iterations += 1
                    _give_up(iterations + 1 >= 1000, "uniform")
    else:
        alpha = t((norm_min + xp.sqrt(norm_min * norm_min + t(4))) / t(2))
        while len(out) < count:
            draws = _uniforms_of(stream.block(), t)
            for i in range(0, len(draws), 2):
                z = t(-_t_log(draws[i], t) / alpha + norm_min)
                x = t(alpha - z) if norm_min < alpha else t(norm_min - alpha)
                g = _t_exp(-x * x / t(2), t)
                if draws[i + 1] <= g and z < norm_max:
                    out.append(t(z * stddev + mean))
                    iterations = 0
                    if len(out) >= count:
                        break
                else:
                    iterations += 1
                    _give_up(iterations + 1 >= 1000, "exponential distribution")
    return out


def _give_up(condition, sampler):
    if condition:
        from numpyflow.framework.errors import InternalError
        raise InternalError(None, None, f"TruncatedNormal {sampler} rejection sampler failed "
                            "to accept a sample.")


def _ptn_forward(seed, means, stddevs, minvals, maxvals, shape, shard=None):
    """`shard`: TF's CPU shard size (None: one shard). TF splits a large output across its
    thread pool; shard `k` starts at output `k * shard` with its stream skipped by
    (start * 2 * 1000 + 3) // 4 blocks. Tests pass the size TF used to replay its numbers."""
    op = "StatelessParameterizedTruncatedNormal"
    try:
        batch = xp.broadcast_shapes(means.shape, stddevs.shape, minvals.shape, maxvals.shape)
    except ValueError:
        raise invalid_argument(op, "means, stddevs, minvals and maxvals must have compatible "
                               "batch dimensions") from None
    _check_ends_with(shape, batch, op)
    t = means.dtype.type
    params = [xp.broadcast_to(p, batch).reshape(-1) for p in (means, stddevs, minvals, maxvals)]
    num_batches = len(params[0])
    n = int(xp.prod(shape, dtype=xp.int64))
    out = xp.empty(n, dtype=means.dtype)
    if n == 0:
        return out.reshape(shape)
    per_batch = n // num_batches
    shard = n if shard is None else int(shard)
    with errstate(all="ignore"):
        for start in range(0, n, shard):
            stream = _SequentialStream(seed, start=(start * 2 * 1000 + 3) // 4)
            output, stop = start, min(start + shard, n)
            while output < stop:  # batch by batch, each shard on its own stream
                b, s = divmod(output, per_batch)
                count = min(per_batch - s, stop - output)
                values = _ptn_batch(stream, *(p[b] for p in params), count, t)
                out[xp.arange(s, s + count) * num_batches + b] = values
                output += count
    return out.reshape(shape)


def _regularized_gamma_p(a, x):
    """P(a, x), the regularized lower incomplete gamma function, in double: its series below
    x = a + 1, one minus the continued fraction of Q(a, x) above (Numerical Recipes' split)."""
    if x <= 0:
        return 0.0
    log_prefactor = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-17:
            n += 1
            term *= x / n
            total += term
        return total * math.exp(log_prefactor)
    tiny = 1e-300  # modified Lentz
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return 1.0 - math.exp(log_prefactor) * h


def _gamma_sample_derivative(alpha, sample):
    """d sample / d alpha at fixed P(alpha, sample) (implicit reparameterization, as TF's
    RandomGammaGrad): -(dP/dalpha) / (dP/dsample), dP/dalpha by a central difference."""
    if sample <= 0 or not math.isfinite(sample):
        return 0.0
    step = 1e-5 * max(alpha, 1e-3)
    d_alpha = (_regularized_gamma_p(alpha + step, sample)
               - _regularized_gamma_p(alpha - step, sample)) / (2 * step)
    log_density = (alpha - 1) * math.log(sample) - sample - math.lgamma(alpha)
    return -d_alpha / math.exp(log_density)


def _gamma_gradient(node, upstream):
    from numpyflow.framework.tensor import convert_to_tensor
    alpha = node.inputs[1]._value
    sample = node.output._value
    columns = alpha.size
    alphas = xp.broadcast_to(alpha.astype(xp.float64).reshape(-1),
                             (sample.size // max(columns, 1), columns)).reshape(-1)
    derivative = xp.array([_gamma_sample_derivative(a, x) for a, x in zip(
        alphas.tolist(), sample.astype(xp.float64).reshape(-1).tolist())])
    partial = convert_to_tensor(derivative.reshape(sample.shape).astype(sample.dtype))
    return None, upstream * partial


def _ndtr(x):
    """The standard normal CDF, with erfc in the tails (as TF's _Ndtr)."""
    erf, erfc = special.erf, special.erfc
    w = x * (0.5 * math.sqrt(2.0))
    z = xp.abs(w)
    inner = z < 0.5 * math.sqrt(2.0)
    with errstate(invalid="ignore"):
        return 0.5 * xp.where(inner, 1.0 + erf(xp.where(inner, w, 0.0)),
                              xp.where(w > 0, 2.0 - erfc(z), erfc(z)))


def _ptn_gradient(node, upstream):
    """TF's implicit reparameterization gradient: d sample / d (mean, stddev, minval,
    maxval) = (1, standardized sample, and the CDF-ratio terms for the bounds)."""
    from numpyflow.framework.tensor import convert_to_tensor
    _, mean, stddev, minval, maxval = (x._value.astype(xp.float64) for x in node.inputs)
    sample = node.output._value.astype(xp.float64)
    dtype = node.output._value.dtype
    std_min, std_max = (minval - mean) / stddev, (maxval - mean) / stddev
    std_sample = (sample - mean) / stddev
    with errstate(all="ignore"):
        cdf = (_ndtr(std_sample) - _ndtr(std_min)) / (_ndtr(std_max) - _ndtr(std_min))
        cdf = xp.clip(cdf, xp.finfo(dtype).tiny, 1 - xp.finfo(dtype).eps)
        d_max = xp.exp(0.5 * (std_sample ** 2 - std_max ** 2) + xp.log(cdf))
        d_min = xp.exp(0.5 * (std_sample ** 2 - std_min ** 2) + xp.log1p(-cdf))
    factors = [xp.ones_like(std_sample), std_sample, d_min, d_max]
    return (None,) + tuple(upstream * convert_to_tensor(f.astype(dtype)) for f in factors)


# Functions of the seed and parameters (the seed has no gradient).
StatelessRandomGamma = Primitive("StatelessRandomGammaV3", _gamma_forward, _gamma_gradient)
StatelessRandomPoisson = Primitive("StatelessRandomPoisson", _poisson_forward)
StatelessRandomBinomial = Primitive("StatelessRandomBinomial", _binomial_forward)
StatelessParameterizedTruncatedNormal = Primitive("StatelessParameterizedTruncatedNormal",
                                                  _ptn_forward, _ptn_gradient)


def _seed(seed, op):
    from numpyflow.ops.stateless_random_ops import _seed_tensor
    return _seed_tensor(seed, op)


def _shape(shape):
    from numpyflow.ops.stateless_random_ops import _shape as shape_of
    return shape_of(shape)


def stateless_gamma(shape, seed, alpha, beta=None, dtype=dtypes.float32, name=None):
    """Gamma(alpha, beta) samples, TF's numbers for the same `seed`.

    Args:
        shape: The output shape; it must end with the broadcast shape of `alpha` and `beta`.
        seed: A pair of ints.
        alpha: The concentration (shape) parameter(s), broadcast with `beta`.
        beta: The rate (inverse scale) parameter(s); 1 when None.
        dtype: float16, float32 or float64.
        name: Unused op name (TF's).

    Returns:
        A Tensor of `shape`: the draws divided by `beta`, at least the dtype's smallest
        normal number (as in TF). Differentiable with respect to `alpha` and `beta` (TF's
        implicit reparameterization gradient for `alpha`).

    Example:
        >>> import numpyflow as tf
        >>> tf.random.stateless_gamma([2], seed=[1, 2], alpha=2.5).numpy()
        array([3.4498653, 2.4584897], dtype=float32)
    """
    del name
    from numpyflow.ops.array_ops import broadcast_to
    from numpyflow.ops.math_ops import maximum
    op = "random.stateless_gamma"
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype not in (xp.float16, xp.float32, xp.float64):
        raise ValueError(f"{op}: `dtype` must be float16, float32 or float64; received "
                         f"{np_dtype.name}.")
    alpha = tensor(xp.asarray(alpha, dtype=np_dtype)) if not isinstance(alpha, Tensor) else alpha
    beta = tensor(xp.asarray(1 if beta is None else beta, dtype=np_dtype)) \
        if not isinstance(beta, Tensor) else beta
    for what, value in (("alpha", alpha), ("beta", beta)):
        if value.dtype._np != np_dtype:
            raise ValueError(f"{op}: `{what}` has dtype {value.dtype.name} but `dtype` is "
                             f"{xp.dtype(np_dtype).name}.")
    broadcast = xp.broadcast_shapes(tuple(alpha.shape.as_list()), tuple(beta.shape.as_list()))
    alpha = broadcast_to(alpha, list(broadcast))
    draws = StatelessRandomGamma(_seed(seed, op), alpha, shape=_shape(shape), dtype=np_dtype)
    tiny = tensor(xp.asarray(xp.finfo(np_dtype).tiny, dtype=np_dtype))
    return maximum(tiny, draws / beta)


_POISSON_RATE_TYPES = (xp.float16, xp.float32, xp.float64, xp.int32, xp.int64)


def stateless_poisson(shape, seed, lam, dtype=dtypes.int32, name=None):
    """Poisson(lam) samples, TF's numbers for the same `seed`.

    Args:
        shape: The output shape; it must end with `lam`'s shape.
        seed: A pair of ints.
        lam: The rate(s): float16/32/64 or int32/int64 (a Python float is float32).
        dtype: The output dtype: float16, float32, float64, int32 or int64.
        name: Unused op name (TF's).

    Example:
        >>> import numpyflow as tf
        >>> tf.random.stateless_poisson([2], seed=[1, 2], lam=25.0).numpy()
        array([31, 28], dtype=int32)
    """
    del name
    op = "random.stateless_poisson"
    np_dtype = dtypes.as_dtype(dtype)._np
    if np_dtype not in _POISSON_RATE_TYPES:
        raise ValueError(f"{op}: `dtype` must be float16, float32, float64, int32 or int64; "
                         f"received {xp.dtype(np_dtype).name}.")
    lam = lam if isinstance(lam, Tensor) else tensor(lam)
    if lam.dtype._np not in _POISSON_RATE_TYPES:
        raise TypeError(f"{op}: `lam` must be float16, float32, float64, int32 or int64; "
                        f"received {lam.dtype.name}.")
    return StatelessRandomPoisson(_seed(seed, op), lam, shape=_shape(shape), dtype=np_dtype)


def stateless_binomial(shape, seed, counts, probs, output_dtype=dtypes.int32, name=None):
    """Binomial(counts, probs) samples, TF's numbers for the same `seed`.

    Args:
        shape: The output shape; it must end with the broadcast shape of `counts`, `probs`.
        seed: A pair of ints.
        counts: The number of trials (a float dtype, as `probs`).
        probs: The success probabilities (float16/32/64; a Python float is float32).
        output_dtype: float16, float32, float64, int32 or int64.
        name: Unused op name (TF's).

    Example:
        >>> import numpyflow as tf
        >>> tf.random.stateless_binomial([3], seed=[1, 2], counts=10.0, probs=0.3).numpy()
        array([5, 5, 5], dtype=int32)
    """
    del name
    op = "random.stateless_binomial"
    probs = probs if isinstance(probs, Tensor) else tensor(probs)
    if probs.dtype._np not in (xp.float16, xp.float32, xp.float64):
        raise TypeError(f"{op}: `probs` must be float16, float32 or float64; received "
                        f"{probs.dtype.name}.")
    counts = counts if isinstance(counts, Tensor) else tensor(
        xp.asarray(counts, dtype=probs.dtype._np))
    if counts.dtype != probs.dtype:
        raise TypeError(f"{op}: `counts` ({counts.dtype.name}) and `probs` "
                        f"({probs.dtype.name}) must have the same dtype.")
    np_dtype = dtypes.as_dtype(output_dtype)._np
    if np_dtype not in _POISSON_RATE_TYPES:
        raise ValueError(f"{op}: `output_dtype` must be float16, float32, float64, int32 or "
                         f"int64; received {xp.dtype(np_dtype).name}.")
    return StatelessRandomBinomial(_seed(seed, op), counts, probs, shape=_shape(shape),
                                   dtype=np_dtype)


def stateless_parameterized_truncated_normal(shape, seed, means=0.0, stddevs=1.0,
                                             minvals=-2.0, maxvals=2.0, name=None):
    """Normal(means, stddevs) samples kept inside [minvals, maxvals], TF's numbers for the
    same `seed`.

    TF runs this sampler over the output in shards, one stream per shard; numpyflow gives
    the numbers of one shard, which is what TF does for small outputs. TF splits a large
    output across its thread pool (e.g. 2,000 values in shards of 250 on a 2-core machine),
    so TF's own numbers then depend on its thread count, and differ from these after the
    first shard.

    Differentiable with respect to the four parameters (TF's implicit reparameterization
    gradient).

    Args:
        shape: The output shape; it must end with the parameters' broadcast shape.
        seed: A pair of ints.
        means, stddevs, minvals, maxvals: The parameters, of one float dtype.
        name: Unused op name (TF's).

    Example:
        >>> import numpyflow as tf
        >>> tf.random.stateless_parameterized_truncated_normal(
        ...     [2], seed=[1, 2], minvals=-1.0, maxvals=2.0).numpy()
        array([0.5441101 , 0.20738031], dtype=float32)
    """
    del name
    op = "random.stateless_parameterized_truncated_normal"
    params = [p if isinstance(p, Tensor) else tensor(p)
              for p in (means, stddevs, minvals, maxvals)]
    np_type = params[0].dtype._np
    if np_type not in (xp.float16, xp.float32, xp.float64) or any(
            p.dtype != params[0].dtype for p in params):
        raise TypeError(f"{op}: means, stddevs, minvals and maxvals must share one float "
                        f"dtype; received {[p.dtype.name for p in params]}.")
    return StatelessParameterizedTruncatedNormal(_seed(seed, op), *params,
                                                 shape=_shape(shape))
