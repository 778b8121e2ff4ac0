"""Keras 3 model configs rewritten as the Keras-2-style configs TensorFlow.js layers reads.

`tf.loadLayersModel` (tfjs-layers 4.x) deserializes the config that tf.keras 2.x wrote into
`.h5` files: `InputLayer(batch_input_shape=...)`, dtypes as names, functional nodes as
`[layer_name, node_index, tensor_index, kwargs]` lists, Keras 2 class names. It knows a fixed
set of classes, so every layer goes through `LAYER_RULES`, a table from Keras class name to a
function that rewrites that layer's arguments; a class missing from the table (a `Lambda`,
op layers, `RandomFlip`, ...) is refused with an error naming the layer and its class.
Nested objects (initializers, regularizers, constraints) go through their own small tables.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> config = tfjs_model_config(model)
    >>> config["class_name"], config["config"]["layers"][0]["config"]["batch_input_shape"]
    ('Sequential', [None, 3])
"""

from numpyflow.keras.saving import serialization_lib
from numpyflow.keras.saving.legacy_config import downgrade_model_config


class UnsupportedTfjsLayerError(ValueError):
    """A layer or argument that TensorFlow.js layers (4.x) cannot represent."""


# Activations tfjs-layers 4.x knows, under their Keras names; Keras 3's aliases mapped.
_ACTIVATIONS = {"elu": "elu", "gelu": "gelu", "hard_sigmoid": "hard_sigmoid",
                "linear": "linear", "log_softmax": "log_softmax", "mish": "mish",
                "relu": "relu", "relu6": "relu6", "selu": "selu", "sigmoid": "sigmoid",
                "softmax": "softmax", "softplus": "softplus", "softsign": "softsign",
                "swish": "swish", "silu": "swish", "tanh": "tanh", None: "linear"}

_INITIALIZERS = ("Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
                 "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal",
                 "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros")
_INITIALIZER_NAMES = {"LecunNormal": "LeCunNormal", "LecunUniform": "LeCunUniform"}
_CONSTRAINTS = ("MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm")

# Keras 3 arguments tfjs-layers does not take, dropped when they hold these (inert) values.
_INERT = {"synchronized": False, "rms_scaling": False, "use_cudnn": "auto"}


def tfjs_model_config(model):
    """`model`'s config (`{"class_name", "config"}`) in the form tfjs-layers 4.x loads.

    Args:
      model: A built Sequential or functional Keras model.

    Returns:
      A new JSON-ready dict.

    Raises:
      UnsupportedTfjsLayerError: for a layer (or a layer argument) tfjs cannot represent.
    """
    config = downgrade_model_config(serialization_lib.serialize_keras_object(model))
    if config.get("class_name") not in ("Sequential", "Functional"):
        raise UnsupportedTfjsLayerError(
            f"Cannot export model '{model.name}' ({type(model).__name__}) to TensorFlow.js: "
            "only Sequential and functional models can be written in the layers format.")
    inner = config["config"]
    build_input_shape = inner.pop("build_input_shape", None)
    if config["class_name"] == "Sequential":
        _add_input_layer(inner, build_input_shape, model)
        # tf.keras 2.x's Sequential config is just a name and layers.
        inner.pop("dtype", None)
        if inner.get("trainable", True):
            inner.pop("trainable", None)
    inner["layers"] = [convert_layer(entry, model.name) for entry in inner["layers"]]
    _resolve_batch_normalization_axes(inner["layers"], model)
    for key in ("input_layers", "output_layers"):
        if isinstance(inner.get(key), dict):
            # tfjs takes lists; keep the order of `model.inputs`/`model.outputs` (sorted keys).
            inner[key] = [inner[key][name] for name in sorted(inner[key])]
    if config["class_name"] == "Functional":
        for entry in inner["layers"]:
            for node in entry.get("inbound_nodes", []):
                if not isinstance(node, list):
                    raise UnsupportedTfjsLayerError(
                        f"Cannot export layer '{entry['name']}' of model '{model.name}' to "
                        "TensorFlow.js: it is called with arguments that are not layer outputs "
                        f"(a constant or keyword tensor); received the node {node!r}.")
    return config


