"""Parsing `tf.train.Example` records and TF's `TensorProto`: `tf.io.parse_single_example`,
`tf.io.parse_example`, `FixedLenFeature`, `VarLenFeature`, `serialize_tensor`, `parse_tensor`.

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

from numpyflow.framework.errors import InvalidArgumentError

__all__ = ["FixedLenFeature", "VarLenFeature", "SparseTensorValue", "parse_single_example",
           "parse_example", "sparse_to_dense", "serialize_tensor", "parse_tensor"]

STRING = "string"
_MAX_EXPANSION = 1000  # parse_tensor: elements filled from repeated last values, per input byte


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


def _parse_features(serialized, example_name):
    from numpyflow.io import example_proto as pb
    if hasattr(serialized, "numpy"):
        serialized = serialized.numpy()
    if isinstance(serialized, np.ndarray) and serialized.shape == ():
        serialized = serialized.item()
    if not isinstance(serialized, (bytes, bytearray, memoryview)):
        raise TypeError(f"Expected a serialized tf.train.Example (bytes). Received: "
                        f"{type(serialized).__name__}")
    try:
        example = pb.Example.FromString(bytes(serialized))
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise InvalidArgumentError(None, None, f"Name: {example_name}, Could not parse "
                                   "example input, value: a serialized tf.train.Example was "
                                   "expected.") from None
    return example.features.feature


def _values(features, key, kind, example_name):
    """The feature's values as a NumPy array, or None when the example lacks it."""
    if key not in features:
        return None
    feature = features[key]
    present = feature.WhichOneof("kind")
    if present is None:
        return None
    if present != kind:
        raise InvalidArgumentError(None, None, f"Name: {example_name}, Feature: {key}. Data "
                                   f"types don't match. Data type: {_NAMES[present]} but "
                                   f"expected type: {_NAMES[kind]}")
    values = getattr(feature, present).value
    if kind == "bytes_list":
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
        return array
    return np.asarray(values, dtype=_NP[kind])


def _check_specs(features):
    if not isinstance(features, dict) or not features:
        raise ValueError(f"features must be a non-empty dict of feature specs. Received: "
                         f"{features!r}")
    checked = {}
    for key, spec in features.items():
        if isinstance(spec, FixedLenFeature):
            shape = [int(d) for d in spec.shape] if spec.shape is not None else None
            if shape is None or any(d < 0 for d in shape):
                raise ValueError(f"FixedLenFeature {key!r}: shape must be fully defined. "
                                 f"Received: shape={spec.shape!r}")
            kind = _kind(spec.dtype, key)
            default = None
            if spec.default_value is not None:
                default = np.asarray(spec.default_value, dtype=_NP[kind])
                if default.size == 1 and int(np.prod(shape)) != 1:
                    default = np.full(shape, default.reshape(()).item(), dtype=_NP[kind])
                try:
                    default = default.reshape(shape)
                except ValueError:
                    raise ValueError(f"FixedLenFeature {key!r}: default_value has shape "
                                     f"{list(np.shape(spec.default_value))} but the feature's "
                                     f"shape is {shape}.") from None
            checked[key] = ("fixed", kind, shape, default)
        elif isinstance(spec, VarLenFeature):
            checked[key] = ("var", _kind(spec.dtype, key), None, None)
        else:
            raise NotImplementedError(
                f"Feature {key!r}: {type(spec).__name__} is not supported by numpyflow; "
                "use tf.io.FixedLenFeature or tf.io.VarLenFeature.")
    return checked


def _fixed(values, key, kind, shape, default, example_name):
    if values is None:
        if default is None:
            raise InvalidArgumentError(None, None, f"Name: {example_name}, Feature: {key} "
                                       f"(data type: {_NAMES[kind]}) is required but could "
                                       "not be found.")
        return default.copy()
    expected = int(np.prod(shape))
    if values.size != expected:
        raise InvalidArgumentError(None, None, f"Name: {example_name}, Key: {key}, Index: 0."
                                   f"  Number of {_NAMES[kind]} values != expected.  Values "
                                   f"size: {values.size} but output shape: {shape}")
    return values.reshape(shape)


