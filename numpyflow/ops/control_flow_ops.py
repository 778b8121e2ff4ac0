"""Control flow: `tf.cond`, `tf.case`, `tf.switch_case`, `tf.while_loop`, `tf.map_fn`,
`tf.scan`, `tf.foldl`, `tf.foldr`, `tf.vectorized_map`; and the graph-era helpers
`tf.group`, `tf.tuple`, `tf.no_op`, `tf.control_dependencies`, `tf.ensure_shape`.

numpyflow runs these as Python: a condition is read with `bool()`, a loop is a Python
loop over the ops its body runs. Gradients flow through whatever ops ran (the tape
records them as usual).

Inside a `tf.function`, numpyflow traces with the real values, so a branch or loop
decided by a *traced* tensor reads that tensor: the trace notes it, and the function
runs its Python eagerly for that signature (`fn.eager_reasons()` says why). Results are
right either way; only the speed of a compiled plan is lost. Decisions on Python values
(a Python bool, a loop over `range(n)`, a fixed-length map over a tensor's first
dimension) are frozen into the plan, as TF's AutoGraph would unroll them.
"""

import contextlib
import time

from numpyflow.backend import xp
from numpyflow.framework import dtypes, trace_state
from numpyflow.framework.errors import InvalidArgumentError, invalid_argument
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.framework.tensor_shape import TensorShape
from numpyflow.framework.tensor_spec import TensorSpec
from numpyflow.framework.variable import Variable
from numpyflow.nest import (assert_same_structure, flatten, is_nested, map_structure,
                            pack_sequence_as)
from numpyflow.ops._convert import tensor
from numpyflow.ops.array_ops import stack, unstack


# -- conditionals ----------------------------------------------------------------------------

def _truth(pred, op):
    """`pred` (a Python bool or a scalar boolean tensor) as a Python bool."""
    if isinstance(pred, Tensor):
        if pred.shape.rank not in (0, None) and pred.shape.num_elements() != 1:
            raise ValueError(f"tf.{op}: the predicate must be a scalar (a boolean tensor of "
                             f"shape []). Received shape {pred.shape.as_list()}.")
        return bool(pred)  # Inside a tf.function this reads a traced value (see module doc).
    if hasattr(pred, "shape") and getattr(pred, "size", 1) != 1:
        raise ValueError(f"tf.{op}: the predicate must be a scalar. Received shape "
                         f"{list(pred.shape)}.")
    return bool(pred)


