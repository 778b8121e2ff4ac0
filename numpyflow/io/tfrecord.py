"""TFRecord files: `tf.io.TFRecordWriter`, `tf.io.TFRecordOptions` and a record reader.

A TFRecord file is a sequence of records, each framed as: the data length (uint64, little
endian), the masked CRC32C of those 8 bytes (uint32), the data, the masked CRC32C of the
data (uint32). The whole stream may be compressed with GZIP or ZLIB. Files written here read
in TensorFlow and the other way round.

Checksums use the `google-crc32c` package (`pip install numpyflow[tfrecord]`), imported on
first use. A truncated file or a checksum mismatch raises `tf.errors.DataLossError` naming
the file and the record's offset (in the decompressed stream for compressed files).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> path = os.path.join(tempfile.mkdtemp(), "data.tfrecord")
    >>> with tf.io.TFRecordWriter(path, options="GZIP") as writer:
    ...     writer.write(b"first")
    ...     writer.write(b"second")
    >>> list(tf.data.TFRecordDataset(path, compression_type="GZIP"))
    [b'first', b'second']
"""

import os
import struct
import zlib

from numpyflow.framework.errors import DataLossError
from numpyflow.framework.file_safety import atomic_path

__all__ = ["TFRecordOptions", "TFRecordWriter", "TFRecordCompressionType", "tf_record_iterator",
           "read_records"]

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8
_CHUNK = 1 << 20
_WINDOW_BITS = {"ZLIB": zlib.MAX_WBITS, "GZIP": zlib.MAX_WBITS | 16}


