"""Faults under `mpirun -n 2`: a rank that raises, is killed, or leaves early stops the job
within a bounded time with a clear error; a relaunch with BackupAndRestore resumes."""

import json
import time

import pytest

from tests.distribute.mpi_launch import check, rank_records, require_mpi, run_mpi


@pytest.fixture(autouse=True)
def _mpi():
    require_mpi()


def _timed(*args, **kwargs):
    start = time.monotonic()
    completed = run_mpi(*args, **kwargs)
    return completed, time.monotonic() - start


def test_a_killed_rank_ends_the_job_within_a_minute(tmp_path):
    completed, seconds = _timed(2, "fit_worker.py", "--samples", 256, "--epochs", 3,
                                "--fail-at", 1, "--fail-how", "kill", "--out", tmp_path,
                                timeout=60)
    assert completed.returncode != 0
    assert seconds < 60
    assert "rank 1" in completed.stderr and "signal 9" in completed.stderr


def test_a_rank_that_raises_ends_the_job(tmp_path):
    completed, seconds = _timed(2, "fit_worker.py", "--samples", 256, "--epochs", 3,
                                "--fail-at", 1, "--out", tmp_path, timeout=60)
    assert completed.returncode != 0 and seconds < 60
    assert "RuntimeError: rank 1 fails on purpose" in completed.stderr


def test_a_rank_that_leaves_early_makes_the_other_time_out(tmp_path):
    """Rank 1 ends cleanly mid-training; rank 0 waits in the all-reduce, then stops with
    DeadlineExceededError after NUMPYFLOW_COLLECTIVE_TIMEOUT seconds (not forever)."""
    completed, seconds = _timed(2, "fit_worker.py", "--samples", 256, "--epochs", 3,
                                "--fail-at", 1, "--fail-how", "leave", "--out", tmp_path,
                                env={"NUMPYFLOW_COLLECTIVE_TIMEOUT": "4"}, timeout=60)
    assert completed.returncode != 0 and seconds < 60
    assert "DeadlineExceededError" in completed.stderr
    assert "on rank 0 of 2 did not complete within 4 s" in completed.stderr


def test_collective_timeout_in_a_custom_loop(tmp_path):
    completed, seconds = _timed(2, "deadline_worker.py", env={
        "NUMPYFLOW_COLLECTIVE_TIMEOUT": "3"}, timeout=60)
    assert completed.returncode != 0 and seconds < 60
    assert "rank 0 stopped after 3." in completed.stdout


def test_relaunch_with_backup_and_restore_resumes(tmp_path):
    backup = tmp_path / "backup"
    arguments = ("--samples", 256, "--epochs", 4, "--backup-dir", backup)
    completed = run_mpi(2, "fit_worker.py", *arguments, "--fail-at", 2, "--fail-how", "kill",
                        "--out", tmp_path / "first", timeout=60)
    assert completed.returncode != 0
    # Only the chief's files, from the end of epoch 2 (no temporary dir of rank 1).
    assert sorted(p.name for p in backup.iterdir()) == ["latest.weights.h5",
                                                        "training_metadata.json"]
    assert json.load(open(backup / "training_metadata.json"))["epoch"] == 2
    check(run_mpi(2, "fit_worker.py", *arguments, "--out", tmp_path / "second"))
    records = rank_records(tmp_path / "second")
    for record in records:
        assert record["epochs"] == [2, 3]  # Epochs 0 and 1 were done before the kill.
    assert records[0]["digests"] == records[1]["digests"]
    assert records[0]["history"] == records[1]["history"]
    assert not backup.exists()  # Deleted by the chief once training finished.
