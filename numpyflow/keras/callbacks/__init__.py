"""`keras.callbacks`."""

from numpyflow.keras.callbacks.callback import Callback, CallbackList  # noqa: F401
from numpyflow.keras.callbacks.history import History, ProgbarLogger, TerminateOnNaN  # noqa: F401
