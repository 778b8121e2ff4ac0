"""Graph rewrites that make a plan do less array work, run before it is compiled.

A rewrite reads a `graph.Graph` and returns an equivalent one: the same outputs, the same
Variable updates, the same numbers (bit for bit: a rewrite may reorder exact operations,
never round differently). The plan compiler (`plan.py`) applies `fused` to the pruned
graph; the exporters do not (they translate the graph as traced).

The rewrites match primitives by their registered name, as the exporters' rule tables do,
so that this module needs no import of the ops that define them.

  * `relu_after_max_pool`: `MaxPool(Relu(y))` is `Relu(MaxPool(y))` (a max commutes with
    a non-decreasing function), and the second form applies the ReLU, forward and
    backward, to the pooled array: a 2x2 pool's is 4x smaller. In a CNN's
    Conv -> (BatchNormalization ->) ReLU -> MaxPool block this removes a whole pass over
    the largest activations in each direction (measured: see `relu_after_max_pool`).

    >>> import numpy as np
    >>> import numpyflow as tf
    >>> from numpyflow.framework import tracing
    >>> step = lambda x: tf.nn.max_pool2d(tf.nn.relu(x), 2, 2, "VALID")
    >>> graph = tracing.trace_graph(step, np.zeros((1, 4, 4, 1), np.float32))
    >>> [eq.primitive.name for eq in fused(graph).equations]
    ['MaxPool', 'Relu']

  * `sliced_output_gradient`: a recurrent layer without `return_sequences` reads only the
    last step of its fused op's output (`output[:, -1, :units]`), so the tape scatters
    that slice's gradient into zeros of the whole output (StridedSliceGrad) for the op's
    gradient, which then searches them for the steps that have one. The rewrite hands
    the slice's gradient and its index to the op's gradient instead (measured: see
    `sliced_output_gradient`).
"""

import numpy as np

from numpyflow.framework.graph import (ATOMS, Assignment, Equation, Graph, Saved, Value,
                                       VariableRead, base_name, consumers)


def fused(graph):
    """`graph` with every rewrite of this module applied (a new Graph; `graph` is kept)."""
    for rewrite in REWRITES:
        graph = rewrite(graph)
    return graph


# -- ReLU after max pooling --------------------------------------------------------------------

def relu_after_max_pool(graph):
    """Moves each ReLU that only a max pool (and the gradients of both) reads after the pool.

    Forward, `r = Relu(y); p = MaxPool(r)` becomes `u = MaxPool(y); p = Relu(u)`. Backward,
    the tape traced `g = MaxPoolGrad(r, p, dp); dy = ReluGrad(g, r)`; it becomes
    `g' = ReluGrad(dp, p); dy = MaxPoolGrad(y, u, g')`. Both give the same numbers:

      * forward: a window's max of `max(y, 0)` is `max(max of y, 0)`;
      * backward: MaxPoolGrad routes each window's gradient to the window's first maximal
        element, and the ReLU's mask there is `r > 0`, i.e. `p > 0` for that window. Where
        the window's max is positive, the first maximum of `r` and of `y` is the same
        element; where it is not, the mask is 0 either way. (A window holding a NaN pools
        to NaN both ways; its gradient, which the ReLU then masks, may differ.)

    The rewrite is skipped unless every reader of `r` (and of the pool's saved routing) is
    one of those equations, and unless every pooling window holds at least one element of
    the input (padding below the window size: an all-padding window's max would be the
    padding value, which the ReLU would change).

    Measured (interleaved A/B in one process, load average ~5-7 on 2 shared
    cores): the CIFAR CNN's step (batch 64, 3 blocks of Conv -> BatchNormalization -> ReLU
    -> MaxPool 2x2) ~1.9 ms less CPU of ~99 (ReLU + its gradient 4 -> 1 ms); LeNet-5 at
    batch 32 ~0.1-0.25 ms of ~3.7-4.5. Trained weights are bit for bit the same.
    """
    readers = consumers(graph)
    output_names = {base_name(atom) for atom in graph.flat_outputs() if isinstance(atom, ATOMS)}
    replaced = {}  # id(entry) -> the entries that take its place (none: dropped).
    # A Value now made by another primitive: a new Value (its `exclusive` flag, whether a
    # dead one may be overwritten, is the new producer's), read by every reader.
    renewed = {}
    for entry in graph.body:
        if not _is(entry, "Relu") or id(entry) in replaced:
            continue
        match = _relu_pool_match(entry, readers, output_names)
        if match is None:
            continue
        pool, pairs = match
        y, r = entry.inputs[0], entry.output
        p, routing = pool.outputs
        # New names cannot collide with the tracer's (`t<digits>`, `t<digits>s`); they
        # start with "t" so that the plan frees them after their last use.
        unrectified = Value(f"{p.name}_before_relu", p.shape, p.dtype, p.exclusive)
        new_routing = Saved(f"{p.name}_before_relu_s")
        renewed[p.name] = Value(p.name, p.shape, p.dtype, r.exclusive)
        replaced[id(entry)] = []
        replaced[id(pool)] = [
            Equation(pool.primitive, [y], pool.attrs, [unrectified, new_routing],
                     pool.scalar_result, pool.scope),
            Equation(entry.primitive, [unrectified], entry.attrs, [p],
                     entry.scalar_result, entry.scope)]
        for pool_grad, relu_grad in pairs:
            g, dy = pool_grad.output, relu_grad.output
            dp = pool_grad.inputs[2]
            pooled_grad = Value(f"{g.name}_pooled", dp.shape, dy.dtype, dy.exclusive)
            renewed[dy.name] = Value(dy.name, dy.shape, dy.dtype, g.exclusive)
            attrs = {key: _swapped(value, routing, new_routing)
                     for key, value in pool_grad.attrs.items()}
            replaced[id(relu_grad)] = []
            replaced[id(pool_grad)] = [
                Equation(relu_grad.primitive, [dp, p], relu_grad.attrs, [pooled_grad],
                         relu_grad.scalar_result, relu_grad.scope),
                Equation(pool_grad.primitive, [y, unrectified, pooled_grad], attrs, [dy],
                         pool_grad.scalar_result, pool_grad.scope)]
    if not replaced:
        return graph
    return _with_body(graph, [_reading(item, renewed) for entry in graph.body
                              for item in replaced.get(id(entry), [entry])])


