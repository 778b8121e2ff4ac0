"""The children of benchmarks/run.py: each runs one (framework, workload) in a process of its
own and writes {"metrics": {...}, "info": {...}} as JSON. They import only what they measure.

    python benchmarks/run.py --child --framework numpyflow --workload mlp \
        --data-dir DIR --result out.json --repeats 1 --budget 1   # what run.py starts

Keras workloads run the same code under numpyflow and TensorFlow (only the module differs);
PyTorch runs the idiomatic loop; the NumPy MLP is the hand-written floor.
"""

import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import cifar_cnn, threads  # noqa: E402
from benchmarks.suite import (BASE_FRAMEWORK, EPOCH_WORKLOADS, KERAS,  # noqa: E402
                              PIPELINE_DIR, PREDICT_SAMPLES, TORCH, WARMUP_BATCHES)


def rss_mb():
    """This process's resident set size (VmRSS) in MB, or None where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load_data(data_dir):
    import numpy as np
    names = ("x_train", "y_train", "x_test")
    return tuple(np.load(os.path.join(data_dir, f"{name}.npy")) for name in names)


def time_call(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def per_call_us(fn, budget_s, min_calls=5, max_calls=100_000):
    """Per-call times of `fn` in microseconds, each call timed alone, for about `budget_s`."""
    for _ in range(3):
        fn()
    samples = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < min_calls or (time.perf_counter() < deadline
                                       and len(samples) < max_calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


# -- Keras (numpyflow and TensorFlow run the same code) -------------------------------------

def keras_module(framework):
    sys.path.insert(0, str(ROOT))  # numpyflow, and examples/ (the shared model definitions)
    if framework == "numpyflow":
        import numpyflow as tf
        tf.random.set_seed(0)
    else:
        import tensorflow as tf
        tf.keras.utils.set_random_seed(0)
    return tf


def compile_args(framework):
    """Extra `compile` arguments: jit_compile=True (XLA) for TF's XLA column; the other
    Keras columns keep their defaults (Keras 3's 'auto'; numpyflow compiles plans of NumPy
    calls either way)."""
    return {"jit_compile": True} if framework == "tensorflow_xla" else {}


def keras_mlp(tf, **compile_args):
    """The tutorial's MLP, behind `keras.Input` so both Keras implementations build it fully
    before the first batch."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input((28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_args)
    return model


def keras_lenet(tf, **compile_args):
    """LeNet-5 (Sequential): the example's layers (the definition the tests train, too)
    behind `keras.Input`."""
    from examples.lenet5 import build_lenet5
    model = tf.keras.Sequential([tf.keras.Input((28, 28, 1))] + build_lenet5(tf).layers)
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_args)
    return model


def keras_lenet_functional(tf, **compile_args):
    from examples.lenet5 import build_lenet5_functional
    model = build_lenet5_functional(tf)
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_args)
    return model


def warmup_size(samples, batch_size, batches=WARMUP_BATCHES):
    """Samples to warm up on: `batches` full batches plus, when the epoch ends with a partial
    batch, one of that size too, so that every batch shape of the timed epoch has been
    traced and compiled (TF retraces for a new batch size, XLA recompiles) before it."""
    return min(samples, batches * batch_size + samples % batch_size)


class Threads:
    """Records the threads a child's framework uses during its warm-up (benchmarks/threads.py);
    `info` gets the cell text as "threads"."""

    def __init__(self, framework, module, info):
        self.framework, self.module, self.info = framework, module, info

    def __enter__(self):
        self.seen = threads.BlasThreadsSeen() if self.framework == "numpyflow" else None
        if self.seen:
            self.seen.__enter__()
        return self

    def __exit__(self, *exc):
        if self.seen:
            self.seen.__exit__(*exc)
            self.info["threads"] = self.seen.text()
        elif self.framework in KERAS:
            self.info["threads"] = threads.tensorflow_text(self.module)
        else:
            self.info["threads"] = threads.torch_text(self.module)
        return False


