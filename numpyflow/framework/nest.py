"""Flattening nested structures (lists, tuples, dicts) and rebuilding them, as `tf.nest`."""


def flatten(structure):
    """The leaves of `structure` in a stable order (dicts by sorted key, as tf.nest)."""
    leaves = []
    _flatten_into(structure, leaves)
    return leaves


def _flatten_into(structure, leaves):
    if isinstance(structure, dict):
        for key in sorted(structure):
            _flatten_into(structure[key], leaves)
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            _flatten_into(item, leaves)
    else:
        leaves.append(structure)


def pack_sequence_as(structure, flat_sequence):
    """Rebuilds `structure`'s nesting with the leaves taken in order from `flat_sequence`."""
    leaves = iter(flat_sequence)
    return _pack(structure, leaves)


def _pack(structure, leaves):
    if isinstance(structure, dict):
        # Leaves come in sorted-key order (as `flatten` gives them); the dict keeps its own.
        packed = {key: _pack(structure[key], leaves) for key in sorted(structure)}
        return type(structure)((key, packed[key]) for key in structure)
    if isinstance(structure, (list, tuple)):
        items = [_pack(item, leaves) for item in structure]
        if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # namedtuple
            return type(structure)(*items)
        return type(structure)(items)
    return next(leaves)


def map_structure(func, structure):
    return pack_sequence_as(structure, [func(x) for x in flatten(structure)])
