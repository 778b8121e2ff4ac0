"""The shuffle buffer algorithm, shared by element-by-element and index-only pipelines.

`shuffle` runs it over elements; the fast batching path of in-memory slices
(`slicing.py`) runs it over integer indices. Both consume the same random draws, so both
give the same order. Draws are taken from NumPy in blocks (one call for many bounded
integers) when NumPy's broadcast draws equal one-at-a-time draws, which
`_broadcast_matches_scalar` checks once; otherwise they are taken one at a time.

    >>> rng = np.random.default_rng(0)
    >>> sorted(shuffled(iter(range(5)), 2, rng))
    [0, 1, 2, 3, 4]
"""

import numpy as np

_BLOCK = 256  # Draws taken at once while the buffer streams (the rest are rewound).
_broadcast_ok = None


def shuffled(items, buffer_size, rng):
    """Yields `items` shuffled through a buffer of `buffer_size` (None: all of them).

    The buffer is filled first; then each new item replaces a uniformly drawn buffer
    slot, whose item is yielded. At the end, the buffer is emptied in random order.

    Args:
        items: An iterator (not closed here).
        buffer_size: A positive int, or None for a full shuffle.
        rng: A `np.random.Generator`, private to this pass.

    Example:
        >>> list(shuffled(iter(range(4)), 1, np.random.default_rng(0)))
        [0, 1, 2, 3]
    """
    buffer = []
    draws, used, saved = [], 0, None
    for item in items:
        if buffer_size is None or len(buffer) < buffer_size:
            buffer.append(item)
            continue
        if used == len(draws):
            saved = rng.bit_generator.state
            draws, used = _draws(rng, np.full(_BLOCK, buffer_size, np.int64)), 0
        index = draws[used]
        used += 1
        chosen, buffer[index] = buffer[index], item
        yield chosen
    if used < len(draws):  # Rewind the draws taken ahead and not used.
        rng.bit_generator.state = saved
        _draws(rng, np.full(used, buffer_size, np.int64))
    for index in _draws(rng, np.arange(len(buffer), 0, -1, dtype=np.int64)):
        buffer[index], buffer[-1] = buffer[-1], buffer[index]
        yield buffer.pop()


def _draws(rng, highs):
    """`[int(rng.integers(h)) for h in highs]`, with the same values and generator state."""
    if _broadcast_matches_scalar():
        return rng.integers(highs).tolist()
    return [int(rng.integers(h)) for h in highs]


def _broadcast_matches_scalar():
    """Whether `rng.integers(array)` draws as one `rng.integers(h)` call per element does."""
    global _broadcast_ok
    if _broadcast_ok is None:
        highs = np.array([1, 2, 3, 7, 1000, 60000, 2**31, 2**33, 5, 1], np.int64)
        a, b = np.random.default_rng((7, 11)), np.random.default_rng((7, 11))
        vector = a.integers(highs).tolist() + [int(a.integers(2**40))]
        scalar = [int(b.integers(h)) for h in highs.tolist()] + [int(b.integers(2**40))]
        _broadcast_ok = vector == scalar
    return _broadcast_ok
