"""Parallel map, prefetch (threads stop with their iterator) and cache (memory and file)."""

import os
import threading
import time

import numpy as np
import pytest

import numpyflow as tf

D = tf.data.Dataset


def values(ds):
    return [x.tolist() if isinstance(x, np.ndarray) else x.item() for x in ds.as_numpy_iterator()]


def wait_for_threads(baseline, timeout=5.0):
    deadline = time.monotonic() + timeout
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    return threading.active_count()


def slow_square(x):
    time.sleep(0.002 * (5 - int(x) % 5))  # Later elements finish first.
    return x * x


def test_parallel_map_keeps_order_and_runs_in_parallel():
    seen = set()

    def record(x):
        seen.add(threading.get_ident())
        return slow_square(x)
    ds = D.range(20).map(record, num_parallel_calls=4)
    assert values(ds) == [i * i for i in range(20)]
    assert len(seen) > 1 and threading.get_ident() not in seen
    auto = D.range(20).map(slow_square, num_parallel_calls=tf.data.AUTOTUNE)
    assert values(auto) == [i * i for i in range(20)]


def test_parallel_map_nondeterministic_yields_every_element():
    ds = D.range(20).map(slow_square, num_parallel_calls=4, deterministic=False)
    assert sorted(values(ds)) == [i * i for i in range(20)]


def test_parallel_map_error_surfaces_with_traceback():
    def fail_at_3(x):
        if int(x) == 3:
            raise KeyError("element three")
        return x
    baseline = threading.active_count()
    it = iter(D.range(6).map(fail_at_3, num_parallel_calls=3))
    assert [int(next(it)) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(KeyError, match="element three") as info:
        next(it)
    assert any(entry.name == "fail_at_3" for entry in info.traceback)
    assert [int(x) for x in it] == [4, 5]
    assert wait_for_threads(baseline) == baseline


def test_breaking_out_stops_threads():
    baseline = threading.active_count()
    ds = D.range(10**6).map(lambda x: x + 1, num_parallel_calls=4).prefetch(8) \
        .map(lambda x: x, num_parallel_calls=2).prefetch(tf.data.AUTOTUNE)
    for i, _ in enumerate(ds):
        if i == 50:
            assert threading.active_count() > baseline
            break
    assert wait_for_threads(baseline) == baseline
    it = iter(ds)
    next(it)
    it.close()
    assert wait_for_threads(baseline) == baseline


def test_keyboard_interrupt_in_consumer_stops_threads():
    baseline = threading.active_count()
    ds = D.range(10**6).map(lambda x: x, num_parallel_calls=3).prefetch(4)

    def consume():
        for i, _ in enumerate(ds):
            if i == 10:
                raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        consume()
    assert wait_for_threads(baseline) == baseline


def test_prefetch_passes_errors_and_elements():
    def gen():
        yield 1
        yield 2
        raise OSError("disk went away")
    ds = D.from_generator(gen, output_signature=tf.TensorSpec([], tf.int32)).prefetch(2)
    it = iter(ds)
    assert [int(next(it)), int(next(it))] == [1, 2]
    with pytest.raises(OSError, match="disk went away"):
        next(it)
    assert values(D.range(5).prefetch(0)) == values(D.range(5).prefetch(1)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="buffer_size"):
        D.range(3).prefetch(-5)


def test_memory_cache_records_first_complete_pass():
    calls = []

    def count(x):
        calls.append(int(x))
        return x
    ds = D.range(4).map(count).cache()
    ds.element_spec  # Inferring the spec runs the function once (TF traces it).
    calls.clear()
    for i, _ in enumerate(ds):  # A partial pass records nothing.
        if i == 1:
            break
    assert values(ds) == [0, 1, 2, 3]
    assert values(ds) == [0, 1, 2, 3]
    assert calls == [0, 1, 0, 1, 2, 3]
    shuffled = D.range(10).shuffle(10, seed=2).cache()
    assert values(shuffled) == values(shuffled)


def test_file_cache_round_trip_and_reuse(tmp_path):
    prefix = str(tmp_path / "cache")
    calls = []

    def count(x, y):
        calls.append(1)
        return {"x": tf.cast(x, tf.float32) / 2, "y": y}
    source = D.from_tensor_slices((np.arange(5), np.arange(10).reshape(5, 2)))
    ds = source.map(count).cache(prefix)
    first = [(float(e["x"]), e["y"].tolist()) for e in ds.as_numpy_iterator()]
    assert os.path.exists(prefix + ".nfcache")
    calls.clear()
    again = D.from_tensor_slices((np.arange(5), np.arange(10).reshape(5, 2))).map(count)
    again.element_spec
    calls.clear()
    replay = [(float(e["x"]), e["y"].tolist()) for e in again.cache(prefix).as_numpy_iterator()]
    assert replay == first and calls == []


def test_file_cache_partial_pass_leaves_no_file(tmp_path):
    prefix = str(tmp_path / "partial")
    ds = D.range(10).cache(prefix)
    for i, _ in enumerate(ds):
        if i == 3:
            break
    assert os.listdir(tmp_path) == []
    assert values(ds) == list(range(10)) and os.listdir(tmp_path) == ["partial.nfcache"]


def test_file_cache_refuses_bad_files(tmp_path):
    prefix = str(tmp_path / "c")
    values(D.range(3).cache(prefix))
    path = prefix + ".nfcache"
    with pytest.raises(ValueError, match="holds elements of spec"):
        list(D.range(3).map(lambda x: tf.cast(x, tf.int32)).cache(prefix))
    data = open(path, "rb").read()
    open(path, "wb").write(data[:-20])
    with pytest.raises(ValueError, match="c.nfcache"):
        list(D.range(3).cache(prefix))
    # A declared shape far beyond the file is refused before any allocation.
    bomb = data.replace(b"'shape': (), ", b"'shape': (10000000000000,), ", 1)
    open(path, "wb").write(bomb)
    with pytest.raises(ValueError, match="larger than the rest of the file"):
        list(D.range(3).cache(prefix))
    open(path, "wb").write(b"not a cache")
    with pytest.raises(ValueError, match="bad magic"):
        list(D.range(3).cache(prefix))


def test_spec_inference_through_prefetch_keeps_shuffle_epoch():
    expected = values(D.range(10).shuffle(10, seed=4))
    mapped = D.range(10).shuffle(10, seed=4).prefetch(2).prefetch(1).map(lambda x: x)
    mapped.element_spec
    assert values(mapped) == expected
