"""`keras.models`."""

from numpyflow.keras.models.model import Model  # noqa: F401
from numpyflow.keras.models.sequential import Sequential  # noqa: F401
