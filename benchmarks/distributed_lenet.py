"""Data-parallel LeNet-5 throughput: numpyflow's MultiWorkerMirroredStrategy on MPI with 1
and 2 ranks, beside PyTorch DistributedDataParallel (gloo) on the same processes.

    python benchmarks/distributed_lenet.py                 # the table (runs everything)
    python benchmarks/distributed_lenet.py --steps 1000    # longer timing
    python benchmarks/distributed_lenet.py --bind-to core  # mpirun pins each rank to a core
    python benchmarks/distributed_lenet.py --sleepy-wait   # A/B: no spinning in collectives
    python benchmarks/distributed_lenet.py --mpi-choice    # A/B: Open MPI's all-reduce, no ring

Workload (issue 16): LeNet-5 on Fashion-MNIST (random images of the same shape when the
dataset is absent; repeated when a run needs more images than it has), Adam, per-replica
batch 64, so the global batch is 64 x ranks. Each run first trains a few steps (numpyflow
traces and compiles its step there), then times `steps` steps (400 by default: 3-5 s a run,
so that a scheduling hiccup of a few ms moves the result by ~0.1%); samples/s = global
samples / seconds; each table cell is the median of `--repeats` runs, the rounds running
the four configurations in turn. Scaling efficiency = 2-rank samples/s / (2 x 1-rank
samples/s). numpyflow runs under the `mpirun` of this interpreter's venv (else `.venv`'s;
`pip install numpyflow[mpi]` installs it), without binding ranks to cores unless
`--bind-to core` (2 ranks only); PyTorch from `.venv-bench` (torch.distributed with the
gloo backend over localhost). Threads: each framework's defaults for one process; with
two, each process gets its share of the cores (numpyflow's MPI strategy does this itself;
for PyTorch, OMP_NUM_THREADS=1 as torchrun sets it).

numpyflow's runs also report the CPU ms per timed step of each rank (process time, all
threads, polls of the collectives included) and the MPI all-reduce calls per step (1: the
gradients' buffer; the metrics are summed once, at the epoch's end): a 2-rank rank's CPU
per step close to one process's single-thread step means the data parallelism itself
costs little; the rest of a gap to 2x is waiting (for a late peer, or for a core).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PER_REPLICA = 64
# Timed steps of each run by default: 3-5 s (numpyflow's 1-rank run is ~9 ms a step).
STEPS = 400
WARMUP = 5


def load_images(samples):
    import numpy as np
    try:
        sys.path.insert(0, str(ROOT))
        from numpyflow.keras.datasets import fashion_mnist
        (x, y), _ = fashion_mnist.load_data()
        x = (x[:samples] / 255.0).astype("float32")[..., None]
        return x, y[:samples].astype("int64")
    except Exception:  # No dataset here: random images of the same shape.
        rng = np.random.default_rng(0)
        return rng.random((samples, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, samples)


def _at_least(arrays, samples):
    """`arrays` (x, y) repeated up to `samples` rows: a long run must not run short of data
    (it would time fewer steps than it counts)."""
    import numpy as np
    x, y = arrays
    if len(x) >= samples:
        return x[:samples], y[:samples]
    repeats = -(-samples // len(x))
    return np.concatenate([x] * repeats)[:samples], np.concatenate([y] * repeats)[:samples]


# -- numpyflow (one process per rank, under mpirun) --------------------------------------------

def numpyflow_worker(steps, warmup, out, sleepy_wait=False):
    sys.path.insert(0, str(ROOT))
    import numpyflow as tf
    from examples.lenet5 import build_lenet5
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    if sleepy_wait and strategy.num_replicas_in_sync > 1:
        # The wait of ranks sharing cores (no spinning), which every rank had before: for A/B.
        from numpyflow.distribute import communicator as communicator_module
        strategy.extended._communicator.wait_policy = \
            communicator_module.WaitPolicy.for_local_ranks(2, cores=1)
    replicas = strategy.num_replicas_in_sync
    global_batch = PER_REPLICA * replicas
    samples = global_batch * (steps + warmup)
    x, y = _at_least(load_images(samples), samples)
    with strategy.scope():
        model = build_lenet5(tf, input_shape=(28, 28, 1))
        model.compile("adam", "sparse_categorical_crossentropy")
    warm = global_batch * warmup
    model.fit(x[:warm], y[:warm], batch_size=global_batch, epochs=1, verbose=0, shuffle=False)
    communicator = strategy.extended._communicator
    strategy.reduce("SUM", tf.constant(1.0))  # Start together.
    calls = getattr(communicator, "allreduce_calls", 0)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x[warm:], y[warm:], batch_size=global_batch, epochs=1, verbose=0, shuffle=False)
    cpu = time.process_time() - cpu
    calls = getattr(communicator, "allreduce_calls", 0) - calls
    strategy.reduce("SUM", tf.constant(1.0))
    seconds = time.perf_counter() - start
    cpu_ms = communicator.allgather_object(round(1e3 * cpu / steps, 3))
    if strategy.cluster_resolver.task_id == 0:
        from numpyflow.backend import blas
        # The BLAS threads each rank may use (MPI's strategy gives each its share of cores).
        Path(out).write_text(json.dumps({"samples_per_s": global_batch * steps / seconds,
                                         "replicas": replicas,
                                         "threads": blas._max_threads,
                                         "cpu_ms_per_step": cpu_ms,
                                         "allreduce_calls_per_step": calls / steps}))


def run_numpyflow(ranks, steps, warmup, bind_to=None, sleepy_wait=False, mpi_choice=False):
    """{"samples_per_s", "threads", "cpu_ms_per_step" (per rank), "allreduce_calls_per_step"}
    of `ranks` numpyflow processes under mpirun (`bind_to`: mpirun's --bind-to for 2 or more
    ranks, e.g. "core"; None leaves mpirun's choice, for oversubscribed launches no binding;
    `sleepy_wait`: ranks sleep between polls of a collective from the start, as ranks
    sharing cores do; `mpi_choice`: Open MPI chooses the all-reduce algorithm instead of
    numpyflow asking for its ring)."""
    # This interpreter's venv when it has Open MPI (numpyflow[mpi]), else .venv's.
    here = Path(sys.executable).parent
    bin_dir = here if (here / "mpirun").exists() else ROOT / ".venv" / "bin"
    python, mpirun = bin_dir / "python", bin_dir / "mpirun"
    if not mpirun.exists():
        raise RuntimeError(f"mpirun not found beside {sys.executable} nor in .venv: install "
                           f"numpyflow's MPI extra (`pip install -e .[mpi]`)")
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "result.json"
        command = [str(mpirun), "--oversubscribe", "-n", str(ranks)]
        if os.geteuid() == 0:
            command.insert(1, "--allow-run-as-root")
        if bind_to and ranks > 1:  # One rank keeps every core (the 1-rank baseline).
            command[1:1] = ["--bind-to", bind_to]
        command += [str(python), __file__, "--worker", "numpyflow", "--steps", str(steps),
                    "--warmup", str(warmup), "--out", str(out)]
        if sleepy_wait:
            command.append("--sleepy-wait")
        environment = dict(os.environ)
        if mpi_choice:  # "0": libnbc's own choice; an explicit setting numpyflow keeps.
            environment["OMPI_MCA_coll_libnbc_iallreduce_algorithm"] = "0"
            command[1:1] = ["-x", "OMPI_MCA_coll_libnbc_iallreduce_algorithm"]
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"numpyflow under mpirun -n {ranks} failed "
                               f"({done.returncode}): {done.stderr.strip()[-2000:]}")
        return json.loads(out.read_text())


# -- PyTorch DDP (gloo) ------------------------------------------------------------------------

def torch_worker(rank, world, steps, warmup, port, out):
    import torch
    import torch.distributed as dist
    from torch import nn
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = _at_least(load_images(PER_REPLICA * world * (steps + warmup)),
                     PER_REPLICA * world * (steps + warmup))
    x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(y)

    def step(index):
        start = (index * world + rank) * PER_REPLICA
        optimizer.zero_grad()
        loss = loss_fn(model(x[start:start + PER_REPLICA]), y[start:start + PER_REPLICA])
        loss.backward()
        optimizer.step()

    for index in range(warmup):
        step(index)
    dist.barrier()
    start = time.perf_counter()
    for index in range(warmup, warmup + steps):
        step(index)
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        Path(out).write_text(json.dumps({"samples_per_s": PER_REPLICA * world * steps / seconds,
                                         "threads": torch.get_num_threads()}))
    dist.destroy_process_group()


def _free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_torch(ranks, steps, warmup):
    """{"samples_per_s", "threads"} of `ranks` PyTorch DDP processes (gloo)."""
    python = ROOT / ".venv-bench" / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"{python} not found: PyTorch runs from .venv-bench (./dev bench)")
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "result.json"
        port = _free_port()
        # As torchrun does for several processes per machine: one OpenMP thread each (numpyflow
        # likewise gives each rank its share of the cores).
        env = dict(os.environ, **({"OMP_NUM_THREADS": "1"} if ranks > 1 else {}))
        processes = [subprocess.Popen(
            [str(python), __file__, "--worker", "torch", "--rank", str(rank), "--world",
             str(ranks), "--steps", str(steps), "--warmup", str(warmup), "--port", str(port),
             "--out", str(out)], cwd=ROOT, env=env) for rank in range(ranks)]
        for process in processes:
            if process.wait(timeout=600) != 0:
                raise RuntimeError(f"PyTorch DDP worker failed ({process.returncode})")
        return json.loads(out.read_text())


RUNNERS = {"numpyflow": run_numpyflow, "torch": run_torch}


def measure(framework, steps=STEPS, warmup=WARMUP):
    """One round for benchmarks/run.py: (metrics, info) of `framework` ("numpyflow" or
    "torch") with 1 then 2 ranks. Metrics (one sample each): samples/s with 1 and 2 ranks
    and the scaling efficiency; info: the threads each process used."""
    one, two = (RUNNERS[framework](ranks, steps, warmup) for ranks in (1, 2))
    metrics = {"dist_2rank": [two["samples_per_s"]], "dist_1rank": [one["samples_per_s"]],
               "dist_efficiency": [two["samples_per_s"] / (2 * one["samples_per_s"])]}
    info = {"threads_1rank": one["threads"], "threads_per_rank_2ranks": two["threads"],
            "timed_steps": steps, "per_replica_batch": PER_REPLICA}
    if "cpu_ms_per_step" in two:  # numpyflow's: what a rank spends besides waiting.
        info.update(cpu_ms_per_step_1rank=one["cpu_ms_per_step"],
                    cpu_ms_per_step_2ranks=two["cpu_ms_per_step"],
                    allreduce_calls_per_step_2ranks=two["allreduce_calls_per_step"])
    return metrics, info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--bind-to", help="mpirun's --bind-to for numpyflow's ranks (core, "
                        "none); default: mpirun's choice")
    parser.add_argument("--sleepy-wait", action="store_true",
                        help="numpyflow's ranks sleep between polls of a collective from the "
                        "start (no spinning first), to compare the two waits")
    parser.add_argument("--mpi-choice", action="store_true",
                        help="Open MPI chooses numpyflow's all-reduce algorithm (numpyflow "
                        "asks for the ring otherwise), to compare the two")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker")
    parser.add_argument("--rank", type=int)
    parser.add_argument("--world", type=int)
    parser.add_argument("--port", type=int)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.worker == "numpyflow":
        return numpyflow_worker(args.steps, args.warmup, args.out, args.sleepy_wait)
    if args.worker == "torch":
        return torch_worker(args.rank, args.world, args.steps, args.warmup, args.port, args.out)
    import statistics
    runners = {"numpyflow": lambda ranks: run_numpyflow(ranks, args.steps, args.warmup,
                                                        args.bind_to, args.sleepy_wait,
                                                        args.mpi_choice),
               "PyTorch DDP (gloo)": lambda ranks: run_torch(ranks, args.steps, args.warmup)}
    samples, threads, cpu, calls, failed = {}, {}, {}, {}, set()
    # Rounds interleave the four configurations, so that a slow spell of a shared machine
    # weighs on all of them rather than on one.
    for _ in range(args.repeats):
        for name, run in runners.items():
            for ranks in (1, 2):
                if (name, ranks) in failed:
                    continue
                try:
                    result = run(ranks)
                except (OSError, RuntimeError, subprocess.SubprocessError) as error:
                    print(f"{name} with {ranks} rank(s) failed: {error}", file=sys.stderr)
                    failed.add((name, ranks))
                    continue
                samples.setdefault((name, ranks), []).append(result["samples_per_s"])
                threads[name, ranks] = result["threads"]
                if "cpu_ms_per_step" in result:
                    cpu.setdefault(ranks, []).append(result["cpu_ms_per_step"])
                    calls[ranks] = result["allreduce_calls_per_step"]
    results = {key: statistics.median(values) for key, values in samples.items()}
    print(f"Data-parallel LeNet-5, per-replica batch {PER_REPLICA}, {args.steps} timed steps, "
          f"median of {args.repeats} runs (samples/s); load average "
          f"{_load_average()}\n")
    print("| framework | 1 rank | 2 ranks | scaling efficiency | threads per process (1 / 2 "
          "ranks) |")
    print("|---|---|---|---|---|")
    for name in runners:
        one, two = results.get((name, 1)), results.get((name, 2))
        efficiency = f"{two / (2 * one):.2f}" if one and two else "n/a"
        print(f"| {name} | {one or float('nan'):,.0f} | {two or float('nan'):,.0f} | "
              f"{efficiency} | {threads.get((name, 1), '-')} / "
              f"{threads.get((name, 2), '-')} |")
    nf, pt = results.get(("numpyflow", 2)), results.get(("PyTorch DDP (gloo)", 2))
    if nf and pt:
        print(f"\nnumpyflow 2 ranks / PyTorch DDP 2 ranks: {nf / pt:.2f}x")
    for ranks in sorted(cpu):
        per_rank = [statistics.median(run[r] for run in cpu[ranks]) for r in range(ranks)]
        print(f"numpyflow {ranks} rank(s): CPU ms per step per rank (median) "
              f"{', '.join(f'{ms:.2f}' for ms in per_rank)}; all-reduce calls per step "
              f"{calls[ranks]:.3f}")


def _load_average():
    try:
        with open("/proc/loadavg") as loadavg:
            return " ".join(loadavg.read().split()[:3])
    except OSError:
        return "n/a"

if __name__ == "__main__":
    main()
