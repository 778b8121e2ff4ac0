"""`tf.print`, the value assertions of `tf.debugging` and `tf.debugging.check_numerics`.

Each is a primitive with a side effect (it writes, or it raises), so a `tf.function` keeps
it in its plan although nothing reads its output, and runs it on every call, as TF's
automatic control dependencies do; eagerly it acts at once. Messages follow TF's eager
ones; assertions raise `tf.errors.InvalidArgumentError`.

    >>> import numpyflow as tf
    >>> tf.print("x:", tf.constant([1, 2, 3]), output_stream=sys.stdout)
    x: [1 2 3]
    >>> tf.debugging.assert_less(tf.constant([1, 2]), 3)  # passes: returns None
"""

import sys

from numpyflow.backend import errstate, host, xp
from numpyflow.framework import dtypes
from numpyflow.framework.errors import InvalidArgumentError, invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops import tensor_format

_NOTHING = host.zeros(0, host.bool_)  # The output of an op that acts rather than computes.


# -- tf.print -----------------------------------------------------------------------------------

def _rendered(template, arrays, summarize):
    """The text of a template from `_template`: its strings, and each index's array."""
    return "".join(piece if isinstance(piece, str)
                   else tensor_format.summary(host.asarray(arrays[piece]), summarize)
                   for piece in template)


def _print_forward(*arrays, template, output_stream, summarize):
    text = _rendered(template, arrays, summarize)
    if output_stream.startswith("file://"):
        with open(output_stream[len("file://"):], "a", encoding="utf-8") as file:
            file.write(text)
    else:
        stream = sys.stdout if output_stream == "stdout" else sys.stderr  # As they are now.
        stream.write(text)
        stream.flush()
    return _NOTHING


PrintV2 = Primitive("PrintV2", _print_forward, side_effect=True)

_STREAM_ERROR = ("Unsupported output stream or file: {!r}. tf.print writes to sys.stdout, "
                 "sys.stderr, or a file given as 'file://<filepath>'.")


# The streams `print_`'s default was bound to, which may have been replaced since.
_STDOUTS = (sys.stdout, sys.__stdout__)
_STDERRS = (sys.stderr, sys.__stderr__)


def _stream_name(output_stream):
    # Resolved to a name now and to the stream when printing, so a plan prints where
    # sys.stdout points at that time (as pytest's capture or a notebook redirect it).
    if output_stream is sys.stdout or any(output_stream is s for s in _STDOUTS):
        return "stdout"
    if output_stream is sys.stderr or any(output_stream is s for s in _STDERRS):
        return "stderr"
    if isinstance(output_stream, str) and output_stream.startswith("file://"):
        return output_stream
    raise ValueError(_STREAM_ERROR.format(output_stream))


def _template(value, tensors, top_level):
    """`value` as text pieces: strings, and the index in `tensors` of each Tensor in it.
    Python values print as `str` at the top level and as in their container's repr inside
    one (`['x', [1 2]]`), as TF's `tf.print` does."""
    if isinstance(value, (Tensor, host.ndarray)):
        tensors.append(value if isinstance(value, Tensor) else convert_to_tensor(value))
        return [len(tensors) - 1]
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        pieces = [opening]
        for i, item in enumerate(value):
            pieces += ([", "] if i else []) + _template(item, tensors, False)
        if isinstance(value, tuple) and len(value) == 1:
            pieces.append(",")
        return pieces + [closing]
    if isinstance(value, dict):
        pieces = ["{"]
        for i, (key, item) in enumerate(value.items()):
            pieces += ([", "] if i else []) + [f"{key!r}: "] + _template(item, tensors, False)
        return pieces + ["}"]
    return [str(value) if top_level else repr(value)]


