"""TF's `TensorProto` bytes: `tf.io.serialize_tensor` and `tf.io.parse_tensor`.

    >>> import numpyflow as tf
    >>> tf.io.parse_tensor(tf.io.serialize_tensor([1.5, 2.0]), tf.float32).numpy()
    array([1.5, 2. ], dtype=float32)
"""

import numpy as np

from numpyflow.framework.errors import InvalidArgumentError

__all__ = ["serialize_tensor", "parse_tensor"]

STRING = "string"
_MAX_EXPANSION = 1000  # parse_tensor: elements filled from repeated last values, per input byte


def _as_output(array):
    from numpyflow.framework.tensor import constant
    return constant(array)  # An object array of bytes becomes a tf.string Tensor.


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
        array = np.asarray(tensor.numpy())  # A scalar tf.string gives bytes: |S here.
    else:
        array = np.asarray(tensor)
        if array.dtype.kind not in "SUO":
            from numpyflow.framework.tensor import convert_to_tensor
            return np.asarray(convert_to_tensor(tensor).numpy())  # TF's rules (ints: int32)
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
