"""numpyflow side by side with TensorFlow/Keras, PyTorch and a hand-written NumPy loop.

Run (the peers live in their own venv, .venv-bench, which ./dev bench makes):

    ./dev bench                                   # everything, 3-5 rounds, ~14 minutes
    ./dev bench --output benchmarks/RESULTS.md    # ... and write the Markdown report
    ./dev bench --quick                           # smoke test: 1 round, 6,000 samples
    python benchmarks/run.py --frameworks numpyflow,numpy --workloads mlp --limit 2000

Workloads, on Fashion-MNIST (real data from numpyflow.keras.datasets.fashion_mnist, which reads
Debian's dataset-fashion-mnist files offline; random data of the same shapes when absent):

  mlp        the tutorial's MLP, Flatten -> Dense(128, relu) -> Dense(10, softmax), SGD lr 0.01,
             batch 32, one epoch: Keras `fit(verbose=0)` for numpyflow and TF (the same code,
             only the module differs), the idiomatic loop for PyTorch, and a hand-written NumPy
             loop as the floor;
  lenet32    LeNet-5, Adam, one epoch at batch 32;
  lenet32_functional
             the same model built with the functional API (`keras.Input` + `keras.Model`),
             numpyflow and TF only (PyTorch has no Sequential/functional distinction); its
             rounds alternate with lenet32's, and the report checks that numpyflow's
             functional epoch is as fast as its Sequential one (within noise: the median
             of the per-round ratios <= 1.10);
  lenet128   LeNet-5 (Sequential) at batch 128;
  mlp_dataset
             the MLP's epoch fed from `tf.data.Dataset.from_tensor_slices((x, y)).shuffle(60000)
             .batch(32).prefetch(AUTOTUNE)` instead of arrays, numpyflow and TF only; its rounds
             alternate with mlp's, and the report checks that numpyflow's epoch from a Dataset
             is within 1.15x of its epoch from arrays (median of the per-round ratios);
  pipeline   an image input pipeline: up to 2,000 Fashion-MNIST images written as PNG files
             once per run, then one pass of `list_files -> map(read_file, decode_png, resize
             to 32x32, random_flip_left_right, num_parallel_calls=AUTOTUNE) -> batch(32) ->
             prefetch(AUTOTUNE)`, in images per second (higher is better), numpyflow and
             TF's tf.data only;
  lstm32     LSTM(128) over Fashion-MNIST rows (28 steps of 28 pixels) -> Dense(10), Adam,
             batch 32, one epoch: Keras `fit` for numpyflow and TF, `nn.LSTM` for PyTorch
             (benchmarks/rnn_workloads.py);
  distributed_lenet
             data-parallel LeNet-5 (benchmarks/distributed_lenet.py), Adam, per-replica batch
             64: samples/s with 1 and 2 processes and the scaling efficiency (2-rank samples/s
             / (2 x 1-rank)); numpyflow's MultiWorkerMirroredStrategy under .venv's mpirun
             beside PyTorch DistributedDataParallel (gloo); each round times 40 steps after 5
             warm-up steps, and the report gives the threads each process used;
  inference  the tutorial MLP: `model(x)` and `model.predict(x)` on 1 sample (median per call,
             in microseconds) and `predict` on 10,000 test samples (seconds);
  import     `import numpyflow` / `tensorflow` / `torch` / `numpy` in a fresh interpreter:
             wall time and resident memory (VmRSS) right after.

Each (framework, workload) runs in subprocesses of its own: imports, thread pools and memory
of one framework never touch another's measurement. The parent loads the data once, hands it
to the children as .npy files, collects their JSON results and prints the table. It runs
rounds per workload (`--repeats`; by default 3 for LeNet, whose TF epochs take long, and 5
for the rest); each round starts one fresh child per framework (frameworks
take turns, so load from elsewhere hits them alike), and the table shows the median over the
rounds. Epoch times are steady-state: each child first builds the model and trains on a few
batches (for Keras, that traces and compiles the train step), then times one full epoch.
Nothing here changes thread settings or OPENBLAS_* variables: every framework
runs with its defaults, except the NumPy loop, which multiplies through numpyflow's BLAS
policy (numpyflow.backend.blas.matmul: one OpenBLAS thread below 16M multiply-adds, which is
every product at batch 32), so that it is the floor for numpyflow's own substrate.
"""

import argparse
import compileall
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FRAMEWORKS = ("numpyflow", "tensorflow", "torch", "numpy")
LABELS = {"numpyflow": "numpyflow", "tensorflow": "TF/Keras", "torch": "PyTorch",
          "numpy": "NumPy"}
PEERS = ("tensorflow", "torch", "numpy")
RATIO_LABELS = {"tensorflow": "nf/TF", "torch": "nf/PyTorch", "numpy": "nf/NumPy"}
# Which frameworks take part in which workload ('numpy' is the hand-written loop for the MLP
# and plain `import numpy` for the import row).
WORKLOADS = {
    "mlp": ("numpyflow", "tensorflow", "torch", "numpy"),
    "lenet32": ("numpyflow", "tensorflow", "torch"),
    # The same LeNet-5 through the functional API. PyTorch has no Sequential/functional
    # distinction (its lenet32 column is the one to compare), so it sits this one out.
    "lenet32_functional": ("numpyflow", "tensorflow"),
    "lenet128": ("numpyflow", "tensorflow", "torch"),
    # The MLP fed from a Dataset, and the PNG input pipeline: Keras and tf.data only.
    "mlp_dataset": ("numpyflow", "tensorflow"),
    "pipeline": ("numpyflow", "tensorflow"),
    "lstm32": ("numpyflow", "tensorflow", "torch"),
    # numpyflow's MPI strategy vs PyTorch DDP (issue #16); each child launches the
    # processes itself (benchmarks/distributed_lenet.py).
    "distributed_lenet": ("numpyflow", "torch"),
    "inference": ("numpyflow", "tensorflow", "torch"),
    "import": ("numpyflow", "tensorflow", "torch", "numpy"),
}
# Epoch workloads: batch size, and whether the model is LeNet-5 (on 28x28x1 images).
EPOCH_WORKLOADS = {"mlp": (32, False), "lenet32": (32, True),
                   "lenet32_functional": (32, True), "lenet128": (128, True),
                   "mlp_dataset": (32, False)}
