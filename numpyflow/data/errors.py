"""Errors carried through a dataset pipeline in place of an element.

A stage whose work fails for one element (a map function raising, a generator yielding a
value of the wrong shape, a batch of mismatched shapes) yields an `ElementError` instead
of stopping: the iterator raises it to the consumer, who may keep iterating (as in TF),
and `Dataset.ignore_errors()` drops it.
"""


class ElementError:
    """An exception standing in for one element; the original traceback is kept."""

    __slots__ = ("exception",)

    def __init__(self, exception):
        self.exception = exception

    def __repr__(self):
        return f"ElementError({self.exception!r})"
