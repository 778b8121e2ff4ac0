"""`Dataset.interleave(num_parallel_calls=...)`: threads that really overlap, TF's order,
errors surfacing in the consumer, and no thread outliving its iterator."""

import gc
import threading
import time

import pytest

import numpyflow as tf

Dataset = tf.data.Dataset


def _inner(x):
    """Element x opens a dataset of x % 3 + 1 copies of x * 10 + position."""
    return Dataset.range(x % 3 + 1).map(lambda i: x * 10 + i)


def _sleepy(delay_of):
    def sleep(v):
        time.sleep(delay_of(int(v)))
        return v

    def inner(x):
        return Dataset.from_tensors(x).map(lambda v: tf.py_function(sleep, [v], tf.int64))
    return inner


def _values(ds):
    return [int(v) for v in ds]


def _interleave_threads():
    return sum(t.name.startswith("numpyflow-data") for t in threading.enumerate())


def _wait_for_threads(timeout=2.0):
    """The number of numpyflow data threads left once they had `timeout` s to finish."""
    deadline = time.time() + timeout
    while _interleave_threads() and time.time() < deadline:
        time.sleep(0.01)
    return _interleave_threads()


@pytest.mark.parametrize("cycle,block,calls", [(1, 1, 1), (2, 1, 2), (3, 2, 2), (4, 3, 4),
                                               (5, 1, 3)])
def test_same_order_as_sequential(cycle, block, calls):
    ds = Dataset.range(10)
    sequential = _values(ds.interleave(_inner, cycle_length=cycle, block_length=block))
    for deterministic in (None, True):
        parallel = ds.interleave(_inner, cycle_length=cycle, block_length=block,
                                 num_parallel_calls=calls, deterministic=deterministic)
        assert _values(parallel) == sequential


def test_tf_documented_order():
    ds = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6),
                                        cycle_length=2, block_length=4, num_parallel_calls=2)
    assert _values(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3,
                           4, 4, 5, 5, 5, 5, 5, 5]


def test_calls_overlap():
    ds = Dataset.range(8)
    inner = _sleepy(lambda v: 0.05)
    start = time.perf_counter()
    values = _values(ds.interleave(inner, cycle_length=4, num_parallel_calls=4))
    elapsed = time.perf_counter() - start
    assert values == list(range(8))
    assert elapsed < 0.3, f"8 x 50 ms with 4 parallel calls took {elapsed:.3f} s"


def test_num_parallel_calls_bounds_concurrency():
    running, peak = [0], [0]
    lock = threading.Lock()

    def work(v):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return v

    def inner(x):
        return Dataset.from_tensors(x).repeat(2).map(
            lambda v: tf.py_function(work, [v], tf.int64))
    values = _values(Dataset.range(8).interleave(inner, cycle_length=4, num_parallel_calls=2))
    assert sorted(values) == sorted(list(range(8)) * 2)
    assert peak[0] == 2


def test_nondeterministic_lets_ready_elements_pass_a_slow_one():
    inner = _sleepy(lambda v: 0.3 if v == 0 else 0.0)
    ds = Dataset.range(4).interleave(inner, cycle_length=4, num_parallel_calls=4,
                                     deterministic=False)
    values = _values(ds)
    assert sorted(values) == [0, 1, 2, 3]
    assert values[0] != 0
    ordered = Dataset.range(4).interleave(inner, cycle_length=4, num_parallel_calls=4)
    assert _values(ordered) == [0, 1, 2, 3]


def test_error_in_inner_dataset_reaches_consumer_with_traceback():
    def explode(v):
        if int(v) == 3:
            raise RuntimeError("inner element 3 is bad")
        return v

    def inner(x):
        return Dataset.from_tensors(x).map(lambda v: tf.py_function(explode, [v], tf.int64))
    iterator = iter(Dataset.range(6).interleave(inner, cycle_length=2, num_parallel_calls=2))
    assert [int(next(iterator)) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(Exception, match="inner element 3 is bad") as info:
        next(iterator)
    assert "explode" in "".join(str(entry) for entry in info.traceback)


def test_error_in_map_func_reaches_consumer():
    def map_func(x):
        if int(x) == 2:
            raise ValueError("map_func refuses element 2")
        return Dataset.from_tensors(x)
    iterator = iter(Dataset.range(4).interleave(map_func, cycle_length=2, num_parallel_calls=2))
    assert [int(next(iterator)) for _ in range(2)] == [0, 1]
    with pytest.raises(ValueError, match="map_func refuses element 2"):
        next(iterator)


def test_map_func_must_return_a_dataset():
    ds = Dataset.range(4).interleave(lambda x: [x], cycle_length=2, num_parallel_calls=2)
    with pytest.raises(TypeError, match="interleave.*Dataset object.*list"):
        _values(ds)


def test_break_and_keyboard_interrupt_leave_no_thread():
    gc.collect()  # iterators left open by earlier tests
    assert _wait_for_threads() == 0
    inner = _sleepy(lambda v: 0.01)
    for _ in Dataset.range(50).interleave(inner, cycle_length=4, num_parallel_calls=4):
        assert _interleave_threads() > 0  # The readers run ...
        break
    assert _wait_for_threads(0.0) == 0  # ... and the break joined them all.
    with pytest.raises(KeyboardInterrupt):
        for i, _ in enumerate(Dataset.range(50).interleave(inner, cycle_length=4,
                                                           num_parallel_calls=4)):
            if i == 3:
                raise KeyboardInterrupt
    assert _wait_for_threads(0.0) == 0
    iterator = iter(Dataset.range(50).interleave(inner, cycle_length=4, num_parallel_calls=4))
    next(iterator)
    del iterator
    assert _wait_for_threads() == 0


def test_bad_num_parallel_calls():
    with pytest.raises(ValueError, match="num_parallel_calls.*positive.*0"):
        Dataset.range(3).interleave(Dataset.from_tensors, cycle_length=2, num_parallel_calls=0)


def test_autotune_and_infinite_input():
    ds = Dataset.range(10 ** 9).interleave(
        lambda x: Dataset.from_tensors(x), cycle_length=2, num_parallel_calls=tf.data.AUTOTUNE)
    assert _values(ds.take(5)) == [0, 1, 2, 3, 4]