# A workload whose rounds alternate with another's when both run, so that a ratio between
# the two (the functional-vs-Sequential check) sees the same load on the machine.
INTERLEAVE_WITH = {"lenet32_functional": "lenet32", "mlp_dataset": "mlp"}
# numpyflow's functional LeNet-5 epoch may take at most this times its Sequential one: the
# functional API adds no per-step cost, so they should match within noise.
FUNCTIONAL_VS_SEQUENTIAL_LIMIT = 1.10
# numpyflow's MLP epoch from a Dataset may take at most this times its epoch from arrays.
DATASET_VS_ARRAYS_LIMIT = 1.15
# numpyflow's image pipeline must deliver at least this times TF's tf.data images per second.
PIPELINE_VS_TF_LIMIT = 1.0
# Issue #16's targets for data-parallel LeNet-5: 2-rank scaling efficiency, and 2-rank
# samples/s against PyTorch DDP's.
DISTRIBUTED_EFFICIENCY_LIMIT = 0.85
DISTRIBUTED_VS_DDP_LIMIT = 1.0
# The image pipeline's files: at most this many training images (fewer with --limit).
PIPELINE_FILES = 2000
PIPELINE_DIR = "pipeline_png"
QUICK_LIMIT = 6000
WARMUP_BATCHES = 20
PREDICT_SAMPLES = 10_000


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ==========================================================================================
# Children: one (framework, workload) each. They import only what they measure.
# ==========================================================================================

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


