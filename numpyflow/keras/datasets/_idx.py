"""Reader for the gzipped IDX files that (Fashion-)MNIST ship as.

An IDX file is: two zero bytes, a type code, the number of dimensions, one
big-endian uint32 per dimension, then the values in C order.
"""

import gzip
import os
import struct
import zlib

import numpy as np

from numpyflow.framework.file_safety import (
    DecompressedSizeError, UnsafeFileError, bounded_gunzip)

# IDX type code -> dtype of the stored values (multi-byte types are big-endian).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# Deflate's largest possible expansion is about 1032:1; the slack covers tiny files.
_MAX_DEFLATE_RATIO = 1040
_GZIP_SLACK_BYTES = 1 << 16


class IDXFormatError(ValueError):
    """A file is not a complete, well-formed gzipped IDX file."""


def read_idx_gz(path, remedy="Delete it and try again."):
    """Reads a gzipped IDX file into a NumPy array.

    Args:
        path: Path of the `.gz` file.
        remedy: Sentence appended to errors, telling the user how to recover.

    Returns:
        An array with the file's shape and its native-endian dtype.

    Memory is bounded by the size the header declares: a stream that inflates
    past it (a gzip bomb) is refused as soon as it does.

    Raises:
        IDXFormatError: The file is truncated, corrupt, not IDX, or inflates
            to more than its header declares; the message names the file.

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

    header, shape, dtype = _read_header(path, fail)
    expected = len(header) + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    # Deflate cannot expand data more than ~1032:1, so a header promising more
    # than that from this file's size is a lie; refuse it before inflating.
    compressed = os.path.getsize(path)
    if expected > _MAX_DEFLATE_RATIO * compressed + _GZIP_SLACK_BYTES:
        raise fail(
            f"header promises shape {shape} ({expected} bytes in all), more "
            f"than {compressed} compressed bytes can hold"
        )
    try:
        data = bounded_gunzip(path, max_bytes=expected)
    except DecompressedSizeError:
        raise fail(
            f"header promises shape {shape} ({expected} bytes in all), but it "
            f"holds more bytes than that"
        ) from None
    except UnsafeFileError as e:
        raise fail(f"cannot decompress it ({e.__cause__ or e})") from e
    if len(data) != expected:
        raise fail(
            f"header promises shape {shape} ({expected} bytes in all), "
            f"but it holds {len(data)} bytes"
        )
    values = np.frombuffer(data, dtype=dtype, offset=len(header)).reshape(shape)
    # Convert big-endian storage to the native byte order; copy() also makes
    # the array writable (frombuffer over bytes is read-only).
    return values.astype(dtype.newbyteorder("="), copy=True)


def _read_header(path, fail):
    """Reads only the IDX header (at most 4 + 4 * 255 bytes) from the gzip stream.

    Returns:
        (header bytes, shape tuple, dtype of the stored values).
    """
    try:
        with gzip.open(path, "rb") as f:
            header = f.read(4)
            if len(header) == 4 and header[3]:
                header += f.read(4 * header[3])
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise fail(f"cannot decompress it ({e})") from e
    if len(header) < 4:
        raise fail(f"only {len(header)} bytes after decompression")
    zero1, zero2, type_code, ndim = struct.unpack(">BBBB", header[:4])
    if zero1 != 0 or zero2 != 0 or type_code not in _IDX_DTYPES:
        raise fail(f"bad magic number 0x{header[:4].hex()}")
    header_size = 4 + 4 * ndim
    if len(header) < header_size:
        raise fail(f"header needs {header_size} bytes, file has {len(header)}")
    shape = struct.unpack(f">{ndim}I", header[4:header_size])
    return header, shape, _IDX_DTYPES[type_code]
