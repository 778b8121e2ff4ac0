"""String primitives: element-wise ops on `tf.string` Tensors (object arrays of `bytes`).

None of these has a gradient. They are registered primitives so that `tf.function` plans
record them like any other op. The public functions, with TF's signatures and RaggedTensor
support, are in `numpyflow/strings/`.

Regular expressions use TF's RE2 syntax translated to Python's `re` (see `_compile`).
"""

import re

from numpyflow.backend import host
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.framework.primitive import Primitive


def _each(fn, array, out_dtype=object):
    """`fn` applied to every element of an object array of bytes."""
    out = host.frompyfunc(fn, 1, 1)(array) if array.size else host.empty(array.shape, object)
    out = host.asarray(out, dtype=object)
    return out if out_dtype is object else out.astype(out_dtype)


def _invalid(op, message):
    return InvalidArgumentError(None, None, f"{message} [Op:{op}]")


# -- case, whitespace, length ------------------------------------------------------------

def _lower(x, encoding):
    if encoding == "":
        return _each(bytes.lower, x)  # ASCII letters only, as TF without an encoding.
    # Invalid UTF-8 becomes U+FFFD, as in TF.
    return _each(lambda s: s.decode("utf-8", "replace").lower().encode("utf-8"), x)


def _upper(x, encoding):
    if encoding == "":
        return _each(bytes.upper, x)
    return _each(lambda s: s.decode("utf-8", "replace").upper().encode("utf-8"), x)


StringLower = Primitive("StringLower", _lower)
StringUpper = Primitive("StringUpper", _upper)
StringStrip = Primitive("StringStrip", lambda x: _each(bytes.strip, x))


def _utf8_length(s):
    # Every byte that is not a UTF-8 continuation byte (10xxxxxx) starts a character.
    return sum(1 for b in s if b & 0xC0 != 0x80)


def _length(x, unit):
    return _each(len if unit == "BYTE" else _utf8_length, x, host.int32)


StringLength = Primitive("StringLength", _length)


# -- regular expressions ------------------------------------------------------------------

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f"}
# Compiled patterns by RE2 pattern; cleared when full, so that patterns computed at run time
# cannot grow it without bound.
_CACHE_SIZE = 512
_cache = {}


def _compile(pattern, op):
    """An RE2 pattern as a compiled Python `re` pattern on str (strings are decoded as UTF-8).

    Translated: POSIX classes (`[[:digit:]]`), `\\z`, `$` (the end of the text only,
    unless `(?m)`); `re.ASCII` makes `\\w`, `\\d`, `\\s`,
    `\\b` ASCII-only as in RE2, while `.` matches one character, as RE2 in UTF-8 mode.
    Differences left: Python accepts lookarounds and backreferences (RE2 rejects them),
    Python lacks RE2's `\\pL` Unicode classes, `\\C` and `(?U)`.
    """
    found = _cache.get(pattern)
    if found is None:
        text = pattern.decode("utf-8") if isinstance(pattern, bytes) else pattern
        text = re.sub(r"\[:(\w+):\]", lambda m: _POSIX_CLASSES.get(m.group(1), m.group(0)),
                      text)
        text = re.sub(r"(?<!\\)((?:\\\\)*)\\z", r"\1\\Z", text)
        if not re.search(r"\(\?[a-zA-Z]*m", text):  # Without (?m), `$` is the text's end.
            text = _end_of_text_anchors(text)
        try:
            found = re.compile(text, re.ASCII)
        except re.error as error:
            raise _invalid(op, f"Invalid pattern: {pattern!r}, error: {error}") \
                from None
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[pattern] = found
    return found


def _end_of_text_anchors(text):
    """Each `$` operator (not escaped, not in a class) as Python's `\\Z`: RE2's `$` matches
    only at the end of the text, Python's also before a final newline."""
    out, i, in_class = [], 0, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            for literal in "^]":  # `[^]...]`, `[]...]`: a first `]` is literal.
                if text.startswith(literal, i):
                    out.append(literal)
                    i += 1
            continue
        elif char == "$":
            char = "\\Z"
        out.append(char)
        i += 1
    return "".join(out)


def _python_rewrite(rewrite):
    """RE2's rewrite (`\\1`, `\\0` for the whole match, `\\\\` a backslash) for `re.sub`."""
    text = rewrite.decode("utf-8") if isinstance(rewrite, bytes) else rewrite
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt.isdigit():
                out.append(f"\\g<{nxt}>")
            elif nxt == "\\":
                out.append("\\\\")
            else:
                raise _invalid("StaticRegexReplace", f"Invalid rewrite pattern: {rewrite!r} (a "
                               f"backslash must be followed by a digit or a backslash)")
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _decode(s):
    return s.decode("utf-8", "surrogateescape")


def _encode(s):
    return s.encode("utf-8", "surrogateescape")


def _regex_replace(x, pattern, rewrite, replace_global):
    compiled = _compile(pattern, "StaticRegexReplace")
    template = _python_rewrite(rewrite)
    count = 0 if replace_global else 1
    return _each(lambda s: _encode(compiled.sub(template, _decode(s), count=count)), x)


def _regex_full_match(x, pattern):
    compiled = _compile(pattern, "StaticRegexFullMatch")
    return _each(lambda s: compiled.fullmatch(_decode(s)) is not None, x, host.bool_)


StaticRegexReplace = Primitive("StaticRegexReplace", _regex_replace)
RegexFullMatch = Primitive("RegexFullMatch", _regex_full_match)


# -- joining ------------------------------------------------------------------------------

def _join(*arrays, separator):
    broadcast = host.broadcast_arrays(*arrays)
    shape = broadcast[0].shape
    out = host.empty(shape, dtype=object)
    flat = out.reshape(-1)
    columns = [a.reshape(-1) if a.ndim else host.broadcast_to(a, shape).reshape(-1)
               for a in broadcast]
    for i in range(flat.size):
        flat[i] = separator.join(column[i] for column in columns)
    return out


