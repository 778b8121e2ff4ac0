"""Parsing `tf.train.Example` records: `tf.io.parse_single_example`, `tf.io.parse_example` and
the feature specs `FixedLenFeature`, `VarLenFeature`, `FixedLenSequenceFeature`,
`SparseFeature`. (`tf.train.SequenceExample`s: `sequence_parsing.py`; `serialize_tensor`,
`parse_tensor`: `tensor_proto.py`.)

String features (dtype `tf.string`, "string", `bytes` or `str`) come back as `tf.string`
Tensors, as in TF. A `VarLenFeature` comes back as a `tf.sparse.SparseTensor` (as in TF);
`tf.sparse.to_dense` or `sparse_to_dense` turns it into a padded Tensor.
`SparseTensorValue` is the plain named tuple TF calls `tf.compat.v1.SparseTensorValue`.

Numbers come back as numpyflow Tensors (float32 or int64). Serialized input is a tf.string
Tensor or `bytes` (or a list / NumPy array of bytes for `parse_example`).

    >>> import numpyflow as tf
    >>> from numpyflow.io import example_proto as pb
    >>> record = pb.Example(features=pb.Features(feature={
    ...     "x": pb.Feature(float_list=pb.FloatList(value=[1.0, 2.0]))})).SerializeToString()
    >>> parsed = tf.io.parse_single_example(record, {"x": tf.io.FixedLenFeature([2], tf.float32)})
    >>> parsed["x"].numpy().tolist()
    [1.0, 2.0]
"""

import collections

import numpy as np

from numpyflow.framework.errors import InvalidArgumentError, invalid_argument
from numpyflow.framework.tensor_shape import TensorShape

__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature",
           "SparseTensorValue", "parse_single_example", "parse_example", "sparse_to_dense"]

STRING = "string"


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A feature with a fixed shape, parsed to a dense value.

    Args:
        shape: The feature's shape (a list of ints; `[]` for a scalar).
        dtype: `tf.float32`, `tf.int64` or a string type ("string", `bytes`).
        default_value: Used when an example lacks the feature; without it the feature is
            required.

    Example:
        >>> FixedLenFeature([], "int64", default_value=0).shape
        []
    """

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values, parsed to a `tf.sparse.SparseTensor`.

    Example:
        >>> VarLenFeature("float32").dtype
        'float32'
    """


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature holding any number of items of one fixed shape, parsed to a dense value.

    In a `tf.train.Example` the feature's values are split into items of `shape` (a
    `[num_items] + shape` output; `parse_example` pads shorter examples with
    `default_value`); in a `tf.train.SequenceExample`'s feature lists each step is one item.

    Args:
        shape: The shape of one item (`[]` for scalars).
        dtype: `tf.float32`, `tf.int64` or a string type.
        allow_missing: Whether an example may lack the feature (then it has no items).
            `parse_example` requires True.
        default_value: The padding value (a scalar) for `parse_example`; None pads with 0
            or b"". Feature lists of a SequenceExample allow no default.

    Example:
        >>> FixedLenSequenceFeature([2], "float32", allow_missing=True).shape
        [2]
    """

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


class SparseFeature(collections.namedtuple(
        "SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"])):
    """A `tf.sparse.SparseTensor` read from an index feature (or several) and a value feature.

    Args:
        index_key: The int64 feature holding the positions, or a list of them, one per
            dimension.
        value_key: The feature holding the values.
        dtype: The values' dtype (`tf.float32`, `tf.int64` or a string type).
        size: The dense size (an int, or a list with one size per index key).
        already_sorted: Whether the indices are already in row-major order (they are then
            kept in the order given); otherwise they are sorted.

    Example:
        >>> SparseFeature("ix", "val", "float32", 10).size
        10
    """

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


SparseTensorValue = collections.namedtuple("SparseTensorValue",
                                           ["indices", "values", "dense_shape"])
SparseTensorValue.__doc__ = """`tf.compat.v1.SparseTensorValue`: a SparseTensor's fields as a
named tuple (`tf.sparse.SparseTensor.from_value` turns it into a SparseTensor)."""


def _kind(dtype, key):
    """'float_list', 'int64_list' or 'bytes_list' for a feature's dtype."""
    if dtype is bytes or dtype is str or getattr(dtype, "name", dtype) == STRING:
        return "bytes_list"
    from numpyflow.framework import dtypes
    try:
        dtype = dtypes.as_dtype(dtype)
    except TypeError:
        dtype = None
    if dtype == dtypes.float32:
        return "float_list"
    if dtype == dtypes.int64:
        return "int64_list"
    raise ValueError(f"Feature {key!r}: unsupported dtype. Received: {dtype!r}. Expected "
                     "tf.float32, tf.int64 or a string type ('string', bytes).")


