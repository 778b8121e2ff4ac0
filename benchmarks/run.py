"""numpyflow side by side with TensorFlow/Keras, PyTorch and a hand-written NumPy loop.

Run (the peers live in their own venv, .venv-bench, which ./dev bench makes):

    ./dev bench                                   # everything, 3-5 rounds, ~27 minutes
    ./dev bench --output benchmarks/RESULTS.md    # ... and write the Markdown report
    ./dev bench --quick                           # smoke test: 1 round, 6,000 samples
    python benchmarks/run.py --frameworks numpyflow,numpy --workloads mlp --limit 2000

Columns: numpyflow; TF/Keras at its defaults and "TF/Keras XLA", the same Keras code compiled
with `jit_compile=True`; PyTorch at its default threads and "PyTorch 1 thread" after
`torch.set_num_threads(1)`; the NumPy loop. Every child records the threads it used
(benchmarks/threads.py), and the report prints them per workload.

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
  cifar_cnn  a CIFAR-10-shaped functional CNN with BatchNormalization on 2,048 synthetic
             32x32x3 images (benchmarks/cifar_cnn.py): 3 x (Conv-BN-ReLU-MaxPool) with
             32/64/128 filters, Flatten, Dense(10), Adam, batch 64, one epoch;
  distributed_lenet
             data-parallel LeNet-5 (benchmarks/distributed_lenet.py), Adam, per-replica batch
             64: samples/s with 1 and 2 processes and the scaling efficiency (2-rank samples/s
             / (2 x 1-rank)); numpyflow's MultiWorkerMirroredStrategy under .venv's mpirun
             beside PyTorch DistributedDataParallel (gloo); each round times 400 steps (3-5 s a
             run) after 5 warm-up steps, and the report gives the threads each process used;
             the results JSON holds numpyflow's CPU ms per step per rank and its
             all-reduce calls per step;
  inference  the tutorial MLP: `model(x)` and `model.predict(x)` on 1 sample (median per call,
             in microseconds) and `predict` on 10,000 test samples (seconds);
  import     `import numpyflow` / `tensorflow` / `torch` / `numpy` in a fresh interpreter:
             wall time and resident memory (VmRSS) right after.

Each (framework, workload) runs in subprocesses of its own: imports, thread pools and memory
of one framework never touch another's measurement. The parent loads the data once, hands it
to the children as .npy files, collects their JSON results and prints the table. It runs
rounds per workload (`--repeats`; by default 3 for the LeNet, CIFAR-CNN and data-parallel
rows, whose epochs take long, and 5 for the rest); each round starts one fresh child per
framework (frameworks take turns, so load from elsewhere hits them alike), and the table
shows the median over the rounds. Epoch times are steady-state: each child first builds the
model and trains on a few batches (for Keras, that traces and compiles the train step; the
warm-up also includes the epoch's final partial batch, if any, so no retrace or XLA
recompile falls into the timed epoch), then times one full epoch. When the 1-minute load
average is above 0.5 as a round starts, the report marks the row and lists those rounds
with the cores busy right then.
Nothing here changes thread settings or OPENBLAS_* variables: every framework
runs with its defaults, except the pinned PyTorch column and the NumPy loop, which
multiplies through numpyflow's BLAS policy (numpyflow.backend.blas.matmul: one OpenBLAS thread
below 16M multiply-adds, which is every product at batch 32), so that it is the floor for
numpyflow's own substrate. After numpyflow's LeNet-5 rows, benchmarks/conv_floor.py adds
LeNet-5's measured floor per step and epoch to the report (--no-conv-floor skips it).

Files: run.py (this: data, orchestration, main), suite.py (frameworks, workloads, limits),
children.py (what each child process runs), report.py (tables, notes), targets.py (the
issues' targets), threads.py (threads per child), cifar_cnn.py / rnn_workloads.py /
distributed_lenet.py (workloads of their own), conv_floor.py (LeNet-5's floor).
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
sys.path.insert(0, str(ROOT))
# After ROOT is on the path. The report's and targets' names are run.py's too (tests use them).
from benchmarks import cifar_cnn  # noqa: E402
from benchmarks.children import child_main  # noqa: E402
from benchmarks.report import (NOTES, build_table, detail_lines, flagged_workloads,  # noqa: E402
                               load_lines, machine_lines, markdown_table, median_of,
                               table_rows, text_table, threads_table)
from benchmarks.suite import (BASE_FRAMEWORK, DATASET_VS_ARRAYS_LIMIT,  # noqa: E402
                              FRAMEWORKS, FUNCTIONAL_VS_SEQUENTIAL_LIMIT, INTERLEAVE_WITH,
                              LABELS, LOAD_LIMIT, PIPELINE_DIR, PIPELINE_FILES,
                              PIPELINE_VS_TF_LIMIT, QUICK_LIMIT, WARMUP_BATCHES, WORKLOADS,
                              rounds_for)
from benchmarks.targets import TARGET_ISSUES, TARGETS_TITLE, targets  # noqa: E402

def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ==========================================================================================
# Parent: data, machine, orchestration. The children are in children.py; the tables and
# notes in report.py, the targets in targets.py.
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
    framework = BASE_FRAMEWORK.get(framework, framework)
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
    if BASE_FRAMEWORK.get(framework, framework) == "tensorflow":
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


# What an import round runs in a fresh interpreter.
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


def wants_conv_floor(args, frameworks, workloads):
    """The floor section comes with numpyflow's LeNet-5 rows (unless --no-conv-floor)."""
    return (not args.no_conv_floor and "numpyflow" in frameworks
            and any(w in workloads for w in ("lenet32", "lenet128")))


