"""The registry of custom objects: how a saved config finds a class that is not numpyflow's.

A config names its class by a string. Built-in classes are found by their Keras module and
class name; everything else has to be made known first, either for good with the
`register_keras_serializable` decorator (the registered name is `"package>name"`), or for a
while with `custom_object_scope({...})`, or per call with `custom_objects={...}`.

The registry is a module-level dict, as in Keras: registration is a program-wide act, like
defining the class. The scopes are per thread, so that one thread's scope does not change
what another thread loads.

    >>> import numpyflow as tf
    >>> @tf.keras.saving.register_keras_serializable(package="Docs")
    ... class Twice(tf.keras.layers.Layer):
    ...     def call(self, inputs):
    ...         return 2 * inputs
    >>> tf.keras.saving.get_registered_name(Twice)
    'Docs>Twice'
    >>> tf.keras.saving.get_registered_object("Docs>Twice") is Twice
    True
"""

import inspect
import threading

# Registered name ("package>name") -> class or function, and back.
_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}

# Each thread's stack of active `CustomObjectScope` dicts, innermost last.
_thread_state = threading.local()


def _scope_stack():
    stack = getattr(_thread_state, "scopes", None)
    if stack is None:
        stack = _thread_state.scopes = []
    return stack


def scope_objects():
    """The objects of this thread's active custom object scopes (inner scopes win)."""
    merged = {}
    for objects in _scope_stack():
        merged.update(objects)
    return merged


class CustomObjectScope:
    """Makes custom classes and functions known to deserialization inside a `with` block.

    Args:
      *custom_objects: Dicts of `{name: class_or_function}`; later ones win. (Keras 3 takes
        one dict; tf.keras 2 took several.)

    >>> import numpyflow as tf
    >>> def my_activation(x):
    ...     return x
    >>> with tf.keras.saving.custom_object_scope({"my_activation": my_activation}):
    ...     tf.keras.saving.get_registered_object("my_activation") is my_activation
    True
    """

    def __init__(self, *custom_objects):
        merged = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"CustomObjectScope expects dicts of {{name: object}}. "
                                f"Received: {objects!r}")
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self):
        _scope_stack().append(dict(self.custom_objects))
        return self

    def __exit__(self, *exc_info):
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The live dict of globally registered custom objects (not those of scopes).

    Adding to it registers an object under the key given, as Keras allows:

    >>> import numpyflow as tf
    >>> def halve(x):
    ...     return x / 2
    >>> tf.keras.saving.get_custom_objects()["halve"] = halve
    >>> tf.keras.saving.get_registered_object("halve") is halve
    True
    >>> del tf.keras.saving.get_custom_objects()["halve"]
    """
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """A decorator that registers a class or function under `"package>name"`.

    Serialized configs then carry that name as their `"registered_name"`, and
    deserialization finds the object by it without `custom_objects`. Registering another
    object under a name already taken replaces it (re-running a definition re-registers).

    Args:
      package: The first part of the registered name.
      name: The second part; the class or function's `__name__` by default.

    Raises:
      ValueError: for a class without `get_config()`, or a `package`/`name` containing ">".

    >>> import numpyflow as tf
    >>> @tf.keras.saving.register_keras_serializable("Docs", "double")
    ... def double(x):
    ...     return 2 * x
    >>> tf.keras.saving.get_registered_name(double)
    'Docs>double'
    """
    for label, part in (("package", package), ("name", name)):
        if part is not None and (not isinstance(part, str) or ">" in part):
            raise ValueError(f"register_keras_serializable: `{label}` must be a string "
                             f"without '>'. Received: {label}={part!r}")

    def decorator(arg):
        object_name = name if name is not None else getattr(arg, "__name__", None)
        if object_name is None:
            raise ValueError(f"register_keras_serializable: cannot register {arg!r}: it has "
                             f"no `__name__`; pass `name=`.")
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(f"Cannot register a class that does not have a get_config() "
                             f"method. Received: {arg.__name__}")
        registered_name = f"{package}>{object_name}"
        previous = _GLOBAL_CUSTOM_OBJECTS.get(registered_name)
        if previous is not None and previous is not arg:
            _GLOBAL_CUSTOM_NAMES.pop(previous, None)
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def is_registered(obj):
    """Whether `obj` was registered with `register_keras_serializable`."""
    try:
        return obj in _GLOBAL_CUSTOM_NAMES
    except TypeError:  # Unhashable.
        return False


def get_registered_name(obj):
    """The name `obj` is registered under, else its `__name__`.

    >>> get_registered_name(len)
    'len'
    """
    if is_registered(obj):
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function known as `name`, or None.

    Looks in `custom_objects`, then this thread's custom object scopes, then the global
    registry, then `module_objects`.

    Args:
      name: A registered name ("package>name") or a key of one of the dicts.
      custom_objects: Optional dict of user-provided objects.
      module_objects: Optional dict of a library's own objects, looked in last.

    >>> get_registered_object("NoSuchThing") is None
    True
    """
    for objects in (custom_objects, scope_objects(), _GLOBAL_CUSTOM_OBJECTS, module_objects):
        if objects and name in objects:
            return objects[name]
    return None
