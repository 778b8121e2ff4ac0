"""`tf.nest`: flattening nested structures into their leaves and rebuilding them.

The structures are TF's: lists, tuples, namedtuples, mappings (dicts, OrderedDicts,
defaultdicts) and a dict's keys/values/items views (in their own order) nest; everything
else is a leaf (tensors, arrays, strings, sets, None).
Mappings are flattened in sorted key order, whatever order their keys were added in,
so that two dicts with the same keys always give their leaves in the same order;
rebuilding a mapping keeps its own key order.

`expand_composites` is accepted for TF's signatures; sparse and ragged tensors stay
leaves (numpyflow does not split them into their component tensors).

    >>> import numpyflow as tf
    >>> tf.nest.flatten({'b': 1, 'a': (2, [3, None])})
    [2, 3, None, 1]
    >>> tf.nest.map_structure(lambda x, y: x + y, [1, (2,)], [10, (20,)])
    [11, (22,)]
"""

import collections as _collections
import collections.abc as _abc

from numpyflow.framework.tensor_shape import TensorShape as _TensorShape


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(value, "_fields")


def is_nested(seq):
    """Whether `seq` nests (a list, tuple, mapping or dict view, even an empty one), not a
    leaf.

    A `tf.TensorShape` is a leaf, as in TF (numpyflow's is a tuple underneath).

    Example:
        >>> import numpyflow as tf
        >>> tf.nest.is_nested([]), tf.nest.is_nested("abc")
        (True, False)
    """
    return (isinstance(seq, (list, tuple, _abc.Mapping, _abc.MappingView))
            and not isinstance(seq, _TensorShape))


def _children(structure):
    """The items of a nested `structure`, in flattening order."""
    if isinstance(structure, _abc.Mapping):
        return [structure[key] for key in _sorted_keys(structure)]
    return list(structure)


