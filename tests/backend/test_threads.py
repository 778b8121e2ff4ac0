"""The batch-split policy (backend/threads.py) and BLAS's narrow-product rule (blas.py)."""

import threading
import time
import warnings

import numpy as np
import pytest

from numpyflow.backend import blas, threads
from numpyflow.backend.quiet import quiet


@pytest.fixture(autouse=True)
def _fresh_split_outcomes(monkeypatch):
    # Each test starts with workers in use, whatever earlier splits did.
    monkeypatch.setattr(threads, "_outcomes", threads._SplitOutcomes())


def test_even_parts_cover_the_batch_without_empty_runs():
    assert threads.even_parts(128, 2) == [(0, 64), (64, 128)]
    assert threads.even_parts(5, 2) == [(0, 2), (2, 5)]
    assert threads.even_parts(1, 4) == [(0, 1)]
    assert threads.even_parts(7, 0) == [(0, 7)]


def test_batch_parts_split_only_large_work(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 2)
    assert threads.batch_parts(32, threads.SPLIT_ABOVE - 1) == [(0, 32)]
    assert threads.batch_parts(32, threads.SPLIT_ABOVE) == [(0, 16), (16, 32)]
    monkeypatch.setattr(threads, "cores", lambda: 1)
    assert threads.batch_parts(32, 10 ** 12) == [(0, 32)]


def test_kernels_of_few_calls_split_from_less_work(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 2)
    assert threads.SPLIT_ABOVE_FEW_CALLS < threads.SPLIT_ABOVE
    work = threads.SPLIT_ABOVE_FEW_CALLS
    assert threads.batch_parts(32, work, few_calls=True) == [(0, 16), (16, 32)]
    assert threads.batch_parts(32, work - 1, few_calls=True) == [(0, 32)]
    assert threads.batch_parts(32, work) == [(0, 32)]  # Not by the conv kernels' threshold.


def test_narrow_products_and_data_movement_count_as_more_work():
    assert threads.full_speed_work(1000) == 1000
    assert threads.full_speed_work(1000, narrow_side=16) == 1500  # 2/3 speed at 16 columns
    assert threads.full_speed_work(1000, narrow_side=16, moves_data=True) == 3000
    assert threads.full_speed_work(1000, narrow_side=10 ** 6) == 1000
    assert threads.full_speed_work(1000, narrow_side=0) == 9000  # no division by zero


@pytest.mark.parametrize("batch, splits", [(1, False), (8, False), (16, False), (32, False),
                                            (64, False), (128, True), (256, True)])
def test_lenet_convolutions_split_from_batch_128(monkeypatch, batch, splits):
    """The policy's intended effect (see threads.py's numbers): LeNet-5's two convolutions
    use the second core at batch 128 and above, where it paid on a quiet machine."""
    from numpyflow.backend.numpy import conv
    monkeypatch.setattr(threads, "cores", lambda: 2)
    for x_shape, f_shape, pads in [((batch, 28, 28, 1), (5, 5, 1, 6), ((2, 2), (2, 2))),
                                   ((batch, 14, 14, 6), (5, 5, 6, 16), ((0, 0), (0, 0)))]:
        layout = conv._Layout(x_shape, f_shape, (1, 1), (1, 1), pads)
        assert len(conv._parts(layout)) == (2 if splits else 1), (x_shape, f_shape)


def test_cores_respect_the_blas_thread_limit(monkeypatch):
    monkeypatch.setattr(blas, "_max_threads", 1)
    assert threads.cores() == 1


def test_run_parts_uses_another_thread_and_keeps_order():
    seen = {}
    second_started = threading.Event()

    def work(part):
        seen[part] = threading.get_ident()
        if part == 1:  # The caller's part waits until a worker has taken part 2.
            assert second_started.wait(10)
        if part == 2:
            second_started.set()
        return part * 10
    assert threads.run_parts(work, [1, 2, 3]) == [10, 20, 30]
    assert seen[1] == threading.get_ident() and seen[2] != seen[1]


