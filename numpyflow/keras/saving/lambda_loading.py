"""Loading a `Lambda` layer with `safe_mode=False`: its function by registered name only.

numpyflow writes a Lambda's function into its config as a name (`"module.qualname"`, see
`Lambda.get_config`). `load_model(..., safe_mode=False)` resolves that name against the
user's `custom_objects` (by the full name or the bare function name) and the objects
registered with `keras.saving.register_keras_serializable` (by registered name, or by
their `module.qualname`). Nothing is imported and no code from the file is run, so a
Lambda that Keras saved as bytecode (`"__lambda__"`) is refused even then.

    >>> import numpyflow as tf
    >>> @tf.keras.saving.register_keras_serializable(package="doc")
    ... def double(x):
    ...     return x * 2
    >>> config = tf.keras.layers.Lambda(double, name="twice").get_config()
    >>> RegisteredFunctionLambda.from_config(config).function is double
    True
"""

from numpyflow.keras.saving import object_registration


class RegisteredFunctionLambda:
    """Stands for the `Lambda` class while loading with `safe_mode=False`."""

    @classmethod
    def from_config(cls, config):
        from numpyflow.keras.layers.lambda_layer import Lambda

        config = dict(config)
        name = config.get("name")
        config["function"] = _resolve(config.get("function"), name, "function")
        if isinstance(config.get("output_shape"), (str, dict)):
            config["output_shape"] = _resolve(config["output_shape"], name, "output_shape")
        for key in ("output_shape_type", "function_type", "module", "mask", "mask_type"):
            if config.get(key) not in (None, "raw"):
                raise NotImplementedError(f"Lambda layer '{name}': `{key}` is not supported "
                                          f"when loading; received {key}={config[key]!r}.")
            config.pop(key, None)
        return Lambda(**config)


def _resolve(reference, layer_name, argument):
    """The registered function a Lambda config's `reference` names."""
    if isinstance(reference, dict):
        if reference.get("class_name") == "__lambda__":
            raise ValueError(f"Lambda layer '{layer_name}': its `{argument}` was saved as Python "
                             f"bytecode. numpyflow never runs code from a file, even with "
                             f"safe_mode=False; rebuild the layer in code, or save a named "
                             f"function registered with `register_keras_serializable`.")
        inner = reference.get("config")
        names = [reference.get("registered_name"), inner if isinstance(inner, str) else None]
    else:
        names = [reference]
    for name in [n for n in names if isinstance(n, str)]:
        found = _lookup(name)
        if found is not None:
            return found
    raise ValueError(f"Lambda layer '{layer_name}': its `{argument}` {reference!r} is neither "
                     f"in `custom_objects` nor registered with "
                     f"`@keras.saving.register_keras_serializable()`. With safe_mode=False "
                     f"numpyflow resolves a Lambda's function by those names only; it never "
                     f"imports modules or runs code from a file.")


def _lookup(name):
    found = object_registration.get_registered_object(name)
    if found is not None:
        return found
    known = {**object_registration.get_custom_objects(), **object_registration.scope_objects()}
    bare = name.rsplit(".", 1)[-1]
    if bare != name and bare in known:
        return known[bare]
    for obj in known.values():
        qualified = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        if qualified == name:
            return obj
    return None
