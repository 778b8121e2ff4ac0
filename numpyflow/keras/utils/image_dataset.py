"""`keras.utils.image_dataset_from_directory`: a `tf.data.Dataset` of images read from a
folder with one subfolder per class, as Keras 3 builds it.

The files found, their order, the labels and the training/validation split are Keras 3's
(`dataset_utils.py`; the same `seed` gives the same `file_paths`).
"""

import os

import numpy as np

import numpyflow as tf
from numpyflow.keras.utils import dataset_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")


def _check_arguments(labels, label_mode, class_names, color_mode, image_size, interpolation,
                     validation_split, subset, shuffle, seed, crop_to_aspect_ratio,
                     pad_to_aspect_ratio):
    dataset_utils.check_common_arguments(labels, label_mode, class_names, validation_split,
                                         subset, shuffle, seed, "image")
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
    paths, labels, class_names = dataset_utils.index_directory(
        os.fspath(directory), labels, ALLOWLIST_FORMATS, class_names=class_names,
        shuffle=shuffle, seed=seed, follow_links=follow_links, verbose=verbose,
        caller="image_dataset_from_directory")

    def load(path):
        return _load_image(path, image_size, channels, interpolation, crop_to_aspect_ratio,
                           pad_to_aspect_ratio)

    return dataset_utils.labelled_datasets(
        directory, paths, labels, class_names, label_mode, load, batch_size, shuffle, seed,
        validation_split, subset, "images", f"formats: {ALLOWLIST_FORMATS}")
