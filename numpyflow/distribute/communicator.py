"""Communicators: the one small interface the strategies use to talk between replicas.

A communicator knows its `rank` and `size` and offers four collectives on NumPy arrays
(all-reduce, broadcast, all-gather of small Python values, barrier). Two implementations:

- `SingleProcessCommunicator`: one replica; every collective is a copy.
- `MPICommunicator`: one replica per MPI process (`mpirun -n N python train.py`), on
  mpi4py (`pip install numpyflow[mpi]`), imported only when one is made.

Every collective of `MPICommunicator` waits for its peers with a deadline
(`timeout` seconds): a non-blocking MPI call is polled, so a rank whose peer raised or
died stops with `tf.errors.DeadlineExceededError` instead of hanging forever. How it
polls (`WaitPolicy`) depends on whether each rank has a core of its own: then it first
polls without sleeping, so that a transfer of many fragments is not stalled between polls;
ranks that outnumber the cores sleep between polls from the start, leaving the core to
the peer they wait for.

The all-reduce algorithm: Open MPI runs non-blocking all-reduces with its `libnbc`
component, whose own choice for the gradients' buffer is slower than its ring
(reduce-scatter then all-gather; see `RING_ALGORITHM_VARIABLE`). `MPICommunicator` asks
for the ring before MPI starts, unless the environment already says which algorithm
(`OMPI_MCA_coll_libnbc_iallreduce_algorithm`) or MPI was started before.

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

# How a rank with a core of its own waits for a collective: polls without sleeping for up
# to SPIN_SECONDS, then sleeps between polls, at most MAX_PAUSE_OWN_CORE seconds. MPI moves
# a large buffer in fragments, each needing a progress call (a poll) on both ranks, so a
# rank asleep between polls stalls the transfer: LeNet-5's 247 KB gradient all-reduce
# (2 ranks, 2 cores) ended 0.3-0.6 ms after the last rank arrived when sleeping 0.1-2 ms
# between polls, 0.17 ms when spinning, 0.15 ms with a blocking MPI_Allreduce. The spin
# yields the core between polls (sched_yield: immediate when nothing else waits for the
# core), so a busy machine's other processes, the late peer among them, still get it. On a
# quiet machine the ranks of a step arrive within ~0.05 ms of each other (median; LeNet-5),
# so 0.5 ms of spinning covers nearly every wait; a peer late by more (preempted) is
# noticed within MAX_PAUSE_OWN_CORE, each poll and sleep costing a few us of CPU.
SPIN_SECONDS = 5e-4
MAX_PAUSE_OWN_CORE = 5e-4
# Ranks outnumbering the cores never spin (it would take the core from the peer they wait
# for) and sleep up to MAX_PAUSE_SHARED_CORES between polls.
MAX_PAUSE_SHARED_CORES = 2e-3
# The first sleep between polls; each next one is twice as long, up to the policy's maximum.
FIRST_PAUSE = 1e-4

# Open MPI's setting of the algorithm of its non-blocking all-reduce (libnbc), and its value
# for the ring. LeNet-5's 247 KB gradient buffer between 2 ranks on one machine, polled
# without sleeping: 91-94 us (median) with the ring, 172-176 us with libnbc's own choice
# (binomial or recursive doubling, each moving the whole buffer); 3-float buffers take 2 us
# either way (2026-11-30, load average ~7.5, 1,000 calls a run, 3 runs each, alternated).
RING_ALGORITHM_VARIABLE = "OMPI_MCA_coll_libnbc_iallreduce_algorithm"
RING_ALGORITHM = "1"
# With `CommunicationImplementation.AUTO`, the ring is asked for in jobs of at most this
# many ranks: measured at 2; a ring takes 2 (N - 1) steps, which for small buffers (the
# metrics) over many ranks or hosts may cost more latency than it saves, so larger jobs
# keep Open MPI's choice unless they ask for RING.
AUTO_RING_MAX_RANKS = 8


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
      ring: Whether to ask Open MPI for its ring all-reduce (see `RING_ALGORITHM_VARIABLE`)
        if MPI has not started yet; None: for jobs of at most `AUTO_RING_MAX_RANKS` ranks.
    """

    def __init__(self, comm=None, timeout=None, bytes_per_pack=0, ring=None):
        if ring is None:
            ring = mpi_world_size() <= AUTO_RING_MAX_RANKS
        MPI = import_mpi(ring=ring)
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
        # How collectives wait: spinning first only where each rank has a core of its own.
        self.wait_policy = WaitPolicy.for_local_ranks(local_ranks())
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
        start = time.monotonic()
        deadline = start + self.timeout
        spin_until = start + self.wait_policy.spin_seconds
        max_pause = self.wait_policy.max_pause
        pause = 0.0
        while not request.Test():
            now = time.monotonic()
            if now < spin_until:
                _yield_core()  # Then poll again: see SPIN_SECONDS.
                continue
            if now > deadline:
                # The unfinished call would make MPI_Finalize wait forever at exit: end
                # the job with MPI_Abort once Python has reported the error.
                atexit.register(self.abort, 1)
                raise errors.DeadlineExceededError(
                    None, None,
                    f"Collective {what} on rank {self.rank} of {self.size} did not complete "
                    f"within {self.timeout:g} s: another rank failed, was killed or stopped "
                    f"calling collectives (e.g. it ran fewer steps). Stopping this rank.")
            time.sleep(pause)
            # After one yield (sleep(0)), sleeps from FIRST_PAUSE doubling up to the policy's
            # maximum: a long wait costs few polls, a peer arriving is noticed soon.
            pause = min(max_pause, pause * 2 or FIRST_PAUSE)

    def __repr__(self):
        return f"MPICommunicator(rank={self.rank}, size={self.size})"


