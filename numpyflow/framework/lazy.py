"""Names of a namespace module that import their module on first use.

`import numpyflow` must stay small (its import time and resident memory are benchmarked),
so the less common parts of the API (tf.linalg, control flow, tf.config, the tf.image
detection helpers, ...) load when a program first touches them. A namespace lists them
in a table and installs the module-level `__getattr__` this returns.

    >>> import types
    >>> space = types.ModuleType("space")
    >>> space.__getattr__ = lazy_attributes(vars(space), {"sqrt": ("math", "sqrt", False)})
    >>> space.sqrt(4.0)
    2.0
"""

import importlib


def lazy_attributes(namespace, table, dispatch_prefix="", fallback=None):
    """A module `__getattr__` that resolves `table[name]` on first use and stores the
    result in `namespace`, so later lookups are plain globals.

    Args:
      namespace: The module's globals.
      table: name -> (module path, attribute in it or None for the module itself,
        dispatched). A dispatched function is wrapped for Keras's symbolic inputs, as
        `dispatch_namespace` wraps the eagerly imported ones, named `dispatch_prefix +
        name` (or `dispatched + name` when `dispatched` is a string: "math.").
      dispatch_prefix: "math.", "nn.", ... for the wrapped names.
      fallback: Called with the name when the table lacks it (else AttributeError).
    """
    module_name = namespace.get("__name__", "module")

    def __getattr__(name):
        entry = table.get(name)
        if entry is None:
            if fallback is not None:
                return fallback(name)
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module_path, attribute, dispatched = entry
        value = importlib.import_module(module_path)
        if attribute is not None:
            value = getattr(value, attribute)
        if dispatched:
            from numpyflow.framework.dispatch import add_dispatch_support
            prefix = dispatched if isinstance(dispatched, str) else dispatch_prefix
            value = add_dispatch_support(value, prefix + name)
        namespace[name] = value
        return value

    return __getattr__


def names_from(module_path, names, dispatched=False):
    """Table entries for `names` (one string, space-separated) of one module. A name
    written "a=b" is `a` in the module and `b` in the namespace."""
    table = {}
    for name in names.split():
        source, _, alias = name.partition("=")
        table[alias or source] = (module_path, source, dispatched)
    return table
