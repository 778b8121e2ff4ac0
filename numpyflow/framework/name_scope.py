"""`tf.name_scope`: names for the operations recorded while a function is traced.

TensorFlow prefixes the name of every graph operation with the name scopes open when it
was created ("sequential/dense/MatMul"); Keras opens one per layer call. numpyflow records
the open scopes on each traced equation (`graph.Equation.scope`), which is how exporters
name tensors and say which layer an operation comes from. Eager ops ignore them, as in
TF 2. Scopes are per thread.
"""

import threading

_local = threading.local()


def current_scope():
    """The open scopes joined by "/" ("" when none is open) in this thread."""
    return getattr(_local, "scope", "")


class name_scope:
    """A context manager that opens a name scope (`tf.name_scope`).

    Args:
      name: The scope's name. A name ending in "/" is absolute: it replaces the open scopes.

    >>> import numpyflow as tf
    >>> with tf.name_scope("block") as outer:
    ...     with tf.name_scope("conv") as inner:
    ...         print(outer, inner)
    block/ block/conv/
    """

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"name_scope: the name must be a string. Received: name={name!r}")
        self._name = name
        self._previous = None

    @property
    def name(self):
        return self._name

    def __enter__(self):
        self._previous = current_scope()
        if not self._name:
            scope = ""
        elif self._name.endswith("/"):
            scope = self._name[:-1]
        else:
            scope = f"{self._previous}/{self._name}" if self._previous else self._name
        _local.scope = scope
        return f"{scope}/" if scope else ""

    def __exit__(self, *exc_info):
        _local.scope = self._previous
        return False
