"""`tf.distribute`: data-parallel training, one replica per process, all-reduced over MPI.

    import numpyflow as tf
    strategy = tf.distribute.MultiWorkerMirroredStrategy()   # mpirun -n 2 python train.py
    with strategy.scope():
        model = make_model()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64)    # 64 per step in all; 32 per rank with 2 ranks

See `strategy.py` for the strategies and contexts, `communicator.py` for the MPI
interface, `input_lib.py` for how batches are split, and `numpyflow/ops/collective_ops.py`
for the all-reduce op.
"""

from numpyflow.distribute import experimental  # noqa: F401
from numpyflow.distribute.reduce_op import ReduceOp  # noqa: F401
from numpyflow.distribute.strategy import (  # noqa: F401
    InputContext, MirroredStrategy, MPIStrategy, MultiWorkerMirroredStrategy, OneDeviceStrategy,
    ReplicaContext, Strategy, StrategyExtended, get_cross_replica_context, get_replica_context,
    get_strategy, has_strategy, in_cross_replica_context)