class WaitPolicy:
    """How a rank polls an unfinished collective: `spin_seconds` of polling without
    sleeping, then sleeps between polls growing up to `max_pause` seconds.

    >>> WaitPolicy.for_local_ranks(2, cores=2)
    WaitPolicy(spin_seconds=0.0005, max_pause=0.0005)
    >>> WaitPolicy.for_local_ranks(4, cores=2)
    WaitPolicy(spin_seconds=0, max_pause=0.002)
    """

    def __init__(self, spin_seconds, max_pause):
        self.spin_seconds = spin_seconds
        self.max_pause = max_pause

    @classmethod
    def for_local_ranks(cls, ranks, cores=None):
        """The policy for `ranks` ranks on this machine of `cores` cores (`os.cpu_count()`
        when None, as `_share_cores` counts them; not this process's affinity, which is one
        core for a rank that mpirun binds to its own): spinning first only when each rank
        has a core of its own."""
        if cores is None:
            cores = os.cpu_count() or 1
        if ranks <= cores:
            return cls(SPIN_SECONDS, MAX_PAUSE_OWN_CORE)
        return cls(0.0, MAX_PAUSE_SHARED_CORES)

    def __repr__(self):
        return f"WaitPolicy(spin_seconds={self.spin_seconds:g}, max_pause={self.max_pause:g})"


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


def _yield_core():
    """Lets another runnable thread or process have this core, if one waits for it."""
    if hasattr(os, "sched_yield"):
        os.sched_yield()


def local_ranks():
    """How many ranks of the job run on this machine, as the launcher says (Open MPI,
    Intel MPI/MPICH); 1 when it does not say."""
    local = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS")
    return int(local) if local and local.isdigit() and int(local) > 0 else 1


def _share_cores():
    """Gives each rank on this machine its share of the cores for BLAS and for the batch
    splits of `backend/threads.py` (both follow `blas.limit_threads`): ranks whose threads
    outnumber the cores spin against each other. Two ranks on two cores run one thread
    each: a rank owns one core."""
    local = local_ranks()
    if local > 1:
        from numpyflow.backend import blas
        blas.limit_threads((os.cpu_count() or 1) // local)


def import_mpi(ring=False):
    """`mpi4py.MPI`, or an ImportError that says how to install it.

    Args:
      ring: Whether to ask Open MPI for the ring algorithm of its non-blocking all-reduce
        (`RING_ALGORITHM_VARIABLE`), when MPI starts now (this import) and the environment
        does not already say which algorithm. Other MPI libraries ignore the setting.
    """
    if ring and "mpi4py.MPI" not in sys.modules:
        os.environ.setdefault(RING_ALGORITHM_VARIABLE, RING_ALGORITHM)
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
