"""AUTOTUNE's first level maps in the consumer's thread (numpyflow/data/parallel.py): one
call at a time gains nothing from a worker thread and pays a GIL hand-off per release."""

import threading
import time

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.data import parallel

D = tf.data.Dataset


def settled_at(level, most=4):
    tune = parallel.Autotune(most)
    tune.parallelism, tune.settled = level, True
    return tune


def test_one_call_at_a_time_runs_in_the_consumers_thread_without_workers():
    threads = set()

    def record(x):
        threads.add(threading.get_ident())
        return x * 3
    baseline = threading.active_count()
    results = parallel.parallel_map(iter(range(100)), record, settled_at(1), True)
    counts = []
    out = []
    for value in results:
        out.append(value)
        counts.append(threading.active_count())
    assert out == [x * 3 for x in range(100)]
    assert threads == {threading.get_ident()} and max(counts) == baseline


def test_a_fixed_parallelism_of_one_still_maps_on_a_worker_thread():
    threads = set()

    def record(x):
        threads.add(threading.get_ident())
        return x
    assert list(parallel.parallel_map(iter(range(20)), record, 1, True)) == list(range(20))
    assert threading.get_ident() not in threads


@pytest.mark.parametrize("deterministic", [True, False])
def test_settling_back_at_one_drains_the_chunks_in_flight_then_maps_here(deterministic):
    tune = parallel.Autotune(2)
    tune.parallelism = 2  # Measuring two calls at once ...
    where = {}

    def record(x):
        where[x] = threading.get_ident()
        if x == 40:  # ... when the tuner settles back at one.
            tune.parallelism, tune.settled = 1, True
        time.sleep(0.0005)
        return x
    out = list(parallel.parallel_map(iter(range(300)), record, tune, deterministic))
    assert sorted(out) == list(range(300))
    if deterministic:
        assert out == list(range(300))
    consumer = threading.get_ident()
    assert where[0] != consumer and where[299] == consumer


def test_an_error_mapped_here_is_raised_at_its_element_and_the_pass_goes_on():
    def fail_at_7(x):
        if int(x) == 7:
            raise KeyError("element 7")
        return x
    ds = D.range(20).map(fail_at_7, num_parallel_calls=tf.data.AUTOTUNE)
    it = iter(ds)
    assert [int(next(it)) for _ in range(7)] == list(range(7))
    with pytest.raises(KeyError, match="element 7"):
        next(it)
    assert [int(x) for x in it] == list(range(8, 20))


def test_an_autotuned_image_pipeline_gives_every_image_in_order(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (70, 5, 6, 1), dtype=np.uint8)
    for index, pixels in enumerate(images):
        tf.io.write_file(str(tmp_path / f"{index:03d}.png"), tf.io.encode_png(pixels))

    def load(path):
        return tf.image.resize(tf.io.decode_png(tf.io.read_file(path), channels=1), [8, 9])
    files = D.list_files(str(tmp_path / "*.png"), shuffle=False)
    serial = np.concatenate([b.numpy() for b in files.map(load).batch(32)])
    for _ in range(2):  # The second pass starts at the level the first one reached.
        auto = files.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(32).prefetch(2)
        np.testing.assert_array_equal(np.concatenate([b.numpy() for b in auto]), serial)
    assert serial.shape == (70, 8, 9, 1)


def test_every_window_at_a_new_level_must_beat_the_previous_best():
    tune = parallel.Autotune(4)
    for rate in (100., 95.):  # One call at a time.
        tune._step(rate)
    assert tune.parallelism == 2
    tune._step(150.)  # A fast window with two threads (a chunk delivered early) ...
    assert (tune.parallelism, tune.settled) == (2, False)
    tune._step(105.)  # ... and one within the noise of one thread's best: no thread added.
    assert (tune.parallelism, tune.settled) == (1, True)


def test_one_slow_window_settles_at_once_without_measuring_more_at_that_level():
    tune = parallel.Autotune(4)
    for rate in (100., 100., 60.):
        tune._step(rate)
    assert (tune.parallelism, tune.settled) == (1, True)
    assert tune._rates[2] == [60.]
