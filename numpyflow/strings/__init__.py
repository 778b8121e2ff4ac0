"""`tf.strings`: ops on `tf.string` Tensors (and on the flat values of RaggedTensors).

Strings are bytes: str input is UTF-8 encoded, results are `bytes`, as in TF.

    >>> import numpyflow as tf
    >>> tf.strings.split(["a b", "c"])
    <tf.RaggedTensor [[b'a', b'b'], [b'c']]>
    >>> tf.strings.lower("ABC").numpy()
    b'abc'

Element-wise ops are registered primitives (`numpyflow/ops/string_ops.py`), so
`tf.function` plans record them. Ops that return a RaggedTensor (`split`, `bytes_split`,
`unicode_split`, `ngrams`) and `format` compute with NumPy outside the primitives: a
`tf.function` that applies them to its traced inputs runs eagerly (as with a `.numpy()` call
inside it), so its results stay right. Nothing here is differentiable.

Regular expressions use RE2 syntax, translated to Python's `re` (see
`numpyflow.ops.string_ops._compile` for what differs).
"""

import numpy as np

from numpyflow.framework import dtypes
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.ops import string_ops as _ops
from numpyflow.ops import tensor_format
from numpyflow.ragged.ragged_tensor import RaggedTensor, note_read

__all__ = ["as_string", "bytes_split", "format", "join", "length", "lower", "ngrams",
           "reduce_join", "regex_full_match", "regex_replace", "split", "strip", "substr",
           "to_hash_bucket_fast", "to_hash_bucket_strong", "to_number", "unicode_split",
           "upper"]


def _strings(value, op):
    """`value` as a tf.string Tensor, or TF's InvalidArgumentError naming the op."""
    tensor = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=dtypes.string)
    if tensor._value.dtype.kind != "O":
        raise InvalidArgumentError(
            None, None, f"cannot compute tf.strings.{op} as input #0(zero-based) was expected "
            f"to be a string tensor but is a {tensor.dtype.name} tensor [Op:{op}]")
    return tensor


def _elementwise(value, op, fn):
    """Applies `fn(tensor)` to a string Tensor, or to a RaggedTensor's flat_values."""
    if isinstance(value, RaggedTensor):
        return value.with_flat_values(fn(_strings(value.flat_values, op)))
    return fn(_strings(value, op))


def _text(value, what):
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise TypeError(f"tf.strings: `{what}` must be a str or bytes; received {value!r}.")


def _choice(value, allowed, what, op):
    if value not in allowed:
        raise ValueError(f"tf.strings.{op}: `{what}` must be one of {list(allowed)}; "
                         f"received {value!r}.")
    return value


# -- element-wise ---------------------------------------------------------------------------

def lower(input, encoding="", name=None):  # noqa: A002 - TF's argument name
    """Lowercases each string: ASCII letters only, or all letters with `encoding="utf-8"`.

    Example:
        >>> tf.strings.lower(["ÀB", "cD"]).numpy().tolist()
        [b'\\xc3\\x80b', b'cd']
    """
    encoding = _choice(encoding.lower() if encoding else "", ("", "utf-8"), "encoding", "lower")
    return _elementwise(input, "lower", lambda t: _ops.StringLower(t, encoding=encoding))


def upper(input, encoding="", name=None):  # noqa: A002
    """Uppercases each string: ASCII letters only, or all letters with `encoding="utf-8"`.

    Example:
        >>> tf.strings.upper("abc").numpy()
        b'ABC'
    """
    encoding = _choice(encoding.lower() if encoding else "", ("", "utf-8"), "encoding", "upper")
    return _elementwise(input, "upper", lambda t: _ops.StringUpper(t, encoding=encoding))


def strip(input, name=None):  # noqa: A002
    """Removes leading and trailing ASCII whitespace.

    Example:
        >>> tf.strings.strip(" a b ").numpy()
        b'a b'
    """
    return _elementwise(input, "strip", _ops.StringStrip)


def length(input, unit="BYTE", name=None):  # noqa: A002
    """The length of each string (int32), in bytes or (`unit="UTF8_CHAR"`) characters.

    Example:
        >>> tf.strings.length(["abc", "é"], unit="UTF8_CHAR").numpy().tolist()
        [3, 1]
    """
    unit = _choice(unit, ("BYTE", "UTF8_CHAR"), "unit", "length")
    return _elementwise(input, "length", lambda t: _ops.StringLength(t, unit=unit))


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """Replaces the matches of the RE2 `pattern` by `rewrite` (`\\1` groups, `\\0` the match).

    Example:
        >>> tf.strings.regex_replace("Hello, World!", "[^a-z ]", "").numpy()
        b'ello orld'
    """
    pattern, rewrite = _text(pattern, "pattern"), _text(rewrite, "rewrite")
    return _elementwise(input, "regex_replace", lambda t: _ops.StaticRegexReplace(
        t, pattern=pattern, rewrite=rewrite, replace_global=bool(replace_global)))