def _reduce_join(x, axis, keepdims, separator):
    moved = host.moveaxis(x, axis, tuple(range(x.ndim - len(axis), x.ndim)))
    kept_shape = moved.shape[:x.ndim - len(axis)]
    # Explicit sizes, not -1: either side may hold no elements.
    reduced_size = int(host.prod(moved.shape[len(kept_shape):]))
    flat_rows = moved.reshape(int(host.prod(kept_shape)), reduced_size)
    out = host.empty(kept_shape, dtype=object)
    flat_out = out.reshape(-1)
    for i in range(flat_out.size):
        flat_out[i] = separator.join(flat_rows[i].tolist())
    if keepdims:
        out = out.reshape([1 if d in axis else n for d, n in enumerate(x.shape)])
    return out


StringJoin = Primitive("StringJoin", _join)
ReduceJoin = Primitive("ReduceJoin", _reduce_join)


# -- substrings ---------------------------------------------------------------------------

def _utf8_chars(s):
    """The byte offsets of each UTF-8 character's start, plus len(s)."""
    return [i for i, b in enumerate(s) if b & 0xC0 != 0x80] + [len(s)]


def _substr(x, pos, length, unit):
    x, pos, length = host.broadcast_arrays(x, pos, length)
    out = host.empty(x.shape, dtype=object)
    flat_out, xs, ps, ls = out.reshape(-1), x.reshape(-1), pos.reshape(-1), length.reshape(-1)
    for i in range(xs.size):
        s, p, n = xs[i], int(ps[i]), int(ls[i])
        starts = _utf8_chars(s) if unit == "UTF8_CHAR" else None
        size = len(starts) - 1 if starts is not None else len(s)
        start = p + size if p < 0 else p
        if not 0 <= start <= size:
            raise _invalid("Substr", f"pos {p} out of range for string b'{s.decode('latin-1')}'"
                           f" at index {i}")
        # A negative byte `len` means "to the end", as TF's string_view::substr reads it;
        # TF's UTF8_CHAR path gives an empty string for it.
        stop = size if n < 0 and starts is None else min(start + max(n, 0), size)
        flat_out[i] = s[starts[start]:starts[stop]] if starts is not None else s[start:stop]
    return out


Substr = Primitive("Substr", _substr)


# -- numbers ------------------------------------------------------------------------------

def _to_number(x, out_type):
    kind = host.dtype(out_type).kind

    def parse(s):
        text = s.decode("utf-8", "replace")
        try:
            # Python reads "1_0" as 10 and non-ASCII digits ("\u0661"); TF's parser does not.
            if "_" in text or not text.isascii():
                raise ValueError(text)
            if kind == "f":
                return float(text)
            return int(text.strip())
        except ValueError:
            raise _invalid("StringToNumber", f"StringToNumberOp could not correctly convert "
                           f"string: {text}") from None

    values = _each(parse, x)
    if kind in "iu":
        info = host.iinfo(out_type)
        for value in values.flat:
            if not info.min <= value <= info.max:
                raise _invalid("StringToNumber", f"StringToNumberOp could not correctly "
                               f"convert string: {value} (out of range for {host.dtype(out_type)})")
    with host.errstate(over="ignore"):
        return values.astype(out_type)


StringToNumber = Primitive("StringToNumber", _to_number)


def _as_string(x, precision, scientific, shortest, width, fill):
    kind = x.dtype.kind
    if kind == "b":  # TF ignores `width` for bools.
        return _each(lambda v: b"true" if v else b"false", x.astype(object))
    if kind == "O":  # Strings pass through, right-aligned to `width` with spaces, as in TF.
        return _each(lambda v: v.rjust(width, b" "), x) if width > 0 else x.copy()
    flags = "0" if fill == "0" else ""
    size = str(width) if width > -1 else ""
    if kind == "f":
        digits = f".{precision}" if precision > -1 else ""
        conversion = "g" if shortest else ("e" if scientific else "f")
        template = f"%{flags}{size}{digits}{conversion}"
        if flags:  # printf pads inf and nan with spaces even with the 0 flag.
            spaces = f"%{size}{digits}{conversion}"
            return _each(lambda v: ((template if host.isfinite(v) else spaces) % v)
                         .encode("ascii"), x.astype(object))
    else:
        template = f"%{flags}{size}d"
    return _each(lambda v: (template % v).encode("ascii"), x.astype(object))


AsString = Primitive("AsString", _as_string)


# -- hashing ------------------------------------------------------------------------------

def _fingerprint64():
    try:
        import farmhash
    except ImportError:
        raise ImportError("tf.strings.to_hash_bucket_fast needs FarmHash: "
                          "pip install numpyflow[hashing]") from None
    return farmhash.fingerprint64


def _hash_bucket_fast(x, num_buckets):
    fingerprint = _fingerprint64()
    return _each(lambda s: fingerprint(s) % num_buckets, x, host.int64)


def _hash_bucket_strong(x, num_buckets, key):
    try:
        from siphash24 import siphash24
    except ImportError:
        raise ImportError("tf.strings.to_hash_bucket_strong needs SipHash: "
                          "pip install numpyflow[hashing]") from None
    key_bytes = b"".join(int(k).to_bytes(8, "little") for k in key)
    return _each(lambda s: int.from_bytes(siphash24(s, key=key_bytes).digest(), "little")
                 % num_buckets, x, host.int64)


StringToHashBucketFast = Primitive("StringToHashBucketFast", _hash_bucket_fast)
StringToHashBucketStrong = Primitive("StringToHashBucketStrong", _hash_bucket_strong)