class TFRecordCompressionType:
    """The compression types of a TFRecord file, as TF's enum names them."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


_BY_ENUM = {TFRecordCompressionType.NONE: "", TFRecordCompressionType.ZLIB: "ZLIB",
            TFRecordCompressionType.GZIP: "GZIP"}


def _crc32c(data):
    try:
        import google_crc32c
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("TFRecord files need the 'google-crc32c' package: "
                          "pip install numpyflow[tfrecord]") from error
    return google_crc32c.value(bytes(data))


def masked_crc32c(data):
    """The CRC32C of `data`, masked as TFRecord files store it."""
    crc = _crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _compression_name(value, where):
    if value is None:
        return ""
    if isinstance(value, TFRecordOptions):
        return value.compression_type
    if isinstance(value, int) and not isinstance(value, bool) and value in _BY_ENUM:
        return _BY_ENUM[value]
    if isinstance(value, str) and value.upper() in ("", "ZLIB", "GZIP"):
        return value.upper()
    raise ValueError(f"{where}: unsupported compression type. Received: {value!r}. "
                     "Expected 'GZIP', 'ZLIB', '' or None.")


class TFRecordOptions:
    """Options for reading and writing TFRecord files.

    Args:
        compression_type: "GZIP", "ZLIB", or "" / None for no compression.
        flush_mode, input_buffer_size, output_buffer_size, window_bits, compression_method,
            mem_level, compression_strategy: zlib tuning knobs of TF; not supported here
            (NotImplementedError if set).
        compression_level: zlib compression level 0-9 (default: zlib's default).

    Example:
        >>> TFRecordOptions("GZIP").compression_type
        'GZIP'
    """

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None):
        unsupported = dict(flush_mode=flush_mode, input_buffer_size=input_buffer_size,
                           output_buffer_size=output_buffer_size, window_bits=window_bits,
                           compression_method=compression_method, mem_level=mem_level,
                           compression_strategy=compression_strategy)
        for name, value in unsupported.items():
            if value is not None:
                raise NotImplementedError(
                    f"TFRecordOptions: {name}={value!r} is not supported by numpyflow.")
        if compression_level is not None and compression_level not in range(-1, 10):
            raise ValueError("TFRecordOptions: compression_level must be an int in [-1, 9]. "
                             f"Received: compression_level={compression_level!r}")
        self.compression_type = _compression_name(compression_type, "TFRecordOptions")
        self.compression_level = compression_level

    @classmethod
    def get_compression_type_string(cls, options):
        """The compression type of `options` (a TFRecordOptions, a string or None) as a string."""
        return _compression_name(options, "TFRecordOptions.get_compression_type_string")

    def __repr__(self):
        return f"TFRecordOptions(compression_type={self.compression_type!r})"


def _as_options(options):
    if isinstance(options, TFRecordOptions):
        return options
    return TFRecordOptions(compression_type=options)


class TFRecordWriter:
    """Writes records (bytes) to a TFRecord file.

    The file appears at `path` complete when the writer is closed (by `close()`, at the end of
    a `with` block, or when the writer is garbage collected); until then records go to a
    temporary file beside it, so a reader or a crash never sees a torn file. If the `with`
    block raises, the new records are discarded and a previous file at `path` is kept.

    Args:
        path: The file to write.
        options: A `TFRecordOptions`, or a compression type string ("GZIP", "ZLIB", "").

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
        >>> with TFRecordWriter(path) as writer:
        ...     writer.write(b"abc")
        >>> os.path.getsize(path)  # 12-byte header + 3 bytes + 4-byte footer
        19
    """

    def __init__(self, path, options=None):
        self._options = _as_options(options)
        self._path = os.fspath(path)
        self._atomic = atomic_path(self._path)
        self._file = open(self._atomic.__enter__(), "wb")
        kind = self._options.compression_type
        if kind:
            level = self._options.compression_level
            self._compressor = zlib.compressobj(-1 if level is None else level, zlib.DEFLATED,
                                                _WINDOW_BITS[kind])
        else:
            self._compressor = None

    def _emit(self, data):
        if self._compressor is not None:
            data = self._compressor.compress(data)
        if data:
            self._file.write(data)

    def write(self, record):
        """Appends one record.

        Args:
            record: bytes (a `str` is encoded as UTF-8, as TF does).
        """
        if self._file is None:
            raise ValueError(f"TFRecordWriter({self._path!r}): write() on a closed writer.")
        if isinstance(record, str):
            record = record.encode("utf-8")
        if hasattr(record, "numpy"):
            record = record.numpy()
        if not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError("TFRecordWriter.write expects bytes. "
                            f"Received: {type(record).__name__}")
        record = bytes(record)
        length = struct.pack("<Q", len(record))
        self._emit(length + struct.pack("<I", masked_crc32c(length)))
        self._emit(record)
        self._emit(_FOOTER.pack(masked_crc32c(record)))

    def flush(self):
        """Flushes buffered records to the temporary file (the file appears on `close`)."""
        if self._file is None:
            return
        if self._compressor is not None:
            self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self):
        """Finishes the file and moves it into place at `path`."""
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            if self._compressor is not None:
                file.write(self._compressor.flush(zlib.Z_FINISH))
            file.close()
        except BaseException as error:
            file.close()
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._atomic.__exit__(None, None, None)

    def _discard(self, error):
        if self._file is None:
            return
        file, self._file = self._file, None
        file.close()
        try:
            self._atomic.__exit__(type(error), error, error.__traceback__)
        except BaseException:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc is None:
            self.close()
        else:
            self._discard(exc)
        return False

    def __del__(self):
        if getattr(self, "_file", None) is not None:
            try:
                self.close()
            except Exception:  # noqa: BLE001 - nothing to report to at collection time
                pass


class _DecompressingReader:
    """A file object's bytes, inflated (zlib or gzip, multi-member) in bounded chunks."""

    def __init__(self, file, kind, path):
        self._file, self._kind, self._path = file, kind, path
        self._inflater = zlib.decompressobj(_WINDOW_BITS[kind])
        self._pending = b""
        self._seen_input = False

    def read(self, size):
        out = []
        while size > 0:
            if not self._pending:
                self._pending = self._inflate(size)
                if not self._pending:
                    break
            piece, self._pending = self._pending[:size], self._pending[size:]
            out.append(piece)
            size -= len(piece)
        return b"".join(out)

    def _inflate(self, size):
        limit = min(size, _CHUNK)
        try:
            while True:
                data = self._inflater.unconsumed_tail
                if not data:
                    data = self._file.read(_CHUNK)
                    if not data:
                        if not self._inflater.eof:
                            tail = self._inflater.flush()
                            if tail:
                                return tail
                            if self._seen_input:
                                raise DataLossError(
                                    None, None, f"{self._path}: the {self._kind} stream is "
                                    "truncated (it ends before its end marker).")
                        return b""
                    self._seen_input = True
                out = self._inflater.decompress(data, limit)
                if self._inflater.eof and self._inflater.unused_data:
                    # Concatenated gzip members continue the stream.
                    rest = self._inflater.unused_data
                    self._inflater = zlib.decompressobj(_WINDOW_BITS[self._kind])
                    out += self._inflater.decompress(rest, limit)
                if out:
                    return out
        except zlib.error as error:
            raise DataLossError(None, None, f"{self._path}: corrupt {self._kind} stream "
                                f"({error}).") from None


def _read_exact(stream, size):
    chunks, remaining = [], size
    while remaining > 0:
        piece = stream.read(min(remaining, _CHUNK))
        if not piece:
            break
        chunks.append(piece)
        remaining -= len(piece)
    return b"".join(chunks)


def read_records(path, compression_type=None, buffer_size=None):
    """Yields the records of one TFRecord file, checking every checksum.

    Args:
        path: The file to read.
        compression_type: "GZIP", "ZLIB", "" or None, or a `TFRecordOptions`.
        buffer_size: Bytes of read buffering (None: Python's default; 0: unbuffered).

    Yields:
        bytes: Each record's data.

    Raises:
        tf.errors.DataLossError: The file is truncated, or a checksum does not match (the
            message names the file and the record's offset).
        tf.errors.NotFoundError: There is no file at `path`.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
        >>> with TFRecordWriter(path) as writer:
        ...     writer.write(b"abc")
        >>> list(read_records(path))
        [b'abc']
    """
    from numpyflow.framework.errors import NotFoundError

    kind = _compression_name(compression_type, "read_records")
    path = os.fspath(path)
    try:
        buffering = -1 if buffer_size is None else (buffer_size and max(buffer_size, 2))
        file = open(path, "rb", buffering=buffering)
    except FileNotFoundError:
        raise NotFoundError(None, None, f"{path}; No such file or directory") from None
    with file:
        stream = _DecompressingReader(file, kind, path) if kind else file
        offset = 0
        where = " (offset in the decompressed stream)" if kind else ""
        while True:
            header = _read_exact(stream, _HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                raise DataLossError(None, None, f"{path}: truncated record at offset {offset}"
                                    f"{where}: {len(header)} of the 12 header bytes.")
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                raise DataLossError(None, None, f"{path}: corrupted record at offset {offset}"
                                    f"{where}: the length's checksum does not match.")
            data = _read_exact(stream, length)
            footer = _read_exact(stream, _FOOTER.size)
            if len(data) < length or len(footer) < _FOOTER.size:
                raise DataLossError(None, None, f"{path}: truncated record at offset {offset}"
                                    f"{where}: the record holds {length} bytes but the file "
                                    "ends before them.")
            if masked_crc32c(data) != _FOOTER.unpack(footer)[0]:
                raise DataLossError(None, None, f"{path}: corrupted record at offset {offset}"
                                    f"{where}: the data's checksum does not match.")
            offset += _HEADER.size + length + _FOOTER.size
            yield data


def tf_record_iterator(path, options=None):
    """Yields the records of a TFRecord file (`tf.compat.v1.io.tf_record_iterator`).

    Args:
        path: The file to read.
        options: A `TFRecordOptions` or a compression type string.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
        >>> with TFRecordWriter(path, "ZLIB") as writer:
        ...     writer.write(b"abc")
        >>> list(tf_record_iterator(path, "ZLIB"))
        [b'abc']
    """
    return read_records(path, options)
