"""`tf.Module`: a named container that finds the Variables and Modules in its attributes.

A Module keeps no list of what it owns: `variables`, `trainable_variables` and
`submodules` walk its attributes when asked (in sorted attribute order, looking inside
lists, tuples and dicts), as TF's do. The same walk gives `tf.train.Checkpoint` its
children (`_checkpoint_children`), so a Module's Variables are saved under their
attribute paths ("dense/w", "layers/0/b") and restore into a Module built the same way.

Objects that hold Variables without being Modules (Keras layers and models) count as
holding their `variables`, as TF's Keras layers, which are Modules, do.

    >>> import numpyflow as tf
    >>> class Dense(tf.Module):
    ...     def __init__(self, units, name=None):
    ...         super().__init__(name=name)
    ...         self.w = tf.Variable(tf.ones([3, units]), name="w")
    ...         self.b = tf.Variable(tf.zeros([units]), name="b")
    ...     def __call__(self, x):
    ...         return x @ self.w + self.b
    >>> layer = Dense(2)
    >>> layer.name, [v.name for v in layer.trainable_variables]
    ('dense', ['b:0', 'w:0'])
"""

import functools
import re

from numpyflow.framework import name_scope as name_scope_module
from numpyflow.framework.variable import Variable

_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
# Attributes of Module itself, never walked.
_OWN_ATTRIBUTES = frozenset({"_name", "_scope_name"})


# An underscore before each capital that starts a word: after a lowercase letter or digit,
# or (not first) before a lowercase letter ("HTTPServer" -> "http_server"), as TF names.
_WORD_START = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


def _camel_to_snake(name):
    return _WORD_START.sub(r"_\1", name).lower()


class Module:
    """Base class of objects that own Variables and other Modules (`tf.Module`).

    Args:
        name: The module's name, a Python identifier (default: the class name in
            snake_case). Its `name_scope` is opened under the scope open when it was made.
    """

    def __init__(self, name=None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not isinstance(name, str) or not _VALID_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be "
                             f"valid Python identifiers (e.g. a valid class name).")
        self._name = name
        outer = name_scope_module.current_scope()
        self._scope_name = f"{outer}/{name}/" if outer else f"{name}/"

    @property
    def name(self):
        """The module's name (without its enclosing scopes)."""
        return self._name

    @property
    def name_scope(self):
        """A `tf.name_scope` for the module's own ops: `with self.name_scope: ...`."""
        return name_scope_module.name_scope(self._scope_name)

    @property
    def variables(self):
        """The Variables of this module and its submodules, each once (a tuple)."""
        return tuple(self._flatten(_is_variable))

    @property
    def trainable_variables(self):
        """The trainable Variables of this module and its submodules (a tuple)."""
        return tuple(self._flatten(lambda v: _is_variable(v) and v.trainable))

    @property
    def non_trainable_variables(self):
        """The Variables that are not trainable (a tuple)."""
        return tuple(self._flatten(lambda v: _is_variable(v) and not v.trainable))

    @property
    def submodules(self):
        """Every Module below this one (children before grandchildren), each once."""
        return tuple(self._flatten(lambda m: isinstance(m, Module)))

    def _flatten(self, predicate):
        """The leaves under this module's attributes that satisfy `predicate`, each once:
        its own attributes' leaves first, then each submodule's in turn (TF's order)."""
        found, seen_leaves = [], set()
        pending, seen_modules = [self], {id(self)}
        while pending:
            module = pending.pop(0)
            submodules = []
            for leaf in _attribute_leaves(module):
                if isinstance(leaf, Module):
                    if id(leaf) not in seen_modules:
                        seen_modules.add(id(leaf))
                        submodules.append(leaf)
                elif not isinstance(leaf, Variable) and hasattr(leaf, "variables"):
                    for variable in _variables_of(leaf):  # A Keras layer or model.
                        if id(variable) not in seen_leaves and predicate(variable):
                            seen_leaves.add(id(variable))
                            found.append(variable)
                    continue
                if id(leaf) not in seen_leaves and predicate(leaf):
                    seen_leaves.add(id(leaf))
                    found.append(leaf)
            # Each submodule's whole subtree follows its parent's own leaves, in order.
            pending[0:0] = submodules
        return found

    def _checkpoint_children(self):
        """`(attribute, object)` pairs for `tf.train.Checkpoint`: the attributes that hold
        Variables or Modules (lists and dicts reduced to the items that do)."""
        children = []
        for key in _attribute_names(self):
            view = _trackable_view(vars(self)[key])
            if view is not None:
                children.append((key, view))
        return children

    @classmethod
    def with_name_scope(cls, method):
        """Decorates a method to run inside the module's `name_scope`.

        Example:
            >>> import numpyflow as tf
            >>> class Scale(tf.Module):
            ...     @tf.Module.with_name_scope
            ...     def __call__(self, x):
            ...         return x * 2.
            >>> float(Scale()(tf.constant(1.)))
            2.0
        """
        @functools.wraps(method)
        def scoped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return scoped

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object named {self._name!r}>"


def _is_variable(value):
    return isinstance(value, Variable)


def _attribute_names(module):
    return sorted(key for key in vars(module) if key not in _OWN_ATTRIBUTES)


def _attribute_leaves(module):
    """The leaves of the module's attributes, attributes in sorted order, looking inside
    lists, tuples and dicts (dicts by sorted key where the keys sort)."""
    leaves = []
    for key in _attribute_names(module):
        stack = [vars(module)[key]]
        while stack:
            value = stack.pop()
            if isinstance(value, (list, tuple)):
                stack.extend(reversed(value))
            elif isinstance(value, dict):
                stack.extend(reversed([value[k] for k in _sorted_keys(value)]))
            else:
                leaves.append(value)
    return leaves


def _sorted_keys(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def _variables_of(obj):
    try:
        variables = obj.variables
        if callable(variables):
            variables = variables()
        return [v for v in variables if isinstance(v, Variable)]
    except Exception:  # A property that fails (an unbuilt layer): nothing to report.
        return []


def _trackable_view(value):
    """`value` as a checkpoint child: itself when trackable, a dict of only the trackable
    items of a list/tuple/dict (by index or key), or None when it holds nothing to save."""
    if isinstance(value, (Variable, Module)):
        return value
    if isinstance(value, (list, tuple)):
        items = {str(i): _trackable_view(item) for i, item in enumerate(value)}
    elif isinstance(value, dict):
        items = {key: _trackable_view(item) for key, item in value.items()
                 if isinstance(key, str) and "/" not in key}
    elif hasattr(value, "_checkpoint_children") or (
            hasattr(value, "variables") and not isinstance(value, type)):
        return value
    else:
        return None
    items = {key: item for key, item in items.items() if item is not None}
    return items or None
