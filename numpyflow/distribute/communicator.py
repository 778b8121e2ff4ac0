"""Communicators: the one small interface the strategies use to talk between replicas.

A communicator knows its `rank` and `size` and offers four collectives on NumPy arrays
(all-reduce, broadcast, all-gather of small Python values, barrier). Two implementations:

- `SingleProcessCommunicator`: one replica; every collective is a copy.
- `MPICommunicator`: one replica per MPI process (`mpirun -n N python train.py`), on
  mpi4py (`pip install numpyflow[mpi]`), imported only when one is made.

Every collective of `MPICommunicator` waits for its peers with a deadline
(`timeout` seconds): a non-blocking MPI call is polled, sleeping between polls, so a
rank whose peer raised or died stops with `tf.errors.DeadlineExceededError` instead of
hanging forever, and ranks sharing few cores do not spin against each other.

    >>> comm = SingleProcessCommunicator()
    >>> comm.allreduce(np.array([1., 2.]), "sum")
    array([1., 2.])
"""

import atexit
import os
import sys
import time

import numpy as np

from numpyflow.framework import errors

# Seconds a collective waits for the other ranks before giving up, when the script does not
# say (`CommunicationOptions(timeout_seconds=...)`). TF's own default is to wait forever;
# a bound turns a dead peer into an error instead of a job that holds its nodes for ever.
DEFAULT_TIMEOUT = 300.0
# The environment variable that replaces DEFAULT_TIMEOUT. Kept beside TF's API because it
# lets whoever runs the jobs (a cluster admin, a CI) bound every job's collectives without
# editing the users' scripts; a script's `timeout_seconds` still takes precedence.
TIMEOUT_ENVIRONMENT_VARIABLE = "NUMPYFLOW_COLLECTIVE_TIMEOUT"

_REDUCTIONS = ("sum", "mean", "max", "min")


class Communicator:
    """The collectives a strategy needs. Subclasses implement the `_`-less methods."""

    rank = 0
    size = 1

    def allreduce(self, array, op):
        """Element-wise reduction of `array` over all ranks ("sum", "mean", "max", "min");
        returns a new array of the same shape and dtype on every rank."""
        raise NotImplementedError

    def broadcast(self, array, root=0):
        """`root`'s `array` on every rank (a new array; the shape and dtype must agree)."""
        raise NotImplementedError

    def allgather_object(self, value):
        """The list of every rank's `value` (small picklable Python values), by rank."""
        raise NotImplementedError

    def barrier(self):
        """Returns once every rank has called it."""
        raise NotImplementedError


class SingleProcessCommunicator(Communicator):
    """One replica: each collective returns (a copy of) its own input."""

    def allreduce(self, array, op):
        _check_op(op)
        return np.array(array, copy=True)

    def broadcast(self, array, root=0):
        return np.array(array, copy=True)

    def allgather_object(self, value):
        return [value]

    def barrier(self):
        pass

    def __repr__(self):
        return "SingleProcessCommunicator()"


