"""Threads for `Dataset.map`/`interleave(num_parallel_calls=...)` and `Dataset.prefetch`.

Both are generators that own their threads: closing the generator (a `for` loop that
breaks, an iterator that is garbage-collected, a KeyboardInterrupt in the consumer) stops
and joins every thread they started, so no thread outlives its iterator. An exception in
a worker travels to the consumer as the original exception object, traceback included.
"""

import collections
import concurrent.futures
import itertools
import queue
import threading
import time

from numpyflow.data.errors import ElementError

_POLL_S = 0.05  # How often a blocked producer checks whether it was asked to stop.


# Elements one worker maps per hand-off (see `parallel_map`): at most _MAX_CHUNK, and
# about _CHUNK_S seconds of work, so that slow elements still go one at a time.
_MAX_CHUNK = 16
_CHUNK_S = 0.002


class Autotune:
    """The parallelism of one `map(num_parallel_calls=tf.data.AUTOTUNE)`, tuned as it runs.

    Mapping functions made of numpyflow ops hold Python's GIL for most of their time, so
    more threads help only when a function spends long in code that releases it (Pillow
    decoding large images, NumPy on large arrays); otherwise they only add GIL hand-offs.
    As TF's autotuner, this measures instead of guessing: it starts with one call at a
    time (mapped in the consumer's own thread, see `parallel_map`) and adds a worker
    thread while the rate (elements per second) in each of `WINDOWS` windows of `WINDOW`
    elements (or `WINDOW_S` seconds, for slow elements) at the new level beats the best
    window of the previous level by at least `GAIN`, else it settles one level lower.
    Other processes on the machine only ever slow a window down: a busy machine keeps
    fewer threads, for which it has no free cores anyway. The level reached is kept for
    the dataset's later passes (epochs).

    Example:
        >>> tune = Autotune(4)
        >>> tune.parallelism
        1
    """

    WINDOW = 128
    WINDOW_S = 0.1
    WINDOWS = 2
    GAIN = 1.1

    def __init__(self, max_parallelism):
        self.max_parallelism = max(1, int(max_parallelism))
        self.parallelism = 1
        self.settled = self.max_parallelism == 1
        self._lock = threading.Lock()  # Two passes of one dataset may run at once.
        self._rates = {}  # level -> the rates of its windows so far

    def window(self):
        """A fresh measuring window for one pass (None once the level has settled)."""
        return None if self.settled else _Window()

    def record(self, window, count):
        """Counts `count` elements delivered; returns the parallelism to use now."""
        if window is None or self.settled:
            return self.parallelism
        rate = window.add(count, self.WINDOW, self.WINDOW_S)
        if rate is None:
            return self.parallelism
        with self._lock:
            if not self.settled:
                self._step(rate)
            return self.parallelism

    def _step(self, rate):
        level = self.parallelism
        rates = self._rates.setdefault(level, [])
        rates.append(rate)
        # Every window of the new level must beat the previous level's best: a window of
        # quick elements lasts milliseconds, and a chunk delivered early or late moves its
        # rate by a tenth, so one fast window is no evidence (a thread that does not pay
        # can halve the rate of a GIL-bound function). So one slow window settles it at
        # once, without measuring the level's other windows at the slower rate.
        if level > 1 and rate < self.GAIN * max(self._rates[level - 1]):
            self.parallelism, self.settled = level - 1, True
        elif len(rates) < self.WINDOWS:
            return
        elif level == self.max_parallelism:
            self.settled = True
        else:
            self.parallelism = level + 1


class _Window:
    """Counts elements from the first delivery on; a rate once `size` have come, or a few
    after `seconds`."""

    __slots__ = ("start", "count")

    def __init__(self):
        self.start = None
        self.count = 0

    def add(self, count, size, seconds):
        now = time.perf_counter()
        if self.start is None:  # Measured from the first delivery: skips the start-up.
            self.start = now
            return None
        self.count += count
        if self.count < size and (self.count < 4 or now - self.start < seconds):
            return None
        rate = self.count / max(now - self.start, 1e-9)
        self.start, self.count = now, 0
        return rate


