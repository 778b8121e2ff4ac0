"""Under `mpirun -n 2`: a `fit` step of LeNet-5 makes one MPI all-reduce (Open MPI's ring),
and each rank keeps to its share of the cores (one thread on a 2-core machine: no BLAS
threads, no batch splits across the other rank's core)."""

import os

import pytest

from tests.distribute.mpi_launch import check, rank_records, require_mpi, run_mpi


@pytest.fixture(autouse=True)
def _mpi():
    require_mpi()


def test_fit_makes_one_all_reduce_per_step_and_each_rank_keeps_to_its_cores(tmp_path):
    out = tmp_path / "run"
    # 256 samples in global batches of 32: 8 steps per epoch; verbose 0, no batch callback.
    check(run_mpi(2, "fit_worker.py", "--model", "lenet", "--samples", 256, "--batch", 32,
                  "--epochs", 2, "--verbose", 0, "--out", out))
    records = rank_records(out)
    share = max(1, (os.cpu_count() or 1) // 2)
    for record in records:
        # One gradient all-reduce per step, plus the metrics' once per epoch.
        assert record["fit_allreduce_calls"] == 2 * 8 + 2
        assert record["blas_threads"] == share and record["split_cores"] <= share
        # Two ranks spin before sleeping only where each has a core of its own.
        assert (record["spin_seconds"] > 0) == ((os.cpu_count() or 1) >= 2)
        # Open MPI was asked for its ring all-reduce (faster for the gradients' buffer).
        assert record["allreduce_algorithm"] == "1"
    assert records[0]["digests"] == records[1]["digests"]
