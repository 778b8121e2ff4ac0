"""Collective ops: the all-reduce across replicas, as a primitive the tape and plans know.

`CollectiveReduceV2` (TF's name) reduces one array over every replica of a communicator
(`numpyflow/distribute/communicator.py`). It is a primitive like any other, so a
`tf.function` trace records it as one line of the plan: a compiled training step keeps
its all-reduce, in the order the trace saw it. It is `stateful` (a plan never folds it
into a constant, and keeps it in order among the stateful ops) and not `infallible` (a
peer may fail), so no Variable is updated in place before it has run.

`all_reduce(tensors, ...)` is what strategies and optimizers call: it packs the tensors
of each dtype into ONE contiguous buffer, all-reduces each buffer once, and cuts the
result back into tensors of the original shapes, so a step makes one collective call
(per dtype), never one per variable.

    >>> from numpyflow.distribute.communicator import SingleProcessCommunicator
    >>> import numpyflow as tf
    >>> a, b = all_reduce([tf.ones((2, 2)), tf.zeros(3)], SingleProcessCommunicator())
    >>> a.shape, b.shape
    (TensorShape([2, 2]), TensorShape([3]))
"""

from numpyflow.framework.primitive import Primitive
from numpyflow.ops import array_ops
from numpyflow.ops._convert import tensor

# TF's merge_op/final_op attributes -> the communicator's reduction.
_REDUCTIONS = {("Add", "Id"): "sum", ("Add", "Div"): "mean", ("Max", "Id"): "max",
               ("Min", "Id"): "min"}


def _collective_reduce(buffer, *, communicator, merge_op, final_op):
    return communicator.allreduce(buffer, _REDUCTIONS[merge_op, final_op])


def _collective_reduce_grad(node, upstream):
    # Each replica's output is the reduction of every replica's input: a replica's input
    # reaches every output, so its gradient gathers every replica's upstream gradient
    # (the same all-reduce again, as TF's collective gradient). Max/min have no gradient.
    attrs = node.attrs
    if attrs["merge_op"] != "Add":
        return (None,)
    return (CollectiveReduceV2(upstream, **attrs),)


CollectiveReduceV2 = Primitive("CollectiveReduceV2", _collective_reduce, _collective_reduce_grad,
                               stateful=True)

_OPS = {"sum": ("Add", "Id"), "mean": ("Add", "Div"), "max": ("Max", "Id"),
        "min": ("Min", "Id")}


def all_reduce_buffer(buffer, communicator, op="sum"):
    """All-reduces one tensor over the replicas of `communicator` ("sum", "mean", "max",
    "min"); every replica gets the same result."""
    if op not in _OPS:
        raise ValueError(f"CollectiveReduceV2: unknown reduction {op!r}; expected one of "
                         f"{sorted(_OPS)}.")
    merge_op, final_op = _OPS[op]
    return CollectiveReduceV2(tensor(buffer), communicator=communicator, merge_op=merge_op,
                              final_op=final_op)


def all_reduce(tensors, communicator, op="sum"):
    """All-reduces a list of tensors with one collective call per dtype.

    Args:
      tensors: Tensors (None entries are passed through as None).
      communicator: A `numpyflow.distribute.communicator.Communicator`.
      op: "sum", "mean", "max" or "min".

    Returns:
      A list of tensors, each the reduction of the same position's tensors on every
      replica, in the input's shapes.
    """
    tensors = [None if t is None else tensor(t) for t in tensors]
    results = list(tensors)
    by_dtype = {}
    for index, item in enumerate(tensors):
        if item is not None:
            by_dtype.setdefault(item._value.dtype, []).append(index)
    for dtype in sorted(by_dtype, key=str):  # The same order on every replica.
        indices = by_dtype[dtype]
        flat = [array_ops.reshape(tensors[i], [-1]) for i in indices]
        buffer = flat[0] if len(flat) == 1 else array_ops.concat(flat, axis=0)
        reduced = all_reduce_buffer(buffer, communicator, op)
        sizes = [int(tensors[i]._value.size) for i in indices]
        pieces = [reduced] if len(indices) == 1 else array_ops.split(reduced, sizes)
        for i, piece in zip(indices, pieces):
            results[i] = array_ops.reshape(piece, tensors[i]._value.shape)
    return results