def summary_of_calls(samples):
    ordered = sorted(samples)
    return {"median": statistics.median(ordered), "calls": len(ordered),
            "p10": ordered[len(ordered) // 10], "p90": ordered[(len(ordered) * 9) // 10]}


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


def keras_mlp(tf):
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_lenet(tf):
    from examples.lenet5 import build_lenet5  # The definition the tests train, too.
    model = build_lenet5(tf)
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_lenet_functional(tf):
    from examples.lenet5 import build_lenet5_functional
    model = build_lenet5_functional(tf)
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_epochs(framework, make_model, x, y, batch_size, repeats):
    tf = keras_module(framework)
    model = make_model(tf)
    warm = min(len(x), WARMUP_BATCHES * batch_size)
    info = {"warmup_s": time_call(
        lambda: model.fit(x[:warm], y[:warm], batch_size=batch_size, epochs=1, verbose=0))}
    samples = [time_call(lambda: model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0))
               for _ in range(repeats)]
    if framework == "tensorflow":
        info["jit_compile"] = str(getattr(model, "jit_compile", "?"))
    return samples, info


def keras_inference(framework, x_test, budget_s, repeats):
    tf = keras_module(framework)
    model = keras_mlp(tf)
    one = x_test[:1]
    model(one)
    metrics = {
        "call_us": per_call_us(lambda: model(one), budget_s),
        "predict1_us": per_call_us(lambda: model.predict(one, verbose=0), budget_s),
    }
    many = x_test[:PREDICT_SAMPLES]
    model.predict(many, verbose=0)
    metrics["predict_many_s"] = [time_call(lambda: model.predict(many, verbose=0))
                                 for _ in range(repeats)]
    return metrics


def keras_dataset_epochs(framework, x, y, batch_size, repeats):
    """The MLP trained from `from_tensor_slices((x, y)).shuffle(60000).batch().prefetch()`."""
    tf = keras_module(framework)
    model = keras_mlp(tf)

    def dataset(x, y):
        return (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(60000)
                .batch(batch_size).prefetch(tf.data.AUTOTUNE))

    warm = min(len(x), WARMUP_BATCHES * batch_size)
    warm_data, data = dataset(x[:warm], y[:warm]), dataset(x, y)
    info = {"warmup_s": time_call(lambda: model.fit(warm_data, epochs=1, verbose=0))}
    samples = [time_call(lambda: model.fit(data, epochs=1, verbose=0)) for _ in range(repeats)]
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
    for _ in files.take(2):  # Warm-up: thread pools, and the first call of `load`.
        pass

    def one_pass():
        images = 0
        start = time.perf_counter()
        for batch in files:
            images += int(batch.shape[0])
        return images / (time.perf_counter() - start), images

    rates, counts = zip(*(one_pass() for _ in range(repeats)))
    return list(rates), {"images": counts[0]}


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
    if workload == "mlp":
        model = torch_mlp(nn)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        inputs = torch.from_numpy(x)
    else:
        model = torch_lenet(nn)
        optimizer = torch.optim.Adam(model.parameters())
        inputs = torch.from_numpy(x[:, None])  # NCHW
    return time_torch_epochs(model, optimizer, inputs, torch.from_numpy(y), batch_size, repeats)


def time_torch_epochs(model, optimizer, inputs, labels, batch_size, repeats):
    """The PyTorch training loop every epoch row times: shuffled batches, logits into
    CrossEntropyLoss, after a warmup of WARMUP_BATCHES batches."""
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

    warm = min(len(inputs), WARMUP_BATCHES * batch_size)
    info = {"warmup_s": time_call(lambda: epoch(inputs[:warm], labels[:warm])),
            "threads": torch.get_num_threads()}
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
    return metrics


# -- The hand-written NumPy MLP: the floor --------------------------------------------------

def numpy_mlp_epochs(x, y, batch_size, repeats):
    import numpy as np
    sys.path.insert(0, str(ROOT))
    from numpyflow.backend import blas  # numpyflow's thread policy, nothing else.
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

    warm = min(len(x), WARMUP_BATCHES * batch_size)
    info = {"warmup_s": time_call(lambda: epoch(flat[:warm], y[:warm])),
            "blas_threads_small": blas.threads_for(32 * 784 * 128),
            "blas_controlled": blas.is_controlled()}
    samples = [time_call(lambda: epoch(flat, y)) for _ in range(repeats)]
    return samples, info


# -- import ---------------------------------------------------------------------------------

IMPORT_CODE = """
import json, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
import {module}
seconds = time.perf_counter() - start
rss = None
with open('/proc/self/status') as status:
    for line in status:
        if line.startswith('VmRSS:'):
            rss = int(line.split()[1]) / 1024
with open({out!r}, 'w') as out:
    json.dump({{'seconds': seconds, 'rss_mb': rss}}, out)
"""


def framework_version(framework):
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


def child_main(args):
    """Runs one (framework, workload) and writes {"metrics": {...}, "info": {...}}."""
    framework, workload = args.framework, args.workload
    x_train, y_train, x_test = load_data(args.data_dir)
    metrics, info = {}, {}
    if workload == "lstm32":
        sys.path.insert(0, str(ROOT))
        from benchmarks import rnn_workloads
        if framework == "torch":
            import torch
            model, optimizer = rnn_workloads.torch_row_lstm()
            samples, info = time_torch_epochs(
                model, optimizer, torch.from_numpy(x_train),
                torch.from_numpy(y_train.astype("int64")), rnn_workloads.BATCH_SIZE,
                args.repeats)
        else:
            samples, info = keras_epochs(framework, rnn_workloads.keras_row_lstm, x_train,
                                         y_train, rnn_workloads.BATCH_SIZE, args.repeats)
        metrics[workload] = samples
    elif workload in EPOCH_WORKLOADS:
        batch_size, lenet = EPOCH_WORKLOADS[workload]
        x = x_train[..., None] if lenet else x_train
        if workload == "mlp_dataset":
            samples, info = keras_dataset_epochs(framework, x, y_train, batch_size,
                                                 args.repeats)
        elif framework in ("numpyflow", "tensorflow"):
            make = {"mlp": keras_mlp, "lenet32_functional": keras_lenet_functional}.get(
                workload, keras_lenet)
            samples, info = keras_epochs(framework, make, x, y_train, batch_size, args.repeats)
        elif framework == "torch":
            samples, info = torch_epochs(workload, x_train, y_train, batch_size, args.repeats)
        else:
            samples, info = numpy_mlp_epochs(x_train, y_train, batch_size, args.repeats)
        metrics[workload] = samples
    elif workload == "distributed_lenet":
        sys.path.insert(0, str(ROOT))
        from benchmarks import distributed_lenet
        # --quick: a smoke test of the launch, not a measurement.
        metrics, info = (distributed_lenet.measure(framework, steps=4, warmup=2) if args.quick
                         else distributed_lenet.measure(framework))
    elif workload == "pipeline":
        metrics["pipeline"], info = keras_pipeline(
            framework, os.path.join(args.data_dir, PIPELINE_DIR), args.repeats)
    elif workload == "inference":
        if framework == "torch":
            metrics = torch_inference(x_test, args.budget, args.repeats)
        else:
            metrics = keras_inference(framework, x_test, args.budget, args.repeats)
    else:
        raise ValueError(f"unknown workload {workload}")
    info["version"] = framework_version(framework)
    info["rss_mb_end"] = rss_mb()
    with open(args.result, "w") as out:
        json.dump({"metrics": metrics, "info": info}, out)


# ==========================================================================================
# Parent: data, machine, orchestration, table, report.
# ==========================================================================================

def prepare_data(directory, limit, synthetic=False, pngs=False):
    """Writes x_train (float32 in [0, 1]), y_train (int64) and x_test as .npy.

    With `pngs`, also writes the first PIPELINE_FILES training images as PNG files under
    `directory`/PIPELINE_DIR (for the pipeline workload; both frameworks read the same files).
    Returns (a note on the data's source, training samples, test samples).
    """
    import numpy as np
    error = "--synthetic"
    if not synthetic:
        try:
            sys.path.insert(0, str(ROOT))
            from numpyflow.keras.datasets import fashion_mnist
            (x_train, y_train), (x_test, _) = fashion_mnist.load_data()
            source = "real Fashion-MNIST (numpyflow.keras.datasets.fashion_mnist.load_data())"
        except Exception as failure:  # No local files and no network.
            error = f"load_data() failed: {failure}"
            synthetic = True
    if synthetic:  # Same shapes and types, random values.
        rng = np.random.default_rng(0)
        x_train = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
        y_train = rng.integers(0, 10, 60000, dtype=np.uint8)
        x_test = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8)
        source = f"SYNTHETIC random data of Fashion-MNIST's shapes ({error})"
    if limit:
        x_train, y_train, x_test = x_train[:limit], y_train[:limit], x_test[:limit]
    arrays = {"x_train": (x_train / np.float32(255)).astype(np.float32),
              "y_train": y_train.astype(np.int64),
              "x_test": (x_test / np.float32(255)).astype(np.float32)}
    for name, array in arrays.items():
        np.save(os.path.join(directory, f"{name}.npy"), array)
    if pngs:
        write_pngs(os.path.join(directory, PIPELINE_DIR), x_train[:PIPELINE_FILES])
    return source, len(arrays["x_train"]), len(arrays["x_test"])


def write_pngs(directory, images):
    """Writes each uint8 (28, 28) image as `directory`/NNNNN.png (grayscale)."""
    sys.path.insert(0, str(ROOT))
    from numpyflow.io import encode_png
    os.makedirs(directory)
    for index, image in enumerate(images):
        with open(os.path.join(directory, f"{index:05d}.png"), "wb") as out:
            out.write(encode_png(image[..., None]).numpy())  # a scalar tf.string Tensor


