"""Parsing `tf.train.SequenceExample` records: `tf.io.parse_single_sequence_example` and
`tf.io.parse_sequence_example`.

A SequenceExample holds `context` features (one value per example, as in an `Example`) and
`feature_lists` (one `Feature` per time step). Context specs are `FixedLenFeature` or
`VarLenFeature`; sequence specs are `FixedLenSequenceFeature` (each step one item of the
spec's shape) or `VarLenFeature` (each step any number of values). Results, shapes, dtypes
and error messages follow TF 2.21 (checked against tests/fixtures/parsing/).

    >>> import numpyflow as tf
    >>> from numpyflow.io import example_proto as pb
    >>> record = pb.SequenceExample(feature_lists=pb.FeatureLists(feature_list={
    ...     "tok": pb.FeatureList(feature=[pb.Feature(int64_list=pb.Int64List(value=[v]))
    ...                                    for v in (4, 5)])})).SerializeToString()
    >>> _, sequence = tf.io.parse_single_sequence_example(
    ...     record, sequence_features={"tok": tf.io.FixedLenSequenceFeature([], tf.int64)})
    >>> sequence["tok"].numpy().tolist()
    [4, 5]
"""

import numpy as np

from numpyflow.framework.errors import invalid_argument
from numpyflow.io.parsing import (
    _NAMES, _NP, FixedLenFeature, FixedLenSequenceFeature, VarLenFeature, _as_output,
    _feature_values, _fixed_default, _kind, _records, _serialized_bytes, _shape_of,
    _shape_text, _sparse)

__all__ = ["parse_single_sequence_example", "parse_sequence_example"]

_OP = "ParseSequenceExampleV2"


def _context_specs(features):
    specs = {}
    for key, spec in (features or {}).items():
        if isinstance(spec, FixedLenFeature):
            shape = _shape_of(spec, key, "FixedLenFeature")
            kind = _kind(spec.dtype, key)
            specs[key] = ("fixed", kind, shape, _fixed_default(spec, key, kind, shape))
        elif isinstance(spec, VarLenFeature):
            specs[key] = ("var", _kind(spec.dtype, key))
        else:
            raise NotImplementedError(
                f"Context feature {key!r}: {type(spec).__name__} is not supported by "
                "numpyflow's parse_sequence_example; use tf.io.FixedLenFeature or "
                "tf.io.VarLenFeature.")
    return specs


def _sequence_specs(features):
    specs = {}
    for key, spec in (features or {}).items():
        if isinstance(spec, FixedLenSequenceFeature):
            if spec.default_value is not None:
                raise ValueError(f"Value feature_list.dense_defaults[{key}] must be None")
            specs[key] = ("seq", _kind(spec.dtype, key),
                          _shape_of(spec, key, "FixedLenSequenceFeature"),
                          bool(spec.allow_missing))
        elif isinstance(spec, VarLenFeature):
            specs[key] = ("var", _kind(spec.dtype, key))
        elif isinstance(spec, FixedLenFeature):
            raise ValueError(f"Unsupported FixedLenFeature {spec!r} for key '{key}'")
        else:
            raise NotImplementedError(
                f"Sequence feature {key!r}: {type(spec).__name__} is not supported by "
                "numpyflow's parse_sequence_example; use tf.io.FixedLenSequenceFeature or "
                "tf.io.VarLenFeature.")
    return specs


def _parse_record(record, example_name):
    from numpyflow.io import example_proto as pb
    try:
        return pb.SequenceExample.FromString(_serialized_bytes(record, "tf.train.SequenceExample"))
    except TypeError:
        raise
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise invalid_argument(_OP, f"Invalid protocol message input, example id: "
                                    f"{example_name}") from None


def _context_values(example, key, kind, example_name):
    """A context feature's values, or None when absent (or of no kind)."""
    features = example.context.feature
    if key not in features or features[key].WhichOneof("kind") is None:
        return None
    present = features[key].WhichOneof("kind")
    if present != kind:
        raise invalid_argument(_OP, f"Name: {example_name}, Context feature: {key}.  Data "
                                    f"types don't match. Expected type: {_NAMES[kind]}")
    return _feature_values(features[key], kind)


def _steps(example, key, kind, example_name):
    """A feature list's steps (a list of value arrays), or None when the list is absent."""
    lists = example.feature_lists.feature_list
    if key not in lists:
        return None
    steps = []
    for index, feature in enumerate(lists[key].feature):
        present = feature.WhichOneof("kind")
        if present is None:  # A step without values.
            steps.append(np.zeros(0, dtype=_NP[kind]))
            continue
        if present != kind:
            raise invalid_argument(_OP, f"Name: {example_name}, Feature list: {key}, Index: "
                                        f"{index}.  Data types don't match. Expected type: "
                                        f"{_NAMES[kind]}")
        steps.append(_feature_values(feature, kind))
    return steps


