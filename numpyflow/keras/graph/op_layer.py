"""`TFOpLambda`: a numpyflow op or Python operator applied to KerasTensors, as a layer.

tf.keras 2.x lets functional models use TF ops directly (`tf.nn.relu(x)`, `x + y`,
`x[:, 0]`, `tf.concat([a, b], -1)`); each such call becomes a `TFOpLambda` layer named
after the op ("tf.nn.relu", "tf.__operators__.add", ...). numpyflow does the same: the
ops' dispatch wrapper (framework/dispatch.py) hands the call to `KerasTensor`, which
makes one of these layers and calls it.

    >>> import numpyflow as tf
    >>> x = tf.keras.Input((3,))
    >>> y = tf.nn.relu(x) * 2.
    >>> model = tf.keras.Model(x, y)
    >>> [layer.name for layer in model.layers]
    ['input_layer', 'tf.nn.relu', 'tf.__operators__.multiply']
    >>> model(tf.constant([[-1., 0.5, 2.]])).numpy()
    array([[0., 1., 4.]], dtype=float32)
"""

import numpyflow as tf
from numpyflow.keras import backend
from numpyflow.keras.graph import node as node_module
from numpyflow.keras.graph.keras_tensor import OPERATORS
from numpyflow.keras.layers.base_layer import Layer

class TFOpLambda(Layer):
    """Wraps one op call in a functional model (see module doc).

    Args:
      function: The op (a public numpyflow op) or a function of the `operator` module.
      op_name: Its name under `tf.` ("nn.relu", "__operators__.add").
    """

    def __init__(self, function, op_name, **kwargs):
        kwargs.setdefault("name", backend.unique_object_name(f"tf.{op_name}"))
        super().__init__(**kwargs)
        self.function = function
        self.op_name = op_name
        self.built = True

    def __call__(self, *args, **kwargs):
        if self.op_name == "__operators__.getitem" and len(args) == 2 and \
                isinstance(args[1], list) and any(
                    key is None or key is Ellipsis or isinstance(key, slice) for key in args[1]):
            # An index tuple read back from a JSON config arrives as a list; a list holding
            # slices cannot be a NumPy-style index array, so it was a tuple.
            args = (args[0], tuple(args[1]))
        if node_module.has_symbolic((args, kwargs)):
            outputs = node_module.run_on_placeholders(self.function, args, kwargs)
            node_module.Node(self, args, kwargs, outputs)
            return outputs
        return self.function(*args, **kwargs)

    def call(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        raise NotImplementedError(f"Layer '{self.name}' infers its output from its call "
                                  f"arguments; call it on KerasTensors instead.")

    def get_config(self):
        config = super().get_config()
        config["function"] = self.op_name
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        op_name = config.pop("function")
        return cls(resolve_op(op_name), op_name, **config)


def resolve_op(op_name):
    """The op a `TFOpLambda` config names: a public numpyflow op or an operator — looked up
    by name, never imported or evaluated, so loading a config runs no code of its own."""
    if op_name.startswith("__operators__."):
        entry = OPERATORS.get(op_name.split(".", 1)[1])
        function = entry[1] if entry else None
    else:
        namespace = tf
        for part in op_name.split("."):
            namespace = getattr(namespace, part, None) if not part.startswith("_") else None
        function = namespace if getattr(namespace, "__dispatching_op__", None) else None
    if function is None:
        raise ValueError(f"TFOpLambda: unknown op {op_name!r}. Expected the name of a public "
                         f"numpyflow op (e.g. 'nn.relu', 'concat') or an operator.")
    return function

