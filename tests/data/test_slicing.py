"""Fast batching of in-memory slices (`numpyflow/data/slicing.py`) equals the element path.

Each pipeline is built twice from the same source: once as is (batches gathered by index)
and once with the source's plan removed (elements made one by one and stacked). Both must
give identical batches (structure types, dtypes, shapes, values), specs and cardinality,
over several passes, and leave the global random stream in the same state.
"""

import collections
import threading

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.data import shuffle_buffer

D = tf.data.Dataset
Pair = collections.namedtuple("Pair", ["left", "right"])
N = 23


def _sources():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 3)).astype(np.float32)
    y = np.arange(N, dtype=np.int32)
    images = rng.integers(0, 255, size=(N, 2, 2)).astype(np.uint8)
    return {
        "tuple": (x, y),
        "dict": {"b": y.astype(np.int64), "a": x},
        "nested": (Pair(images, {"m": y > 7}), np.arange(N, dtype=np.float64)),
        "single": y,
    }


def _pipelines(seed):
    s = seed
    return {
        "batch": lambda d: d.batch(4),
        "drop": lambda d: d.batch(4, drop_remainder=True),
        "shuffle_small": lambda d: d.shuffle(3, seed=s).batch(5),
        "shuffle_full": lambda d: d.shuffle(100, seed=s).batch(6, drop_remainder=True),
        "shuffle_unknown": lambda d: d.shuffle(tf.data.UNKNOWN_CARDINALITY, seed=s).batch(4),
        "shuffle_one": lambda d: d.shuffle(1, seed=s).batch(4),
        "fixed_repeat": lambda d: d.shuffle(7, seed=s, reshuffle_each_iteration=False)
                                   .repeat(3).batch(7),
        "reshuffle_repeat": lambda d: d.shuffle(9, seed=s).repeat(3).batch(10),
        "two_shuffles": lambda d: d.shuffle(6, seed=s).repeat(2).shuffle(4, seed=s + 1).batch(4),
        "take_skip": lambda d: d.take(17).skip(2).repeat(2).batch(3),
        "skip_all": lambda d: d.skip(-1).batch(2),
        "take_all": lambda d: d.take(-1).batch(5),
        "take_none": lambda d: d.take(0).batch(5),
        "infinite": lambda d: d.shuffle(5, seed=s).repeat().take(50).batch(8),
        "enumerate": lambda d: d.enumerate(5).shuffle(8, seed=s).batch(4),
        "zip": lambda d: D.zip(d, d.shuffle(10, seed=s)).batch(3),
        "zip_dict": lambda d: D.zip({"p": d.skip(3), "q": d.shuffle(4, seed=s)}).batch(4),
        "options": lambda d: d.shuffle(8, seed=s).with_options(tf.data.Options()).batch(4),
        "map_after": lambda d: d.shuffle(8, seed=s).batch(4).map(lambda *c: c[::-1]),
        "prefetch": lambda d: d.shuffle(8, seed=s).batch(4).prefetch(tf.data.AUTOTUNE),
        "prefetch_2": lambda d: d.shuffle(8, seed=s).batch(4).prefetch(2),
        "early_stop": lambda d: d.shuffle(8, seed=s).repeat(2).batch(5).take(3),
        "pass_boundary": lambda d: d.shuffle(8, seed=s).repeat(2).batch(N).take(1),
    }


def _build(pipeline, arrays, fast):
    source = D.from_tensor_slices(arrays)
    assert source._plan is not None
    if not fast:
        source._plan = None  # Everything built on it now takes the element path.
    return pipeline(source)


def _describe(element):
    """The element as comparable nested values: container types, dtypes, shapes, bytes."""
    if isinstance(element, dict):
        return (type(element), tuple((k, _describe(v)) for k, v in element.items()))
    if isinstance(element, tuple):
        return (type(element), tuple(_describe(v) for v in element))
    assert isinstance(element, tf.Tensor), type(element)
    value = element.numpy()
    return (value.dtype.str, value.shape, value.tobytes())


