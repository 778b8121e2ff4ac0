"""`tf.random.Generator` and the stateful samplers built on the stateless ones
(`tf.random.categorical`, `tf.random.gamma`, `tf.random.poisson`).

A Generator keeps its state in an int64 Variable of shape [3] (TF's Philox layout:
a 64-bit counter in two words, then the key). Each draw takes the stateless seed pair
(key, counter) and advances the counter by one, so draws are independent Philox streams.
Because the seed is read from the Variable and the advance is a Variable assignment,
a `tf.function` drawing from a Generator compiles into a plan that draws anew on every
call, exactly as eager calls would.

The numbers are not TF's for the same seed (TF splits its counter differently); the
distributions, shapes and dtypes are. Draws repeat for the same seed and call order.

    >>> import numpyflow as tf
    >>> g = tf.random.Generator.from_seed(1)
    >>> g.normal([2, 3]).shape
    TensorShape([2, 3])
"""

from numpyflow.backend import xp
from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.variable import Variable
from numpyflow.ops import random_ops, stateless_random_ops, stateless_random_samplers
from numpyflow.ops._convert import tensor
from numpyflow.ops.indexing_ops import gather

# TF's `tf.random.Algorithm.PHILOX.value`; Threefry is accepted by name but draws Philox.
_PHILOX = 1
_STATE_SIZE = 3
_ADVANCE = xp.array([1, 0, 0], dtype=xp.int64)


def _check_algorithm(alg):
    if alg is None:
        return _PHILOX
    value = getattr(alg, "value", alg)
    if isinstance(value, str):
        value = {"philox": 1, "threefry": 2, "auto_select": 3}.get(value.lower(), value)
    if value not in (1, 2, 3):
        raise ValueError(f"tf.random.Generator: unsupported algorithm {alg!r}; expected "
                         f"'philox', 'threefry' or 'auto_select' (or tf.random.Algorithm).")
    return _PHILOX


def _seed_to_state(seed):
    seed = int(seed.numpy() if isinstance(seed, Tensor) else seed)
    # The seed's 64 bits become the key (as a signed int64); the counter starts at zero.
    key = (seed + 2 ** 63) % 2 ** 64 - 2 ** 63
    return xp.array([0, 0, key], dtype=xp.int64)


