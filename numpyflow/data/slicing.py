"""Fast batching of in-memory slices: batches by index instead of element by element.

A dataset whose elements are rows of in-memory arrays (`from_tensor_slices`, then any of
`shuffle`, `take`, `skip`, `repeat`, `enumerate`, `zip`, `with_options`) carries a
`SlicePlan`: a stream of integer keys (row numbers) and a gather that builds a whole
batch from a list of keys with one fancy index per component. `batch` uses it instead of
making each element and stacking them.

The key stream of a transformation is produced by the very generator its element path
runs, fed with keys instead of elements, so the order, the random draws and the side
effects (a shuffle's epoch count) are the same; the batches are equal, dtypes included.

    >>> import numpyflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices([1, 2, 3]).shuffle(3, seed=1)
    >>> ds._plan is not None
    True
"""

import builtins
import itertools

import numpy as np

from numpyflow.data import structure
from numpyflow.framework.tensor import Tensor


class SlicePlan:
    """How a dataset's elements are rows of in-memory arrays.

    Args:
        keys: Zero-argument function returning a closable generator of one pass's keys.
        gather: Function from a list of keys to the batch of those elements (each leaf
            stacked along a new first axis, as `batch` stacks them).
    """

    __slots__ = ("keys", "gather")

    def __init__(self, keys, gather):
        self.keys = keys
        self.gather = gather


def from_slices(element, leaves):
    """The plan of `from_tensor_slices`; None when a component holds strings."""
    if any(leaf.dtype.kind == "O" for leaf in leaves):
        return None
    count = leaves[0].shape[0]

    def keys():
        yield from range(count)

    def gather(rows):
        index = np.fromiter(rows, dtype=np.intp, count=len(rows))
        return structure.pack_as(element, [Tensor(leaf[index]) for leaf in leaves])
    return SlicePlan(keys, gather)


def derived(plan, run):
    """The plan of a transformation that only reorders, drops or repeats elements.

    `run(open_items)` is the transformation's pass over the items that `open_items()`
    opens: the same generator serves elements and keys.
    """
    if plan is None:
        return None
    return SlicePlan(lambda: run(plan.keys), plan.gather)


def enumerated(plan, start):
    """The plan of `enumerate(start)`: keys are (counter, inner key) pairs."""
    if plan is None:
        return None

    def keys():
        inner = plan.keys()
        try:
            yield from zip(itertools.count(start), inner)
        finally:
            inner.close()

    def gather(pairs):
        counters = Tensor(np.array([c for c, _ in pairs], dtype=np.int64))
        return (counters, plan.gather([k for _, k in pairs]))
    return SlicePlan(keys, gather)


def zipped(datasets, members, run):
    """The plan of `Dataset.zip`; None unless every member has a plan.

    `run(openers)` is zip's pass over the iterators the functions `openers` open.
    """
    plans = [m._plan for m in members]
    if not plans or any(p is None for p in plans):
        return None

    def gather(keys):
        columns = [plan.gather([k[i] for k in keys]) for i, plan in builtins.enumerate(plans)]
        return structure.pack_as(datasets, columns)
    return SlicePlan(lambda: run([p.keys for p in plans], tuple), gather)


def batches(plan, size, drop_remainder):
    """Yields the batches of `size` elements of a planned dataset, as `batch` would."""
    keys = plan.keys()
    try:
        while True:
            group = list(itertools.islice(keys, size))  # Pulls no key past the batch.
            if len(group) == size or (group and not drop_remainder):
                yield plan.gather(group)
            if len(group) < size:
                return
    finally:
        keys.close()