def run_conv_floor(args, results):
    """benchmarks/conv_floor.py's Markdown section, with this run's numpyflow LeNet-5 epoch
    medians beside its floor (full epochs only), or None if it failed."""
    command = [sys.executable, str(ROOT / "benchmarks" / "conv_floor.py")]
    if args.quick:
        command.append("--quick")
    if not args.limit:
        for batch, workload in ((32, "lenet32"), (128, "lenet128")):
            epoch = median_of(results.get(workload, {}), "numpyflow", workload)
            if epoch is not None:
                command += ["--epoch", f"{batch}={epoch:.4f}"]
    log("conv_floor.py ...")
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        log(f"conv_floor.py timed out after {args.timeout} s")
        return None
    if done.returncode != 0:
        log(f"conv_floor.py FAILED: {done.stderr.strip()[-2000:]}")
        return None
    return done.stdout.strip()


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


def machine_load(sample_s=0.5):
    """The machine's load as a round starts: {"load1": the 1-minute load average,
    "busy_cores": cores kept busy over the next `sample_s` seconds}.

    The load average decays over minutes, so right after a child that used both cores it
    stays high for a while though nothing else runs; the busy-core sample (from /proc/stat,
    taken while this parent only sleeps) says whether anything is running *now*.
    """
    load = {"load1": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "busy_cores": None}

    def cpu_times():
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle
    try:
        total_0, idle_0 = cpu_times()
        time.sleep(sample_s)
        total_1, idle_1 = cpu_times()
    except (OSError, ValueError, IndexError):
        return load
    if total_1 > total_0:
        busy = 1 - (idle_1 - idle_0) / (total_1 - total_0)
        load["busy_cores"] = busy * (os.cpu_count() or 1)
    return load


