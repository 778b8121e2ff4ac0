"""What `fit`/`evaluate` do differently under a `tf.distribute` strategy of N replicas.

TF's rules, kept here so the trainer stays one loop:

- the batch size given to `fit` is the *global* batch: each step, every replica takes its
  own consecutive piece of the global batch (`AutoShardPolicy.DATA`; `input_lib`), so a
  replica's batch is `batch_size / N`. A short last global batch is split unevenly (sizes
  differing by one; a replica may get none): no sample is dropped. Arrays are shuffled
  in an order all replicas agree on;
- each replica's mean loss is divided by N (Keras 3's `scale_loss_for_distribution`, in
  the `Loss` objects themselves) and the optimizer sums the replicas' gradients (one
  all-reduce per step): the mean gradient. In an unevenly split step the divisor is
  `global batch / this replica's batch` instead (as `tf.nn.compute_average_loss` with
  the global batch size), so the step's gradient is the global batch's mean gradient
  still; such a step runs eagerly (the compiled step holds 1/N as a constant);
- `predict` splits each global batch the same way and gathers the replicas' outputs in
  batch order: every replica returns the whole result;
- before the first step the model is built and every replica takes the chief's weights
  (one broadcast per dtype), after checking all replicas built the same variables;
- the metrics' states are summed over the replicas before their results are read, so
  every replica's logs and History hold the global values;
- only the chief (rank 0) shows the progress bar.

With one replica (no strategy, MirroredStrategy on one process) all of it is a no-op.
"""

import numpy as np

import numpyflow as tf
from numpyflow.distribute import input_lib
from numpyflow.keras.trainers.data_adapters import data_adapter_utils


def scale_loss(loss):
    """`loss / N` under a strategy of N > 1 replicas (their gradients are then summed);
    `loss * local / global batch size` in a step whose global batch was split unevenly."""
    from numpyflow.keras import losses
    return losses.scale_loss_for_distribution(loss)


def unscale_loss(loss):
    """The inverse of `scale_loss`: the replica's own loss again, for the loss trackers."""
    from numpyflow.keras import losses
    return losses.unscale_loss_for_distribution(loss)


