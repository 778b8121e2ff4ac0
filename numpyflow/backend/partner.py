"""A partner process: the second core for loops that must stay in Python.

A recurrence's loop over time makes ~15 small NumPy calls per step. Split by batch rows
across two *threads*, the halves' Python and their many GIL hand-offs serialize (the
batch-32 LSTM ran slower split than whole, see `numpy/recurrence.py`). A second *process*
has its own interpreter: each half of the batch runs its whole time loop on its own core,
and the two meet once per kernel call. Measured here, the 16-row LSTM(128) forward step
takes 41 us in each of two processes at once, against 75 us for the 32-row step in one.

Pieces:
- `SharedArena`: NumPy arrays in shared memory (memfd slabs, mapped in both processes).
  A kernel that splits allocates every array either process reads or writes here; an
  array's block returns to the arena's free lists when the array is garbage collected.
- `Partner`: the process (started on first use, from `partner()`), and `run_split`: one
  task over two row ranges, one here and one there. Tasks are module-level functions
  marked with `@task`; commands name them (module and function, only numpyflow's),
  with the arrays as (slab, offset, shape, strides, dtype) and plain-Python options.

Claiming: before each command, this process puts its sequence number (the task's token)
in a pipe both processes read. Whoever reads it runs the partner's rows. So when the
partner is late (no free core, another program busy), this process takes its rows back
after running its own, and never waits on a process that has not started the work; if
the partner dies mid-task, the socket's end of file says so and the rows are computed
here. Results never depend on which process ran a task (the same code on the same
library, one BLAS thread each).

Not on platforms without memfd (macOS, Windows), with one core (`threads.cores()`, which
`tf.config.threading.set_intra_op_parallelism_threads(1)` and MPI ranks lower to 1), in
frozen applications, where no process can start, or with NUMPYFLOW_PARTNER=0 in the
environment: kernels then run as before (threads).

Example:
    >>> helper = partner()            # None until the process is up (or not available)
    >>> if helper is not None:
    ...     out = helper.arena.empty((32, 128), "float32")
"""

import math
import os
import sys
import threading
import time

import numpy as np

from numpyflow.backend import blas, threads

SLAB_BYTES = 32 * 2 ** 20
ALIGN = 64
MESSAGE_BYTES = 1 << 16  # The largest command (a few hundred bytes in practice).
# This process spins this long for the partner's reply before blocking on the socket
# (a blocked process wakes ~20-100 us late on a VM); the partner spins this long for the
# next command after finishing a task (in the LSTM benchmark's training step the next
# recurrence call comes 0.2-0.8 ms later; longer spins would hold a core that the
# thread pool's splits of other layers may want).
WAIT_SPIN_S = 0.002
PARTNER_SPIN_S = 0.001
# A partner that neither replies nor dies within this long is stopped, its rows computed
# here, and no partner is used by this process again.
REPLY_TIMEOUT_S = 60.0
MAX_COMMANDS = 64  # Commands the partner keeps with their arrays built (see `serve`).
START_TIMEOUT_S = 60.0


def task(fn):
    """Marks a module-level function as runnable by the partner: fn(arrays, options, *rows),
    `arrays` a dict of shared arrays, `options` plain Python values, `rows` the run of batch
    rows (lo, hi, ...) that one process computes. It writes into the arrays only: the
    partner hands a repeated command the same `arrays` and `options` objects again."""
    fn.partner_task = True
    return fn


# -- shared memory ----------------------------------------------------------------------------

class _Slab:
    def __init__(self, index, size):
        import mmap
        self.index, self.size = index, size
        self.fd = os.memfd_create(f"numpyflow-arena-{index}", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)
        self.bytes = np.frombuffer(self.map, dtype=np.uint8)
        self.base = self.bytes.ctypes.data
        self.used = 0


