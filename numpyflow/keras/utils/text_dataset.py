"""`keras.utils.text_dataset_from_directory`: a `tf.data.Dataset` of (text, label) from a
folder with one subfolder of `.txt` files per class, as Keras 3 builds it.

The files, their order, the labels and the training/validation split are Keras 3's (the
folder walk, label inference, shuffling and splitting are `image_dataset_from_directory`'s,
with `.txt` files); the per-epoch shuffle of the training set uses numpyflow's
`Dataset.shuffle`, so its batch order differs from TensorFlow's.
"""

import os

import numpy as np

import numpyflow as tf
from numpyflow.keras.utils.image_dataset import _class_folders, _make_dataset, _split


def _text_files(directory, labels, class_names, shuffle, seed, follow_links, verbose):
    """(paths, labels, class names) of the `.txt` files, as Keras's index_directory."""
    if not os.path.isdir(directory):
        raise ValueError(f"text_dataset_from_directory: {directory!r} is not a directory.")
    folders = _class_folders(directory, class_names) if labels == "inferred" else [""]
    paths, inferred = [], []
    for index, folder in enumerate(folders):
        root = os.path.join(directory, folder)
        walk = sorted(os.walk(root, followlinks=follow_links), key=lambda entry: entry[0])
        for found_in, _, files in walk:
            for name in sorted(files):
                if name.lower().endswith(".txt"):
                    paths.append(os.path.join(directory, folder, os.path.relpath(
                        os.path.join(found_in, name), root)))
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
        print(f"Found {len(paths)} files." if labels is None else
              f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, class_names


def _check_arguments(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                     format):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the "
                             f"same size as the number of text files in the target directory, "
                             f'"inferred" or None. Received: labels={labels}')
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if format != "tf":
        raise NotImplementedError(f"text_dataset_from_directory: only format='tf' is "
                                  f"supported by numpyflow. Received: format={format!r}")
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


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A `tf.data.Dataset` of (texts, labels) batches from a folder of class subfolders.

    `directory/class_a/*.txt`, `directory/class_b/*.txt`, ... give labels 0, 1, ... in the
    sorted order of the subfolder names (or the order of `class_names`). Each text is a
    scalar string tensor (its file's bytes), batched to shape (batch_size,).

    Args:
      directory: The folder.
      labels: "inferred" (from the subfolders), None, or a list of integer labels, one per
        file in the sorted order of the file paths.
      label_mode: "int", "categorical", "binary" or None (texts only).
      class_names: The subfolders to use, in label order (with labels="inferred").
      batch_size: Texts per batch; None yields single texts.
      max_length: Keep at most this many bytes of each text.
      shuffle: Shuffle the files (once, with `seed`) and the training batches each epoch.
      seed: The shuffling seed; needed with `validation_split` and `shuffle`.
      validation_split: The fraction of files (the last ones) kept for validation.
      subset: "training", "validation" or "both" (a (training, validation) pair).
      follow_links: Follow symlinked subfolders.
      format: "tf" (the only one numpyflow has).
      verbose: Print "Found N files belonging to K classes.".

    Returns:
      A `tf.data.Dataset` with a `class_names` attribute (a list [training, validation] of
      them for `subset="both"`).

    Example:
      >>> import os, tempfile
      >>> root = tempfile.mkdtemp()
      >>> for name in ("neg", "pos"):
      ...     os.mkdir(os.path.join(root, name))
      ...     with open(os.path.join(root, name, "0.txt"), "w") as f:
      ...         _ = f.write(f"a {name} text")
      >>> ds = text_dataset_from_directory(root, batch_size=2, shuffle=False)
      Found 2 files belonging to 2 classes.
      >>> texts, labels = next(iter(ds))
      >>> texts.numpy().tolist(), labels.numpy().tolist()
      ([b'a neg text', b'a pos text'], [0, 1])
    """
    _check_arguments(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                     format)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = _text_files(os.fspath(directory), labels, class_names,
                                             shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def load(path):
        with open(path, "rb") as file:
            text = file.read()
        if max_length is not None:
            text = text[:max_length]
        return tf.constant(text, dtype=tf.string)

    num_classes = len(class_names) if class_names else 0
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for which in subsets:
        subset_paths, subset_labels = _split(paths, labels, validation_split, which)
        if not subset_paths:
            kind = {"training": "training ", "validation": "validation "}.get(
                which if subset == "both" else None, "")
            raise ValueError(f"No {kind}text files found in directory {directory}. Allowed "
                             f"format: .txt")
        dataset = _make_dataset(subset_paths, subset_labels, label_mode, num_classes, load,
                                batch_size, shuffle and not (subset == "both" and
                                                             which == "validation"), seed)
        dataset.class_names = class_names
        datasets.append(dataset)
    return datasets if subset == "both" else datasets[0]
