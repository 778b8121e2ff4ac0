"""The on-disk form of a `tf.train.Checkpoint`: one HDF5 file per checkpoint.

This layout is numpyflow's own (TF writes a `.index` file and `.data-*` shards, which
numpyflow neither reads nor writes). A checkpoint saved with the prefix `ckpt-3` is the
single file `ckpt-3.ckpt.h5`:

  * root attributes `format` (`"numpyflow.train.Checkpoint"`), `version` (1) and `paths`
    (a JSON list of the object paths, e.g. `"model/variables/0"`, in saving order);
  * datasets `values/0`, `values/1`, ...: the value of the i-th path, uncompressed.

Writes are atomic (`file_safety.atomic_path`): the file is written beside its destination
under a temporary name, fsynced, then renamed over it, so a save killed at any moment
leaves the previous file or the new one. Reads open the file with `file_safety.open_h5`,
which checks every object before any read (no link out of the file, no external storage
or virtual layout, no dataset declaring more bytes than the file holds); they never
unpickle or evaluate anything, and read a value only after checking its dtype (and, when
asked, its shape). h5py is imported only when a file is read or written.

    >>> import os, tempfile, numpy as np
    >>> prefix = os.path.join(tempfile.mkdtemp(), "ckpt-1")
    >>> path = write_checkpoint(prefix, [("v", np.ones(2, "float32"))])
    >>> with CheckpointReader(path) as reader:
    ...     reader.read("v", expected=((2,), np.dtype("float32")))
    array([1., 1.], dtype=float32)
"""

import json
import os

import numpy as np

from numpyflow.framework import file_safety

FORMAT = "numpyflow.train.Checkpoint"
VERSION = 1
SUFFIX = ".ckpt.h5"


def checkpoint_file(prefix):
    """The file that holds the checkpoint saved under `prefix`."""
    return os.fspath(prefix) + SUFFIX


def checkpoint_exists(prefix):
    """Whether a checkpoint was saved under `prefix`."""
    return os.path.isfile(checkpoint_file(prefix))


def write_checkpoint(prefix, items):
    """Writes `items`, pairs `(path, numpy array)`, as the checkpoint `prefix`.

    Returns:
      The path of the file written.
    """
    import h5py

    path = checkpoint_file(prefix)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with file_safety.atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            h5.attrs["format"] = FORMAT
            h5.attrs["version"] = VERSION
            h5.attrs["paths"] = json.dumps([name for name, _ in items])
            values = h5.create_group("values")
            for index, (_, array) in enumerate(items):
                values.create_dataset(str(index), data=np.asarray(array))
    return path


class CheckpointReader:
    """Reads a checkpoint file written by `write_checkpoint`, checking it as it goes.

    Use it as a context manager. `paths` lists the saved object paths; `read(path,
    expected)` returns one value, after checking that the dataset lies in the file (no
    external link, external storage or virtual layout), has a numeric dtype and declares
    a size the file can hold; with `expected=(shape, dtype)` also that it has that shape
    and dtype (else `ValueError` naming the path and both).
    """

    def __init__(self, prefix_or_file):
        path = os.fspath(prefix_or_file)
        if not path.endswith(SUFFIX):
            path = checkpoint_file(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"No checkpoint found at {os.fspath(prefix_or_file)!r}: the file {path!r} "
                f"does not exist. Pass the prefix that `save()`/`write()` returned.")
        self.file = path
        try:
            # Uncompressed values: no dataset can declare more bytes than the file holds.
            self._h5 = file_safety.open_h5(path, max_dataset_bytes=os.path.getsize(path))
        except file_safety.UnsafeFileError as error:
            raise file_safety.UnsafeFileError(
                f"{path!r} is not a readable checkpoint file: {error}") from error
        try:
            self.paths = self._index()
        except BaseException:
            self._h5.close()
            raise
        self._position = {name: index for index, name in enumerate(self.paths)}

    def _attribute(self, name):
        """A root attribute (strings decoded), or None when there is none."""
        try:
            return file_safety.read_attribute(self._h5, name)
        except KeyError:
            return None

    def _index(self):
        format_name = self._attribute("format")
        if not isinstance(format_name, str) or format_name != FORMAT:
            raise ValueError(f"{self.file!r} is not a numpyflow checkpoint (its `format` "
                             f"attribute is {format_name!r}, expected {FORMAT!r}).")
        version = self._attribute("version")
        if not isinstance(version, (int, np.integer)) or int(version) != VERSION:
            raise ValueError(f"{self.file!r}: checkpoint format version {version!r} is not "
                             f"supported (expected {VERSION}).")
        paths = self._attribute("paths")
        try:
            paths = json.loads(paths if isinstance(paths, str) else "")
        except ValueError as error:
            raise ValueError(f"{self.file!r}: its `paths` attribute is not JSON: "
                             f"{error}") from error
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError(f"{self.file!r}: its `paths` attribute must be a list of "
                             f"strings; received {type(paths).__name__}.")
        if len(set(paths)) != len(paths):
            raise ValueError(f"{self.file!r}: its `paths` attribute repeats a path.")
        return paths

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self._h5.close()

    def dataset_shape(self, path):
        """The declared (shape, dtype) of the value saved for `path`, checked but not read."""
        dataset = self._dataset(path)
        return tuple(dataset.shape), dataset.dtype

    def read(self, path, expected=None):
        """The value saved for `path` as a NumPy array (see the class docstring)."""
        dataset = self._dataset(path)
        if expected is not None:
            shape, dtype = expected
            if tuple(dataset.shape) != tuple(shape):
                raise ValueError(
                    f"Checkpoint {self.file!r}: the value saved for {path!r} has shape "
                    f"{tuple(dataset.shape)}, but the variable it restores into has shape "
                    f"{tuple(shape)}.")
            if dataset.dtype != np.dtype(dtype):
                raise ValueError(
                    f"Checkpoint {self.file!r}: the value saved for {path!r} has dtype "
                    f"{dataset.dtype}, but the variable it restores into has dtype "
                    f"{np.dtype(dtype)}.")
        return file_safety.read_dataset(dataset)

    def _dataset(self, path):
        import h5py

        index = self._position.get(path)
        if index is None:
            raise KeyError(f"Checkpoint {self.file!r} holds no value for {path!r}.")
        name = f"values/{index}"
        group = self._h5.get("values", getlink=True)
        link = self._h5["values"].get(str(index), getlink=True) if group is not None else None
        if not isinstance(group, h5py.HardLink) or not isinstance(link, h5py.HardLink):
            raise ValueError(f"Checkpoint {self.file!r}: {name!r} (the value of {path!r}) is "
                             f"missing or a link ({type(link).__name__}); links are refused.")
        dataset = self._h5[name]
        if not isinstance(dataset, h5py.Dataset):
            raise ValueError(f"Checkpoint {self.file!r}: {name!r} is not a dataset.")
        # External storage, virtual layouts and declared sizes were checked by `open_h5`.
        dtype = dataset.dtype
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in "biuf":
            raise ValueError(f"Checkpoint {self.file!r}: {name!r} (the value of {path!r}) has "
                             f"dtype {dtype}; expected a numeric or bool dtype.")
        if dataset.compression is not None:
            raise ValueError(f"Checkpoint {self.file!r}: {name!r} (the value of {path!r}) is "
                             f"compressed ({dataset.compression}); checkpoints store values "
                             f"uncompressed, refused.")
        return dataset

