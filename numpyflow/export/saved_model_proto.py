"""TensorFlow's SavedModel messages (`SavedModel`, `MetaGraphDef`, `GraphDef`, ...) as
protobuf message classes.

Declared here in Python, as `numpyflow.io.example_proto` declares `tf.train.Example`: a
`FileDescriptorProto` wire-compatible with TensorFlow's `saved_model.proto`,
`meta_graph.proto`, `graph.proto`, `node_def.proto`, `attr_value.proto` and
`versions.proto` (package `tensorflow`, the same field names and numbers), built by the
`protobuf` runtime in `example_proto`'s private descriptor pool, whose `TensorProto`,
`TensorShapeProto` and `DataType` it reuses. Only the fields a frozen serving graph needs
are declared; a parser skips the others (savers, collections, function libraries, the
object graph of TF2's SavedModels) as unknown fields.

Needs the `protobuf` package (`pip install numpyflow[tfrecord]`), imported with this module.

    >>> from numpyflow.export import saved_model_proto as pb
    >>> node = pb.NodeDef(name="x", op="Placeholder")
    >>> node.attr["dtype"].type = pb.DATA_TYPE_NUMBERS["DT_FLOAT"]
    >>> pb.NodeDef.FromString(node.SerializeToString()).attr["dtype"].type
    1
"""

try:
    from google.protobuf import descriptor_pb2
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "Writing a TensorFlow SavedModel (model.export(format='tf_saved_model'), "
        "tf.saved_model.save) needs the 'protobuf' package: pip install numpyflow[tfrecord]"
    ) from error

from numpyflow.io import example_proto
from numpyflow.io.example_proto import add_field
from numpyflow.io.example_proto import DATA_TYPE_NUMBERS, TensorProto, TensorShapeProto

__all__ = ["SavedModel", "MetaGraphDef", "MetaInfoDef", "GraphDef", "NodeDef", "AttrValue",
           "NameAttrList", "VersionDef", "SignatureDef", "TensorInfo", "TensorProto",
           "TensorShapeProto", "DATA_TYPE_NUMBERS"]

_F = descriptor_pb2.FieldDescriptorProto
_T = ".tensorflow."


def _map_field(message, name, number, value_kind, value_type=None):
    """A `map<string, value>` field of a top-level `message`: a repeated nested
    `<Name>Entry` message."""
    entry_name = "".join(part.capitalize() for part in name.split("_")) + "Entry"
    entry = message.nested_type.add(name=entry_name)
    entry.options.map_entry = True
    add_field(entry, "key", 1, _F.TYPE_STRING)
    add_field(entry, "value", 2, value_kind, type_name=value_type)
    add_field(message, name, number, _F.TYPE_MESSAGE, repeated=True,
           type_name=f"{_T}{message.name}.{entry_name}")