def keras_epochs(framework, make_model, x, y, batch_size, repeats,
                 warmup_batches=WARMUP_BATCHES):
    tf = keras_module(framework)
    model = make_model(tf, **compile_args(framework))
    warm = warmup_size(len(x), batch_size, warmup_batches)
    info = {}
    with Threads(framework, tf, info):
        info["warmup_s"] = time_call(
            lambda: model.fit(x[:warm], y[:warm], batch_size=batch_size, epochs=1, verbose=0))
    samples = [time_call(lambda: model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0))
               for _ in range(repeats)]
    if framework != "numpyflow":
        info["jit_compile"] = str(getattr(model, "jit_compile", "?"))
    return samples, info


def keras_inference(framework, x_test, budget_s, repeats):
    tf = keras_module(framework)
    model = keras_mlp(tf, **compile_args(framework))
    one = x_test[:1]
    many = x_test[:PREDICT_SAMPLES]
    info = {}
    with Threads(framework, tf, info):
        model(one)
        model.predict(one, verbose=0)
        model.predict(many, verbose=0)
    metrics = {"predict1_us": per_call_us(lambda: model.predict(one, verbose=0), budget_s)}
    if framework != "tensorflow_xla":  # model(x) runs eagerly: jit_compile changes nothing.
        metrics["call_us"] = per_call_us(lambda: model(one), budget_s)
    metrics["predict_many_s"] = [time_call(lambda: model.predict(many, verbose=0))
                                 for _ in range(repeats)]
    return metrics, info


def keras_dataset_epochs(framework, x, y, batch_size, repeats):
    """The MLP trained from `from_tensor_slices((x, y)).shuffle(60000).batch().prefetch()`."""
    tf = keras_module(framework)
    model = keras_mlp(tf, **compile_args(framework))

    def dataset(x, y):
        return (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(60000)
                .batch(batch_size).prefetch(tf.data.AUTOTUNE))

    warm = warmup_size(len(x), batch_size)
    warm_data, data = dataset(x[:warm], y[:warm]), dataset(x, y)
    info = {}
    with Threads(framework, tf, info):
        info["warmup_s"] = time_call(lambda: model.fit(warm_data, epochs=1, verbose=0))
    samples = [time_call(lambda: model.fit(data, epochs=1, verbose=0)) for _ in range(repeats)]
    if framework != "numpyflow":
        info["jit_compile"] = str(getattr(model, "jit_compile", "?"))
    return samples, info


def keras_pipeline(framework, png_dir, repeats):
    """Images per second of one pass of the PNG pipeline (the same code for both)."""
    tf = keras_module(framework)

    def load(path):
        image = tf.io.decode_png(tf.io.read_file(path), channels=1)
        image = tf.image.resize(image, [32, 32])
        return tf.image.random_flip_left_right(image)

    pattern = os.path.join(png_dir, "*.png")
    files = (tf.data.Dataset.list_files(pattern, seed=0)
             .map(load, num_parallel_calls=tf.data.AUTOTUNE)
             .batch(32).prefetch(tf.data.AUTOTUNE))
    info = {}
    with Threads(framework, tf, info):
        for _ in files.take(2):  # Warm-up: thread pools, and the first call of `load`.
            pass
    python_threads = [threading.active_count()]

    def one_pass():
        images = 0
        start = time.perf_counter()
        for batch in files:
            images += int(batch.shape[0])
            python_threads.append(threading.active_count())
        return images / (time.perf_counter() - start), images

    rates, counts = zip(*(one_pass() for _ in range(repeats)))
    info["images"] = counts[0]
    if framework == "numpyflow":  # No product goes through BLAS here: count the workers.
        info["threads"] = f"{max(python_threads)} Python threads"
    return list(rates), info


# -- PyTorch --------------------------------------------------------------------------------

