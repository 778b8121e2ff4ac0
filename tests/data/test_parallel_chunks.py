"""Parallel `map` internals: chunked hand-offs, stopping between elements, and AUTOTUNE's
measured parallelism (numpyflow/data/parallel.py)."""

import threading
import time

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.data import parallel

D = tf.data.Dataset


def ints(ds):
    return [int(x) for x in ds]


def wait_for_threads(baseline, timeout=5.0):
    deadline = time.monotonic() + timeout
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    return threading.active_count()


class Concurrency:
    """Wraps a function that sleeps (releasing the GIL); records the most calls at once."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = self.most = self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, x):
        with self._lock:
            self.active += 1
            self.calls += 1
            self.most = max(self.most, self.active)
        time.sleep(self.seconds)
        with self._lock:
            self.active -= 1
        return x


def test_quick_elements_go_in_chunks_and_keep_their_order():
    seen = []

    def record_value(v):
        seen.append(threading.get_ident())
        return v * 2

    def record(x):
        # Python that runs per element: a plain function's side effects happen only while
        # the map function is traced (traced_map.py), so they would count traces instead.
        return tf.numpy_function(record_value, [x], tf.int64)
    assert ints(D.range(3000).map(record, num_parallel_calls=3)) == list(range(0, 6000, 2))
    assert len(seen) == 3000
    # Runs of consecutive elements were mapped by one thread (a chunk per hand-off).
    switches = sum(a != b for a, b in zip(seen, seen[1:]))
    assert switches < len(seen) / 4
    unordered = ints(D.range(3000).map(lambda x: x + 1, num_parallel_calls=3,
                                       deterministic=False))
    assert sorted(unordered) == list(range(1, 3001))


def test_chunk_sizes_start_small_and_follow_the_measured_call_time():
    size = parallel._next_chunk_size
    assert size(1, None) == 1                 # Nothing measured yet.
    assert size(1, 1e-6) == 2                 # Quick calls: doubles ...
    assert size(16, 1e-6) == parallel._MAX_CHUNK  # ... up to the cap.
    assert size(8, 1e-3) == 2                 # About _CHUNK_S seconds of work.
    assert size(4, 0.1) == 1                  # Slow calls go one at a time.


def test_an_error_inside_a_chunk_is_raised_at_its_element():
    def fail_at_777(x):
        if int(x) == 777:
            raise KeyError("element 777")
        return x
    it = iter(D.range(1000).map(fail_at_777, num_parallel_calls=2))
    assert [int(next(it)) for _ in range(777)] == list(range(777))
    with pytest.raises(KeyError, match="element 777") as info:
        next(it)
    assert any(entry.name == "fail_at_777" for entry in info.traceback)
    assert ints(it) == list(range(778, 1000))


def test_closing_stops_each_worker_after_its_current_element():
    baseline = threading.active_count()

    def quick_then_slow(x):
        if int(x) >= 100:
            time.sleep(0.02)
        return x
    it = iter(D.range(10**6).map(quick_then_slow, num_parallel_calls=2))
    assert [int(next(it)) for _ in range(100)] == list(range(100))
    # The chunks in flight now hold up to 16 slow elements each (sized while elements were
    # quick); closing must not wait for them to finish.
    start = time.perf_counter()
    it.close()
    assert time.perf_counter() - start < 0.25
    assert wait_for_threads(baseline) == baseline


def test_fixed_parallelism_runs_that_many_calls_at_once():
    slow = Concurrency(0.01)
    # Through numpy_function: Python that runs per element, not once per trace.
    assert ints(D.range(24).map(lambda x: tf.numpy_function(slow, [x], tf.int64),
                                num_parallel_calls=3)) == list(range(24))
    assert slow.calls == 24 and slow.most == 3


def test_autotune_adds_threads_while_they_pay():
    # Sleeping releases the GIL, so each added thread raises the rate about linearly.
    tune = parallel.Autotune(4)
    slow = Concurrency(0.002)
    out = list(parallel.parallel_map(iter(range(1200)), slow, tune, True))
    assert out == list(range(1200))
    assert tune.parallelism >= 3 and slow.most >= 3


def measure(tune, *rates):
    """Feeds a level's windows to `tune` (until it settles, as `record` does)."""
    assert len(rates) == tune.WINDOWS
    for rate in rates:
        if not tune.settled:
            tune._step(rate)


def test_autotune_settles_one_level_lower_when_a_thread_does_not_pay():
    tune = parallel.Autotune(8)
    # A level's best window counts (a busy machine only slows windows down). 3 threads:
    # 200 is 5% over 2 threads' 190, not 10%.
    for level, rates in [(1, (100., 60.)), (2, (190., 120.)), (3, (150., 200.))]:
        assert tune.parallelism == level and not tune.settled
        measure(tune, *rates)
    assert tune.parallelism == 2 and tune.settled
    assert tune.window() is None  # Later passes keep the level without measuring.
    top = parallel.Autotune(2)
    measure(top, 100., 100.)
    measure(top, 300., 250.)
    assert top.parallelism == 2 and top.settled
    assert parallel.Autotune(1).settled


def test_a_settled_level_bounds_the_calls_at_once():
    tune = parallel.Autotune(4)
    measure(tune, 100., 100.)
    measure(tune, 50., 60.)  # Two threads were slower: settles at one.
    slow = Concurrency(0.002)
    assert list(parallel.parallel_map(iter(range(40)), slow, tune, True)) == list(range(40))
    assert slow.most == 1


def test_autotune_map_gives_every_element_and_leaves_no_thread(tmp_path):
    baseline = threading.active_count()
    ds = D.range(500).map(lambda x: tf.cast(x, tf.float32) * 2.,
                          num_parallel_calls=tf.data.AUTOTUNE).batch(32).prefetch(2)
    for _ in range(2):  # The second pass starts from the level the first one reached.
        batches = [b.numpy() for b in ds]
        np.testing.assert_array_equal(np.concatenate(batches), np.arange(500) * 2.)
    assert wait_for_threads(baseline) == baseline


def test_autotune_measures_slow_elements_by_time():
    # Elements of 10 ms: a window of 128 would take seconds, so windows close by time.
    tune = parallel.Autotune(3)
    slow = Concurrency(0.01)
    assert list(parallel.parallel_map(iter(range(60)), slow, tune, True)) == list(range(60))
    assert tune.parallelism >= 2
