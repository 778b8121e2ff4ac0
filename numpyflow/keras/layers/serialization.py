"""`keras.layers.serialize`, `deserialize` and `get`: layers to Keras 3 configs and back.

Any layer class of `keras.layers` is found by its class name, as are the models
(`Sequential`, `Functional`, `Model`), which are layers too. The classes are looked up in
the `keras.layers` and `keras.models` namespaces when a config is read, so layers added to
numpyflow need no entry here.

    >>> import numpyflow as tf
    >>> config = tf.keras.layers.serialize(tf.keras.layers.Dropout(0.5))
    >>> config["module"], config["class_name"], config["config"]["rate"]
    ('keras.layers', 'Dropout', 0.5)
    >>> tf.keras.layers.deserialize(config).rate
    0.5
"""

import importlib

from numpyflow.keras.layers.base_layer import Layer
from numpyflow.keras.saving import serialization_lib

# Where classes named in a layer config without a module (the older format) are looked for.
_LAYER_NAMESPACES = ("numpyflow.keras.layers", "numpyflow.keras.models",
                     "numpyflow.keras.models.functional")


def _layer_classes():
    """`{class name: class}` of numpyflow's public layer and model classes, as of now."""
    classes = {}
    for path in _LAYER_NAMESPACES:
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as error:
            if error.name != path:
                raise
            continue
        for name, obj in vars(module).items():
            if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, Layer):
                classes.setdefault(name, obj)
    return classes


def serialize(layer):
    """The Keras 3 config of a layer (or model).

    Returns:
      `{"module", "class_name", "config", "registered_name"}`, plus "build_config" when the
      layer is built.
    """
    if not isinstance(layer, Layer):
        raise ValueError(f"keras.layers.serialize expects a Layer. Received: {layer!r} of "
                         f"type {type(layer).__name__}")
    return serialization_lib.serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer (or model) a config describes, built if the config says how.

    Args:
      config: A Keras 3 config, or the older `{"class_name", "config"}` form.
      custom_objects: Optional `{name: class}` for custom layers that are not registered.

    Raises:
      ValueError: for an unknown class (the message says how to make it known) or a config
        that does not describe a layer.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"keras.layers.deserialize expects a config dict with 'class_name' "
                         f"and 'config' keys. Received: {config!r}")
    config = {"config": {}, **config}
    layer = serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=_layer_classes(),
        printable_module_name="layer")
    if not isinstance(layer, Layer):
        raise ValueError(f"keras.layers.deserialize was passed a config that does not describe "
                         f"a Layer: class {config['class_name']!r} gave {layer!r}.")
    return layer


def get(identifier):
    """A layer from a layer, a config dict, or a class name (a layer with default arguments).

    >>> get("Flatten").__class__.__name__
    'Flatten'
    """
    if identifier is None or isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret layer identifier: {identifier!r}. Expected a "
                     f"Layer, a config dict or a layer class name.")
