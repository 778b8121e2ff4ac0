"""`tf.keras.preprocessing`: TF 2.x's names for Keras data utilities (now in `keras.utils`).

Only re-exports: the functions live in `numpyflow.keras.utils`.

    >>> import numpyflow as tf
    >>> tf.keras.preprocessing.sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from numpyflow.keras.preprocessing import image, sequence  # noqa: F401
from numpyflow.keras.utils import (  # noqa: F401
    image_dataset_from_directory, text_dataset_from_directory, timeseries_dataset_from_array)

__all__ = ["image", "sequence", "image_dataset_from_directory", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
