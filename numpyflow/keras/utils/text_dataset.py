"""`keras.utils.text_dataset_from_directory`: a `tf.data.Dataset` of (text, label) from a
folder with one subfolder of `.txt` files per class, as Keras 3 builds it.

The files, their order, the labels and the training/validation split are Keras 3's (the
folder walk, label inference, shuffling and splitting are shared with
`image_dataset_from_directory` in `dataset_utils.py`, with `.txt` files).
"""

import os

import numpy as np

import numpyflow as tf
from numpyflow.keras.utils import dataset_utils


def _check_arguments(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                     format):
    dataset_utils.check_common_arguments(labels, label_mode, class_names, validation_split,
                                         subset, shuffle, seed, "text")
    if format != "tf":
        raise NotImplementedError(f"text_dataset_from_directory: only format='tf' is "
                                  f"supported by numpyflow. Received: format={format!r}")


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
      >>> import shutil; shutil.rmtree(root)
    """
    _check_arguments(labels, label_mode, class_names, validation_split, subset, shuffle, seed,
                     format)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = dataset_utils.index_directory(
        os.fspath(directory), labels, (".txt",), class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose,
        caller="text_dataset_from_directory")

    def load(path):
        with open(path, "rb") as file:
            text = file.read()
        if max_length is not None:
            text = text[:max_length]
        return tf.constant(text, dtype=tf.string)

    return dataset_utils.labelled_datasets(
        directory, paths, labels, class_names, label_mode, load, batch_size, shuffle, seed,
        validation_split, subset, "text files", "format: .txt")
