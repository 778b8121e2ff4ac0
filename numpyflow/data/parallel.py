"""Threads for `Dataset.map`/`interleave(num_parallel_calls=...)` and `Dataset.prefetch`.

Both are generators that own their threads: closing the generator (a `for` loop that
breaks, an iterator that is garbage-collected, a KeyboardInterrupt in the consumer) stops
and joins every thread they started, so no thread outlives its iterator. An exception in
a worker travels to the consumer as the original exception object, traceback included.
"""

import collections
import concurrent.futures
import queue
import threading

from numpyflow.data.errors import ElementError

_POLL_S = 0.05  # How often a blocked producer checks whether it was asked to stop.


def parallel_map(inputs, call, parallelism, deterministic):
    """Yields `call(element)` for each element of `inputs`, `parallelism` calls at a time.

    Args:
        inputs: An iterator of elements (read in the consumer's thread).
        call: The function; returns the mapped element, or an `ElementError`.
        parallelism: The number of worker threads and of elements in flight.
        deterministic: If False, results come in the order they finish.

    Example:
        >>> list(parallel_map(iter([1, 2, 3]), lambda x: x * 10, 2, True))
        [10, 20, 30]
    """
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=parallelism,
                                                     thread_name_prefix="numpyflow-data-map")
    in_flight = collections.deque()
    inputs_done = False
    try:
        while True:
            while not inputs_done and len(in_flight) < parallelism:
                try:
                    element = next(inputs)
                except StopIteration:
                    inputs_done = True
                    break
                if isinstance(element, ElementError):
                    done = concurrent.futures.Future()
                    done.set_result(element)
                    in_flight.append(done)
                else:
                    in_flight.append(executor.submit(call, element))
            if not in_flight:
                return
            if deterministic:
                future = in_flight.popleft()
            else:
                finished, _ = concurrent.futures.wait(
                    in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                future = next(f for f in in_flight if f in finished)
                in_flight.remove(future)
            error = future.exception()
            yield ElementError(error) if error is not None else future.result()
    finally:
        for future in in_flight:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


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
