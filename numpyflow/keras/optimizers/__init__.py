"""`keras.optimizers`: SGD, Adam, RMSprop, ... and `get()` to look one up by name.

    >>> import numpyflow as tf
    >>> tf.keras.optimizers.get("adam").get_config()["learning_rate"]
    0.0010000000474974513
"""

from numpyflow.keras.optimizers import legacy, schedules  # noqa: F401
from numpyflow.keras.optimizers.adagrad import Adagrad
from numpyflow.keras.optimizers.adam import Adam, AdamW
from numpyflow.keras.optimizers.adamax import Adamax
from numpyflow.keras.optimizers.ftrl import Ftrl
from numpyflow.keras.optimizers.optimizer import Optimizer
from numpyflow.keras.optimizers.rmsprop import RMSprop
from numpyflow.keras.optimizers.sgd import SGD
from numpyflow.keras.utils.serialization import (
    custom_object, deserialize_from_tables, serialize_keras_object, uninterpretable_error,
    unknown_object_error)

_CLASSES = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Ftrl)}


def serialize(optimizer):
    """The Keras 3 config of an optimizer.

    >>> serialize(SGD())["module"]
    'keras.optimizers'
    """
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """The optimizer a `serialize` result (Keras 3 or older form) describes.

    Class names match in any case ("adam", "Adam", "ADAM"), as Keras does.

    >>> type(deserialize({"class_name": "adam", "config": {}})).__name__
    'Adam'
    """
    return deserialize_from_tables(config, _CLASSES, kind="optimizer",
                                   custom_objects=custom_objects, any_case=True)


def get(identifier):
    """The optimizer an identifier stands for.

    Args:
      identifier: An `Optimizer` (returned as is), a name such as "sgd" or "Adam" (a new
        instance with default settings; registered custom names work too), or a config dict.

    >>> import numpyflow as tf
    >>> type(tf.keras.optimizers.get("rmsprop")).__name__
    'RMSprop'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        by_lower_name = {name.lower(): name for name in _CLASSES}
        if identifier.lower() not in by_lower_name and \
                custom_object(identifier) is None:
            raise unknown_object_error("optimizer", identifier, sorted(by_lower_name.values()),
                                       " (in any case)")
        return deserialize({"class_name": identifier, "config": {}})
    raise uninterpretable_error("optimizer", identifier, "Expected an Optimizer, a dict config, "
                                f"or one of {sorted(name.lower() for name in _CLASSES)}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "Ftrl", "get",
           "serialize", "deserialize", "schedules", "legacy"]
