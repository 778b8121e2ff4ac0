"""Keras 3's config format: objects to JSON-ready dicts and back.

An object with `get_config()` is written as

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {"input_shape": [None, 784]}}

with Keras's public module names for numpyflow's own classes, so that Keras 3 reads what
numpyflow writes and numpyflow reads what Keras 3 writes. A custom class is written with its
Python module and its registered name (`"package>Name"` once registered with
`register_keras_serializable`). Functions are written as Keras writes them:
`{"module": "builtins", "class_name": "function", "config": "relu", ...}`.

Reading never imports a module named in a config and never evaluates code. A class is found,
in order, in the `custom_objects` passed, the active `custom_object_scope`s, the registry,
and numpyflow's own public classes for the config's Keras module; anything else is a
ValueError that says how to make the class known.

    >>> import numpyflow as tf
    >>> config = tf.keras.saving.serialize_keras_object(tf.keras.initializers.Zeros())
    >>> config
    {'module': 'keras.initializers', 'class_name': 'Zeros', 'config': {}, 'registered_name': None}
    >>> tf.keras.saving.deserialize_keras_object(config)
    Zeros()
"""

import importlib
import threading
import types
import warnings

import numpy as np

import numpyflow as tf
from numpyflow.keras.saving import object_registration

_PLAIN_TYPES = (str, int, float, bool)

# Keras's public modules and the numpyflow modules that hold their classes and functions.
# The modules are imported only when a config needs them, and only from this table: a
# module that numpyflow does not have (yet) simply holds nothing.
_NAMESPACES = {
    "keras.layers": ("numpyflow.keras.layers",),
    "keras.initializers": ("numpyflow.keras.initializers",),
    "keras.regularizers": ("numpyflow.keras.regularizers",),
    "keras.constraints": ("numpyflow.keras.constraints",),
    "keras.optimizers.schedules": ("numpyflow.keras.optimizers.schedules",),
    "keras.optimizers": ("numpyflow.keras.optimizers",),
    "keras.losses": ("numpyflow.keras.losses",),
    "keras.metrics": ("numpyflow.keras.metrics",),
    "keras.activations": ("numpyflow.keras.activations",),
    "keras.callbacks": ("numpyflow.keras.callbacks",),
    "keras": ("numpyflow.keras", "numpyflow.keras.models", "numpyflow.keras.models.functional"),
    "keras.models": ("numpyflow.keras.models", "numpyflow.keras.models.functional"),
}

# Where the functions of configs written as {"module": "builtins", "class_name": "function"}
# are looked for, as Keras looks for them.
_FUNCTION_MODULES = ("keras.activations", "keras.constraints", "keras.initializers",
                     "keras.losses", "keras.metrics", "keras.optimizers", "keras.regularizers")

# Keras writes functional models under this module, registered under their class name.
_FUNCTIONAL_MODULE = "keras.src.models.functional"

# Module prefixes that mean the same public module (Keras's private tree, numpyflow's own).
_MODULE_PREFIXES = ("keras.src.", "numpyflow.keras.", "tf_keras.src.", "tf_keras.")

_thread_state = threading.local()


# -- safe mode ----------------------------------------------------------------------------

class SafeModeScope:
    """Sets whether nested deserialization may load unsafe objects (lambdas), per thread."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._outer = in_safe_mode()
        _thread_state.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc_info):
        _thread_state.safe_mode = self._outer


def in_safe_mode():
    """The safe mode of the innermost `SafeModeScope` of this thread, else None."""
    return getattr(_thread_state, "safe_mode", None)


# -- finding numpyflow's own classes and functions ----------------------------------------

def _import_namespace(path):
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as error:
        if error.name == path:  # numpyflow does not have this module (yet).
            return None
        raise


def _is_own(obj, want):
    """Whether `obj` is a numpyflow class (want="class") or function (want="function")."""
    if not getattr(obj, "__module__", "").startswith("numpyflow."):
        return False
    if want == "class":
        return isinstance(obj, type)
    return callable(obj) and not isinstance(obj, (type, types.ModuleType))


def _find_in_namespace(keras_module, name, want):
    """numpyflow's public class or function `name` of Keras module `keras_module`, or None."""
    if not isinstance(name, str) or name.startswith("_"):
        return None
    for path in _NAMESPACES.get(keras_module, ()):
        module = _import_namespace(path)
        obj = vars(module).get(name) if module is not None else None
        if obj is not None and _is_own(obj, want):
            return obj
    return None