def parse_example(serialized, features, example_names=None, name=None):
    """Parses a batch of serialized `tf.train.Example`s.

    Args:
        serialized: A list or 1-D array of serialized examples (bytes).
        features: A dict from feature key to `FixedLenFeature` or `VarLenFeature`.
        example_names: Optional names of the examples, used in error messages.
        name: Unused op name (TF's).

    Returns:
        A dict: `FixedLenFeature` keys map to values of shape `[batch] + shape`,
        `VarLenFeature` keys to a `tf.sparse.SparseTensor` with `dense_shape`
        `[batch, max_len]`.

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
    specs = _check_specs(features)
    records = list(np.asarray(serialized, dtype=object).reshape(-1)) if not isinstance(
        serialized, (bytes, bytearray)) else [serialized]
    names = list(example_names) if example_names is not None else ["<unknown>"] * len(records)
    per_key = {key: [] for key in specs}
    for record, example_name in zip(records, names):
        parsed = _parse_features(record, example_name)
        for key, (mode, kind, shape, default) in specs.items():
            values = _values(parsed, key, kind, example_name)
            if mode == "fixed":
                per_key[key].append(_fixed(values, key, kind, shape, default, example_name))
            else:
                per_key[key].append(values if values is not None
                                    else np.zeros(0, dtype=_NP[kind]))
    result = {}
    for key, (mode, kind, shape, _) in specs.items():
        if mode == "fixed":
            stacked = (np.stack(per_key[key]) if per_key[key]
                       else np.zeros([0] + shape, dtype=_NP[kind]))
            result[key] = _as_output(stacked)
        else:
            result[key] = _sparse(per_key[key], kind, batched=True)
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
        features: A dict from feature key to `FixedLenFeature` or `VarLenFeature`.
        example_names: Optional name of the example, used in error messages.
        name: Unused op name (TF's).

    Returns:
        A dict: `FixedLenFeature` keys map to values of the feature's shape, `VarLenFeature`
        keys to a 1-D `tf.sparse.SparseTensor`.

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
    example_name = example_names if isinstance(example_names, str) else "<unknown>"
    parsed = _parse_features(serialized, example_name)
    result = {}
    for key, (mode, kind, shape, default) in specs.items():
        values = _values(parsed, key, kind, example_name)
        if mode == "fixed":
            result[key] = _as_output(_fixed(values, key, kind, shape, default, example_name))
        else:
            row = values if values is not None else np.zeros(0, dtype=_NP[kind])
            result[key] = _sparse([row], kind, batched=False)
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


# --- TensorProto -------------------------------------------------------------------------

# DataType number -> (name, NumPy dtype, TensorProto field holding values when no content)
_TENSOR_TYPES = {
    1: ("float", np.float32, "float_val"), 2: ("double", np.float64, "double_val"),
    3: ("int32", np.int32, "int_val"), 4: ("uint8", np.uint8, "int_val"),
    5: ("int16", np.int16, "int_val"), 6: ("int8", np.int8, "int_val"),
    7: ("string", object, "string_val"), 9: ("int64", np.int64, "int64_val"),
    10: ("bool", np.bool_, "bool_val"), 17: ("uint16", np.uint16, "int_val"),
    19: ("half", np.float16, "half_val"), 22: ("uint32", np.uint32, "uint32_val"),
    23: ("uint64", np.uint64, "uint64_val"),
}
_BY_NP_TYPE = {np.dtype(np_type): number for number, (_, np_type, _) in _TENSOR_TYPES.items()
               if np_type is not object}


def _tensor_array(tensor):
    if hasattr(tensor, "numpy"):
        return np.asarray(tensor.numpy())
    array = np.asarray(tensor)
    if array.dtype.kind not in "SUO":
        from numpyflow.framework.tensor import convert_to_tensor
        return np.asarray(convert_to_tensor(tensor).numpy())  # TF's dtype rules (ints: int32)
    if array.dtype.kind in "SU":
        array = np.vectorize(lambda v: v.encode("utf-8") if isinstance(v, str) else bytes(v),
                             otypes=[object])(array) if array.size else array.astype(object)
    return array


def serialize_tensor(tensor, name=None):
    """Serializes a tensor to TF's `TensorProto` bytes (readable by TF's `tf.io.parse_tensor`).

    Args:
        tensor: A Tensor, NumPy array or array-like; bytes/str arrays are string tensors.
        name: Unused op name (TF's).

    Returns:
        The serialized `TensorProto` as a scalar `tf.string` Tensor.

    Example:
        >>> import numpyflow as tf
        >>> data = tf.io.serialize_tensor(tf.constant([1.0, 2.0]))
        >>> tf.io.parse_tensor(data, tf.float32).numpy()
        array([1., 2.], dtype=float32)
    """
    del name
    from numpyflow.io import example_proto as pb
    array = _tensor_array(tensor)
    proto = pb.TensorProto()
    proto.tensor_shape.dim.extend(pb.TensorShapeProto.Dim(size=d) for d in array.shape)
    if array.dtype == object:
        proto.dtype = 7
        proto.string_val.extend(v.encode("utf-8") if isinstance(v, str) else bytes(v)
                                for v in array.reshape(-1))
    else:
        number = _BY_NP_TYPE.get(array.dtype)
        if number is None:
            raise TypeError(f"serialize_tensor: unsupported dtype {array.dtype}.")
        proto.dtype = number
        proto.tensor_content = np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<"), copy=False).tobytes()
    return _as_output(np.array(proto.SerializeToString(), dtype=object))


def parse_tensor(serialized, out_type, name=None):
    """Parses TF's serialized `TensorProto` bytes into a tensor.

    Reads both layouts TF writes: raw `tensor_content` and the typed repeated fields (where
    fewer values than elements repeat the last one, as in TF).

    Args:
        serialized: A scalar tf.string Tensor or bytes from `serialize_tensor` (here or in TF).
        out_type: The expected dtype (`tf.float32`, ..., or "string").
        name: Unused op name (TF's).

    Returns:
        A Tensor (a `tf.string` Tensor for strings).

    Raises:
        tf.errors.InvalidArgumentError: The bytes are not a TensorProto, its dtype differs
            from `out_type`, or its values do not match its shape.

    Example:
        >>> import numpyflow as tf
        >>> tf.io.parse_tensor(tf.io.serialize_tensor([[1, 2]]), tf.int32).shape
        TensorShape([1, 2])
    """
    del name
    from numpyflow.io import example_proto as pb
    if hasattr(serialized, "numpy"):
        serialized = serialized.numpy()
    if not isinstance(serialized, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_tensor expects bytes. Received: {type(serialized).__name__}")
    serialized = bytes(serialized)
    try:
        proto = pb.TensorProto.FromString(serialized)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise InvalidArgumentError(None, None, "Could not parse `serialized` as TensorProto "
                                   "[Op:ParseTensor]") from None
    if proto.dtype not in _TENSOR_TYPES:
        raise InvalidArgumentError(None, None, f"parse_tensor: the TensorProto's dtype (enum "
                                   f"{proto.dtype}) is not supported by numpyflow "
                                   "[Op:ParseTensor]")
    type_name, np_type, field = _TENSOR_TYPES[proto.dtype]
    expected = "string" if _kind_is_string(out_type) else _dtype_name(out_type)
    if type_name != expected and not (type_name, expected) in (("float", "float32"),
                                                               ("double", "float64"),
                                                               ("half", "float16")):
        raise InvalidArgumentError(None, None, f"Type mismatch between parsed tensor "
                                   f"({type_name}) and dtype ({expected}) [Op:ParseTensor]")
    if proto.tensor_shape.unknown_rank or any(d.size < 0 for d in proto.tensor_shape.dim):
        raise InvalidArgumentError(None, None, "parse_tensor: the TensorProto's shape is not "
                                   "fully defined [Op:ParseTensor]")
    shape = [d.size for d in proto.tensor_shape.dim]
    count = int(np.prod(shape, dtype=object))
    itemsize = 8 if np_type is object else np.dtype(np_type).itemsize
    if proto.tensor_content:
        if np_type is object or len(proto.tensor_content) != count * itemsize:
            raise InvalidArgumentError(None, None, f"parse_tensor: tensor_content holds "
                                       f"{len(proto.tensor_content)} bytes but shape {shape} "
                                       f"of {type_name} needs {count * itemsize} "
                                       "[Op:ParseTensor]")
        array = np.frombuffer(proto.tensor_content,
                              dtype=np.dtype(np_type).newbyteorder("<")).astype(np_type)
        return _as_output(array.reshape(shape))
    values = list(getattr(proto, field))
    if len(values) > count:
        raise InvalidArgumentError(None, None, f"parse_tensor: {len(values)} values for shape "
                                   f"{shape} [Op:ParseTensor]")
    if count * itemsize > _MAX_EXPANSION * len(serialized) + (1 << 20):
        raise InvalidArgumentError(None, None, f"parse_tensor: shape {shape} declares {count} "
                                   f"elements but the {len(serialized)}-byte input holds "
                                   f"{len(values)} values; refused [Op:ParseTensor]")
    if field == "half_val":
        values = np.asarray(values, dtype=np.uint16).view(np.float16)
    if np_type is object:
        array = np.empty(count, dtype=object)
        array[:len(values)] = values
        if 0 < len(values) < count:
            array[len(values):] = values[-1]
        elif not values:
            array[:] = b""
    else:
        array = np.zeros(count, dtype=np_type)
        array[:len(values)] = values
        if 0 < len(values) < count:
            array[len(values):] = values[-1]
    return _as_output(array.reshape(shape))


def _kind_is_string(dtype):
    return dtype is bytes or dtype is str or getattr(dtype, "name", dtype) == STRING


def _dtype_name(dtype):
    from numpyflow.framework import dtypes
    return dtypes.as_dtype(dtype).name
