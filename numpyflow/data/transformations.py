"""Element-wise and ordering transformations: map, filter, shuffle, repeat, take, ...

Each function takes a dataset and returns a new one; `attach` makes them methods of
`Dataset` under TF's names and signatures.

Randomness (`shuffle`) follows numpyflow's seeding rules (`numpyflow/ops/random_ops.py`):
the seed pair is fixed when the dataset is built. With an op `seed`, the order depends only
on (global seed or TF's default 87654321, op seed), so rebuilding the same pipeline gives
the same order, as in TF. With only `tf.random.set_seed`, the op seed is drawn from the
global stream when `shuffle` is called, so a program's sequence of datasets is
reproducible from `set_seed`. With neither, every build differs. Each pass (epoch)
reshuffles when `reshuffle_each_iteration=True`. The orders themselves differ from TF's
(TF uses Philox; numpyflow NumPy's PCG64).
"""

import builtins
import collections
import itertools
import os
import threading

import numpy as np

from numpyflow.data import parallel, shuffle_buffer, slicing, structure, traced_map
from numpyflow.data.dataset import (
    AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, DatasetSpec, call_with_element,
    check_arity, is_error, peeking)
from numpyflow.data.errors import ElementError
from numpyflow.framework.errors import InvalidArgumentError, invalid_argument
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_shape import TensorShape
from numpyflow.framework.tensor_spec import TensorSpec
from numpyflow.ops import random_ops


def _autotune_parallelism():
    return max(1, min(os.cpu_count() or 1, 16))


# -- map and filter ----------------------------------------------------------------------

def map(dataset, map_func, num_parallel_calls=None, deterministic=None, name=None):  # noqa: A001
    """Applies `map_func` to each element (a tuple element is spread over its arguments).

    As TF traces a map function into a graph, numpyflow runs it as a compiled `tf.function`
    plan once its traces agree (`traced_map.py`): Python side effects in it happen while it
    is traced, not for every element; functions that read values in Python stay eager.

    With `num_parallel_calls` (an int or `tf.data.AUTOTUNE`), that many elements are mapped
    at once on a thread pool; results keep the input order unless `deterministic=False`.
    With AUTOTUNE the number of threads is measured as the map runs (`parallel.Autotune`):
    more threads pay only where the function spends its time outside Python's GIL.

    Example:
        >>> [int(x) for x in Dataset.range(3).map(lambda x: x + 1)]
        [1, 2, 3]
    """
    check_arity(map_func, dataset.element_spec, "Dataset.map")
    parallelism = _parallelism(num_parallel_calls, "num_parallel_calls")
    if num_parallel_calls is not None and int(num_parallel_calls) == AUTOTUNE:
        parallelism = parallel.Autotune(parallelism)  # Kept across this dataset's passes.
    compiled = traced_map.traced(map_func, dataset.element_spec)

    def call(element):
        try:
            return _mapped(compiled, element)
        except Exception as error:  # noqa: BLE001 - in-band, raised to the consumer
            return ElementError(error)

    def iterate():
        items = dataset._iterate()
        if parallelism is None:
            try:
                for item in items:
                    yield item if is_error(item) else call(item)
            finally:
                items.close()
        else:
            try:
                yield from parallel.parallel_map(items, call, parallelism,
                                                 deterministic is not False)
            finally:
                items.close()
    return Dataset(iterate, lambda: _infer_spec(dataset, map_func), dataset._cardinality,
                   (dataset,))


def _mapped(func, element):
    result = call_with_element(func, element, "map")
    if isinstance(result, list):
        result = tuple(result)  # As TF: a list returned by a map function is a tuple.
    return structure.normalize(result)


def _parallelism(value, what):
    if value is None:
        return None
    value = int(value)
    if value == AUTOTUNE:
        return _autotune_parallelism()
    if value <= 0:
        raise ValueError(f"`{what}` must be positive or tf.data.AUTOTUNE; received {value}.")
    return value


