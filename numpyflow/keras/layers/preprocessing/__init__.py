"""Preprocessing layers: rescaling, normalization, resizing and cropping, and random image
augmentation (active only with `training=True`)."""

from numpyflow.keras.layers.preprocessing.center_crop import CenterCrop  # noqa: F401
from numpyflow.keras.layers.preprocessing.normalization import Normalization  # noqa: F401
from numpyflow.keras.layers.preprocessing.random_affine import (  # noqa: F401
    RandomRotation, RandomTranslation, RandomZoom)
from numpyflow.keras.layers.preprocessing.random_color import (  # noqa: F401
    RandomBrightness, RandomContrast)
from numpyflow.keras.layers.preprocessing.random_crop import RandomCrop  # noqa: F401
from numpyflow.keras.layers.preprocessing.random_flip import RandomFlip  # noqa: F401
from numpyflow.keras.layers.preprocessing.rescaling import Rescaling  # noqa: F401
from numpyflow.keras.layers.preprocessing.resizing import Resizing  # noqa: F401
