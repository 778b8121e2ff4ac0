"""`keras.saving`: the custom-object registry and Keras 3's config (de)serialization.

    >>> import numpyflow as tf
    >>> layer = tf.keras.layers.Dense(2)
    >>> config = tf.keras.saving.serialize_keras_object(layer)
    >>> config["module"], config["class_name"]
    ('keras.layers', 'Dense')
    >>> type(tf.keras.saving.deserialize_keras_object(config)).__name__
    'Dense'
"""

from numpyflow.keras.saving.object_registration import (  # noqa: F401
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
    get_registered_object, register_keras_serializable)
from numpyflow.keras.saving.saving_api import load_model, save_model  # noqa: F401
from numpyflow.keras.saving.serialization_lib import (  # noqa: F401
    deserialize_keras_object, serialize_keras_object)

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable",
           "serialize_keras_object", "deserialize_keras_object", "save_model", "load_model"]
