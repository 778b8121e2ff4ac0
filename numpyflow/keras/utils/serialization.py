"""Name lookup and config (de)serialization shared by the `keras.*` lookup modules.

`keras.losses`, `metrics`, `optimizers`, `optimizers.schedules`, `initializers` and
`activations` each map names to functions and classes, write objects as
`{"class_name": ..., "config": ...}`, and raise the same kinds of ValueError for names
they do not know. The wording of those errors is part of the public behaviour (tests pin
it), so the helpers below build the messages from pieces that each module passes in.
"""


def serialize_keras_object(obj):
    """`{"class_name", "config"}` for an object with `get_config()`.

    >>> class Thing:
    ...     def get_config(self):
    ...         return {"size": 3}
    >>> serialize_keras_object(Thing())
    {'class_name': 'Thing', 'config': {'size': 3}}
    """
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def serialize_object_or_function(obj, base_class, functions, kind):
    """`serialize_keras_object(obj)` for a `base_class` instance, else a known function's name.

    For modules whose functions are written by name (losses, metrics); anything else raises
    a ValueError.
    """
    if isinstance(obj, base_class):
        return serialize_keras_object(obj)
    name = getattr(obj, "__name__", None)
    if name in functions:
        return name
    raise ValueError(f"Cannot serialize {obj!r}: expected a {base_class.__name__} object or a "
                     f"built-in {kind} function.")


# `LossFunctionWrapper` and `MeanMetricWrapper` keep their function in the config as "fn".

def function_config(fn, functions):
    """A built-in function (one of `functions`) by name, a custom one as itself.

    The wrapper's `from_config` takes both back (see `config_with_function`).
    """
    return fn.__name__ if fn in functions.values() else fn


def config_with_function(config, get):
    """A copy of a wrapper's config whose "fn", if there is one, is the function `get` gives."""
    config = dict(config)
    if "fn" in config:
        config["fn"] = get(config["fn"])
    return config


def unknown_object_error(kind, name, valid, note="", lead="Expected one of"):
    """The ValueError for a `kind` name that is not known: it lists the `valid` names.

    >>> str(unknown_object_error("loss class", "Mse", ["MeanSquaredError"]))
    "Unknown loss class: 'Mse'. Expected one of ['MeanSquaredError']."
    """
    return ValueError(f"Unknown {kind}: {name!r}. {lead} {valid}{note}.")


def uninterpretable_error(kind, identifier, expected=None):
    """The ValueError for an identifier of the wrong type; `expected` says what would do.

    >>> str(uninterpretable_error("loss", 3, "Expected a name"))
    'Could not interpret loss identifier: 3. Expected a name.'
    """
    message = f"Could not interpret {kind} identifier: {identifier!r}."
    return ValueError(f"{message} {expected}." if expected else message)


def deserialize_keras_object(config, classes, functions=None, kind="object",
                             custom_objects=None, any_case=False):
    """The object a `serialize` result describes.

    Args:
      config: A `{"class_name", "config"}` dict: the class's `from_config(config)`. With
        `functions`, also a name: that function, or a new instance of that class; and
        `{"class_name": "function", "config": name}`, as Keras 3 writes functions.
      classes: Known classes by name.
      functions: Known functions by name, for modules that have them (losses, metrics).
      kind: What is looked up ("loss", "optimizer", ...), for error messages. Modules with
        functions say "<kind> class" or "<kind> function" there, to tell the two apart.
      custom_objects: Names that take precedence over `classes` and `functions`.
      any_case: Whether class names also match in any case ("adam" finds `Adam`).
    """
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        class_name = config.get("class_name")
        inner = config.get("config", {})
        if functions is not None and class_name == "function":
            return deserialize_keras_object(inner, classes, functions, kind, custom_objects,
                                            any_case)
        cls = custom_objects.get(class_name) or classes.get(class_name)
        if cls is None and any_case:
            by_lower_name = {name.lower(): known for name, known in classes.items()}
            cls = by_lower_name.get(str(class_name).lower())
        if cls is None:
            raise unknown_object_error(f"{kind} class" if functions is not None else kind,
                                       class_name, sorted(classes),
                                       " (any case)" if any_case else "")
        return cls.from_config(inner)
    if functions is not None and isinstance(config, str):
        found = custom_objects.get(config) or functions.get(config) or classes.get(config)
        if found is None:
            raise unknown_object_error(f"{kind} function", config,
                                       sorted(functions) + sorted(classes), ", or a callable")
        return found() if isinstance(found, type) else found
    raise uninterpretable_error(kind, config)
