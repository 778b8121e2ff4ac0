"""`History`, `ProgbarLogger` and `TerminateOnNaN`: the callbacks `fit` uses by default."""

import logging
import math

import numpy as np

from numpyflow.keras.callbacks.callback import Callback
from numpyflow.keras.utils.progbar import Progbar

_log = logging.getLogger("numpyflow")


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is a list, one value per epoch.

    `fit()` returns it. `history.epoch` lists the epoch indices and `history.params` the
    training parameters. A metric with a vector result (`F1Score(average=None)`) records
    one NumPy array per epoch, as Keras 3 does.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(_history_value(value))
        if self.model is not None:
            self.model.history = self


def _history_value(value):
    """A float, or a NumPy array for a vector result (`F1Score(average=None)`), as Keras 3."""
    if isinstance(value, np.ndarray) and value.ndim:
        return value
    if not isinstance(value, (int, float)) and hasattr(value, "numpy"):
        value = value.numpy()
        if value.ndim:
            return value
    return float(value)


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and the progress bar of each epoch (see `Progbar`)."""

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        self._bar = None
        self._in_fit = False  # Validation inside fit() shows no bar of its own.

    def _new_bar(self):
        self._bar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1),
                            stateful_metrics=_AllNames())

    def _step(self, batch, logs):
        self._bar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def _finish(self, logs):
        self._bar.update(self._bar._seen_so_far, list((logs or {}).items()), finalize=True)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if self.params.get("verbose") == 1 and epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._step(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._step(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)


class _AllNames:
    """A 'set' containing every name: model metrics are already running averages."""

    def __contains__(self, name):
        return True

    def __iter__(self):
        return iter(())


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