class _Throttle:
    """Lets at most `limit` threads in at once; the limit may change while in use."""

    def __init__(self, limit):
        self._limit = limit
        self._active = 0
        self._changed = threading.Condition()

    def set_limit(self, limit):
        with self._changed:
            if limit != self._limit:
                self._limit = limit
                self._changed.notify_all()

    def __enter__(self):
        with self._changed:
            while self._active >= self._limit:
                self._changed.wait()
            self._active += 1

    def __exit__(self, *exc_info):
        with self._changed:
            self._active -= 1
            self._changed.notify()


def parallel_map(inputs, call, parallelism, deterministic):
    """Yields `call(element)` for each element of `inputs`, mapped on worker threads.

    Elements go to the workers in chunks: a hand-off between threads (a wake-up and a
    GIL switch each way) can cost more than mapping a small element, so a worker maps a
    run of consecutive elements per hand-off when they are quick: about `_CHUNK_S`
    seconds of work, at most `_MAX_CHUNK` elements, as measured so far in the pass (slow
    elements go one at a time). Chunks start at one element and at most double each
    time, so the first elements come without waiting for a whole chunk. One chunk more
    than there are workers is in flight, so a worker that finishes finds the next chunk
    waiting. Closing the generator stops each worker after its current element.

    With an `Autotune` at one call at a time, chunks are mapped in the consumer's own
    thread: a worker thread would then only add hand-offs, and each call that releases
    the GIL briefly (a file read, a decoder) would wait to take it back from the consumer.
    Worker threads start only once the tuner tries a second call at once.

    Args:
        inputs: An iterator of elements (read in the consumer's thread).
        call: The function; returns the mapped element, or an `ElementError`.
        parallelism: The number of worker threads (calls at once), or an `Autotune`.
        deterministic: If False, chunks come in the order they finish (each chunk's
            elements in their input order).

    Example:
        >>> list(parallel_map(iter([1, 2, 3]), lambda x: x * 10, 2, True))
        [10, 20, 30]
    """
    tune = parallelism if isinstance(parallelism, Autotune) else None
    workers = tune.max_parallelism if tune is not None else parallelism
    window = tune.window() if tune is not None else None
    level = tune.parallelism if tune is not None else parallelism
    throttle = _Throttle(level)
    stop = threading.Event()
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                     thread_name_prefix="numpyflow-data-map")
    in_flight = collections.deque()
    inputs_done = False
    chunk_size, element_s = 1, None  # element_s: the mean seconds of one call so far
    try:
        while True:
            inline = tune is not None and level == 1
            if inline and not in_flight:
                # One call at a time under AUTOTUNE: map the next chunk here (see above).
                chunk = list(itertools.islice(inputs, chunk_size))
                if not chunk:
                    return
                inputs_done = len(chunk) < chunk_size
                chunk_size = _next_chunk_size(chunk_size, element_s)
                results, seconds = _map_inline(call, chunk)
            else:
                # Settled back at one call at a time: let the chunks in flight drain.
                while not inputs_done and len(in_flight) <= level and not inline:
                    chunk = list(itertools.islice(inputs, chunk_size))
                    inputs_done = len(chunk) < chunk_size
                    if chunk:
                        in_flight.append(
                            executor.submit(_map_chunk, call, chunk, throttle, stop))
                    chunk_size = _next_chunk_size(chunk_size, element_s)
                if not in_flight:
                    return
                results, seconds = _finished_chunk(in_flight, deterministic)
            if seconds is not None and results:
                mean = seconds / len(results)
                element_s = mean if element_s is None else 0.5 * (element_s + mean)
            if tune is not None:
                level = tune.record(window, len(results))
                throttle.set_limit(level)
            yield from results
    finally:
        stop.set()
        for future in in_flight:
            future.cancel()
        throttle.set_limit(workers)  # Chunks waiting to start need not wait for a slot.
        executor.shutdown(wait=True, cancel_futures=True)


