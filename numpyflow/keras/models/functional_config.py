"""A functional model's config in Keras 3's format: writing it, and rebuilding the graph.

    {"name": "two_tower", "trainable": true,
     "layers": [{"module": "keras.layers", "class_name": "Dense", "config": {...},
                 "registered_name": null, "build_config": {...}, "name": "shared",
                 "inbound_nodes": [{"args": [<KerasTensor>], "kwargs": {}}, ...]}, ...],
     "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": ["inner", 0, 0]}

Each node's arguments keep their structure, with each KerasTensor written as
`{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history":
[layer name, node index, tensor index]}}`. Node indices count only the nodes of this
model; in `input_layers` and `output_layers` (only there, as Keras 3 writes and reads them),
a nested functional model's count starts at 1 (Keras 3 reserves 0 for the node linking its
own inputs to its outputs). Rebuilding creates every layer from its config, then calls
each on the KerasTensors its nodes name, as soon as they exist.
"""

from numpyflow.framework import nest
from numpyflow.keras.graph import keras_ops
from numpyflow.keras.graph.keras_tensor import KerasTensor
from numpyflow.keras.saving import serialization_lib


def functional_config(model):
    """`model.get_config()` for a functional model (see module doc)."""
    own_nodes = {id(node) for node in model._nodes}

    def tensor_config(x, offset=False):
        # Keras's numbering: only this model's nodes count; in input_layers/output_layers,
        # a nested functional model's count starts at 1 (see module doc).
        layer, _, tensor_index = x._keras_history
        kept = [n for n in layer._inbound_nodes if id(n) in own_nodes]
        index = kept.index(x.node) + (_first_node_offset(layer) if offset else 0)
        return [layer.name, index, tensor_index]

    def io_tensor_config(x):
        return tensor_config(x, offset=True)

    def argument_config(value):
        if isinstance(value, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": value.shape.as_list(), "dtype": value.dtype.name,
                               "keras_history": tensor_config(value)}}
        return serialization_lib.serialize_keras_object(value)

    layer_configs = []
    for layer in model._operations:  # Layers and Keras 3 op nodes, in Keras's order.
        config = layer.serialize() if getattr(layer, "_is_keras_operation", False) else \
            serialization_lib.serialize_keras_object(layer)
        config["name"] = layer.name
        config["inbound_nodes"] = [
            {"args": [_map_arguments(argument_config, arg) for arg in node.call_args],
             "kwargs": {key: _map_arguments(argument_config, value)
                        for key, value in node.call_kwargs.items()}}
            for node in layer._inbound_nodes if id(node) in own_nodes and not node.is_input]
        layer_configs.append(config)
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": nest.map_structure(io_tensor_config, model._inputs_struct),
            "output_layers": nest.map_structure(io_tensor_config, model._outputs_struct)}


def functional_from_config(cls, config, custom_objects=None):
    """A `cls` (Functional or a subclass) rebuilt from `functional_config`'s dict."""
    config = dict(config)
    layer_configs = config.pop("layers")
    input_layers = config.pop("input_layers")
    output_layers = config.pop("output_layers")
    layers, pending = {}, []
    for layer_config in layer_configs:
        if keras_ops.is_keras_operation_config(layer_config):  # keras.src.ops.numpy.NotEqual...
            layer = keras_ops.operation_from_config(layer_config)
        else:
            layer = serialization_lib.deserialize_keras_object(layer_config,
                                                               custom_objects=custom_objects)
        name = layer_config.get("name", layer.name)
        layers[name] = layer
        pending.extend((layer, node) for node in layer_config.get("inbound_nodes", ()))

    def tensor(history, offset=False):
        name, node_index, tensor_index = history
        layer = layers.get(name)
        if layer is None:
            raise ValueError(f"Functional config of '{config.get('name')}': a node refers to "
                             f"the layer {name!r}, which the config does not define.")
        if offset:
            node_index -= _first_node_offset(layer)
        if node_index >= len(layer._inbound_nodes):
            return None  # Not called yet: its inputs come from a node still pending.
        return layer._inbound_nodes[node_index].output_tensors[tensor_index]

    # Call each layer on its inputs once they all exist; shared layers called at different
    # depths (A(B(A(x)))) need several passes.
    while pending:
        waiting, blocked = [], set()
        for layer, node_data in pending:
            # A layer's nodes are made in their order: after one waits, the rest wait too.
            arguments = None if id(layer) in blocked else \
                _read_arguments(node_data, tensor, custom_objects)
            if arguments is None:
                blocked.add(id(layer))
                waiting.append((layer, node_data))
                continue
            args, kwargs = arguments
            layer(*args, **kwargs)
        if len(waiting) == len(pending):
            names = sorted({layer.name for layer, _ in waiting})
            raise ValueError(f"Functional config of '{config.get('name')}': the inputs of "
                             f"layers {names} are never computed; the graph is incomplete.")
        pending = waiting

    def io_tensor(history):
        return tensor(history, offset=True)

    inputs = _map_histories(io_tensor, input_layers)
    outputs = _map_histories(io_tensor, output_layers)
    return cls(inputs=inputs, outputs=outputs, **config)


def _first_node_offset(layer):
    from numpyflow.keras.models.functional import Functional
    return 1 if isinstance(layer, Functional) else 0


def _map_arguments(function, structure):
    """`function` applied to each KerasTensor or other leaf in lists, tuples and dicts."""
    if isinstance(structure, (list, tuple)):
        return [_map_arguments(function, item) for item in structure]
    if isinstance(structure, dict):
        return {key: _map_arguments(function, value) for key, value in structure.items()}
    return function(structure)


def _read_arguments(node_data, tensor, custom_objects):
    """A node's `(args, kwargs)` with KerasTensors in place; None while one is missing."""
    missing = []

    def read(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            found = tensor(value["config"]["keras_history"])
            if found is None:
                missing.append(value)
            return found
        if isinstance(value, list):
            return [read(item) for item in value]
        if isinstance(value, dict) and not ("class_name" in value and "config" in value):
            return {key: read(item) for key, item in value.items()}
        return serialization_lib.deserialize_keras_object(value, custom_objects=custom_objects)

    if isinstance(node_data, list):  # Keras 2's format: [[name, node, tensor, kwargs], ...]
        raise ValueError("This functional config uses Keras 2's node format (lists of "
                         "[layer, node, tensor, kwargs]); numpyflow reads Keras 3 configs.")
    args = [read(arg) for arg in node_data.get("args", ())]
    kwargs = {key: read(value) for key, value in node_data.get("kwargs", {}).items()}
    if "mask" in kwargs and kwargs["mask"] is None:
        del kwargs["mask"]  # Keras 3 writes mask=None for a nested Sequential's call.
    return None if missing else (args, kwargs)


def _map_histories(tensor, structure):
    """KerasTensors for `input_layers`/`output_layers`: one [name, node, tensor] triple,
    or lists and dicts of them."""
    if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
        return tensor(structure)
    if isinstance(structure, dict):
        return {key: _map_histories(tensor, value) for key, value in structure.items()}
    return [_map_histories(tensor, item) for item in structure]