def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each whole string matches the RE2 `pattern` (bool).

    Example:
        >>> tf.strings.regex_full_match(["abc", "xabc"], "ab.").numpy().tolist()
        [True, False]
    """
    pattern = _text(pattern, "pattern")
    return _elementwise(input, "regex_full_match",
                        lambda t: _ops.RegexFullMatch(t, pattern=pattern))


def substr(input, pos, len, name=None, unit="BYTE"):  # noqa: A002 - TF's argument names
    """The substring of `len` bytes (or characters) starting at `pos` (negative: from the end).

    `pos` and `len` broadcast with `input`. A `pos` outside a string is an error; a `len`
    past its end is cut, as in TF.

    Example:
        >>> tf.strings.substr(["hello", "world"], 1, 3).numpy().tolist()
        [b'ell', b'orl']
    """
    unit = _choice(unit, ("BYTE", "UTF8_CHAR"), "unit", "substr")
    pos_t = _integers(pos, "pos", "substr")
    len_t = _integers(len, "len", "substr")
    return _elementwise(input, "substr", lambda t: _ops.Substr(t, pos_t, len_t, unit=unit))


def _integers(value, what, op):
    tensor = value if isinstance(value, Tensor) else convert_to_tensor(value)
    if tensor._value.dtype.kind not in "iu":
        raise TypeError(f"tf.strings.{op}: `{what}` must be an integer tensor; received "
                        f"dtype {tensor.dtype.name}.")
    return tensor


def to_number(input, out_type=dtypes.float32, name=None):  # noqa: A002
    """Parses each string as a number of `out_type` (float32, float64, int32 or int64).

    Raises:
        InvalidArgumentError: A string is not a number of that type (TF's message).

    Example:
        >>> tf.strings.to_number(["1.5", "-2"]).numpy().tolist()
        [1.5, -2.0]
    """
    out = dtypes.as_dtype(out_type)
    if out not in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64):
        raise TypeError(f"tf.strings.to_number: `out_type` must be float32, float64, int32 "
                        f"or int64; received {out.name}.")
    return _elementwise(input, "to_number", lambda t: _ops.StringToNumber(t, out_type=out._np))


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="",
              name=None):  # noqa: A002
    """Formats each number (or bool) as a string, as C's printf would.

    Args:
        input: A numeric, bool or string tensor (strings pass through, padded to `width`).
        precision: Digits after the point for floats (-1: printf's default of 6).
        scientific: Use exponent notation for floats.
        shortest: Use the shorter of plain and exponent notation (`%g`) for floats.
        width: Pad each result to this width (-1: no padding).
        fill: The padding character: "" or " " (spaces, on the left) or "0".

    Example:
        >>> tf.strings.as_string([1.5, 2.0], precision=1).numpy().tolist()
        [b'1.5', b'2.0']
    """
    if fill not in ("", " ", "0"):
        raise InvalidArgumentError(None, None, f"Fill argument not supported: {fill!r} "
                                   f"(expected '', ' ' or '0') [Op:AsString]")
    if scientific and shortest:
        raise ValueError("tf.strings.as_string: cannot select both `scientific` and "
                         "`shortest`.")

    def run(tensor):
        kind = tensor._value.dtype.kind
        if kind not in "fiubO":
            raise InvalidArgumentError(None, None, f"cannot compute AsString: expected a "
                                       f"numeric, bool or string tensor; received dtype "
                                       f"{tensor.dtype.name} [Op:AsString]")
        if kind != "f" and (precision > -1 or scientific or shortest):
            raise InvalidArgumentError(
                None, None, f"precision, scientific and shortest are not supported for "
                f"datatype {tensor.dtype.name}; they apply to floats only [Op:AsString]")
        return _ops.AsString(tensor, precision=int(precision), scientific=bool(scientific),
                             shortest=bool(shortest), width=int(width), fill=fill)

    if isinstance(input, RaggedTensor):
        return input.with_flat_values(run(input.flat_values))
    return run(input if isinstance(input, Tensor) else convert_to_tensor(input))


def to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002
    """FarmHash Fingerprint64 of each string modulo `num_buckets` (int64), as TF.

    Needs `pip install numpyflow[hashing]` (pyfarmhash).

    Example:
        >>> tf.strings.to_hash_bucket_fast(["a", "b"], 1000).numpy().tolist()
        [939, 822]
    """
    buckets = _buckets(num_buckets, "to_hash_bucket_fast")
    return _elementwise(input, "to_hash_bucket_fast",
                        lambda t: _ops.StringToHashBucketFast(t, num_buckets=buckets))


def to_hash_bucket_strong(input, num_buckets, key, name=None):  # noqa: A002
    """Keyed SipHash-2-4 of each string modulo `num_buckets` (int64), as TF.

    Args:
        input: A string tensor.
        num_buckets: The number of buckets (>= 1).
        key: Two non-negative integers (the 128-bit SipHash key, low word first).

    Needs `pip install numpyflow[hashing]` (siphash24).

    Example:
        >>> tf.strings.to_hash_bucket_strong(["a"], 1000, key=[1, 2]).numpy().tolist()
        [646]
    """
    buckets = _buckets(num_buckets, "to_hash_bucket_strong")
    key = list(key)
    if len(key) != 2 or not all(isinstance(k, (int, np.integer)) and 0 <= k < 2**64
                                for k in key):
        raise ValueError(f"tf.strings.to_hash_bucket_strong: `key` must be two integers in "
                         f"[0, 2**64); received {key!r}.")
    key = (int(key[0]), int(key[1]))
    return _elementwise(input, "to_hash_bucket_strong",
                        lambda t: _ops.StringToHashBucketStrong(t, num_buckets=buckets, key=key))


def _buckets(num_buckets, op):
    if not isinstance(num_buckets, (int, np.integer)) or isinstance(num_buckets, bool) \
            or num_buckets < 1:
        raise ValueError(f"tf.strings.{op}: `num_buckets` must be an integer >= 1; received "
                         f"{num_buckets!r}.")
    return int(num_buckets)


# -- joining --------------------------------------------------------------------------------

def join(inputs, separator="", name=None):
    """Joins the strings of several tensors element-wise (they broadcast).

    Example:
        >>> tf.strings.join([["a", "b"], "x"], separator="-").numpy().tolist()
        [b'a-x', b'b-x']
    """
    if isinstance(inputs, (Tensor, str, bytes)):
        raise TypeError("tf.strings.join: `inputs` must be a list of string tensors.")
    tensors = [_strings(x, "join") for x in inputs]
    if not tensors:  # TF joins no inputs to one empty string.
        return Tensor(np.array(b"", dtype=object))
    return _ops.StringJoin(*tensors, separator=_text(separator, "separator"))


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    """Joins the strings along `axis` (all axes when None).

    Example:
        >>> tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1, separator=",").numpy()
        array([b'a,b', b'c,d'], dtype=object)
    """
    from numpyflow.ops._convert import axis_tuple
    tensor = _strings(inputs, "reduce_join")
    axes = axis_tuple(axis, tensor._value.ndim, "ReduceJoin")
    return _ops.ReduceJoin(tensor, axis=axes, keepdims=bool(keepdims),
                           separator=_text(separator, "separator"))


# -- splitting (ragged results) -------------------------------------------------------------

def _ragged_rows(tensor, pieces_of):
    """The pieces of every string in `tensor`: a 1-D Tensor for a scalar, else a RaggedTensor
    with one ragged dimension more than `tensor` has dimensions (its uniform ones become
    ragged, as TF's `from_tensor` does)."""
    note_read(tensor, "a tf.strings op with a ragged result")
    array = tensor._value
    if array.ndim == 0:
        return Tensor(_object_array(pieces_of(array[()])))
    flat = array.reshape(-1)
    rows = [pieces_of(s) for s in flat]
    lengths = [len(r) for r in rows]
    values = Tensor(_object_array([p for r in rows for p in r]))
    return _uniform_rows(RaggedTensor.from_row_lengths(values, lengths), array.shape)


def _uniform_rows(ragged, shape):
    """Groups the rows of `ragged` (one per element of `shape`) into `shape`'s uniform
    dimensions, each becoming a ragged dimension of constant row length."""
    for k in range(len(shape) - 1, 0, -1):
        ragged = RaggedTensor.from_uniform_row_length(ragged, shape[k],
                                                      nrows=int(np.prod(shape[:k])))
    return ragged


def _object_array(items):
    out = np.empty(len(items), dtype=object)
    if items:
        out[:] = items
    return out


def _apply_rows(input, op, pieces_of):
    if isinstance(input, RaggedTensor):
        return input.with_flat_values(_ragged_rows(_strings(input.flat_values, op), pieces_of))
    return _ragged_rows(_strings(input, op), pieces_of)


def split(input, sep=None, maxsplit=-1, name=None):  # noqa: A002
    """Splits each string on `sep` (None or "": runs of ASCII whitespace).

    Returns a 1-D Tensor for a scalar, else a RaggedTensor with one more (ragged) dimension.
    `maxsplit` limits the number of splits (-1: no limit).

    Example:
        >>> tf.strings.split(["a,b,,c"], sep=",")
        <tf.RaggedTensor [[b'a', b'b', b'', b'c']]>
    """
    separator = _text(sep, "sep") if sep is not None else b""
    maxsplit = int(maxsplit)
    if separator:
        return _apply_rows(input, "split", lambda s: s.split(separator, maxsplit))
    return _apply_rows(input, "split", lambda s: s.split(None, maxsplit))


def bytes_split(input, name=None):  # noqa: A002
    """Splits each string into its bytes.

    Example:
        >>> tf.strings.bytes_split("abc").numpy().tolist()
        [b'a', b'b', b'c']
    """
    return _apply_rows(input, "bytes_split", lambda s: [s[i:i + 1] for i in range(len(s))])


_ENCODINGS = {"UTF-8": "utf-8", "UTF-16-BE": "utf-16-be", "UTF-32-BE": "utf-32-be"}


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533,
                  name=None):  # noqa: A002
    """Splits each string into its characters (each encoded in `input_encoding`).

    Args:
        input: A string tensor.
        input_encoding: "UTF-8", "UTF-16-BE" or "UTF-32-BE".
        errors: What to do with invalid input: "replace" (by `replacement_char`),
            "ignore" (drop it) or "strict" (raise InvalidArgumentError).
        replacement_char: The code point used by `errors="replace"`.

    Example:
        >>> tf.strings.unicode_split(["hé"], "UTF-8")
        <tf.RaggedTensor [[b'h', b'\\xc3\\xa9']]>
    """
    codec = _ENCODINGS.get(input_encoding)
    if codec is None:
        raise ValueError(f"tf.strings.unicode_split: `input_encoding` must be one of "
                         f"{list(_ENCODINGS)}; received {input_encoding!r}.")
    _choice(errors, ("replace", "ignore", "strict"), "errors", "unicode_split")
    replacement = chr(int(replacement_char))

    def chars(s):
        out, pos = [], 0
        while True:
            try:
                out.extend(s[pos:].decode(codec))
                break
            except UnicodeDecodeError as error:
                if errors == "strict":
                    from numpyflow.framework.errors import InvalidArgumentError
                    raise InvalidArgumentError(None, None, f"Invalid formatting on input "
                                               f"string: {error} [Op:UnicodeDecodeWithOffsets]") \
                        from None
                out.extend(s[pos:pos + error.start].decode(codec))
                if errors == "replace":
                    out.append(replacement)
                pos += error.end
        return [c.encode(codec) for c in out]

    return _apply_rows(input, "unicode_split", chars)


def ngrams(data, ngram_width, separator=" ", pad_values=None, padding_width=None,
           preserve_short_sequences=False, name=None):
    """The n-grams of each sequence (the last axis of `data`), joined with `separator`.

    Args:
        data: A string Tensor or RaggedTensor; n-grams run along its innermost axis.
        ngram_width: An int, or a sequence of ints (the n-grams of each width, in order).
        separator: Joins the items of an n-gram.
        pad_values: None (no padding), a string for both ends, or a (left, right) pair.
        padding_width: How many pads on each side (default, and at most: `ngram_width - 1`).
        preserve_short_sequences: Give a sequence too short for any n-gram one n-gram of
            the whole (padded) sequence.

    Returns:
        A RaggedTensor for ragged input (or rank >= 2 input whose rows differ in n-gram
        count), else a Tensor.

    Example:
        >>> tf.strings.ngrams(["a", "b", "c"], 2).numpy().tolist()
        [b'a b', b'b c']
    """
    widths = [ngram_width] if isinstance(ngram_width, (int, np.integer)) else list(ngram_width)
    if not widths or any(int(w) < 1 for w in widths):
        raise ValueError(f"tf.strings.ngrams: `ngram_width` must be >= 1; received "
                         f"{ngram_width!r}.")
    widths = [int(w) for w in widths]
    if pad_values is None:
        left = right = None
        if padding_width is not None:
            raise ValueError("tf.strings.ngrams: `padding_width` is given but `pad_values` "
                             "is None.")
    elif isinstance(pad_values, (str, bytes)):
        left = right = _text(pad_values, "pad_values")
    else:
        if len(pad_values) != 2:
            raise ValueError(f"tf.strings.ngrams: `pad_values` must be a string or a pair of "
                             f"strings; received {pad_values!r}.")
        left, right = _text(pad_values[0], "pad_values"), _text(pad_values[1], "pad_values")
    if padding_width is not None and int(padding_width) < 1:
        raise ValueError(f"tf.strings.ngrams: `padding_width` must be >= 1; received "
                         f"{padding_width!r}.")
    sep = _text(separator, "separator")

    def grams(row):
        out = []
        for width in widths:
            # TF cuts padding_width to width - 1.
            pad = 0 if left is None else (width - 1 if padding_width is None
                                          else min(int(padding_width), width - 1))
            items = [left] * pad + row + [right] * pad
            out.extend(sep.join(items[i:i + width]) for i in range(len(items) - width + 1))
        if not out and preserve_short_sequences and row:
            pad = 0 if left is None else (0 if padding_width is None else int(padding_width))
            out.append(sep.join([left] * pad + row + [right] * pad))
        return out

    if isinstance(data, RaggedTensor):
        if data.ragged_rank > 1:
            return data.with_values(ngrams(data.values, ngram_width, separator, pad_values,
                                           padding_width, preserve_short_sequences))
        values = _strings(data.values, "ngrams")._value.tolist()
        splits = data.row_splits._value.tolist()
        rows = [grams(values[splits[i]:splits[i + 1]]) for i in range(len(splits) - 1)]
        return RaggedTensor.from_row_lengths(
            Tensor(_object_array([g for r in rows for g in r])), [len(r) for r in rows])
    tensor = _strings(data, "ngrams")
    note_read(tensor, "tf.strings.ngrams")
    array = tensor._value
    if array.ndim == 0:
        raise ValueError("tf.strings.ngrams: `data` must have rank >= 1; received a scalar.")
    if array.ndim == 1:
        return Tensor(_object_array(grams(array.tolist())))
    # Explicit row count, not -1: the last axis may be empty.
    rows = [grams(row) for row in array.reshape(int(np.prod(array.shape[:-1])),
                                                array.shape[-1]).tolist()]
    counts = {len(r) for r in rows}
    if len(counts) <= 1:
        out = _object_array([g for r in rows for g in r])
        return Tensor(out.reshape(array.shape[:-1] + (counts.pop() if counts else 0,)))
    ragged = RaggedTensor.from_row_lengths(
        Tensor(_object_array([g for r in rows for g in r])), [len(r) for r in rows])
    return _uniform_rows(ragged, array.shape[:-1])


# -- format ---------------------------------------------------------------------------------

def format(template, inputs, placeholder="{}", summarize=3, name=None):  # noqa: A001
    """Formats `template`, replacing each `placeholder` by the next tensor's printout.

    Tensors print as TF prints them here: `[1 2 3]`, strings in double quotes, and only the
    first and last `summarize` items of long dimensions (-1: all of them).

    Example:
        >>> tf.strings.format("x={}", tf.constant([1, 2])).numpy()
        b'x=[1 2]'
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    tensors = [x if isinstance(x, Tensor) else convert_to_tensor(x) for x in inputs]
    pieces = template.split(placeholder)
    if len(pieces) - 1 != len(tensors):
        raise ValueError(f"tf.strings.format: {len(pieces) - 1} placeholders in the template "
                         f"but {len(tensors)} tensors were given.")
    text = pieces[0]
    for tensor, piece in zip(tensors, pieces[1:]):
        note_read(tensor, "tf.strings.format")
        text += tensor_format.summary(tensor._value, int(summarize)) + piece
    return Tensor(np.array(text.encode("utf-8"), dtype=object))


def _add_dispatch():
    # tf.strings ops called on Keras's symbolic inputs build functional models, as tf.nn's do.
    from numpyflow.framework.dispatch import add_dispatch_support
    namespace = globals()
    for op_name in __all__:
        namespace[op_name] = add_dispatch_support(namespace[op_name], "strings." + op_name)


_add_dispatch()
