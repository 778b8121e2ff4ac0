"""numpyflow: the TensorFlow 2 + Keras programming model on NumPy.

    >>> import numpyflow as tf
    >>> x = tf.constant([[1., 2.], [3., 4.]])
    >>> w = tf.Variable(tf.random.normal((2, 3), seed=1))
    >>> with tf.GradientTape() as tape:
    ...     y = tf.reduce_mean(tf.nn.relu(x @ w))
    >>> tape.gradient(y, w).shape
    TensorShape([2, 3])
"""

import logging as _logging

from numpyflow import backend  # noqa: F401 - sets up the array kernels first
from numpyflow.framework import dtypes
from numpyflow.framework.dtypes import (  # noqa: F401
    DType, as_dtype, bool, double, float16, float32, float64, half, int8, int16, int32, int64,
    string, uint8, uint16, uint32, uint64)
from numpyflow.framework.tape import GradientTape, UnconnectedGradients  # noqa: F401
from numpyflow.framework.function import function, inside_function  # noqa: F401
from numpyflow.framework.name_scope import name_scope  # noqa: F401
from numpyflow.framework.tensor import Tensor, constant, convert_to_tensor  # noqa: F401
from numpyflow.framework.tensor_shape import TensorShape  # noqa: F401
from numpyflow.framework.tensor_spec import TensorSpec  # noqa: F401
from numpyflow.framework.variable import Variable, variable_creator_scope  # noqa: F401
from numpyflow.ops.array_ops import (  # noqa: F401
    broadcast_to, concat, expand_dims, identity, pad, rank, reshape, shape, size, split, squeeze,
    stack, stop_gradient, tile, transpose, unstack)
from numpyflow.ops.indexing_ops import (  # noqa: F401 - also attaches Tensor.__getitem__
    clip_by_value, gather, gather_nd, one_hot, where)
from numpyflow.ops.cumulative_ops import cumsum  # noqa: F401
from numpyflow.ops.einsum_ops import einsum  # noqa: F401
from numpyflow.ops.script_ops import numpy_function, py_function  # noqa: F401
from numpyflow.ops.activation_ops import sigmoid, tanh  # noqa: F401
from numpyflow.ops.creation_ops import (  # noqa: F401
    eye, fill, linspace, ones, ones_like, range, zeros, zeros_like)
from numpyflow.ops.math_ops import (  # noqa: F401
    abs, add, add_n, cast, divide, equal, exp, floor, floordiv, greater, greater_equal, less,
    less_equal, log, logical_and, logical_not, logical_or, matmul, maximum, minimum, multiply,
    negative, not_equal, pow, round, rsqrt, sign, sqrt, square, subtract, truediv)
from numpyflow.ops.reduce_ops import (  # noqa: F401
    argmax, argmin, reduce_all, reduce_any, reduce_logsumexp, reduce_max, reduce_mean, reduce_min,
    reduce_prod, reduce_sum)
from numpyflow import errors, image, io, math, nn, random, train  # noqa: E402,F401

from numpyflow.framework.dispatch import dispatch_namespace as _dispatch_namespace

# Ops called on Keras's symbolic inputs build functional models (framework/dispatch.py).
_dispatch_namespace(globals())

__version__ = "0.1.0"