def _infer_spec(dataset, func):
    """The output spec of `func` on `dataset`'s elements, from its first element.

    TF traces the function symbolically; numpyflow runs it once on the first element of a
    fresh pass (the pass does not advance any shuffle's epoch). An output dim is reported
    as None where an input component has an unknown (None) dim at the same position whose
    size in that element equals it (a batch dimension, say); other dims are as the element
    has them. If an input component has an unknown rank, every dense output has an unknown
    rank too: one element cannot tell which outputs follow that component's rank (TF
    reports `x + 1` of it as unknown). A less specific spec is always safe.
    """
    previous = _peeking_set(True)
    items = dataset._iterate()
    try:
        for item in items:
            if not is_error(item):
                return _relaxed(structure.spec_of(_mapped(func, item)), dataset.element_spec,
                                item)
    finally:
        items.close()
        _peeking_set(previous)
    # An empty dataset: the function never runs; nothing to infer from.
    return dataset.element_spec


def _relaxed(out_spec, in_spec, element):
    unknown = set()  # (position, size) of the input's unknown dims in this element
    unknown_rank = False
    for leaf_spec, leaf in zip(structure.flatten(in_spec), structure.flatten(element)):
        shape = getattr(leaf_spec, "shape", None)
        if not isinstance(shape, TensorShape):
            continue
        if shape.rank is None:
            unknown_rank = True
            continue
        sizes = structure.leaf_array(leaf).shape
        unknown.update((i, sizes[i]) for i, d in builtins.enumerate(shape)
                       if d is None and i < len(sizes))

    def relax(spec):
        if not isinstance(spec, TensorSpec) or not (unknown or unknown_rank):
            return spec  # A SparseTensorSpec keeps the first element's dense shape.
        if unknown_rank:
            return TensorSpec(None, spec.dtype)
        dims = [None if (i, d) in unknown else d for i, d in builtins.enumerate(spec.shape)]
        return TensorSpec(dims, spec.dtype)
    return structure.map_structure(relax, out_spec)


def _peeking_set(active):
    """Sets this thread's peeking flag; returns the previous value."""
    from numpyflow.data import dataset as dataset_module
    previous = peeking()
    dataset_module._peeking.active = active
    return previous


def filter(dataset, predicate, name=None):  # noqa: A001
    """Keeps the elements for which `predicate` returns a scalar boolean True.

    Example:
        >>> [int(x) for x in Dataset.range(5).filter(lambda x: x % 2 == 0)]
        [0, 2, 4]
    """
    check_arity(predicate, dataset.element_spec, "Dataset.filter")

    def iterate():
        items = dataset._iterate()
        try:
            for item in items:
                if is_error(item):
                    yield item
                    continue
                try:
                    keep = _predicate_value(predicate, item)
                except Exception as error:  # noqa: BLE001
                    yield ElementError(error)
                    continue
                if keep:
                    yield item
        finally:
            items.close()
    return Dataset(iterate, lambda: dataset.element_spec, UNKNOWN_CARDINALITY, (dataset,))


def _predicate_value(predicate, element):
    result = call_with_element(predicate, element, "filter")
    value = result._value if isinstance(result, Tensor) else np.asarray(result)
    if value.dtype != np.bool_ or value.ndim != 0:
        spec = TensorSpec(value.shape, value.dtype)
        raise ValueError(f"Invalid `predicate`. `predicate` must return a `tf.bool` scalar "
                         f"tensor, but its return type is {spec}.")
    return bool(value)


def ignore_errors(dataset, log_warning=False, name=None):
    """Drops the elements whose production raised an error (as `tf.data` errors).

    Example:
        >>> def check(x):
        ...     if float(x) == 0:
        ...         raise ValueError("zero")
        ...     return 1. / x
        >>> ds = Dataset.from_tensor_slices([1., 0., 2.]).map(check).ignore_errors()
        >>> [float(x) for x in ds]
        [1.0, 0.5]
    """
    def iterate():
        items = dataset._iterate()
        try:
            for item in items:
                if is_error(item):
                    if log_warning:
                        import logging
                        logging.getLogger("numpyflow").warning(
                            "Dataset.ignore_errors: dropped an element: %r", item.exception)
                    continue
                yield item
        finally:
            items.close()
    return Dataset(iterate, lambda: dataset.element_spec, UNKNOWN_CARDINALITY, (dataset,))


# -- order and counts ----------------------------------------------------------------------

