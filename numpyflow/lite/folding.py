"""Folds inference-mode BatchNormalization into the convolution or Dense before it.

In a frozen graph, BatchNormalization at inference is `x * scale + shift` with constant
per-channel `scale` and `shift` (`Mul` then `AddV2`/`Sub`). When `x` is a convolution's or
a matrix product's output (optionally plus a bias) read by nothing else, the same result
comes from scaling the kernel's output channels and the bias:

    conv(x, k) * s + t  ==  conv(x, k * s) + t       (per output channel)
    (conv(x, k) + b) * s + t  ==  conv(x, k * s) + (b * s + t)

so TFLite runs one CONV_2D (or FULLY_CONNECTED) instead of three operators, as TF's
converter does.

    >>> import numpyflow as tf
    >>> from numpyflow.framework import tracing, graph
    >>> model = tf.keras.Sequential([tf.keras.Input((4, 4, 1)), tf.keras.layers.Conv2D(2, 3),
    ...                              tf.keras.layers.BatchNormalization()])
    >>> g = graph.frozen(tracing.trace_graph(lambda x: model(x, training=False),
    ...                                      tf.zeros((2, 4, 4, 1))))
    >>> [eq.primitive.name for eq in g.equations]
    ['Conv2D', 'BiasAdd', 'Mul', 'AddV2']
    >>> folded, _ = fold_batch_norm(g)
    >>> [eq.primitive.name for eq in folded.equations]
    ['Conv2D', 'BiasAdd']
"""

import numpy as np

from numpyflow.framework import graph as graph_module
from numpyflow.framework.graph import Constant, Equation, Graph
from numpyflow.framework.primitive import get_primitive

# The primitives whose constant kernel's last axis holds the output channels.
_FOLDABLE = ("Conv2D", "MatMul")


def fold_batch_norm(graph):
    """Returns `(graph with per-channel Mul/Add folded into kernels, origin)`.

    `origin` maps `id(new equation)` to the equation of `graph` it stands for (for the
    layer names in tensor names and error messages).
    """
    readers = graph_module.consumers(graph)
    output_names = {atom.name for atom in graph.flat_outputs()
                    if isinstance(atom, graph_module.ATOMS)}

    def sole_reader(value, names):
        users = readers.get(value.name, [])
        if (len(users) == 1 and value.name not in output_names
                and isinstance(users[0], Equation) and users[0].primitive.name in names):
            return users[0]
        return None

    replaced = {}     # id(equation of `graph`) -> the equations replacing it (or [] to drop)
    origin = {}
    for eq in graph.body:
        if not isinstance(eq, Equation) or eq.primitive.name not in _FOLDABLE:
            continue
        folded = _fold_chain(eq, sole_reader)
        if folded is None:
            continue
        chain, kernel, bias, final_value = folded
        kernel_eq = Equation(eq.primitive, [eq.inputs[0], Constant(f"{eq.inputs[1].name}_bn",
                                                                   kernel)],
                             eq.attrs, eq.outputs, eq.scalar_result, scope=eq.scope)
        bias_eq = Equation(get_primitive("BiasAdd"),
                           [eq.output, Constant(f"{eq.output.name}_bn_bias", bias)],
                           {}, (final_value,), scope=chain[-1].scope)
        origin[id(kernel_eq)] = eq
        origin[id(bias_eq)] = chain[-1]
        replaced[id(eq)] = [kernel_eq, bias_eq]
        for dropped in chain:
            replaced[id(dropped)] = []

    result = Graph(graph.name)
    result.arguments = list(graph.arguments)
    result.outputs = graph.outputs
    for entry in graph.body:
        if id(entry) in replaced:
            result.body.extend(replaced[id(entry)])
        else:
            result.body.append(entry)
            origin[id(entry)] = entry
    return result, origin


def _fold_chain(eq, sole_reader):
    """For `eq` (a product with a constant kernel) followed by [BiasAdd] Mul [AddV2|Sub]
    with per-channel constants: (the equations folded, new kernel, new bias, the Value
    the folded computation produces). None when the pattern does not apply."""
    kernel = eq.inputs[1] if len(eq.inputs) > 1 else None
    if not isinstance(kernel, Constant) or eq.attrs.get("transpose_a") or eq.attrs.get(
            "transpose_b"):
        return None
    kernel = np.asarray(kernel.value)
    channels = kernel.shape[-1]
    if eq.primitive.name == "MatMul" and (kernel.ndim != 2 or len(eq.output.shape) != 2):
        return None
    bias = np.zeros(channels, kernel.dtype)
    chain = []
    value = eq.output
    bias_eq = sole_reader(value, ("BiasAdd",))
    if bias_eq is not None:
        bias_constant = _per_channel(bias_eq, value, channels)
        if bias_constant is None:
            return None
        bias = bias + bias_constant
        chain.append(bias_eq)
        value = bias_eq.output
    mul_eq = sole_reader(value, ("Mul",))
    scale = _per_channel(mul_eq, value, channels) if mul_eq is not None else None
    if scale is None:
        return None
    chain.append(mul_eq)
    value = mul_eq.output
    shift = np.zeros(channels, kernel.dtype)
    add_eq = sole_reader(value, ("AddV2", "Sub"))
    if add_eq is not None:
        constant = _per_channel(add_eq, value, channels)
        # Only `x - t`, not `t - x`: the latter would negate the kernel too.
        if constant is not None and not (add_eq.primitive.name == "Sub"
                                         and add_eq.inputs[0] is not value):
            shift = constant if add_eq.primitive.name == "AddV2" else -constant
            chain.append(add_eq)
            value = add_eq.output
    if value.shape != eq.output.shape:
        return None
    new_kernel = (kernel * scale).astype(kernel.dtype)
    new_bias = (bias * scale + shift).astype(kernel.dtype)
    return chain, new_kernel, new_bias, value


def _per_channel(eq, value, channels):
    """The constant operand of a binary `eq` that reads `value`, as a vector over the last
    axis, if it is one (shape (C,), (1, ..., C) or a scalar); else None."""
    others = [atom for atom in eq.inputs if atom is not value]
    if len(eq.inputs) != 2 or len(others) != 1 or not isinstance(others[0], Constant):
        return None
    constant = np.asarray(others[0].value)
    if constant.ndim > len(value.shape) or any(d != 1 for d in constant.shape[:-1]):
        return None
    if constant.size not in (1, channels) or constant.dtype != value.dtype:
        return None
    return np.broadcast_to(constant.reshape(-1), (channels,))