def _dense_context(rows, key, kind, shape, default, names):
    """Stacks one FixedLenFeature's values: TF checks the largest count first, then each."""
    expected = int(np.prod(shape))
    largest = max((0 if row is None else row.size for row in rows), default=0)
    if largest != expected and not (largest == 0 and default is not None):
        raise invalid_argument(_OP, f"Inconsistent max number of elements for feature {key}: "
                                    f"expected {expected}, but found {largest}")
    out = []
    for row, example_name in zip(rows, names):
        if row is None:
            if default is None:
                raise invalid_argument(_OP, f"Feature: {key} (data type: {_NAMES[kind]}) is "
                                            "required but could not be found.")
            out.append(default)
        elif row.size != expected:
            raise invalid_argument(_OP, f"Unexpected number of elements in example "
                                        f"{example_name}")
        else:
            out.append(row.reshape(shape))
    return np.stack(out) if out else np.zeros([0] + shape, dtype=_NP[kind])


def _dense_sequence(rows, key, kind, shape, allow_missing, names):
    """Pads one FixedLenSequenceFeature's steps to `[batch, max_steps] + shape`, and the
    number of steps of each example."""
    stride = int(np.prod(shape))
    for row, example_name in zip(rows, names):
        if row is None and not allow_missing:
            raise invalid_argument(_OP, f"Name: {example_name}, Feature list '{key}' is "
                                        "required but could not be found.  Did you mean to "
                                        "include it in feature_list_dense_missing_assumed_"
                                        "empty or feature_list_dense_defaults?")
    rows = [row or [] for row in rows]
    largest = max((sum(step.size for step in row) for row in rows), default=0)
    if (stride == 0 and largest) or (stride and largest % stride):
        raise invalid_argument(_OP, f"Feature list '{key}' has an unexpected number of values."
                                    f"  Total values size: {largest} is not consistent with "
                                    f"output shape: {_shape_text(['?'] + shape)}")
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    padding = b"" if kind == "bytes_list" else 0
    out = np.full([len(rows), int(lengths.max(initial=0))] + shape, padding, dtype=_NP[kind])
    for b, (row, example_name) in enumerate(zip(rows, names)):
        for index, step in enumerate(row):
            if step.size != stride:
                raise invalid_argument(_OP, f"Name: {example_name}, Key: {key}, Index: {index}."
                                            f"  Number of values != expected.  values size: "
                                            f"{step.size} but output shape: "
                                            f"{_shape_text(shape)}")
        if row:  # One slice assignment: object (string) items must not nest as arrays.
            out[b, :len(row)] = np.concatenate(row).reshape([len(row)] + shape)
    return out, lengths


def _sparse_sequence(rows, kind, batched):
    """A VarLenFeature over steps: indices `[b, step, i]`, dense shape
    `[batch, max_steps, max_values]` (the batch dimension only when `batched`)."""
    from numpyflow.framework.tensor import constant
    from numpyflow.sparse.sparse_tensor import SparseTensor
    rows = [row or [] for row in rows]
    indices, values = [], []
    for b, row in enumerate(rows):
        for step_index, step in enumerate(row):
            for i in range(step.size):
                indices.append(([b] if batched else []) + [step_index, i])
            values.append(step)
    steps = max((len(row) for row in rows), default=0)
    width = max((step.size for row in rows for step in row), default=0)
    dense_shape = ([len(rows)] if batched else []) + [steps, width]
    indices = np.asarray(indices, dtype=np.int64).reshape(-1, len(dense_shape))
    values = (np.concatenate(values) if values else np.zeros(0)).astype(_NP[kind])
    sparse = SparseTensor(constant(indices), _as_output(values),
                          constant(np.asarray(dense_shape, np.int64)))
    sparse._static_shape = [None] * len(dense_shape)  # Data-dependent, as TF's spec says.
    return sparse