def dist_version(*names):
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def available(framework):
    if framework in ("numpyflow", "numpy"):
        return True
    return importlib.util.find_spec(framework) is not None


def source_revision():
    """The checkout's commit, and whether numpyflow/ differs from it (numbers change with it)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "numpyflow")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not commit:
        return "unknown (not a git checkout)"
    return commit + (" + uncommitted changes in numpyflow/" if dirty else "")


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or "unknown"
    memory = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 2 ** 20:.1f} GiB"
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
        "numpy": dist_version("numpy"),
        "tensorflow": dist_version("tensorflow-cpu", "tensorflow"),
        "keras": dist_version("keras"),
        "torch": dist_version("torch"),
        "revision": source_revision(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
    }


def child_env(framework):
    env = dict(os.environ)
    if framework == "tensorflow":
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Quiet; changes no computation.
    return env


def run_child(command, framework, result_path, timeout):
    """Runs a child; returns (parsed JSON, None) or (None, error text)."""
    try:
        done = subprocess.run(command, cwd=ROOT, env=child_env(framework), timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    if done.returncode != 0 or not os.path.exists(result_path):
        tail = "\n".join(done.stdout.strip().splitlines()[-15:])
        return None, f"exit status {done.returncode}:\n{tail}"
    with open(result_path) as result:
        return json.load(result), None


def compile_numpyflow():
    """Writes the bytecode of this checkout's numpyflow before any child imports it.

    pip writes the .pyc files of the packages it installs (NumPy, TF, PyTorch); this editable
    checkout has them only once an import has written them, and never where
    PYTHONDONTWRITEBYTECODE is set. Without them every child compiles all of numpyflow's
    sources again (~40 ms, a third of its import), and the import row would time the
    compiler rather than the import users get. Up-to-date files are skipped, so this is
    cheap after the first run.
    """
    compileall.compile_dir(ROOT / "numpyflow", quiet=1)


def measure_import(framework, round_index, workdir, timeout):
    """Times `import X` in a fresh interpreter: {"metrics": {import_s, import_rss_mb}}."""
    module = "numpy" if framework == "numpy" else framework
    out = os.path.join(workdir, f"import-{framework}-{round_index}.json")
    code = IMPORT_CODE.format(root=str(ROOT), module=module, out=out)
    result, error = run_child([sys.executable, "-c", code], framework, out, timeout)
    if error:
        return None, error
    return {"metrics": {"import_s": [result["seconds"]], "import_rss_mb": [result["rss_mb"]]},
            "info": {}}, None


def run_round(workload, framework, args, workdir, round_index):
    """One child (one fresh process per import) for one round; (result, error)."""
    if workload == "import":
        return measure_import(framework, round_index, workdir, args.timeout)
    out = os.path.join(workdir, f"{workload}-{framework}-{round_index}.json")
    command = [sys.executable, str(Path(__file__).resolve()), "--child",
               "--framework", framework, "--workload", workload, "--data-dir", workdir,
               "--result", out, "--repeats", "1", "--budget", str(args.budget)]
    if args.quick:
        command.append("--quick")
    return run_child(command, framework, out, args.timeout)


# Default rounds: LeNet's epochs take minutes across the peers; the other workloads are
# cheap, and more rounds steady their medians on a shared machine.
DEFAULT_ROUNDS = {"lenet32": 3, "lenet32_functional": 3, "lenet128": 3, "lstm32": 3,
                  "distributed_lenet": 3}


def rounds_for(workload, args):
    if args.repeats is not None:
        return args.repeats
    return 1 if args.quick else DEFAULT_ROUNDS.get(workload, 5)


def workload_groups(workloads):
    """The selected workloads in order, those in INTERLEAVE_WITH grouped with their partner."""
    groups = {}
    for workload in workloads:
        partner = INTERLEAVE_WITH.get(workload)
        groups.setdefault(partner if partner in workloads else workload, []).append(workload)
    return list(groups.values())


def rotated(items, round_index):
    shift = round_index % max(len(items), 1)
    return items[shift:] + items[:shift]


def run_workloads(group, frameworks, args, workdir):
    """{workload: {framework: result}} for a group of workloads, run in rounds.

    Each round starts one fresh child per framework and times one epoch (one import, one
    series of calls) in it; the frameworks take turns, in an order rotated each round. So a
    burst of load from elsewhere on the machine hits the frameworks' samples alike instead of
    one framework's whole series, and the medians stay comparable. The workloads of a group
    (e.g. LeNet-5 Sequential and functional) take turns within each round the same way.
    """
    all_results, runnable, rounds = {}, {}, {}
    for workload in group:
        results = all_results[workload] = {}
        runnable[workload] = []
        for framework in frameworks:
            if framework not in WORKLOADS[workload]:
                continue
            if available(framework):
                runnable[workload].append(framework)
            else:
                results[framework] = {"skipped": True}
        rounds[workload] = rounds_for(workload, args)
    for round_index in range(max(rounds.values())):
        for workload in rotated(group, round_index):
            if round_index < rounds[workload]:
                run_one_round(workload, runnable[workload], args, workdir, round_index,
                              rounds[workload], all_results[workload])
    return all_results


def run_one_round(workload, runnable, args, workdir, round_index, rounds, results):
    """Round `round_index` of `workload` for each framework in turn, merged into `results`."""
    for framework in rotated(runnable, round_index):
        if results.get(framework, {}).get("error"):
            continue
        label = f"{workload}: {LABELS[framework]} (round {round_index + 1}/{rounds})"
        start = time.perf_counter()
        result, error = run_round(workload, framework, args, workdir, round_index)
        elapsed = time.perf_counter() - start
        if error:
            log(f"{label} FAILED after {elapsed:.0f} s: {error}")
            results[framework] = {"error": error}
            continue
        key, samples = next(iter(result["metrics"].items()))
        log(f"{label}: {statistics.median(samples):.4g} ({key}), {elapsed:.0f} s")
        merged = results.setdefault(framework, {"metrics": {}, "info": {}})
        for name, values in result["metrics"].items():
            merged["metrics"].setdefault(name, []).extend(values)
        for name, value in result["info"].items():
            if name == "warmup_s":
                merged["info"].setdefault(name, []).append(value)
            else:
                merged["info"].setdefault(name, value)


# Table rows: (metric key, label, unit, workload). Epoch rows get the sample count in the label.
def table_rows(n_train, n_test):
    predict_n = min(PREDICT_SAMPLES, n_test)
    epoch = f"{n_train:,} samples" if n_train != 60000 else "1 epoch"
    return [
        ("mlp", f"MLP, SGD, b32, {epoch}", "s", "mlp"),
        ("lenet32", f"LeNet-5, Adam, b32, {epoch}", "s", "lenet32"),
        ("lenet32_functional", f"LeNet-5 functional, Adam, b32, {epoch}", "s",
         "lenet32_functional"),
        ("lenet128", f"LeNet-5, Adam, b128, {epoch}", "s", "lenet128"),
        ("mlp_dataset", f"MLP from a Dataset, SGD, b32, {epoch}", "s", "mlp_dataset"),
        ("lstm32", f"LSTM(128) rows, Adam, b32, {epoch}", "s", "lstm32"),
        ("pipeline", f"PNG pipeline, {min(PIPELINE_FILES, n_train):,} files, b32", "img/s",
         "pipeline"),
        ("dist_1rank", "LeNet-5 data-parallel, b64/replica, 1 process", "samples/s",
         "distributed_lenet"),
        ("dist_2rank", "LeNet-5 data-parallel, b64/replica, 2 processes", "samples/s",
         "distributed_lenet"),
        ("dist_efficiency", "LeNet-5 data-parallel scaling efficiency", "ratio",
         "distributed_lenet"),
        ("call_us", "MLP model(x), 1 sample", "µs", "inference"),
        ("predict1_us", "MLP predict(x), 1 sample", "µs", "inference"),
        ("predict_many_s", f"MLP predict, {predict_n:,} samples", "s", "inference"),
        ("import_s", "import time", "s", "import"),
        ("import_rss_mb", "RSS after import", "MB", "import"),
    ]


def paired_ratio(results_a, results_b, framework, key_a, key_b):
    """The median over rounds of a's sample over b's from the same round, or None."""
    samples = []
    for results, key in ((results_a, key_a), (results_b, key_b)):
        result = results.get(framework)
        if not result or "metrics" not in result or key not in result["metrics"]:
            return None
        samples.append(result["metrics"][key])
    pairs = [(a, b) for a, b in zip(*samples) if a is not None and b]
    if not pairs or len(samples[0]) != len(samples[1]):
        return None
    return statistics.median(a / b for a, b in pairs)


def median_of(results, framework, key):
    result = results.get(framework)
    if not result or "metrics" not in result or key not in result["metrics"]:
        return None
    samples = result["metrics"][key]
    values = [s for s in samples if s is not None]
    return statistics.median(values) if values else None


def fmt(value, unit):
    if value is None:
        return "-"
    if unit == "µs":
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    if unit in ("MB", "img/s", "samples/s"):
        return f"{value:,.0f}"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def build_table(results, rows, frameworks):
    """Header and rows of strings: value columns per framework, then numpyflow/peer ratios."""
    peers = [p for p in PEERS if p in frameworks]
    header = ["workload", "unit"] + [LABELS[f] for f in frameworks] + \
             [RATIO_LABELS[p] for p in peers if "numpyflow" in frameworks]
    lines = []
    for key, label, unit, workload in rows:
        if workload not in results:
            continue
        per = results[workload]
        values = {f: median_of(per, f, key) for f in frameworks}
        if all(v is None for v in values.values()) and not any(
                per.get(f, {}).get("error") for f in frameworks):
            continue
        cells = [label, unit]
        for f in frameworks:
            if f not in WORKLOADS[workload]:
                cells.append("")
            elif per.get(f, {}).get("error"):
                cells.append("error")
            elif per.get(f, {}).get("skipped"):
                cells.append("n/a")
            else:
                cells.append(fmt(values[f], unit))
        if "numpyflow" in frameworks:
            for p in peers:
                r = ratio(values["numpyflow"], values[p])
                cells.append("" if r is None else f"{r:.2f}")
        lines.append(cells)
    return header, lines


def text_table(header, lines):
    widths = [max(len(row[i]) for row in [header] + lines) for i in range(len(header))]

    def line(row):
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(row, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in lines])


def markdown_table(header, lines):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in lines]
    return "\n".join(out)


TARGETS_TITLE = ("Targets (issue #4; functional vs Sequential: the functional API's issue; "
                 "Dataset and image pipeline: issue #12; data-parallel LeNet-5: issue #16)")


def targets(results):
    """The issue's targets: (description, measured text, verdict)."""
    def value(workload, framework, key):
        return median_of(results.get(workload, {}), framework, key)

    def check_ratio(description, workload, peer, limit):
        nf, other = value(workload, "numpyflow", workload), value(workload, peer, workload)
        r = ratio(nf, other)
        if r is None:
            return description, "-", "n/a (not measured)"
        verdict = "PASS" if r <= limit else f"FAIL ({r / limit:.2f}x over the target)"
        return description, f"{r:.2f}x ({nf:.3f} s vs {other:.3f} s)", verdict

    def check_paired(description, workload, baseline, limit):
        """numpyflow against itself: `workload`'s epoch over `baseline`'s (e.g. functional
        LeNet-5 over Sequential, MLP from a Dataset over MLP from arrays).

        Their rounds alternate, so each round's pair ran under the same load; the median of
        the per-round ratios is what is checked (the ratio of the two medians would pair
        epochs from different moments: the machine's load moves epochs by 20% and more)."""
        mine, base = value(workload, "numpyflow", workload), value(baseline, "numpyflow", baseline)
        r = paired_ratio(results.get(workload, {}), results.get(baseline, {}),
                         "numpyflow", workload, baseline)
        if r is None:
            return description, "-", f"n/a (needs numpyflow in {baseline} and {workload})"
        verdict = "PASS" if r <= limit else f"FAIL ({r / limit:.2f}x over the target)"
        return (description, f"{r:.2f}x per round (medians {mine:.3f} s vs {base:.3f} s)",
                verdict)

    def check_throughput(description, workload, peer, limit):
        """numpyflow's rate over the peer's: higher is better, so it must be >= `limit`."""
        nf, other = value(workload, "numpyflow", workload), value(workload, peer, workload)
        r = ratio(nf, other)
        if r is None:
            return description, "-", "n/a (not measured)"
        verdict = "PASS" if r >= limit else f"FAIL ({limit / r:.2f}x short of the target)"
        return description, f"{r:.2f}x ({nf:,.0f} vs {other:,.0f} img/s)", verdict

    def check_distributed(description, key, peer, limit):
        """Data-parallel LeNet-5 (higher is better): numpyflow's scaling efficiency, or its
        2-rank samples/s over the peer's; reports each side's threads per process."""
        per = results.get("distributed_lenet", {})
        nf = value("distributed_lenet", "numpyflow", key)
        other = value("distributed_lenet", peer, key) if peer else None
        measured = nf if peer is None else ratio(nf, other)
        if measured is None:
            return description, "-", "n/a (not measured)"

        def threads(framework):
            info = per.get(framework, {}).get("info", {})
            return f"{info.get('threads_1rank', '?')}/{info.get('threads_per_rank_2ranks', '?')}"
        text = (f"{measured:.2f}" if peer is None else
                f"{measured:.2f}x ({nf:,.0f} vs {other:,.0f} samples/s)")
        text += f"; threads per process (1/2 ranks): numpyflow {threads('numpyflow')}"
        if peer:
            text += f", {LABELS[peer]} {threads(peer)}"
        verdict = "PASS" if measured >= limit else f"FAIL ({limit / measured:.2f}x short)"
        return description, text, verdict

    def check_value(description, workload, key, limit, unit):
        v = value(workload, "numpyflow", key)
        if v is None:
            return description, "-", "n/a (not measured)"
        verdict = "PASS" if v <= limit else f"FAIL ({v / limit:.1f}x over the target)"
        return description, f"{fmt(v, unit)} {unit}", verdict

    return [
        check_ratio("MLP epoch <= 0.35 x TF/Keras", "mlp", "tensorflow", 0.35),
        check_ratio("MLP epoch <= 0.75 x PyTorch", "mlp", "torch", 0.75),
        check_ratio("MLP epoch <= 1.5 x NumPy loop", "mlp", "numpy", 1.5),
        check_ratio("LeNet-5 epoch b32 <= 1.0 x TF/Keras", "lenet32", "tensorflow", 1.0),
        check_ratio("LSTM(128) epoch b32 <= 0.5 x TF/Keras", "lstm32", "tensorflow", 0.5),
        check_ratio("LSTM(128) epoch b32 <= 1.0 x PyTorch", "lstm32", "torch", 1.0),
        check_paired(f"LeNet-5 functional epoch b32 <= {FUNCTIONAL_VS_SEQUENTIAL_LIMIT:.2f} x "
                     "Sequential", "lenet32_functional", "lenet32",
                     FUNCTIONAL_VS_SEQUENTIAL_LIMIT),
        check_paired(f"MLP epoch from a Dataset <= {DATASET_VS_ARRAYS_LIMIT:.2f} x from arrays",
                     "mlp_dataset", "mlp", DATASET_VS_ARRAYS_LIMIT),
        check_throughput(f"image pipeline >= {PIPELINE_VS_TF_LIMIT:.1f} x TF's throughput",
                         "pipeline", "tensorflow", PIPELINE_VS_TF_LIMIT),
        check_distributed(f"data-parallel LeNet-5 scaling efficiency >= "
                          f"{DISTRIBUTED_EFFICIENCY_LIMIT:.2f}", "dist_efficiency", None,
                          DISTRIBUTED_EFFICIENCY_LIMIT),
        check_distributed(f"data-parallel LeNet-5, 2 ranks >= {DISTRIBUTED_VS_DDP_LIMIT:.1f} x "
                          f"PyTorch DDP's samples/s", "dist_2rank", "torch",
                          DISTRIBUTED_VS_DDP_LIMIT),
        check_value("predict(x), 1 sample <= 100 µs", "inference", "predict1_us", 100, "µs"),
        check_value("model(x), 1 sample <= 50 µs", "inference", "call_us", 50, "µs"),
        check_value("import numpyflow <= 0.2 s", "import", "import_s", 0.2, "s"),
    ]