def public_keras_module(module):
    """The key of `_NAMESPACES` that a config's `module` stands for, or None.

    "keras.src.layers.core.dense" and "numpyflow.keras.layers.core" both mean "keras.layers".

    >>> public_keras_module("keras.src.losses.losses"), public_keras_module("my_pkg")
    ('keras.losses', None)
    """
    if not isinstance(module, str):
        return None
    for prefix in _MODULE_PREFIXES:
        if module.startswith(prefix):
            module = "keras." + module[len(prefix):]
            break
    else:
        if module in ("numpyflow.keras", "tf_keras"):
            module = "keras"
    parts = module.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in _NAMESPACES:
            return candidate
        parts.pop()
    return None


def _public_name(cls):
    """(Keras module, registered name) under which numpyflow's class `cls` is written, or
    None for classes that Keras does not export."""
    if not getattr(cls, "__module__", "").startswith("numpyflow."):
        return None
    if cls.__name__ == "Functional" and \
            _find_in_namespace("keras.models", "Functional", "class") is cls:
        return _FUNCTIONAL_MODULE, "Functional"
    exported_in = [keras_module for keras_module in _NAMESPACES
                   if _find_in_namespace(keras_module, cls.__name__, "class") is cls]
    # A namespace may re-export another's class (metrics a loss, say): prefer the one whose
    # numpyflow module defines it.
    for keras_module in exported_in:
        if any(cls.__module__ == path or cls.__module__.startswith(path + ".")
               for path in _NAMESPACES[keras_module] if path != "numpyflow.keras"):
            return keras_module, None
    return (exported_in[0], None) if exported_in else None


# -- serialization ------------------------------------------------------------------------

def serialize_keras_object(obj):
    """The JSON-ready Keras 3 config of `obj`.

    Plain values stay as they are, tuples become lists (as in JSON), dicts and lists are
    serialized item by item, arrays and tensors become `{"class_name": "__numpy__"}` /
    `"__tensor__"` dicts, functions become `{"class_name": "function"}` dicts, and objects
    with `get_config()` become `{"module", "class_name", "config", "registered_name"}` dicts
    (plus "build_config" for built layers).

    Raises:
      TypeError: for an object without `get_config()`.
      ValueError: for a lambda (it could only be reloaded by running its code).

    >>> serialize_keras_object((1, 2.5, "same"))
    [1, 2.5, 'same']
    """
    if obj is None or isinstance(obj, _PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return serialize_dict(obj)
    if isinstance(obj, tf.TensorShape):
        return None if obj.rank is None else obj.as_list()
    if isinstance(obj, tf.DType):
        return obj.name
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, tf.Tensor):  # Dense only: a SparseTensor is refused below.
        return {"class_name": "__tensor__",
                "config": {"value": np.asarray(obj.numpy()).tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__",
                "config": {"start": serialize_keras_object(obj.start),
                           "stop": serialize_keras_object(obj.stop),
                           "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, type):
        raise TypeError(f"Cannot serialize the class {obj.__name__} itself: serialize an "
                        f"instance of it (an object with `get_config()`).")
    if _is_function(obj):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}. To be "
                        f"serializable, a class must implement the `get_config()` method.")
    inner = obj.get_config()
    if not isinstance(inner, dict):
        raise TypeError(f"The `get_config()` method of {type(obj).__name__} should return a "
                        f"dict. It returned: {inner!r}")
    config = {**_class_reference(type(obj)), "config": serialize_dict(inner)}
    config = {key: config[key] for key in ("module", "class_name", "config", "registered_name")}
    _add_build_and_compile_config(obj, config)
    return config


def serialize_dict(config):
    """`config` with each value serialized (keys stay)."""
    return {key: serialize_keras_object(value) for key, value in config.items()}


def _is_function(obj):
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc))


def _serialize_function(fn):
    if getattr(fn, "__name__", None) == "<lambda>":
        raise ValueError("Cannot serialize a lambda: numpyflow never runs code from a config, "
                         "so it could not be loaded again. Use a named function (registered "
                         "with `@keras.saving.register_keras_serializable()`) instead.")
    registered = object_registration.get_registered_name(fn) \
        if object_registration.is_registered(fn) else "function"
    return {"module": "builtins", "class_name": "function", "config": fn.__name__,
            "registered_name": registered}


