"""`tf.distribute` strategies: one replica per process, all-reduced over a communicator.

A strategy says how many replicas train in sync and how they talk (a `Communicator`).
numpyflow runs one replica per process: `MirroredStrategy` and `OneDeviceStrategy` have
one (the same script then runs without MPI); `MultiWorkerMirroredStrategy` (alias
`MPIStrategy`) has one per MPI process when launched with `mpirun -n N`.

Contexts, as in TF: inside `strategy.scope()` the code is in the *cross-replica
context* of that strategy; inside `strategy.run(fn)` (and inside `model.fit`'s steps)
it is in a *replica context*, where `optimizer.apply_gradients` sums the gradients over
the replicas before applying them. Outside any scope, the default strategy (one replica)
is current, in its default replica context.

    >>> import numpyflow as tf
    >>> strategy = tf.distribute.MirroredStrategy()
    >>> with strategy.scope():
    ...     tf.distribute.in_cross_replica_context(), tf.distribute.get_strategy() is strategy
    (True, True)
    >>> strategy.num_replicas_in_sync
    1
"""

import contextlib
import threading
import weakref

import numpy as np

from numpyflow.distribute import communicator as communicator_module
from numpyflow.distribute.reduce_op import ReduceOp, as_reduce_op
from numpyflow.framework.variable import variable_creator_scope


class _ContextStack(threading.local):
    """Per thread: the entered scopes and replica contexts, innermost last, as
    `(strategy, replica_context or None)`."""

    def __init__(self):
        self.entries = []


_contexts = _ContextStack()


# -- the context functions of tf.distribute ----------------------------------------------------

def get_strategy():
    """The current strategy: the innermost `scope()` or `run()` entered, else the default."""
    if _contexts.entries:
        return _contexts.entries[-1][0]
    return _default_strategy()


def has_strategy():
    """Whether a strategy other than the default one is current."""
    return get_strategy() is not _default_strategy()


def in_cross_replica_context():
    """True inside `strategy.scope()` but outside `strategy.run()`."""
    return bool(_contexts.entries) and _contexts.entries[-1][1] is None


def get_replica_context():
    """The current `ReplicaContext`: the default one outside any scope, None in a
    cross-replica context."""
    if not _contexts.entries:
        return _default_strategy()._replica_context
    return _contexts.entries[-1][1]


def get_cross_replica_context():
    """The current strategy in a cross-replica context, else None."""
    return _contexts.entries[-1][0] if in_cross_replica_context() else None


@contextlib.contextmanager
def _entered(strategy, replica_context):
    _contexts.entries.append((strategy, replica_context))
    try:
        yield strategy
    finally:
        _contexts.entries.pop()


# -- replica context ------------------------------------------------------------------------------

class ReplicaContext:
    """What the code inside `strategy.run(fn)` sees of its replica.

    >>> import numpyflow as tf
    >>> strategy = tf.distribute.MirroredStrategy()
    >>> strategy.run(lambda: tf.distribute.get_replica_context().replica_id_in_sync_group)
    0
    """

    def __init__(self, strategy):
        self._strategy = strategy
        # This replica's share of the global batch in a step whose batch split unevenly
        # (set by model.fit; the losses scale by it instead of 1 / num_replicas_in_sync).
        self._batch_share = None

    @property
    def strategy(self):
        return self._strategy

    @property
    def num_replicas_in_sync(self):
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self):
        return self._strategy.extended._communicator.rank

    def all_reduce(self, reduce_op, value, options=None):
        """`value` (a tensor or a nest of tensors) reduced over the replicas (SUM or MEAN).

        Every replica must call it in the same order with tensors of the same shapes.
        """
        _reject("ReplicaContext.all_reduce", options=options)
        from numpyflow.framework import nest
        op = "sum" if as_reduce_op(reduce_op) is ReduceOp.SUM else "mean"
        leaves = nest.flatten(value)
        reduced = self._strategy.extended._all_reduce(leaves, op)
        return nest.pack_sequence_as(value, reduced)