def rounds_text(args):
    counts = {w.strip(): rounds_for(w.strip(), args) for w in args.workloads.split(",")
              if w.strip() in WORKLOADS}
    if len(set(counts.values())) <= 1:
        return str(next(iter(counts.values()), 0))
    return ", ".join(f"{count} for {workload}" for workload, count in counts.items())


def machine_lines(machine, args, data_note):
    return [
        f"CPU: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} memory",
        f"Python {machine['python']} on {machine['os']}",
        f"numpy {machine['numpy']}, tensorflow-cpu {machine['tensorflow'] or '-'} "
        f"(keras {machine['keras'] or '-'}), torch {machine['torch'] or '-'}",
        "OPENBLAS_CORETYPE={OPENBLAS_CORETYPE}, OPENBLAS_L2_SIZE={OPENBLAS_L2_SIZE}, "
        "OPENBLAS_NUM_THREADS={OPENBLAS_NUM_THREADS}, OMP_NUM_THREADS={OMP_NUM_THREADS} "
        "(as found; the suite changes none)".format(**machine),
        f"numpyflow source: {machine['revision']}",
        f"Data: {data_note}",
        f"Rounds: {rounds_text(args)} (median shown); per-call timings: ~{args.budget:g} s "
        "of calls per round",
    ] + ([f"PARTIAL DATA (--limit {args.limit}): epoch rows train on a slice, so fixed "
          "per-fit costs (Keras: ~0.3 s) weigh far more than in a full epoch; use such "
          "ratios as a smoke test only"] if args.limit else [])