def print_(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\n", name=None):
    """Prints `inputs` (Tensors, Python values and structures of them), as `tf.print`.

    Inside a `tf.function` it prints on every call, with that call's values (Python's
    `print` there would print once, while tracing).

    Args:
      *inputs: What to print, separated by `sep`: a Tensor prints as `[1 2 3]`, a string
        as itself.
      output_stream: `sys.stderr` (default), `sys.stdout`, or `"file://<path>"` (appended to).
      summarize: The first and last items printed of each dimension (`-1`: all; None: 3).
      sep: Between inputs.
      end: After the last input.
      name: Unused (TF's op name).

    Example:
        >>> tf.print(tf.range(10), output_stream=sys.stdout)
        [0 1 2 ... 7 8 9]
    """
    stream = _stream_name(output_stream)
    summarize = 3 if summarize is None else int(summarize)
    tensors, template = [], []
    for i, value in enumerate(inputs):
        template += ([sep] if i else []) + _template(value, tensors, True)
    template.append(end)
    # Neighbouring literal pieces joined, so the attribute is short and compares cheaply.
    merged = []
    for piece in template:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    PrintV2(*tensors, template=tuple(merged), output_stream=stream, summarize=summarize)


# -- assertions on values -----------------------------------------------------------------------

_COMPARISONS = {"==": xp.equal, "!=": xp.not_equal, "<": xp.less, "<=": xp.less_equal,
                ">": xp.greater, ">=": xp.greater_equal}


def _described(name, array, summarize):
    return (f"{name} (shape={tuple(array.shape)} dtype={dtypes.as_dtype(array.dtype).name}) = \n"
            f"{tensor_format.summary(array, summarize)}")


def _first(array, summarize):
    flat = array.reshape(-1)
    count = flat.size if summarize < 0 else min(summarize, flat.size)
    return f"{tensor_format.summary(flat[:count], -1)}", count


def _comparison_failure(x, y, holds, operator, summarize):
    x_b, y_b = xp.broadcast_arrays(x, y)
    failing = xp.argwhere(~holds)
    shown = failing if summarize < 0 else failing[:summarize]
    where = tuple(shown.T)
    x_first, x_count = _first(x, summarize)
    y_first, y_count = _first(y, summarize)
    return (f"Condition x {operator} y did not hold.\n"
            f"Indices of first {len(shown)} different values:\n"
            f"{tensor_format.summary(shown, -1)}\n"
            f"Corresponding x values:\n{tensor_format.summary(x_b[where], -1)}\n"
            f"Corresponding y values:\n{tensor_format.summary(y_b[where], -1)}\n"
            f"First {x_count} elements of x:\n{x_first}\n"
            f"First {y_count} elements of y:\n{y_first}")


def _assert_forward(*arrays, check, message, summarize, rtol=None, atol=None):
    """Raises when the check fails; `arrays` are (x, y) for comparisons and "near",
    (x,) for "x OP 0" checks, and (condition, *data) with `message` a template for "all"."""
    if check == "all":
        if xp.all(arrays[0]):
            return _NOTHING
        text = _rendered(message, arrays[1:], summarize)
        raise InvalidArgumentError(None, None, f"assertion failed: {text}")
    if check == "near":
        x, y = arrays
        with errstate(all="ignore"):  # inf - inf: NaN, which fails the check, as it should
            holds = xp.abs(x - y) <= atol + rtol * xp.abs(y)
        if xp.all(holds):
            return _NOTHING
        detail = (f"x and y not equal to tolerance "
                  f"rtol = {tensor_format.scalar_text(x.dtype.type(rtol))}, "
                  f"atol = {tensor_format.scalar_text(x.dtype.type(atol))}\n"
                  f"{_described('x', x, summarize)}\n{_described('y', y, summarize)}")
    elif len(arrays) == 1:  # x against zero, element-wise: assert_positive and its kin.
        operator = check
        holds = _COMPARISONS[operator](arrays[0], 0)
        if xp.all(holds):
            return _NOTHING
        detail = (f"Condition x {operator} 0 did not hold element-wise:\n"
                  f"{_described('x', arrays[0], summarize)}")
    else:
        x, y = arrays
        holds = _COMPARISONS[check](x, y)
        if xp.all(holds):
            return _NOTHING
        detail = _comparison_failure(x, y, holds, check, summarize)
    raise InvalidArgumentError(None, None, f"{message}\n{detail}" if message else detail)


def _assert_explain(arrays, attrs, error):
    shapes = " vs. ".join(str(list(a.shape)) for a in arrays)
    return f"Incompatible shapes: {shapes} (the values an assertion compares must broadcast)"


AssertThat = Primitive("Assert", _assert_forward, explain=_assert_explain, side_effect=True)


def _summarize(summarize):
    return 3 if summarize is None else int(summarize)


def _pair(x, y, what):
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    y = y if isinstance(y, Tensor) else convert_to_tensor(y, dtype=x.dtype)
    if x.dtype != y.dtype:
        raise TypeError(f"{what}: x and y must have the same dtype, got {x.dtype.name} and "
                        f"{y.dtype.name}.")
    return x, y


# For each comparison, an (x, y) it holds for: its docstring's example.
_PASSING = {"==": ([1, 2], [1, 2]), "!=": ([1, 2], [2, 1]), "<": ([1, 2], 3),
            "<=": ([1, 2], 2), ">": ([2, 3], 1), ">=": ([2, 3], 2)}


def _comparison(operator, public_name):
    def assertion(x, y, message=None, summarize=None, name=None):
        x, y = _pair(x, y, public_name)
        AssertThat(x, y, check=operator, message=message or "",
                   summarize=_summarize(summarize))
    assertion.__name__ = public_name
    assertion.__qualname__ = public_name
    assertion.__doc__ = f"""Raises `InvalidArgumentError` unless `x {operator} y` element-wise
    (broadcasting), as `tf.debugging.{public_name}`; returns None.

    Inside a `tf.function` the check runs on every call.

    Args:
      x, y: Tensors (or values) of one dtype.
      message: Put first in the error's message.
      summarize: How many entries of each tensor the message shows (default 3).
      name: Unused (TF's op name).

    Example:
        >>> tf.debugging.{public_name}(tf.constant({_PASSING[operator][0]}), {_PASSING[operator][1]}) is None
        True
    """
    return assertion


assert_equal = _comparison("==", "assert_equal")
assert_none_equal = _comparison("!=", "assert_none_equal")
assert_less = _comparison("<", "assert_less")
assert_less_equal = _comparison("<=", "assert_less_equal")
assert_greater = _comparison(">", "assert_greater")
assert_greater_equal = _comparison(">=", "assert_greater_equal")


def _sign_check(operator, public_name):
    def assertion(x, message=None, summarize=None, name=None):
        x = x if isinstance(x, Tensor) else convert_to_tensor(x)
        if not (x.dtype.is_floating or x.dtype.is_integer):
            raise TypeError(f"{public_name}: x must be a numeric tensor, got {x.dtype.name}.")
        AssertThat(x, check=operator, message=message or "", summarize=_summarize(summarize))
    assertion.__name__ = public_name
    assertion.__qualname__ = public_name
    assertion.__doc__ = f"""Raises `InvalidArgumentError` unless `x {operator} 0` element-wise, as
    `tf.debugging.{public_name}`; returns None (see `assert_equal` for the arguments)."""
    return assertion


assert_positive = _sign_check(">", "assert_positive")
assert_negative = _sign_check("<", "assert_negative")
assert_non_negative = _sign_check(">=", "assert_non_negative")
assert_non_positive = _sign_check("<=", "assert_non_positive")


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Raises `InvalidArgumentError` unless `|x - y| <= atol + rtol * |y|` element-wise.

    Args:
      x, y: Floating Tensors of one dtype.
      rtol, atol: Tolerances; default `10 * eps` of the dtype (1.19e-06 for float32).
      message, summarize, name: As in `assert_equal`.

    Example:
        >>> tf.debugging.assert_near(tf.constant([1.0]), tf.constant([1.0 + 1e-7])) is None
        True
    """
    x, y = _pair(x, y, "assert_near")
    if not x.dtype.is_floating:
        raise TypeError(f"assert_near: x and y must be floating-point, got {x.dtype.name}.")
    eps = float(host.finfo(x.dtype._np).eps)
    AssertThat(x, y, check="near", message=message or "", summarize=_summarize(summarize),
               rtol=10 * eps if rtol is None else float(rtol),
               atol=10 * eps if atol is None else float(atol))


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's name
    """Raises `InvalidArgumentError` unless every element of `condition` is true; the
    message lists `data` (strings and Tensors), as `tf.debugging.Assert`.

    Example:
        >>> x = tf.constant([1, 2])
        >>> tf.debugging.Assert(tf.reduce_all(x > 0), ["x is not positive:", x]) is None
        True
    """
    condition = condition if isinstance(condition, Tensor) else convert_to_tensor(condition)
    if condition.dtype != dtypes.bool:
        raise TypeError(f"Assert: condition must be a bool tensor, got {condition.dtype.name}.")
    tensors, template = [], []
    for i, item in enumerate(data):
        template += ["] [" if i else "["] + _template(item, tensors, True)
    template.append("]" if data else "")
    AssertThat(condition, *tensors, check="all", message=tuple(template),
               summarize=_summarize(summarize))


# -- check_numerics -----------------------------------------------------------------------------

def _check_numerics_forward(x, message):
    if x.dtype.kind != "f":
        raise invalid_argument("CheckNumerics", f"{message} : check_numerics takes a "
                               f"floating-point tensor (float16/32/64), got {x.dtype.name}")
    if not xp.isfinite(x).all():
        nan, inf = bool(xp.isnan(x).any()), bool(xp.isinf(x).any())
        kinds = "Inf and NaN" if nan and inf else ("NaN" if nan else "Inf")
        raise invalid_argument("CheckNumerics", f"{message} : Tensor had {kinds} values")
    return x


def _check_numerics_grad(node, dy):
    return (check_numerics(dy, "Not a number (NaN) or infinity (Inf) values detected in "
                               f"gradient. {node.attrs['message']}"),)


CheckNumerics = Primitive("CheckNumerics", _check_numerics_forward, _check_numerics_grad,
                          side_effect=True)


def check_numerics(tensor, message, name=None):
    """Returns `tensor`; raises `InvalidArgumentError` (naming `message`) if it holds a NaN
    or an infinity. Its gradient checks the gradient the same way.

    Example:
        >>> tf.debugging.check_numerics(tf.constant([1.0, 2.0]), "weights").numpy()
        array([1., 2.], dtype=float32)
    """
    tensor = tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor)
    return CheckNumerics(tensor, message=str(message))


def assert_all_finite(x, message, name=None):
    """`check_numerics(x, message)`: returns `x`, raising if it holds a NaN or infinity."""
    return check_numerics(x, message)