def cond(pred, true_fn=None, false_fn=None, name=None):
    """Returns `true_fn()` if `pred` is true, else `false_fn()` (only one of them runs).

    Args:
        pred: A Python bool or a scalar boolean tensor.
        true_fn: Called when `pred` is true.
        false_fn: Called when `pred` is false.
        name: Ignored (TF's graph name).

    Inside a `tf.function`, a traced `pred` keeps the function eager (module doc).

    Example:
        >>> import numpyflow as tf
        >>> x = tf.constant(2.)
        >>> float(tf.cond(x > 1., lambda: x * 10., lambda: x))
        20.0
    """
    for label, fn in (("true_fn", true_fn), ("false_fn", false_fn)):
        if fn is None:
            raise TypeError(f"cond(): '{label}' argument required")
        if not callable(fn):
            raise TypeError(f"cond(): '{label}' must be callable. Received: {fn!r}")
    return true_fn() if _truth(pred, "cond") else false_fn()


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Runs the function of the first true predicate in `pred_fn_pairs` (else `default`).

    Args:
        pred_fn_pairs: A list of `(pred, fn)` pairs (a dict is accepted too, in its order).
        default: Called when no predicate is true; when None, no true predicate is an error.
        exclusive: If True, more than one true predicate is an error.
        strict: Ignored (TF's singleton-list unpacking switch).
        name: Ignored.

    Raises:
        InvalidArgumentError: No predicate is true and there is no `default`, or
            `exclusive` and several are true.

    Example:
        >>> import numpyflow as tf
        >>> x = tf.constant(3)
        >>> int(tf.case([(x < 0, lambda: tf.constant(-1)), (x > 0, lambda: tf.constant(1))],
        ...             default=lambda: tf.constant(0)))
        1
    """
    pairs = list(pred_fn_pairs.items() if isinstance(pred_fn_pairs, dict) else pred_fn_pairs)
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2 or not callable(pair[1]):
            raise TypeError(f"tf.case: pred_fn_pairs must be a list of (predicate, callable) "
                            f"pairs. Received: {pair!r}")
    if default is not None and not callable(default):
        raise TypeError(f"tf.case: default must be callable. Received: {default!r}")
    chosen = None
    true_count = 0
    for pred, fn in pairs:
        if _truth(pred, "case"):
            true_count += 1
            if chosen is None:
                chosen = fn
            if not exclusive:
                break
    if exclusive and true_count > 1:
        raise InvalidArgumentError(None, None, f"tf.case: more than one condition evaluated "
                                               f"as True while exclusive=True ({true_count} did).")
    if chosen is not None:
        return chosen()
    if default is None:
        raise InvalidArgumentError(None, None, "Input error: None of conditions evaluated as "
                                               "True (tf.case has no default).")
    return default()


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Runs `branch_fns[branch_index]()`; an index out of range runs `default` (by
    default the last branch), as in TF.

    Args:
        branch_index: An int32/int64 scalar tensor or a Python int.
        branch_fns: A list of callables, a list of `(int, callable)` pairs, or a dict of
            int keys 0..n-1 to callables.
        default: Called for an index out of range (None: the last branch).
        name: Ignored.

    Example:
        >>> import numpyflow as tf
        >>> int(tf.switch_case(tf.constant(1), [lambda: tf.constant(10),
        ...                                     lambda: tf.constant(20)]))
        20
    """
    if isinstance(branch_fns, dict):
        branch_fns = sorted(branch_fns.items())
    branch_fns = list(branch_fns)
    if branch_fns and isinstance(branch_fns[0], tuple):
        branch_fns = sorted(branch_fns, key=lambda pair: pair[0])  # TF sorts them by key.
        keys = [key for key, _ in branch_fns]
        if keys != list(range(len(keys))):
            raise ValueError(f"tf.switch_case: the branch keys must be 0..{len(keys) - 1}. "
                             f"Received keys: {keys}")
        branch_fns = [fn for _, fn in branch_fns]
    if not branch_fns:
        raise ValueError("tf.switch_case: branch_fns must not be empty.")
    for fn in branch_fns + ([default] if default is not None else []):
        if not callable(fn):
            raise TypeError(f"tf.switch_case: every branch must be callable. Received: {fn!r}")
    if isinstance(branch_index, Tensor):
        if branch_index.dtype not in (dtypes.int32, dtypes.int64) or branch_index.shape.rank != 0:
            raise TypeError(f"tf.switch_case: branch_index must be an int32 or int64 scalar. "
                            f"Received dtype {branch_index.dtype.name} and shape "
                            f"{branch_index.shape.as_list()}.")
        index = int(branch_index)  # Inside a tf.function this reads a traced value.
    elif isinstance(branch_index, (int, xp.integer)) and not isinstance(branch_index, bool):
        index = int(branch_index)  # TF wants a tensor; a Python int means the same.
    else:
        raise TypeError(f"tf.switch_case: branch_index must be an integer scalar tensor. "
                        f"Received: {branch_index!r}")
    if 0 <= index < len(branch_fns):
        return branch_fns[index]()
    return (default if default is not None else branch_fns[-1])()


# -- loops -----------------------------------------------------------------------------------

def _as_loop_tensor(value):
    """Loop variables become tensors, as TF converts them (Python numbers, arrays)."""
    if value is None or isinstance(value, Tensor) or not _is_tensor_like(value):
        return value
    return tensor(value)


def _is_tensor_like(value):
    return isinstance(value, (bool, int, float, complex, xp.ndarray, xp.generic))


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeats `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` is true.

    Args:
        cond: Called with the loop variables; returns a Python bool or a boolean scalar.
        body: Called with the loop variables; returns them updated, in the same structure.
        loop_vars: A tuple or list of tensors or nested structures (a single tensor is
            taken as one loop variable). Python numbers and arrays become tensors.
        shape_invariants: Accepted for TF's signature; shapes may change here.
        parallel_iterations, back_prop, swap_memory, name: Ignored.
        maximum_iterations: Stop after this many iterations even if `cond` holds.

    Returns:
        The final loop variables, structured as `loop_vars`.

    Inside a `tf.function`, a condition on traced tensors keeps the function eager
    (module doc); gradients flow through the ops the iterations ran.

    Example:
        >>> import numpyflow as tf
        >>> i, total = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0))
        >>> int(i), int(total)
        (4, 6)
    """
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if loop_vars is None or (isinstance(loop_vars, (list, tuple)) and not loop_vars):
        raise ValueError("'loop_vars' must be provided.")
    single = not isinstance(loop_vars, (list, tuple))
    variables = [loop_vars] if single else loop_vars
    variables = map_structure(_as_loop_tensor, variables)
    if maximum_iterations is not None:
        maximum_iterations = int(maximum_iterations)  # A tensor here is read once, up front.
        if maximum_iterations < 0:
            raise ValueError(f"tf.while_loop: maximum_iterations must be >= 0. Received: "
                             f"{maximum_iterations}")
    iterations = 0
    while maximum_iterations is None or iterations < maximum_iterations:
        if not _truth(cond(*variables), "while_loop (the value cond returned)"):
            break
        updated = body(*variables)
        if len(variables) == 1 and not isinstance(updated, (list, tuple)):
            # One loop variable and a body returning it bare: what the user meant.
            updated = [updated]
        try:
            assert_same_structure(list(variables), list(updated), check_types=False)
        except (ValueError, TypeError) as error:
            raise ValueError(f"tf.while_loop: body must return the loop variables' "
                             f"structure. {error}") from None
        updated = map_structure(_as_loop_tensor, updated)
        _check_loop_dtypes(variables, updated)
        variables = updated  # TF returns the body's structure (a tuple for a tuple body).
        iterations += 1
    return variables[0] if single else variables


def _check_loop_dtypes(before, after):
    for old, new in zip(flatten(before), flatten(after)):
        if isinstance(old, Tensor) and isinstance(new, Tensor) and old.dtype != new.dtype:
            raise TypeError(f"tf.while_loop: a loop variable entered the loop as "
                            f"{old.dtype.name} and the body returned {new.dtype.name}; a "
                            f"loop variable keeps its dtype.")


def _unstacked(elems, op):
    """The leaves of `elems` as tensors, each unstacked along its first dimension."""
    leaves = [tensor(leaf) for leaf in flatten(elems)]
    if not leaves:
        raise ValueError(f"tf.{op}: elems must contain at least one tensor. Received: {elems!r}")
    lengths = set()
    for leaf in leaves:
        if leaf.shape.rank == 0:
            raise ValueError(f"tf.{op}: Elements in elems must be 1+ dimensional Tensors, not "
                             f"scalars. Received: {leaf!r}")
        lengths.add(leaf.shape[0])
    if len(lengths) != 1:
        raise ValueError(f"tf.{op}: all tensors in elems must have the same first dimension. "
                         f"Received first dimensions: {sorted(lengths)}")
    return leaves, lengths.pop()


def _empty_like_signature(signature, elems):
    """The outputs of a map over zero elements: empty tensors of the signature's dtypes."""
    if signature is None:
        signature = map_structure(lambda leaf: tensor(leaf).dtype, elems)

    def empty(spec):
        if isinstance(spec, TensorSpec):
            # An unknown rank gives shape (0,), as TF's map over no elements does.
            dims = [] if spec.shape.rank is None else spec.shape.as_list()
            shape = [0] + [0 if d is None else d for d in dims]
            return Tensor(xp.zeros(shape, dtype=spec.dtype._np))
        return Tensor(xp.zeros([0], dtype=dtypes.as_dtype(spec)._np))

    return map_structure(empty, signature)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None, fn_output_signature=None):
    """`fn` applied to each slice of `elems` along its first dimension, results stacked.

    Args:
        fn: Called with one slice (in `elems`' structure); returns a tensor or structure.
        elems: A tensor, or a nested structure of tensors of the same first dimension.
        dtype: Deprecated name of `fn_output_signature`.
        fn_output_signature: The output's dtype or `tf.TensorSpec` (structure). Python
            numbers `fn` returns take its dtypes, a tensor of another dtype is an error, as
            in TF; it also shapes the result when `elems` is empty. Without it, Python
            numbers take `elems`' dtypes (TF's default signature) when `fn` returns
            `elems`' structure, and tensors stack with whatever dtype they have.
        parallel_iterations, back_prop, swap_memory, infer_shape, name: Ignored.

    Example:
        >>> import numpyflow as tf
        >>> tf.map_fn(lambda row: tf.reduce_sum(row), tf.constant([[1, 2], [3, 4]])).numpy()
        array([3, 7], dtype=int32)
    """
    if not callable(fn):
        raise TypeError(f"tf.map_fn: fn must be callable. Received: {fn!r}")
    signature = fn_output_signature if fn_output_signature is not None else dtype
    leaves, length = _unstacked(elems, "map_fn")
    if length == 0:
        return _empty_like_signature(signature, elems)
    slices = [unstack(leaf, axis=0) for leaf in leaves]
    results = [fn(pack_sequence_as(elems, [column[i] for column in slices]))
               for i in range(length)]
    if signature is not None:
        results = [_as_signature_dtypes(result, signature, strict=True) for result in results]
    else:
        default = pack_sequence_as(elems, [leaf.dtype for leaf in leaves])  # TF's default.
        results = [_as_signature_dtypes(result, default, strict=False)
                   if _holds_numbers(result) and _same_nesting(result, default) else result
                   for result in results]
    return _stack_results(results, "map_fn")


