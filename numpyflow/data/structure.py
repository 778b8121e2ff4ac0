"""Nested dataset elements: tuples, dicts and namedtuples of Tensors, as tf.data sees them.

tf.data treats tuples, namedtuples and dicts as structure and everything else (lists
included) as one tensor: `from_tensor_slices([[1, 2], [3, 4]])` has one component of
shape (2,). Dict leaves come in sorted-key order, as `tf.nest`.

    >>> flatten(({"b": 1, "a": 2}, 3))
    [2, 1, 3]
"""

import numpy as np

from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.framework.tensor_spec import TensorSpec
from numpyflow.sparse.sparse_tensor import SparseTensor, SparseTensorSpec


def is_structure(value):
    return isinstance(value, (tuple, dict))


def flatten(element):
    """The leaves of `element` (tuples, namedtuples and dicts are structure)."""
    if isinstance(element, dict):
        return [leaf for key in sorted(element) for leaf in flatten(element[key])]
    if isinstance(element, tuple):
        return [leaf for item in element for leaf in flatten(item)]
    return [element]


def pack_as(structure, leaves):
    """Rebuilds `structure` with the leaves of the flat list `leaves`, in order."""
    iterator = iter(leaves)
    packed = _pack(structure, iterator)
    return packed


def _pack(structure, leaves):
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], leaves) for key in sorted(structure)}
        return type(structure)((key, packed[key]) for key in structure)
    if isinstance(structure, tuple):
        items = [_pack(item, leaves) for item in structure]
        if hasattr(structure, "_fields"):
            return type(structure)(*items)
        return type(structure)(items)
    return next(leaves)


def map_structure(func, structure):
    return pack_as(structure, [func(leaf) for leaf in flatten(structure)])


def describe(structure):
    """A short text of a structure's nesting, for error messages."""
    return repr(map_structure(lambda _: ".", structure)).replace("'.'", ".")


def assert_same_structure(expected, received, what):
    """Raises TypeError when `received` is not nested like `expected`."""
    if not _same(expected, received):
        raise TypeError(f"{what}: the structures do not match. Expected {describe(expected)}, "
                        f"received {describe(received)}.")


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and sorted(a) == sorted(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return (isinstance(b, tuple) and not isinstance(b, dict) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return not is_structure(b)


def is_string(value):
    """Whether a raw leaf is string data (str, bytes, or a NumPy array of them)."""
    if isinstance(value, (str, bytes)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "OSU"


def leaf_array(leaf):
    """A leaf's value as a NumPy array (an object array of bytes for tf.string)."""
    if isinstance(leaf, Tensor):
        return leaf._value
    if isinstance(leaf, (str, bytes)):
        return convert_to_tensor(leaf)._value
    return np.asarray(leaf)


def make_leaf(array):
    """The leaf for an array: a Tensor (object arrays of bytes are tf.string Tensors)."""
    return Tensor(array)


def to_tensor(value, dtype=None):
    """One component as a Tensor (lists become one tensor, as tf.data does).

    Strings become `tf.string` Tensors, as in TF.
    """
    if isinstance(value, Tensor):
        return value if dtype is None else convert_to_tensor(value, dtype)
    if isinstance(value, SparseTensor):  # One component, as in TF (a SparseTensorSpec).
        return value
    return convert_to_tensor(value, dtype=dtype)


def normalize(element):
    """`element` with every leaf converted to a Tensor (a list leaf becomes one tensor)."""
    if type(element) is Tensor:  # Most map functions return one tensor: once per element.
        return element
    return map_structure(to_tensor, element)


def spec_of(element):
    """The nested `TensorSpec`s of an element of Tensors."""
    return map_structure(_leaf_spec, element)


def _leaf_spec(leaf):
    if isinstance(leaf, SparseTensor):
        return SparseTensorSpec.from_value(leaf)
    if not isinstance(leaf, Tensor):
        leaf = convert_to_tensor(leaf)
    return TensorSpec(leaf.shape, leaf.dtype)


def most_specific(spec_a, spec_b, what):
    """A spec compatible with both (differing dims become None), or a TypeError."""
    assert_same_structure(spec_a, spec_b, what)
    leaves = []
    for a, b in zip(flatten(spec_a), flatten(spec_b)):
        if isinstance(a, SparseTensorSpec) or isinstance(b, SparseTensorSpec):
            sparse, other = (a, b) if isinstance(a, SparseTensorSpec) else (b, a)
            leaves.append(sparse.most_specific_compatible_type(other))
            continue
        if isinstance(a, TensorSpec) != isinstance(b, TensorSpec):
            raise TypeError(f"{what}: incompatible types {a} and {b}.")
        if not isinstance(a, TensorSpec):
            leaves.append(a)
            continue
        if a.dtype != b.dtype:
            raise TypeError(f"{what}: incompatible types {a} and {b}.")
        leaves.append(a.most_specific_compatible_type(b))
    return pack_as(spec_a, leaves)


def numpy_leaf(tensor):
    """A leaf's value as NumPy (scalars as NumPy scalars), as `as_numpy_iterator` gives."""
    if isinstance(tensor, (str, bytes)):
        return tensor
    value = tensor._value if isinstance(tensor, Tensor) else np.asarray(tensor)
    return value[()] if value.ndim == 0 else value
