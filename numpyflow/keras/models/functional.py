"""`Functional`: a model defined by calling layers on `keras.Input`s.

    >>> import numpyflow as tf
    >>> inputs = tf.keras.Input((4,), name="features")
    >>> hidden = tf.keras.layers.Dense(8, activation="relu")(inputs)
    >>> outputs = tf.keras.layers.Dense(2)(hidden)
    >>> model = tf.keras.Model(inputs, outputs, name="mlp")
    >>> type(model).__name__, model.output_shape
    ('Functional', (None, 2))

The layers' calls on KerasTensors recorded `Node`s (graph/node.py). The model walks back
from its outputs to its inputs once, iteratively, to find the nodes it needs and an order
to run them in; calling the model runs those nodes in that order on real tensors.
"""

import numpy as np

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras.graph import node as node_module
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.layers.input_layer import InputLayer
from numpyflow.keras.models.model import Model
from numpyflow.keras.utils.object_identity import unique_objects


class Functional(Model):
    """A model whose layers form a graph from `inputs` to `outputs`.

    Made by `keras.Model(inputs, outputs)`; see the module doc.

    Args:
      inputs: A KerasTensor from `keras.Input`, or a list or dict of them.
      outputs: KerasTensors computed from `inputs` by layers: one, a list or a dict.
      name: The model's name.
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._is_graph_network = True
        self._inputs_struct = _as_structure(inputs, "inputs", self.name)
        self._outputs_struct = _as_structure(outputs, "outputs", self.name)
        self.inputs = nest.flatten(self._inputs_struct)
        self.outputs = nest.flatten(self._outputs_struct)
        for tensor in self.inputs:
            if not isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(
                    f"Model '{self.name}': every input must come from keras.Input(...); "
                    f"received {tensor!r}, the output of layer "
                    f"'{tensor._keras_history[0].name}'.")
        self._nodes = _nodes_between(self.inputs, self.outputs, self.name)
        self._layers = unique_objects([node.layer for node in self._nodes])
        for layer in self._layers:
            if not any(layer is tracked for tracked in self._tracked_layers):
                self._tracked_layers.append(layer)
        self._run_nodes = [node for node in self._nodes if not node.is_input]
        self._build_input_shape = nest.map_structure(lambda x: x.shape, self._inputs_struct)
        self._valid_input_shapes = None
        self.built = True

    # -- structure ----------------------------------------------------------------------
    @property
    def layers(self):
        """Every layer of the graph, input layers first, in the order they run."""
        return list(self._layers)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_names(self):
        return [x._keras_history[0].name for x in self.inputs]

    @property
    def output_names(self):
        """Output names: the dict keys for dict outputs, else the output layers' names."""
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        return [x._keras_history[0].name for x in self.outputs]

    @property
    def input_shape(self):
        return _unpack(_shape_tuples(self.inputs))

    @property
    def output_shape(self):
        return _unpack(_shape_tuples(self.outputs))

    def build(self, input_shape=None):
        """A functional model is built when it is made; nothing to do."""

    def compute_output_shape(self, input_shape):
        expected = [tuple(x.shape) for x in self.inputs]
        received = node_module.flat_shapes(input_shape)  # In `self.inputs`' order.
        if len(received) != len(expected):
            raise ValueError(f"Model '{self.name}' expects {len(expected)} input(s); received "
                             f"input_shape={input_shape}.")
        for want, got in zip(expected, received):
            if not tf.TensorShape(got).is_compatible_with(want):
                raise ValueError(f"Model '{self.name}' expects inputs of shape {want}; "
                                 f"received input_shape={tuple(got)}.")
        batch = tuple(received[0])[0] if received and tuple(received[0]) else None
        shapes = [tf.TensorShape((batch,) + tuple(x.shape)[1:]) for x in self.outputs]
        return nest.pack_sequence_as(self._outputs_struct, shapes)

    # -- configuration --------------------------------------------------------------------
    def get_config(self):
        """Keras 3's functional config: every layer, and the calls that connect them."""
        if not _functional_constructor(type(self)):
            return Model.get_config(self)  # A subclass with its own __init__ says its own.
        from numpyflow.keras.models.functional_config import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model (same layers, same graph; new weights) from `get_config()`."""
        from numpyflow.keras.models.functional_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)

    def get_build_config(self):
        return None  # Built from its config's graph, not from an input shape.

    # -- running ------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        values = {}
        for placeholder, value in zip(self.inputs, self._flatten_inputs(inputs)):
            values[id(placeholder)] = value
        for node in self._run_nodes:
            layer = node.layer
            if node.single_input:
                x = values[id(node.call_args[0])]
                outputs = layer(x, training=training) if layer._call_accepts_training \
                    else layer(x)
            else:
                args, kwargs = node.arguments_with(values)
                if layer._call_accepts_training and "training" not in kwargs:
                    kwargs["training"] = training
                outputs = layer(*args, **kwargs)
            if len(node.output_tensors) == 1:
                values[id(node.output_tensors[0])] = outputs
            else:
                for placeholder, value in zip(node.output_tensors, nest.flatten(outputs)):
                    values[id(placeholder)] = value
        return nest.pack_sequence_as(self._outputs_struct,
                                     [values[id(x)] for x in self.outputs])

    def _flatten_inputs(self, inputs):
        """The model's inputs as a flat list matching `self.inputs`, as tensors of the
        inputs' dtypes (uint8 images given to a float32 input are cast, as in Keras)."""
        if isinstance(self._inputs_struct, dict) or not isinstance(inputs, dict):
            flat = nest.flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
        else:  # A dict given to a model of listed inputs: matched by input name, as Keras.
            missing = [name for name in self.input_names if name not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}': missing inputs {missing} in the dict "
                                 f"given; expected keys {self.input_names}.")
            flat = [inputs[name] for name in self.input_names]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self.inputs)} input(s), but it "
                             f"received {len(flat)} input tensors. Inputs received: "
                             f"{_describe(inputs)}")
        tensors = [_as_input_tensor(x, placeholder.dtype)
                   for x, placeholder in zip(flat, self.inputs)]
        self._check_input_shapes(tensors)
        return tensors

    def _check_input_shapes(self, tensors):
        shapes = tuple(tuple(x.shape) for x in tensors)
        if shapes == self._valid_input_shapes:
            return  # As on the previous call: this runs on every call, so it is kept cheap.
        for index, (x, placeholder) in enumerate(zip(tensors, self.inputs)):
            if not tf.TensorShape(tuple(x.shape)).is_compatible_with(placeholder.shape):
                raise ValueError(
                    f'Input {index} of layer "{self.name}" is incompatible with the layer: '
                    f'expected shape={tuple(placeholder.shape)}, found '
                    f'shape={tuple(x.shape)}')
        self._valid_input_shapes = shapes