class Generator:
    """A random number generator with its own state (`tf.random.Generator`).

    Make one with `from_seed`, `from_non_deterministic_state` or `from_state`; draw with
    `normal`, `uniform`, `truncated_normal`, `uniform_full_int`, `binomial`; derive
    independent ones with `split`.
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            if state is not None or alg is not None:
                raise ValueError("tf.random.Generator: give either copy_from or state/alg.")
            state = copy_from.state.numpy()
        elif state is None:
            raise ValueError("tf.random.Generator: give copy_from or state (or use "
                             "Generator.from_seed / from_non_deterministic_state).")
        self._alg = _check_algorithm(alg)
        state = xp.asarray(state.numpy() if isinstance(state, Tensor) else state)
        if state.shape != (_STATE_SIZE,) or state.dtype.kind not in "iu":
            raise ValueError(f"tf.random.Generator: the Philox state must be {_STATE_SIZE} "
                             f"integers. Received shape {list(state.shape)} of dtype "
                             f"{state.dtype.name}.")
        self._state = Variable(state.astype(xp.int64), trainable=False, name="StateVar")

    @classmethod
    def from_seed(cls, seed, alg=None):
        """A Generator whose draws are determined by the integer `seed`."""
        return cls(state=_seed_to_state(seed), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A Generator seeded from the operating system's entropy."""
        import secrets  # Here, not at the top: it costs ~3 ms of `import numpyflow`.
        return cls.from_seed(secrets.randbits(63), alg=alg)

    @classmethod
    def from_state(cls, state, alg):
        """A Generator starting from `state` (3 integers, as `Generator.state` holds)."""
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg):
        """A Generator from a Philox key (1 integer) and counter (2 integers)."""
        key = xp.asarray(key.numpy() if isinstance(key, Tensor) else key).reshape(-1)
        counter = xp.asarray(counter.numpy() if isinstance(counter, Tensor) else counter)
        return cls(state=xp.concatenate([counter.reshape(-1), key]).astype(xp.int64), alg=alg)

    @property
    def state(self):
        """The int64 Variable of shape [3] holding the state."""
        return self._state

    @property
    def key(self):
        """The key part of the state (its last word): an int64 scalar tensor."""
        return gather(self._state, 2)

    def _checkpoint_children(self):
        """`tf.train.Checkpoint` saves and restores the state: draws resume where they were."""
        return [("state", self._state)]

    @property
    def algorithm(self):
        """The RNG algorithm's TF number (1: Philox)."""
        return self._alg

    def reset(self, state):
        """Sets the state (3 integers)."""
        self._state.assign(xp.asarray(state.numpy() if isinstance(state, Tensor) else state,
                                      dtype=xp.int64))

    def reset_from_seed(self, seed):
        """Sets the state as `from_seed(seed)` would make it."""
        self._state.assign(_seed_to_state(seed))

    def reset_from_key_counter(self, key, counter):
        """Sets the state from a key and a counter."""
        self.reset(Generator.from_key_counter(key, counter, self._alg).state)

    def skip(self, delta):
        """Advances the state as `delta` draws would."""
        self._state.assign_add(_ADVANCE * int(delta))

    def _next_seed(self):
        """The stateless seed pair of the next draw (a tensor read from the state), after
        which the counter advances: both are ops, so a traced function redoes them."""
        seed = gather(self._state, [2, 0])
        self._state.assign_add(_ADVANCE)
        return seed

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        """Normal samples of `shape`."""
        return stateless_random_ops.stateless_normal(shape, self._next_seed(), mean=mean,
                                                     stddev=stddev, dtype=dtype)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        """Normal samples redrawn beyond 2 standard deviations."""
        return stateless_random_ops.stateless_truncated_normal(
            shape, self._next_seed(), mean=mean, stddev=stddev, dtype=dtype)

    def uniform(self, shape, minval=0, maxval=None, dtype=dtypes.float32, name=None):
        """Uniform samples in [minval, maxval). For integer dtypes give both bounds, or
        neither (the whole range of the dtype), as in TF."""
        np_dtype = dtypes.as_dtype(dtype)._np
        if np_dtype.kind in "iu" and maxval is None and minval is not None:
            raise ValueError(f"For integer dtype {dtypes.as_dtype(dtype).name}, minval and "
                             f"maxval must be both `None` or both non-`None`; got "
                             f"minval={minval} and maxval={maxval}")
        return stateless_random_ops.stateless_uniform(shape, self._next_seed(), minval=minval,
                                                      maxval=maxval, dtype=dtype)

    def uniform_full_int(self, shape, dtype=dtypes.uint64, name=None):
        """Integers over the whole range of `dtype` (int32, int64, uint32 or uint64)."""
        if dtypes.as_dtype(dtype).name not in ("int32", "int64", "uint32", "uint64"):
            raise ValueError(f"Generator.uniform_full_int: dtype must be one of int32, int64, "
                             f"uint32, uint64. Received: dtype={dtypes.as_dtype(dtype).name}")
        return stateless_random_ops.stateless_uniform(shape, self._next_seed(), minval=None,
                                                      maxval=None, dtype=dtype)

    def binomial(self, shape, counts, probs, dtype=dtypes.int32, name=None):
        """Binomial(counts, probs) samples of `shape`."""
        return stateless_random_samplers.stateless_binomial(
            shape, self._next_seed(), counts, probs, output_dtype=dtype)

    def make_seeds(self, count=1):
        """`count` new stateless seeds: an int64 tensor [2, count] (column i is a seed)."""
        from numpyflow.ops.array_ops import stack
        draws = self.uniform_full_int([int(count)], dtype=dtypes.int64)
        return stack([draws, draws * 0])  # TF's shape and second row (its seeds are keys).

    def split(self, count=1):
        """`count` new Generators, independent of this one and of each other (advances
        this one's state)."""
        seeds = self.make_seeds(int(count)).numpy()
        return [Generator(state=xp.array([0, 0, seeds[0, i]], dtype=xp.int64), alg=self._alg)
                for i in range(int(count))]


