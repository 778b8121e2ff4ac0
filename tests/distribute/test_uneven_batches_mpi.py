"""`mpirun -n 2` against one process with the same global batches (no shuffling, plain
SGD so that an N-times-too-large gradient would show): the gradient is the global batch's
through `compute_loss` (with layer losses) and through a Loss object called directly in a
custom `train_step`; a short last global batch is split unevenly (a replica may get no
sample) and no sample is dropped; `predict` returns the whole result, in order, on every
rank."""

import json

import numpy as np
import pytest

from tests.distribute.mpi_launch import (check, rank_records, require_mpi, run_mpi,
                                         run_python)

# (name, worker arguments): 259 = 8 x 32 + 3 (last batch split 2/1); 65 = 2 x 32 + 1
# (rank 1 gets an empty piece).
CASES = {
    "compute_loss": ("--model", "lenet", "--samples", 259, "--regularize"),
    "direct_loss": ("--model", "mlp", "--samples", 65, "--step", "direct-loss"),
}
COMMON = ("--batch", 32, "--epochs", 2, "--optimizer", "sgd", "--no-shuffle",
          "--save-weights", "--predict")


@pytest.fixture(scope="module", params=sorted(CASES))
def runs(request, tmp_path_factory):
    require_mpi()
    out = tmp_path_factory.mktemp(request.param)
    arguments = CASES[request.param] + COMMON
    check(run_mpi(2, "fit_worker.py", *arguments, "--out", out / "two", timeout=60))
    check(run_python("fit_worker.py", *arguments, "--strategy", "mirrored",
                     "--out", out / "one", timeout=60))
    return request.param, out


def test_weights_match_the_single_process_run(runs):
    name, out = runs
    one = np.load(out / "one" / "weights0.npz")
    for rank in (0, 1):
        two = np.load(out / "two" / f"weights{rank}.npz")
        for key in one.files:
            np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=1e-7,
                                       err_msg=f"{name} rank {rank} {key}")
    # Training moved the weights far more than the tolerance: the comparison can fail.
    initial = json.load(open(out / "one" / "rank0.json"))["digests"]
    assert initial[0] != initial[1]


def test_history_and_every_sample_counted(runs):
    name, out = runs
    single = json.load(open(out / "one" / "rank0.json"))
    chief, other = rank_records(out / "two")
    assert chief["digests"] == other["digests"]
    if name == "compute_loss":
        # The loss tracker and accuracy count all 259 samples, as in one process.
        np.testing.assert_allclose(chief["history"]["loss"], single["history"]["loss"],
                                   rtol=1e-5)
        assert chief["history"]["accuracy"] == single["history"]["accuracy"]
        assert chief["compiled_steps"] == 1  # The uneven last step ran eagerly.
    else:
        # The custom step's own "loss" log (not a metric): the chief's value of the last
        # step, whose single sample was all the chief's, i.e. the single process's.
        np.testing.assert_allclose(chief["history"]["loss"], single["history"]["loss"],
                                   rtol=1e-5)


def test_predict_returns_everything_in_order_on_every_rank(runs):
    _, out = runs
    one = np.load(out / "one" / "predict0.npy")
    assert one.shape == (101, 10)  # 6 x 16 + 5: the last batch splits 3/2.
    for rank in (0, 1):
        np.testing.assert_allclose(np.load(out / "two" / f"predict{rank}.npy"), one,
                                   rtol=1e-5, atol=1e-6)
