"""`tf.data.TFRecordDataset`: the records of one or more TFRecord files.

Each element is a record as a scalar `tf.string` Tensor, as in TF;
`tf.io.parse_single_example` and `tf.io.parse_tensor` accept it directly, e.g. in `map`.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
    >>> with tf.io.TFRecordWriter(path) as writer:
    ...     writer.write(b"a")
    ...     writer.write(b"b")
    >>> list(tf.data.TFRecordDataset(path).as_numpy_iterator())
    [b'a', b'b']
"""

import os

import numpy as np

from numpyflow.data.dataset import AUTOTUNE, UNKNOWN_CARDINALITY, Dataset
from numpyflow.data.errors import ElementError
from numpyflow.framework import dtypes
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_spec import TensorSpec
from numpyflow.io.tfrecord import _compression_name, read_records

__all__ = ["TFRecordDataset"]




def _file_names(filenames):
    """The file names as a list of str; a Dataset of names is read when iterated."""
    if isinstance(filenames, Dataset):
        return [_name(item) for item in filenames]
    if isinstance(filenames, (str, bytes, os.PathLike)):
        return [_name(filenames)]
    if hasattr(filenames, "numpy"):
        filenames = filenames.numpy()
    try:
        names = list(filenames)
    except TypeError:
        raise TypeError(f"TFRecordDataset: `filenames` must be a file name, a list of file "
                        f"names or a Dataset of them. Received: {filenames!r}") from None
    return [_name(name) for name in names]


def _name(item):
    if hasattr(item, "numpy"):
        item = item.numpy()
    if hasattr(item, "item") and not isinstance(item, (str, bytes)):
        item = item.item()
    if isinstance(item, (str, bytes, os.PathLike)):
        return os.fsdecode(item)
    raise TypeError(f"TFRecordDataset: a file name must be a string. Received: {item!r}")


class TFRecordDataset(Dataset):
    """A dataset of the records in TFRecord files, file after file.

    Args:
        filenames: A file name, a list of them, or a `Dataset` of them (e.g. `list_files`).
        compression_type: "GZIP", "ZLIB", "" or None (no compression).
        buffer_size: Bytes of read buffering per file (None: Python's default).
        num_parallel_reads: Files read at once, their records interleaved one at a time in
            TF's deterministic order (`tf.data.AUTOTUNE`: one per CPU). numpyflow reads them
            in one thread: the order matches TF, the speed does not.
        name: Unused (TF's op name).

    Raises:
        tf.errors.NotFoundError, tf.errors.DataLossError: While iterating, for a missing,
            truncated or corrupt file (the message names it).

    Example:
        >>> ds = TFRecordDataset([])  # no files: no records
        >>> list(ds)
        []
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        del name
        kind = _compression_name(compression_type, "TFRecordDataset")
        if buffer_size is not None and (not isinstance(buffer_size, int) or buffer_size < 0):
            raise ValueError(f"TFRecordDataset: `buffer_size` must be a non-negative int or "
                             f"None. Received: buffer_size={buffer_size!r}")
        if num_parallel_reads is None:
            cycle = 1
        elif num_parallel_reads == AUTOTUNE:
            cycle = os.cpu_count() or 1
        elif isinstance(num_parallel_reads, int) and num_parallel_reads > 0:
            cycle = num_parallel_reads
        else:
            raise ValueError(f"TFRecordDataset: `num_parallel_reads` must be a positive int, "
                             f"tf.data.AUTOTUNE or None. Received: "
                             f"num_parallel_reads={num_parallel_reads!r}")
        names = None if isinstance(filenames, Dataset) else _file_names(filenames)

        def iterate():
            try:
                files = names if names is not None else _file_names(filenames)
                for record in _interleave(files, kind, buffer_size, cycle):
                    yield Tensor(np.array(record, dtype=object))
            except Exception as error:  # noqa: BLE001 - in-band, as the other sources
                yield ElementError(error)

        super().__init__(iterate, TensorSpec([], dtypes.string), UNKNOWN_CARDINALITY)


def _interleave(files, kind, buffer_size, cycle):
    """Records of `files`, `cycle` files at a time, one record from each in turn (TF's order:
    an exhausted file's slot takes the next file, which yields from the next turn on)."""
    pending = iter(files)
    slots = [read_records(f, kind, buffer_size) for f in _take(pending, cycle)]
    while any(slot is not None for slot in slots):
        for index, slot in enumerate(slots):
            if slot is None:
                continue
            try:
                yield next(slot)
            except StopIteration:
                following = next(pending, None)
                slots[index] = (None if following is None
                                else read_records(following, kind, buffer_size))


def _take(iterator, count):
    for _ in range(count):
        item = next(iterator, None)
        if item is None:
            return
        yield item
