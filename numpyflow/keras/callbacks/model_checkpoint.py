"""`ModelCheckpoint`: saves the model (or its weights) during training."""

import logging
import os

import numpy as np

from numpyflow.distribute import distributed_file_utils
from numpyflow.keras.callbacks.monitor_callback import MonitorCallback

_log = logging.getLogger("numpyflow")


class ModelCheckpoint(MonitorCallback):
    """Saves the model, or only its weights, at the end of every epoch or every few batches.

    Each save is atomic (a temporary file renamed into place), so a training run killed at
    any moment leaves the previous complete file.

    Args:
      filepath: Where to save: a `.keras` file (or `.weights.h5` with
        `save_weights_only=True`); may hold `{epoch}` (from 1) and logged quantities, e.g.
        `"ckpt-{epoch:02d}-{val_loss:.2f}.keras"`.
      monitor: The logged quantity that decides what "best" is ("val_loss").
      verbose: 1 prints a line for each save (or each epoch without improvement).
      save_best_only: Save only when `monitor` improved on the best so far.
      save_weights_only: Save `model.save_weights(filepath)` instead of `model.save`.
      mode: "auto", "min" or "max", for `monitor`.
      save_freq: "epoch", or an int: save every that many batches.
      initial_value_threshold: The value `monitor` must beat for the first save
        (with `save_best_only`).

    >>> checkpoint = ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, 0., callback_name="ModelCheckpoint")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             f"'epoch' or a positive integer.")
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError(f"When using `save_weights_only=True` in `ModelCheckpoint`, the "
                             f"filepath provided must end in `.weights.h5` (Keras weights "
                             f"format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(f"The filepath provided must end in `.keras` (Keras model "
                             f"format). Received: filepath={self.filepath}")
        self.best = None
        self._batches_seen = 0
        self._current_epoch = 0

    def on_train_begin(self, logs=None):
        if self.save_best_only:
            self._set_direction()
            self.best = (self.initial_value_threshold if self.initial_value_threshold is not None
                         else self._initial_best())
        self._batches_seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        logs = dict(logs or {})
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            if logs.get(self.monitor) is None:
                _log.warning("Can save best model only with %s available, skipping.",
                             self.monitor)
                return
            current = float(logs[self.monitor])
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        # Under tf.distribute only the chief writes to `filepath`; the other replicas
        # write into a temporary dir beside it and delete it (TF's rule).
        strategy = distributed_file_utils.strategy_of(self.model)
        write_path = distributed_file_utils.write_filepath(filepath, strategy)
        directory = os.path.dirname(write_path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(write_path, overwrite=True)
        else:
            self.model.save(write_path, overwrite=True)
        distributed_file_utils.remove_temp_dir_with_filepath(filepath, strategy)

    def _file_path(self, epoch, batch, logs):
        """`filepath` with `{epoch}` (from 1), `{batch}` and logged values filled in."""
        # Scalars only: a vector result (F1Score(average=None)) has no place in a file name.
        values = {key: float(value) for key, value in logs.items()
                  if not isinstance(value, str) and np.ndim(value) == 0}
        try:
            if batch is None or "{batch" not in self.filepath:
                return self.filepath.format(epoch=epoch + 1, **values)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **values)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {error!r} is not logged (logged: {sorted(values)}).") from None
