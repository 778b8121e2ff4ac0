"""MultiWorkerMirroredStrategy(communication_options=...) under mpirun.

    mpirun -n 2 python options_worker.py pack 1024   # all-reduce in packs of 1024 bytes
    mpirun -n 2 python options_worker.py timeout 2   # rank 1 leaves; rank 0 times out

`pack` prints one JSON line per rank: the reduced values' check and the number of MPI
all-reduce calls made; `timeout` prints how long rank 0 waited before it stopped.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))

import numpy as np  # noqa: E402

import numpyflow as tf  # noqa: E402

mode, value = sys.argv[1], sys.argv[2]
if mode == "pack":
    options = tf.distribute.experimental.CommunicationOptions(bytes_per_pack=int(value),
                                                              implementation="RING")
else:
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=float(value))
strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
rank = strategy.cluster_resolver.task_id
communicator = strategy.extended._communicator
if mode == "pack":
    # 1000 float32 (4000 bytes) and 3 float64: rank r holds r + i at position i.
    values = np.arange(1000, dtype=np.float32) + rank
    small = np.arange(3, dtype=np.float64) + rank
    before = communicator.allreduce_calls
    total, little = strategy.extended._all_reduce([tf.constant(values), tf.constant(small)],
                                                  "sum")
    expected = 2 * np.arange(1000, dtype=np.float32) + 1
    print(json.dumps({"rank": rank, "calls": communicator.allreduce_calls - before,
                      "exact": bool(np.array_equal(total.numpy(), expected)),
                      "small": little.numpy().tolist(),
                      "timeout": communicator.timeout}), flush=True)
else:
    strategy.reduce("SUM", tf.constant([1.0]))
    if rank == 1:
        sys.exit(0)
    start = time.monotonic()
    try:
        strategy.reduce("SUM", tf.constant(np.ones(3, np.float32)))
    except tf.errors.DeadlineExceededError as error:
        print(f"rank 0 stopped after {time.monotonic() - start:.1f} s: {error}", flush=True)
        raise
