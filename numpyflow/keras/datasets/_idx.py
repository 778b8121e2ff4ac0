"""Reader for the gzipped IDX files that (Fashion-)MNIST ship as.

An IDX file is: two zero bytes, a type code, the number of dimensions, one
big-endian uint32 per dimension, then the values in C order.
"""

import gzip
import struct
import zlib

import numpy as np

# IDX type code -> dtype of the stored values (multi-byte types are big-endian).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """A file is not a complete, well-formed gzipped IDX file."""


def read_idx_gz(path, remedy="Delete it and try again."):
    """Reads a gzipped IDX file into a NumPy array.

    Args:
        path: Path of the `.gz` file.
        remedy: Sentence appended to errors, telling the user how to recover.

    Returns:
        An array with the file's shape and its native-endian dtype.

    Raises:
        IDXFormatError: The file is truncated, corrupt or not IDX; the message
            names the file.

    Example:
        >>> labels = read_idx_gz("train-labels-idx1-ubyte.gz")  # doctest: +SKIP
        >>> labels.shape, labels.dtype  # doctest: +SKIP
        ((60000,), dtype('uint8'))
    """

    def fail(problem):
        return IDXFormatError(
            f"{path} is not a valid gzipped IDX file: {problem}. It is "
            f"probably truncated or corrupt. {remedy}"
        )

    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise fail(f"cannot decompress it ({e})") from e

    if len(data) < 4:
        raise fail(f"only {len(data)} bytes after decompression")
    zero1, zero2, type_code, ndim = struct.unpack(">BBBB", data[:4])
    if zero1 != 0 or zero2 != 0 or type_code not in _IDX_DTYPES:
        raise fail(f"bad magic number 0x{data[:4].hex()}")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise fail(f"header needs {header_size} bytes, file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = _IDX_DTYPES[type_code]
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise fail(
            f"header promises shape {shape} ({expected} bytes in all), "
            f"but it holds {len(data)} bytes"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    # Convert big-endian storage to the native byte order; copy() also makes
    # the array writable (frombuffer over bytes is read-only).
    return values.astype(dtype.newbyteorder("="), copy=True)
