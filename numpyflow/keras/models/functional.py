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

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras.graph import node as node_module
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.layers.input_layer import InputLayer
from numpyflow.keras.models.input_dtypes import convert_to_input_dtype
from numpyflow.keras.models.model import Model


class Functional(Model):
    """A model whose layers form a graph from `inputs` to `outputs`.

    Made by `keras.Model(inputs, outputs)`; see the module doc.

    Args:
      inputs: A KerasTensor from `keras.Input`, or a list or dict of them.
      outputs: KerasTensors computed from `inputs` by layers: one, a list or a dict.
      name: The model's name.
    """

    # Each input is converted to its Input's dtype (`_flatten_inputs`), not to the model's.
    _convert_input_args = False

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
        self._nodes, self._operations = _map_graph(self.inputs, self.outputs, self.name)
        # Keras 3 op nodes read from a file (keras_ops.py) are operations, not layers.
        self._layers = [layer for layer in self._operations
                        if not getattr(layer, "_is_keras_operation", False)]
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
        """Every layer of the graph in Keras 3's order: by decreasing depth, then in the
        order a depth-first walk from the outputs meets them (input layers first)."""
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
        flat_inputs = self._flatten_inputs(inputs)
        if mask is not None:  # Read by the layers the inputs flow into (mask_propagation).
            set_input_masks(flat_inputs, mask)
        for placeholder, value in zip(self.inputs, flat_inputs):
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
        inputs' dtypes, as Keras 3 converts them (uint8 images given to a float32 input
        are cast; ids given to an int32 input stay integers)."""
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
        tensors = [_as_input_tensor(x, placeholder, self.name)
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

def _map_graph(inputs, outputs, model_name):
    """The graph from `inputs` to `outputs` as Keras 3 orders it (`ops/function.py`).

    Returns `(nodes, operations)`: the nodes in an order they can run in (by decreasing
    depth), and the layers, grouped by decreasing depth and, within a depth, in the order a
    depth-first walk from the outputs (in order, each node's inputs in order) first meets
    them. A node's depth is one more than the deepest node it feeds (outputs' nodes: 0); a
    layer's is its deepest node's, raising the nodes found after it to it. Layer order
    decides the weight paths in `.keras` files, so it must be exactly Keras's.
    """
    for x in outputs:
        if not isinstance(x, KerasTensor) or x._keras_history is None:
            raise ValueError(f"Model '{model_name}': outputs must be KerasTensors computed "
                             f"by layers from keras.Input; received {x!r}.")
    post_order, layer_index = _depth_first(inputs, outputs, model_name)
    used_inputs = {id(x) for node in post_order for x in node.output_tensors}
    unused = [x.name for x in inputs if id(x) not in used_inputs]
    if unused:
        raise ValueError(f"Model '{model_name}': the outputs do not depend on the inputs "
                         f"{unused}. Remove them from `inputs`, or connect them.")
    node_depth, layer_depth, layers = {}, {}, {}
    nodes = {id(node): node for node in post_order}
    for node in reversed(post_order):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for x in node.input_tensors:
            parent = id(x.node)
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    run_order = sorted(node_depth, key=lambda key: -node_depth[key])  # Stable sort.
    operations = sorted(layers.values(),
                        key=lambda layer: (-layer_depth[id(layer)], layer_index[id(layer)]))
    return [nodes[key] for key in run_order], operations


def _depth_first(inputs, outputs, model_name):
    """Keras's depth-first walk from each output, iteratively (deep graphs must not hit the
    recursion limit): the nodes in post-order (each after the nodes that feed it), and
    `{id(layer): index}` in the order the walk first meets the layers."""
    input_ids = {id(x) for x in inputs}
    finished, post_order, layer_index = set(), [], {}

    def enter(tensor, consumer):
        """Visits `tensor`'s node: a frame to push, or None when nothing is left to do."""
        node = tensor.node
        if id(node) in finished:
            return None
        if node.is_input and id(tensor) not in input_ids:
            role = f"input of layer '{consumer.layer.name}'" if consumer else "an output"
            raise ValueError(
                f"Graph disconnected: model '{model_name}' cannot reach {tensor!r} ({role}) "
                f"from its inputs "
                f"{[t.name for t in inputs]}. Every input that the outputs depend on "
                f"must be passed to keras.Model(inputs=...).")
        layer_index.setdefault(id(node.layer), len(layer_index))
        if node.is_input:
            finished.add(id(node))
            post_order.append(node)
            return None
        return [node, iter(node.input_tensors)]

    for output in outputs:
        frame = enter(output, None)
        stack = [frame] if frame else []
        while stack:
            node, remaining = stack[-1]
            tensor = next(remaining, None)
            if tensor is None:
                stack.pop()
                if id(node) not in finished:
                    finished.add(id(node))
                    post_order.append(node)
                continue
            frame = enter(tensor, node)
            if frame:
                stack.append(frame)
    return post_order, layer_index


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


def set_input_masks(flat_inputs, mask):
    """Sets a model's `mask` argument (one mask, or one per input) on its input tensors."""
    flat_masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
    for tensor, input_mask in zip(flat_inputs, flat_masks):
        if input_mask is not None:
            tensor._keras_mask = input_mask


def _as_input_tensor(value, placeholder, model_name):
    if type(value) is tf.Tensor and value.dtype is placeholder.dtype:
        return value
    if isinstance(value, KerasTensor):
        raise ValueError("A functional model's graph was given a KerasTensor at run time.")
    return convert_to_input_dtype(value, placeholder.dtype, model_name,
                                  placeholder._keras_history[0].name)


def _shape_tuples(tensors):
    return [tuple(x.shape) for x in tensors]


def _unpack(items):
    return items[0] if len(items) == 1 else items


def _describe(inputs):
    return [getattr(x, "shape", x) for x in nest.flatten(inputs)] \
        if isinstance(inputs, (list, tuple, dict)) else getattr(inputs, "shape", inputs)