def _holds_numbers(result):
    """Whether `result` (a tensor or structure) has a leaf that is not a tensor."""
    return not isinstance(result, Tensor) and \
        not all(isinstance(value, Tensor) for value in flatten(result))


def _same_nesting(first, second):
    try:
        assert_same_structure(first, second, check_types=False)
        return True
    except (ValueError, TypeError):
        return False


def _leaf_dtype(value):
    """The dtype of a tensor or Python number, else None (a leaf left as it is)."""
    if isinstance(value, Tensor):
        return value.dtype
    return tensor(value).dtype if _is_tensor_like(value) else None


def _spec_dtype(spec):
    if isinstance(spec, dtypes.DType) or not hasattr(spec, "dtype"):
        return dtypes.as_dtype(spec)
    return spec.dtype  # A TensorSpec (or a ragged or sparse one).


def _as_signature_dtypes(result, signature, strict, op="map_fn"):
    """`result` with its Python numbers converted to the dtypes of `signature` (dtypes
    or TensorSpecs, same nesting; a None leaf: no dtype); `strict`: a tensor of another
    dtype, or a number that is not of the dtype, is an error."""
    if isinstance(result, Tensor) and not is_nested(signature):  # The common case.
        return _as_dtype_of(result, _spec_dtype(signature), strict, op)
    try:
        assert_same_structure(result, signature, check_types=False)
    except (ValueError, TypeError) as error:
        raise ValueError(f"tf.{op}: fn's output does not match fn_output_signature: "
                         f"{error}") from None
    converted = [value if spec is None else _as_dtype_of(value, _spec_dtype(spec), strict, op)
                 for value, spec in zip(flatten(result), flatten(signature))]
    return pack_sequence_as(result, converted)


