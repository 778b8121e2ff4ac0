"""What `fit`/`evaluate` do differently under a `tf.distribute` strategy of N replicas.

TF's rules, kept here so the trainer stays one loop:

- the batch size given to `fit` is the *global* batch: each step, every replica takes its
  own consecutive piece of the global batch (`AutoShardPolicy.DATA`; `input_lib`), so a
  replica's batch is `batch_size / N`; a last global batch with fewer than N samples is
  skipped. Arrays are shuffled in an order all replicas agree on;
- the loss is divided by N (`scale_loss`, Keras 3's `scale_loss_for_distribution`) and
  the optimizer sums the replicas' gradients (one all-reduce per step): the mean gradient;
- before the first step the model is built and every replica takes the chief's weights
  (one broadcast per dtype), after checking all replicas built the same variables;
- the metrics' states are summed over the replicas before their results are read, so
  every replica's logs and History hold the global values;
- only the chief (rank 0) shows the progress bar.

With one replica (no strategy, MirroredStrategy on one process) all of it is a no-op.
"""

import numpyflow as tf
from numpyflow.distribute import input_lib
from numpyflow.distribute import strategy as distribute_lib
from numpyflow.keras.trainers.data_adapters import data_adapter_utils


def scale_loss(loss):
    """`loss / N` under a strategy of N > 1 replicas (their gradients are then summed)."""
    replicas = distribute_lib.get_strategy().num_replicas_in_sync
    if replicas > 1:
        return loss * tf.cast(1.0 / replicas, loss.dtype)
    return loss


def unscale_loss(loss):
    """`loss * N`: the per-replica loss again, for the loss trackers."""
    replicas = distribute_lib.get_strategy().num_replicas_in_sync
    if replicas > 1:
        return loss * tf.cast(replicas, loss.dtype)
    return loss


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
        """`(step, batch)` of one epoch: this replica's piece of each global batch."""
        if self.replicas == 1:
            yield from epoch_iterator.enumerate_epoch()
            return
        for step, batch in epoch_iterator.enumerate_epoch():
            size = input_lib._batch_size(batch)
            if size < self.replicas:
                continue  # Some replica would get no sample: skipped, on every replica.
            yield step, input_lib._take(batch, input_lib.per_replica_slices(
                size, self.replicas)[self.rank])

    def train_step(self, train_function, data):
        """Runs one step in the replica context (the optimizer all-reduces there)."""
        if self.replicas > 1 and self.model not in self.strategy.extended._synchronized:
            self.synchronize(data)
        logs = self.strategy.run(train_function, (data,))
        if self.per_step_logs:
            return self.global_logs()
        return logs

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
        """The metrics' results over all replicas (`logs` itself with one replica)."""
        if self.replicas == 1:
            return logs
        variables = [v for metric in self.model.metrics for v in metric.variables]
        local = [v._value for v in variables]
        summed = self.strategy.extended._reduce_arrays(local, "sum")
        try:
            for variable, value in zip(variables, summed):
                variable._value = value
            return self.model.get_metrics_result()
        finally:
            for variable, value in zip(variables, local):
                variable._value = value