def info_text(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return "/".join(info_text(v) for v in value)
    return str(value)


def detail_lines(results, rows):
    """Every sample and each child's info, for the Markdown report."""
    out = []
    for workload, per in results.items():
        for framework, result in per.items():
            if result.get("error"):
                error = result["error"].strip().splitlines()
                out.append(f"- {workload} / {LABELS[framework]}: ERROR {error[0]} "
                           f"... {error[-1] if len(error) > 1 else ''}")
    for key, label, unit, workload in rows:
        for framework, result in results.get(workload, {}).items():
            samples = result.get("metrics", {}).get(key)
            if not samples:
                continue
            if unit == "µs":
                s = summary_of_calls(samples)
                text = (f"median {s['median']:.1f}, p10 {s['p10']:.1f}, p90 {s['p90']:.1f} µs "
                        f"over {s['calls']:,} calls")
            else:
                text = ", ".join(fmt(v, unit) for v in samples) + f" {unit}"
            info = {k: v for k, v in result.get("info", {}).items() if k != "rss_mb_end"}
            extra = ""
            shows_info = key in EPOCH_WORKLOADS or key in ("predict_many_s", "pipeline",
                                                            "dist_2rank")
            if shows_info and info:
                extra = " (" + ", ".join(f"{k} {info_text(v)}" for k, v in info.items()) + ")"
            out.append(f"- {label} / {LABELS[framework]}: {text}{extra}")
    return out


NOTES = """\
- Timings come from a shared 2-core machine: other work on it (see the load averages) makes
  them noisy, multi-threaded peers most. So each workload runs in rounds: every round starts
  one fresh process per framework, in an order rotated each round, and times one epoch (one
  import, one series of calls) in it; the table shows the median over the rounds. Compare
  ratios measured in the same run, not single numbers across runs.
- Epoch rows are steady-state: each process builds and compiles the model and trains on
  {warm} batches first (both Keras implementations trace and compile their train step
  then: TF into a graph, numpyflow into a plan of array calls; `warmup_s` under
  "All samples"), then times one full epoch. numpyflow and TF/Keras run the same Keras code
  (`fit(x, y, batch_size, epochs=1, verbose=0)`, metrics=['accuracy']; TF with its defaults:
  Keras 3's jit_compile='auto', resolved as shown under "All samples"); PyTorch runs the
  idiomatic loop (nn.Sequential, CrossEntropyLoss on logits, torch.optim, shuffled index
  batches, default threads; it has no Sequential/functional distinction, so its cell in
  the "LeNet-5 functional" row stays empty); the NumPy loop is forward, backward and SGD in
  float32 on shuffled batches, with its products through numpyflow's BLAS policy (one
  OpenBLAS thread for products below 16M multiply-adds, i.e. all of them at batch 32) and no
  loss/metric bookkeeping.
- "LeNet-5 functional" is the same model built with `keras.Input` + `keras.Model`
  (`build_lenet5_functional` in examples/lenet5.py) instead of `Sequential`; its rounds
  alternate with the Sequential LeNet-5's. The target "functional <= {functional:.2f} x
  Sequential" compares numpyflow with itself in the same run, as the median of the
  per-round ratios (each round's two epochs ran back to back, under the same load): the
  functional API must train as fast as Sequential, within noise (the functional API issue's
  "same speed as Sequential").
- "MLP from a Dataset" trains the MLP row's model for one epoch from
  `tf.data.Dataset.from_tensor_slices((x, y)).shuffle(60000).batch(32).prefetch(AUTOTUNE)`
  (`fit(dataset, epochs=1, verbose=0)`) instead of arrays; its rounds alternate with the MLP
  row's, and the target "from a Dataset <= {dataset:.2f} x from arrays" is numpyflow against
  itself, as the median of the per-round ratios.
- "PNG pipeline": the first {files:,} training images are written once per run as 28x28
  grayscale PNG files, which both frameworks read; each process builds
  `list_files(pattern, seed=0) -> map(read_file + decode_png + resize to 32x32 +
  random_flip_left_right, num_parallel_calls=AUTOTUNE) -> batch(32) -> prefetch(AUTOTUNE)`,
  pulls 2 batches (warm-up), then times one full pass: images per second, higher is better,
  so its ratio above 1 means numpyflow is faster (target: >= {pipeline:.1f} x TF's tf.data).
- Inference: Keras `model(x)` and `predict(x, verbose=0)` get a NumPy array; PyTorch's
  `model(x)` row is a tensor under torch.no_grad(), its `predict` rows are
  `model(torch.from_numpy(x)).numpy()` under no_grad in one call (Keras predicts 10,000
  samples in batches of 32). Per-call rows: median of every call of every round.
- Import: `import X` timed inside a fresh interpreter (interpreter start-up excluded), VmRSS
  of that process right after; the NumPy column is `import numpy`, which numpyflow includes.
  numpyflow's bytecode is written first, as pip does for the installed peers.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="numpyflow vs TensorFlow/Keras, PyTorch and NumPy on Fashion-MNIST.")
    parser.add_argument("--repeats", type=int, default=None,
                        help="rounds: timed epochs / predict series / imports per framework, "
                             "each in a fresh process (default 3 for LeNet, 5 for the rest; "
                             "1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: 1 round, {QUICK_LIMIT:,} samples, short per-call "
                             "timings")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N training (and test) samples")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated subset of " + ",".join(FRAMEWORKS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated subset of " + ",".join(WORKLOADS))
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of calls per per-call timing and round (default 1; 0.2 "
                             "with --quick)")
    parser.add_argument("--synthetic", action="store_true",
                        help="random data of Fashion-MNIST's shapes instead of the real files")
    parser.add_argument("--output", help="write a Markdown report here (e.g. "
                                         "benchmarks/RESULTS.md)")
    parser.add_argument("--json", help="write all raw results as JSON here")
    parser.add_argument("--op-overhead", action="store_true",
                        help="also run benchmarks/op_overhead.py and include its table")
    parser.add_argument("--timeout", type=int, default=1200,
                        help="seconds before a child is abandoned (default 1200)")
    # Child mode (internal).
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--framework", help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child and args.repeats is None:
        args.repeats = 1
    if args.budget is None:
        args.budget = 0.2 if args.quick else 1.0
    if args.limit is None and args.quick:
        args.limit = QUICK_LIMIT
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")

    if args.child:
        child_main(args)
        return 0

    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for f in frameworks:
        if f not in FRAMEWORKS:
            parser.error(f"unknown framework {f!r}; choose from {', '.join(FRAMEWORKS)}")
    for w in workloads:
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    frameworks = [f for f in FRAMEWORKS if f in frameworks]  # Canonical column order.

    skipped_notes = []
    for f in frameworks:
        if not available(f):
            skipped_notes.append(f"{LABELS[f]} is not installed: skipped "
                                 f"(pip install -r benchmarks/requirements.txt)")
    machine = machine_info()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    workdir = tempfile.mkdtemp(prefix="numpyflow-bench-")
    results = {}
    try:
        log("preparing data")
        data_note, n_train, n_test = prepare_data(workdir, args.limit, args.synthetic,
                                                  pngs="pipeline" in workloads)
        for note in skipped_notes:
            log(note)
        if "numpyflow" in frameworks:
            compile_numpyflow()
        for group in workload_groups(workloads):
            results.update(run_workloads(group, frameworks, args, workdir))
        overhead = None
        if args.op_overhead:
            log("op_overhead.py ...")
            done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "op_overhead.py")],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=args.timeout)
            overhead = done.stdout.rstrip()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    finished = datetime.datetime.now(datetime.timezone.utc)

    rows = table_rows(n_train, n_test)
    header, lines = build_table(results, rows, frameworks)
    versions = {f: next((r.get("info", {}).get("version") for r in
                         (results.get(w, {}).get(f, {}) for w in results)
                         if r.get("info", {}).get("version")), None) for f in frameworks}
    machine_text = machine_lines(machine, args, data_note)
    loads = (f"Load average (1, 5, 15 min) before: "
             f"{', '.join(f'{v:.2f}' for v in load_before) if load_before else '?'}; after: "
             f"{', '.join(f'{v:.2f}' for v in load_after) if load_after else '?'}")
    checks = targets(results)

    print()
    for line in machine_text + [loads] + skipped_notes:
        print(line)
    print(f"Took {(finished - started).total_seconds():.0f} s.")
    print()
    print(text_table(header, lines))
    if "numpyflow" in frameworks:
        print()
        print(f"{TARGETS_TITLE}:")
        width = max(len(c[0]) for c in checks)
        measured_width = max(len(c[1]) for c in checks)
        for description, measured, verdict in checks:
            print(f"  {description.ljust(width)}  {measured.ljust(measured_width)}  {verdict}")
    if overhead:
        print()
        print(overhead)

    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": machine, "args": vars(args), "data": data_note,
                       "started": started.isoformat(), "load_before": load_before,
                       "load_after": load_after, "results": results,
                       "versions": versions}, out, indent=1)
    if args.output:
        command = "python benchmarks/run.py " + " ".join(
            a for a in (argv if argv is not None else sys.argv[1:]))
        report = [
            "# numpyflow benchmarks",
            "",
            f"Run {started:%Y-%m-%d %H:%M} UTC ({(finished - started).total_seconds():.0f} s) "
            f"with `{command.strip()}` (`./dev bench` runs the same in `.venv-bench`). "
            "Regenerate with `./dev bench --output benchmarks/RESULTS.md`.",
            "",
            "## Machine",
            "",
        ] + [f"- {line}" for line in machine_text + [loads] + skipped_notes] + [
            "- Versions measured: " + ", ".join(
                f"{LABELS[f]} {v}" for f, v in versions.items() if v),
            "",
            "## Results",
            "",
            "Median over the rounds; the last columns are numpyflow's median divided by the "
            "peer's (below 1: numpyflow is faster / smaller; in rows in img/s, a throughput, "
            "above 1: numpyflow is faster).",
            "",
            markdown_table(header, lines),
            "",
        ]
        if "numpyflow" in frameworks:
            report += [f"## {TARGETS_TITLE}", "",
                       "| target | measured | verdict |", "|---|---|---|"]
            report += [f"| {d} | {m} | {v} |" for d, m, v in checks]
            report += [""]
        report += ["## Notes", "", NOTES.format(warm=WARMUP_BATCHES,
                                               functional=FUNCTIONAL_VS_SEQUENTIAL_LIMIT,
                                               dataset=DATASET_VS_ARRAYS_LIMIT,
                                               files=PIPELINE_FILES,
                                               pipeline=PIPELINE_VS_TF_LIMIT),
                   "## All samples", ""] + detail_lines(results, rows) + [""]
        if overhead:
            report += ["## Per-op overhead (benchmarks/op_overhead.py)", "", "```",
                       overhead, "```", ""]
        Path(args.output).write_text("\n".join(report))
        log(f"wrote {args.output}")
    failed = any(r.get("error") for per in results.values() for r in per.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
