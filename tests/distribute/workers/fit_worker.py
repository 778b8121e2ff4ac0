"""Trains the seed MLP or LeNet-5 with `model.fit` under a strategy; run by the tests under
`mpirun -n N` (or plainly). Each rank writes `<out>/rank<r>.json`: per-epoch weight
digests, the History, the files it saw, and the final weights' accuracy.

    mpirun -n 2 python tests/distribute/workers/fit_worker.py --model mlp --out /tmp/run
"""

import argparse
import hashlib
import json
import os
import socket
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))

import numpyflow as tf  # noqa: E402
from examples.lenet5 import build_lenet5  # noqa: E402


def load_data(kind, samples, seed):
    if kind == "fashion":
        (x, y), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
        rng = np.random.default_rng(seed)
        index = rng.permutation(len(x))[:samples]
        x, y = x[index] / 255.0, y[index]
        x_test, y_test = x_test[:2000] / 255.0, y_test[:2000]
    else:  # Synthetic: 10 classes separable by a random linear map of 28x28 images.
        rng = np.random.default_rng(seed)
        x = rng.random((samples + 500, 28, 28)).astype("float32")
        w = np.random.default_rng(99).normal(size=(28 * 28, 10))
        y = (x.reshape(len(x), -1) @ w).argmax(1)
        x, y, x_test, y_test = x[:samples], y[:samples], x[samples:], y[samples:]
    return (x.astype("float32")[..., None], y), (x_test.astype("float32")[..., None], y_test)


def build(kind):
    if kind == "lenet":
        return build_lenet5(tf, input_shape=(28, 28, 1))
    return tf.keras.Sequential([tf.keras.Input((28, 28, 1)), tf.keras.layers.Flatten(),
                                tf.keras.layers.Dense(128, activation="relu"),
                                tf.keras.layers.Dense(10, activation="softmax")])


class DirectLossStep(tf.keras.Model):
    """A custom train_step that calls the compiled Loss object itself (`self.loss(...)`),
    not `compute_loss`: the Loss must scale for the replicas on its own."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def call(self, x, training=False):
        return self.net(x, training=training)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.loss(y, y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return {"loss": loss}


def digest(model):
    hasher = hashlib.sha256()
    for weight in model.get_weights():
        hasher.update(np.ascontiguousarray(weight).tobytes())
    return hasher.hexdigest()


class Record(tf.keras.callbacks.Callback):
    def __init__(self, state, fail_at, fail_how):
        super().__init__()
        self.state, self.fail_at, self.fail_how = state, fail_at, fail_how

    def on_epoch_end(self, epoch, logs=None):
        self.state["digests"].append(digest(self.model))
        self.state["epochs"].append(epoch)
        self.state["logs"].append({k: float(v) for k, v in logs.items()})

    def on_epoch_begin(self, epoch, logs=None):
        rank = self.model.distribute_strategy.cluster_resolver.task_id
        if self.fail_at is not None and epoch == self.fail_at and rank == 1:
            if self.fail_how == "kill":
                os.kill(os.getpid(), 9)
            if self.fail_how == "leave":  # Ends cleanly, as if it had fewer steps to run.
                sys.exit(0)
            raise RuntimeError("rank 1 fails on purpose")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--strategy", default="multiworker")
    parser.add_argument("--dataset", action="store_true")
    parser.add_argument("--validation", action="store_true")
    parser.add_argument("--checkpoint-dir")
    parser.add_argument("--backup-dir")
    parser.add_argument("--fail-at", type=int)
    parser.add_argument("--fail-how", default="raise")
    parser.add_argument("--extra-layer-on-rank1", action="store_true")
    parser.add_argument("--no-shuffle", action="store_true")
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument("--save-weights", action="store_true")
    parser.add_argument("--step", default="default", choices=["default", "direct-loss"])
    parser.add_argument("--regularize", action="store_true")
    parser.add_argument("--predict", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    strategy = (tf.distribute.MirroredStrategy() if args.strategy == "mirrored"
                else tf.distribute.MultiWorkerMirroredStrategy())
    rank = strategy.cluster_resolver.task_id
    # Each rank seeds differently: the broadcast from rank 0 must make the weights agree.
    tf.random.set_seed(args.seed * 100 + rank)
    (x, y), (x_test, y_test) = load_data(args.data, args.samples, args.seed)
    with strategy.scope():
        model = build(args.model)
        if args.extra_layer_on_rank1 and rank == 1:
            model.add(tf.keras.layers.Dense(10, activation="softmax"))
        if args.regularize:  # Layer losses (add_loss) beside the compiled loss.
            model.add(tf.keras.layers.ActivityRegularization(l2=0.05))
        loss = "sparse_categorical_crossentropy"
        metrics = ["accuracy"]
        if args.step == "direct-loss":
            model = DirectLossStep(model)
            loss, metrics = tf.keras.losses.SparseCategoricalCrossentropy(), None
        model.compile(args.optimizer, loss, metrics=metrics)
    state = {"rank": rank, "pid": os.getpid(), "host": socket.gethostname(),
             "replicas": strategy.num_replicas_in_sync,
             "digests": [],
             "epochs": [], "logs": []}
    callbacks = [Record(state, args.fail_at, args.fail_how)]
    if args.checkpoint_dir:
        callbacks.append(tf.keras.callbacks.ModelCheckpoint(
            os.path.join(args.checkpoint_dir, "ckpt-{epoch}.weights.h5"), save_weights_only=True))
        callbacks.append(tf.keras.callbacks.TensorBoard(os.path.join(args.checkpoint_dir, "tb")))
    if args.backup_dir:
        callbacks.append(tf.keras.callbacks.BackupAndRestore(args.backup_dir))
    data = dict(x=x, y=y, batch_size=args.batch)
    if args.dataset:
        data = dict(x=tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch))
    communicator = strategy.extended._communicator
    calls_before = getattr(communicator, "allreduce_calls", 0)
    history = model.fit(**data, epochs=args.epochs, verbose=args.verbose,
                        shuffle=not args.no_shuffle,
                        callbacks=callbacks,
                        validation_data=(x_test, y_test) if args.validation else None)
    # What each step cost besides its arithmetic: MPI all-reduce calls of fit, and the
    # threads a rank's kernels may use (BLAS, batch splits) and how it waits for peers.
    from numpyflow.backend import blas, threads
    state["fit_allreduce_calls"] = getattr(communicator, "allreduce_calls", 0) - calls_before
    state["blas_threads"], state["split_cores"] = blas._max_threads, threads.cores()
    policy = getattr(communicator, "wait_policy", None)
    state["spin_seconds"] = policy.spin_seconds if policy is not None else None
    from numpyflow.distribute.communicator import RING_ALGORITHM_VARIABLE
    state["allreduce_algorithm"] = os.environ.get(RING_ALGORITHM_VARIABLE)
    os.makedirs(args.out, exist_ok=True)
    state["history"] = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    if args.step == "default":
        state["test"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    if args.predict:  # Every rank saves what predict returned on it, odd count included.
        np.save(os.path.join(args.out, f"predict{rank}.npy"),
                model.predict(x_test[:101], batch_size=16, verbose=0))
    plans = model.train_function.plan_sources()
    state["compiled_steps"] = len(plans)
    state["allreduce_lines"] = sum(p.count("CollectiveReduceV2(") for p in plans)
    if args.save_weights:
        np.savez(os.path.join(args.out, f"weights{rank}.npz"), *model.get_weights())
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"rank{rank}.json"), "w") as f:
        json.dump(state, f)


if __name__ == "__main__":
    main()