_NAMES = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}
_NP = {"float_list": np.float32, "int64_list": np.int64, "bytes_list": object}


def _as_output(array):
    from numpyflow.framework.tensor import constant
    return constant(array)  # An object array of bytes becomes a tf.string Tensor.


def _serialized_bytes(serialized, what):
    if hasattr(serialized, "numpy"):
        serialized = serialized.numpy()
    if isinstance(serialized, np.ndarray) and serialized.shape == ():
        serialized = serialized.item()
    if not isinstance(serialized, (bytes, bytearray, memoryview)):
        raise TypeError(f"Expected a serialized {what} (bytes). Received: "
                        f"{type(serialized).__name__}")
    return bytes(serialized)


def _records(serialized, op="ParseExampleV2"):
    """A batch of serialized records as a list, or None for a single record (a scalar)."""
    if isinstance(serialized, (bytes, bytearray)):
        return None
    if hasattr(serialized, "numpy"):
        serialized = serialized.numpy()
    array = np.asarray(serialized, dtype=object)
    if array.ndim == 0:
        return None
    if array.ndim > 1:
        raise invalid_argument(op, f"Expected serialized to be a scalar or "
                               f"vector, got shape: {_shape_text(array.shape)}")
    return list(array)


def _example_names(example_names, count):
    """The examples' names for error messages, one per record."""
    if example_names is None:
        return ["<unknown>"] * count
    if hasattr(example_names, "numpy"):
        example_names = example_names.numpy()
    names = [n.decode() if isinstance(n, bytes) else str(n)
             for n in np.asarray(example_names, dtype=object).reshape(-1)]
    if len(names) != count:
        raise invalid_argument("ParseExampleV2", f"Expected names have the same shape as "
                               f"serialized: name.shape=[{len(names)}], "
                               f"serialized.shape=[{count}]")
    return names


def _parse_features(serialized, example_name):
    from numpyflow.io import example_proto as pb
    serialized = _serialized_bytes(serialized, "tf.train.Example")
    try:
        example = pb.Example.FromString(serialized)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise InvalidArgumentError(None, None, f"Name: {example_name}, Could not parse "
                                   "example input, value: a serialized tf.train.Example was "
                                   "expected.") from None
    return example.features.feature


def _feature_values(feature, kind):
    """A `tf.train.Feature`'s values as a NumPy array of the kind's type."""
    values = getattr(feature, kind).value
    if kind == "bytes_list":
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
        return array
    return np.asarray(values, dtype=_NP[kind])


def _values(features, key, kind, mismatch):
    """The feature's values as a NumPy array, or None when the example lacks it.

    `mismatch(present_kind)` builds the error for a feature of another type: TF words it
    differently for each kind of spec and for single and batched parsing.
    """
    if key not in features:
        return None
    feature = features[key]
    present = feature.WhichOneof("kind")
    if present is None:
        return None
    if present != kind:
        raise mismatch(present)
    return _feature_values(feature, kind)


def _dense_mismatch(key, kind, example_name, index, single):
    """The type error of a FixedLenFeature or FixedLenSequenceFeature (TF words them alike)."""
    where = f"Key: {key}." if single else f"Name: {example_name}, Key: {key}, Index: {index}."
    return lambda present: invalid_argument("ParseExampleV2", (
        f"{where}  Data types don't match. Data type: {_NAMES[present]} but expected type: "
        f"{_NAMES[kind]}"))


