"""`keras.utils.image_dataset_from_directory`: a `tf.data.Dataset` of images read from a
folder with one subfolder per class, as Keras 3 builds it.

The files found, their order, the labels and the training/validation split are Keras 3's
(the same `seed` gives the same `file_paths`). The per-epoch shuffle of the training set
uses numpyflow's `Dataset.shuffle`, so its batch order differs from TensorFlow's.
"""

import os

import numpy as np

import numpyflow as tf

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")


def _valid_files(directory, follow_links):
    """(folder, file name) of each image under `directory`, walked in sorted order."""
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0])
    for root, _, files in walk:
        for name in sorted(files):
            if name.lower().endswith(ALLOWLIST_FORMATS):
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


def index_directory(directory, labels, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """(file paths, labels, class names) of the images in `directory`, as Keras indexes them.

    >>> import tempfile
    >>> index_directory(tempfile.mkdtemp(), None, verbose=False)
    ([], None, None)
    """
    if not os.path.isdir(directory):
        raise ValueError(f"image_dataset_from_directory: {directory!r} is not a directory.")
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
        for found_in, name in _valid_files(root, follow_links):
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


def _check_arguments(labels, label_mode, class_names, color_mode, image_size, interpolation,
                     validation_split, subset, shuffle, seed, crop_to_aspect_ratio,
                     pad_to_aspect_ratio):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the "
                             f"same size as the number of image files in the target directory, "
                             f'"inferred" or None. Received: labels={labels}')
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if color_mode not in ("rgb", "rgba", "grayscale"):
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. '
                         f"Received: color_mode={color_mode}")
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
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


def _load_image(path, image_size, channels, interpolation, crop_to_aspect_ratio,
                pad_to_aspect_ratio):
    """One image file as a (height, width, channels) float32 tensor of `image_size`."""
    image = tf.io.decode_image(tf.io.read_file(path), channels=channels,
                               expand_animations=False)
    if crop_to_aspect_ratio:
        height, width = image.shape[0], image.shape[1]
        target_height, target_width = image_size
        crop_height = min(height, int(width * target_height / target_width))
        crop_width = min(width, int(height * target_width / target_height))
        image = image[(height - crop_height) // 2:(height - crop_height) // 2 + crop_height,
                      (width - crop_width) // 2:(width - crop_width) // 2 + crop_width]
        return tf.cast(tf.image.resize(image, image_size, method=interpolation), tf.float32)
    if pad_to_aspect_ratio:
        image = tf.image.resize_with_pad(image, image_size[0], image_size[1],
                                         method=interpolation)
        return tf.cast(image, tf.float32)
    return tf.cast(tf.image.resize(image, image_size, method=interpolation), tf.float32)


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


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """A `tf.data.Dataset` of (images, labels) batches from a folder of class subfolders.

    `directory/class_a/*.png`, `directory/class_b/*.jpg`, ... give labels 0, 1, ... in the
    sorted order of the subfolder names (or the order of `class_names`). Images are decoded
    (PNG, JPEG, GIF's first frame, BMP), resized to `image_size` and yielded as float32
    (batch, height, width, channels) with values in [0, 255].

    Args:
      directory: The folder.
      labels: "inferred" (from the subfolders), None, or a list of integer labels, one per
        file in the sorted order of the file paths.
      label_mode: "int" (int32 labels), "categorical" (one-hot float32), "binary" (float32
        of shape (batch, 1), two classes) or None (images only).
      class_names: The subfolders to use, in label order (with labels="inferred").
      color_mode: "grayscale", "rgb" or "rgba" (1, 3 or 4 channels).
      batch_size: Images per batch; None yields single images.
      image_size: (height, width) to resize to.
      shuffle: Shuffle the files (once, with `seed`) and the training batches each epoch.
      seed: The shuffling seed; needed with `validation_split` and `shuffle`.
      validation_split: The fraction of files (the last ones) kept for validation.
      subset: "training", "validation" or "both" (a (training, validation) pair).
      interpolation: The `tf.image.resize` method.
      follow_links: Follow symlinked subfolders.
      crop_to_aspect_ratio: Centre-crop to `image_size`'s aspect ratio before resizing.
      pad_to_aspect_ratio: Resize within `image_size` keeping the aspect ratio, then pad.
      data_format: None or "channels_last" ("channels_first" raises NotImplementedError).
      verbose: Print "Found N files belonging to K classes.".

    Returns:
      A `tf.data.Dataset` with `class_names` and `file_paths` attributes (a list
      [training, validation] of them for `subset="both"`).

    Example:
      >>> import os, tempfile, numpy as np
      >>> from numpyflow.keras.utils import image_utils
      >>> root = tempfile.mkdtemp()
      >>> for name in ("cat", "dog"):
      ...     os.mkdir(os.path.join(root, name))
      ...     image_utils.save_img(os.path.join(root, name, "0.png"), np.zeros((4, 4, 3)))
      >>> ds = image_dataset_from_directory(root, image_size=(2, 2), batch_size=2)
      Found 2 files belonging to 2 classes.
      >>> ds.class_names
      ['cat', 'dog']
      >>> images, labels = next(iter(ds))
      >>> images.shape
      TensorShape([2, 2, 2, 3])
    """
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"image_dataset_from_directory: data_format={data_format!r} "
                                  f"is not implemented in numpyflow (only 'channels_last').")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    interpolation = str(interpolation).lower()
    _check_arguments(labels, label_mode, class_names, color_mode, image_size, interpolation,
                     validation_split, subset, shuffle, seed, crop_to_aspect_ratio,
                     pad_to_aspect_ratio)
    if interpolation not in ("bilinear", "nearest", "area"):
        # Checked now: the images are decoded lazily, when the dataset is iterated.
        raise NotImplementedError(f"image_dataset_from_directory: interpolation="
                                  f"{interpolation!r} is not implemented in numpyflow (use "
                                  f"'bilinear', 'nearest' or 'area').")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
    image_size = (int(image_size[0]), int(image_size[1]))
    seed = np.random.randint(1e6) if seed is None else seed
    paths, labels, class_names = index_directory(
        os.fspath(directory), labels, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def load(path):
        return _load_image(path, image_size, channels, interpolation, crop_to_aspect_ratio,
                           pad_to_aspect_ratio)

    num_classes = len(class_names) if class_names else 0
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for which in subsets:
        subset_paths, subset_labels = _split(paths, labels, validation_split, which)
        if not subset_paths:
            kind = {"training": "training ", "validation": "validation "}.get(
                which if subset == "both" else None, "")
            raise ValueError(f"No {kind}images found in directory {directory}. Allowed "
                             f"formats: {ALLOWLIST_FORMATS}")
        dataset = _make_dataset(subset_paths, subset_labels, label_mode, num_classes, load,
                                batch_size, shuffle and not (subset == "both" and
                                                             which == "validation"), seed)
        dataset.class_names = class_names
        datasets.append(dataset)
    return datasets if subset == "both" else datasets[0]
