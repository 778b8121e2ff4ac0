"""Model configs written by tf.keras 2.x (and Keras 3's legacy `.h5` writer), made readable.

tf.keras 2.x wrote a model's config in an older layout that Keras 3 still reads from `.h5`
files and JSON: `{"class_name": "Sequential", "config": {...}}` with layer entries that lack
`module`, an `InputLayer` given `batch_input_shape`, single axes as `[1]`, tuples encoded as
`{"class_name": "__tuple__", "items": [...]}`, and functional nodes as lists of
`[layer_name, node_index, tensor_index, kwargs]`. `upgrade_model_config` rewrites such a config
into the Keras 3 form that `deserialize_keras_object` reads. It only rearranges JSON data: no
module is imported and no code runs (a `Lambda` holding bytecode is refused here, before any
class is looked up).

    >>> config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
    ...     {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4],
    ...                                            "name": "input_1"}}]}}
    >>> upgrade_model_config(config)["config"]["layers"][0]["config"]
    {'name': 'input_1', 'batch_shape': [None, 4]}
"""

# Keras 2 Lambda arguments that Keras 3 dropped.
_LAMBDA_LEGACY_ARGUMENTS = ("module", "function_type", "output_shape_type",
                            "output_shape_module")


def decode_legacy_json(value):
    """`value` (parsed JSON) with tf.keras 2.x's encoded tuples and shapes as plain lists.

    Iterative, so deeply nested (hostile) JSON cannot exhaust the stack here.

    >>> decode_legacy_json({"a": {"class_name": "__tuple__", "items": [1, 2]}})
    {'a': [1, 2]}
    """
    root = [value]
    stack = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, dict) and item.get("class_name") in ("__tuple__", "TensorShape") \
                and set(item) == {"class_name", "items"}:
            item = container[key] = list(item["items"]) if item["items"] is not None else None
        if isinstance(item, dict):
            stack.extend((item, k) for k in item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
    return root[0]


def upgrade_model_config(config, safe_mode=True, source="the model config"):
    """A tf.keras 2.x / Keras 3 legacy model config, in the form Keras 3 configs have.

    Args:
      config: `{"class_name": ..., "config": {...}}` as parsed from JSON.
      safe_mode: Only changes the error message for a Lambda holding code: numpyflow never
        runs code from a file, so such a Lambda is refused either way.
      source: What the config came from, for error messages (a file name).

    Returns:
      A new dict; the input is not changed.

    Raises:
      ValueError: for a config that is not a Keras config, or a Lambda layer holding code.
    """
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict) or \
            not isinstance(config.get("class_name"), str):
        raise ValueError(f"The configuration in {source} is not a valid Keras model config: "
                         f"expected a dict with 'class_name' and 'config' keys. Received: "
                         f"{_short(config)}")
    return _upgrade_layer(_copy_json(config), safe_mode, source, in_functional=False)


def _upgrade_layer(entry, safe_mode, source, in_functional):
    """One `{"class_name", "config", ...}` layer (or model) entry, upgraded in place."""
    class_name = entry.get("class_name")
    inner = entry.get("config")
    if not isinstance(inner, dict):
        return entry
    if class_name == "InputLayer" and "batch_input_shape" in inner:
        inner["batch_shape"] = inner.pop("batch_input_shape")
    axis = inner.get("axis")
    if isinstance(axis, list) and len(axis) == 1 and isinstance(axis[0], int):
        inner["axis"] = axis[0]
    if class_name == "Lambda":
        _check_lambda(inner, safe_mode, source)
    layers = inner.get("layers")
    if isinstance(layers, list):
        functional = "input_layers" in inner or "output_layers" in inner
        for layer in layers:
            if isinstance(layer, dict):
                _upgrade_layer(layer, safe_mode, source, functional)
        if functional:
            _upgrade_functional(inner, source)
    return entry