def _as_dtype_of(value, dtype, strict, op):
    if isinstance(value, Tensor):
        if strict and value.dtype != dtype:
            raise TypeError(f"tf.{op}: fn returned a tensor of dtype {value.dtype.name} "
                            f"where fn_output_signature expects {dtype.name}. Received: "
                            f"{value!r}")
        return value
    if not _is_tensor_like(value):
        return value
    try:
        return convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError):
        if strict:  # 1.5 for an int32 signature: TF refuses it too.
            raise TypeError(f"tf.{op}: fn returned {value!r}, which is not a {dtype.name} "
                            f"value as fn_output_signature expects.") from None
        return value  # Stacked with its own dtype.


def _stack_results(results, op):
    first = results[0]
    for other in results[1:]:
        assert_same_structure(first, other, check_types=False)
    columns = zip(*[flatten(result) for result in results])
    stacked = []
    for column in columns:
        try:
            stacked.append(stack([tensor(value) for value in column], axis=0))
        except (ValueError, InvalidArgumentError) as error:
            raise ValueError(f"tf.{op}: fn returned values that cannot be stacked (their "
                             f"shapes or dtypes differ from one element to the next): "
                             f"{error}") from None
    return pack_sequence_as(first, stacked)


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """`tf.vectorized_map`: numpyflow runs it as `map_fn` (one call of `fn` per element).

    Example:
        >>> import numpyflow as tf
        >>> tf.vectorized_map(lambda row: row * 2., tf.constant([[1., 2.]])).numpy()
        array([[2., 4.]], dtype=float32)
    """
    return map_fn(fn, elems)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """The successive accumulators of `accumulator = fn(accumulator, element)`, stacked.

    Args:
        fn: Called with the accumulator and one slice of `elems`.
        elems: A tensor, or a nested structure of tensors of the same first dimension.
        initializer: The first accumulator; without it, the first element is (and the
            scan starts at the second).
        reverse: Scan from the last element to the first (outputs keep their positions).
        parallel_iterations, back_prop, swap_memory, infer_shape, name: Ignored.

    Example:
        >>> import numpyflow as tf
        >>> tf.scan(lambda total, x: total + x, tf.constant([1, 2, 3, 4])).numpy()
        array([ 1,  3,  6, 10], dtype=int32)
    """
    accumulators = _accumulate(fn, elems, initializer, reverse, "scan")
    if not accumulators:  # Empty elems with an initializer: no accumulator to stack.
        specs = map_structure(lambda value: TensorSpec(tensor(value).shape, tensor(value).dtype),
                              initializer)
        return _empty_like_signature(specs, initializer)
    if reverse:
        accumulators.reverse()
    return _stack_results(accumulators, "scan")


