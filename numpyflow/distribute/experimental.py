"""`tf.distribute.experimental`: the older names of the strategies, and the options of
the collectives."""

from numpyflow.distribute.collective_util import (  # noqa: F401
    CollectiveCommunication, CommunicationImplementation, CommunicationOptions)
from numpyflow.distribute.strategy import (  # noqa: F401
    MultiWorkerMirroredStrategy, OneDeviceStrategy)
