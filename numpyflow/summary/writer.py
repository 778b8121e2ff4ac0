"""Summary writers and the per-thread default writer, step and recording condition.

`create_file_writer` opens an event file that TensorBoard reads; `writer.as_default()`
makes it the target of `tf.summary.scalar` and friends in this thread, as in TF 2 (where
the default writer and step also live in the thread's eager context).
"""

import contextlib
import os
import threading
import time
import weakref

import numpy as np

from numpyflow.summary import _tensorboard

# TF 2's defaults for `create_file_writer`.
DEFAULT_MAX_QUEUE = 10
DEFAULT_FLUSH_MILLIS = 120_000
DEFAULT_FILENAME_SUFFIX = ".v2"


class _ThreadState(threading.local):
    """What `tf.summary` writes to in this thread: a writer, a step, a recording condition."""

    def __init__(self):
        self.writer = None
        self.step = None
        self.record_if = True


_state = _ThreadState()


def _as_python(value):
    """A Tensor, Variable or NumPy value as a plain NumPy value."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def resolve_step(step):
    """`step`, or the default step, as an int; raises ValueError when neither is set."""
    if step is None:
        step = _state.step
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument "
                         "or through tf.summary.experimental.set_step()")
    value = _as_python(step)
    if value.shape != () or value.dtype.kind not in "iu":
        raise ValueError(f"A summary step must be a scalar integer; received step={step!r}.")
    return int(value)


class SummaryWriter:
    """Base class of summary writers; see `create_file_writer`."""

    def as_default(self, step=None):
        """A context manager that makes this writer the default in this thread.

        Args:
          step: If given, the default step inside the context (an int or an integer
            Variable, read when each summary is written); the previous one is restored
            on exit.

        The writer is flushed when the context exits, as TF 2 does.
        """
        self._check_open()
        return self._default_context(step)

    @contextlib.contextmanager
    def _default_context(self, step):
        previous = (_state.writer, _state.step)
        _state.writer = self
        if step is not None:
            _state.step = step
        try:
            yield self
        finally:
            _state.writer, _state.step = previous
            self.flush()

    def set_as_default(self, step=None):
        """Makes this writer the default in this thread until another one is set."""
        self._check_open()
        _state.writer = self
        if step is not None:
            _state.step = step

    def _check_open(self):
        pass

    def init(self):
        """Does nothing: the writer is ready when created (TF 2 API compatibility)."""

    def flush(self):
        """Writes pending events to disk."""

    def close(self):
        """Flushes and closes the writer."""

    def write_summary(self, summary, step):
        """Writes a TensorBoard `Summary` proto at `step`; returns whether it was written."""
        return False


class NoopSummaryWriter(SummaryWriter):
    """A writer that writes nothing; summaries under it return False."""


class FileSummaryWriter(SummaryWriter):
    """Writes summaries to an event file under `logdir` with TensorBoard's own writer.

    >>> writer = create_file_writer("/tmp/logs")  # doctest: +SKIP
    """

    def __init__(self, logdir, max_queue, flush_millis, filename_suffix, name):
        event_file_writer = _tensorboard.load("summary.writer.event_file_writer")
        self._event_pb2 = _tensorboard.load("compat.proto.event_pb2")
        self.logdir = logdir
        self.name = name
        self._closed = False
        # TensorBoard's writer names the file events.out.tfevents.<time>.<host>.<pid>.<n>
        # and adds the suffix, so with ".v2" the name is the one TF 2 gives its files.
        self._writer = event_file_writer.EventFileWriter(
            logdir, max_queue_size=max_queue, flush_secs=flush_millis / 1000.,
            filename_suffix=filename_suffix)
        # Pending events reach the disk even if the user never calls close().
        self._finalizer = weakref.finalize(self, self._writer.close)

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<FileSummaryWriter logdir={self.logdir!r} ({state})>"

    def _check_open(self):
        if self._closed:
            raise RuntimeError(f"The SummaryWriter for logdir {self.logdir!r} is already "
                               "closed; create a new one with tf.summary.create_file_writer.")

    def write_summary(self, summary, step):
        self._check_open()
        event = self._event_pb2.Event(wall_time=time.time(), step=step, summary=summary)
        self._writer.add_event(event)
        return True

    def flush(self):
        if not self._closed:
            self._writer.flush()

    def close(self):
        if not self._closed:
            self._closed = True
            self._finalizer()  # Closes the event file now, once.


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None):
    """Creates a summary writer for an event file in `logdir` (created if missing).

    Args:
      logdir: The directory to write the event file to. `None` gives a no-op writer.
      max_queue: Events kept in memory before a flush (default 10).
      flush_millis: Longest time between flushes, in milliseconds (default 120000).
      filename_suffix: Added to the event file's name (default ".v2").
      name: A name for the writer, kept as `writer.name` (TF uses it to name its op).

    Returns:
      A `SummaryWriter`.

    Example:

    >>> import numpyflow as tf
    >>> writer = tf.summary.create_file_writer("/tmp/logs")  # doctest: +SKIP
    >>> with writer.as_default(step=0):  # doctest: +SKIP
    ...     tf.summary.scalar("loss", 0.5)
    True
    """
    if logdir is None:
        return NoopSummaryWriter()
    logdir = os.fspath(logdir)
    if not isinstance(logdir, str) or not logdir:
        raise ValueError(f"create_file_writer: logdir must be a non-empty path; received "
                         f"logdir={logdir!r}.")
    max_queue = DEFAULT_MAX_QUEUE if max_queue is None else max_queue
    flush_millis = DEFAULT_FLUSH_MILLIS if flush_millis is None else flush_millis
    if isinstance(max_queue, bool) or not isinstance(max_queue, (int, np.integer)) or max_queue < 0:
        raise ValueError(f"create_file_writer: max_queue must be an int >= 0; received "
                         f"max_queue={max_queue!r}.")
    if isinstance(flush_millis, bool) or not isinstance(flush_millis, (int, float, np.number)) \
            or flush_millis <= 0:
        raise ValueError(f"create_file_writer: flush_millis must be a positive number of "
                         f"milliseconds; received flush_millis={flush_millis!r}.")
    suffix = DEFAULT_FILENAME_SUFFIX if filename_suffix is None else filename_suffix
    if not isinstance(suffix, str) or os.sep in suffix:
        raise ValueError(f"create_file_writer: filename_suffix must be a string without "
                         f"{os.sep!r}; received filename_suffix={filename_suffix!r}.")
    return FileSummaryWriter(logdir, int(max_queue), float(flush_millis), suffix, name)


def create_noop_writer():
    """A writer that writes nothing, for code that always wants a writer.

    >>> import numpyflow as tf
    >>> with tf.summary.create_noop_writer().as_default(step=0):
    ...     tf.summary.scalar("loss", 0.5)
    False
    """
    return NoopSummaryWriter()


def flush(writer=None, name=None):
    """Flushes `writer`, or the default writer when None."""
    del name  # TF names its op with it; there is no op here.
    writer = _state.writer if writer is None else writer
    if writer is not None:
        writer.flush()


@contextlib.contextmanager
def record_if(condition):
    """Records summaries in this thread only where `condition` holds.

    Args:
      condition: A bool, or a callable returning one (checked at each summary).

    >>> import numpyflow as tf
    >>> with tf.summary.create_noop_writer().as_default(step=0), tf.summary.record_if(False):
    ...     tf.summary.scalar("loss", 0.5)
    False
    """
    previous = _state.record_if
    _state.record_if = condition
    try:
        yield
    finally:
        _state.record_if = previous


def should_record_summaries():
    """Whether a summary written now would be recorded: a writer is set and the
    `record_if` condition holds."""
    if _state.writer is None or isinstance(_state.writer, NoopSummaryWriter):
        return False
    condition = _state.record_if
    if callable(condition):
        condition = condition()
    return bool(_as_python(condition))


def default_writer():
    """The default writer of this thread, or None."""
    return _state.writer


def set_step(step):
    """Sets the default step for summaries in this thread (see `tf.summary.experimental`)."""
    _state.step = step


def get_step():
    """The default step in this thread, as it was set (an int, a Variable or None)."""
    return _state.step
