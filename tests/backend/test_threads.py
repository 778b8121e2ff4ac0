"""The batch-split policy (backend/threads.py) and BLAS's narrow-product rule (blas.py)."""

import threading
import warnings

import numpy as np
import pytest

from numpyflow.backend import blas, threads
from numpyflow.backend.quiet import quiet


@pytest.fixture(autouse=True, scope="module")
def _stop_the_pool_afterwards():
    # Later tests count the process's threads (benchmarks' thread report): leave none.
    yield
    threads.shutdown()



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


def test_cores_respect_the_blas_thread_limit(monkeypatch):
    monkeypatch.setattr(blas, "_max_threads", 1)
    assert threads.cores() == 1


def test_run_parts_uses_another_thread_and_keeps_order():
    seen = []

    def work(part):
        seen.append(threading.get_ident())
        return part * 10
    assert threads.run_parts(work, [1, 2, 3]) == [10, 20, 30]
    assert threading.get_ident() in seen and len(set(seen)) >= 2


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
