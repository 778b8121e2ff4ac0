"""Utilities from `tf.keras.utils`."""

from numpyflow.keras.utils.file_utils import get_file
from numpyflow.keras.utils.numerical_utils import to_categorical

__all__ = ["get_file", "to_categorical"]
