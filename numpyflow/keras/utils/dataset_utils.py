"""What `image_dataset_from_directory` and `text_dataset_from_directory` share, as Keras 3
shares it (`keras/src/utils/dataset_utils.py`): indexing a folder of class subfolders, the
argument checks, the training/validation split and the labelled `tf.data.Dataset`.

The files found, their order, the labels and the split are Keras 3's (the same `seed` gives
the same `file_paths`). The per-epoch shuffle of the training set uses numpyflow's
`Dataset.shuffle`, so its batch order differs from TensorFlow's.
"""

import os

import numpy as np

import numpyflow as tf


def _valid_files(directory, formats, follow_links):
    """(folder, file name) of each file ending in one of `formats`, walked in sorted order."""
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0])
    for root, _, files in walk:
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def _class_folders(directory, class_names):
    folders = [name for name in sorted(os.listdir(directory))
               if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
    if class_names is None:
        return folders
    if not set(class_names).issubset(folders):
        raise ValueError(f"The `class_names` passed did not match the names of the "
                         f"subdirectories of the target directory. Expected: {folders} (or a "
                         f"subset of it), but received: class_names={class_names}")
    return list(class_names)


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True, caller="index_directory"):
    """(file paths, labels, class names) of the files in `directory` ending in one of
    `formats`, as Keras indexes them.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     index_directory(empty, None, (".txt",), verbose=False)
    ([], None, None)
    """
    if not os.path.isdir(directory):
        raise ValueError(f"{caller}: {directory!r} is not a directory.")
    if labels == "inferred":
        folders = _class_folders(directory, class_names)
    else:
        if class_names is not None:
            raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be "
                             "specified." if labels is None else
                             "When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted list "
                             "of labels).")
        folders = [""]
    paths, inferred = [], []
    for index, folder in enumerate(folders):
        root = os.path.join(directory, folder)
        for found_in, name in _valid_files(root, formats, follow_links):
            paths.append(os.path.join(directory, folder,
                                      os.path.relpath(os.path.join(found_in, name), root)))
            inferred.append(index)
    if labels == "inferred":
        labels, class_names = np.asarray(inferred, np.int32), folders
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(paths):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(paths)} files in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        if labels is None:
            print(f"Found {len(paths)} files.")
        else:
            print(f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, class_names


def check_common_arguments(labels, label_mode, class_names, validation_split, subset, shuffle,
                           seed, kind):
    """Keras's checks of the arguments both `*_dataset_from_directory` functions take;
    `kind` ("image", "text") names the files in the messages."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the "
                             f"same size as the number of {kind} files in the target directory, "
                             f'"inferred" or None. Received: labels={labels}')
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if bool(validation_split) != bool(subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def _split(paths, labels, validation_split, subset):
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    if subset == "training":
        print(f"Using {len(paths) - count} files for training.")
        keep = slice(None, -count)  # Keras's slice: all files when count == 0
    else:
        print(f"Using {count} files for validation.")
        keep = slice(-count, None)
    return paths[keep], None if labels is None else labels[keep]


def _make_dataset(paths, labels, label_mode, num_classes, load, batch_size, shuffle, seed):
    indices = tf.data.Dataset.from_tensor_slices(np.arange(len(paths), dtype=np.int64))
    if label_mode is None:
        dataset = indices
    else:
        label_values = np.asarray(labels, np.int32)
        if label_mode == "binary":
            label_values = label_values.astype(np.float32)[:, None]
        elif label_mode == "categorical":
            label_values = np.eye(num_classes, dtype=np.float32)[label_values]
        dataset = tf.data.Dataset.zip((indices, tf.data.Dataset.from_tensor_slices(label_values)))
    if shuffle:
        dataset = dataset.shuffle(buffer_size=batch_size * 8 if batch_size else 1024, seed=seed)
    if label_mode is None:
        dataset = dataset.map(lambda index: load(paths[int(index)]))
    else:
        dataset = dataset.map(lambda index, label: (load(paths[int(index)]), label))
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    dataset.file_paths = list(paths)
    return dataset


def labelled_datasets(directory, paths, labels, class_names, label_mode, load, batch_size,
                      shuffle, seed, validation_split, subset, missing, allowed):
    """The Dataset (or the [training, validation] pair for `subset="both"`) of `load(path)`
    and labels, with `class_names` and `file_paths` attributes. `missing` ("images") and
    `allowed` ("formats: ...") word the error for an empty subset."""
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for which in subsets:
        subset_paths, subset_labels = _split(paths, labels, validation_split, which)
        if not subset_paths:
            kind = {"training": "training ", "validation": "validation "}.get(
                which if subset == "both" else None, "")
            raise ValueError(f"No {kind}{missing} found in directory {directory}. "
                             f"Allowed {allowed}")
        dataset = _make_dataset(subset_paths, subset_labels, label_mode, num_classes, load,
                                batch_size, shuffle and not (subset == "both" and
                                                             which == "validation"), seed)
        dataset.class_names = class_names
        datasets.append(dataset)
    return datasets if subset == "both" else datasets[0]
