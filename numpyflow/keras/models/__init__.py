"""`keras.models`."""

from numpyflow.keras.models.model import Model  # noqa: F401
from numpyflow.keras.models.sequential import Sequential  # noqa: F401
from numpyflow.keras.saving.saving_api import load_model, save_model  # noqa: F401,E402
from numpyflow.keras.saving.json_config import model_from_json  # noqa: F401,E402