class MPICommunicator(Communicator):
    """One replica per MPI process, over `MPI.COMM_WORLD` (or `comm`).

    Args:
      comm: An mpi4py communicator; `MPI.COMM_WORLD` by default.
      timeout: Seconds each collective waits for the other ranks before raising
        `tf.errors.DeadlineExceededError` (default: $NUMPYFLOW_COLLECTIVE_TIMEOUT or 300).
      bytes_per_pack: 0 to all-reduce each buffer with one MPI call; a positive number
        cuts larger buffers into packs of at most that many bytes, one non-blocking
        all-reduce each, all in flight together.
    """

    def __init__(self, comm=None, timeout=None, bytes_per_pack=0):
        MPI = import_mpi()
        self._MPI = MPI
        self._comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank = self._comm.Get_rank()
        self.size = self._comm.Get_size()
        if timeout is None:
            timeout = default_timeout()
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
                not timeout > 0:
            raise ValueError(f"MPICommunicator: timeout must be a positive number of seconds; "
                             f"received timeout={timeout!r}.")
        if isinstance(bytes_per_pack, bool) or not isinstance(bytes_per_pack, int) or \
                bytes_per_pack < 0:
            raise ValueError(f"MPICommunicator: bytes_per_pack must be an integer >= 0; "
                             f"received bytes_per_pack={bytes_per_pack!r}.")
        self.timeout = float(timeout)
        self.bytes_per_pack = bytes_per_pack
        # How many all-reduce calls were made (packs count one each): for tests and tuning.
        self.allreduce_calls = 0
        self._ops = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
        if self.size > 1:
            _abort_on_uncaught_exceptions(self)
            _share_cores()

    def allreduce(self, array, op):
        _check_op(op)
        send = np.ascontiguousarray(array)
        receive = np.empty_like(send)
        flat_send, flat_receive = send.reshape(-1), receive.reshape(-1)
        step = max(1, flat_send.size)
        if self.bytes_per_pack and send.nbytes > self.bytes_per_pack:
            step = max(1, self.bytes_per_pack // send.itemsize)
        requests = [self._comm.Iallreduce(flat_send[i:i + step], flat_receive[i:i + step],
                                          self._ops[op])
                    for i in range(0, flat_send.size, step)] or \
            [self._comm.Iallreduce(send, receive, self._ops[op])]
        self.allreduce_calls += len(requests)
        self._wait(requests[0] if len(requests) == 1 else _AllRequests(self._MPI, requests),
                   f"all-reduce ({op})")
        if op == "mean":
            with np.errstate(all="ignore"):  # inf and NaN silently, as TF's kernels.
                receive /= np.asarray(self.size, receive.dtype)
        return receive

    def broadcast(self, array, root=0):
        buffer = np.array(array, copy=True, order="C")
        self._wait(self._comm.Ibcast(buffer, root=root), "broadcast")
        return buffer

    def allgather_object(self, value):
        # Small values (signatures, seeds): gathered with fixed-size messages so that the
        # wait has a deadline too. Two steps: lengths, then the pickled bytes.
        import pickle
        payload = np.frombuffer(pickle.dumps(value), np.uint8)
        lengths = np.empty(self.size, np.int64)
        length = np.array([payload.size], np.int64)  # Held until the call completes.
        self._wait(self._comm.Iallgather(length, lengths), "all-gather")
        buffer = np.zeros((self.size, int(lengths.max())), np.uint8)
        padded = np.zeros(int(lengths.max()), np.uint8)
        padded[:payload.size] = payload
        self._wait(self._comm.Iallgather(padded, buffer), "all-gather")
        # Our own ranks' pickles of plain values (numbers, strings, tuples) only.
        return [pickle.loads(buffer[i, :lengths[i]].tobytes()) for i in range(self.size)]

    def barrier(self):
        self._wait(self._comm.Ibarrier(), "barrier")

    def abort(self, code=1):
        """Ends every rank of the job (MPI_Abort): the last resort after an error."""
        self._comm.Abort(code)

    def _wait(self, request, what):
        deadline = time.monotonic() + self.timeout
        pause = 0.0
        while not request.Test():
            if time.monotonic() > deadline:
                # The unfinished call would make MPI_Finalize wait forever at exit: end
                # the job with MPI_Abort once Python has reported the error.
                atexit.register(self.abort, 1)
                raise errors.DeadlineExceededError(
                    None, None,
                    f"Collective {what} on rank {self.rank} of {self.size} did not complete "
                    f"within {self.timeout:g} s: another rank failed, was killed or stopped "
                    f"calling collectives (e.g. it ran fewer steps). Stopping this rank.")
            time.sleep(pause)
            # Poll at once for short waits, then every 0.1 ms up to every 2 ms: ranks that
            # share cores leave them to the peer they wait for.
            pause = min(2e-3, pause * 2 or 1e-4)

    def __repr__(self):
        return f"MPICommunicator(rank={self.rank}, size={self.size})"


class _AllRequests:
    """Several MPI requests waited for as one (`Test()` is true once all completed)."""

    def __init__(self, MPI, requests):
        self._MPI = MPI
        self._requests = requests

    def Test(self):
        return self._MPI.Request.Testall(self._requests)


def default_timeout():
    """Seconds a collective waits when the script does not say: the
    NUMPYFLOW_COLLECTIVE_TIMEOUT environment variable, else `DEFAULT_TIMEOUT` (300)."""
    value = os.environ.get(TIMEOUT_ENVIRONMENT_VARIABLE)
    if value is None or not value.strip():
        return DEFAULT_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENVIRONMENT_VARIABLE} must be a number of seconds; "
                         f"received {value!r}.") from None


def _abort_on_uncaught_exceptions(communicator):
    """Makes an exception that ends this rank end the whole job (as `python -m mpi4py`
    does): Python prints it, then MPI_Abort stops the other ranks, which would otherwise
    wait in their next collective while this one waits in MPI_Finalize."""
    previous = sys.excepthook
    if getattr(previous, "_numpyflow_aborts", False):
        return

    def excepthook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        communicator.abort(1)

    excepthook._numpyflow_aborts = True
    sys.excepthook = excepthook


def _share_cores():
    """Gives each rank on this machine its share of the cores for BLAS (Open MPI says how
    many ranks run here): ranks whose BLAS threads outnumber the cores spin against each
    other."""
    local = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS")
    if local and local.isdigit() and int(local) > 1:
        from numpyflow.backend import blas
        blas.limit_threads((os.cpu_count() or 1) // int(local))


def import_mpi():
    """`mpi4py.MPI`, or an ImportError that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError("Multi-process tf.distribute strategies run on MPI, which needs "
                          "mpi4py: `pip install numpyflow[mpi]` (mpi4py and Open MPI), then "
                          "launch with `mpirun -n 2 python train.py`.") from error
    return MPI


def mpi_world_size():
    """The number of processes the launcher started, from its environment (no import).

    Open MPI, MPICH/Hydra, Intel MPI and Slurm each set one of these variables in every
    process they start; 1 when none is set (a plain `python train.py`).
    """
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"):
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return 1


def _check_op(op):
    if op not in _REDUCTIONS:
        raise ValueError(f"Unknown reduction {op!r}; expected one of {list(_REDUCTIONS)}.")