def _check_lambda(inner, safe_mode, source):
    function = inner.get("function")
    holds_code = (isinstance(function, list) or inner.get("function_type") == "lambda" or
                  (isinstance(function, dict) and function.get("class_name") == "__lambda__"))
    name = inner.get("name")
    if holds_code:
        if safe_mode:
            raise ValueError(
                f"The Lambda layer {name!r} in {source} holds Python bytecode. Loading it "
                f"could run arbitrary code, so it is refused in safe mode (safe_mode=True, the "
                f"default). numpyflow never runs code from a file, not even with "
                f"safe_mode=False: rebuild the Lambda in code, or replace it by a named "
                f"function registered with `@keras.saving.register_keras_serializable()`.")
        raise ValueError(
            f"The Lambda layer {name!r} in {source} holds Python bytecode. numpyflow never "
            f"runs code from a file, even with safe_mode=False: rebuild the Lambda in code, "
            f"or replace it by a named function registered with "
            f"`@keras.saving.register_keras_serializable()`.")
    for argument in _LAMBDA_LEGACY_ARGUMENTS:
        inner.pop(argument, None)


def _upgrade_functional(inner, source):
    """Keras 2's list nodes and input/output triples, as Keras 3 writes them."""
    sequential = {layer.get("name") for layer in inner["layers"]
                  if isinstance(layer, dict) and layer.get("class_name") == "Sequential"}
    legacy = False
    for layer in inner["layers"]:
        nodes = layer.get("inbound_nodes") if isinstance(layer, dict) else None
        if not isinstance(nodes, list):
            continue
        upgraded = []
        for node in nodes:
            if isinstance(node, dict):
                upgraded.append(node)
                continue
            legacy = True
            upgraded.append(_upgrade_node(node, sequential, layer.get("name"), source))
        layer["inbound_nodes"] = upgraded
    if legacy:
        for key in ("input_layers", "output_layers"):
            value = inner.get(key)
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                value = value[0]  # Keras 3 writes a single input or output as a bare triple.
            inner[key] = _renumber(value, sequential)


def _upgrade_node(node, sequential, layer_name, source):
    """`[[name, node, tensor, kwargs], ...]` -> `{"args": [...], "kwargs": {...}}`."""
    if not all(isinstance(item, list) and len(item) in (3, 4) and isinstance(item[0], str)
               for item in node) or not node:
        raise ValueError(f"The inbound node {_short(node)} of layer {layer_name!r} in {source} "
                         f"is not a valid Keras 2 node (a list of [layer_name, node_index, "
                         f"tensor_index, kwargs]).")
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"keras_history": _renumber(item[:3], sequential)}}
               for item in node]
    kwargs = node[0][3] if len(node[0]) == 4 and isinstance(node[0][3], dict) else {}
    return {"args": [tensors[0]] if len(tensors) == 1 else [tensors], "kwargs": dict(kwargs)}


def _renumber(history, sequential):
    """Keras 2 counted a nested Sequential model's own first node; Keras 3 does not."""
    if isinstance(history, list) and len(history) == 3 and isinstance(history[0], str):
        name, node_index, tensor_index = history
        if name in sequential and isinstance(node_index, int) and node_index > 0:
            node_index -= 1
        return [name, node_index, tensor_index]
    if isinstance(history, list):
        return [_renumber(item, sequential) for item in history]
    return history


def _copy_json(value):
    """A deep copy of parsed JSON (dicts, lists and plain values), without recursion."""
    root = [value]
    stack = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, dict):
            item = container[key] = dict(item)
            stack.extend((item, k) for k in item)
        elif isinstance(item, list):
            item = container[key] = list(item)
            stack.extend((item, i) for i in range(len(item)))
    return root[0]


def _short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


# -- writing: Keras 3 configs in tf.keras 2.x's layout --------------------------------------

# Keras 3 arguments that tf.keras 2.x does not take, left out when they have these values.
_KERAS3_ONLY_ARGUMENTS = {"quantization_config": None, "lora_rank": None, "lora_alpha": None,
                          "optional": False, "input_axes": None, "output_axes": None}
_DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy")


