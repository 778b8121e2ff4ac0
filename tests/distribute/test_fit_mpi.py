"""`model.fit` under MultiWorkerMirroredStrategy with `mpirun -n 2` (seed MLP and LeNet-5).

Each test launches `workers/fit_worker.py` on two ranks; every rank writes a JSON record
(weight digests after each epoch, History, evaluation, compiled plans), which the tests
compare. The ranks seed their random generators differently on purpose: the weights can
only agree because fit broadcasts the chief's.
"""

import json
import os

import numpy as np
import pytest

from tests.distribute.mpi_launch import (check, rank_records, require_mpi, run_mpi,
                                         run_python)


@pytest.fixture(autouse=True)
def _mpi():
    require_mpi()


def test_mlp_weights_identical_every_epoch_and_history_global(tmp_path):
    out = tmp_path / "run"
    check(run_mpi(2, "fit_worker.py", "--model", "mlp", "--samples", 1024, "--epochs", 3,
                  "--validation", "--out", out))
    chief, other = rank_records(out)
    assert chief["replicas"] == other["replicas"] == 2
    assert len(chief["digests"]) == 3
    assert chief["digests"] == other["digests"]  # Bit-identical weights after each epoch.
    # The ranks trained on different halves of each batch: equal logs show they are global.
    assert chief["history"] == other["history"]
    assert set(chief["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert chief["history"]["loss"][-1] < chief["history"]["loss"][0]
    assert chief["test"] == other["test"]
    # The training step compiled to a plan holding exactly one all-reduce (one buffer).
    assert chief["compiled_steps"] >= 1 and chief["allreduce_lines"] == chief["compiled_steps"]


def test_two_ranks_of_16_equal_one_process_of_32(tmp_path):
    """Without shuffling, 2 ranks x 16 samples per step compute the same mean gradient as one
    process with batch 32: the weights agree up to float32 rounding of the sums."""
    check(run_mpi(2, "fit_worker.py", "--model", "lenet", "--samples", 256, "--epochs", 1,
                  "--no-shuffle", "--save-weights", "--out", tmp_path / "two"))
    check(run_python("fit_worker.py", "--model", "lenet", "--samples", 256, "--epochs", 1,
                     "--no-shuffle", "--save-weights", "--strategy", "mirrored",
                     "--out", tmp_path / "one"))
    two = np.load(tmp_path / "two" / "weights0.npz")
    one = np.load(tmp_path / "one" / "weights0.npz")
    assert len(two.files) == 10
    for name in two.files:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-4, atol=2e-6, err_msg=name)
    chief, other = rank_records(tmp_path / "two")
    assert chief["digests"] == other["digests"]
    single = json.load(open(tmp_path / "one" / "rank0.json"))
    assert single["replicas"] == 1
    np.testing.assert_allclose(chief["history"]["loss"], single["history"]["loss"], rtol=1e-4)


def test_dataset_input_is_sharded_by_data(tmp_path):
    out = tmp_path / "run"
    completed = check(run_mpi(2, "fit_worker.py", "--samples", 320, "--batch", 64,
                              "--epochs", 2, "--dataset", "--out", out))
    chief, other = rank_records(out)
    assert chief["digests"] == other["digests"]
    assert chief["history"] == other["history"]
    assert "5/5" in completed.stdout  # 320 / 64 global batches per epoch.


def test_only_the_chief_writes_checkpoints_and_summaries(tmp_path):
    directory = tmp_path / "ckpt"
    check(run_mpi(2, "fit_worker.py", "--samples", 256, "--epochs", 2, "--checkpoint-dir",
                  directory, "--backup-dir", directory / "backup", "--out", tmp_path / "run"))
    chief, other = rank_records(tmp_path / "run")
    names = sorted(os.listdir(directory))
    assert names == ["ckpt-1.weights.h5", "ckpt-2.weights.h5", "tb"]  # No workertemp_1 left.
    events = [name for _, _, files in os.walk(directory / "tb") for name in files]
    assert len(events) == 1  # The train run only, from one process: the chief's.
    assert events[0].split(".")[-3] == str(chief["pid"]) != str(other["pid"])


def test_progress_bar_only_on_the_chief(tmp_path):
    completed = check(run_mpi(2, "fit_worker.py", "--samples", 256, "--epochs", 1,
                              "--verbose", 1, "--out", tmp_path / "run"))
    # The bar's closing line ("8/8 [===] - 0s 8ms/step - ..."), once: a second "8/8" update
    # line may come before it, as tf.keras prints one every 0.05 s when stdout is no tty.
    assert completed.stdout.count("/step") == 1
    assert completed.stdout.count("1/8 [") <= 1


def test_mismatched_models_fail_at_the_first_step(tmp_path):
    completed = run_mpi(2, "fit_worker.py", "--samples", 256, "--extra-layer-on-rank1",
                        "--out", tmp_path / "run", timeout=60)
    assert completed.returncode != 0
    assert ("The replicas disagree on the model: rank 0 has 4 variables (101770 parameters), "
            "rank 1 has 6 variables (101880 parameters)") in completed.stderr


def test_single_process_scripts_run_without_mpi(tmp_path):
    for strategy in ("mirrored", "multiworker"):
        out = tmp_path / strategy
        check(run_python("fit_worker.py", "--samples", 128, "--epochs", 1, "--strategy",
                         strategy, "--out", out))
        record = json.load(open(out / "rank0.json"))
        assert record["replicas"] == 1 and record["allreduce_lines"] == 0


def test_seeded_runs_repeat_bit_for_bit(tmp_path):
    """The shuffling order the ranks agree on comes from tf.random: seeded runs repeat."""
    for run in ("first", "second"):
        check(run_mpi(2, "fit_worker.py", "--samples", 256, "--epochs", 1,
                      "--out", tmp_path / run))
    assert rank_records(tmp_path / "first")[0]["digests"] == \
        rank_records(tmp_path / "second")[0]["digests"]
