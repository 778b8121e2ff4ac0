"""`tf.keras.preprocessing.image`: TF 2.x's home of the image file helpers.

    >>> import numpy as np, numpyflow as tf
    >>> tf.keras.preprocessing.image.array_to_img(np.zeros((2, 2, 3))).size
    (2, 2)
"""

from numpyflow.keras.utils.image_utils import (  # noqa: F401
    array_to_img, img_to_array, load_img, save_img)

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
