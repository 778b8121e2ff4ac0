"""What a data-parallel training step costs besides its arithmetic: how many collectives
`model.fit` makes per step, and how a rank waits for one (`communicator.WaitPolicy`)."""

import os
import sys
import types

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.distribute import collective_util
from numpyflow.distribute import communicator as communicator_module
from tests.distribute.fakes import MirrorCommunicator


def _fit_calls(verbose, callbacks=(), epochs=2, steps=5):
    communicator = MirrorCommunicator()
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communicator=communicator)
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])
        model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    x = np.random.default_rng(0).random((16 * steps, 4)).astype("float32")
    y = np.arange(16 * steps) % 3
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=verbose,
                        callbacks=list(callbacks))
    return communicator.calls, history


def _steps_calls(calls):
    """The calls after the last one made before the first step (the broadcasts)."""
    last_broadcast = max(i for i, call in enumerate(calls) if call[0] == "broadcast")
    return [call[0] for call in calls[last_broadcast + 1:]]


def test_fit_without_per_step_logs_makes_one_all_reduce_per_step():
    """The gradients' all-reduce is the only collective of a step; the metrics are summed
    once per epoch, when the epoch's logs are read."""
    calls, history = _fit_calls(verbose=0)
    assert _steps_calls(calls) == ["allreduce"] * (2 * 5 + 2)
    gradient_sizes = {call[2] for call in calls if call[0] == "allreduce"}
    assert (4 * 3 + 3,) in gradient_sizes  # One buffer: every gradient of the step.
    assert set(history.history) == {"loss", "accuracy"}


def test_fit_with_a_batch_callback_sums_the_metrics_after_each_step():
    """A callback reading each step's logs sees global values: one more all-reduce per step."""
    seen = []
    callback = tf.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    calls, _ = _fit_calls(verbose=0, callbacks=[callback])
    assert len(seen) == 10
    assert _steps_calls(calls).count("allreduce") == 2 * (2 * 5) + 2


class _Request:
    """An MPI request that completes at its `polls`-th Test() (never when None)."""

    def __init__(self, polls=None):
        self.polls, self.tests = polls, 0

    def Test(self):
        self.tests += 1
        return self.polls is not None and self.tests >= self.polls


def _communicator(policy, timeout=300.0):
    # Only what `_wait` reads: no MPI needed.
    communicator = communicator_module.MPICommunicator.__new__(
        communicator_module.MPICommunicator)
    communicator.rank, communicator.size, communicator.timeout = 0, 2, timeout
    communicator.wait_policy = policy
    return communicator


@pytest.fixture
def sleeps(monkeypatch):
    recorded = []
    monkeypatch.setattr(communicator_module.time, "sleep", recorded.append)
    return recorded


def test_wait_policy_spins_only_where_each_rank_has_a_core():
    own = communicator_module.WaitPolicy.for_local_ranks(2, cores=2)
    assert own.spin_seconds == communicator_module.SPIN_SECONDS > 0
    assert own.max_pause == communicator_module.MAX_PAUSE_OWN_CORE
    shared = communicator_module.WaitPolicy.for_local_ranks(3, cores=2)
    assert shared.spin_seconds == 0
    assert shared.max_pause == communicator_module.MAX_PAUSE_SHARED_CORES
    assert communicator_module.WaitPolicy.for_local_ranks(1, cores=1).spin_seconds > 0


def test_local_ranks_from_the_launcher(monkeypatch):
    monkeypatch.delenv("OMPI_COMM_WORLD_LOCAL_SIZE", raising=False)
    monkeypatch.delenv("MPI_LOCALNRANKS", raising=False)
    assert communicator_module.local_ranks() == 1
    monkeypatch.setenv("MPI_LOCALNRANKS", "3")
    assert communicator_module.local_ranks() == 3
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    assert communicator_module.local_ranks() == 2


def test_a_rank_with_its_own_core_polls_a_short_wait_without_sleeping(sleeps):
    policy = communicator_module.WaitPolicy(spin_seconds=10.0, max_pause=5e-4)
    request = _Request(polls=500)
    _communicator(policy)._wait(request, "all-reduce (sum)")
    assert request.tests == 500 and sleeps == []


def test_ranks_sharing_cores_sleep_between_polls_growing_to_the_maximum(sleeps):
    policy = communicator_module.WaitPolicy(spin_seconds=0.0, max_pause=2e-3)
    _communicator(policy)._wait(_Request(polls=10), "all-reduce (sum)")
    assert sleeps == [0.0, 1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3, 2e-3, 2e-3, 2e-3]


def test_a_spinning_rank_still_stops_at_its_deadline(sleeps, monkeypatch):
    exits = []
    monkeypatch.setattr(communicator_module.atexit, "register",
                        lambda fn, *args: exits.append(args))  # No MPI_Abort at exit.
    policy = communicator_module.WaitPolicy(spin_seconds=1e-3, max_pause=5e-4)
    with pytest.raises(tf.errors.DeadlineExceededError,
                       match=r"Collective all-reduce \(sum\) on rank 0 of 2 did not complete "
                             r"within 0.02 s"):
        _communicator(policy, timeout=0.02)._wait(_Request(), "all-reduce (sum)")
    assert exits == [(1,)]
    assert max(sleeps, default=0) <= 5e-4  # Sleeps are faked: the loop polled to the end.


class _FakeMPI:
    """What MPICommunicator reads of mpi4py.MPI, for one process."""

    SUM, MAX, MIN = "sum", "max", "min"

    class COMM_WORLD:
        @staticmethod
        def Get_rank():
            return 0

        @staticmethod
        def Get_size():
            return 1


@pytest.fixture
def no_mpi_yet(monkeypatch):
    """mpi4py as if MPI had not started: `from mpi4py import MPI` gives `_FakeMPI`."""
    package = types.ModuleType("mpi4py")
    package.MPI = _FakeMPI
    monkeypatch.setitem(sys.modules, "mpi4py", package)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    monkeypatch.delenv(communicator_module.RING_ALGORITHM_VARIABLE, raising=False)


def test_the_ring_all_reduce_is_asked_for_before_mpi_starts(no_mpi_yet):
    assert communicator_module.import_mpi(ring=False) is _FakeMPI
    assert communicator_module.RING_ALGORITHM_VARIABLE not in os.environ
    communicator_module.import_mpi(ring=True)
    assert os.environ[communicator_module.RING_ALGORITHM_VARIABLE] == "1"


def test_the_environment_s_algorithm_wins(no_mpi_yet, monkeypatch):
    monkeypatch.setenv(communicator_module.RING_ALGORITHM_VARIABLE, "3")
    communicator_module.import_mpi(ring=True)
    assert os.environ[communicator_module.RING_ALGORITHM_VARIABLE] == "3"


def test_nothing_is_asked_once_mpi_started(no_mpi_yet, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", _FakeMPI)
    communicator_module.import_mpi(ring=True)
    assert communicator_module.RING_ALGORITHM_VARIABLE not in os.environ


@pytest.mark.parametrize("world, implementation, ring", [
    ("2", "AUTO", True), ("64", "AUTO", False), ("64", "RING", True)])
def test_auto_asks_for_the_ring_in_small_jobs(no_mpi_yet, monkeypatch, world, implementation,
                                              ring):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", world)
    options = tf.distribute.experimental.CommunicationOptions(implementation=implementation)
    communicator_module.MPICommunicator(ring=collective_util.asks_for_ring(options))
    assert (os.environ.get(communicator_module.RING_ALGORITHM_VARIABLE) == "1") == ring