def run_workloads(group, frameworks, args, workdir, loads=None):
    """{workload: {framework: result}} for a group of workloads, run in rounds.

    `loads`, if given, gets {workload: [machine_load() at the start of each round]}.

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
                if loads is not None:
                    loads.setdefault(workload, []).append(machine_load())
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


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="numpyflow vs TensorFlow/Keras, PyTorch and NumPy on Fashion-MNIST "
                    "(and a CIFAR-shaped CNN on synthetic images).")
    parser.add_argument("--repeats", type=int, default=None,
                        help="rounds: timed epochs / predict series / imports per framework, "
                             "each in a fresh process (default 3 for the LeNet, CIFAR-CNN and "
                             "data-parallel rows, 5 for the rest; "
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
    parser.add_argument("--no-conv-floor", action="store_true",
                        help="skip benchmarks/conv_floor.py (LeNet-5's measured floor), which "
                             "otherwise runs after numpyflow's LeNet-5 rows")
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
    results, loads = {}, {}
    floor, floor_wanted = None, False
    try:
        log("preparing data")
        data_note, n_train, n_test = prepare_data(workdir, args.limit, args.synthetic,
                                                  pngs="pipeline" in workloads)
        for note in skipped_notes:
            log(note)
        if "numpyflow" in frameworks:
            compile_numpyflow()
        for group in workload_groups(workloads):
            results.update(run_workloads(group, frameworks, args, workdir, loads))
        overhead = None
        if args.op_overhead:
            log("op_overhead.py ...")
            done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "op_overhead.py")],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=args.timeout)
            overhead = done.stdout.rstrip()
        floor_wanted = wants_conv_floor(args, frameworks, workloads)
        if floor_wanted:
            floor = run_conv_floor(args, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    finished = datetime.datetime.now(datetime.timezone.utc)

    rows = table_rows(n_train, n_test)
    flagged = flagged_workloads(loads)
    header, lines = build_table(results, rows, frameworks, flagged)
    thread_header, thread_lines = threads_table(results, rows, frameworks)
    versions = {f: next((r.get("info", {}).get("version") for r in
                         (results.get(w, {}).get(f, {}) for w in results)
                         if r.get("info", {}).get("version")), None) for f in frameworks}
    machine_text = machine_lines(machine, args, data_note)
    loads_text = (f"Load average (1, 5, 15 min) before: "
                  f"{', '.join(f'{v:.2f}' for v in load_before) if load_before else '?'}; "
                  f"after: "
                  f"{', '.join(f'{v:.2f}' for v in load_after) if load_after else '?'}")
    high_load = load_lines(loads)
    load_note = (f"* Rounds that began with the 1-minute load average above {LOAD_LIMIT} "
                 "(cores busy: measured over 0.5 s just before the round, while the suite "
                 "itself only waits):")
    checks = targets(results)

    print()
    for line in machine_text + [loads_text] + skipped_notes:
        print(line)
    print(f"Took {(finished - started).total_seconds():.0f} s.")
    print()
    print(text_table(header, lines))
    if high_load:
        print()
        print(load_note)
        for line in high_load:
            print(f"  {line}")
    if thread_lines:
        print()
        print("Threads used:")
        print(text_table(thread_header, thread_lines))
    if "numpyflow" in frameworks:
        print()
        print(f"{TARGETS_TITLE}:")
        width = max(len(c[1]) for c in checks)
        measured_width = max(len(c[2]) for c in checks)
        for issue, description, measured, verdict in checks:
            print(f"  {issue.ljust(14)}  {description.ljust(width)}  "
                  f"{measured.ljust(measured_width)}  {verdict}")
    if overhead:
        print()
        print(overhead)
    if floor:
        print()
        print(floor)

    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": machine, "args": vars(args), "data": data_note,
                       "started": started.isoformat(), "load_before": load_before,
                       "load_after": load_after, "round_loads": loads, "results": results,
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
        ] + [f"- {line}" for line in machine_text + [loads_text] + skipped_notes] + [
            "- Versions measured: " + ", ".join(
                f"{LABELS[f]} {v}" for f, v in versions.items() if v),
            "",
            "## Results",
            "",
            "Median over the rounds; the last columns are numpyflow's median divided by the "
            "peer's (below 1: numpyflow is faster / smaller; in rows in img/s, samples/s or "
            "the scaling ratio, higher is better, so above 1: numpyflow is faster). "
            "\"TF/Keras XLA\" is TF/Keras compiled with `jit_compile=True`; \"PyTorch 1 "
            "thread\" is PyTorch after `torch.set_num_threads(1)`; the threads each used are "
            "in the next table.",
            "",
            markdown_table(header, lines),
            "",
        ]
        if high_load:
            report += [load_note, ""] + [f"- {line}" for line in high_load] + [""]
        if thread_lines:
            report += ["## Threads used", "",
                       "Per workload and framework, as recorded in each child "
                       "(benchmarks/threads.py): numpyflow, the OpenBLAS thread counts its "
                       "BLAS policy picked during the warm-up batches (1 below "
                       "16M multiply-adds per product, every core above), the Python threads "
                       "alive then (tf.data workers) and whether its partner process ran half "
                       "of each recurrence (numpyflow/backend/partner.py); PyTorch, "
                       "`torch.get_num_threads()` "
                       "(inter-op: `get_num_interop_threads()`); TF, "
                       "`tf.config.threading`'s intra-/inter-op settings; the NumPy loop "
                       "multiplies through numpyflow's policy.",
                       "", markdown_table(thread_header, thread_lines), ""]
        if "numpyflow" in frameworks:
            report += [f"## {TARGETS_TITLE} (issues {TARGET_ISSUES})", "",
                       "| issue | target | measured | verdict |", "|---|---|---|---|"]
            report += [f"| {i} | {d} | {m} | {v} |" for i, d, m, v in checks]
            report += [""]
        report += ["## Notes", "", NOTES.format(warm=WARMUP_BATCHES,
                                               functional=FUNCTIONAL_VS_SEQUENTIAL_LIMIT,
                                               dataset=DATASET_VS_ARRAYS_LIMIT,
                                               files=PIPELINE_FILES,
                                               pipeline=PIPELINE_VS_TF_LIMIT,
                                               cifar=cifar_cnn.SAMPLES,
                                               cifar_warm=cifar_cnn.WARMUP_BATCHES),
                   "## All samples", ""] + detail_lines(results, rows) + [""]
        if overhead:
            report += ["## Per-op overhead (benchmarks/op_overhead.py)", "", "```",
                       overhead, "```", ""]
        if floor:
            report += [floor, ""]
        Path(args.output).write_text("\n".join(report))
        log(f"wrote {args.output}")
    failed = any(r.get("error") for per in results.values() for r in per.values())
    return 1 if failed or (floor_wanted and floor is None) else 0


if __name__ == "__main__":
    sys.exit(main())
