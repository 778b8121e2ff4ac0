"""The exporters' per-primitive tables: a rule, or why a primitive is not exportable.

Each format (TFLite, ONNX, TF.js graph models) keeps one table keyed by primitive name,
beside the registry as JAX keeps lowering rules beside its primitives. An entry is a rule
that translates one equation of the traced graph, or `NotExportable(reason)` for a
primitive that cannot occur in an exported inference graph (gradients, random ops,
strings, ...). Each format's tests walk the primitive registry and fail on a primitive
with neither.

    >>> table = RuleTable()
    >>> @table.rule("Relu")
    ... def relu(builder, equation):
    ...     pass
    >>> table.not_exportable("training-only (gradient)", "ReluGrad")
    >>> sorted(table.rules), table.rules["ReluGrad"]
    (['Relu', 'ReluGrad'], NotExportable('training-only (gradient)'))
"""


class NotExportable:
    """A primitive with no translation in a format, and why (shown in the error)."""

    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return f"NotExportable({self.reason!r})"


class RuleTable:
    """A format's rules by primitive name, and the batch-dependent attributes each rule
    writes correctly (`dynamic_attrs`: a Reshape rule writing -1 for the batch, say)."""

    def __init__(self):
        self.rules = {}
        self.dynamic_attrs = {}

    def rule(self, *names, dynamic=()):
        """Decorator: registers `fn(builder, equation)` as the rule of `names`."""
        def register(fn):
            for name in names:
                self.rules[name] = fn
                self.dynamic_attrs[name] = tuple(dynamic)
            return fn
        return register

    def not_exportable(self, reason, *names):
        for name in names:
            self.rules[name] = NotExportable(reason)