def downgrade_model_config(config):
    """A Keras 3 model config (`{"class_name", "config"}`) in the layout tf.keras 2.x wrote.

    tf.keras 2.x reads only that layout, and Keras 3's legacy loader reads it too, so `.h5`
    files written with it load in both: layer entries without `module`/`build_config`,
    dtypes as names, `InputLayer(batch_input_shape=...)`, functional nodes as lists of
    `[layer_name, node_index, tensor_index, kwargs]`. Functional nodes whose arguments are
    not all layer outputs (a constant argument), and models holding a nested Sequential
    model, stay in Keras 3's form, which Keras 3 reads.

    >>> config = downgrade_model_config({"class_name": "Sequential", "config": {"layers": [
    ...     {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
    ...      "config": {"batch_shape": [None, 4], "name": "x", "optional": False}}]}})
    >>> config["config"]["layers"][0]
    {'class_name': 'InputLayer', 'config': {'name': 'x', 'batch_input_shape': [None, 4]}}
    """
    config = _copy_json(config)
    _downgrade_entry(config)
    return config


def _downgrade_entry(entry):
    registered = entry.pop("registered_name", None)
    if isinstance(registered, str) and registered != entry.get("class_name"):
        entry["class_name"] = registered  # tf.keras 2.x's name for a registered class.
    for key in ("module", "build_config", "compile_config"):
        entry.pop(key, None)
    inner = entry.get("config")
    if not isinstance(inner, dict):
        return
    _downgrade_values(inner)
    if entry.get("class_name") == "InputLayer" and "batch_shape" in inner:
        inner["batch_input_shape"] = inner.pop("batch_shape")
    layers = inner.get("layers")
    if isinstance(layers, list):
        for layer in layers:
            if isinstance(layer, dict):
                _downgrade_entry(layer)
        if "input_layers" in inner and "output_layers" in inner:
            _downgrade_functional(inner)


def _downgrade_values(inner):
    """A layer's arguments: dtype policies as names, Keras-3-only inert arguments out."""
    stack = [inner]
    while stack:
        current = stack.pop()
        for key, inert in _KERAS3_ONLY_ARGUMENTS.items():
            if key in current and current[key] == inert:
                del current[key]
        for key, value in list(current.items()):
            if key == "layers":
                continue  # Layer entries are handled by _downgrade_entry.
            if isinstance(value, dict) and value.get("class_name") in _DTYPE_POLICIES and \
                    isinstance(value.get("config"), dict):
                current[key] = value["config"].get("name")
            elif isinstance(value, dict):
                if isinstance(value.get("config"), dict):
                    stack.append(value["config"])
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, dict))


def _downgrade_functional(inner):
    sequential = {layer.get("name") for layer in inner["layers"]
                  if isinstance(layer, dict) and layer.get("class_name") == "Sequential"}
    if sequential:
        # tf.keras 2.x counted a nested Sequential's own first node, Keras 3's legacy loader
        # does not: no list numbering reads right in both, so keep Keras 3's form.
        return
    converted = []
    for layer in inner["layers"]:
        nodes = layer.get("inbound_nodes", [])
        lists = [_node_as_list(node, sequential) for node in nodes]
        if any(node is None for node in lists):
            return  # Keep Keras 3's node form for the whole model.
        converted.append((layer, lists))
    for layer, lists in converted:
        layer["inbound_nodes"] = lists
    for key in ("input_layers", "output_layers"):
        value = inner[key]
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            value = [value]
        inner[key] = _renumber_up(value, sequential)


def _node_as_list(node, sequential):
    """`{"args": [...], "kwargs": {...}}` -> `[[name, node, tensor, kwargs], ...]` or None."""
    if not isinstance(node, dict):
        return node
    args, kwargs = node.get("args", []), dict(node.get("kwargs", {}))
    if len(args) != 1:
        return None
    tensors = args[0] if isinstance(args[0], list) else [args[0]]
    if not tensors or not all(_is_tensor(t) for t in tensors) or \
            any(_is_tensor(v) for v in kwargs.values()):
        return None
    kwargs.pop("mask", None) if kwargs.get("mask") is None else None
    return [_renumber_up(t["config"]["keras_history"], sequential) + [kwargs]
            for t in tensors]


def _is_tensor(value):
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _renumber_up(history, sequential):
    if isinstance(history, list) and len(history) == 3 and isinstance(history[0], str):
        name, node_index, tensor_index = history
        return [name, node_index + 1 if name in sequential else node_index, tensor_index]
    if isinstance(history, list):
        return [_renumber_up(item, sequential) for item in history]
    return history
