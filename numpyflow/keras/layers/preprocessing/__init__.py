"""Preprocessing layers: rescaling, normalization, resizing and cropping, random image
augmentation (active only with `training=True`), and categorical and text preprocessing
(lookups, hashing, discretization, category encoding, text vectorization)."""

from numpyflow.keras.layers.preprocessing.category_encoding import CategoryEncoding  # noqa: F401
from numpyflow.keras.layers.preprocessing.center_crop import CenterCrop  # noqa: F401
from numpyflow.keras.layers.preprocessing.discretization import Discretization  # noqa: F401
from numpyflow.keras.layers.preprocessing.hashing import Hashing  # noqa: F401
from numpyflow.keras.layers.preprocessing.integer_lookup import IntegerLookup  # noqa: F401
from numpyflow.keras.layers.preprocessing.normalization import Normalization  # noqa: F401
from numpyflow.keras.layers.preprocessing.random_affine import (  # noqa: F401
    RandomRotation, RandomTranslation, RandomZoom)
from numpyflow.keras.layers.preprocessing.random_color import (  # noqa: F401
    RandomBrightness, RandomContrast)
from numpyflow.keras.layers.preprocessing.random_crop import RandomCrop  # noqa: F401
from numpyflow.keras.layers.preprocessing.random_flip import RandomFlip  # noqa: F401
from numpyflow.keras.layers.preprocessing.rescaling import Rescaling  # noqa: F401
from numpyflow.keras.layers.preprocessing.resizing import Resizing  # noqa: F401
from numpyflow.keras.layers.preprocessing.string_lookup import StringLookup  # noqa: F401
from numpyflow.keras.layers.preprocessing.text_vectorization import (  # noqa: F401
    TextVectorization)
