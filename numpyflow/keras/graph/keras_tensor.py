"""`KerasTensor`: a placeholder with a shape and a dtype, from which models are built.

    >>> import numpyflow as tf
    >>> x = tf.keras.Input((8,), name="features")
    >>> x
    <KerasTensor shape=(None, 8), dtype=float32, sparse=False, ragged=False, name=features>
    >>> y = tf.keras.layers.Dense(4)(x)
    >>> y.shape
    TensorShape([None, 4])

Python operators and numpyflow ops applied to KerasTensors become layers of the model
(`TFOpLambda`, see op_layer.py), as in tf.keras 2.x: `x + 1`, `x[:, 0]`,
`tf.nn.relu(x)`, `tf.concat([x, y], axis=-1)`.
"""

import operator

import numpyflow as tf
from numpyflow.framework.dispatch import SymbolicTensor
from numpyflow.keras import backend


class KerasTensor(SymbolicTensor):
    """A symbolic tensor: what layers return when called on `keras.Input`s.

    Attributes:
      shape: `tf.TensorShape`, None for unknown dimensions (the batch, usually).
      dtype: `tf.DType`.
      name: Its name (the input layer's name for model inputs).
    """

    __slots__ = ("_shape", "_dtype", "name", "_keras_history", "__weakref__")

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, name=None):
        if sparse or ragged:
            raise NotImplementedError(f"KerasTensor: sparse and ragged tensors are not "
                                      f"supported by numpyflow. Received: sparse={sparse}, "
                                      f"ragged={ragged}")
        self._shape = tf.TensorShape(shape)
        self._dtype = tf.as_dtype(dtype)
        self.name = name or backend.unique_object_name("keras_tensor")
        # (layer, node index, tensor index): the layer call that produced this tensor.
        self._keras_history = None

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return self._shape.rank

    @property
    def sparse(self):
        return False

    @property
    def ragged(self):
        return False

    @property
    def node(self):
        """The `Node` (layer call) that produced this tensor."""
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def get_shape(self):
        return self._shape

    def __repr__(self):
        return (f"<KerasTensor shape={_shape_text(self._shape)}, dtype={self._dtype.name}, "
                f"sparse=False, ragged=False, name={self.name}>")

    # -- what a placeholder cannot do ----------------------------------------------------
    def numpy(self):
        raise ValueError(f"{self!r} is symbolic: a placeholder for a shape and a dtype, with "
                         f"no values. Call the model on data to get values.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean (it has no "
                        "value). Use tf.where or a layer to branch on values.")

    def __iter__(self):
        raise TypeError("Iterating over a symbolic KerasTensor is not supported; index it "
                        "(x[:, 0]) or use tf.unstack.")

    def __len__(self):
        raise TypeError("A symbolic KerasTensor has no len(); use its .shape.")

    __hash__ = object.__hash__

    # -- ops: recorded as layers of the model ----------------------------------------------
    @classmethod
    def symbolic_op_call(cls, op, op_name, args, kwargs):
        from numpyflow.keras.graph.op_layer import TFOpLambda
        return TFOpLambda(op, op_name)(*args, **kwargs)


def _shape_text(shape):
    dims = tuple(shape.as_list()) if shape.rank is not None else None
    return str(dims)


# Python operators on KerasTensors, by the names tf.keras 2.x gives their layers
# ("tf.__operators__.add"): name -> (dunder method, function, whether it has a reflected form).
OPERATORS = {
    "add": ("add", operator.add, True), "subtract": ("sub", operator.sub, True),
    "multiply": ("mul", operator.mul, True), "truediv": ("truediv", operator.truediv, True),
    "floordiv": ("floordiv", operator.floordiv, True), "floormod": ("mod", operator.mod, True),
    "pow": ("pow", operator.pow, True), "matmul": ("matmul", operator.matmul, True),
    "logical_and": ("and", operator.and_, True), "logical_or": ("or", operator.or_, True),
    "logical_xor": ("xor", operator.xor, True), "negative": ("neg", operator.neg, False),
    "abs": ("abs", operator.abs, False), "logical_not": ("invert", operator.invert, False),
    "less": ("lt", operator.lt, False), "less_equal": ("le", operator.le, False),
    "greater": ("gt", operator.gt, False), "greater_equal": ("ge", operator.ge, False),
    "getitem": ("getitem", operator.getitem, False),
}


def _operator_method(function, op_name, reflected):
    if reflected:
        def method(self, other):
            return KerasTensor.symbolic_op_call(function, op_name, (other, self), {})
    else:
        def method(self, *others):
            return KerasTensor.symbolic_op_call(function, op_name, (self, *others), {})
    return method


for _name, (_dunder, _function, _has_reflected) in OPERATORS.items():
    setattr(KerasTensor, f"__{_dunder}__",
            _operator_method(_function, f"__operators__.{_name}", False))
    if _has_reflected:
        setattr(KerasTensor, f"__r{_dunder}__",
                _operator_method(_function, f"__operators__.{_name}", True))
del _name, _dunder, _function, _has_reflected


def is_keras_tensor(x):
    """Whether `x` is a symbolic `KerasTensor` (from `keras.Input` or a layer on one)."""
    return isinstance(x, KerasTensor)
