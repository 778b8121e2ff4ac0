"""Custom training loops under `mpirun -n 2`, compared with the same loop in one process:
`experimental_distribute_dataset` / `distribute_datasets_from_function`, `strategy.run`,
`strategy.reduce`, `tf.nn.compute_average_loss`, `optimizer.apply_gradients` summing over
the replicas, and `BatchNormalization(synchronized=True)`."""

import numpy as np
import pytest

from tests.distribute.mpi_launch import check, require_mpi, run_mpi, run_python


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    check(run_python("custom_loop_worker.py", "--strategy", "mirrored", "--out", out))
    return np.load(out / "custom.npz")


def _weights(result):
    return [result[name] for name in result.files if name.startswith("arr_")]


@pytest.mark.parametrize("source", ["distribute_dataset", "from_function"])
def test_two_ranks_match_the_single_process_loop(tmp_path, one_process, source):
    require_mpi()
    flags = ["--from-function"] if source == "from_function" else []
    check(run_mpi(2, "custom_loop_worker.py", *flags, "--out", tmp_path))
    two = np.load(tmp_path / "custom.npz")
    # Each reduced step loss is the global batch's mean loss, as in one process.
    np.testing.assert_allclose(two["losses"], one_process["losses"], rtol=1e-5)
    for mine, theirs in zip(_weights(two), _weights(one_process)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    # Compiled: BN statistics (forward and backward), the gradient buffer and the reduce.
    assert two["compiled"] == 1 and two["collectives"] == 4
    assert one_process["collectives"] == 0


def test_unsynchronized_batch_norm_differs(tmp_path, one_process):
    """The control: with each replica's own batch statistics the result is not the single
    process's, so the test above does check the synchronization."""
    require_mpi()
    check(run_mpi(2, "custom_loop_worker.py", "--no-sync-bn", "--out", tmp_path))
    two = np.load(tmp_path / "custom.npz")
    assert np.abs(two["losses"] - one_process["losses"]).max() > 1e-3