def _sorted_keys(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        raise TypeError(f"tf.nest only supports mappings whose keys can be sorted (to give "
                        f"their values in a fixed order). Received keys: "
                        f"{list(mapping)!r}") from None


def flatten(structure, expand_composites=False):
    """The leaves of `structure`, depth first (mappings by sorted key).

    A leaf alone flattens to a one-item list (`flatten(None) == [None]`).

    Example:
        >>> import numpyflow as tf
        >>> tf.nest.flatten([1, {'y': 2, 'x': 3}])
        [1, 3, 2]
    """
    leaves = []
    stack = [structure]
    # Iterative, so that deep structures cannot reach the recursion limit.
    while stack:
        item = stack.pop()
        if is_nested(item):
            stack.extend(reversed(_children(item)))
        else:
            leaves.append(item)
    return leaves


def _rebuild(structure, items):
    """A structure of `structure`'s type holding `items` (in flattening order)."""
    if isinstance(structure, _abc.Mapping):
        by_key = dict(zip(_sorted_keys(structure), items))
        pairs = [(key, by_key[key]) for key in structure]  # The mapping's own key order.
        if isinstance(structure, _collections.defaultdict):
            return type(structure)(structure.default_factory, pairs)
        return type(structure)(pairs)
    if _is_namedtuple(structure):
        return type(structure)(*items)
    if isinstance(structure, _abc.MappingView):
        return list(items)  # A dict's keys(), values() or items() rebuild as a list, as TF.
    return type(structure)(items)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """Rebuilds `structure`'s nesting with the leaves taken in order from `flat_sequence`.

    Raises:
        TypeError: `flat_sequence` is not a list or tuple.
        ValueError: `flat_sequence` has more or fewer items than `structure` has leaves.

    Example:
        >>> import numpyflow as tf
        >>> tf.nest.pack_sequence_as({'b': 0, 'a': (0, 0)}, [7, 8, 9])
        {'b': 9, 'a': (7, 8)}
    """
    if not is_nested(flat_sequence) or isinstance(flat_sequence, _abc.Mapping):
        raise TypeError(f"tf.nest.pack_sequence_as: flat_sequence must be a list or tuple. "
                        f"Received: {type(flat_sequence).__name__}: {flat_sequence!r}")
    flat_sequence = list(flat_sequence)
    leaf_count = len(flatten(structure))
    if leaf_count != len(flat_sequence):
        raise ValueError(f"Could not pack sequence. Structure had {leaf_count} atoms, but "
                         f"flat_sequence had {len(flat_sequence)} items. Structure: "
                         f"{structure!r}, flat_sequence: {flat_sequence!r}.")
    leaves = iter(flat_sequence)
    return _pack(structure, leaves)


def _pack(structure, leaves):
    if not is_nested(structure):
        return next(leaves)
    return _rebuild(structure, [_pack(item, leaves) for item in _children(structure)])


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises unless `nest1` and `nest2` nest the same way (their leaves may differ).

    Raises:
        ValueError: The nesting or the number of items differs.
        TypeError: `check_types` and two sequences at the same place differ in type
            (a list against a tuple, two namedtuple classes).

    Example:
        >>> import numpyflow as tf
        >>> tf.nest.assert_same_structure([1, (2, 3)], ['a', ('b', 'c')])
    """
    pairs = [(nest1, nest2)]
    while pairs:
        first, second = pairs.pop()
        first_nested, second_nested = is_nested(first), is_nested(second)
        if first_nested != second_nested:
            nested, leaf = (first, second) if first_nested else (second, first)
            _structure_error(nest1, nest2, f"substructure {nested!r} is a sequence, while "
                                           f"substructure {leaf!r} is not")
        if not first_nested:
            continue
        if check_types and not _same_sequence_type(first, second):
            raise TypeError(f"The two structures don't have the same sequence type: "
                            f"{type(first).__name__} {first!r} against "
                            f"{type(second).__name__} {second!r}. First structure: "
                            f"{nest1!r}; second structure: {nest2!r}.")
        if len(first) != len(second):
            _structure_error(nest1, nest2, f"{first!r} has {len(first)} elements and "
                                           f"{second!r} has {len(second)}")
        if isinstance(first, _abc.Mapping) and isinstance(second, _abc.Mapping):
            if set(first) != set(second):
                _structure_error(nest1, nest2, f"the mappings have different keys: "
                                               f"{sorted(map(repr, first))} against "
                                               f"{sorted(map(repr, second))}")
        pairs.extend(zip(_children(first), _children(second)))


def _same_sequence_type(first, second):
    if isinstance(first, _abc.Mapping) and isinstance(second, _abc.Mapping):
        return True  # TF treats all mappings alike: a dict matches an OrderedDict.
    if _is_namedtuple(first) or _is_namedtuple(second):
        return (_is_namedtuple(first) and _is_namedtuple(second)
                and type(first).__name__ == type(second).__name__
                and first._fields == second._fields)
    return type(first) is type(second)


def _structure_error(nest1, nest2, detail):
    raise ValueError(f"The two structures don't have the same nested structure: {detail}. "
                     f"First structure: {nest1!r}; second structure: {nest2!r}.")


def map_structure(func, *structure, **kwargs):
    """`func` applied to the leaves of one or more structures of the same nesting.

    Args:
        func: Called with one leaf from each structure.
        *structure: One or more structures nesting the same way.
        **kwargs: `check_types` (default True: the sequence types must match too) and
            `expand_composites`.

    Example:
        >>> import numpyflow as tf
        >>> tf.nest.map_structure(lambda x: x * 2, {'a': 1, 'b': (2, 3)})
        {'a': 2, 'b': (4, 6)}
    """
    if not callable(func):
        raise TypeError(f"tf.nest.map_structure: func must be callable. Received: {func!r}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"tf.nest.map_structure: only `check_types` and "
                         f"`expand_composites` are keyword arguments. Received: "
                         f"{sorted(kwargs)}")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    columns = zip(*[flatten(s) for s in structure])
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in columns])
