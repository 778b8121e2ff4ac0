"""Batching: batch, padded_batch, unbatch, rebatch.

    >>> [b.numpy().tolist() for b in Dataset.range(5).batch(2, drop_remainder=True)]
    [[0, 1], [2, 3]]
"""

import numpy as np

from numpyflow.data import slicing, structure
from numpyflow.data.dataset import (
    INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, is_error)
from numpyflow.data.errors import ElementError
from numpyflow.framework.errors import InvalidArgumentError, invalid_argument
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_shape import TensorShape
from numpyflow.framework.tensor_spec import TensorSpec
from numpyflow.sparse.sparse_tensor import SparseTensor, SparseTensorSpec, batch_sparse


def _batch_size(value, op):
    size = int(value)
    if size <= 0:
        raise invalid_argument(op, "Batch size must be greater than zero.")
    return size


def _batched_card(card, size, drop_remainder):
    if card < 0:
        return card
    return card // size if drop_remainder else -(-card // size)


def _batched_spec(spec, size, drop_remainder):
    dim = size if drop_remainder else None
    # TensorShape([dim]) + an unknown rank is an unknown rank, as TF's batch spec.
    return structure.map_structure(lambda s: _respec(s, TensorShape([dim]) + s.shape), spec)


def _respec(spec, shape):
    if isinstance(spec, SparseTensorSpec):
        return SparseTensorSpec(shape, spec.dtype)
    return TensorSpec(shape, spec.dtype)


def _groups(items, size, drop_remainder):
    """Lists of `size` elements (an ElementError is passed through, dropping its batch)."""
    group = []
    for item in items:
        if is_error(item):
            group = []
            yield item
            continue
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group and not drop_remainder:
        yield group


def _stack(group, pad_to=None, padding_values=None):
    """Stacks a group of elements leaf by leaf (padding each leaf if `pad_to` is given)."""
    if pad_to is None and all(type(element) is Tensor for element in group):
        # Elements of one tensor (an image pipeline's): no structure to walk per element.
        arrays = [element._value for element in group]
        _check_same_shapes(arrays, 0)
        return structure.make_leaf(np.stack(arrays))
    flat = [structure.flatten(element) for element in group]
    leaves = []
    for component, values in enumerate(zip(*flat)):
        if isinstance(values[0], SparseTensor):  # Rank + 1, largest dims, as in TF.
            leaves.append(batch_sparse(values))
            continue
        arrays = [structure.leaf_array(v) for v in values]
        if pad_to is None:
            _check_same_shapes(arrays, component)
            leaves.append(structure.make_leaf(np.stack(arrays)))
        else:
            leaves.append(structure.make_leaf(_pad_stack(
                arrays, pad_to[component], padding_values[component], component)))
    return structure.pack_as(group[0], leaves)


def _check_same_shapes(arrays, component):
    first = arrays[0].shape
    for index, array in enumerate(arrays[1:], start=1):
        if array.shape != first:
            raise InvalidArgumentError(
                None, None, f"Cannot batch tensors with different shapes in component "
                f"{component}. First element had shape {list(first)} and element "
                f"{index} had shape {list(array.shape)}.")


def _pad_stack(arrays, padded_shape, padding_value, component):
    # Every element has the padded shape's rank (so all have one rank), as TF checks: the
    # spec does not promise it where a component's rank is unknown.
    for array in arrays:
        if array.ndim != len(padded_shape):
            raise InvalidArgumentError(
                None, None, f"All elements in a batch must have the same rank as the padded "
                f"shape for component{component}: expected rank {len(padded_shape)} but got "
                f"element with rank {array.ndim}")
    longest = np.max([a.shape for a in arrays], axis=0) if arrays[0].ndim else ()
    target = [int(m) if d is None else int(d) for d, m in zip(padded_shape, longest)]
    for array in arrays:
        if any(s > t for s, t in zip(array.shape, target)):
            raise InvalidArgumentError(None, None, "Attempted to pad to a smaller size than the "
                                       f"input element (component {component}: element shape "
                                       f"{list(array.shape)}, padded shape {target}).")
    if isinstance(padding_value, Tensor):
        padding_value = padding_value._value
    if arrays[0].dtype.kind == "O":
        if isinstance(padding_value, str):
            padding_value = padding_value.encode("utf-8")
        elif not isinstance(padding_value, bytes) and padding_value == 0:
            padding_value = b""  # As TF: strings pad with the empty string.
    out = np.full([len(arrays)] + target, padding_value, dtype=arrays[0].dtype)
    for i, array in enumerate(arrays):
        out[(i,) + tuple(slice(0, s) for s in array.shape)] = array
    return out


