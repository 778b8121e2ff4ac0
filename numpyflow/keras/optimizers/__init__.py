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

_CLASSES = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax)}
# Names are matched case-insensitively ("adam", "Adam", "ADAM"), as Keras does.
_BY_LOWER_NAME = {name.lower(): cls for name, cls in _CLASSES.items()}


def serialize(optimizer):
    """`{"class_name", "config"}` for an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    """The optimizer a `serialize` result describes (class names match case-insensitively)."""
    class_name = config.get("class_name")
    cls = (custom_objects or {}).get(class_name) or _BY_LOWER_NAME.get(str(class_name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {class_name!r}. Expected one of "
                         f"{sorted(_CLASSES)} (any case).")
    return cls.from_config(config.get("config", {}))


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
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Expected an "
                     f"Optimizer, a dict config, or one of {sorted(_BY_LOWER_NAME)}.")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "get",
           "serialize", "deserialize", "schedules", "legacy"]
