"""`MonitorCallback`: what callbacks that watch one logged quantity share.

EarlyStopping, ReduceLROnPlateau and ModelCheckpoint each watch `monitor` (a key of the
epoch logs, such as "val_loss") and need to know whether a new value is better than the
best so far: lower for losses and errors, higher for accuracies, or as `mode` says.
"""

import logging

import numpy as np

from numpyflow.keras.callbacks.callback import Callback

_log = logging.getLogger("numpyflow")

# Metric names whose values improve upwards; everything that is a loss or an error improves
# downwards. Keras reads this from each metric object; numpyflow's metrics are known by name.
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou", "top_k", "cosine")
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "hinge", "divergence", "mse", "mae",
                    "mape", "msle", "logcosh", "poisson")


class MonitorCallback(Callback):
    """Base class: compares values of `logs[monitor]` by `mode` ("auto", "min" or "max").

    Args:
      monitor: The logged quantity to watch.
      mode: "min" (lower is better), "max" (higher is better) or "auto" (from the name).
      min_delta: The least change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0., callback_name=None):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{callback_name or type(self).__name__} mode '{mode}' is unknown. "
                             f"Expected one of 'auto', 'min' or 'max'.")
        self.mode = mode
        self._lower_is_better = None

    def _set_direction(self):
        """Works out once whether lower values are better (needs the model for 'auto')."""
        if self.mode != "auto":
            self._lower_is_better = self.mode == "min"
            return
        name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
        name = name.lower()
        if any(marker in name for marker in _HIGHER_IS_BETTER):
            self._lower_is_better = False
        elif any(marker in name for marker in _LOWER_IS_BETTER):
            self._lower_is_better = True
        else:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but numpyflow "
                f"cannot tell whether that metric should be maximized or minimized. Pass "
                f"`mode='max'` to act on the highest value, or `mode='min'` for the lowest.")

    def _initial_best(self):
        return np.inf if self._lower_is_better else -np.inf

    def _is_improvement(self, value, reference):
        if self._lower_is_better:
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def _monitored_value(self, logs, what):
        """`logs[monitor]` as a float, or None with a warning saying which keys exist."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            _log.warning("%s conditioned on metric `%s` which is not available. Available "
                         "metrics are: %s", what, self.monitor, ",".join(logs or {}))
            return None
        return float(value)
