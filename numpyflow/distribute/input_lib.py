"""Distributed input: each replica's share of the global batches.

TF's rule (`experimental_distribute_dataset`, and `model.fit` under a strategy): the
dataset yields *global* batches; each is cut into `num_replicas_in_sync` consecutive
per-replica batches (sizes differing by at most one, the larger first), then the
auto-shard policy says which of them this replica takes:

- `AutoShardPolicy.DATA` (and `AUTO`, the default; numpyflow datasets do not track
  files, so AUTO always shards by data): replica `r` takes piece `r` of every global
  batch;
- `AutoShardPolicy.OFF`: every replica takes every piece, in order.

    >>> import numpyflow as tf
    >>> strategy = tf.distribute.MirroredStrategy()
    >>> ds = tf.data.Dataset.range(6).batch(4)
    >>> [b.numpy().tolist() for b in strategy.experimental_distribute_dataset(ds)]
    [[0, 1, 2, 3], [4, 5]]
"""

import numpy as np

from numpyflow.framework import nest


def per_replica_slices(batch_size, num_replicas):
    """The `slice` of each replica's piece of a global batch of `batch_size` samples."""
    base, extra = divmod(batch_size, num_replicas)
    slices, start = [], 0
    for replica in range(num_replicas):
        stop = start + base + (1 if replica < extra else 0)
        slices.append(slice(start, stop))
        start = stop
    return slices


def shard_policy(dataset):
    """The dataset's `options().experimental_distribute.auto_shard_policy` (AUTO if none)."""
    from numpyflow.data.distribute_options import AutoShardPolicy
    options = dataset.options() if hasattr(dataset, "options") else None
    policy = getattr(getattr(options, "experimental_distribute", None), "auto_shard_policy",
                     AutoShardPolicy.AUTO)
    if policy is AutoShardPolicy.FILE:
        raise NotImplementedError("AutoShardPolicy.FILE: numpyflow datasets do not track the "
                                  "files they read; use AutoShardPolicy.DATA (or shard the "
                                  "file list in distribute_datasets_from_function).")
    if policy is AutoShardPolicy.HINT:
        raise NotImplementedError("AutoShardPolicy.HINT is not supported by numpyflow; use "
                                  "AutoShardPolicy.DATA or OFF.")
    return policy


def replica_batches(batches, rank, num_replicas, policy=None):
    """This replica's per-replica batches from an iterable of global batches."""
    from numpyflow.data.distribute_options import AutoShardPolicy
    if num_replicas == 1:
        yield from batches
        return
    for batch in batches:
        size = _batch_size(batch)
        slices = per_replica_slices(size, num_replicas)
        if policy is AutoShardPolicy.OFF:
            for piece in slices:
                yield _take(batch, piece)
        else:
            yield _take(batch, slices[rank])


def _batch_size(batch):
    leaves = nest.flatten(batch)
    if not leaves:
        raise ValueError("A distributed dataset's element holds no tensors to split.")
    return int(np.shape(leaves[0])[0])


def _take(batch, piece):
    return nest.map_structure(lambda leaf: _rows(leaf, piece), batch)


def _rows(leaf, piece):
    from numpyflow.framework.tensor import Tensor
    if isinstance(leaf, Tensor):
        return Tensor(leaf._value[piece])
    return leaf[piece]


class DistributedDataset:
    """What `strategy.experimental_distribute_dataset(dataset)` returns: iterating it
    yields this replica's batches (see the module docstring)."""

    def __init__(self, dataset, strategy):
        self._dataset = dataset
        self._strategy = strategy
        self._policy = shard_policy(dataset)

    def __iter__(self):
        comm = self._strategy.extended._communicator
        return iter(replica_batches(self._dataset, comm.rank, comm.size, self._policy))

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def reduce(self, initial_state, reduce_func):
        state = initial_state
        for element in self:
            state = reduce_func(state, element)
        return state


class DistributedDatasetsFromFunction:
    """What `strategy.distribute_datasets_from_function(dataset_fn)` returns."""

    def __init__(self, dataset_fn, strategy):
        from numpyflow.distribute.strategy import InputContext
        comm = strategy.extended._communicator
        context = InputContext(num_input_pipelines=comm.size, input_pipeline_id=comm.rank,
                               num_replicas_in_sync=comm.size)
        self._dataset = dataset_fn(context)

    def __iter__(self):
        return iter(self._dataset)

    @property
    def element_spec(self):
        return self._dataset.element_spec