def _configure_logging():
    # Warnings print as TF's do ("WARNING:numpyflow:..."), without configuring the root
    # logger of the user's program.
    logger = _logging.getLogger("numpyflow")
    if not logger.handlers:
        handler = _logging.StreamHandler()
        handler.setFormatter(_logging.Formatter("%(levelname)s:numpyflow:%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


_configure_logging()
newaxis = None


def is_tensor(x):
    """Whether `x` is a tensor: a Tensor, Variable, `tf.SparseTensor` or `tf.RaggedTensor`, as
    TF's `tf.is_tensor` (NumPy arrays, Python values and Keras's symbolic inputs are not).

    Example:
        >>> import numpyflow as tf
        >>> tf.is_tensor(tf.SparseTensor([[0]], [1.0], [2])), tf.is_tensor([1.0])
        (True, False)
    """
    if isinstance(x, Tensor):
        return True
    import sys
    # SparseTensor and RaggedTensor load on first use; while unloaded nothing can be one.
    for module_name, class_name in (("numpyflow.sparse.sparse_tensor", "SparseTensor"),
                                    ("numpyflow.ragged.ragged_tensor", "RaggedTensor")):
        module = sys.modules.get(module_name)
        if module is not None and isinstance(x, getattr(module, class_name)):
            return True
    return False


def _lazy_modules(name):
    # Keras and tf.data load on first use, so `import numpyflow` stays fast for low-level users.
    import importlib
    if name in ("estimator", "compat", "keras", "summary", "data", "distribute",
                "feature_column", "lite", "saved_model"):
        return importlib.import_module(f"numpyflow.{name}")
    if name in ("strings", "ragged", "RaggedTensor"):  # Text: tf.strings and tf.ragged.
        module = importlib.import_module("numpyflow." + ("ragged" if name[0] == "R" else name))
        return module.RaggedTensor if name == "RaggedTensor" else module
    if name in ("sparse", "SparseTensor", "SparseTensorSpec"):  # tf.sparse, tf.SparseTensor
        module = importlib.import_module("numpyflow.sparse")
        return module if name == "sparse" else getattr(module, name)
    raise AttributeError(f"module 'numpyflow' has no attribute {name!r}")


def _lazy_table():
    from numpyflow.framework.lazy import names_from
    ops = "numpyflow.ops."
    table = {name: (f"numpyflow.{name}", None, False)
             for name in ("bitwise", "config", "debugging", "linalg", "nest")}
    # Ops that compute tensors from tensors: layers on Keras's symbolic inputs too.
    table.update(names_from(ops + "clip_ops", "clip_by_global_norm clip_by_norm norm", True))
    table.update(names_from(ops + "control_flow_ops", "ensure_shape foldl foldr "
                            "guarantee_const map_fn scan vectorized_map", True))
    table.update(names_from(ops + "indexing_ops", "scatter_nd tensor_scatter_nd_add "
                            "tensor_scatter_nd_max tensor_scatter_nd_min tensor_scatter_nd_sub "
                            "tensor_scatter_nd_update", True))
    table.update(names_from(ops + "manipulation_ops", "batch_to_space boolean_mask "
                            "broadcast_dynamic_shape broadcast_static_shape identity_n meshgrid "
                            "parallel_stack repeat reverse reverse_sequence roll sequence_mask "
                            "shape_n slice space_to_batch space_to_batch_nd strided_slice "
                            "tensordot unravel_index", True))
    table.update(names_from(ops + "math_more_ops", "acos acosh asin asinh atan atan2 atanh cos "
                            "cosh realdiv scalar_mul sin sinh tan truncatediv truncatemod",
                            "math."))  # TF's own names: tf.sin is tf.math.sin
    table.update(names_from(ops + "segment_ops", "histogram_fixed_width "
                            "histogram_fixed_width_bins", True))
    table.update(names_from(ops + "sort_ops", "argsort searchsorted sort unique "
                            "unique_with_counts", True))
    # Ops that act, or decide with a value a symbolic input does not have: not layers.
    table.update(names_from(ops + "control_flow_ops", "case cond control_dependencies "
                            "get_static_value group no_op switch_case timestamp tuple_=tuple "
                            "while_loop"))
    table.update(names_from(ops + "debug_ops", "Assert assert_equal assert_greater assert_less "
                            "print_=print"))
    table.update(names_from("numpyflow.debugging", "assert_rank"))
    table.update(names_from("numpyflow.framework.custom_gradient", "custom_gradient "
                            "grad_pass_through gradients recompute_grad"))
    table.update(names_from("numpyflow.framework.device", "DeviceSpec device"))
    table.update(names_from("numpyflow.framework.execution", "VariableAggregation "
                            "VariableSynchronization get_logger init_scope"))
    table.update(names_from("numpyflow.framework.function", "executing_eagerly"))
    table.update(names_from("numpyflow.framework.module", "Module"))
    table.update(names_from("numpyflow.init_ops", "constant_initializer ones_initializer "
                            "random_normal_initializer random_uniform_initializer "
                            "zeros_initializer"))
    table.update(names_from(ops + "tensor_array", "TensorArray"))
    return table


def _install_lazy_names():
    from numpyflow.framework.lazy import lazy_attributes
    return lazy_attributes(globals(), _lazy_table(), fallback=_lazy_modules)


# The rest of the API (tf.linalg, control flow, tf.config, tf.print, ...) loads on first use:
# `import numpyflow` stays small.
__getattr__ = _install_lazy_names()