def inject_functional(cls):
    """Makes a subclass of `Model` that calls `Model.__init__(inputs=..., outputs=...)` a
    subclass of `Functional` instead, as Keras does, so it gets the graph's behaviour."""
    cls.__bases__ = tuple(Functional if base is Model else inject_functional(base)
                          if issubclass(base, Model) and base is not Functional else base
                          for base in cls.__bases__)
    return cls


def _functional_constructor(cls):
    """Whether `cls` is made as Functional is, from inputs and outputs."""
    return cls.__init__ is Functional.__init__


# -- walking the graph ------------------------------------------------------------------------

def _nodes_between(inputs, outputs, model_name):
    """The nodes that compute `outputs` from `inputs`, in an order they can run in.

    Walks back from the outputs, iteratively (deep graphs do not hit the recursion limit),
    then orders the nodes so each comes after the nodes that feed it: by decreasing depth
    (the longest path to an output), as Keras lists a model's layers.
    """
    input_ids = {id(x) for x in inputs}
    for x in outputs:
        if not isinstance(x, KerasTensor) or x._keras_history is None:
            raise ValueError(f"Model '{model_name}': outputs must be KerasTensors computed "
                             f"by layers from keras.Input; received {x!r}.")
    # Discover every needed node, and who consumes whom.
    discovered, consumers = {}, {}
    stack = [x.node for x in outputs]
    while stack:
        node = stack.pop()
        if id(node) in discovered:
            continue
        discovered[id(node)] = node
        for x in node.input_tensors:
            parent = x.node
            consumers.setdefault(id(parent), []).append(node)
            if id(x) in input_ids:
                discovered.setdefault(id(parent), parent)
                continue
            if parent.is_input:
                raise ValueError(
                    f"Graph disconnected: model '{model_name}' cannot reach {x!r} (input of "
                    f"layer '{node.layer.name}') from its inputs "
                    f"{[t.name for t in inputs]}. Every input that the outputs depend on "
                    f"must be passed to keras.Model(inputs=...).")
            stack.append(parent)
    for x in outputs:
        if id(x) in input_ids:
            discovered.setdefault(id(x.node), x.node)
    used_inputs = {id(x) for node in discovered.values() for x in node.output_tensors}
    unused = [x.name for x in inputs if id(x) not in used_inputs]
    if unused:
        raise ValueError(f"Model '{model_name}': the outputs do not depend on the inputs "
                         f"{unused}. Remove them from `inputs`, or connect them.")
    # Depth: outputs' nodes 0, each parent at least one more than any consumer.
    depth = {}
    order = _topological_order(discovered, consumers, inputs)
    for node in reversed(order):
        depth[id(node)] = max((depth[id(c)] + 1 for c in consumers.get(id(node), ())
                               if id(c) in depth), default=0)
    position = {id(node): i for i, node in enumerate(order)}
    return sorted(order, key=lambda node: (-depth[id(node)], position[id(node)]))