def _relu_pool_match(relu, readers, output_names):
    """(the MaxPool, [(MaxPoolGrad, ReluGrad), ...]) if `relu` can move after its pool."""
    r = relu.output
    if (r.name in output_names or len(relu.inputs) != 1
            or isinstance(relu.inputs[0], VariableRead)):
        return None  # A Variable's value may change before the pool, which will read it.
    users = readers.get(r.name, [])
    pools = [user for user in users if _is(user, "MaxPool")]
    if len(pools) != 1 or _names(pools[0].inputs) != [r.name]:
        return None
    pool = pools[0]
    if (len(pool.outputs) != 2 or _plain(pool.attrs) != pool.attrs
            or not _windows_hold_input(pool.attrs)):
        return None
    p, routing = pool.outputs
    pool_grads = [user for user in users if _is(user, "MaxPoolGrad")]
    relu_grads = [user for user in users if _is(user, "ReluGrad")]
    if len(pools) + len(pool_grads) + len(relu_grads) != len(users):
        return None  # Something else reads the rectified array.
    pairs = []
    for pool_grad in pool_grads:
        g = pool_grad.output
        if (_names(pool_grad.inputs)[:2] != [r.name, p.name] or len(pool_grad.inputs) != 3
                or pool_grad.inputs[2].name == r.name
                or _without_routing(pool_grad.attrs, routing) != pool.attrs
                or g.name in output_names):
            return None
        grad_readers = readers.get(g.name, [])
        if len(grad_readers) != 1 or not _is(grad_readers[0], "ReluGrad"):
            return None
        relu_grad = grad_readers[0]
        if _names(relu_grad.inputs) != [g.name, r.name]:
            return None
        pairs.append((pool_grad, relu_grad))
    if {id(relu_grad) for _, relu_grad in pairs} != {id(user) for user in relu_grads}:
        return None  # A ReluGrad of `r` whose gradient does not come from the pool.
    allowed = {id(pool_grad) for pool_grad, _ in pairs}
    if routing.name in output_names or any(id(user) not in allowed
                                           for user in readers.get(routing.name, [])):
        return None
    return pool, pairs


def _windows_hold_input(attrs):
    """Whether each pooling window covers an input element: each side's padding is below
    the window size (then the first and the last window reach into the input)."""
    try:
        ksize, pads = attrs["ksize"], attrs["pads"]
        return all(0 <= before < size and 0 <= after < size
                   for size, (before, after) in zip(ksize, pads, strict=True))
    except (KeyError, TypeError, ValueError):
        return False  # Attributes of another form than the ones this rule knows.


def _plain(attrs):
    """Attributes without array operands (the saved routing)."""
    return {key: value for key, value in attrs.items() if not isinstance(value, ATOMS)}