def _add_input_layer(inner, build_input_shape, model):
    """A Sequential built from data (no `Input`) gets the `InputLayer` tfjs needs first."""
    layers = inner["layers"]
    if layers and layers[0].get("class_name") == "InputLayer":
        return
    if build_input_shape is None or not layers:
        raise UnsupportedTfjsLayerError(
            f"Cannot export Sequential model '{model.name}' to TensorFlow.js: its input shape "
            "is unknown; start it with `keras.Input(shape)` or build it first.")
    inputs = getattr(model, "inputs", None) or []
    dtype = getattr(getattr(inputs[0], "dtype", None), "name", None) if inputs else None
    first = layers[0].get("config", {}).get("name", "sequential")
    layers.insert(0, {"class_name": "InputLayer", "config": {
        "batch_input_shape": list(build_input_shape), "dtype": dtype or "float32",
        "name": f"{first}_input"}})


def _resolve_batch_normalization_axes(entries, model):
    """BatchNormalization's `axis` as tf.keras 2.x wrote it: a list of non-negative axes."""
    for entry in entries:
        axis = entry["config"].get("axis")
        if entry["class_name"] != "BatchNormalization" or not isinstance(axis, int):
            continue
        try:
            rank = len(model.get_layer(entry["config"]["name"]).input.shape)
        except (AttributeError, ValueError):
            continue  # Rank unknown: tfjs reads the negative axis too.
        entry["config"]["axis"] = [axis % rank]


def convert_layer(entry, model_name="the model"):
    """One layer entry `{"class_name", "config", ...}` rewritten for tfjs-layers."""
    class_name = entry.get("class_name")
    inner = entry.get("config") or {}
    name = inner.get("name", entry.get("name", "?"))
    rule = LAYER_RULES.get(class_name)
    if class_name in ("Sequential", "Functional", "Model"):
        raise UnsupportedTfjsLayerError(
            f"Cannot export layer '{name}' ({class_name}) of model '{model_name}' to "
            "TensorFlow.js: numpyflow does not export nested models yet; build the model "
            "from the inner model's layers instead (one flat Sequential or functional model).")
    if rule is None:
        raise UnsupportedTfjsLayerError(
            f"Cannot export layer '{name}' ({class_name}) of model '{model_name}' to "
            f"TensorFlow.js: tfjs-layers 4.x has no {class_name} layer. Layers that can be "
            f"exported: {', '.join(sorted(LAYER_RULES))}.")
    inner = _strip(dict(inner))
    for key, inert in _INERT.items():
        if key in inner and inner[key] == inert:
            del inner[key]
    inner = rule(inner, _Context(name, class_name))
    for key in ("kernel_initializer", "bias_initializer", "recurrent_initializer",
                "depthwise_initializer", "pointwise_initializer", "embeddings_initializer",
                "beta_initializer", "gamma_initializer", "moving_mean_initializer",
                "moving_variance_initializer"):
        if key in inner:
            inner[key] = _initializer(inner[key], _Context(name, class_name, key))
    for key in [k for k in inner if k.endswith("_regularizer")]:
        inner[key] = _regularizer(inner[key], _Context(name, class_name, key))
    for key in [k for k in inner if k.endswith("_constraint")]:
        inner[key] = _constraint(inner[key], _Context(name, class_name, key))
    for key in ("activation", "recurrent_activation"):
        if key in inner:
            inner[key] = _activation(inner[key], _Context(name, class_name, key))
    converted = {"class_name": class_name, "config": inner}
    for key in ("name", "inbound_nodes"):
        if key in entry:
            converted[key] = entry[key]
    return converted


class _Context:
    """Which layer (and argument) is being converted, for error messages."""

    def __init__(self, layer, class_name, argument=None):
        self.layer, self.class_name, self.argument = layer, class_name, argument

    def refuse(self, what, received, expected):
        where = f"argument `{self.argument}`: " if self.argument else ""
        shown = f"{self.argument}={received!r}" if self.argument else repr(received)
        return UnsupportedTfjsLayerError(
            f"Cannot export layer '{self.layer}' ({self.class_name}) to TensorFlow.js: "
            f"{where}{what} Received: {shown}; expected {expected}.")


