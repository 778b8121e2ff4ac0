"""Safe file primitives: atomic writes, bounded zip/HDF5/gzip reads.

Used by `tf.train.Checkpoint`, the Keras `.keras`/`.h5` files and the dataset caches. It
imports nothing from numpyflow, so every layer can use it. Every file a user loads may be
hostile. The readers here check a file before any
large read: zip members (paths, links, sizes, compression ratio), HDF5 objects (external
links, external storage, virtual datasets, declared sizes) and gzip streams (a size bound),
and raise `UnsafeFileError` naming the file and the reason. Nothing here runs code from a
file. h5py is imported only inside the functions that open HDF5 files.

    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("config.json", "{}")
    >>> read_zip(buffer)
    {'config.json': b'{}'}
"""

import contextlib
import io
import os
import re
import stat
import zlib

# gzip, tempfile and zipfile are imported where a file is read or written: together with
# what they import (shutil, bz2, lzma, random) they are ~1.4 MB of `import numpyflow`'s
# memory, which is benchmarked.

import numpy as np

__all__ = ["UnsafeFileError", "DecompressedSizeError", "atomic_path", "read_zip", "open_h5",
           "read_dataset", "read_attribute", "bounded_gunzip"]

_CHUNK_BYTES = 1 << 20
_MAX_RATIO = 1000
_RATIO_EXEMPT_BYTES = 1 << 20
_MAX_H5_OBJECTS = 100_000  # links; a large legacy .h5 model has a few thousand
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeFileError(ValueError):
    """A file refused as hostile or corrupt; the message names the file and the reason.

    Example:
        >>> raise UnsafeFileError("m.keras: member '../x' is refused")
        Traceback (most recent call last):
        ...
        numpyflow.framework.file_safety.UnsafeFileError: m.keras: member '../x' is refused
    """


class DecompressedSizeError(UnsafeFileError):
    """Compressed data that expands beyond the size allowed for it (raised by `bounded_gunzip`)."""