def torch_mlp(nn):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def torch_epochs(workload, x, y, batch_size, repeats):
    import torch
    from torch import nn
    torch.manual_seed(0)
    if workload == "cifar_cnn":
        model, optimizer = cifar_cnn.torch_cifar_cnn()
        inputs = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())  # NCHW
        return time_torch_epochs(model, optimizer, inputs, torch.from_numpy(y), batch_size,
                                 repeats, cifar_cnn.WARMUP_BATCHES)
    if workload == "mlp":
        model = torch_mlp(nn)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        inputs = torch.from_numpy(x)
    else:
        model = torch_lenet(nn)
        optimizer = torch.optim.Adam(model.parameters())
        inputs = torch.from_numpy(x[:, None])  # NCHW
    return time_torch_epochs(model, optimizer, inputs, torch.from_numpy(y), batch_size, repeats)


def time_torch_epochs(model, optimizer, inputs, labels, batch_size, repeats,
                      warmup_batches=WARMUP_BATCHES):
    """The PyTorch training loop every epoch row times: shuffled batches, logits into
    CrossEntropyLoss, after a warmup of `warmup_batches` batches (see `warmup_size`)."""
    import torch
    from torch import nn
    loss_fn = nn.CrossEntropyLoss()  # On logits: the softmax is inside the loss.

    def epoch(inputs, labels):
        model.train()
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[index]), labels[index])
            loss.backward()
            optimizer.step()

    warm = warmup_size(len(inputs), batch_size, warmup_batches)
    info = {"warmup_s": time_call(lambda: epoch(inputs[:warm], labels[:warm])),
            "threads": threads.torch_text(torch)}
    samples = [time_call(lambda: epoch(inputs, labels)) for _ in range(repeats)]
    return samples, info


def torch_inference(x_test, budget_s, repeats):
    import torch
    from torch import nn
    torch.manual_seed(0)
    model = torch_mlp(nn).eval()
    one_np = x_test[:1]
    one = torch.from_numpy(one_np)
    many = x_test[:PREDICT_SAMPLES]

    def predict(array):  # What Keras' predict does: NumPy in, NumPy out.
        with torch.no_grad():
            return model(torch.from_numpy(array)).numpy()

    def call():
        with torch.no_grad():
            return model(one)

    metrics = {"call_us": per_call_us(call, budget_s),
               "predict1_us": per_call_us(lambda: predict(one_np), budget_s)}
    predict(many)
    metrics["predict_many_s"] = [time_call(lambda: predict(many)) for _ in range(repeats)]
    return metrics, {"threads": threads.torch_text(torch)}


# -- The hand-written NumPy MLP: the floor --------------------------------------------------