def _file_descriptor():
    proto = descriptor_pb2.FileDescriptorProto(
        name="numpyflow/export/saved_model_proto.proto", package="tensorflow", syntax="proto3",
        dependency=[example_proto.TensorProto.DESCRIPTOR.file.name])
    message = _F.TYPE_MESSAGE

    # attr_value.proto
    attr = proto.message_type.add(name="AttrValue")
    # The kinds of value an attribute holds, numbered alike in AttrValue and its ListValue.
    kinds = (("s", 2, _F.TYPE_BYTES, None), ("i", 3, _F.TYPE_INT64, None),
             ("f", 4, _F.TYPE_FLOAT, None), ("b", 5, _F.TYPE_BOOL, None),
             ("type", 6, _F.TYPE_ENUM, _T + "DataType"),
             ("shape", 7, message, _T + "TensorShapeProto"),
             ("tensor", 8, message, _T + "TensorProto"))
    values = attr.nested_type.add(name="ListValue")
    for name, number, kind, type_name in kinds + (("func", 9, message, _T + "NameAttrList"),):
        add_field(values, name, number, kind, repeated=True, type_name=type_name)
    attr.oneof_decl.add(name="value")
    for name, number, kind, type_name in kinds + (
            ("list", 1, message, _T + "AttrValue.ListValue"),
            ("func", 10, message, _T + "NameAttrList"),
            ("placeholder", 9, _F.TYPE_STRING, None)):
        add_field(attr, name, number, kind, type_name=type_name, oneof_index=0)
    names = proto.message_type.add(name="NameAttrList")
    add_field(names, "name", 1, _F.TYPE_STRING)
    _map_field(names, "attr", 2, message, _T + "AttrValue")

    # node_def.proto, versions.proto, graph.proto
    node = proto.message_type.add(name="NodeDef")
    add_field(node, "name", 1, _F.TYPE_STRING)
    add_field(node, "op", 2, _F.TYPE_STRING)
    add_field(node, "input", 3, _F.TYPE_STRING, repeated=True)
    add_field(node, "device", 4, _F.TYPE_STRING)
    _map_field(node, "attr", 5, message, _T + "AttrValue")
    versions = proto.message_type.add(name="VersionDef")
    add_field(versions, "producer", 1, _F.TYPE_INT32)
    add_field(versions, "min_consumer", 2, _F.TYPE_INT32)
    add_field(versions, "bad_consumers", 3, _F.TYPE_INT32, repeated=True)
    graph = proto.message_type.add(name="GraphDef")
    add_field(graph, "node", 1, message, repeated=True, type_name=_T + "NodeDef")
    add_field(graph, "versions", 4, message, type_name=_T + "VersionDef")

    # meta_graph.proto: TensorInfo (dense tensors only), SignatureDef, MetaGraphDef
    info = proto.message_type.add(name="TensorInfo")
    info.oneof_decl.add(name="encoding")
    add_field(info, "name", 1, _F.TYPE_STRING, oneof_index=0)
    add_field(info, "dtype", 2, _F.TYPE_ENUM, type_name=_T + "DataType")
    add_field(info, "tensor_shape", 3, message, type_name=_T + "TensorShapeProto")
    signature = proto.message_type.add(name="SignatureDef")
    _map_field(signature, "inputs", 1, message, _T + "TensorInfo")
    _map_field(signature, "outputs", 2, message, _T + "TensorInfo")
    add_field(signature, "method_name", 3, _F.TYPE_STRING)
    meta_graph = proto.message_type.add(name="MetaGraphDef")
    meta_info = meta_graph.nested_type.add(name="MetaInfoDef")
    add_field(meta_info, "meta_graph_version", 1, _F.TYPE_STRING)
    add_field(meta_info, "tags", 4, _F.TYPE_STRING, repeated=True)
    add_field(meta_info, "tensorflow_version", 5, _F.TYPE_STRING)
    add_field(meta_info, "tensorflow_git_version", 6, _F.TYPE_STRING)
    add_field(meta_info, "stripped_default_attrs", 7, _F.TYPE_BOOL)
    add_field(meta_graph, "meta_info_def", 1, message, type_name=_T + "MetaGraphDef.MetaInfoDef")
    add_field(meta_graph, "graph_def", 2, message, type_name=_T + "GraphDef")
    _map_field(meta_graph, "signature_def", 5, message, _T + "SignatureDef")

    # saved_model.proto
    saved_model = proto.message_type.add(name="SavedModel")
    add_field(saved_model, "saved_model_schema_version", 1, _F.TYPE_INT64)
    add_field(saved_model, "meta_graphs", 2, message, repeated=True, type_name=_T + "MetaGraphDef")
    return proto


# The same pool as TensorProto's, so that the messages here can hold TF tensors.
example_proto.TensorProto.DESCRIPTOR.file.pool.Add(_file_descriptor())




AttrValue = example_proto.message_class("AttrValue")
NameAttrList = example_proto.message_class("NameAttrList")
NodeDef = example_proto.message_class("NodeDef")
VersionDef = example_proto.message_class("VersionDef")
GraphDef = example_proto.message_class("GraphDef")
TensorInfo = example_proto.message_class("TensorInfo")
SignatureDef = example_proto.message_class("SignatureDef")
MetaGraphDef = example_proto.message_class("MetaGraphDef")
MetaInfoDef = example_proto.message_class("MetaGraphDef.MetaInfoDef")
SavedModel = example_proto.message_class("SavedModel")