# -- strategies ---------------------------------------------------------------------------------

class StrategyExtended:
    """`strategy.extended`: which replica saves files, and the collectives underneath."""

    def __init__(self, strategy, communicator):
        self._strategy = strategy
        self._communicator = communicator
        # Optimizers (and models) whose variables already took the chief's values.
        self._synchronized = weakref.WeakSet()
        # Variables created in `scope()` that have not taken the chief's values yet.
        self._new_variables = []

    def _creator(self, next_creator, **kwargs):
        variable = next_creator(**kwargs)
        if self._communicator.size > 1:
            self._new_variables.append(weakref.ref(variable))
        return variable

    def _synchronize_new_variables(self):
        """Gives the variables created in `scope()` since the last call the chief's values
        (after checking every replica created the same ones), before each `run`.

        Variables that a step creates lazily (a Keras layer built on its first call, a
        metric's state) are not: those of the optimizer's variables take the chief's
        values at the first `apply_gradients`, and the rest (BatchNormalization's moving
        statistics, metric states) keep each replica's own. `model.fit` builds the model
        and synchronizes all of its variables before its first step."""
        if not self._new_variables:
            return
        variables = [v for v in (ref() for ref in self._new_variables) if v is not None]
        self._new_variables = []
        self._broadcast_variables(variables, "the variables created in strategy.scope()")

    @property
    def should_checkpoint(self):
        """Whether this replica writes checkpoints (only the chief, rank 0)."""
        return self._communicator.rank == 0

    @property
    def should_save_summary(self):
        """Whether this replica writes TensorBoard summaries (only the chief, rank 0)."""
        return self._communicator.rank == 0

    @property
    def should_init(self):
        return True

    @property
    def _in_multi_worker_mode(self):
        return self._communicator.size > 1

    def _all_reduce(self, tensors, op):
        """Tensors reduced over the replicas with one collective per dtype (a traced op)."""
        from numpyflow.ops import collective_ops
        if self._communicator.size == 1:
            from numpyflow.ops.array_ops import identity
            return [None if t is None else identity(t) for t in tensors]
        return collective_ops.all_reduce(tensors, self._communicator, op)

    def _broadcast_variables(self, variables, what="the model"):
        """Checks that every replica has variables of the same shapes and dtypes, then gives
        each the chief's values (one broadcast per dtype). Runs eagerly, outside plans."""
        variables = list(variables)
        comm = self._communicator
        if comm.size == 1:
            return
        signature = [(tuple(v.shape.as_list()), v.dtype.name) for v in variables]
        signatures = comm.allgather_object(signature)
        for rank, other in enumerate(signatures):
            if other != signatures[0]:
                raise ValueError(_mismatch_message(what, signatures[0], other, rank))
        by_dtype = {}
        for v in variables:
            by_dtype.setdefault(v._value.dtype, []).append(v)
        for dtype in sorted(by_dtype, key=str):
            group = by_dtype[dtype]
            buffer = np.concatenate([np.ravel(v._value) for v in group]) if group else None
            buffer = comm.broadcast(buffer, root=0)
            offset = 0
            for v in group:
                size = v._value.size
                # Set directly, not with assign(): a trace running now must not record
                # the chief's values as a constant assignment of every later step.
                v._value = buffer[offset:offset + size].reshape(v._value.shape).copy()
                offset += size

    def _reduce_arrays(self, arrays, op="sum"):
        """NumPy arrays reduced over the replicas, one collective per dtype (bookkeeping
        such as metric states; not differentiated, not traced)."""
        comm = self._communicator
        if comm.size == 1:
            return [np.array(a, copy=True) for a in arrays]
        arrays = [np.asarray(a) for a in arrays]
        results = [None] * len(arrays)
        by_dtype = {}
        for index, array in enumerate(arrays):
            by_dtype.setdefault(array.dtype, []).append(index)
        for dtype in sorted(by_dtype, key=str):
            indices = by_dtype[dtype]
            reduced = comm.allreduce(np.concatenate([arrays[i].ravel() for i in indices]), op)
            offset = 0
            for i in indices:
                size = arrays[i].size
                results[i] = reduced[offset:offset + size].reshape(arrays[i].shape)
                offset += size
        return results

    def _agree(self, value):
        """The chief's `value` (a small Python value), on every replica."""
        return self._communicator.allgather_object(value)[0]