def numpy_mlp_epochs(x, y, batch_size, repeats):
    import numpy as np
    blas = threads.numpyflow_blas()  # numpyflow's thread policy, nothing else.
    matmul = blas.matmul
    rng = np.random.default_rng(0)
    lr = np.float32(0.01)

    def glorot(fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

    w1, b1 = glorot(784, 128), np.zeros(128, np.float32)
    w2, b2 = glorot(128, 10), np.zeros(10, np.float32)
    flat = x.reshape(len(x), -1)

    def epoch(flat, y):
        order = rng.permutation(len(flat))
        for start in range(0, len(flat), batch_size):
            index = order[start:start + batch_size]
            xb, yb = flat[index], y[index]
            n = len(index)
            hidden = matmul(xb, w1)
            hidden += b1
            np.maximum(hidden, 0, out=hidden)
            z = matmul(hidden, w2)
            z += b2
            z -= z.max(axis=1, keepdims=True)  # softmax ...
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[np.arange(n), yb] -= 1  # ... and d(mean cross-entropy)/d(logits)
            z /= np.float32(n)
            grad_w2 = matmul(hidden.T, z)
            grad_b2 = z.sum(axis=0)
            d_hidden = matmul(z, w2.T)
            d_hidden *= hidden > 0
            grad_w1 = matmul(xb.T, d_hidden)
            grad_b1 = d_hidden.sum(axis=0)
            for param, grad in ((w1, grad_w1), (b1, grad_b1), (w2, grad_w2), (b2, grad_b2)):
                grad *= lr
                param -= grad

    warm = warmup_size(len(x), batch_size)
    with threads.BlasThreadsSeen() as seen:
        info = {"warmup_s": time_call(lambda: epoch(flat[:warm], y[:warm]))}
    info.update(threads=seen.text(), blas_controlled=blas.is_controlled())
    samples = [time_call(lambda: epoch(flat, y)) for _ in range(repeats)]
    return samples, info


def framework_version(framework):
    framework = BASE_FRAMEWORK.get(framework, framework)
    if framework == "numpyflow":
        sys.path.insert(0, str(ROOT))
        import numpyflow
        return getattr(numpyflow, "__version__", "?")
    if framework == "tensorflow":
        import tensorflow
        return tensorflow.__version__
    if framework == "torch":
        import torch
        return torch.__version__
    import numpy
    return numpy.__version__


def child_epochs(framework, workload, x_train, y_train, repeats):
    """(epoch seconds, info) of one epoch workload for one framework."""
    if workload == "lstm32":
        from benchmarks import rnn_workloads
        if framework in TORCH:
            import torch
            model, optimizer = rnn_workloads.torch_row_lstm()
            return time_torch_epochs(model, optimizer, torch.from_numpy(x_train),
                                     torch.from_numpy(y_train.astype("int64")),
                                     rnn_workloads.BATCH_SIZE, repeats)
        return keras_epochs(framework, rnn_workloads.keras_row_lstm, x_train, y_train,
                            rnn_workloads.BATCH_SIZE, repeats)
    if workload == "cifar_cnn":
        # Synthetic images; --limit caps their count like the other rows' samples.
        x, y = cifar_cnn.synthetic_data(min(cifar_cnn.SAMPLES, len(x_train)))
        if framework in TORCH:
            return torch_epochs(workload, x, y, cifar_cnn.BATCH_SIZE, repeats)
        return keras_epochs(framework, cifar_cnn.keras_cifar_cnn, x, y, cifar_cnn.BATCH_SIZE,
                            repeats, cifar_cnn.WARMUP_BATCHES)
    batch_size, lenet = EPOCH_WORKLOADS[workload]
    x = x_train[..., None] if lenet else x_train
    if workload == "mlp_dataset":
        return keras_dataset_epochs(framework, x, y_train, batch_size, repeats)
    if framework in KERAS:
        make = {"mlp": keras_mlp, "lenet32_functional": keras_lenet_functional}.get(
            workload, keras_lenet)
        return keras_epochs(framework, make, x, y_train, batch_size, repeats)
    if framework in TORCH:
        return torch_epochs(workload, x_train, y_train, batch_size, repeats)
    return numpy_mlp_epochs(x_train, y_train, batch_size, repeats)


def child_main(args):
    """Runs one (framework, workload) and writes {"metrics": {...}, "info": {...}}."""
    framework, workload = args.framework, args.workload
    if framework == "torch_1thread":
        import torch
        torch.set_num_threads(1)  # Before any work: the pinned PyTorch column.
    x_train, y_train, x_test = load_data(args.data_dir)
    metrics, info = {}, {}
    if workload in EPOCH_WORKLOADS or workload in ("lstm32", "cifar_cnn"):
        metrics[workload], info = child_epochs(framework, workload, x_train, y_train,
                                               args.repeats)
    elif workload == "distributed_lenet":
        from benchmarks import distributed_lenet
        # --quick: a smoke test of the launch, not a measurement.
        metrics, info = (distributed_lenet.measure(framework, steps=4, warmup=2) if args.quick
                         else distributed_lenet.measure(framework))
    elif workload == "pipeline":
        metrics["pipeline"], info = keras_pipeline(
            framework, os.path.join(args.data_dir, PIPELINE_DIR), args.repeats)
    elif workload == "inference":
        if framework in TORCH:
            metrics, info = torch_inference(x_test, args.budget, args.repeats)
        else:
            metrics, info = keras_inference(framework, x_test, args.budget, args.repeats)
    else:
        raise ValueError(f"unknown workload {workload}")
    info["version"] = framework_version(framework)
    info["rss_mb_end"] = rss_mb()
    with open(args.result, "w") as out:
        json.dump({"metrics": metrics, "info": info}, out)