def _without_routing(attrs, routing):
    """`attrs` less those that are the pool's saved routing (or an item of it); None if
    another array attribute is there."""
    plain = {}
    for key, value in attrs.items():
        if isinstance(value, ATOMS):
            if base_name(value) != routing.name:
                return None
        else:
            plain[key] = value
    return plain


def _swapped(value, old, new):
    """`value`, reading `new` where it read the saved value `old` (or an item of it)."""
    if not isinstance(value, Saved) or base_name(value) != old.name:
        return value
    if value.base is None:
        return new
    return Saved(f"{new.name}[{value.index}]", value.index, new)


def _reading(entry, renewed):
    """`entry` with each Value named in `renewed` replaced by that one."""
    atoms = entry.operands() + (list(entry.outputs) if isinstance(entry, Equation) else [])
    if not any(isinstance(atom, Value) and atom.name in renewed for atom in atoms):
        return entry

    def swap(atom):
        return renewed.get(atom.name, atom) if isinstance(atom, Value) else atom

    if isinstance(entry, Assignment):
        return Assignment(entry.variable, swap(entry.value))
    attrs = {key: swap(value) for key, value in entry.attrs.items()}
    return Equation(entry.primitive, [swap(atom) for atom in entry.inputs], attrs,
                    [swap(atom) for atom in entry.outputs], entry.scalar_result, entry.scope)


# -- the gradient of one step of a recurrence's output --------------------------------------------

# The fused recurrences' gradients (ops/rnn_ops.py), whose kernels take `dy_slice` (backend
# recurrence.py's `_live_gradients`): their upstream gradient as the values at a basic
# index whose time component is an int, zeros elsewhere.
_SLICE_READERS = {"SimpleRNNSequenceGrad", "LSTMSequenceGrad", "GRUSequenceGrad"}


def sliced_output_gradient(graph):
    """Drops each `d = StridedSliceGrad(g, key, shape)` that only a recurrence's gradient
    reads, as its upstream gradient: that reads `g` with `dy_slice=key` instead.

    Only for keys that pick one step: (batch slice, int, [slice of the states]), as
    Keras's recurrent layers take their last output and final states. Measured (LSTM(128)
    over 28 steps, batch 32, Keras `fit`): the whole zeros (32, 28, 256) and the search
    through them took ~80 us of a ~4.7 ms step; the rewrite makes a (1, 32, 256) block.
    The same numbers: the kernel sees the same gradient at the same step.
    """
    readers = consumers(graph)
    output_names = {base_name(atom) for atom in graph.flat_outputs() if isinstance(atom, ATOMS)}
    replaced = {}  # id(entry) -> the entry that takes its place (None: dropped).
    for entry in graph.body:
        if not _is(entry, "StridedSliceGrad") or not _one_step_key(entry.attrs.get("key")):
            continue
        dense = entry.output
        users = readers.get(dense.name, [])
        if dense.name in output_names or len(users) != 1:
            continue
        user = users[0]
        if (not isinstance(user, Equation) or user.primitive.name not in _SLICE_READERS
                or id(user) in replaced or "dy_slice" in user.attrs
                or _names(user.inputs[:1]) != [dense.name]
                or dense.name in [base_name(atom) for atom in user.operands()[1:]]):
            continue
        replaced[id(entry)] = None
        replaced[id(user)] = Equation(user.primitive, [entry.inputs[0]] + list(user.inputs[1:]),
                                      dict(user.attrs, dy_slice=entry.attrs["key"]),
                                      user.outputs, user.scalar_result, user.scope)
    if not replaced:
        return graph
    return _with_body(graph, [replaced.get(id(entry), entry) for entry in graph.body
                              if replaced.get(id(entry), entry) is not None])


def _one_step_key(key):
    """Whether `key` indexes a (batch, time, width) array as (slice, int[, slice])."""
    return (isinstance(key, tuple) and len(key) in (2, 3) and isinstance(key[0], slice)
            and isinstance(key[1], (int, np.integer)) and not isinstance(key[1], bool)
            and all(isinstance(part, slice) for part in key[2:]))


# -- helpers -----------------------------------------------------------------------------------

def _with_body(graph, body):
    """A new Graph: `graph`'s name, arguments and outputs (the plan reads outputs by name
    only), and `body`."""
    result = Graph(graph.name)
    result.arguments = list(graph.arguments)
    result.body = body
    result.outputs = graph.outputs
    return result


def _names(atoms):
    return [atom.name for atom in atoms]


def _is(entry, name):
    return isinstance(entry, Equation) and entry.primitive.name == name


# The rewrites `fused` applies, in order.
REWRITES = (relu_after_max_pool, sliced_output_gradient)