def _parse(records, names, context_features, sequence_features, batched):
    context_specs = _context_specs(context_features)
    sequence_specs = _sequence_specs(sequence_features)
    examples = [_parse_record(record, name) for record, name in zip(records, names)]
    context_rows = {key: [_context_values(e, key, spec[1], name)
                          for e, name in zip(examples, names)]
                    for key, spec in context_specs.items()}
    step_rows = {key: [_steps(e, key, spec[1], name) for e, name in zip(examples, names)]
                 for key, spec in sequence_specs.items()}
    context, sequence, lengths = {}, {}, {}
    for key, spec in context_specs.items():
        rows = context_rows[key]
        if spec[0] == "fixed":
            dense = _dense_context(rows, key, spec[1], spec[2], spec[3], names)
            context[key] = _as_output(dense if batched else dense[0])
        else:
            rows = [row if row is not None else np.zeros(0, dtype=_NP[spec[1]])
                    for row in rows]
            context[key] = _sparse(rows, spec[1], batched=batched)
    for key, spec in sequence_specs.items():
        rows = step_rows[key]
        if spec[0] == "seq":
            dense, counts = _dense_sequence(rows, key, spec[1], spec[2], spec[3], names)
            sequence[key] = _as_output(dense if batched else dense[0])
            lengths[key] = _as_output(counts if batched else counts[0])
        else:
            sequence[key] = _sparse_sequence(rows, spec[1], batched)
    return context, sequence, lengths


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized `tf.train.SequenceExample`.

    Args:
        serialized: A serialized SequenceExample (bytes or a scalar tf.string Tensor).
        context_features: A dict from key to `FixedLenFeature` or `VarLenFeature`, read from
            the example's context.
        sequence_features: A dict from key to `FixedLenSequenceFeature` or `VarLenFeature`,
            read from its feature lists.
        example_name: Optional name of the example, used in error messages.
        name: Unused op name (TF's).

    Returns:
        `(context, sequence)`: dicts of Tensors (`FixedLenFeature`: its shape;
        `FixedLenSequenceFeature`: `[num_steps] + shape`) and `tf.sparse.SparseTensor`s
        (`VarLenFeature`: `[len]` in the context, `[num_steps, max_len]` in the sequence).

    Raises:
        ValueError: Neither dict has features, or a spec is not allowed where it is.
        tf.errors.InvalidArgumentError: The record is not a SequenceExample, a required
            feature is missing, or values have the wrong type or count.

    Example:
        >>> import numpyflow as tf
        >>> from numpyflow.io import example_proto as pb
        >>> record = pb.SequenceExample(context=pb.Features(feature={
        ...     "n": pb.Feature(int64_list=pb.Int64List(value=[2]))})).SerializeToString()
        >>> context, _ = tf.io.parse_single_sequence_example(
        ...     record, context_features={"n": tf.io.FixedLenFeature([], tf.int64)})
        >>> int(context["n"])
        2
    """
    del name
    if not context_features and not sequence_features:
        raise ValueError("Both context_features and sequence_features are None, but at least "
                         "one should have values.")
    example_name = "<unknown>" if example_name is None else str(example_name)
    context, sequence, _ = _parse([serialized], [example_name], context_features,
                                  sequence_features, batched=False)
    return context, sequence


def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch of serialized `tf.train.SequenceExample`s.

    Args:
        serialized: A list or 1-D array of serialized SequenceExamples (a scalar parses one
            example, unbatched).
        context_features: A dict from key to `FixedLenFeature` or `VarLenFeature`.
        sequence_features: A dict from key to `FixedLenSequenceFeature` or `VarLenFeature`.
        example_names: Optional names of the examples, used in error messages.
        name: Unused op name (TF's).

    Returns:
        `(context, sequence, lengths)`: `context` maps keys to `[batch] + shape` Tensors or
        `[batch, max_len]` SparseTensors; `sequence` maps `FixedLenSequenceFeature` keys to
        `[batch, max_steps] + shape` Tensors padded with 0 (b"" for strings) and
        `VarLenFeature` keys to `[batch, max_steps, max_len]` SparseTensors; `lengths` maps
        each `FixedLenSequenceFeature` key to the int64 number of steps of each example.

    Example:
        >>> import numpyflow as tf
        >>> from numpyflow.io import example_proto as pb
        >>> def record(*values):
        ...     steps = [pb.Feature(float_list=pb.FloatList(value=[v])) for v in values]
        ...     return pb.SequenceExample(feature_lists=pb.FeatureLists(feature_list={
        ...         "x": pb.FeatureList(feature=steps)})).SerializeToString()
        >>> _, sequence, lengths = tf.io.parse_sequence_example(
        ...     [record(1.0, 2.0), record(3.0)],
        ...     sequence_features={"x": tf.io.FixedLenSequenceFeature([], tf.float32)})
        >>> sequence["x"].numpy().tolist(), lengths["x"].numpy().tolist()
        ([[1.0, 2.0], [3.0, 0.0]], [2, 1])
    """
    del name
    if not context_features and not sequence_features:
        raise ValueError("Both `context_features` and `sequence_features` argument are None, "
                         "but at least one should have values.")
    records = _records(serialized, _OP)
    scalar = records is None
    if scalar:
        records = [_serialized_bytes(serialized, "tf.train.SequenceExample")]
    if example_names is None:
        names = ["<unknown>"] * len(records)
    else:
        if hasattr(example_names, "numpy"):
            example_names = example_names.numpy()
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in np.asarray(example_names, dtype=object).reshape(-1)]
        if len(names) != len(records):
            raise invalid_argument(_OP, "example_names must be empty or "
                                   "have the correct number of elements")
    return _parse(records, names, context_features, sequence_features, batched=not scalar)
