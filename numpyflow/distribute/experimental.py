"""`tf.distribute.experimental`: the older names of the strategies."""

from numpyflow.distribute.strategy import (  # noqa: F401
    MultiWorkerMirroredStrategy, OneDeviceStrategy)