class SharedArena:
    """Arrays in shared memory: `empty`, `owns`, `describe`. Blocks are reused by exact
    (aligned) size: a training step allocates the same shapes every step. Memory stays
    mapped for the process's life (reused, never returned to the OS)."""

    def __init__(self):
        self.slabs = []
        self._free = {}  # aligned size -> [(slab, offset)]
        self._lock = threading.Lock()  # Finalizers may run on any thread.

    def empty(self, shape, dtype):
        """An uninitialized array of `shape` (a tuple) and `dtype` in shared memory."""
        dtype = np.dtype(dtype)
        size = max(ALIGN, -(-math.prod(shape) * dtype.itemsize // ALIGN) * ALIGN)
        with self._lock:
            free = self._free.get(size)
            slab, offset = free.pop() if free else self._carve(size)
        return np.asarray(_Block(self, slab, offset, size, shape, dtype))

    def _carve(self, size):
        slab = self.slabs[-1] if self.slabs else None
        if slab is None or slab.used + size > slab.size:
            slab = _Slab(len(self.slabs), max(SLAB_BYTES, size))
            self.slabs.append(slab)
        offset, slab.used = slab.used, slab.used + size
        return slab, offset

    def _release(self, size, slab, offset):
        with self._lock:
            self._free.setdefault(size, []).append((slab, offset))

    def _find(self, array):
        address = array.__array_interface__["data"][0]
        for slab in self.slabs:
            if slab.base <= address < slab.base + slab.size:
                return slab, address - slab.base
        return None, None

    def owns(self, array):
        """Whether `array`'s data lies in this arena."""
        return array is not None and self._find(array)[0] is not None

    def describe(self, array):
        """(slab index, offset, shape, strides, dtype) of an array in this arena."""
        block = array.base
        if type(block) is _Block and block._arena is self:
            # A block's own array (not a view): its data starts at the block. Asking NumPy
            # for an array's address costs ~2 us, a few per command.
            return block._slab.index, block._offset, array.shape, array.strides, array.dtype.str
        slab, offset = self._find(array)
        if slab is None:
            raise ValueError("partner: an array handed to the partner process is not in "
                             "shared memory (allocate it with arena.empty).")
        return slab.index, offset, array.shape, array.strides, array.dtype.str


class _Block:
    """One block of a slab, as the base object of the arrays made from it (NumPy keeps an
    array's non-array base alive through every view): it goes back to the arena's free
    lists when the last of them is gone."""

    def __init__(self, arena, slab, offset, size, shape, dtype):
        self._arena, self._slab, self._offset, self._size = arena, slab, offset, size
        self.__array_interface__ = {"data": (slab.base + offset, False), "shape": shape,
                                    "typestr": dtype.str, "version": 3}

    def __del__(self):
        self._arena._release(self._size, self._slab, self._offset)


def _rebuild(maps, description):
    index, offset, shape, strides, dtype = description
    return np.ndarray(shape, dtype=np.dtype(dtype), buffer=maps[index], offset=offset,
                      strides=strides)


# -- the process -----------------------------------------------------------------------------

class Partner:
    """The partner process and its channels (see the module docstring)."""

    def __init__(self):
        import socket
        import subprocess
        self.arena = SharedArena()
        self._sent_slabs = 0
        self._seq = 0
        self.alive = True
        self.ready = False
        self._in_use = threading.Lock()
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._claim_read, self._claim_write = os.pipe()
        os.set_blocking(self._claim_read, False)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", NUMPYFLOW_PARTNER="0",
                   PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        fds = (theirs.fileno(), self._claim_read)
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from numpyflow.backend.partner import serve; "
             f"serve({fds[0]}, {fds[1]})"], pass_fds=fds, env=env, stdin=subprocess.DEVNULL)
        theirs.close()
        self._started = time.monotonic()

    def check_ready(self):
        """Whether the process has started (non-blocking: it imports NumPy first)."""
        if self.ready or not self.alive:
            return self.ready
        import socket
        try:
            hello = self._socket.recv(16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            if time.monotonic() - self._started > START_TIMEOUT_S:
                self.close()
            return False
        if hello != b"R":
            self.close()
            return False
        self.ready = True
        return True

    def run_split(self, fn, arrays, options, here, there, local=None):
        """fn(arrays, options, *here) in this process and fn(arrays, options, *there) in
        the partner's, at the same time; returns when both are done. Every array must be
        in `self.arena`, except those of `local`: arrays only this process has (never
        sent), added to `arrays` where the rows run here. If the partner is late, `there`
        runs here after `here` (`fn` must compute the same for `there` either way)."""
        # One BLAS thread here too: an idle OpenBLAS worker spins on the core the partner
        # needs (measured: both processes then shared one core, serially).
        blas.use_threads_for(0)
        # One split at a time (the protocol keeps one token in the pipe): a second Python
        # thread running a recurrence meanwhile computes both of its halves itself.
        mine = {**arrays, **local} if local else arrays
        if not self._in_use.acquire(blocking=False):
            fn(mine, options, *here)
            fn(mine, options, *there)
            return
        try:
            self._run_split(fn, arrays, mine, options, here, there)
        finally:
            self._in_use.release()

    def _run_split(self, fn, arrays, mine, options, here, there):
        try:
            seq = self._send(fn, arrays, options, there)
        except OSError:  # The partner is gone (its socket closed).
            self.close()
            fn(mine, options, *here)
            fn(mine, options, *there)
            return
        try:
            fn(mine, options, *here)
            partner_ran = not self._claim(seq) and self._await(seq)
        except BaseException:
            # Stopped mid-task, the partner cannot write into buffers that the caller's
            # unwinding frees (and this process may reuse).
            self.close()
            raise
        if not partner_ran:
            fn(mine, options, *there)

    def _send(self, fn, arrays, options, rows):
        import pickle
        import socket
        while self._sent_slabs < len(self.arena.slabs):
            slab = self.arena.slabs[self._sent_slabs]
            socket.send_fds(self._socket, [b"S%d,%d" % (slab.index, slab.size)], [slab.fd])
            self._sent_slabs += 1
        self._seq += 1
        described = {name: self.arena.describe(a) for name, a in arrays.items()
                     if a is not None}
        command = pickle.dumps((fn.__module__, fn.__name__, described, options, rows),
                               protocol=pickle.HIGHEST_PROTOCOL)
        seq = self._seq.to_bytes(8, "little")
        # The token first: when the partner reads the command, its token is in the pipe
        # (or already taken back by this process).
        os.write(self._claim_write, seq)
        self._socket.send(b"C" + seq + command)
        return self._seq

    def _claim(self, seq):
        """Takes task `seq` back if the partner has not started it."""
        try:
            token = os.read(self._claim_read, 8)
        except BlockingIOError:
            return False
        return int.from_bytes(token, "little") == seq

    def _await(self, seq):
        """Waits for the partner's reply to `seq`: whether it ran the task (False: it
        failed or is gone, and the caller computes the rows)."""
        import select
        import socket
        spin_until = time.perf_counter() + WAIT_SPIN_S
        while True:
            try:
                reply = self._socket.recv(16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                if time.perf_counter() < spin_until:
                    continue
                if not select.select([self._socket], [], [], REPLY_TIMEOUT_S)[0]:
                    self.close()
                    return False
                continue
            except OSError:
                reply = b""
            if not reply:
                self.close()
                return False
            if int.from_bytes(reply[1:9], "little") == seq:
                return reply[:1] == b"D"

    def close(self):
        """Stops the process; this process's kernels run without a partner from now on."""
        if not self.alive:
            return
        self.alive = False
        try:
            self._socket.close()
        finally:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()


_lock = threading.Lock()
_partner = None
_partner_pid = None  # A forked child inherits the object but not the process: its own.
_available = None  # Whether this platform and environment allow a partner (checked once).


def _enabled():
    global _available
    if _available is None:
        import socket
        # A frozen application's executable is the application, not a Python to run -c.
        _available = (os.environ.get("NUMPYFLOW_PARTNER", "1") != "0" and bool(sys.executable)
                      and not getattr(sys, "frozen", False)
                      and hasattr(os, "memfd_create") and hasattr(socket, "send_fds"))
    return _available


def partner():
    """This process's partner when it is running and the machine has a core for it; else
    None (and it is started in the background on the first call that could use it)."""
    global _partner, _partner_pid, _available
    current = _partner
    if current is not None and current.ready and _partner_pid == os.getpid():
        return current if current.alive and threads.cores() > 1 else None
    if not _enabled() or threads.cores() < 2:
        return None
    with _lock:
        if _partner is None or _partner_pid != os.getpid():
            import atexit
            try:
                started = Partner()
            except OSError:  # No process can be started here (limits, sandboxes).
                _available = False
                return None
            _partner, _partner_pid = started, os.getpid()
            atexit.register(shutdown)  # Before the interpreter tears down its modules.
        current = _partner
    return current if current.alive and current.check_ready() else None


def shutdown():
    """Stops the partner process (the next call that could use one starts a new one)."""
    global _partner
    with _lock:
        current, _partner = _partner, None
    if current is not None and _partner_pid == os.getpid():
        current.close()


# -- the partner's side -------------------------------------------------------------------

def serve(socket_fd, claim_fd):
    """The partner process's loop: map slabs, run commands it holds the token for, reply."""
    import importlib
    import mmap
    import pickle
    import signal
    import socket
    # Ctrl-C in a terminal reaches the whole process group: the calling process handles it
    # (and closes the socket, which ends this loop).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    np.seterr(all="ignore")  # As the calling process's kernels (backend/quiet.py).
    sock = socket.socket(fileno=socket_fd)
    maps, owned = {}, None
    # Earlier commands, by their bytes, with their task and arrays: a training step's calls
    # get the same arena blocks each step (exact-size reuse), so the same commands come
    # again and again (unpickling one and building its arrays took ~13 us).
    commands = {}
    sock.send(b"R")
    while True:
        message, fds = _receive(sock)
        if not message:
            return  # The calling process closed its end (or exited).
        if message[:1] == b"S":
            index, size = (int(v) for v in message[1:].split(b","))
            maps[index] = mmap.mmap(fds[0], size)
            os.close(fds[0])
            continue
        seq, command = int.from_bytes(message[1:9], "little"), message[9:]
        if owned is not None and owned >= seq:
            run, owned = owned == seq, (None if owned == seq else owned)
        else:
            try:
                token = int.from_bytes(os.read(claim_fd, 8), "little")
            except BlockingIOError:
                token = None  # Taken back by the calling process.
            run = token == seq
            if token is not None and token > seq:
                owned = token  # A later task's: this one was taken back.
        if not run:
            continue
        status = b"D"
        try:
            known = commands.get(command)
            if known is None:
                module, name, described, options, rows = pickle.loads(command)
                if not module.startswith("numpyflow."):
                    raise ValueError(f"partner: not a numpyflow task: {module}.{name}")
                fn = getattr(importlib.import_module(module), name)
                if not getattr(fn, "partner_task", False):
                    raise ValueError(f"partner: not a partner task: {module}.{name}")
                arrays = {key: _rebuild(maps, d) for key, d in described.items()}
                if len(commands) >= MAX_COMMANDS:
                    commands.clear()
                known = commands[command] = fn, arrays, options, rows
            fn, arrays, options, rows = known
            fn(arrays, options, *rows)
        except Exception:  # The calling process recomputes the rows (and raises there).
            status = b"E"
        sock.send(status + seq.to_bytes(8, "little"))


def _receive(sock):
    """The next message and its file descriptors: spinning PARTNER_SPIN_S first. (The spin
    peeks: `socket.recv_fds` ignores its flags argument before Python 3.12.)"""
    import socket
    spin_until = time.perf_counter() + PARTNER_SPIN_S
    while time.perf_counter() < spin_until:
        try:
            sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            break
        except BlockingIOError:
            continue
    message, fds, _, _ = socket.recv_fds(sock, MESSAGE_BYTES, 4)
    return message, fds
