"""Keras 3 op nodes in functional configs (`keras.src.ops.numpy.NotEqual`, ...), read as
numpyflow ops.

Keras 3 records a `keras.ops` call on KerasTensors as a graph node of its own: the masks it
computes between layers (`NotEqual` for `Embedding(mask_zero=True)`, `LogicalOr` when `Add`
merges masks) and the ops users write (`keras.ops.add`, `x[:, 0]`, `x * 2`, ...). Their
configs look like

    {"module": "keras.src.ops.numpy", "class_name": "Sum", "registered_name": "Sum",
     "config": {"name": "sum", "axis": 1, "keepdims": true}, "name": "sum",
     "inbound_nodes": [{"args": [<KerasTensor>], "kwargs": {}}]}

`KERAS_OPS` maps each class to a public numpyflow op, by name: a file can only pick an op
from this table, never name code to import or run. Such a node is an operation of the model
(in `get_config()`, written back as Keras wrote it) but not one of its `layers`, as in Keras.

    >>> config = {"module": "keras.src.ops.numpy", "class_name": "NotEqual",
    ...           "config": {"name": "not_equal"}, "registered_name": "NotEqual"}
    >>> op = operation_from_config(config)
    >>> import numpyflow as tf
    >>> op(tf.constant([3, 0]), 0).numpy()
    array([ True, False])
"""

import collections

from numpyflow.keras.graph.op_layer import TFOpLambda, resolve_op

# A Keras constructor argument numpyflow's op supports at one value only.
Only = collections.namedtuple("Only", "value")
# A Keras constructor argument whose Keras default differs from the numpyflow op's: the op's
# keyword, and the value used when a config leaves the argument out.
Arg = collections.namedtuple("Arg", "keyword default")

# Keras 3 op class -> (its module under keras.src.ops, the numpyflow op (a name under `tf.`, or
# "__operators__.<name>"), {constructor argument: the op's keyword, Arg, or Only(value)}).
# The node's call arguments are passed on in order (x, or x1 and x2, or the list xs).
KERAS_OPS = {
    # Arithmetic.
    "Add": ("numpy", "math.add", {}),
    "Subtract": ("numpy", "math.subtract", {}),
    "Multiply": ("numpy", "math.multiply", {}),
    "Divide": ("numpy", "math.truediv", {}),
    "TrueDivide": ("numpy", "math.truediv", {}),
    "FloorDivide": ("numpy", "math.floordiv", {}),
    "Mod": ("numpy", "math.floormod", {}),
    "Power": ("numpy", "math.pow", {}),
    "Negative": ("numpy", "math.negative", {}),
    "Absolute": ("numpy", "math.abs", {}),
    "Square": ("numpy", "math.square", {}),
    "Sqrt": ("numpy", "math.sqrt", {}),
    "Rsqrt": ("math", "math.rsqrt", {}),
    "Reciprocal": ("numpy", "math.reciprocal", {}),
    "Exp": ("numpy", "math.exp", {}),
    "Expm1": ("numpy", "math.expm1", {}),
    "Log": ("numpy", "math.log", {}),
    "Log1p": ("numpy", "math.log1p", {}),
    "Tanh": ("numpy", "math.tanh", {}),
    "Erf": ("math", "math.erf", {}),
    "Sign": ("numpy", "math.sign", {}),
    "Floor": ("numpy", "math.floor", {}),
    "Round": ("numpy", "math.round", {"decimals": Only(0)}),
    "Maximum": ("numpy", "math.maximum", {}),
    "Minimum": ("numpy", "math.minimum", {}),
    "Clip": ("numpy", "clip_by_value", {"x_min": "clip_value_min",
                                        "x_max": "clip_value_max"}),
    "Matmul": ("numpy", "matmul", {}),
    "Einsum": ("numpy", "einsum", {"subscripts": 0}),  # 0: the op's first positional argument.
    # Comparisons and logic (what masks are made of).
    "Equal": ("numpy", "math.equal", {}),
    "NotEqual": ("numpy", "math.not_equal", {}),
    "Greater": ("numpy", "math.greater", {}),
    "GreaterEqual": ("numpy", "math.greater_equal", {}),
    "Less": ("numpy", "math.less", {}),
    "LessEqual": ("numpy", "math.less_equal", {}),
    "LogicalAnd": ("numpy", "math.logical_and", {}),
    "LogicalOr": ("numpy", "math.logical_or", {}),
    "LogicalNot": ("numpy", "math.logical_not", {}),
    "LogicalXor": ("numpy", "math.logical_xor", {}),
    "Where": ("numpy", "where", {}),
    # Reductions.
    "Sum": ("numpy", "reduce_sum", {"axis": "axis", "keepdims": "keepdims"}),
    "Mean": ("numpy", "reduce_mean", {"axis": "axis", "keepdims": "keepdims"}),
    "Max": ("numpy", "reduce_max", {"axis": "axis", "keepdims": "keepdims",
                                    "initial": Only(None)}),
    "Min": ("numpy", "reduce_min", {"axis": "axis", "keepdims": "keepdims",
                                    "initial": Only(None)}),
    "Prod": ("numpy", "reduce_prod", {"axis": "axis", "keepdims": "keepdims",
                                      "dtype": Only(None)}),
    "Any": ("numpy", "reduce_any", {"axis": "axis", "keepdims": "keepdims"}),
    "All": ("numpy", "reduce_all", {"axis": "axis", "keepdims": "keepdims"}),
    "Var": ("numpy", "math.reduce_variance", {"axis": "axis", "keepdims": "keepdims"}),
    "Std": ("numpy", "math.reduce_std", {"axis": "axis", "keepdims": "keepdims"}),
    # Shapes.
    "Reshape": ("numpy", "reshape", {"newshape": "shape"}),
    "Transpose": ("numpy", "transpose", {"axes": "perm"}),
    "ExpandDims": ("numpy", "expand_dims", {"axis": "axis"}),
    "Squeeze": ("numpy", "squeeze", {"axis": "axis"}),
    "Concatenate": ("numpy", "concat", {"axis": Arg("axis", 0)}),
    "Stack": ("numpy", "stack", {"axis": Arg("axis", 0)}),
    "GetItem": ("numpy", "__operators__.getitem", {}),
    "ZerosLike": ("numpy", "zeros_like", {"dtype": "dtype"}),
    "OnesLike": ("numpy", "ones_like", {"dtype": "dtype"}),
    "Cast": ("core", "cast", {"dtype": "dtype"}),
    # Activations.
    "Relu": ("nn", "nn.relu", {}),
    "Relu6": ("nn", "nn.relu6", {}),
    "Sigmoid": ("nn", "nn.sigmoid", {}),
    "Softplus": ("nn", "nn.softplus", {}),
    "Silu": ("nn", "nn.silu", {}),
    "Gelu": ("nn", "nn.gelu", {"approximate": Arg("approximate", True)}),
    "Elu": ("nn", "nn.elu", {"alpha": Only(1.0)}),
    "LeakyRelu": ("nn", "nn.leaky_relu", {"negative_slope": "alpha"}),
    "Softmax": ("nn", "nn.softmax", {"axis": "axis"}),
    "LogSoftmax": ("nn", "nn.log_softmax", {"axis": "axis"}),
}