def _accumulate(fn, elems, initializer, reverse, op):
    """The accumulators `fn` produces over `elems` (the initializer's own not included,
    an element used as the initializer included)."""
    if not callable(fn):
        raise TypeError(f"tf.{op}: fn must be callable. Received: {fn!r}")
    leaves, length = _unstacked(elems, op)
    slices = [unstack(leaf, axis=0) for leaf in leaves]
    order = list(range(length))
    if reverse:
        order.reverse()

    def element(i):
        return pack_sequence_as(elems, [column[i] for column in slices])

    accumulators = []
    if initializer is None:
        if length == 0:
            raise ValueError(f"tf.{op}: elems is empty and there is no initializer: there is "
                             f"no first accumulator.")
        accumulator = element(order[0])
        accumulators.append(accumulator)
        order = order[1:]
    else:
        accumulator = map_structure(_as_loop_tensor, initializer)
    for i in order:
        updated = fn(accumulator, element(i))
        if op == "scan" and _holds_numbers(updated) and _same_nesting(updated, accumulator):
            # Numbers take the accumulator's dtypes, as TF writes them into its arrays.
            dtypes_before = map_structure(_leaf_dtype, accumulator)
            updated = _as_signature_dtypes(updated, dtypes_before, strict=False, op=op)
        accumulator = updated
        accumulators.append(accumulator)
    return accumulators


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """The last accumulator of `accumulator = fn(accumulator, element)`, first to last.

    Example:
        >>> import numpyflow as tf
        >>> int(tf.foldl(lambda a, x: a - x, tf.constant([1, 2, 3]), initializer=10))
        4
    """
    return _fold(fn, elems, initializer, reverse=False, op="foldl")


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """The last accumulator of `accumulator = fn(accumulator, element)`, last to first.

    Example:
        >>> import numpyflow as tf
        >>> int(tf.foldr(lambda a, x: a - x, tf.constant([1, 2, 3])))
        0
    """
    return _fold(fn, elems, initializer, reverse=True, op="foldr")