def _next_chunk_size(size, element_s):
    if element_s is None:
        return size
    fits = int(_CHUNK_S / element_s) if element_s > 0 else _MAX_CHUNK
    return max(1, min(2 * size, fits, _MAX_CHUNK))


def _finished_chunk(in_flight, deterministic):
    """Takes the next chunk to deliver from `in_flight`: (results, seconds spent mapping
    them), or ([ElementError], None) when the worker itself failed."""
    if deterministic:
        future = in_flight.popleft()
    else:
        finished, _ = concurrent.futures.wait(
            in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
        future = next(f for f in in_flight if f in finished)
        in_flight.remove(future)
    error = future.exception()
    if error is not None:
        return [ElementError(error)], None
    return future.result()


def _map_inline(call, chunk):
    """(results, seconds spent in `call`), mapped in the calling thread."""
    start = time.perf_counter()
    results = [element if isinstance(element, ElementError) else call(element)
               for element in chunk]
    return results, time.perf_counter() - start


def _map_chunk(call, chunk, throttle, stop):
    """(results, seconds spent in `call`); stops early once `stop` is set."""
    with throttle:
        start = time.perf_counter()
        results = []
        for element in chunk:
            if stop.is_set():
                break
            # Errors read from the inputs pass through in place; `call` returns its own.
            results.append(element if isinstance(element, ElementError) else call(element))
        return results, time.perf_counter() - start


_END = object()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error


def prefetch(inputs, buffer_size, on_start=None):
    """Yields the elements of `inputs`, read ahead by one thread into a bounded queue.

    Args:
        inputs: An iterator (advanced only by the prefetch thread, and closed by it).
        buffer_size: The most elements read ahead.
        on_start: Optional function the thread calls first (to copy thread-local state).

    Example:
        >>> list(prefetch(iter(range(5)), 2))
        [0, 1, 2, 3, 4]
    """
    buffer = queue.Queue(maxsize=max(1, int(buffer_size)))
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                buffer.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            if on_start is not None:
                on_start()
            for element in inputs:
                if not put(element):
                    return
            put(_END)
        except BaseException as error:  # noqa: B902 - handed to the consumer
            put(_Failure(error))
        finally:
            close = getattr(inputs, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="numpyflow-data-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                buffer.get(timeout=_POLL_S)
            except queue.Empty:
                pass
        thread.join()


class BackgroundReader:
    """An iterator read ahead by its own thread from the moment it is built (for the inner
    datasets of a parallel `interleave`).

    At most `buffer_size` elements wait in its queue; `gate` (a semaphore shared by the
    readers of one interleave) bounds how many `next` calls run at once. `close()` stops
    and joins the thread; an exception in the thread is raised by `__next__`.

    Example:
        >>> reader = BackgroundReader(iter(range(3)), 2, threading.Semaphore(1))
        >>> list(reader)
        [0, 1, 2]
    """

    def __init__(self, inputs, buffer_size, gate, on_start=None):
        self._buffer = queue.Queue(maxsize=max(1, int(buffer_size)))
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._produce, args=(inputs, gate, on_start),
                                        name="numpyflow-data-interleave", daemon=True)
        self._thread.start()

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._buffer.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, inputs, gate, on_start):
        try:
            if on_start is not None:
                on_start()
            while not self._stop.is_set():
                with gate:
                    try:
                        element = next(inputs)
                    except StopIteration:
                        break
                if not self._put(element):
                    return
            self._put(_END)
        except BaseException as error:  # noqa: B902 - handed to the consumer
            self._put(_Failure(error))
        finally:
            close = getattr(inputs, "close", None)
            if close is not None:
                close()

    def ready(self):
        """Whether `next` would return without waiting."""
        return self._done or not self._buffer.empty()

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        item = self._buffer.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failure):
            self._done = True
            raise item.error
        return item

    def close(self):
        """Stops the thread (after the element it is reading) and joins it."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._buffer.get(timeout=_POLL_S)
            except queue.Empty:
                pass
        self._thread.join()
        self._done = True