def _class_reference(cls):
    """The "module", "class_name" and "registered_name" entries for an instance of `cls`."""
    if object_registration.is_registered(cls):
        return {"module": cls.__module__, "class_name": cls.__name__,
                "registered_name": object_registration.get_registered_name(cls)}
    public = _public_name(cls)
    if public is not None:
        module, registered_name = public
        return {"module": module, "class_name": cls.__name__, "registered_name": registered_name}
    # An unregistered custom class: readable with `custom_objects`, as in Keras.
    module = None if cls.__module__ == "__main__" else cls.__module__
    return {"module": module, "class_name": cls.__name__, "registered_name": cls.__name__}


def _add_build_and_compile_config(obj, config):
    get_build_config = getattr(obj, "get_build_config", None)
    if get_build_config is not None:
        build_config = get_build_config()
        if build_config is not None:
            config["build_config"] = serialize_dict(build_config)
    get_compile_config = getattr(obj, "get_compile_config", None)
    if get_compile_config is not None:
        compile_config = get_compile_config()
        if compile_config is not None:
            config["compile_config"] = serialize_dict(compile_config)


# -- deserialization ----------------------------------------------------------------------

def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a Keras 3 (or older `{"class_name", "config"}`) config describes.

    Args:
      config: What `serialize_keras_object` returned (or Keras 3 wrote).
      custom_objects: Optional `{name: class_or_function}`, looked up first, by registered
        name and by class name.
      safe_mode: Whether to refuse lambdas (numpyflow refuses them either way: it never
        runs code from a config).
      **kwargs: `module_objects` (a `{name: class_or_function}` dict of a library's own
        objects, for configs without a module) and `printable_module_name` (what is
        looked up, for error messages).

    Returns:
      The object; `cls.from_config(config["config"])` for classes, built from
      "build_config" when there is one.

    Raises:
      ValueError: for a class or function that cannot be found; the message says how to
        make it known.

    >>> deserialize_keras_object({"module": "keras.initializers", "class_name": "Constant",
    ...                           "config": {"value": 2.0}, "registered_name": None})
    Constant(value=2.0)
    """
    module_objects = kwargs.pop("module_objects", None)
    kind = kwargs.pop("printable_module_name", "object")
    if kwargs:
        raise TypeError(f"deserialize_keras_object got unexpected keyword arguments: "
                        f"{sorted(kwargs)}")
    outer_safe_mode = in_safe_mode()
    safe_mode = outer_safe_mode if outer_safe_mode is not None else safe_mode
    custom_objects = dict(custom_objects or {})

    def recurse(item):
        return deserialize_keras_object(item, custom_objects=custom_objects,
                                        safe_mode=safe_mode, module_objects=module_objects,
                                        printable_module_name=kind)

    if config is None:
        return None
    if isinstance(config, str):
        found = object_registration.get_registered_object(config, custom_objects)
        return config if found is None else found
    if isinstance(config, _PLAIN_TYPES):
        return config
    if isinstance(config, (list, tuple)):
        return [recurse(item) for item in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: recurse(value) for key, value in config.items()}

    class_name = config["class_name"]
    inner = config["config"]
    special = _deserialize_special(class_name, inner, recurse, safe_mode)
    if special is not _NOT_SPECIAL:
        return special
    module = config.get("module")
    registered_name = config.get("registered_name")
    if class_name in _DTYPE_POLICIES and public_keras_module(module) == "keras":
        return dtype_policy_name(config)
    if class_name == "function":
        return _find_function(inner, registered_name, module, custom_objects, module_objects,
                              kind, config)
    cls = _find_class(class_name, registered_name, module, custom_objects, module_objects,
                      kind, config)
    if not isinstance(cls, type):
        return cls  # A function registered or passed under a class name.
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Unable to reconstruct an instance of '{class_name}' because the "
                        f"class is missing a `from_config()` method. Full object config: "
                        f"{_short(config)}")
    # Nested configs inside (a Sequential's layers, say) see the same custom objects.
    with object_registration.CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
        instance = cls.from_config(inner if inner is not None else {})
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            instance.build_from_config(build_config)
        compile_config = config.get("compile_config")
        if compile_config:
            if hasattr(instance, "compile_from_config"):
                instance.compile_from_config(compile_config)
            else:
                warnings.warn(f"{cls.__name__} cannot be compiled from the config's "
                              f"'compile_config' (it has no `compile_from_config`); the "
                              f"object is returned uncompiled.", stacklevel=2)
    return instance


_NOT_SPECIAL = object()

# Keras 3.4+ writes a layer's dtype as a policy; numpyflow layers take the dtype's name.
_DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy")


def dtype_policy_name(config):
    """The dtype name of a Keras 3 `DTypePolicy` config (or of a plain dtype name).

    Raises:
      NotImplementedError: for mixed-precision and quantized policies.

    >>> dtype_policy_name({"module": "keras", "class_name": "DTypePolicy",
    ...                    "config": {"name": "float32"}, "registered_name": None})
    'float32'
    """
    if not isinstance(config, dict):
        return config
    name = (config.get("config") or {}).get("name")
    if config.get("class_name") not in _DTYPE_POLICIES or not isinstance(name, str) or \
            name.startswith("mixed_"):
        raise NotImplementedError(f"numpyflow supports only plain dtype policies such as "
                                  f"'float32' (no mixed precision or quantization). "
                                  f"Received: dtype={config!r}")
    return name


def _deserialize_special(class_name, inner, recurse, safe_mode):
    """The values that Keras writes under reserved class names, else `_NOT_SPECIAL`."""
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__tensor__":
        return tf.constant(inner["value"], dtype=inner["dtype"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(recurse(inner["start"]), recurse(inner["stop"]), recurse(inner["step"]))
    if class_name == "__keras_tensor__":
        # A reference to a layer's output inside a functional model's config: only the
        # model's `from_config`, which knows its layers, can resolve it.
        return {"class_name": class_name, "config": inner}
    if class_name == "__lambda__":
        if safe_mode:
            raise ValueError("Requested the deserialization of a `lambda` object. This carries "
                             "a potential risk of arbitrary code execution and thus it is "
                             "disallowed. Replace the lambda by a named function registered "
                             "with `@keras.saving.register_keras_serializable()`.")
        raise NotImplementedError("numpyflow cannot load a `lambda` even with "
                                  "safe_mode=False: it never runs code from a config. Replace "
                                  "the lambda by a named, registered function.")
    return _NOT_SPECIAL


def _custom(names, custom_objects):
    for name in names:
        if isinstance(name, str):
            found = object_registration.get_registered_object(name, custom_objects)
            if found is not None:
                return found
    return None


def _find_class(class_name, registered_name, module, custom_objects, module_objects, kind,
                config):
    found = _custom((registered_name, class_name), custom_objects)
    if found is not None:
        return found
    keras_module = public_keras_module(module)
    if keras_module is not None:
        found = _find_in_namespace(keras_module, class_name, "class")
    if found is None and module_objects and (module is None or keras_module is not None):
        found = module_objects.get(class_name)
    if found is None and module is None:
        for namespace in _NAMESPACES:
            found = _find_in_namespace(namespace, class_name, "class")
            if found is not None:
                break
    if found is None:
        raise _not_found_error("class", class_name, module, keras_module, kind, config)
    return found


def _find_function(name, registered_name, module, custom_objects, module_objects, kind,
                   config):
    if registered_name == "function":  # Keras's marker for "not registered".
        registered_name = None
    found = _custom((registered_name, name), custom_objects)
    if found is not None:
        return found
    keras_module = public_keras_module(module)
    if keras_module is not None:
        found = _find_in_namespace(keras_module, name, "function")
    if found is None and module in (None, "builtins"):
        if module_objects:
            found = module_objects.get(name)
        for namespace in _FUNCTION_MODULES:
            if found is not None:
                break
            found = _find_in_namespace(namespace, name, "function")
        if found is None and isinstance(name, str):
            # A registered function written by Keras under its bare name: "package>name".
            known = {**object_registration.get_custom_objects(),
                     **object_registration.scope_objects(), **custom_objects}
            matches = [obj for key, obj in known.items() if key.endswith(">" + name)]
            found = matches[0] if matches else None
    if found is None:
        raise _not_found_error("function", name, module, keras_module, kind, config)
    return found


def _not_found_error(what, name, module, keras_module, kind, config):
    where = f" in {keras_module}" if keras_module is not None else (
        f" (module {module!r})" if module not in (None, "builtins") else "")
    subject = f"{kind} {what}" if kind != "object" else what
    builtin_note = (f" numpyflow has no {what} of that name{where}." if keras_module else
                    " numpyflow never imports modules named in a config.")
    return ValueError(
        f"Could not locate {subject} {name!r}{where}.{builtin_note} If it is a custom "
        f"{what}, pass it in `custom_objects={{{name!r}: ...}}`, use "
        f"`keras.saving.custom_object_scope`, or decorate it with "
        f"`@keras.saving.register_keras_serializable()`. Full object config: {_short(config)}")


def _short(config, limit=400):
    text = repr(config)
    return text if len(text) <= limit else text[:limit] + " ...}"
