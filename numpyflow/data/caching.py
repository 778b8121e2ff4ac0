"""`Dataset.cache`: in memory, or in a file of numpyflow's own format (never pickle).

The first complete pass records the elements; later passes replay them. A pass that stops
early records nothing (as in TF). A file cache is written to `<filename>.nfcache`
atomically when the first pass completes, and read by any later pipeline (in any process)
with the same `filename`.

File layout (all little-endian):

    b"NFDSCACHE1\\n", uint64 n, n bytes of JSON {"spec": [[shape, dtype], ...]}
    per element: each leaf as a .npy array (NumPy's format, read with allow_pickle=False)
    b"NFDSCACHEEND", uint64 element count

Reading checks the magic, the spec against the dataset's, each array's dtype (numbers and
bools only) and declared size against the bytes left in the file before reading it, and
raises `DataLossError`-like ValueErrors naming the file.
"""

import json
import math
import os
import struct

import numpy as np

from numpyflow.data import structure
from numpyflow.data.dataset import Dataset, is_error
from numpyflow.framework.file_safety import atomic_path
from numpyflow.framework.tensor import Tensor

SUFFIX = ".nfcache"
_MAGIC = b"NFDSCACHE1\n"
_END = b"NFDSCACHEEND"
_MAX_HEADER = 1 << 20


class CacheFileError(ValueError):
    """A cache file is not a complete numpyflow dataset cache matching the dataset."""


def cache(dataset, filename="", name=None):
    """Caches the elements in memory (`filename=""`) or in `<filename>.nfcache`.

    Example:
        >>> ds = Dataset.range(3).cache()
        >>> [int(x) for x in ds] == [int(x) for x in ds]
        True
    """
    filename = os.fspath(filename)
    if filename:
        return _file_cache(dataset, filename)
    recorded = []  # One list, filled by the first complete pass.

    def iterate():
        if recorded:
            yield from recorded[0]
            return
        elements = []
        items = dataset._iterate()
        try:
            for item in items:
                if not is_error(item):
                    elements.append(item)
                yield item
        finally:
            items.close()
        if not recorded:
            recorded.append(elements)
    return Dataset(iterate, lambda: dataset.element_spec, dataset._cardinality, (dataset,))


def _file_cache(dataset, filename):
    path = filename + SUFFIX

    def iterate():
        spec_leaves = structure.flatten(dataset.element_spec)
        if any(s.dtype._np.kind == "O" for s in spec_leaves):
            raise NotImplementedError(f"Dataset.cache({filename!r}): caching string components "
                                      f"in a file is not supported; use cache() in memory.")
        if os.path.exists(path):
            for leaves in _read(path, spec_leaves):
                yield structure.pack_as(dataset.element_spec, leaves)
            return
        items = dataset._iterate()
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as out:
                header = json.dumps({"spec": [[_dims(s.shape), s.dtype.name]
                                              for s in spec_leaves]}).encode()
                out.write(_MAGIC + struct.pack("<Q", len(header)) + header)
                count = 0
                for item in items:
                    if not is_error(item):
                        for leaf in structure.flatten(item):
                            np.lib.format.write_array(out, leaf._value,
                                                      allow_pickle=False)
                        count += 1
                    yield item
                out.write(_END + struct.pack("<Q", count))
        finally:
            items.close()
    return Dataset(iterate, lambda: dataset.element_spec, dataset._cardinality, (dataset,))


def _dims(shape):
    """A spec shape as JSON: a list of dims, or None for an unknown rank."""
    return None if shape.rank is None else list(shape)


def _read(path, spec_leaves):
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        def fail(reason):
            return CacheFileError(f"Dataset cache file {path!r}: {reason} Delete the file to "
                                  f"rebuild the cache.")
        if file.read(len(_MAGIC)) != _MAGIC:
            raise fail("not a numpyflow dataset cache (bad magic).")
        (length,) = struct.unpack("<Q", _exact(file, 8, fail))
        if length > _MAX_HEADER:
            raise fail(f"header of {length} bytes exceeds {_MAX_HEADER}.")
        try:
            header = json.loads(_exact(file, length, fail))
            stored = [(shape, dtype) for shape, dtype in header["spec"]]
        except (ValueError, KeyError, TypeError):
            raise fail("unreadable header.") from None
        expected = [(_dims(s.shape), s.dtype.name) for s in spec_leaves]
        if [(s if s is None else list(s), d) for s, d in stored] != expected:
            raise fail(f"it holds elements of spec {stored}, but the dataset's is {expected}.")
        dtypes = [np.dtype(d) for _, d in expected]
        count = 0
        while True:
            mark = file.read(len(_END))
            if mark == _END:
                (declared,) = struct.unpack("<Q", _exact(file, 8, fail))
                if declared != count:
                    raise fail(f"it declares {declared} elements but holds {count}.")
                return
            file.seek(-len(mark), os.SEEK_CUR)
            yield [Tensor(_read_array(file, size, dtype, fail)) for dtype in dtypes]
            count += 1


def _exact(file, count, fail):
    data = file.read(count)
    if len(data) != count:
        raise fail("truncated.")
    return data


def _read_array(file, size, expected_dtype, fail):
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
        else:
            raise ValueError(f"npy version {version}")
    except ValueError as error:
        raise fail(f"corrupt array record ({error}).") from None
    if dtype != expected_dtype or dtype.kind not in "biuf":
        raise fail(f"array of dtype {dtype}, expected {expected_dtype}.")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < 0 or nbytes > size - file.tell():
        raise fail(f"array of shape {shape} is larger than the rest of the file.")
    data = np.frombuffer(_exact(file, nbytes, fail), dtype=dtype)
    return data.reshape(shape, order="F" if fortran else "C")


def attach(cls):
    cls.cache = cache
