"""`Node`: one call of a layer on KerasTensors, and how layers make them.

A layer called twice (shared weights) has two nodes, `layer._inbound_nodes[0]` and
`[1]`. Each output KerasTensor remembers `(layer, node_index, tensor_index)` in its
`_keras_history`, so a model can walk back from its outputs to its inputs.
"""

import numbers

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras.graph.keras_tensor import KerasTensor


class Node:
    """A layer call in a functional graph.

    Attributes:
      layer: The layer that was called.
      call_args, call_kwargs: The arguments it was called with, KerasTensors in place.
      input_tensors: The KerasTensors among them, flattened in order.
      outputs: What the call returned (a KerasTensor or a structure of them).
      output_tensors: `outputs` flattened.
    """

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=None):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [x for x in nest.flatten((self.call_args, self.call_kwargs))
                              if isinstance(x, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = nest.flatten(outputs)
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for tensor_index, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, node_index, tensor_index)
        # The fast case when the graph runs: the layer called on one tensor, nothing else.
        self.single_input = (len(self.call_args) == 1 and not self.call_kwargs and
                             isinstance(self.call_args[0], KerasTensor))

    @property
    def is_input(self):
        return not self.input_tensors

    def arguments_with(self, values):
        """The call's arguments with each KerasTensor replaced by `values[id(tensor)]`."""
        def substitute(x):
            return values[id(x)] if isinstance(x, KerasTensor) else x
        return (nest.map_structure(substitute, self.call_args),
                nest.map_structure(substitute, self.call_kwargs))

    def __repr__(self):
        return f"<Node of layer '{self.layer.name}'>"


def has_symbolic(structure):
    """Whether `structure` (a value, or lists/tuples/dicts of values) holds a KerasTensor."""
    return any(isinstance(x, KerasTensor) for x in nest.flatten(structure))


def symbolic_call(layer, inputs, args, kwargs):
    """`layer(inputs, *args, **kwargs)` on KerasTensors: builds the layer from the input
    shapes, infers the outputs without data, records a Node, returns the outputs."""
    concrete = [x for x in nest.flatten(inputs) if isinstance(x, tf.Tensor)]
    if concrete:
        raise ValueError(
            f"Layer '{layer.name}' was called on a mix of symbolic KerasTensors (from "
            f"keras.Input) and concrete Tensors: {inputs!r}. In a functional model, every "
            f"input of a layer must come from keras.Input or another layer; pass the "
            f"constant as a layer argument or a weight instead.")
    if not layer.built:
        layer._build_from_shape(shapes_of(inputs), inputs)
    elif layer.input_spec is not None:
        from numpyflow.keras.layers.input_spec import check_input
        check_input(layer, inputs)
    outputs = layer.compute_output_spec(inputs, *args, **kwargs)
    layer._clear_losses()  # Those of a run on placeholders are no model's losses.
    Node(layer, (inputs,) + tuple(args), kwargs, outputs)
    return outputs


def shapes_of(structure):
    """The shapes of the tensors in `structure`, in the same structure."""
    return nest.map_structure(lambda x: x.shape if hasattr(x, "shape") else x, structure)


def _is_single_shape(shape):
    if isinstance(shape, tf.TensorShape):
        return True
    return isinstance(shape, (list, tuple)) and all(
        d is None or isinstance(d, numbers.Integral) for d in shape)


def flat_shapes(shapes):
    """The shapes in `shapes` (one shape, or lists/tuples/dicts of them) as a list, in
    `nest.flatten` order (a TensorShape is a tuple, so `nest` alone would split it)."""
    if _is_single_shape(shapes):
        return [shapes]
    if isinstance(shapes, dict):
        return [shape for key in sorted(shapes) for shape in flat_shapes(shapes[key])]
    return [shape for item in shapes for shape in flat_shapes(item)]


def outputs_for(shapes, dtype):
    """New KerasTensors of `dtype` for `shapes`: one shape, or a list/tuple/dict of them."""
    if _is_single_shape(shapes):
        return KerasTensor(shapes, dtype=dtype)
    if isinstance(shapes, dict):
        return {key: outputs_for(value, dtype) for key, value in shapes.items()}
    return type(shapes)(outputs_for(shape, dtype) for shape in shapes)


def run_on_placeholders(function, args, kwargs):
    """KerasTensors for the outputs of `function(*args, **kwargs)`, found by running it
    with each KerasTensor replaced by ones of its shape.

    Unknown dimensions are taken as 2, and, if there are any, in a second run as 3; an
    output dimension that differs between the runs is unknown (None). A function that
    fails on ones (`tf.linalg.inv`: a matrix of ones is singular) is run again with
    floating inputs drawn from a fixed normal distribution.
    """
    symbolic = [x for x in nest.flatten((args, kwargs)) if isinstance(x, KerasTensor)]

    def run(size, random=False):
        def fill(x):
            if not isinstance(x, KerasTensor):
                return x
            shape = [size if d is None else d for d in x.shape]
            dtype = tf.as_dtype(x.dtype)
            if dtype.is_string:  # tf.string has no one: use "1" (a number too).
                return tf.fill(shape, "1")
            if random and dtype.is_floating:
                return tf.random.stateless_normal(shape, seed=(0, 0), dtype=dtype)
            return tf.ones(shape, dtype=x.dtype)
        return function(*nest.map_structure(fill, args), **nest.map_structure(fill, kwargs))

    random = False
    try:
        first = run(2)
    except Exception as error:  # noqa: BLE001 - some ops reject ones; others say why below
        try:
            first, random = run(2, random=True), True
        except Exception:  # noqa: BLE001 - the first failure is the one to explain
            raise error from None
    has_unknown = any(d is None for x in symbolic for d in x.shape)
    second = run(3, random) if has_unknown else first
    results = []
    for a, b in zip(nest.flatten(first), nest.flatten(second)):
        a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
        dims = [da if da == db else None for da, db in zip(a.shape, b.shape)]
        results.append(KerasTensor(dims, dtype=a.dtype))
    return nest.pack_sequence_as(first, results)