def batch(dataset, batch_size, drop_remainder=False, num_parallel_calls=None,
          deterministic=None, name=None):
    """Stacks consecutive elements into batches of `batch_size` along a new first axis.

    The last batch may be smaller unless `drop_remainder=True`. Elements must have equal
    shapes (use `padded_batch` otherwise).

    Example:
        >>> [b.numpy().tolist() for b in Dataset.range(5).batch(2)]
        [[0, 1], [2, 3], [4]]
    """
    size = _batch_size(batch_size, "BatchDatasetV2")
    if num_parallel_calls is not None or deterministic is not None:
        raise NotImplementedError("Dataset.batch: `num_parallel_calls` and `deterministic` are "
                                  "not supported; batches are stacked in order.")
    plan = dataset._plan

    def iterate():
        if plan is not None:  # Rows of in-memory arrays: gather each batch at once.
            yield from slicing.batches(plan, size, drop_remainder)
            return
        items = dataset._iterate()
        try:
            for group in _groups(items, size, drop_remainder):
                if is_error(group):
                    yield group
                    continue
                try:
                    yield _stack(group)
                except InvalidArgumentError as error:
                    yield ElementError(error)
        finally:
            items.close()
    result = Dataset(iterate, lambda: _batched_spec(dataset.element_spec, size, drop_remainder),
                     _batched_card(dataset._cardinality, size, drop_remainder), (dataset,))
    result._in_memory = plan is not None
    return result


def padded_batch(dataset, batch_size, padded_shapes=None, padding_values=None,
                 drop_remainder=False, name=None):
    """Batches elements of different shapes, padding each component to a common shape.

    `padded_shapes` (nested like the elements) gives each component's shape; a None dim (or
    no `padded_shapes`) pads to the longest in the batch. `padding_values` default to 0.

    Example:
        >>> ds = Dataset.from_generator(lambda: iter([[1], [2, 2]]),
        ...     output_signature=TensorSpec([None], "int64")).padded_batch(2)
        >>> [b.numpy().tolist() for b in ds]
        [[[1, 0], [2, 2]]]
    """
    size = _batch_size(batch_size, "PaddedBatchDatasetV2")
    spec = dataset.element_spec
    leaf_specs = structure.flatten(spec)
    sparse = [s for s in leaf_specs if isinstance(s, SparseTensorSpec)]
    if sparse:
        raise TypeError(f"`padded_batch` is only supported for datasets that produce tensor "
                        f"elements but type spec of elements in the input dataset is not a "
                        f"subclass of TensorSpec: `{sparse[0]!r}`.")
    if padded_shapes is None:
        for component, leaf in enumerate(leaf_specs):
            if leaf.shape.rank is None:  # Nothing to pad to: TF asks for padded_shapes too.
                raise ValueError(f"You must provide `padded_shapes` argument because component "
                                 f"{component} has unknown rank.")
        shapes = [[None] * leaf.shape.rank for leaf in leaf_specs]
    else:
        shapes = [list(_shape_list(p)) for p in _flatten_like(spec, padded_shapes, "padded_shapes")]
        for shape, leaf in zip(shapes, leaf_specs):
            # A component of unknown rank takes any padded shape; its elements' ranks are
            # checked as they are batched (_pad_stack).
            if leaf.shape.rank is None:
                continue
            if len(shape) != len(leaf.shape) or any(
                    p is not None and d is not None and p < d for p, d in zip(shape, leaf.shape)):
                raise ValueError(f"The padded shape {tuple(shape)} is not compatible with the "
                                 f"shape {leaf.shape} of the corresponding input component.")
    if padding_values is None:
        values = [0] * len(leaf_specs)
    else:
        values = _flatten_like(spec, padding_values, "padding_values")

    def iterate():
        items = dataset._iterate()
        try:
            for group in _groups(items, size, drop_remainder):
                if is_error(group):
                    yield group
                    continue
                try:
                    yield _stack(group, shapes, values)
                except InvalidArgumentError as error:
                    yield ElementError(error)
        finally:
            items.close()

    def result_spec():
        dim = size if drop_remainder else None
        leaves = [_respec(leaf, [dim] + list(shape)) for shape, leaf in zip(shapes, leaf_specs)]
        return structure.pack_as(spec, leaves)
    return Dataset(iterate, result_spec,
                   _batched_card(dataset._cardinality, size, drop_remainder), (dataset,))


def _shape_list(shape):
    if isinstance(shape, TensorShape) and shape.rank is None:
        raise ValueError("padded_batch: a padded shape must have a known rank; received "
                         "TensorShape(None).")
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    if isinstance(shape, (int, np.integer)):
        shape = [shape]
    return [None if d is None or int(d) == -1 else int(d) for d in shape]


