"""`keras.callbacks`."""

from numpyflow.keras.callbacks.callback import Callback, CallbackList  # noqa: F401
from numpyflow.keras.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from numpyflow.keras.callbacks.csv_logger import CSVLogger  # noqa: F401
from numpyflow.keras.callbacks.early_stopping import EarlyStopping  # noqa: F401
from numpyflow.keras.callbacks.history import History, ProgbarLogger, TerminateOnNaN  # noqa: F401
from numpyflow.keras.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from numpyflow.keras.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from numpyflow.keras.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from numpyflow.keras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: F401
from numpyflow.keras.callbacks.tensorboard import TensorBoard  # noqa: F401
