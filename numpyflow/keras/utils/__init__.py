"""Utilities from `tf.keras.utils`.

Keras also exposes its custom-object registry and config (de)serialization here, under the
same names as in `keras.saving`.
"""

from numpyflow.keras.saving import (
    CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects,
    get_registered_name, get_registered_object, register_keras_serializable,
    serialize_keras_object)
from numpyflow.keras.utils.file_utils import get_file
from numpyflow.keras.utils.image_dataset import image_dataset_from_directory
from numpyflow.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from numpyflow.keras.utils.model_visualization import model_to_dot, plot_model
from numpyflow.keras.utils.numerical_utils import to_categorical
from numpyflow.keras.utils.rng_utils import set_random_seed
from numpyflow.keras.utils.sequence_utils import pad_sequences
from numpyflow.keras.utils.text_dataset import text_dataset_from_directory
from numpyflow.keras.utils.timeseries_dataset import timeseries_dataset_from_array
from numpyflow.keras.graph.keras_tensor import is_keras_tensor
from numpyflow.keras.trainers.data_adapters.data_adapter_utils import (
    pack_x_y_sample_weight, unpack_x_y_sample_weight)

__all__ = ["array_to_img", "image_dataset_from_directory", "img_to_array", "load_img", "save_img",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "get_file", "is_keras_tensor",
           "model_to_dot", "plot_model", "set_random_seed", "to_categorical", "pad_sequences",
           "text_dataset_from_directory", "timeseries_dataset_from_array",
           "CustomObjectScope", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable", "serialize_keras_object"]