def _var_mismatch(key, kind, example_name, index, single):
    where = f"Key: {key}." if single else f"Name: {example_name}, Key: {key}, Index: {index}."
    return lambda present: invalid_argument("ParseExampleV2", (
        f"{where}  Data types don't match. Expected type: {_NAMES[kind]}, Actual type: "
        f"{_NAMES[present]}"))


def _shape_of(spec, key, what):
    # None, TensorShape(None) (unknown rank) and None or -1 dims are all "not fully defined".
    dims = None if spec.shape is None else TensorShape(spec.shape)
    shape = None if dims is None or dims.rank is None else [-1 if d is None else d for d in dims]
    if shape is None or any(d < 0 for d in shape):
        raise ValueError(f"{what} {key!r}: shape must be fully defined. Received: "
                         f"shape={spec.shape!r}")
    return shape


def _fixed_default(spec, key, kind, shape):
    if spec.default_value is None:
        return None
    default = np.asarray(spec.default_value, dtype=_NP[kind])
    if default.size == 1 and int(np.prod(shape)) != 1:
        default = np.full(shape, default.reshape(()).item(), dtype=_NP[kind])
    try:
        return default.reshape(shape)
    except ValueError:
        raise ValueError(f"FixedLenFeature {key!r}: default_value has shape "
                         f"{list(np.shape(spec.default_value))} but the feature's "
                         f"shape is {shape}.") from None


def _padding(spec, key, kind):
    """The scalar a FixedLenSequenceFeature pads with in `parse_example`."""
    if spec.default_value is None:
        return b"" if kind == "bytes_list" else _NP[kind](0)
    default = np.asarray(spec.default_value, dtype=_NP[kind])
    if default.size != 1:
        raise ValueError(f"FixedLenSequenceFeature {key!r}: default_value must be a scalar "
                         f"(the padding value). Received: {spec.default_value!r}")
    return default.reshape(()).item()


def _sparse_feature_spec(spec, key):
    index_keys = [spec.index_key] if isinstance(spec.index_key, str) else list(spec.index_key)
    sizes = [spec.size] if isinstance(spec.size, (int, np.integer)) else list(spec.size)
    if not index_keys or len(index_keys) != len(sizes) or any(
            not isinstance(k, str) for k in index_keys):
        raise ValueError(f"SparseFeature {key!r}: index_key must be a feature key or a list of "
                         f"them, one per entry of size. Received: index_key="
                         f"{spec.index_key!r}, size={spec.size!r}")
    if any(int(s) < 0 for s in sizes):
        raise ValueError(f"SparseFeature {key!r}: size must be non-negative. Received: "
                         f"size={spec.size!r}")
    return ("sparse", _kind(spec.dtype, key), index_keys, spec.value_key,
            [int(s) for s in sizes], bool(spec.already_sorted))


def _check_specs(features):
    """Validated feature specs, each as a tuple led by its mode: 'fixed', 'var', 'seq' or
    'sparse'."""
    if not isinstance(features, dict) or not features:
        raise ValueError(f"features must be a non-empty dict of feature specs. Received: "
                         f"{features!r}")
    checked = {}
    for key, spec in features.items():
        if isinstance(spec, FixedLenFeature):
            shape = _shape_of(spec, key, "FixedLenFeature")
            kind = _kind(spec.dtype, key)
            checked[key] = ("fixed", kind, shape, _fixed_default(spec, key, kind, shape))
        elif isinstance(spec, VarLenFeature):
            checked[key] = ("var", _kind(spec.dtype, key))
        elif isinstance(spec, FixedLenSequenceFeature):
            if not spec.allow_missing:
                raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing "
                                 "to be True.")
            shape = _shape_of(spec, key, "FixedLenSequenceFeature")
            kind = _kind(spec.dtype, key)
            checked[key] = ("seq", kind, shape, _padding(spec, key, kind))
        elif isinstance(spec, SparseFeature):
            checked[key] = _sparse_feature_spec(spec, key)
        else:
            raise NotImplementedError(
                f"Feature {key!r}: {type(spec).__name__} is not supported by numpyflow; "
                "use tf.io.FixedLenFeature, VarLenFeature, FixedLenSequenceFeature or "
                "SparseFeature.")
    return checked