def _run(pipeline, arrays, fast, seed):
    tf.random.set_seed(seed)
    ds = _build(pipeline, arrays, fast)
    passes = [[_describe(e) for e in ds] for _ in range(3)]
    partial = [_describe(e) for e, _ in zip(ds, range(2))]  # An abandoned pass.
    passes.append([_describe(e) for e in ds])
    after = tf.random.uniform([4]).numpy().tolist()  # The global stream's next draws.
    return ds.element_spec, int(ds.cardinality()), passes, partial, after


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("source", sorted(_sources()))
def test_fast_batches_equal_element_path(source, seed):
    arrays = _sources()[source]
    for name, pipeline in _pipelines(seed).items():
        fast = _run(pipeline, arrays, True, seed)
        slow = _run(pipeline, arrays, False, seed)
        assert fast == slow, f"{name} on {source} (seed {seed})"
        assert any(fast[2]) or name in ("skip_all", "take_none"), name


def test_pipelines_take_the_fast_path():
    x = np.arange(12, dtype=np.float32)
    source = D.from_tensor_slices((x, x))
    for name, pipeline in _pipelines(3).items():
        ds = pipeline(source)
        inner = ds
        while inner._inputs and not inner._in_memory:
            inner = inner._inputs[0]
        assert inner._in_memory, name
    # Elements are no longer made one by one: the element path is never entered.
    source._iterate_fn = None
    assert len(list(source.shuffle(12, seed=1).batch(5))) == 3


def test_global_seed_shuffles_match_element_path():
    arrays = _sources()["tuple"]
    for fast in (True, False):
        tf.random.set_seed(5)
        ds = _build(lambda d: d.shuffle(N).batch(4), arrays, fast)
        result = [[_describe(e) for e in ds] for _ in range(2)]
        if fast:
            expected = result
    assert result == expected


def test_strings_and_maps_before_batch_keep_the_element_path():
    strings = D.from_tensor_slices((["a", "bb", "c"], [1, 2, 3]))
    assert strings._plan is None
    batch = next(iter(strings.batch(2)))
    assert batch[0].numpy().tolist() == [b"a", b"bb"] and batch[1].numpy().tolist() == [1, 2]
    mapped = D.from_tensor_slices(np.arange(4)).map(lambda v: v * 2)
    assert mapped._plan is None and not mapped.batch(2)._in_memory
    assert [b.numpy().tolist() for b in mapped.batch(3)] == [[0, 2, 4], [6]]


def test_autotune_prefetch_of_gathered_batches_starts_no_thread():
    def prefetch_threads():
        return [t for t in threading.enumerate() if t.name == "numpyflow-data-prefetch"]
    ds = D.from_tensor_slices(np.arange(10)).shuffle(10, seed=1).batch(3)
    it = iter(ds.prefetch(tf.data.AUTOTUNE))
    next(it)
    assert prefetch_threads() == []
    it.close()
    it = iter(ds.prefetch(2))  # An explicit buffer still reads ahead on a thread.
    next(it)
    assert len(prefetch_threads()) == 1
    it.close()
    assert prefetch_threads() == []
    mapped = D.range(10).map(lambda v: v).batch(3).prefetch(tf.data.AUTOTUNE)
    it = iter(mapped)
    next(it)
    assert len(prefetch_threads()) == 1
    it.close()


def _reference_shuffle(items, buffer_size, rng):
    """The shuffle buffer written out plainly: one scalar draw per step."""
    buffer = []
    for item in items:
        if buffer_size is None or len(buffer) < buffer_size:
            buffer.append(item)
            continue
        index = int(rng.integers(len(buffer)))
        chosen, buffer[index] = buffer[index], item
        yield chosen
    while buffer:
        index = int(rng.integers(len(buffer)))
        buffer[index], buffer[-1] = buffer[-1], buffer[index]
        yield buffer.pop()


@pytest.mark.parametrize("count", [0, 1, 5, 255, 256, 257, 600, 1500])
def test_shuffle_buffer_equals_one_draw_at_a_time(count):
    for buffer_size in (None, 1, 2, 3, 100, 256, 1000, 5000):
        for seed in range(3):
            fast = list(shuffle_buffer.shuffled(iter(range(count)), buffer_size,
                                                np.random.default_rng((seed, 9))))
            slow = list(_reference_shuffle(iter(range(count)), buffer_size,
                                           np.random.default_rng((seed, 9))))
            assert fast == slow, (count, buffer_size, seed)


def test_shuffle_buffer_scalar_fallback_gives_the_same_order(monkeypatch):
    expected = list(shuffle_buffer.shuffled(iter(range(700)), 50, np.random.default_rng(4)))
    monkeypatch.setattr(shuffle_buffer, "_broadcast_ok", False)
    assert list(shuffle_buffer.shuffled(iter(range(700)), 50, np.random.default_rng(4))) \
        == expected
    assert shuffle_buffer._broadcast_matches_scalar() is False