class _GlobalGenerator:
    """The generator `tf.random.get_global_generator` returns, made on first use."""

    generator = None


_global = _GlobalGenerator()


def get_global_generator():
    """The process's default Generator (`tf.random.get_global_generator`): seeded from
    `tf.random.set_seed` when one was set before its first use, else from entropy.

    Example:
        >>> import numpyflow as tf
        >>> tf.random.get_global_generator().normal([2]).shape
        TensorShape([2])
    """
    if _global.generator is None:
        seed = random_ops.get_global_generator_seed()
        _global.generator = (Generator.from_non_deterministic_state() if seed is None
                             else Generator.from_seed(seed))
    return _global.generator


def set_global_generator(generator):
    """Replaces the global generator (`tf.random.set_global_generator`)."""
    if not isinstance(generator, Generator):
        raise TypeError(f"tf.random.set_global_generator: expected a tf.random.Generator. "
                        f"Received: {generator!r}")
    _global.generator = generator


def create_rng_state(seed, alg):
    """The state `Generator.from_seed(seed, alg)` starts from, as a NumPy array."""
    _check_algorithm(alg)
    return _seed_to_state(seed)


# -- stateful samplers on the stateless ones -------------------------------------------------

def _fresh_seed(seed):
    """A seed pair drawn by a stateful primitive, so a traced plan draws anew each call and
    TF's seeding rules (`tf.random.set_seed` plus an op seed) apply."""
    return random_ops.uniform([2], minval=0, maxval=2 ** 31 - 1, dtype=dtypes.int64, seed=seed)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Class indices drawn from each row of unnormalized log-probabilities
    (`tf.random.categorical`): an int64 tensor [batch, num_samples] by default.

    Example:
        >>> import numpyflow as tf
        >>> tf.random.categorical(tf.math.log([[0.5, 0.5]]), 5, seed=1).shape
        TensorShape([1, 5])
    """
    return stateless_random_ops.stateless_categorical(
        logits, num_samples, _fresh_seed(seed), dtype=dtypes.int64 if dtype is None else dtype)


def gamma(shape, alpha, beta=None, dtype=dtypes.float32, seed=None, name=None):
    """Gamma(alpha, beta) samples (`tf.random.gamma`): shape `shape + broadcast(alpha,
    beta).shape`, differentiable with respect to `alpha` and `beta`.

    Example:
        >>> import numpyflow as tf
        >>> tf.random.gamma([3], alpha=[1., 2.]).shape
        TensorShape([3, 2])
    """
    np_dtype = dtypes.as_dtype(dtype)._np
    alpha = alpha if isinstance(alpha, Tensor) else tensor(xp.asarray(alpha, dtype=np_dtype))
    beta_shape = () if beta is None else xp.shape(beta.numpy() if isinstance(beta, Tensor)
                                                  else beta)
    params = xp.broadcast_shapes(tuple(alpha.shape.as_list()), tuple(beta_shape))
    full_shape = list(random_ops._shape(shape)) + list(params)
    return stateless_random_samplers.stateless_gamma(full_shape, _fresh_seed(seed), alpha,
                                                     beta=beta, dtype=dtype)


def poisson(shape, lam, dtype=dtypes.float32, seed=None, name=None):
    """Poisson(lam) samples (`tf.random.poisson`): shape `shape + lam.shape`, float32 by
    default, as in TF.

    Example:
        >>> import numpyflow as tf
        >>> tf.random.poisson([3], lam=[1., 2.], dtype=tf.int32).shape
        TensorShape([3, 2])
    """
    lam = lam if isinstance(lam, Tensor) else tensor(lam)
    full_shape = list(random_ops._shape(shape)) + lam.shape.as_list()
    return stateless_random_samplers.stateless_poisson(full_shape, _fresh_seed(seed), lam,
                                                       dtype=dtype)