def is_keras_operation_config(config):
    """Whether a layer entry of a functional config is a Keras 3 op node."""
    return isinstance(config, dict) and str(config.get("module", "")).startswith("keras.src.ops.")


def operation_from_config(config):
    """The `KerasOperation` for a Keras 3 op node's config entry (see module doc).

    Raises:
      ValueError: for an op class not in `KERAS_OPS`, naming it.
      NotImplementedError: for a constructor argument (or value) numpyflow's op lacks.
    """
    class_name = config.get("class_name")
    module = config.get("module")
    entry = KERAS_OPS.get(class_name)
    if entry is None or module != f"keras.src.ops.{entry[0]}":
        raise ValueError(
            f"Functional config: the op node {config.get('name')!r} is of Keras 3 op class "
            f"'{module}.{class_name}', which numpyflow cannot read. Supported op classes: "
            f"{sorted(f'keras.src.ops.{m}.{name}' for name, (m, _, _) in KERAS_OPS.items())}.")
    return KerasOperation(class_name, dict(config.get("config") or {}))


class KerasOperation(TFOpLambda):
    """A Keras 3 op node (`keras.src.ops.numpy.Sum`, ...) as a numpyflow op in a model.

    Args:
      class_name: The Keras op class, a key of `KERAS_OPS`.
      config: Its Keras config: `name` and the constructor's arguments.
    """

    _is_keras_operation = True

    def __init__(self, class_name, config):
        module, op_name, parameters = KERAS_OPS[class_name]
        arguments = {key: value for key, value in config.items() if key != "name"}
        unknown = sorted(set(arguments) - set(parameters))
        if unknown:
            raise NotImplementedError(
                f"Keras op node {config.get('name')!r} ({class_name}): numpyflow does not "
                f"support the argument(s) {unknown}. Received: {arguments}; supported: "
                f"{sorted(parameters)}.")
        positional, keywords = [], {}
        for key, target in parameters.items():
            if isinstance(target, Arg) and key not in arguments:
                keywords[target.keyword] = target.default
        for key, value in arguments.items():
            target = parameters[key]
            if isinstance(target, Only):
                if value != target.value:
                    raise NotImplementedError(
                        f"Keras op node {config.get('name')!r} ({class_name}): numpyflow "
                        f"supports only {key}={target.value!r}. Received: {key}={value!r}")
            elif isinstance(target, int):
                positional.insert(target, value)
            else:
                keyword = target.keyword if isinstance(target, Arg) else target
                keywords[keyword] = tuple(value) if isinstance(value, list) else value
        op = resolve_op(op_name)
        super().__init__(op, op_name, name=config.get("name"))
        self.keras_class_name = class_name
        self.keras_module = f"keras.src.ops.{module}"
        self.keras_config = dict(config)
        self._op, self._positional, self._keywords = op, positional, keywords
        self.function = self._run  # What TFOpLambda calls, symbolically and on tensors.

    def _run(self, *args):
        if self.keras_class_name == "GetItem" and len(args) == 2 and isinstance(args[1], list):
            args = (args[0], tuple(args[1]))  # A JSON list: Keras's index tuple.
        if self.keras_class_name == "Where" and (
                len(args) != 3 or any(arg is None for arg in args[1:])):
            raise NotImplementedError(f"Keras op node '{self.name}' (Where): numpyflow supports "
                                      f"where(condition, x1, x2) only. Received "
                                      f"{len(args)} argument(s).")
        return self._op(*self._positional, *args, **self._keywords)

    def serialize(self):
        """The config entry Keras 3 writes for this node (without its inbound nodes)."""
        return {"module": self.keras_module, "class_name": self.keras_class_name,
                "config": dict(self.keras_config), "registered_name": self.keras_class_name}

    def get_config(self):
        return dict(self.keras_config)

    @classmethod
    def from_config(cls, config):
        raise TypeError("A Keras op node is read from its full entry in a functional config; "
                        "use keras_ops.operation_from_config.")