def _fixed(values, key, kind, shape, default, example_name, index):
    if values is None:
        if default is None:
            raise invalid_argument("ParseExampleV2", f"Name: {example_name}, Feature: {key} "
                                   f"(data type: {_NAMES[kind]}) is required but could not be "
                                   f"found.")
        return default.copy()
    expected = int(np.prod(shape))
    if values.size != expected:
        raise invalid_argument("ParseExampleV2", f"Name: {example_name}, Key: {key}, Index: "
                               f"{index}.  Number of {_NAMES[kind]} values != expected.  Values "
                               f"size: {values.size} but output shape: {shape}")
    return values.reshape(shape)


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _items(values, key, kind, shape, example_name, index, single):
    """A FixedLenSequenceFeature's values split into items: `[num_items] + shape`."""
    if values is None:
        return np.zeros([0] + shape, dtype=_NP[kind])
    stride = int(np.prod(shape))
    if stride == 0 or values.size % stride:
        if single:
            message = (f"Error while parsing feature with key {key}: number of elements "
                       f"should be divisible by {stride}, found {values.size} instead")
        else:
            message = (f"Name: {example_name}, Key: {key}, Index: {index}.  Number of "
                       f"{_NAMES[kind]} values is not a multiple of stride length. Saw "
                       f"{values.size} values but output shape is: "
                       f"{_shape_text(['?'] + shape)}")
        raise invalid_argument("ParseExampleV2", message)
    return values.reshape([values.size // stride] + shape)


def _sparse_entries(features, spec, example_name, index, single):
    """A SparseFeature's (indices [n, rank], values [n]) in one example, in feature order."""
    _, kind, index_keys, value_key, _, _ = spec
    values = _values(features, value_key, kind,
                     _var_mismatch(value_key, kind, example_name, index, single))
    values = values if values is not None else np.zeros(0, dtype=_NP[kind])
    columns = []
    for index_key in index_keys:
        column = _values(features, index_key, "int64_list",
                         _var_mismatch(index_key, "int64_list", example_name, index, single))
        columns.append(column if column is not None else np.zeros(0, np.int64))
    return columns, values


def _example_row(features, spec, key, example_name, index, single):
    """One example's part of the output for one spec."""
    mode, kind = spec[0], spec[1]
    if mode == "fixed":
        values = _values(features, key, kind,
                         _dense_mismatch(key, kind, example_name, index, single))
        return _fixed(values, key, kind, spec[2], spec[3], example_name, index)
    if mode == "var":
        values = _values(features, key, kind,
                         _var_mismatch(key, kind, example_name, index, single))
        return values if values is not None else np.zeros(0, dtype=_NP[kind])
    if mode == "seq":
        values = _values(features, key, kind,
                         _dense_mismatch(key, kind, example_name, index, single))
        return _items(values, key, kind, spec[2], example_name, index, single)
    return _sparse_entries(features, spec, example_name, index, single)


def _padded(rows, shape, padding, np_type):
    """Item arrays `[n_i] + shape` stacked into `[batch, max n_i] + shape`, padded."""
    longest = max((len(row) for row in rows), default=0)
    out = np.full([len(rows), longest] + shape, padding, dtype=np_type)
    for b, row in enumerate(rows):
        out[b, :len(row)] = row
    return out


def _sparse_feature_output(rows, spec, batched):
    """The SparseTensor of a SparseFeature from each example's (index columns, values)."""
    from numpyflow.framework.tensor import constant
    from numpyflow.sparse.sparse_tensor import SparseTensor
    _, kind, _, _, sizes, already_sorted = spec
    total_values = sum(len(values) for _, values in rows)
    for position in range(len(sizes)):
        total_index = sum(len(columns[position]) for columns, _ in rows)
        if total_index != total_values:  # TF's message, from the SparseTensor's shape check
            raise ValueError(f"Dimensions {total_index} and {total_values} are not compatible")
    pieces = []
    for b, (columns, _) in enumerate(rows):
        block = np.stack(columns, axis=1) if columns[0].size else np.zeros((0, len(sizes)),
                                                                           np.int64)
        if batched:
            block = np.concatenate([np.full((len(block), 1), b, np.int64), block], axis=1)
        pieces.append(block)
    width = len(sizes) + batched
    indices = (np.concatenate(pieces) if pieces else np.zeros((0, width))).astype(
        np.int64).reshape(-1, width)
    values = (np.concatenate([values for _, values in rows]) if rows
              else np.zeros(0, _NP[kind])).astype(_NP[kind])
    if not already_sorted and len(indices):
        order = np.lexsort(indices.T[::-1])  # row-major, stable for repeated positions
        indices, values = indices[order], values[order]
    dense_shape = ([len(rows)] if batched else []) + sizes
    sparse = SparseTensor(constant(indices), _as_output(values),
                          constant(np.asarray(dense_shape, np.int64)))
    sparse._static_shape = ([None] if batched else []) + sizes  # The batch is data-dependent.
    return sparse


def parse_example(serialized, features, example_names=None, name=None):
    """Parses a batch of serialized `tf.train.Example`s.

    Args:
        serialized: A list or 1-D array of serialized examples (bytes).
        features: A dict from feature key to `FixedLenFeature`, `VarLenFeature`,
            `FixedLenSequenceFeature` (with `allow_missing=True`) or `SparseFeature`.
        example_names: Optional names of the examples, used in error messages.
        name: Unused op name (TF's).

    Returns:
        A dict: `FixedLenFeature` keys map to values of shape `[batch] + shape`,
        `FixedLenSequenceFeature` keys to `[batch, max_items] + shape` (padded with its
        `default_value`), `VarLenFeature` keys to a `tf.sparse.SparseTensor` with
        `dense_shape` `[batch, max_len]`, `SparseFeature` keys to one with `dense_shape`
        `[batch] + size`.

    Raises:
        tf.errors.InvalidArgumentError: An example is not a valid Example, lacks a required
            feature, or holds values of the wrong type or count.

    Example:
        >>> import numpyflow as tf
        >>> from numpyflow.io import example_proto as pb
        >>> def example(*values):
        ...     return pb.Example(features=pb.Features(feature={"v": pb.Feature(
        ...         int64_list=pb.Int64List(value=values))})).SerializeToString()
        >>> parsed = tf.io.parse_example([example(1, 2), example(3)],
        ...                              {"v": tf.io.VarLenFeature(tf.int64)})
        >>> parsed["v"].dense_shape.numpy().tolist()
        [2, 2]
    """
    del name
    records = _records(serialized)
    if records is None:  # As TF: one example, parsed without a batch dimension.
        return parse_single_example(serialized, features, example_names)
    specs = _check_specs(features)
    names = _example_names(example_names, len(records))
    per_key = {key: [] for key in specs}
    for index, (record, example_name) in enumerate(zip(records, names)):
        parsed = _parse_features(record, example_name)
        for key, spec in specs.items():
            per_key[key].append(_example_row(parsed, spec, key, example_name, index, False))
    result = {}
    for key, spec in specs.items():
        mode, kind = spec[0], spec[1]
        rows = per_key[key]
        if mode == "fixed":
            shape = spec[2]
            result[key] = _as_output(np.stack(rows) if rows
                                     else np.zeros([0] + shape, dtype=_NP[kind]))
        elif mode == "seq":
            result[key] = _as_output(_padded(rows, spec[2], spec[3], _NP[kind]))
        elif mode == "var":
            result[key] = _sparse(rows, kind, batched=True)
        else:
            result[key] = _sparse_feature_output(rows, spec, batched=True)
    return result


def _sparse(rows, kind, batched):
    from numpyflow.framework.tensor import constant
    lengths = [len(row) for row in rows]
    values = (np.concatenate(rows) if rows else np.zeros(0, dtype=_NP[kind])).astype(_NP[kind])
    if batched:
        indices = np.array([(b, i) for b, n in enumerate(lengths) for i in range(n)],
                           dtype=np.int64).reshape(-1, 2)
        dense_shape = np.array([len(rows), max(lengths, default=0)], dtype=np.int64)
    else:
        indices = np.arange(lengths[0], dtype=np.int64).reshape(-1, 1)
        dense_shape = np.array([lengths[0]], dtype=np.int64)
    from numpyflow.sparse.sparse_tensor import SparseTensor
    sparse = SparseTensor(constant(indices), _as_output(values), constant(dense_shape))
    sparse._static_shape = [None] * len(dense_shape)  # Data-dependent, as TF's spec says.
    return sparse


def parse_single_example(serialized, features, example_names=None, name=None):
    """Parses one serialized `tf.train.Example`.

    Args:
        serialized: A serialized example (bytes).
        features: A dict from feature key to `FixedLenFeature`, `VarLenFeature`,
            `FixedLenSequenceFeature` (with `allow_missing=True`) or `SparseFeature`.
        example_names: Optional name of the example, used in error messages.
        name: Unused op name (TF's).

    Returns:
        A dict: `FixedLenFeature` keys map to values of the feature's shape,
        `FixedLenSequenceFeature` keys to `[num_items] + shape`, `VarLenFeature` keys to a
        1-D `tf.sparse.SparseTensor`, `SparseFeature` keys to one of `dense_shape` `size`.

    Example:
        >>> import numpyflow as tf
        >>> from numpyflow.io import example_proto as pb
        >>> record = pb.Example().SerializeToString()
        >>> tf.io.parse_single_example(
        ...     record, {"y": tf.io.FixedLenFeature([], tf.int64, default_value=-1)})["y"].numpy()
        np.int64(-1)
    """
    del name
    specs = _check_specs(features)
    if hasattr(example_names, "numpy"):
        example_names = example_names.numpy()
    if isinstance(example_names, (bytes, np.bytes_)):
        example_names = example_names.decode()
    example_name = example_names if isinstance(example_names, str) else "<unknown>"
    parsed = _parse_features(serialized, example_name)
    result = {}
    for key, spec in specs.items():
        row = _example_row(parsed, spec, key, example_name, 0, True)
        if spec[0] in ("fixed", "seq"):
            result[key] = _as_output(row)
        elif spec[0] == "var":
            result[key] = _sparse([row], spec[1], batched=False)
        else:
            result[key] = _sparse_feature_output([row], spec, batched=False)
    return result


def sparse_to_dense(sparse, default_value=None):
    """A `SparseTensor`'s (or `SparseTensorValue`'s) values as a dense Tensor padded with
    `default_value` (0 or b"" by default); like `tf.sparse.to_dense` without index checks.

    Example:
        >>> import numpyflow as tf
        >>> v = SparseTensorValue(tf.constant([[0, 0], [1, 1]], tf.int64),
        ...                       tf.constant([5, 6], tf.int64), tf.constant([2, 2], tf.int64))
        >>> sparse_to_dense(v).numpy().tolist()
        [[5, 0], [0, 6]]
    """
    indices = np.asarray(getattr(sparse.indices, "numpy", lambda: sparse.indices)())
    values = sparse.values.numpy() if hasattr(sparse.values, "numpy") else np.asarray(
        sparse.values)
    shape = tuple(np.asarray(getattr(sparse.dense_shape, "numpy",
                                     lambda: sparse.dense_shape)()).tolist())
    if default_value is None:
        default_value = b"" if values.dtype == object else 0
    dense = np.full(shape, default_value, dtype=values.dtype)
    if len(values):
        dense[tuple(indices.T)] = values
    return _as_output(dense)