class Strategy:
    """Base class of the strategies: the API shared by all of them."""

    def __init__(self, communicator):
        self._extended = StrategyExtended(self, communicator)
        self._replica_context = ReplicaContext(self)

    @property
    def extended(self):
        return self._extended

    @property
    def num_replicas_in_sync(self):
        """How many replicas train in sync (MPI processes for MultiWorkerMirroredStrategy)."""
        return self._extended._communicator.size

    @property
    def cluster_resolver(self):
        """Who this replica is: `task_type` ("worker") and `task_id` (its rank)."""
        return ClusterResolver(self._extended._communicator)

    def scope(self):
        """A context manager in which models, optimizers and datasets use this strategy.

        >>> import numpyflow as tf
        >>> strategy = tf.distribute.MirroredStrategy()
        >>> with strategy.scope():
        ...     model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        >>> model.distribute_strategy is strategy
        True
        """
        current = get_strategy()
        if current is not self and current is not _default_strategy() and _contexts.entries:
            raise ValueError(f"Mixing different tf.distribute.Strategy objects: a scope of "
                             f"{type(current).__name__} is already open; received a scope() "
                             f"of {type(self).__name__}.")
        return self._scope()

    @contextlib.contextmanager
    def _scope(self):
        # Variables created in the scope are noted, to take the chief's values before the
        # next step runs (`_synchronize_new_variables`).
        with _entered(self, None), variable_creator_scope(self._extended._creator):
            yield self

    def run(self, fn, args=(), kwargs=None, options=None):
        """Runs `fn(*args, **kwargs)` on this replica, in a replica context.

        Inside it, `optimizer.apply_gradients` sums the gradients over the replicas, and
        `tf.distribute.get_replica_context().all_reduce` reduces any value. Returns what
        `fn` returns (this process's replica's values).
        """
        _reject("Strategy.run", options=options)
        self._extended._synchronize_new_variables()
        with _entered(self, self._replica_context):
            return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op, value, axis=None):
        """Combines the replicas' `value` into one, the same on every replica.

        Args:
          reduce_op: `tf.distribute.ReduceOp.SUM` or `MEAN` (or "SUM"/"MEAN").
          value: This replica's tensor (what `strategy.run` returned).
          axis: None to combine the replicas' values element by element; an axis to also
            reduce along it (MEAN then averages over all elements of all replicas, so
            replicas with fewer examples weigh less, as in TF).

        Returns:
          A Tensor.
        """
        import numpyflow as tf
        op = as_reduce_op(reduce_op)
        value = tf.convert_to_tensor(value)
        if axis is None:
            return self._extended._all_reduce([value], "sum" if op is ReduceOp.SUM
                                               else "mean")[0]
        total = tf.reduce_sum(value, axis=axis)
        if op is ReduceOp.SUM:
            return self._extended._all_reduce([total], "sum")[0]
        count = tf.cast(tf.shape(value)[axis], total.dtype)
        total, count = self._extended._all_reduce([total, count], "sum")
        return total / count

    def experimental_local_results(self, value):
        """This process's replicas' values, as a tuple (one replica per process)."""
        return (value,)

    def experimental_distribute_dataset(self, dataset, options=None):
        """The dataset's global batches, each cut into one batch per replica; this replica
        iterates its own (see `numpyflow.distribute.input_lib`)."""
        from numpyflow.distribute import input_lib
        _reject("experimental_distribute_dataset", options=options)
        return input_lib.DistributedDataset(dataset, self)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """Calls `dataset_fn(tf.distribute.InputContext)` on this replica; the dataset it
        returns is batched per replica and sharded by the function itself."""
        from numpyflow.distribute import input_lib
        _reject("distribute_datasets_from_function", options=options)
        return input_lib.DistributedDatasetsFromFunction(dataset_fn, self)

    def gather(self, value, axis):
        """The replicas' tensors concatenated along `axis`, on every replica."""
        import numpyflow as tf
        value = tf.convert_to_tensor(value)
        comm = self._extended._communicator
        if comm.size == 1:
            return tf.identity(value)
        shapes = comm.allgather_object(tuple(value.shape.as_list()))
        moved = np.moveaxis(value.numpy(), axis, 0)
        rows = [np.moveaxis(np.zeros(s, moved.dtype), axis, 0).shape[0] for s in shapes]
        padded = np.zeros((max(rows),) + moved.shape[1:], moved.dtype)
        padded[:moved.shape[0]] = moved
        pieces = [comm.broadcast(padded, root=r)[:rows[r]] for r in range(comm.size)]
        return tf.constant(np.moveaxis(np.concatenate(pieces), 0, axis))

    def __repr__(self):
        return f"<{type(self).__name__} num_replicas_in_sync={self.num_replicas_in_sync}>"

    def __deepcopy__(self, memo):
        return self  # A copied model trains under the same strategy.

    def __reduce__(self):
        # An unpickled model gets a strategy of the same kind in the new process.
        return type(self), ()