def _describe(source):
    """A name for `source` in error messages: its path, or what kind of buffer it is."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return os.fspath(name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes in memory>"
    return f"<{type(source).__name__}>"


# ----------------------------------------------------------------------------- atomic writes


def _current_umask():
    """The process umask, read from /proc when possible (os.umask alone must set it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory):
    """Makes a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; on success the file replaces `path` at once.

    On normal exit the temporary file is fsynced and `os.replace`d onto `path` (and the
    directory fsynced); on an exception it is deleted and `path` is untouched. So a save
    killed at any moment leaves the old complete file or the new complete one, never a torn
    one (a kill may leave a stray `.<name>.*.tmp` file beside it). The new file gets the old
    file's permission bits, or the umask's default for a new file. If `path` is a symlink,
    the link itself is replaced by the new file.

    Args:
        path: The destination file (str or path-like). Its directory must exist.

    Yields:
        str: The temporary path to write the whole file to.

    Raises:
        FileNotFoundError: The directory of `path` does not exist.
        IsADirectoryError: `path` is a directory.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> with atomic_path(target) as tmp:
        ...     with open(tmp, "wb") as f:
        ...         _ = f.write(b"complete file")
        >>> open(target, "rb").read()
        b'complete file'
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Cannot save to {path!r}: the directory {directory!r} does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to {path!r}: it is a directory, expected a file.")
    import tempfile
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = 0o666 & ~_current_umask()
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


# ----------------------------------------------------------------------------- zip archives


def _check_member_name(name, describe):
    """Refuses member names that could leave an extraction directory or alias another."""
    if not name or "\x00" in name:
        raise UnsafeFileError(f"{describe}: a member has an empty or NUL-containing name {name!r}.")
    if "\\" in name:
        raise UnsafeFileError(f"{describe}: member {name!r} contains a backslash; "
                              "expected '/'-separated relative names.")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeFileError(f"{describe}: member {name!r} is an absolute path; "
                              "expected a name relative to the archive.")
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeFileError(f"{describe}: member {name!r} has a '..', '.' or empty path "
                              "component (it could point outside the archive).")


def _read_member(archive, info, describe):
    """Reads one member in chunks, never more than its declared size + 1 bytes."""
    limit = info.file_size + 1
    chunks, total = [], 0
    with archive.open(info) as member:
        while total < limit:
            chunk = member.read(min(_CHUNK_BYTES, limit - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    if total != info.file_size:
        raise UnsafeFileError(
            f"{describe}: member {info.filename!r} declares {info.file_size} bytes but holds "
            f"{'more' if total > info.file_size else total}; the archive is corrupt or hostile.")
    return b"".join(chunks)


def read_zip(path_or_file, max_member_bytes=2**31, max_total_bytes=2**33):
    """Every member of a zip archive, read with bounds.

    Refuses (with `UnsafeFileError`) absolute member names, names with `..` components or
    backslashes, symlink or device members (unix mode in `external_attr`), duplicate names,
    encrypted members, declared sizes over the limits, decompressed data beyond the declared
    size (read in chunks, stopping at declared + 1 bytes), and a compression ratio beyond
    1000:1 on a member of more than 1 MiB. Directory entries are checked and then skipped.

    Args:
        path_or_file: A path, a binary file object, or the archive's bytes.
        max_member_bytes: Largest uncompressed size allowed for one member.
        max_total_bytes: Largest uncompressed size allowed for all members together.

    Returns:
        dict: Member name -> its bytes, in archive order.

    Raises:
        UnsafeFileError: The archive is corrupt or hostile; the message names it and why.
        FileNotFoundError: There is no file at the path.

    Example:
        >>> import io, zipfile
        >>> buffer = io.BytesIO()
        >>> with zipfile.ZipFile(buffer, "w") as archive:
        ...     archive.writestr("metadata.json", b"{}")
        >>> read_zip(buffer.getvalue())
        {'metadata.json': b'{}'}
    """
    describe = _describe(path_or_file)
    if isinstance(path_or_file, (bytes, bytearray, memoryview)):
        path_or_file = io.BytesIO(bytes(path_or_file))
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "rb") as f:  # FileNotFoundError/PermissionError as they are
            return _read_zip_file(f, describe, max_member_bytes, max_total_bytes)
    return _read_zip_file(path_or_file, describe, max_member_bytes, max_total_bytes)


def _read_zip_file(file, describe, max_member_bytes, max_total_bytes):
    import zipfile
    try:
        with zipfile.ZipFile(file, "r") as archive:
            infos = archive.infolist()
            seen, declared_total = set(), 0
            for info in infos:
                name = info.filename
                _check_member_name(name, describe)
                if name in seen:
                    raise UnsafeFileError(f"{describe}: member {name!r} appears more than once.")
                seen.add(name)
                kind = stat.S_IFMT(info.external_attr >> 16)
                if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                    what = "a symlink" if kind == stat.S_IFLNK else "not a regular file"
                    raise UnsafeFileError(f"{describe}: member {name!r} is {what} "
                                          f"(mode 0o{info.external_attr >> 16:o}); "
                                          "expected regular files only.")
                if info.flag_bits & 0x1:
                    raise UnsafeFileError(f"{describe}: member {name!r} is encrypted.")
                if info.file_size > max_member_bytes:
                    raise UnsafeFileError(
                        f"{describe}: member {name!r} declares {info.file_size} bytes, more "
                        f"than the limit of {max_member_bytes} (max_member_bytes).")
                declared_total += info.file_size
                if declared_total > max_total_bytes:
                    raise UnsafeFileError(
                        f"{describe}: members declare more than {max_total_bytes} bytes in all "
                        "(max_total_bytes).")
                if (info.file_size > _RATIO_EXEMPT_BYTES
                        and info.file_size > _MAX_RATIO * max(info.compress_size, 1)):
                    raise UnsafeFileError(
                        f"{describe}: member {name!r} expands {info.compress_size} bytes to "
                        f"{info.file_size}, a ratio over {_MAX_RATIO}:1 (a zip bomb).")
            members = {}
            for info in infos:
                if info.is_dir():
                    if info.file_size:
                        raise UnsafeFileError(
                            f"{describe}: directory member {info.filename!r} holds data.")
                    continue
                members[info.filename] = _read_member(archive, info, describe)
            return members
    except UnsafeFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
            NotImplementedError, RuntimeError, ValueError, OSError) as e:
        raise UnsafeFileError(f"{describe} is not a readable zip archive: {e}") from e


# ----------------------------------------------------------------------------- HDF5


def _source_size(source):
    """Size in bytes of a path or a seekable binary file."""
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    position = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(position)
    return size


def _declared_bytes(shape, dtype):
    count = 1
    for dim in shape or ():
        count *= int(dim)
    return count * dtype.itemsize


def open_h5(source, max_dataset_bytes=None):
    """Opens an HDF5 file read-only after checking every object in it.

    The check walks the file iteratively (hard-link cycles are visited once) and refuses
    external links and other non-HDF5 link types, soft links that dangle or leave the file,
    datasets with external storage or virtual (mapped) layouts, and datasets, chunks or
    attributes whose declared size (shape x itemsize) exceeds `max_dataset_bytes`, so no
    later read can allocate more than that.

    Args:
        source: A path, the file's bytes, or a seekable binary file object (`io.BytesIO`).
        max_dataset_bytes: Largest declared size of one dataset. Default: 64 x the file
            size + 1 MiB (a weights file stores its data; compression rarely beats 64:1).

    Returns:
        h5py.File: The open file, read-only; the caller closes it (use it in `with`).

    Raises:
        UnsafeFileError: The file is not HDF5, is corrupt, or is hostile; the message names
            the file, the object and the reason.
        FileNotFoundError: There is no file at the path.

    Example:
        >>> import io, h5py, numpy as np
        >>> buffer = io.BytesIO()
        >>> with h5py.File(buffer, "w") as f:
        ...     _ = f.create_dataset("kernel", data=np.ones((2, 3), "float32"))
        >>> with open_h5(buffer) as f:
        ...     read_dataset(f["kernel"]).shape
        (2, 3)
    """
    import h5py

    describe = _describe(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb"):  # FileNotFoundError/PermissionError as they are
            pass
    size = _source_size(source)
    if max_dataset_bytes is None:
        max_dataset_bytes = 64 * size + (1 << 20)
    try:
        h5 = h5py.File(source, "r")
    except (OSError, ValueError) as e:
        raise UnsafeFileError(f"{describe} is not a readable HDF5 file: {e}") from e
    try:
        _check_h5(h5, describe, max_dataset_bytes)
    except UnsafeFileError:
        h5.close()
        raise
    except Exception as e:  # h5py raises many types on corrupt metadata
        h5.close()
        raise UnsafeFileError(f"{describe}: cannot read the HDF5 structure: {e}") from e
    return h5


def _check_h5(h5, describe, max_bytes):
    """Walks every object reachable from the root with a stack (no recursion)."""
    import h5py

    visited = {h5.id}
    stack = [h5]
    count = 0
    while stack:
        group = stack.pop()
        _check_attributes(group, describe, max_bytes)
        for name in group.keys():
            path = f"{group.name.rstrip('/')}/{name}"
            count += 1
            if count > _MAX_H5_OBJECTS:
                raise UnsafeFileError(f"{describe}: more than {_MAX_H5_OBJECTS} HDF5 objects.")
            link_type = group.id.links.get_info(name.encode("utf-8")).type
            if link_type == h5py.h5l.TYPE_SOFT:
                _check_soft_link(h5, group, name, path, describe)
                continue  # its target is reached through its hard links
            if link_type != h5py.h5l.TYPE_HARD:
                what = ("an external link to "
                        f"{group.id.links.get_val(name.encode('utf-8'))!r}"
                        if link_type == h5py.h5l.TYPE_EXTERNAL
                        else f"a user-defined link (type {link_type})")
                raise UnsafeFileError(f"{describe}: {path!r} is {what}; only hard links and "
                                      "soft links within the file are allowed, other links "
                                      "are refused.")
            obj = group.get(name)
            if obj is None:
                raise UnsafeFileError(f"{describe}: {path!r} cannot be opened.")
            if obj.id in visited:
                continue
            visited.add(obj.id)
            if isinstance(obj, h5py.Group):
                stack.append(obj)
            elif isinstance(obj, h5py.Dataset):
                _check_dataset(obj, path, describe, max_bytes)
                _check_attributes(obj, describe, max_bytes)
            elif isinstance(obj, h5py.Datatype):
                _check_attributes(obj, describe, max_bytes)
            else:
                raise UnsafeFileError(f"{describe}: {path!r} is an unknown HDF5 object "
                                      f"({type(obj).__name__}).")


def _check_soft_link(h5, group, name, path, describe):
    target = group.id.links.get_val(name.encode("utf-8"))
    target = target.decode("utf-8", "replace") if isinstance(target, bytes) else str(target)
    try:
        obj = group.get(name)
    except Exception:  # a cycle of soft links, or through a refused link
        obj = None
    if obj is None:
        raise UnsafeFileError(f"{describe}: soft link {path!r} -> {target!r} does not resolve "
                              "to an object in this file.")
    if obj.file.id != h5.id:
        raise UnsafeFileError(f"{describe}: soft link {path!r} -> {target!r} leaves the file.")


def _check_dataset(ds, path, describe, max_bytes):
    if ds.external:
        files = sorted({entry[0] for entry in ds.external})
        raise UnsafeFileError(f"{describe}: dataset {path!r} stores its data in external "
                              f"file(s) {files}, outside the file; refused.")
    if ds.is_virtual:
        raise UnsafeFileError(f"{describe}: dataset {path!r} is a virtual dataset mapping "
                              "other files; refused.")
    declared = _declared_bytes(ds.shape, ds.dtype)
    if declared > max_bytes:
        raise UnsafeFileError(
            f"{describe}: dataset {path!r} declares shape {ds.shape} of {ds.dtype} "
            f"({declared} bytes), more than the limit of {max_bytes} bytes for this file.")
    if ds.chunks is not None:
        chunk = _declared_bytes(ds.chunks, ds.dtype)
        if chunk > max_bytes:
            raise UnsafeFileError(
                f"{describe}: dataset {path!r} declares chunks {ds.chunks} ({chunk} bytes), "
                f"more than the limit of {max_bytes} bytes for this file.")


def _check_attributes(obj, describe, max_bytes):
    for name in obj.attrs.keys():
        attr = obj.attrs.get_id(name)
        declared = _declared_bytes(attr.shape, attr.dtype)
        if declared > max_bytes:
            raise UnsafeFileError(
                f"{describe}: attribute {name!r} of {obj.name!r} declares shape {attr.shape} "
                f"({declared} bytes), more than the limit of {max_bytes} bytes.")


def _file_label(obj):
    """The file name of an h5py object; buffers (named `<_io.BytesIO ...>` by h5py) get a phrase."""
    name = obj.file.filename
    return "an in-memory HDF5 file" if name.startswith("<") else name


def _refuse_dtype(dtype, what):
    import h5py

    if (dtype.hasobject or h5py.check_vlen_dtype(dtype) is not None
            or h5py.check_ref_dtype(dtype) is not None or dtype.kind not in "biufcS"):
        raise UnsafeFileError(f"{what} has dtype {dtype}; expected a numeric or fixed-size "
                              "bytes dtype.")


def read_dataset(dataset):
    """The values of a dataset (from a file opened with `open_h5`) as a new NumPy array.

    Args:
        dataset: An `h5py.Dataset`.

    Returns:
        numpy.ndarray: A fresh array (0-d for a scalar dataset).

    Raises:
        UnsafeFileError: The dtype is object/variable-length/reference, the dataset has no
            dataspace, or its data cannot be read (corrupt file, missing filter).

    Example:
        >>> import io, h5py
        >>> buffer = io.BytesIO()
        >>> with h5py.File(buffer, "w") as f:
        ...     _ = f.create_dataset("bias", data=[1.0, 2.0])
        >>> with open_h5(buffer) as f:
        ...     read_dataset(f["bias"])
        array([1., 2.])
    """
    what = f"{_file_label(dataset)}: dataset {dataset.name!r}"
    _refuse_dtype(dataset.dtype, what)
    if dataset.shape is None:
        raise UnsafeFileError(f"{what} has an empty dataspace (no values).")
    try:
        values = dataset[()]
    except Exception as e:
        raise UnsafeFileError(f"{what} cannot be read: {e}") from e
    return np.array(values, copy=True)


def read_attribute(obj, name):
    """An attribute of an HDF5 object as a NumPy value, with strings decoded to `str`.

    Variable-length strings (as tf.keras 2.x writes `model_config`) are allowed here; other
    object/variable-length dtypes are refused.

    Args:
        obj: An h5py Group, Dataset or File from `open_h5`.
        name: The attribute's name.

    Returns:
        A `str`, a NumPy array (arrays of strings become arrays of `str`), or a NumPy scalar.

    Raises:
        KeyError: The attribute does not exist.
        UnsafeFileError: Its dtype is not numeric or string, or it cannot be read.

    Example:
        >>> import io, h5py
        >>> buffer = io.BytesIO()
        >>> with h5py.File(buffer, "w") as f:
        ...     f.attrs["layer_names"] = [b"dense", b"dense_1"]
        >>> with open_h5(buffer) as f:
        ...     read_attribute(f, "layer_names").tolist()
        ['dense', 'dense_1']
    """
    import h5py

    if name not in obj.attrs:
        raise KeyError(f"{_file_label(obj)}: {obj.name!r} has no attribute {name!r}.")
    dtype = obj.attrs.get_id(name).dtype
    what = f"{_file_label(obj)}: attribute {name!r} of {obj.name!r}"
    if h5py.check_string_dtype(dtype) is None:
        _refuse_dtype(dtype, what)
    try:
        value = obj.attrs[name]
    except Exception as e:
        raise UnsafeFileError(f"{what} cannot be read: {e}") from e
    return _decode_strings(value)


def _decode_strings(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and (value.dtype.kind == "S" or value.dtype == object):
        return np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v)
                         for v in value.ravel()], dtype=str).reshape(value.shape)
    return value


# ----------------------------------------------------------------------------- gzip


def bounded_gunzip(data_or_path, max_bytes):
    """Decompresses gzip data, refusing it as soon as it exceeds `max_bytes`.

    Memory stays within `max_bytes` plus one chunk, whatever the stream holds: a gzip bomb
    is refused after reading `max_bytes + 1` bytes, not after inflating all of it.

    Args:
        data_or_path: The compressed bytes, or a path to a `.gz` file.
        max_bytes: Largest decompressed size accepted.

    Returns:
        bytes: The decompressed data.

    Raises:
        DecompressedSizeError: The data decompresses to more than `max_bytes` (a subclass
            of `UnsafeFileError`); the message names the file.
        UnsafeFileError: The data is not valid (truncated, corrupt) gzip.
        FileNotFoundError: There is no file at the path.

    Example:
        >>> import gzip
        >>> bounded_gunzip(gzip.compress(b"abc"), max_bytes=10)
        b'abc'
    """
    describe = _describe(data_or_path)
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        raw = io.BytesIO(bytes(data_or_path))
    else:
        raw = open(data_or_path, "rb")  # FileNotFoundError/PermissionError as they are
    import gzip
    chunks, total = [], 0
    try:
        with raw, gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            while True:
                chunk = stream.read(min(_CHUNK_BYTES, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise DecompressedSizeError(
                        f"{describe} decompresses to more than {max_bytes} bytes, the most "
                        "expected of it.")
    except UnsafeFileError:
        raise
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise UnsafeFileError(f"{describe} is not valid gzip data: {e}") from e
    return b"".join(chunks)
