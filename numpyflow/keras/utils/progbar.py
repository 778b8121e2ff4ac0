"""`Progbar`: the progress line `fit`/`evaluate`/`predict` print, in tf.keras 2.x's format.

    1875/1875 [==============================] - 4s 2ms/step - loss: 0.2168 - accuracy: 0.9395

On a terminal the line is redrawn in place (with an ETA) as steps complete; otherwise
only the finished line is written, so logs are not flooded with partial lines.
"""

import math
import sys
import time

import numpy as np


def _isatty():
    stream = sys.stdout
    return bool(getattr(stream, "isatty", None) and stream.isatty()) or "ipykernel" in sys.modules


def format_value(value):
    """`value` with 4 decimals; a vector (`F1Score(average=None)`) shows its mean, as Keras 3."""
    value = float(value) if isinstance(value, (int, float)) else float(np.mean(value))
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


def _as_array(value):
    """A log value (a Tensor, NumPy scalar or array) as a float64 NumPy array."""
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)


def format_step_time(seconds_per_step, unit="step"):
    if seconds_per_step >= 1 or seconds_per_step == 0:
        return f"{seconds_per_step:.0f}s/{unit}"
    if seconds_per_step >= 1e-3:
        return f"{seconds_per_step * 1e3:.0f}ms/{unit}"
    return f"{seconds_per_step * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """Displays a progress bar.

    Args:
      target: Total number of steps expected, None if unknown.
      width: Width of the bar in characters.
      verbose: 0 silent, 1 the bar, 2 one line at the end.
      interval: Minimum seconds between redraws.
      stateful_metrics: Names whose values are shown as given; other values are averaged
        over the steps seen so far.
      unit_name: What a step is called ("step" or "sample").

    >>> bar = Progbar(2, verbose=2)
    >>> bar.update(1, [("loss", 1.0)]); bar.update(2, [("loss", 0.5)])  # doctest: +ELLIPSIS
    2/2 - 0s - loss: 0.7500 - ...
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        # Anything supporting `in` (ProgbarLogger passes "every name"); set() would empty it.
        self.stateful_metrics = (set(stateful_metrics) if isinstance(stateful_metrics,
                                                                     (list, tuple))
                                 else stateful_metrics if stateful_metrics is not None
                                 else set())
        self.unit_name = unit_name
        self._dynamic_display = _isatty()
        self._values = {}          # name -> [weighted sum, count] or the stateful value
        self._seen_so_far = 0
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._total_width = 0

    def update(self, current, values=None, finalize=None):
        """Records progress up to step `current` with `(name, value)` pairs, and redraws."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            if name in self.stateful_metrics:
                self._values[name] = value
            else:
                step = max(current - self._seen_so_far, 1)
                entry = self._values.setdefault(name, [0.0, 0])
                value = value if isinstance(value, (int, float)) else _as_array(value)
                entry[0] = entry[0] + value * step
                entry[1] += step
        self._seen_so_far = current
        now = time.perf_counter()
        if self.verbose == 1:
            if not finalize and now - self._last_update < self.interval:
                return
            if self._dynamic_display or finalize:
                self._draw_bar(current, now, finalize)
        elif self.verbose == 2 and finalize:
            self._write_summary_line(current, now)
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _metric_text(self):
        parts = []
        for name, entry in self._values.items():
            value = entry[0] / max(entry[1], 1) if isinstance(entry, list) else entry
            parts.append(f" - {name}: {format_value(value)}")
        return "".join(parts)

    def _bar_text(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(self.target)) + 1 if self.target > 0 else 1
        bar = f"{current:{digits}d}/{self.target} ["
        filled = int(self.width * current / self.target) if self.target else self.width
        if filled > 0:
            bar += "=" * (filled - 1) + (">" if current < self.target else "=")
        return bar + "." * (self.width - filled) + "]"

    def _draw_bar(self, current, now, finalize):
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        line = self._bar_text(current)
        if finalize:
            line += f" - {elapsed:.0f}s {format_step_time(per_step, self.unit_name)}"
        else:
            line += f" - ETA: {format_eta(per_step * (self.target - current))}" \
                if self.target is not None else f" - {elapsed:.0f}s"
        line += self._metric_text()
        previous = self._total_width
        self._total_width = len(line)
        if self._dynamic_display:
            # Redraw in place: back to the line start, pad over a longer previous line.
            line = "\r" + line + " " * max(previous - len(line), 0)
        sys.stdout.write(line + ("\n" if finalize else ""))
        sys.stdout.flush()

    def _write_summary_line(self, current, now):
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        count = f"{current}/{self.target}" if self.target is not None else f"{current}"
        sys.stdout.write(f"{count} - {elapsed:.0f}s{self._metric_text()} - "
                         f"{elapsed:.0f}s/epoch - {format_step_time(per_step, self.unit_name)}\n")
        sys.stdout.flush()
