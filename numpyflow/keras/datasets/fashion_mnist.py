"""The Fashion-MNIST dataset, like `tf.keras.datasets.fashion_mnist`."""

import os

from numpyflow.keras.datasets._idx import read_idx_gz
from numpyflow.keras.datasets._lookup import locate

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")
# Same names (and contents) as the files Keras downloads.
FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# Directories that may already hold the four files. Debian's
# `dataset-fashion-mnist` package installs them here; they are read in place
# rather than copied into the cache, to save ~30 MB of disk.
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
LOCAL_SOURCES = (DEBIAN_DIR,)


def _read(path, ndim, name):
    """Reads one IDX file and checks it has `ndim` dims (and 28x28 images)."""
    # Deleting a file from a Debian package is the wrong fix; say what is.
    directory = os.path.dirname(os.path.abspath(path))
    if directory == os.path.abspath(DEBIAN_DIR):
        remedy = f"Reinstall it: apt-get install --reinstall {DEBIAN_PACKAGE}."
    elif any(directory == os.path.abspath(d) for d in LOCAL_SOURCES):
        remedy = "Replace it with a good copy, or delete it, and retry."
    else:
        remedy = "Delete it so it is fetched again, and retry."
    values = read_idx_gz(path, remedy=remedy)
    if values.ndim != ndim or (ndim == 3 and values.shape[1:] != (28, 28)):
        expected = "(n,)" if ndim == 1 else "(n, 28, 28)"
        raise ValueError(
            f"{path} holds an array of shape {values.shape}, but {name} "
            f"should have shape {expected}. {remedy}"
        )
    return values


def load_data(cache_dir=None):
    """Loads the Fashion-MNIST dataset of 28x28 grayscale clothing images.

    Each of the four IDX files is taken from the cache
    (`<cache_dir or $KERAS_HOME or ~/.keras>/datasets/fashion-mnist/`) if
    there, else from `LOCAL_SOURCES` (Debian's `dataset-fashion-mnist`
    package, used in place), else downloaded into the cache from
    `ORIGIN_FOLDER`.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
    6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

    Args:
        cache_dir: Base cache directory; `None` means `$KERAS_HOME` or
            `~/.keras`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes
        `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)` and `(10000,)`.

    Raises:
        FileNotFoundError: A file is not available locally and could not be
            downloaded; the message says where to get it and put it.
        ValueError: A file is truncated or corrupt; the message names it.

    Example:
        >>> import numpyflow as tf
        >>> (x_train, y_train), (x_test, y_test) = (
        ...     tf.keras.datasets.fashion_mnist.load_data())  # doctest: +SKIP
        >>> x_train.shape, y_train.max()  # doctest: +SKIP
        ((60000, 28, 28), 9)
    """
    all_files = [(name, ORIGIN_FOLDER + name) for name in FILES]
    paths = [
        locate(
            name,
            url,
            dataset="Fashion-MNIST",
            cache_subdir=CACHE_SUBDIR,
            local_dirs=LOCAL_SOURCES,
            cache_dir=cache_dir,
            all_files=all_files,
            install_hint=f"on Debian/Ubuntu, apt-get install {DEBIAN_PACKAGE} "
            f"(it puts the files in {DEBIAN_DIR}).",
        )
        for name, url in all_files
    ]
    y_train = _read(paths[0], 1, "train labels")
    x_train = _read(paths[1], 3, "train images")
    y_test = _read(paths[2], 1, "test labels")
    x_test = _read(paths[3], 3, "test images")
    splits = (("train", x_train, y_train), ("test", x_test, y_test))
    for split, images, labels in splits:
        if len(labels) != len(images):
            raise ValueError(
                f"Fashion-MNIST {split} split mismatch: {len(images)} images "
                f"but {len(labels)} labels (files {paths})."
            )
    return (x_train, y_train), (x_test, y_test)
