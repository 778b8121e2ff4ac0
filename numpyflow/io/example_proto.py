"""`tf.train.Example` and `tf.TensorProto` as protobuf message classes.

The messages are declared here in Python (a `FileDescriptorProto`, wire-compatible with
TensorFlow's `example.proto`, `feature.proto`, `tensor.proto` and `tensor_shape.proto`: same
package `tensorflow`, field names and numbers) and built by the `protobuf` runtime in a
private descriptor pool, so they never clash with TensorFlow's own classes when both are
imported. Encoding and decoding is the protobuf runtime's; nothing here parses bytes by hand.

Needs the `protobuf` package (`pip install numpyflow[tfrecord]`); it is imported when this
module is, and `numpyflow.io` imports this module only on first use.

    >>> from numpyflow.io import example_proto as pb
    >>> example = pb.Example(features=pb.Features(feature={
    ...     "label": pb.Feature(int64_list=pb.Int64List(value=[3]))}))
    >>> parsed = pb.Example.FromString(example.SerializeToString())
    >>> parsed.features.feature["label"].int64_list.value
    [3]
"""

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tf.train.Example, TFRecord parsing and tf.io.serialize_tensor need the 'protobuf' "
        "package: pip install numpyflow[tfrecord]") from error

__all__ = ["Example", "SequenceExample", "Features", "Feature", "FeatureList", "FeatureLists",
           "BytesList", "FloatList", "Int64List", "TensorProto", "TensorShapeProto",
           "DATA_TYPE_NUMBERS"]

_F = descriptor_pb2.FieldDescriptorProto

# TensorFlow's DataType enum (tensorflow/core/framework/types.proto), the values used here.
DATA_TYPE_NUMBERS = {
    "DT_INVALID": 0, "DT_FLOAT": 1, "DT_DOUBLE": 2, "DT_INT32": 3, "DT_UINT8": 4,
    "DT_INT16": 5, "DT_INT8": 6, "DT_STRING": 7, "DT_COMPLEX64": 8, "DT_INT64": 9,
    "DT_BOOL": 10, "DT_BFLOAT16": 14, "DT_UINT16": 17, "DT_COMPLEX128": 18, "DT_HALF": 19,
    "DT_RESOURCE": 20, "DT_VARIANT": 21, "DT_UINT32": 22, "DT_UINT64": 23,
}


