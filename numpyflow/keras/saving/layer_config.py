"""What `Layer` needs to be saved and loaded in Keras 3's format.

- The shapes a layer was built for, kept by wrapping each layer class's `build` (as Keras
  does), so that `get_build_config()` gives Keras 3's `{"input_shape": [None, 784]}` and
  `build_from_config` can build a loaded layer the same way.
- The constructor arguments of a layer config written by Keras 3, whose `dtype` is a
  `DTypePolicy` dict and which may carry arguments that numpyflow's layers do not take but
  whose values change nothing (`lora_rank=None`, ...).
"""

import functools
import inspect
import numbers

import numpyflow as tf
from numpyflow.keras.saving.serialization_lib import dtype_policy_name

# Keras 3 arguments that numpyflow's layers do not take, with the value that turns each off.
# A config that gives one of them this value loads (the argument is left out); any other
# value reaches the layer's constructor, which rejects it by name.
_INERT_KERAS3_ARGUMENTS = {"lora_rank": None, "lora_alpha": None, "quantization_config": None,
                           "optional": False, "renorm": False, "renorm_clipping": None,
                           "renorm_momentum": 0.99}


# -- build config ---------------------------------------------------------------------------

def shape_to_config(shape):
    """A shape (or a list/dict of shapes) as JSON lists: `TensorShape([None, 4])` -> [None, 4].

    >>> shape_to_config((None, 4)), shape_to_config([(2,), tf.TensorShape([3, None])])
    ([None, 4], [[2], [3, None]])
    """
    if shape is None:
        return None
    if isinstance(shape, tf.TensorShape):
        return None if shape.rank is None else shape.as_list()
    if isinstance(shape, dict):
        return {key: shape_to_config(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)):
        if all(dim is None or isinstance(dim, numbers.Integral) for dim in shape):
            return [None if dim is None else int(dim) for dim in shape]
        return [shape_to_config(item) for item in shape]
    return shape


def shape_from_config(config):
    """A shape of a build config as layers take it: lists of dims become tuples.

    >>> shape_from_config([None, 4]), shape_from_config([[None, 3], [None, 4]])
    ((None, 4), [(None, 3), (None, 4)])
    """
    if isinstance(config, dict):
        return {key: shape_from_config(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        if all(dim is None or isinstance(dim, numbers.Integral) for dim in config):
            return tuple(config)
        return [shape_from_config(item) for item in config]
    return config


def recording_build(build):
    """`build`, wrapped to remember the shapes of its outermost successful call.

    Layers call `super().build(...)` from their own `build`: only the outermost call, the
    one made with the layer's input shape, is remembered.
    """
    if getattr(build, "_records_build_shapes", False):
        return build

    @functools.wraps(build)
    def build_and_record(self, *args, **kwargs):
        if getattr(self, "_in_recorded_build", False):
            return build(self, *args, **kwargs)
        object.__setattr__(self, "_in_recorded_build", True)
        try:
            result = build(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_in_recorded_build", False)
        if len(args) == 1 and not kwargs:
            recorded = {"input_shape": shape_to_config(args[0])}
        elif kwargs and not args:
            recorded = {"shapes_dict": {key: shape_to_config(value)
                                        for key, value in kwargs.items()}}
        else:
            recorded = None  # A build without shapes (or mixing both): nothing to redo.
        object.__setattr__(self, "_build_shapes_config", recorded)
        return result

    build_and_record._records_build_shapes = True
    return build_and_record


def get_build_config(layer):
    """Keras 3's build config of `layer`: `{"input_shape": ...}`, or None if there is none
    (the layer is not built, or was built without a `build` of its own)."""
    if not layer.built:
        return None
    return getattr(layer, "_build_shapes_config", None)


def build_from_config(layer, config):
    """Builds `layer` for the shapes a `get_build_config()` result gives."""
    if not config:
        return
    if "input_shape" in config:
        layer.build(shape_from_config(config["input_shape"]))
    elif "shapes_dict" in config:
        layer.build(**{key: shape_from_config(value)
                       for key, value in config["shapes_dict"].items()})
    else:
        raise ValueError(f"Layer '{layer.name}' cannot be built from the build config "
                         f"{config!r}: expected an 'input_shape' or 'shapes_dict' key.")
    layer.built = True


# -- layer configs written by Keras 3 -------------------------------------------------------

def constructor_arguments(cls, config):
    """The keyword arguments of `cls(**...)` for a layer config, Keras 3's included.

    >>> constructor_arguments(object, {"name": "d", "lora_rank": None,
    ...     "dtype": {"module": "keras", "class_name": "DTypePolicy",
    ...               "config": {"name": "float32"}, "registered_name": None}})
    {'name': 'd', 'dtype': 'float32'}
    """
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = dtype_policy_name(config["dtype"])
    explicit = _explicit_parameters(cls)
    for key, inert_value in _INERT_KERAS3_ARGUMENTS.items():
        if key in config and key not in explicit and config[key] == inert_value:
            del config[key]
    return config


def _explicit_parameters(cls):
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name, parameter in parameters.items()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD}
