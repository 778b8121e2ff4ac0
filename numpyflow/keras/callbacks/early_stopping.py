"""`EarlyStopping`: stops training when a monitored quantity has stopped improving."""

from numpyflow.keras.callbacks.monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops `fit` once `monitor` has not improved for `patience` epochs.

    Args:
      monitor: The logged quantity to watch ("val_loss" by default).
      min_delta: The least change that counts as an improvement.
      patience: Epochs without improvement after which training stops.
      verbose: 1 prints when it stops (and when it restores weights).
      mode: "auto", "min" or "max" (see `MonitorCallback`).
      baseline: Training stops unless the quantity beats this within `patience` epochs.
      restore_best_weights: Whether to put back the weights of the best epoch when
        training ends (also when it ends without stopping early, as Keras 3 does).
      start_from_epoch: Epochs to wait before watching (a warm-up).

    >>> import numpy as np, numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> stop = tf.keras.callbacks.EarlyStopping(monitor="loss", patience=0)
    >>> history = model.fit(np.ones((4, 1)), np.ones((4, 1)) * 1e9, epochs=50, verbose=0,
    ...                     callbacks=[stop])
    >>> len(history.history["loss"]) < 50
    True
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta, callback_name="EarlyStopping")
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self._set_direction()
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._initial_best()
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        current = self._monitored_value(logs, "Early stopping")
        if current is None:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the weights after the first watched epoch.
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