class MirroredStrategy(Strategy):
    """Synchronous training on the devices of one machine: here one CPU replica.

    As TF on a machine without GPUs, it has one replica, so the same script runs with or
    without several processes (use `MultiWorkerMirroredStrategy` under `mpirun` for those).

    Args:
      devices: None, or a list of one CPU device ("/cpu:0"); GPUs are not supported.
      cross_device_ops: Must be None (nothing crosses devices with one replica).
    """

    def __init__(self, devices=None, cross_device_ops=None):
        _check_devices(devices, "MirroredStrategy")
        _reject("MirroredStrategy", cross_device_ops=cross_device_ops)
        super().__init__(communicator_module.SingleProcessCommunicator())


class OneDeviceStrategy(Strategy):
    """Everything on one device (the CPU): one replica, the same API as the others.

    Args:
      device: The device, "/cpu:0" (or "cpu", "/device:CPU:0").
    """

    def __init__(self, device):
        _check_devices([device], "OneDeviceStrategy")
        super().__init__(communicator_module.SingleProcessCommunicator())

    def __reduce__(self):
        return OneDeviceStrategy, ("/cpu:0",)


class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous data-parallel training, one replica per MPI process.

    Launch the script with `mpirun -n N python train.py` (`pip install numpyflow[mpi]`).
    Each rank is a replica; gradients are summed over the ranks with one MPI all-reduce
    per step, and variables start from the chief's (rank 0's) values. Run as a plain
    `python train.py`, it has one replica and does not need MPI.

    Args:
      communication_options: Optional `tf.distribute.experimental.CommunicationOptions`:
        `timeout_seconds` bounds each collective's wait (None: the
        `NUMPYFLOW_COLLECTIVE_TIMEOUT` environment variable, else 300 s; TF would wait
        forever), `bytes_per_pack` > 0 all-reduces the gradients in packs of at most that
        many bytes (0: one buffer per dtype), `implementation` AUTO or RING (both MPI:
        RING asks Open MPI for its ring all-reduce, AUTO too in jobs of up to
        `communicator.AUTO_RING_MAX_RANKS` ranks; NCCL raises NotImplementedError).
      cluster_resolver: Must be None: the MPI launcher says who is who (`TF_CONFIG` is
        not read).
      communicator: Optional `numpyflow.distribute.communicator.Communicator` to use
        instead of MPI's world (numpyflow's own extension; `communication_options` then
        must be None).

    >>> import numpyflow as tf
    >>> strategy = tf.distribute.MultiWorkerMirroredStrategy()  # python, not mpirun
    >>> strategy.num_replicas_in_sync, strategy.cluster_resolver.task_id
    (1, 0)
    """

    def __init__(self, communication_options=None, cluster_resolver=None, communicator=None):
        from numpyflow.distribute import collective_util
        _reject("MultiWorkerMirroredStrategy", cluster_resolver=cluster_resolver)
        if communicator is not None and communication_options is not None:
            raise ValueError("MultiWorkerMirroredStrategy: pass either `communicator` or "
                             "`communication_options`, not both (a communicator carries its "
                             "own timeout and packing).")
        options = collective_util.check_supported(communication_options)
        self._communication_options = options
        if communicator is None:
            if communicator_module.mpi_world_size() > 1:
                communicator = communicator_module.MPICommunicator(
                    timeout=options.timeout_seconds, bytes_per_pack=options.bytes_per_pack,
                    ring=collective_util.asks_for_ring(options))
            else:
                communicator = communicator_module.SingleProcessCommunicator()
        super().__init__(communicator)


# numpyflow's name that says what it runs on.
MPIStrategy = MultiWorkerMirroredStrategy


class _DefaultDistributionStrategy(Strategy):
    """The strategy in effect outside any scope: one replica, no collectives."""

    def __init__(self):
        super().__init__(communicator_module.SingleProcessCommunicator())

    def scope(self):
        return contextlib.nullcontext(self)

    def __reduce__(self):
        return _default_strategy, ()


_DEFAULT = []


def _default_strategy():
    if not _DEFAULT:
        _DEFAULT.append(_DefaultDistributionStrategy())
    return _DEFAULT[0]


class ClusterResolver:
    """Who this process is in the job: `task_type` "worker", `task_id` its rank."""

    def __init__(self, communicator):
        self._communicator = communicator
        self.task_type = "worker"
        self.task_id = communicator.rank
        self.rpc_layer = None

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return {}

    def __repr__(self):
        return f"ClusterResolver(task_type='worker', task_id={self.task_id})"


class InputContext:
    """What `dataset_fn` of `distribute_datasets_from_function` learns about its pipeline."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        """`global_batch_size // num_replicas_in_sync`; it must divide evenly."""
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not divisible by "
                             f"`num_replicas_in_sync` {self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync

    def __repr__(self):
        return (f"tf.distribute.InputContext(input pipeline id {self.input_pipeline_id}, "
                f"total: {self.num_input_pipelines})")


def _check_devices(devices, who):
    if devices is None:
        return
    devices = list(devices)
    accepted = {"/cpu:0", "cpu", "cpu:0", "/device:cpu:0",
                "/job:localhost/replica:0/task:0/device:cpu:0"}
    if len(devices) != 1 or str(devices[0]).lower() not in accepted:
        raise NotImplementedError(f"{who}: numpyflow runs one replica on the CPU per process; "
                                  f"received devices={devices!r}. Use "
                                  f"MultiWorkerMirroredStrategy under mpirun for more replicas.")


def _reject(who, **arguments):
    for name, value in arguments.items():
        if value is not None:
            raise NotImplementedError(f"{who}: `{name}` is not supported by numpyflow; "
                                      f"received {name}={value!r}.")


def _mismatch_message(what, chief, other, rank):
    def describe(signature):
        parameters = sum(int(np.prod(shape)) for shape, _ in signature)
        return f"{len(signature)} variables ({parameters} parameters)"
    for index, (a, b) in enumerate(zip(chief, other)):
        if a != b:
            first = (f"variable #{index} is {a[0]} {a[1]} on rank 0 but {b[0]} {b[1]} on "
                     f"rank {rank}")
            break
    else:
        first = "one rank has more variables than the other"
    return (f"The replicas disagree on {what}: rank 0 has {describe(chief)}, rank {rank} has "
            f"{describe(other)} ({first}). Every rank must build the same model.")
