"""`GradientTape`: records ops on watched tensors and computes gradients in reverse."""

import contextlib
import enum
import logging
import threading

import numpy as np

from numpyflow.framework import nest, primitive
from numpyflow.framework.tensor import Tensor, convert_to_tensor

_log = logging.getLogger("numpyflow")


# -- which tapes record: per thread, as in TF ----------------------------------------------

class _ThreadTapes(threading.local):
    """The tapes inside their `with` block in the current thread, innermost last."""

    def __init__(self):
        self.stack = []


_thread_tapes = _ThreadTapes()


def recording_tapes():
    """The tapes recording in the current thread right now (not paused), innermost last.

    A tape records only the ops of the thread that entered it.
    """
    return [tape for tape in _thread_tapes.stack if not tape._paused]


def is_recording():
    """Whether some tape of the current thread records the ops run now.

    Code with a fast path that a tape could not differentiate (a gradient rule's NumPy
    shortcut, a compiled `tf.function` plan) takes it only when this is False.
    """
    return any(not tape._paused for tape in _thread_tapes.stack)


def _push(tape):
    _thread_tapes.stack.append(tape)
    primitive.open_tapes.append(tape)  # list.append/remove are atomic: no lock needed.


def _pop(tape):
    stack = _thread_tapes.stack
    if stack and stack[-1] is tape:  # The usual case: tapes exit innermost first.
        stack.pop()
    elif any(t is tape for t in stack):
        stack.remove(tape)
    else:
        raise RuntimeError("A GradientTape must be exited in the thread that entered it.")
    primitive.open_tapes.remove(tape)


def _record(op, inputs, output, attrs, saved):
    """Records one op on each of this thread's recording tapes that watches an input."""
    node = None
    for tape in _thread_tapes.stack:
        if tape._paused:
            continue
        watched = tape._watched_ids
        hit = False
        for x in inputs:
            if id(x) in watched:
                hit = True
            elif x._auto_watch and tape._watch_accessed_variables:
                tape._watch_one(x)
                hit = True
        if not hit:
            continue
        if node is None:
            node = primitive.Node(op, inputs, output, attrs, saved)
        watched.add(id(output))
        tape._nodes.append(node)


primitive.record_on_tapes = _record


