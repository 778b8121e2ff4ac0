"""A custom training loop under a strategy: `experimental_distribute_dataset` (or
`distribute_datasets_from_function`), `strategy.run`, `strategy.reduce`,
`tf.nn.compute_average_loss`, and a BatchNormalization(synchronized=True). Rank 0 writes
`<out>/custom.npz`: the final weights and the reduced loss of each step.

    mpirun -n 2 python tests/distribute/workers/custom_loop_worker.py --out /tmp/run
    python tests/distribute/workers/custom_loop_worker.py --out /tmp/one --strategy mirrored
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))

import numpyflow as tf  # noqa: E402

GLOBAL_BATCH = 32


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", default="multiworker")
    parser.add_argument("--from-function", action="store_true")
    parser.add_argument("--no-sync-bn", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    strategy = (tf.distribute.MirroredStrategy() if args.strategy == "mirrored"
                else tf.distribute.MultiWorkerMirroredStrategy())
    rank = strategy.cluster_resolver.task_id
    tf.random.set_seed(7 + rank)  # Different on each rank: the first step broadcasts.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")

    with strategy.scope():
        model = tf.keras.Sequential([
            tf.keras.Input((6,)), tf.keras.layers.Dense(16),
            tf.keras.layers.BatchNormalization(synchronized=not args.no_sync_bn),
            tf.keras.layers.ReLU(), tf.keras.layers.Dense(3)])
        optimizer = tf.keras.optimizers.SGD(0.1)
        loss_object = tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="none")
    if args.from_function:
        def dataset_fn(context):
            batch = context.get_per_replica_batch_size(GLOBAL_BATCH)
            ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
            return ds.map(lambda a, b: (a[context.input_pipeline_id * batch:
                                         (context.input_pipeline_id + 1) * batch],
                                        b[context.input_pipeline_id * batch:
                                          (context.input_pipeline_id + 1) * batch]))
        dataset = strategy.distribute_datasets_from_function(dataset_fn)
    else:
        dataset = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH))

    def train_step(inputs):
        features, labels = inputs
        with tf.GradientTape() as tape:
            logits = model(features, training=True)
            loss = tf.nn.compute_average_loss(loss_object(labels, logits),
                                              global_batch_size=GLOBAL_BATCH)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    @tf.function
    def distributed_step(inputs):
        per_replica = strategy.run(train_step, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    losses = []
    for _ in range(3):
        for batch in dataset:
            losses.append(float(distributed_step(batch)))
    plans = distributed_step.plan_sources()
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        np.savez(os.path.join(args.out, "custom.npz"), losses=np.array(losses),
                 compiled=len(plans), collectives=sum(p.count("CollectiveReduceV2(")
                                                      for p in plans),
                 *[w.numpy() for w in model.weights])
    # Without synchronized statistics each replica keeps its own moving statistics (as
    # TF's ON_READ variables): then only the trainable weights must agree.
    compared = model.trainable_weights if args.no_sync_bn else model.weights
    digest = np.concatenate([w.numpy().ravel() for w in compared])
    everyone = strategy.gather(tf.constant(digest[None]), axis=0).numpy()
    assert (everyone == everyone[0]).all(), "the replicas' weights differ"


if __name__ == "__main__":
    main()
