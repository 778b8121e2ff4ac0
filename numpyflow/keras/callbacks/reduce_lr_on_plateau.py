"""`ReduceLROnPlateau`: lowers the learning rate when a monitored quantity stalls."""

import numpy as np

from numpyflow.keras.callbacks.monitor_callback import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the optimizer's learning rate by `factor` after `patience` epochs without
    improvement of `monitor`, down to `min_lr`.

    The learning rate is a Variable the compiled training step reads, so the new rate takes
    effect at the next step. Each epoch's logs get its `learning_rate`, as in Keras 3.

    Args:
      monitor: The logged quantity to watch ("val_loss" by default).
      factor: What the learning rate is multiplied by (< 1).
      patience: Epochs without improvement before reducing.
      verbose: 1 prints each reduction.
      mode: "auto", "min" or "max".
      min_delta: The least change that counts as an improvement.
      cooldown: Epochs to wait after a reduction before watching again.
      min_lr: The lowest learning rate it sets.

    >>> reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:  # tf.keras 1.x's name.
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}.")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received "
                             f"factor={factor}")
        super().__init__(monitor, mode, min_delta, callback_name="ReduceLROnPlateau")
        self.factor = float(factor)
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.cooldown_counter = 0
        self.wait = 0
        self.best = None

    def on_train_begin(self, logs=None):
        self._set_direction()
        self.best = self._initial_best()
        self.cooldown_counter = 0
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._monitored_value(logs, "Learning rate reduction is")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0