class ReplicaTraining:
    """One `fit`/`evaluate` call's view of the strategy.

    Args:
      model: The model.
      x: The data given (arrays or a dataset), for its auto-shard policy.
      per_step_logs: Whether the callbacks read each step's logs (then the metrics are
        summed over the replicas after every step, not only at the end of the epoch).
    """

    def __init__(self, model, x, per_step_logs=False):
        self.model = model
        self.strategy = model.distribute_strategy
        self.replicas = self.strategy.num_replicas_in_sync
        self.rank = self.strategy.extended._communicator.rank
        self.is_chief = self.rank == 0
        # Every replica must make the same collective calls: if any replica's callbacks
        # read each step's logs, all of them sum the metrics after each step.
        self.per_step_logs = self.replicas > 1 and any(
            self.strategy.extended._communicator.allgather_object(bool(per_step_logs)))
        if self.replicas > 1 and data_adapter_utils.is_tf_dataset(x):
            from numpyflow.data.distribute_options import AutoShardPolicy
            if input_lib.shard_policy(x) is AutoShardPolicy.OFF:
                raise NotImplementedError("model.fit under a strategy of several replicas "
                                          "shards the dataset by data; AutoShardPolicy.OFF is "
                                          "supported by experimental_distribute_dataset only.")

    def shuffle_seed(self, shuffle):
        """A seed all replicas agree on for shuffling arrays (None with one replica)."""
        if self.replicas == 1 or not shuffle:
            return None
        # Drawn from tf.random (so `tf.random.set_seed` makes runs repeat), the chief's kept.
        draw = float(tf.random.uniform((), dtype=tf.float64).numpy())
        return self.strategy.extended._agree(int(draw * 2**53))

    def agree(self, value):
        """The chief's `value` (a small Python value) on every replica."""
        if self.replicas == 1:
            return value
        return self.strategy.extended._agree(value)

    def batches(self, epoch_iterator):
        """`(step, batch)` of one epoch: this replica's piece of each global batch.

        While a piece is handed out, `self.share` is this replica's share of its global
        batch when the batch did not split evenly (else None), and `self.piece_sizes`
        lists every replica's piece size of each batch so far (for `gather_outputs`).
        """
        self.share = None
        self.piece_sizes = []
        if self.replicas == 1:
            yield from epoch_iterator.enumerate_epoch()
            return
        for step, batch in epoch_iterator.enumerate_epoch():
            size = input_lib._batch_size(batch)
            slices = input_lib.per_replica_slices(size, self.replicas)
            self.piece_sizes.append([piece.stop - piece.start for piece in slices])
            mine = self.piece_sizes[-1][self.rank]
            self.share = None if size % self.replicas == 0 else mine / size
            yield step, input_lib._take(batch, slices[self.rank])
        self.share = None

    def run(self, function, eager_function, data):
        """`function(data)` in the replica context; in an unevenly split step,
        `eager_function(data)` with the losses scaled by this replica's share."""
        if self.share is None:
            return self.strategy.run(function, (data,))
        context = self.strategy._replica_context
        context._batch_share = self.share
        try:
            return self.strategy.run(eager_function, (data,))
        finally:
            context._batch_share = None

    def train_step(self, train_function, data):
        """Runs one step in the replica context (the optimizer all-reduces there)."""
        if self.replicas > 1 and self.model not in self.strategy.extended._synchronized:
            self.synchronize(data)
        logs = self.run(train_function, self.model.train_step, data)
        if self.per_step_logs:
            return self.global_logs(logs)
        return logs

    def gather_outputs(self, outputs):
        """The whole `predict` result on every replica: `outputs` holds this replica's
        (NumPy) outputs of each step, in `piece_sizes`' steps; the replicas' pieces are
        put back in the order of the samples."""
        if self.replicas == 1:
            return outputs
        from numpyflow.framework import nest
        sizes = np.array(self.piece_sizes, dtype=np.int64).reshape(-1, self.replicas)
        totals = sizes.sum(axis=0)
        structure = outputs[0]
        gathered_leaves = []
        for leaf_index in range(len(nest.flatten(structure))):
            local = np.concatenate([nest.flatten(o)[leaf_index] for o in outputs])
            blocks = self._all_gather_rows(local, totals)
            offsets = np.zeros(self.replicas, np.int64)
            pieces = []
            for step_sizes in sizes:
                for rank, size in enumerate(step_sizes):
                    pieces.append(blocks[rank][offsets[rank]:offsets[rank] + size])
                    offsets[rank] += size
            gathered_leaves.append(np.concatenate(pieces))
        return [nest.pack_sequence_as(structure, gathered_leaves)]

    def _all_gather_rows(self, local, totals):
        """Every replica's `local` rows (replica r has `totals[r]`), one broadcast each."""
        comm = self.strategy.extended._communicator
        padded = np.zeros((int(totals.max()),) + local.shape[1:], local.dtype)
        padded[:local.shape[0]] = local
        return [comm.broadcast(padded, root=rank)[:totals[rank]]
                for rank in range(self.replicas)]

    def synchronize(self, data):
        """Builds the model (and optimizer) if needed; then all replicas take the chief's
        variables, after checking they all built the same ones."""
        model = self.model
        if not model.built:
            x, _, _ = data_adapter_utils.unpack_x_y_sample_weight(data)
            model(x, training=False)
        extended = self.strategy.extended
        extended._broadcast_variables(model.variables, "the model")
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
            extended._broadcast_variables(optimizer.variables, "the optimizer's variables")
        self.strategy.extended._new_variables = []  # Those of the model are synchronized.
        self.strategy.extended._synchronized.add(model)
        if optimizer is not None:
            self.strategy.extended._synchronized.add(optimizer)

    def global_logs(self, logs=None):
        """The metrics' results over all replicas (`logs` itself with one replica).

        Each entry of `logs` that is a metric's result on this replica becomes the
        metric's global result; what a custom step returned that no metric holds stays
        this replica's own (as Keras 3 reports it for each worker)."""
        if self.replicas == 1:
            return logs
        variables = [v for metric in self.model.metrics for v in metric.variables]
        local = [v._value for v in variables]
        local_results = self.model.get_metrics_result() if isinstance(logs, dict) else {}
        summed = self.strategy.extended._reduce_arrays(local, "sum")
        try:
            for variable, value in zip(variables, summed):
                variable._value = value
            global_results = self.model.get_metrics_result()
        finally:
            for variable, value in zip(variables, local):
                variable._value = value
        if not isinstance(logs, dict) or not logs:
            return global_results
        return {key: global_results[key]
                if key in local_results and _same(value, local_results[key]) else value
                for key, value in logs.items()}


def _same(a, b):
    a = a.numpy() if hasattr(a, "numpy") else a
    b = b.numpy() if hasattr(b, "numpy") else b
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except (TypeError, ValueError):
        return False