class UnconnectedGradients(enum.Enum):
    """What `gradient()` returns for a source the target does not depend on."""
    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Records operations for automatic differentiation.

    Ops run inside the `with` block, in the thread that entered it, are recorded when one
    of their inputs is watched:
    tensors passed to `watch()`, trainable Variables read inside the block (unless
    `watch_accessed_variables=False`), and every tensor computed from those.

    Args:
      persistent: If True, `gradient()` may be called more than once.
      watch_accessed_variables: Watch trainable Variables automatically when read.

    >>> import numpyflow as tf
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> float(tape.gradient(y, x))
    6.0
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._nodes = []
        self._watched_ids = set()
        self._watched = []          # Keeps watched tensors alive so their ids stay unique.
        self._paused = 0
        self._recording = False
        self._used = False

    # -- recording ------------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError("Tape is still recording; a GradientTape cannot be entered twice "
                             "at the same time.")
        _push(self)
        self._recording = True
        return self

    def __exit__(self, exc_type, exc, traceback):
        _pop(self)
        self._recording = False
        return False

    def watch(self, tensor):
        """Ensures `tensor` (a Tensor, Variable, or nested structure of them) is traced."""
        for item in nest.flatten(tensor):
            if not isinstance(item, Tensor):
                raise ValueError(f"GradientTape.watch expects Tensors or Variables; received "
                                 f"{type(item).__name__}: {item!r}.")
            if item._value.dtype.kind != "f":
                _log.warning("The dtype of the watched tensor must be floating (e.g. "
                             "tf.float32), got %s", item.dtype.name)
                continue
            self._watch_one(item)

    def _watch_one(self, tensor):
        if id(tensor) not in self._watched_ids:
            self._watched_ids.add(id(tensor))
            self._watched.append(tensor)

    def watched_variables(self):
        """The Variables this tape watches, in the order they were first watched."""
        from numpyflow.framework.variable import Variable
        return tuple(t for t in self._watched if isinstance(t, Variable))

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stops recording: ops run inside this block are not differentiated."""
        if not self._recording:
            raise RuntimeError("Tape.stop_recording() is only valid when the tape is "
                               "recording (inside its `with` block).")
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def reset(self):
        """Clears everything recorded so far (the tape stays active)."""
        self._nodes = []
        self._watched_ids = set()
        self._watched = []

    # -- differentiation ------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """Computes the gradient of `target` with respect to `sources`.

        Args:
          target: A Tensor, or a list of Tensors whose gradients are summed.
          sources: A Tensor/Variable or a nested structure of them.
          output_gradients: Optional upstream gradients, one per target (default: ones).
          unconnected_gradients: `UnconnectedGradients.NONE` (or "none") returns None for
            sources the target does not depend on; `ZERO` (or "zero") returns zeros.

        Returns:
          Gradients in the structure of `sources`.
        """
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians)")
        unconnected = UnconnectedGradients(getattr(unconnected_gradients, "value",
                                                   unconnected_gradients))
        flat_sources = nest.flatten(sources)
        for source in flat_sources:
            if not isinstance(source, Tensor):
                raise ValueError(f"GradientTape.gradient: sources must be Tensors or Variables; "
                                 f"received {type(source).__name__}.")
        targets = nest.flatten(target)
        seeds = self._seed_gradients(targets, output_gradients)

        self._paused += 1  # Gradient ops must not be recorded onto the tape being walked.
        try:
            grads = self._backward(seeds, flat_sources)
        finally:
            self._paused -= 1
        if not self._persistent:
            self._used = True
            self._nodes = []  # Frees the recorded intermediates.

        results = []
        for source in flat_sources:
            grad = grads.get(id(source))
            if grad is None and unconnected is UnconnectedGradients.ZERO:
                grad = Tensor(np.zeros_like(source._value))
            results.append(grad)
        return nest.pack_sequence_as(sources, results)

    @staticmethod
    def _seed_gradients(targets, output_gradients):
        if output_gradients is None:
            output_gradients = [None] * len(targets)
        else:
            output_gradients = nest.flatten(output_gradients)
            if len(output_gradients) != len(targets):
                raise ValueError(f"GradientTape.gradient: {len(targets)} targets but "
                                 f"{len(output_gradients)} output_gradients.")
        seeds = []
        for t, upstream in zip(targets, output_gradients):
            if not isinstance(t, Tensor):
                raise ValueError(f"GradientTape.gradient: target must be a Tensor; received "
                                 f"{type(t).__name__}.")
            if upstream is None:
                upstream = Tensor(np.ones_like(t._value))
            else:
                upstream = convert_to_tensor(upstream, dtype=t.dtype)
                if upstream._value.shape != t._value.shape:
                    raise ValueError(f"GradientTape.gradient: output_gradients of shape "
                                     f"{list(upstream._value.shape)} do not match their target "
                                     f"of shape {list(t._value.shape)}.")
            seeds.append((t, upstream))
        return seeds

    def _backward(self, seeds, flat_sources):
        # Recorded order is execution order, hence a topological order: walking it
        # backwards visits every node after all nodes that consumed its output.
        # Only sources this tape watched (or computed from watched tensors) get gradients.
        source_ids = {id(s) for s in flat_sources if id(s) in self._watched_ids}
        reaches_source = set(source_ids)
        relevant = []
        for node in self._nodes:
            for x in node.inputs:
                if id(x) in reaches_source:
                    reaches_source.add(id(node.output))
                    relevant.append(node)
                    break

        grads = {}
        for t, upstream in seeds:
            if t._value.dtype.kind == "f":
                _accumulate(grads, id(t), upstream)

        for node in reversed(relevant):
            out_id = id(node.output)
            upstream = grads.get(out_id) if out_id in source_ids else grads.pop(out_id, None)
            if upstream is None:
                continue
            node.needs = tuple(id(x) in reaches_source and x._value.dtype.kind == "f"
                               for x in node.inputs)
            input_grads = node.primitive.gradient(node, upstream)
            for x, grad, needed in zip(node.inputs, input_grads, node.needs):
                if grad is None or not needed:
                    continue
                if grad._value.shape != x._value.shape:
                    grad = _unbroadcast(grad, x._value.shape)
                _accumulate(grads, id(x), grad)
        return grads


def _accumulate(grads, key, grad):
    """Sums gradients arriving at one tensor along different paths (fan-out)."""
    previous = grads.get(key)
    grads[key] = grad if previous is None else primitive.get_primitive("AddV2")(previous, grad)


def _unbroadcast(grad, shape):
    """Sums a gradient in a broadcast shape back to the shape of the input it belongs to."""
    grad_shape = grad._value.shape
    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, dim in enumerate(shape) if dim == 1 and grad_shape[lead + i] != 1)
    if axes:
        grad = primitive.get_primitive("Sum")(grad, axis=axes, keepdims=False)
    if grad._value.shape != tuple(shape):
        grad = primitive.get_primitive("Reshape")(grad, shape=tuple(shape))
    return grad