def test_the_caller_runs_parts_no_worker_has_started():
    """A busy machine: the worker is held up, so the caller does every part itself."""
    hold = threading.Event()
    pool = threads._pool_of_this_process()
    blockers = [pool.submit(hold.wait, 10) for _ in range(pool._max_workers)]
    try:
        seen = []
        assert threads.run_parts(lambda part: seen.append(threading.get_ident()) or part,
                                 [0, 1, 2]) == [0, 1, 2]
        assert seen == [threading.get_ident()] * 3
    finally:
        hold.set()
    assert all(blocker.result() for blocker in blockers)


def test_run_parts_waits_for_parts_a_worker_took():
    done = []

    def work(part):
        if part == 1:
            time.sleep(0.05)  # Still running on the worker when the caller is free.
        done.append(part)
        return part
    assert threads.run_parts(work, [0, 1]) == [0, 1] and sorted(done) == [0, 1]


def test_run_parts_propagates_worker_errors():
    def work(part):
        if part == 2:
            raise ValueError("part 2 failed")
        return part
    with pytest.raises(ValueError, match="part 2 failed"):
        threads.run_parts(work, [1, 2])


def test_worker_threads_are_quiet_like_the_caller():
    def work(part):
        return np.log(np.zeros(2))  # -inf, without NumPy's divide-by-zero warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Called from a quiet forward (as the conv kernels are); the worker must be too.
        results = quiet(threads.run_parts)(work, [0, 1])
    assert np.all(np.isneginf(results[1]))


def test_narrow_products_run_on_one_blas_thread(monkeypatch):
    asked = []
    monkeypatch.setattr(blas, "threads_for", lambda work: asked.append(work) or 1)
    blas.matmul(np.ones((200_000, 25), np.float32), np.ones((25, 6), np.float32))
    blas.matmul(np.ones((256, 256), np.float32), np.ones((256, 256), np.float32))
    assert asked == [0, 256 ** 3]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_pool():
    import os
    threads.run_parts(lambda part: part, [0, 1])  # The parent's pool exists.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # Child: the inherited pool has no threads; a split must still finish.
        import signal
        signal.alarm(20)  # A deadlocked split kills the child (and fails the test).
        try:
            ok = threads.run_parts(lambda part: part + 1, [0, 1]) == [1, 2]
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1" and status == 0


def test_shutdown_stops_the_workers_and_a_later_split_still_runs():
    threads.run_parts(lambda part: part, [0, 1])
    threads.shutdown()
    assert not [t for t in threading.enumerate() if t.name.startswith("numpyflow-kernel")]
    assert threads.run_parts(lambda part: part * 2, [1, 2]) == [2, 4]


def _split_with_the_workers_held(parts):
    """run_parts while every worker is busy: the caller has to run each part itself."""
    hold = threading.Event()
    pool = threads._pool_of_this_process()
    blockers = [pool.submit(hold.wait, 10) for _ in range(pool._max_workers)]
    try:
        return threads.run_parts(lambda part: (part, threading.get_ident()), parts)
    finally:
        hold.set()
        for blocker in blockers:
            blocker.result()


def test_splits_that_do_not_pay_make_the_caller_run_parts_alone(monkeypatch):
    for _ in range(threads.UNPAID_LIMIT):
        _split_with_the_workers_held([0, 1])
    assert threads._outcomes.solo_left == threads.SOLO_SPLITS
    submitted = []
    monkeypatch.setattr(threads, "_pool_of_this_process", lambda: submitted.append(1))
    me = threading.get_ident()
    for _ in range(threads.SOLO_SPLITS):  # Same results, no worker woken.
        assert threads.run_parts(lambda part: (part, threading.get_ident()), [0, 1, 2]) == [
            (0, me), (1, me), (2, me)]
    assert not submitted and threads._outcomes.solo_left == 0


def test_a_split_that_pays_keeps_the_workers_in_use():
    _split_with_the_workers_held([0, 1])
    assert threads._outcomes.unpaid_in_a_row == 1
    second_started = threading.Event()

    def work(part):
        if part == 0:
            assert second_started.wait(10)
        else:
            second_started.set()
        return part
    assert threads.run_parts(work, [0, 1]) == [0, 1]
    assert threads._outcomes.unpaid_in_a_row == 0 and threads._outcomes.solo_left == 0
