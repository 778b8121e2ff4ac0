"""Name lookup and config (de)serialization shared by the `keras.*` lookup modules.

`keras.losses`, `metrics`, `optimizers`, `optimizers.schedules`, `initializers` and
`activations` each map names to functions and classes, and write and read objects in Keras
3's config format (`keras.saving.serialize_keras_object`). The helpers below give them one
way to do it on top of the custom-object registry: a name or config is looked up in the
`custom_objects` passed, the active custom object scopes and the registry before the
module's own table. The wording of the errors for unknown names is part of the public
behaviour (tests pin it), so the helpers build the messages from pieces that each module
passes in.
"""

from numpyflow.keras.saving import object_registration, serialization_lib
from numpyflow.keras.saving.serialization_lib import serialize_keras_object


def serialize_object_or_function(obj, base_class, functions, kind):
    """The Keras 3 config of a `base_class` instance or of a function.

    Built-in functions (the values of `functions`) and registered ones are written as
    Keras 3 writes functions; anything else without `get_config()` raises a ValueError.

    >>> from numpyflow.keras import losses
    >>> serialize_object_or_function(losses.mse, losses.Loss, {}, "loss")["config"]
    'mean_squared_error'
    """
    if isinstance(obj, base_class) or hasattr(obj, "get_config"):
        return serialize_keras_object(obj)
    if getattr(obj, "__name__", "<lambda>") != "<lambda>" and callable(obj):
        return serialize_keras_object(obj)
    raise ValueError(f"Cannot serialize {obj!r}: expected a {base_class.__name__} object or a "
                     f"named {kind} function.")


# `LossFunctionWrapper` and `MeanMetricWrapper` keep their function in the config as "fn".

def function_config(fn, functions):
    """A built-in function (one of `functions`) by name, a registered one as its Keras 3
    config, any other as itself (it round-trips in memory only).

    The wrapper's `from_config` takes all three back (see `config_with_function`).
    """
    if any(fn is known for known in functions.values()):
        return fn.__name__
    if object_registration.is_registered(fn):
        return serialize_keras_object(fn)
    return fn


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


def get_from_identifier(identifier, deserialize, kind, expected):
    """What a module's `get(identifier)` returns for None (None), a name or config dict (what
    `deserialize` makes of it), a class (a new default instance) or any callable (itself);
    anything else raises `uninterpretable_error(kind, identifier, expected)`.

    >>> from numpyflow.keras import constraints
    >>> get_from_identifier("non_neg", constraints.deserialize, "constraint", "Expected a name")
    NonNeg()
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise uninterpretable_error(kind, identifier, expected)


def custom_object(name, custom_objects=None):
    """The object `name` stands for in `custom_objects`, the active scopes or the registry."""
    if not isinstance(name, str):
        return None
    return object_registration.get_registered_object(name, custom_objects)


def deserialize_from_tables(config, classes, functions=None, kind="object",
                            custom_objects=None, any_case=False, names=None):
    """The object a `serialize` result (or a name) describes.

    Args:
      config: A Keras 3 config dict (or the older `{"class_name", "config"}` form): read by
        `keras.saving.deserialize_keras_object`, with `classes` and `functions` as the
        module's own objects. With `functions`, also a name: that function, or a new
        instance of that class.
      classes: Known classes by name.
      functions: Known functions by name, for modules that have them (losses, metrics).
      kind: What is looked up ("loss", "optimizer", ...), for error messages. Modules with
        functions say "<kind> class" or "<kind> function" there, to tell the two apart.
      custom_objects: Names that take precedence over `classes` and `functions`.
      any_case: Whether class names also match in any case ("adam" finds `Adam`).
      names: Lower-case names (as layer arguments take them: "l2", "non_neg"), each of a
        class or factory that makes a default instance; looked up before `classes`.
    """
    functions = functions or {}
    names = names or {}
    if isinstance(config, dict):
        class_name = config.get("class_name")
        if any_case and class_name not in classes and \
                custom_object(class_name, custom_objects) is None:
            by_lower_name = {name.lower(): name for name in classes}
            config = {**config, "class_name": by_lower_name.get(str(class_name).lower(),
                                                                class_name)}
        if "class_name" not in config:
            raise ValueError(f"Could not deserialize {kind}: expected a dict with "
                             f"'class_name' and 'config' keys. Received: {config!r}")
        config = {"config": {}, **config}
        return serialization_lib.deserialize_keras_object(
            config, custom_objects=custom_objects, module_objects={**functions, **classes},
            printable_module_name=kind)
    if isinstance(config, str):
        found = custom_object(config, custom_objects)
        if found is None and config in names:
            return names[config]()
        if found is None:
            found = functions.get(config) or classes.get(config)
        if found is None and any_case:
            found = {name.lower(): cls for name, cls in classes.items()}.get(config.lower())
        if found is None:
            if functions:
                raise unknown_object_error(f"{kind} function", config,
                                           sorted(functions) + sorted(classes),
                                           ", or a callable")
            raise unknown_object_error(kind, config, sorted(names) + sorted(classes))
        return found() if isinstance(found, type) else found
    raise uninterpretable_error(kind, config)
