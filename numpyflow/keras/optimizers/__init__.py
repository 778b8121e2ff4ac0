"""`keras.optimizers`: SGD, Adam, RMSprop, ... and `get()` to look one up by name.

    >>> import numpyflow as tf
    >>> tf.keras.optimizers.get("adam").get_config()["learning_rate"]
    0.0010000000474974513
"""

from numpyflow.keras.optimizers import legacy, schedules  # noqa: F401
from numpyflow.keras.optimizers.adagrad import Adagrad
from numpyflow.keras.optimizers.adam import Adam, AdamW
from numpyflow.keras.optimizers.adamax import Adamax
from numpyflow.keras.optimizers.optimizer import Optimizer
from numpyflow.keras.optimizers.rmsprop import RMSprop
from numpyflow.keras.optimizers.sgd import SGD
from numpyflow.keras.utils.serialization import (
    deserialize_keras_object, serialize_keras_object, uninterpretable_error)

_CLASSES = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax)}


def serialize(optimizer):
    """`{"class_name", "config"}` for an optimizer."""
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """The optimizer a `serialize` result describes.

    Class names match in any case ("adam", "Adam", "ADAM"), as Keras does.
    """
    return deserialize_keras_object(config, _CLASSES, kind="optimizer",
                                    custom_objects=custom_objects, any_case=True)


def get(identifier, **kwargs):
    """The optimizer an identifier stands for.

    Args:
      identifier: An `Optimizer` (returned as is), a name such as "sgd" or "Adam" (a new
        instance with default settings), or a `serialize` dict.

    >>> import numpyflow as tf
    >>> type(tf.keras.optimizers.get("rmsprop")).__name__
    'RMSprop'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise uninterpretable_error("optimizer", identifier, "Expected an Optimizer, a dict config, "
                                f"or one of {sorted(name.lower() for name in _CLASSES)}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "get",
           "serialize", "deserialize", "schedules", "legacy"]