def _strip(value):
    """Keras 3 serialization keys (`module`, `registered_name`, `build_config`) removed."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()
                if k not in ("module", "registered_name", "build_config", "compile_config")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


# -- nested objects ---------------------------------------------------------------------------

def _activation(value, context):
    if isinstance(value, dict):
        value = value.get("config", {}).get("name", value.get("class_name"))
    if value not in _ACTIVATIONS:
        raise context.refuse("tfjs-layers has no such activation.", value,
                             f"one of {sorted(k for k in _ACTIVATIONS if k)}")
    return _ACTIVATIONS[value]


def _initializer(value, context):
    if value is None:
        return None
    if isinstance(value, str):
        value = {"class_name": "".join(p.capitalize() for p in value.split("_")), "config": {}}
    class_name = value.get("class_name")
    if class_name not in _INITIALIZERS:
        raise context.refuse("tfjs-layers has no such initializer.", class_name,
                             f"one of {list(_INITIALIZERS)}")
    return {"class_name": _INITIALIZER_NAMES.get(class_name, class_name),
            "config": dict(value.get("config") or {})}


def _regularizer(value, context):
    if value is None:
        return None
    class_name, config = value.get("class_name"), dict(value.get("config") or {})
    if class_name in ("L1", "L2", "L1L2"):
        return {"class_name": "L1L2", "config": {"l1": float(config.get("l1", 0.0)),
                                                  "l2": float(config.get("l2", 0.0))}}
    raise context.refuse("tfjs-layers has no such regularizer.", class_name,
                         "L1, L2 or L1L2")


def _constraint(value, context):
    if value is None:
        return None
    if value.get("class_name") not in _CONSTRAINTS:
        raise context.refuse("tfjs-layers has no such constraint.", value.get("class_name"),
                             f"one of {list(_CONSTRAINTS)}")
    return {"class_name": value["class_name"], "config": dict(value.get("config") or {})}


# -- layer rules: each takes the layer's arguments and returns tfjs's -------------------------

def _refuse_keys(config, context, keep=(), **allowed):
    """Refuses arguments whose value tfjs cannot honour (any value but `allowed[key]`);
    the others are dropped, except those in `keep` (tf.keras 2.x wrote them too)."""
    for key, value in allowed.items():
        if key in config:
            if config[key] != value:
                context.argument = key
                raise context.refuse("tfjs-layers does not support this argument.",
                                     config[key], repr(value))
            if key not in keep:
                del config[key]
    return config


def _same(config, context):
    return config


def _conv(config, context):
    if config.get("padding") == "causal":
        context.argument = "padding"
        raise context.refuse("tfjs-layers 4.x does not run causal padding (pad the input with "
                             "ZeroPadding1D and use padding='valid' instead).", "causal",
                             "'valid' or 'same'")
    return _refuse_keys(config, context, keep=("groups",), groups=1)


def _conv_transpose(config, context):
    return _refuse_keys(config, context, output_padding=None, groups=1)


def _depthwise(config, context):
    config = _refuse_keys(config, context, keep=("groups",), groups=1)
    config.pop("filters", None)
    config.setdefault("groups", 1)  # tf.keras 2.x's DepthwiseConv2D wrote Conv2D's argument.
    for keras3, keras2 in (("kernel_initializer", "depthwise_initializer"),
                           ("kernel_regularizer", "depthwise_regularizer"),
                           ("kernel_constraint", "depthwise_constraint")):
        if keras3 in config:
            config[keras2] = config.pop(keras3)
    return config


def _global_pooling(config, context):
    return _refuse_keys(config, context, keep=("keepdims",), keepdims=False)


def _layer_normalization(config, context):
    return _refuse_keys(config, context, rms_scaling=False)


def _recurrent(config, context):
    config = _refuse_keys(config, context, keep=("unroll",), unroll=False)
    config.pop("zero_output_for_mask", None)  # tfjs always zeroes masked outputs.
    config.pop("seed", None)
    # tf.keras 2.x's arguments, with the only values Keras 3 computes.
    config.setdefault("time_major", False)
    config.setdefault("implementation", 2)
    return config


def _gru(config, context):
    # tfjs-layers 4.x computes only tf.keras 1.x's GRU (reset gate before the matrix product).
    if config.get("reset_after", False):
        context.argument = "reset_after"
        raise context.refuse("tfjs-layers 4.x implements only GRU(reset_after=False) (build "
                             "the model with that to export it).", True, "False")
    return _recurrent(config, context)


def _wrapped(config, context):
    config["layer"] = convert_layer(config["layer"], context.layer)
    return config


def _bidirectional(config, context):
    backward = config.pop("backward_layer", None)
    forward = config["layer"]
    if backward is not None:
        mirrored = dict(backward["config"], name=forward["config"]["name"],
                        go_backwards=forward["config"].get("go_backwards", False))
        if backward.get("class_name") != forward.get("class_name") or \
                _strip(mirrored) != _strip(forward["config"]):
            context.argument = "backward_layer"
            raise context.refuse("tfjs-layers builds the backward layer itself, as a mirror "
                                 "of `layer`.", backward.get("class_name"),
                                 "a backward layer configured like the forward one")
    # tfjs names the halves itself (forward_<name>/backward_<name>): give it the inner name.
    layer = dict(forward)
    layer["config"] = dict(forward["config"])
    name = layer["config"]["name"]
    if name.startswith("forward_"):
        layer["config"]["name"] = name[len("forward_"):]
    config["layer"] = convert_layer(layer, context.layer)
    return config


def _relu(config, context):
    config = _refuse_keys(config, context, negative_slope=0.0, threshold=0.0)
    return config


def _leaky_relu(config, context):
    if "negative_slope" in config:
        config["alpha"] = config.pop("negative_slope")
    return config


def _elu(config, context):
    return _refuse_keys(config, context, keep=("alpha",), alpha=1.0)


def _input_layer(config, context):
    for key in ("sparse", "ragged"):
        if config.get(key, False):
            context.argument = key
            raise context.refuse("tfjs-layers has only dense inputs.", config[key], "False")
    config.setdefault("ragged", False)
    dtype = config.get("dtype")
    if dtype not in (None, "float32", "int32", "bool"):
        narrowed = _NARROWED_DTYPES.get(dtype)
        if narrowed is None:
            context.argument = "dtype"
            raise context.refuse("tfjs-layers inputs are float32, int32 or bool.", dtype,
                                 "a float, int or bool dtype")
        config["dtype"] = narrowed
    return config


# Input dtypes tfjs lacks, as the converter narrows weights (int64 -> int32, ...).
_NARROWED_DTYPES = {"float16": "float32", "float64": "float32", "bfloat16": "float32",
                    "int64": "int32", "int16": "int32", "int8": "int32", "uint8": "int32",
                    "uint16": "int32"}


def _embedding(config, context):
    config = _refuse_keys(config, context, lora_rank=None)
    config.setdefault("input_length", None)  # tf.keras 2.x's argument; tfjs reads it.
    return config


LAYER_RULES = {
    "InputLayer": _input_layer,
    "Dense": _same, "Activation": _same, "Dropout": _same, "Flatten": _same,
    "Reshape": _same, "Permute": _same, "RepeatVector": _same, "Masking": _same,
    "Conv1D": _conv, "Conv2D": _conv, "Conv2DTranspose": _conv_transpose,
    "DepthwiseConv2D": _depthwise, "SeparableConv2D": _conv,
    "MaxPooling1D": _same, "MaxPooling2D": _same,
    "AveragePooling1D": _same, "AveragePooling2D": _same,
    "GlobalMaxPooling1D": _global_pooling, "GlobalMaxPooling2D": _global_pooling,
    "GlobalAveragePooling1D": _global_pooling, "GlobalAveragePooling2D": _global_pooling,
    "BatchNormalization": _same, "LayerNormalization": _layer_normalization,
    "Concatenate": _same, "Add": _same, "Multiply": _same, "Average": _same,
    "Maximum": _same, "Minimum": _same, "Dot": _same,
    "ZeroPadding2D": _same, "Cropping2D": _same, "UpSampling2D": _same,
    "Embedding": _embedding,
    "SimpleRNN": _recurrent, "LSTM": _recurrent, "GRU": _gru,
    "Bidirectional": _bidirectional, "TimeDistributed": _wrapped,
    "Rescaling": _same, "Softmax": _same, "ReLU": _relu, "LeakyReLU": _leaky_relu,
    "ELU": _elu, "SpatialDropout1D": _same, "GaussianNoise": _same,
    "GaussianDropout": _same, "AlphaDropout": _same,
}