def _flatten_like(spec, value, what):
    """Flattens `value` up to `spec`'s structure; a single value applies to every leaf."""
    if not structure.is_structure(spec):
        # Whatever sits at a component's place is its value: a padded shape given as a
        # tuple or TensorShape is one shape, not a structure (TF flattens up to the spec).
        return [value]
    if not structure.is_structure(value):
        return [value] * len(structure.flatten(spec))
    if isinstance(spec, dict):
        return [v for k in sorted(spec) for v in _flatten_like(spec[k], value[k], what)]
    if len(value) != len(spec):
        raise ValueError(f"padded_batch: `{what}` must be nested like the elements; expected "
                         f"{len(spec)} components, received {len(value)}.")
    return [v for s, item in zip(spec, value) for v in _flatten_like(s, item, what)]


def unbatch(dataset, name=None):
    """Splits each element along its first dimension into separate elements.

    Example:
        >>> [int(x) for x in Dataset.range(4).batch(3).unbatch()]
        [0, 1, 2, 3]
    """
    spec = dataset.element_spec
    leaf_specs = structure.flatten(spec)
    if any(isinstance(s, SparseTensorSpec) for s in leaf_specs):
        raise NotImplementedError("unbatch (and rebatch) of SparseTensor components is not "
                                  "supported by numpyflow; make them dense first with "
                                  "tf.sparse.to_dense in a map.")
    if any(s.shape.rank == 0 for s in leaf_specs):
        raise ValueError("Cannot unbatch an input with scalar components.")

    def iterate():
        items = dataset._iterate()
        try:
            for item in items:
                if is_error(item):
                    yield item
                    continue
                leaves = [structure.leaf_array(t) for t in structure.flatten(item)]
                counts = {leaf.shape[0] for leaf in leaves}
                if len(counts) != 1:
                    yield ElementError(InvalidArgumentError(
                        None, None, f"unbatch: the components of an element have different "
                        f"first dimensions: {sorted(counts)}."))
                    continue
                for i in range(counts.pop()):
                    yield structure.pack_as(item, [structure.make_leaf(np.asarray(v[i]))
                                                   for v in leaves])
        finally:
            items.close()

    def result_spec():
        # An unknown rank stays unknown (TensorShape(None)[1:] is TensorShape(None)).
        return structure.map_structure(lambda s: _respec(s, s.shape[1:]), spec)
    dims = {s.shape[0] for s in leaf_specs if s.shape.rank is not None}
    card = dataset._cardinality
    if card == INFINITE_CARDINALITY:
        result_card = INFINITE_CARDINALITY
    elif card >= 0 and len(dims) == 1 and None not in dims:
        result_card = card * dims.pop()
    else:
        result_card = UNKNOWN_CARDINALITY
    return Dataset(iterate, result_spec, result_card, (dataset,))


def rebatch(dataset, batch_size, drop_remainder=False, name=None):
    """Re-batches batched elements into batches of `batch_size` (or of each listed size in turn).

    Example:
        >>> [b.numpy().tolist() for b in Dataset.range(7).batch(4).rebatch([2, 3])]
        [[0, 1], [2, 3, 4], [5, 6]]
    """
    if isinstance(batch_size, (list, tuple, np.ndarray, Tensor)):
        sizes = [int(s) for s in np.asarray(batch_size).reshape(-1)]
    else:
        sizes = [int(batch_size)]
    if not sizes or any(s <= 0 for s in sizes):
        raise invalid_argument("RebatchDatasetV2", "Batch size must be greater than zero.")
    spec = dataset.element_spec
    if any(s.shape.rank == 0 for s in structure.flatten(spec)):
        raise ValueError("Invalid `batch_sizes`. Expected dataset with rank of >= 1 but found a "
                         "dataset with scalar elements. Fix the issue by adding the `batch` "
                         "transformation to the dataset.")
    elements = unbatch(dataset)

    def iterate():
        items = elements._iterate()
        group, turn = [], 0
        try:
            for item in items:
                if is_error(item):
                    group = []
                    yield item
                    continue
                group.append(item)
                if len(group) == sizes[turn % len(sizes)]:
                    yield _stack(group)
                    group, turn = [], turn + 1
            if group and not drop_remainder:
                yield _stack(group)
        finally:
            items.close()

    def result_spec():
        dim = sizes[0] if drop_remainder and len(set(sizes)) == 1 else None
        return structure.map_structure(
            lambda s: _respec(s, TensorShape([dim]) + s.shape[1:]), spec)
    card = INFINITE_CARDINALITY if dataset._cardinality == INFINITE_CARDINALITY \
        else UNKNOWN_CARDINALITY
    return Dataset(iterate, result_spec, card, (dataset,))


def attach(cls):
    for func in (batch, padded_batch, unbatch, rebatch):
        setattr(cls, func.__name__, func)