def shuffle(dataset, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
    """Shuffles with a buffer of `buffer_size` elements, as TF's shuffle.

    The buffer is filled first; each step yields a random buffer element and puts the next
    input element in its place. `buffer_size` >= the dataset's size gives a full shuffle.

    Example:
        >>> sorted(int(x) for x in Dataset.range(5).shuffle(5, seed=1))
        [0, 1, 2, 3, 4]
    """
    buffer_size = int(buffer_size)
    if buffer_size <= 0 and buffer_size != UNKNOWN_CARDINALITY:
        raise invalid_argument("ShuffleDatasetV3",
                               "buffer_size must be greater than zero or UNKNOWN_CARDINALITY")
    if buffer_size == UNKNOWN_CARDINALITY:
        buffer_size = None  # Everything: TF allows this to shuffle a whole finite dataset.
    reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
    base_seed = _seed_pair(seed)
    epochs = itertools.count()

    def ordered(open_items):
        # One pass: the epoch is taken when the pass starts, then the items are opened.
        epoch = 0 if peeking() else (next(epochs) if reshuffle else 0)
        rng = np.random.default_rng(base_seed + (epoch,))
        items = open_items()
        try:
            yield from shuffle_buffer.shuffled(items, buffer_size, rng)
        finally:
            items.close()
    result = Dataset(lambda: ordered(dataset._iterate), lambda: dataset.element_spec,
                     dataset._cardinality, (dataset,))
    result._plan = slicing.derived(dataset._plan, ordered)
    return result


def _seed_pair(seed):
    """(global seed, op seed) fixed at build time, with numpyflow's (TF's) rules."""
    global_seed = random_ops.get_global_generator_seed()
    if seed is None and global_seed is None:
        return tuple(int(s) for s in np.random.SeedSequence().generate_state(2))
    if seed is None:
        return (global_seed, int(random_ops._stream(None).integers(2**31)))
    return (random_ops._DEFAULT_GLOBAL_SEED if global_seed is None else global_seed, int(seed))


def repeat(dataset, count=None, name=None):
    """Repeats the dataset `count` times (forever when None or -1).

    Example:
        >>> [int(x) for x in Dataset.range(2).repeat(2)]
        [0, 1, 0, 1]
    """
    count = -1 if count is None else int(count)

    def run(open_items):
        done = 0
        while count < 0 or done < count:
            produced = False
            items = open_items()
            try:
                for item in items:
                    produced = True
                    yield item
            finally:
                items.close()
            done += 1
            if not produced:
                return  # An empty dataset repeated forever is empty, as in TF.
    card = dataset._cardinality
    if count == 0 or card == 0:
        result_card = 0
    elif card < 0:
        result_card = card
    elif count < 0:
        result_card = INFINITE_CARDINALITY
    else:
        result_card = card * count
    return _reordering(dataset, run, result_card)


def _reordering(dataset, run, cardinality):
    """The dataset of `run(open_items)`, a pass that reorders, drops or repeats items."""
    result = Dataset(lambda: run(dataset._iterate), lambda: dataset.element_spec, cardinality,
                     (dataset,))
    result._plan = slicing.derived(dataset._plan, run)
    return result


def take(dataset, count, name=None):
    """The first `count` elements (all of them when `count` is -1)."""
    count = int(count)

    def run(open_items):
        items = open_items()
        try:
            yield from (itertools.islice(items, count) if count >= 0 else items)
        finally:
            items.close()
    card = dataset._cardinality
    if count < 0:
        result_card = card
    elif count == 0:
        result_card = 0
    elif card == INFINITE_CARDINALITY:
        result_card = count
    elif card == UNKNOWN_CARDINALITY:
        result_card = UNKNOWN_CARDINALITY
    else:
        result_card = min(card, count)
    return _reordering(dataset, run, result_card)


def skip(dataset, count, name=None):
    """All but the first `count` elements (none when `count` is -1)."""
    count = int(count)

    def run(open_items):
        if count < 0:
            return
        items = open_items()
        try:
            yield from itertools.islice(items, count, None)
        finally:
            items.close()
    card = dataset._cardinality
    if count < 0:
        result_card = 0
    elif card < 0:
        result_card = card
    else:
        result_card = max(card - count, 0)
    return _reordering(dataset, run, result_card)


def shard(dataset, num_shards, index, name=None):
    """Every `num_shards`-th element, starting at `index` (a worker's share of the input).

    >>> import numpyflow as tf
    >>> [int(x) for x in tf.data.Dataset.range(10).shard(3, 1)]
    [1, 4, 7]
    """
    num_shards, index = int(num_shards), int(index)
    if num_shards <= 0:
        raise InvalidArgumentError(None, None, f"Number of shards must be greater than zero "
                                               f"(currently num_shards = {num_shards}).")
    if not 0 <= index < num_shards:
        raise InvalidArgumentError(None, None, f"Index must be between 0 and {num_shards - 1} "
                                               f"(currently index = {index}).")

    def run(open_items):
        items = open_items()
        try:
            yield from itertools.islice(items, index, None, num_shards)
        finally:
            items.close()
    card = dataset._cardinality
    result_card = card if card < 0 else len(builtins.range(index, card, num_shards))
    return _reordering(dataset, run, result_card)


def concatenate(dataset, other, name=None):
    """The elements of `dataset`, then those of `other` (specs must be compatible)."""
    def spec():
        try:
            return structure.most_specific(dataset.element_spec, other.element_spec,
                                           "Dataset.concatenate")
        except TypeError:
            raise TypeError(f"Incompatible dataset elements:\n  {dataset.element_spec} vs. "
                            f"  {other.element_spec}") from None
    spec()  # TF checks when the dataset is built.

    def iterate():
        for source in (dataset, other):
            items = source._iterate()
            try:
                yield from items
            finally:
                items.close()
    a, b = dataset._cardinality, other._cardinality
    if INFINITE_CARDINALITY in (a, b):
        card = INFINITE_CARDINALITY
    elif UNKNOWN_CARDINALITY in (a, b):
        card = UNKNOWN_CARDINALITY
    else:
        card = a + b
    return Dataset(iterate, spec, card, (dataset, other))


def enumerate(dataset, start=0, name=None):  # noqa: A001
    """Pairs each element with its int64 index: `(index, element)`."""
    start = int(start)

    def iterate():
        items = dataset._iterate()
        try:
            for index, item in zip(itertools.count(start), items):
                yield item if is_error(item) else (Tensor(np.array(index, np.int64)), item)
        finally:
            items.close()
    result = Dataset(iterate, lambda: (TensorSpec([], "int64"), dataset.element_spec),
                     dataset._cardinality, (dataset,))
    result._plan = slicing.enumerated(dataset._plan, start)
    return result


def prefetch(dataset, buffer_size, name=None):
    """Reads up to `buffer_size` elements ahead on a background thread.

    With `tf.data.AUTOTUNE`, 2 elements are read ahead, or none when the elements are
    gathered from in-memory arrays (`from_tensor_slices`, `shuffle`, ..., `batch`): that
    gather holds Python's GIL, so a thread could not overlap it with training and would
    only add thread switches.
    """
    buffer_size = int(buffer_size)
    if buffer_size == AUTOTUNE:
        buffer_size = 0 if dataset._plan is not None or dataset._in_memory else 2
    if buffer_size < 0:
        raise ValueError(f"prefetch: `buffer_size` must be >= 0 or tf.data.AUTOTUNE; "
                         f"received {buffer_size}.")

    def iterate():
        if buffer_size == 0:
            items = dataset._iterate()
            try:
                yield from items
            finally:
                items.close()
            return
        state = peeking()  # The producer thread inherits the consumer's peeking flag.
        yield from parallel.prefetch(dataset._iterate(), buffer_size,
                                     on_start=lambda: _peeking_set(state))
    return Dataset(iterate, lambda: dataset.element_spec, dataset._cardinality, (dataset,))


# -- nested datasets -----------------------------------------------------------------------

def interleave(dataset, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
               deterministic=None, name=None):
    """Maps each element to a dataset and interleaves them, as TF's interleave.

    Up to `cycle_length` datasets are open; `block_length` consecutive elements are taken
    from each in turn. With `num_parallel_calls`, each open inner dataset (and the next
    `cycle_length` ones, opened ahead) is read by its own thread, at most
    `num_parallel_calls` elements at a time; the order is the sequential one unless
    `deterministic=False`, which lets a ready dataset go before a slow one.

    Example:
        >>> ds = Dataset.range(1, 4).interleave(
        ...     lambda x: Dataset.from_tensors(x).repeat(x), cycle_length=2, block_length=2)
        >>> [int(x) for x in ds]
        [1, 2, 2, 3, 3, 3]
    """
    check_arity(map_func, dataset.element_spec, "Dataset.interleave")
    cycle = _autotune_parallelism() if cycle_length in (None, AUTOTUNE) else int(cycle_length)
    block = 1 if block_length is None else int(block_length)
    if cycle <= 0 or block <= 0:
        raise ValueError(f"interleave: `cycle_length` and `block_length` must be positive; "
                         f"received cycle_length={cycle_length}, block_length={block_length}.")
    parallelism = _parallelism(num_parallel_calls, "num_parallel_calls")
    in_order = deterministic is not False

    def open_inner(element):
        inner = call_with_element(map_func, element, "interleave")
        if not isinstance(inner, Dataset):
            raise TypeError(f"The `map_func` argument of interleave/flat_map must return a "
                            f"Dataset object; received {type(inner).__name__}.")
        return inner._iterate()

    def opened(inputs, gate):
        """The inputs, each opened as a `BackgroundReader`, `cycle` of them ahead."""
        state = peeking()
        ahead = collections.deque()
        try:
            while True:
                while len(ahead) < cycle:
                    try:
                        element = next(inputs)
                    except StopIteration:
                        break
                    if not is_error(element):
                        try:
                            element = parallel.BackgroundReader(
                                open_inner(element), block, gate,
                                on_start=lambda: _peeking_set(state))
                        except Exception as error:  # noqa: BLE001
                            element = ElementError(error)
                    ahead.append(element)
                if not ahead:
                    return
                yield ahead.popleft()
        finally:
            for item in ahead:
                if isinstance(item, parallel.BackgroundReader):
                    item.close()
            inputs.close()

    def iterate():
        if parallelism is None:
            inputs = dataset._iterate()
        else:
            inputs = opened(dataset._iterate(), threading.Semaphore(parallelism))
        slots = [None] * cycle
        index = taken = open_count = 0
        inputs_done = False
        try:
            while not inputs_done or open_count:
                if parallelism is not None and not in_order and taken == 0 \
                        and slots[index] is not None \
                        and not slots[index].ready():
                    index = _ready_slot(slots, index, inputs_done)
                current = slots[index]
                if current is not None:
                    try:
                        item = next(current)
                    except StopIteration:
                        current.close()
                        slots[index] = None
                        open_count -= 1
                        index, taken = (index + 1) % cycle, 0
                        continue
                    taken += 1
                    if taken == block:
                        index, taken = (index + 1) % cycle, 0
                    yield item
                elif not inputs_done:
                    try:
                        element = next(inputs)
                    except StopIteration:
                        inputs_done = True
                        continue
                    if is_error(element):
                        yield element
                        continue
                    try:
                        slots[index] = element if parallelism is not None \
                            else open_inner(element)
                        open_count += 1
                    except Exception as error:  # noqa: BLE001
                        yield ElementError(error)
                else:
                    index, taken = (index + 1) % cycle, 0
        finally:
            for slot in slots:
                if slot is not None:
                    slot.close()
            inputs.close()

    def spec():
        previous = _peeking_set(True)
        items = dataset._iterate()
        try:
            for item in items:
                if not is_error(item):
                    return open_inner_spec(item)
        finally:
            items.close()
            _peeking_set(previous)
        raise ValueError("interleave/flat_map: cannot infer the element_spec of an empty "
                         "dataset's inner datasets.")

    def open_inner_spec(element):
        inner = call_with_element(map_func, element, "interleave")
        if not isinstance(inner, Dataset):
            raise TypeError(f"The `map_func` argument of interleave/flat_map must return a "
                            f"Dataset object; received {type(inner).__name__}.")
        return inner.element_spec
    card = INFINITE_CARDINALITY if dataset._cardinality == INFINITE_CARDINALITY \
        else UNKNOWN_CARDINALITY
    if dataset._cardinality == 0:
        card = 0
    return Dataset(iterate, spec, card, (dataset,))


def _ready_slot(slots, index, inputs_done):
    """The first slot after `index` that has an element waiting or is free for the next
    input (else `index`), for a non-deterministic parallel interleave."""
    for step in range(1, len(slots)):
        candidate = (index + step) % len(slots)
        reader = slots[candidate]
        if (reader is None and not inputs_done) or (reader is not None and reader.ready()):
            return candidate
    return index


def flat_map(dataset, map_func, name=None):
    """Maps each element to a dataset and concatenates those datasets in order."""
    return interleave(dataset, map_func, cycle_length=1, block_length=1)


def window(dataset, size, shift=None, stride=1, drop_remainder=False, name=None):
    """Groups elements into windows; each window is a (nested) structure of Datasets.

    Window i starts at element `i * shift` and holds `size` elements `stride` apart.

    Example:
        >>> [[int(x) for x in w] for w in Dataset.range(5).window(2)]
        [[0, 1], [2, 3], [4]]
    """
    size, stride = int(size), int(stride)
    shift = size if shift is None else int(shift)
    if size <= 0 or shift <= 0 or stride <= 0:
        raise ValueError(f"window: `size`, `shift` and `stride` must be positive; received "
                         f"size={size}, shift={shift}, stride={stride}.")
    span = (size - 1) * stride + 1

    def iterate():
        items = dataset._iterate()
        buffer = []
        exhausted = False
        try:
            while True:
                while not exhausted and len(buffer) < span:
                    try:
                        buffer.append(next(items))
                    except StopIteration:
                        exhausted = True
                if not buffer:
                    return
                members = buffer[::stride][:size]
                if exhausted and (len(members) < size and drop_remainder):
                    return
                yield _window_element(members, dataset)
                del buffer[:shift]
                if exhausted and not buffer:
                    return
        finally:
            items.close()
    card = dataset._cardinality
    if card >= 0:
        if drop_remainder:
            card = max(0, (card - span) // shift + 1) if card >= span else 0
        else:
            card = -(-card // shift)
    return Dataset(iterate, lambda: structure.map_structure(DatasetSpec, dataset.element_spec),
                   card, (dataset,))


def _window_element(members, dataset):
    errors = [m for m in members if is_error(m)]
    if errors:
        return errors[0]
    spec = dataset.element_spec
    leaf_lists = list(zip(*[structure.flatten(m) for m in members]))
    datasets = [_list_dataset(list(leaves), leaf_spec)
                for leaves, leaf_spec in zip(leaf_lists, structure.flatten(spec))]
    return structure.pack_as(spec, datasets)


def _list_dataset(elements, spec):
    return Dataset(lambda: iter(elements), spec, len(elements))


# -- cardinality ------------------------------------------------------------------------------

def assert_cardinality(expected_cardinality):
    """`tf.data.experimental.assert_cardinality`: a transformation for `Dataset.apply`.

    The result reports `expected_cardinality`; iterating raises FailedPreconditionError
    when the real count differs.
    """
    expected = int(expected_cardinality)

    def apply(dataset):
        from numpyflow.framework.errors import FailedPreconditionError

        def iterate():
            items = dataset._iterate()
            count = 0
            try:
                for item in items:
                    count += 1
                    if expected >= 0 and count > expected:
                        raise FailedPreconditionError(
                            None, None, f"Input dataset was expected to contain {expected} "
                            f"elements but contained at least {count} elements.")
                    yield item
            finally:
                items.close()
            if expected == INFINITE_CARDINALITY or count < expected:
                raise FailedPreconditionError(
                    None, None, f"Input dataset was expected to contain "
                    f"{_count_text(expected)} but contained only {count} elements.")
        return Dataset(iterate, lambda: dataset.element_spec, expected, (dataset,))
    return apply


def _count_text(expected):
    return "an infinite number of elements" if expected == INFINITE_CARDINALITY \
        else f"{expected} elements"


def attach(cls):
    for func in (map, filter, ignore_errors, shuffle, repeat, take, skip, shard, concatenate,
                 enumerate, prefetch, interleave, flat_map, window):
        setattr(cls, func.__name__, func)
