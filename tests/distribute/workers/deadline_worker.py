"""Rank 1 leaves the job early (exit code 0) while rank 0 waits in an all-reduce: rank 0
must stop with DeadlineExceededError after its collective timeout, not hang."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))

import numpy as np  # noqa: E402

import numpyflow as tf  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()
rank = strategy.cluster_resolver.task_id
total = strategy.reduce("SUM", tf.constant([1.0]))
print(f"rank {rank}: first reduce {total.numpy().tolist()}", flush=True)
if rank == 1:
    sys.exit(0)
start = time.monotonic()
try:
    strategy.reduce("SUM", tf.constant(np.ones(3, np.float32)))
except tf.errors.DeadlineExceededError as error:
    print(f"rank 0 stopped after {time.monotonic() - start:.1f} s: {error}", flush=True)
    raise