def _topological_order(discovered, consumers, inputs):
    """Kahn's algorithm: each node after the nodes that feed it, starting from the input
    nodes in the order of the model's inputs."""
    pending = {key: len({id(x.node) for x in node.input_tensors})
               for key, node in discovered.items()}
    ready = unique_objects([x.node for x in inputs])
    order = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in unique_objects(consumers.get(id(node), ())):
            pending[id(child)] -= 1
            if pending[id(child)] == 0:
                ready.append(child)
    return order


# -- small helpers ------------------------------------------------------------------------------

def _as_structure(tensors, argument, model_name):
    if isinstance(tensors, KerasTensor):
        return tensors
    if isinstance(tensors, (list, tuple, dict)) and tensors:
        leaves = nest.flatten(tensors)
        if all(isinstance(x, KerasTensor) for x in leaves):
            return list(tensors) if isinstance(tensors, tuple) else tensors
    raise ValueError(f"Model '{model_name}': `{argument}` must be a KerasTensor (from "
                     f"keras.Input or a layer called on one), or a non-empty list or dict of "
                     f"them. Received: {argument}={tensors!r}")


def _as_input_tensor(value, dtype):
    if type(value) is tf.Tensor and value.dtype is dtype:
        return value
    if isinstance(value, KerasTensor):
        raise ValueError("A functional model's graph was given a KerasTensor at run time.")
    tensor = value if isinstance(value, tf.Tensor) else tf.convert_to_tensor(
        value if isinstance(value, np.ndarray) else np.asarray(value))
    if tensor.dtype is not dtype and dtype.is_floating and (
            tensor.dtype.is_floating or tensor.dtype.is_integer or tensor.dtype.is_bool):
        tensor = tf.cast(tensor, dtype)
    return tensor


def _shape_tuples(tensors):
    return [tuple(x.shape) for x in tensors]


def _unpack(items):
    return items[0] if len(items) == 1 else items


def _describe(inputs):
    return [getattr(x, "shape", x) for x in nest.flatten(inputs)] \
        if isinstance(inputs, (list, tuple, dict)) else getattr(inputs, "shape", inputs)