def add_field(message, name, number, kind, repeated=False, type_name=None, oneof_index=None):
    """Adds a field to a `DescriptorProto` being declared (here and in `saved_model_proto`)."""
    field = message.field.add(name=name, number=number, type=kind,
                              label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
    if type_name is not None:
        field.type_name = type_name
    if oneof_index is not None:
        field.oneof_index = oneof_index
    return field


def _map_field(message, name, number, value_type):
    """A `map<string, value_type>` field: a repeated nested `<Name>Entry` message."""
    entry_name = "".join(part.capitalize() for part in name.split("_")) + "Entry"
    entry = message.nested_type.add(name=entry_name)
    entry.options.map_entry = True
    add_field(entry, "key", 1, _F.TYPE_STRING)
    add_field(entry, "value", 2, _F.TYPE_MESSAGE, type_name=value_type)
    add_field(message, name, number, _F.TYPE_MESSAGE, repeated=True,
           type_name=f".tensorflow.{message.name}.{entry_name}")


def _file_descriptor():
    proto = descriptor_pb2.FileDescriptorProto(
        name="numpyflow/io/example_proto.proto", package="tensorflow", syntax="proto3")

    # feature.proto
    for name, kind in (("BytesList", _F.TYPE_BYTES), ("FloatList", _F.TYPE_FLOAT),
                       ("Int64List", _F.TYPE_INT64)):
        add_field(proto.message_type.add(name=name), "value", 1, kind, repeated=True)
    feature = proto.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, (name, type_name) in enumerate((("bytes_list", "BytesList"),
                                                ("float_list", "FloatList"),
                                                ("int64_list", "Int64List")), start=1):
        add_field(feature, name, number, _F.TYPE_MESSAGE, type_name=f".tensorflow.{type_name}",
               oneof_index=0)
    _map_field(proto.message_type.add(name="Features"), "feature", 1, ".tensorflow.Feature")
    add_field(proto.message_type.add(name="FeatureList"), "feature", 1, _F.TYPE_MESSAGE,
           repeated=True, type_name=".tensorflow.Feature")
    _map_field(proto.message_type.add(name="FeatureLists"), "feature_list", 1,
               ".tensorflow.FeatureList")

    # example.proto
    add_field(proto.message_type.add(name="Example"), "features", 1, _F.TYPE_MESSAGE,
           type_name=".tensorflow.Features")
    sequence = proto.message_type.add(name="SequenceExample")
    add_field(sequence, "context", 1, _F.TYPE_MESSAGE, type_name=".tensorflow.Features")
    add_field(sequence, "feature_lists", 2, _F.TYPE_MESSAGE, type_name=".tensorflow.FeatureLists")

    # types.proto (the values above), tensor_shape.proto, tensor.proto
    data_type = proto.enum_type.add(name="DataType")
    for name, number in DATA_TYPE_NUMBERS.items():
        data_type.value.add(name=name, number=number)
    shape = proto.message_type.add(name="TensorShapeProto")
    dim = shape.nested_type.add(name="Dim")
    add_field(dim, "size", 1, _F.TYPE_INT64)
    add_field(dim, "name", 2, _F.TYPE_STRING)
    add_field(shape, "dim", 2, _F.TYPE_MESSAGE, repeated=True,
           type_name=".tensorflow.TensorShapeProto.Dim")
    add_field(shape, "unknown_rank", 3, _F.TYPE_BOOL)
    tensor = proto.message_type.add(name="TensorProto")
    add_field(tensor, "dtype", 1, _F.TYPE_ENUM, type_name=".tensorflow.DataType")
    add_field(tensor, "tensor_shape", 2, _F.TYPE_MESSAGE, type_name=".tensorflow.TensorShapeProto")
    add_field(tensor, "version_number", 3, _F.TYPE_INT32)
    add_field(tensor, "tensor_content", 4, _F.TYPE_BYTES)
    for name, number, kind in (("float_val", 5, _F.TYPE_FLOAT), ("double_val", 6, _F.TYPE_DOUBLE),
                               ("int_val", 7, _F.TYPE_INT32), ("string_val", 8, _F.TYPE_BYTES),
                               ("scomplex_val", 9, _F.TYPE_FLOAT),
                               ("int64_val", 10, _F.TYPE_INT64), ("bool_val", 11, _F.TYPE_BOOL),
                               ("dcomplex_val", 12, _F.TYPE_DOUBLE),
                               ("half_val", 13, _F.TYPE_INT32),
                               ("uint32_val", 16, _F.TYPE_UINT32),
                               ("uint64_val", 17, _F.TYPE_UINT64)):
        add_field(tensor, name, number, kind, repeated=True)
    return proto


_POOL = descriptor_pool.DescriptorPool()
_FILE = _POOL.Add(_file_descriptor())


def message_class(name):
    """The message class of `tensorflow.<name>` in this module's private descriptor pool
    (where `saved_model_proto` declares TF's graph messages too)."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"tensorflow.{name}"))


BytesList = message_class("BytesList")
FloatList = message_class("FloatList")
Int64List = message_class("Int64List")
Feature = message_class("Feature")
Features = message_class("Features")
FeatureList = message_class("FeatureList")
FeatureLists = message_class("FeatureLists")
Example = message_class("Example")
SequenceExample = message_class("SequenceExample")
TensorShapeProto = message_class("TensorShapeProto")
TensorProto = message_class("TensorProto")
