"""The MNIST handwritten digits dataset, like `tf.keras.datasets.mnist`."""

import zipfile

import numpy as np

from numpyflow.keras.datasets._lookup import locate

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_NAME = "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# Directories that may already hold a copy of mnist.npz (checked against
# FILE_HASH before use). No distribution packages MNIST today, so it is empty;
# it exists so a site (or a test) can point at a local mirror.
LOCAL_SOURCES = ()


def load_data(path="mnist.npz", cache_dir=None):
    """Loads the MNIST dataset of 28x28 grayscale handwritten digits.

    The file `mnist.npz` is looked up in the cache
    (`<cache_dir or $KERAS_HOME or ~/.keras>/datasets/<path>`), then in
    `LOCAL_SOURCES`, and otherwise downloaded (about 11 MB) from
    `ORIGIN_FOLDER`. Its sha256 is checked either way.

    Args:
        path: File name of the cached copy, relative to
            `<cache_dir>/datasets` (an absolute path is used as is).
        cache_dir: Base cache directory; `None` means `$KERAS_HOME` or
            `~/.keras`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes
        `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)` and `(10000,)`, with
        pixel values 0..255 and labels 0..9.

    Raises:
        FileNotFoundError: The file is not available locally and could not be
            downloaded; the message says where to get it and put it.

    Example:
        >>> import numpyflow as tf
        >>> (x_train, y_train), (x_test, y_test) = (
        ...     tf.keras.datasets.mnist.load_data())  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    origin = ORIGIN_FOLDER + FILE_NAME
    fpath = locate(
        path,
        origin,
        dataset="MNIST",
        cache_subdir="datasets",
        local_dirs=LOCAL_SOURCES,
        file_hash=FILE_HASH,
        cache_dir=cache_dir,
        source_name=FILE_NAME,
    )
    try:
        with np.load(fpath, allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError) as e:
        # The hash check makes this rare, but a custom FILE_HASH or a
        # hand-placed file can still be bad.
        raise ValueError(
            f"{fpath} is not a valid MNIST .npz file (expected arrays x_train, "
            f"y_train, x_test, y_test; got error: {e}). Delete it and try "
            "again."
        ) from e