def _fold(fn, elems, initializer, reverse, op):
    accumulators = _accumulate(fn, elems, initializer, reverse, op)
    if not accumulators:
        return map_structure(_as_loop_tensor, initializer)
    return map_structure(_as_loop_tensor, accumulators[-1])  # Tensors, as TF returns.


# -- graph-era helpers: ops run in order eagerly and in plans --------------------------------

def no_op(name=None):
    """Does nothing (`tf.no_op`); returns None, as TF does eagerly."""
    return None


def group(*inputs, **kwargs):
    """`tf.group`: waits for `inputs` in a graph; ops have run already here. Returns None."""
    unknown = set(kwargs) - {"name"}
    if unknown:
        raise TypeError(f"tf.group: unknown keyword arguments {sorted(unknown)}")
    return None


def tuple_(tensors, name=None, control_inputs=None):
    """`tf.tuple`: the tensors, as a list (they are all computed already).

    Example:
        >>> import numpyflow as tf
        >>> len(tf.tuple([tf.constant(1), tf.constant(2)]))
        2
    """
    return [None if t is None else tensor(t) for t in tensors]


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """`tf.control_dependencies`: orders ops in a TF graph; numpyflow runs ops in program
    order (eagerly and in compiled plans), so the block simply runs. None clears
    dependencies in TF and is accepted.

    Example:
        >>> import numpyflow as tf
        >>> with tf.control_dependencies([tf.no_op()]):
        ...     y = tf.constant(1.) + 1.
    """
    if control_inputs is not None and not isinstance(control_inputs, (list, tuple)):
        raise TypeError(f"tf.control_dependencies: control_inputs must be a list or tuple "
                        f"(or None). Received: {control_inputs!r}")
    yield None


def ensure_shape(x, shape, name=None):
    """`x`, after checking that its shape is compatible with `shape` (None: any size).

    Raises:
        InvalidArgumentError: The shapes are not compatible (TF's message).

    Example:
        >>> import numpyflow as tf
        >>> tf.ensure_shape(tf.zeros([2, 3]), [None, 3]).shape
        TensorShape([2, 3])
    """
    x = tensor(x)
    if shape is None:
        return x  # An unknown shape: every tensor is compatible.
    expected = shape if isinstance(shape, TensorShape) else TensorShape(shape)
    if not expected.is_compatible_with(x.shape):
        def text(s):
            return "[" + ",".join("?" if d is None else str(d) for d in s.as_list()) + "]"
        raise invalid_argument("EnsureShape", f"Shape of tensor {name or 'input'} "
                                              f"{text(x.shape)} is not compatible with "
                                              f"expected shape {text(expected)}.")
    return x


def guarantee_const(input, name=None):
    """`tf.guarantee_const` (deprecated in TF): the input, unchanged."""
    return tensor(input)


def timestamp(name=None):
    """Seconds since the epoch as a float64 scalar (`tf.timestamp`).

    Inside a `tf.function` the clock must be read on every call, so the function stays
    eager instead of freezing the trace's time into its plan.
    """
    trace = trace_state.current
    if trace is not None and trace.untraceable is None:
        trace.untraceable = "the function reads the clock (tf.timestamp)"
    return Tensor(xp.asarray(time.time(), dtype=xp.float64))


def get_static_value(tensor, partial=False):
    """The value of `tensor` as a NumPy array when known now, else None.

    Eagerly every tensor's value is known. While a `tf.function` traces, tensors stand
    for values of later calls too, so this gives None for them (as TF's graph mode does
    for values it cannot fold), and Python values as NumPy arrays.

    Example:
        >>> import numpyflow as tf
        >>> tf.get_static_value(tf.constant([1, 2]))
        array([1, 2], dtype=int32)
    """
    if isinstance(tensor, Tensor):
        if trace_state.current is not None or isinstance(tensor, Variable):
            return None  # A Variable's value may change: not static, as in TF.
        return tensor.numpy()
    if hasattr(tensor, "to_dense") or hasattr(tensor, "flat_values"):
        return None  # Sparse and ragged tensors: TF gives no static value either.
    if is_nested(tensor) or _is_tensor_like(tensor):
        return tensor
    return None
