"""`predict` on several cores: runs of batches on threads of their own.

A compiled predict plan that assigns no Variable and draws no random number computes
each batch's outputs from that batch alone, so batches may run in any order and on any
thread (`Plan.pure`). NumPy and BLAS release the GIL inside their kernels: while one
thread multiplies, another can. At small batches each product runs on one BLAS thread
(`backend/blas.py`), which leaves the second core idle; splitting the batches into
contiguous runs, one per core, uses it. Every batch still runs the same plan on the
same rows, so the outputs are the same bits as one thread's.

    >>> import numpy as np
    >>> run_batches(lambda batch: batch * 2, [np.ones(2)] * 3, threads=2)
    [array([2., 2.]), array([2., 2.]), array([2., 2.])]
"""

import threading

from numpyflow.backend import threads as backend_threads
from numpyflow.framework import nest
from numpyflow.keras.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

# Fewer batches than this do not pay for starting a thread (about 0.1 ms).
MIN_BATCHES = 8
# Larger batches make products and kernels large enough for BLAS's threads or the kernel
# splits of `backend/threads.py`: threads of ours would then compete with them for the cores.
LARGEST_BATCH = 128


def thread_count(epoch_iterator, callback_list, replicas):
    """How many threads `predict` may spread these batches over (1: stay on this one).

    Only arrays (whose batches are views, cheap to hold all at once), one replica, and
    no callback that watches each batch (those expect the batches one by one, in order).

    The threads are this module's own, not `backend.threads`' pool: kernels that split
    themselves over that pool may run inside a batch without waiting on themselves.
    """
    adapter = epoch_iterator.data_adapter
    if ((epoch_iterator.num_batches or 0) < MIN_BATCHES or replicas != 1
            or not isinstance(adapter, ArrayDataAdapter)
            or adapter.batch_size > LARGEST_BATCH
            or callback_list.has("on_predict_batch_begin")
            or callback_list.has("on_predict_batch_end")):
        return 1
    # The backend's policy: affinity and BLAS thread limit. Measured on 2 cores, 10,000
    # samples at batch 32: 25 ms on two threads vs 35 ms on one when the machine is idle;
    # 40 vs 36 ms when other processes keep its cores busy (load average near 2).
    return backend_threads.cores()


def run_batches(run, batches, threads):
    """`[run(batch) for batch in batches]`, the batches cut into `threads` contiguous runs,
    each run on a thread of its own (the first on the calling thread).

    An exception raised by any run is raised here, after every thread has finished.
    """
    threads = max(1, min(threads, len(batches)))
    if threads == 1:
        return [run(batch) for batch in batches]
    bounds = [len(batches) * i // threads for i in range(threads + 1)]
    results = [None] * threads
    errors = [None] * threads

    def work(index):
        try:
            results[index] = [run(batch) for batch in batches[bounds[index]:bounds[index + 1]]]
        except BaseException as error:  # Re-raised by the calling thread.
            errors[index] = error

    workers = [threading.Thread(target=work, args=(index,), daemon=True,
                                name=f"numpyflow-predict-{index}")
               for index in range(1, threads)]
    for worker in workers:
        worker.start()
    try:
        work(0)
    finally:
        for worker in workers:
            worker.join()
    for error in errors:
        if error is not None:
            raise error
    return [output for part in results for output in part]


def run_rest(run_pure, run, batches, size, threads):
    """The outputs of the rest of `predict`'s batches, in order.

    The batches of `size` samples (those the pure plan was compiled for) go to `run_pure`
    on `threads` threads; trailing batches of another size (a last, partial batch, which
    may still be traced) go to `run` on this thread after them.
    """
    same = len(batches)
    while same and _size(batches[same - 1]) != size:
        same -= 1
    outputs = run_batches(run_pure, batches[:same], threads)
    return outputs + [run(batch) for batch in batches[same:]]


def _size(batch):
    return nest.flatten(batch)[0].shape[0]
