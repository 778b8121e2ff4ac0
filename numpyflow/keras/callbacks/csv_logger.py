"""`CSVLogger`: writes each epoch's logs as a row of a CSV file."""

import csv
import os

import numpy as np

from numpyflow.keras.callbacks.callback import Callback


class CSVLogger(Callback):
    """Streams epoch results to a CSV file: a header row, then one row per epoch.

    Args:
      filename: The CSV file's path.
      separator: The field separator.
      append: Whether to append to an existing file (its header is kept) instead of
        overwriting it.

    >>> logger = CSVLogger("training.log", separator=";", append=True)
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self._file = None
        self._writer = None
        self._header_written = False

    def on_train_begin(self, logs=None):
        existing = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self._header_written = existing
        if existing:  # Continue with the columns the file already has.
            with open(self.filename, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.sep), None)
            self.keys = header[1:] if header else None
        else:
            self.keys = None
        self._file = open(self.filename, "a" if self.append else "w", newline="",
                          encoding="utf-8")
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep, extrasaction="ignore")
            if not self._header_written:
                self._writer.writeheader()
                self._header_written = True
        row = {"epoch": epoch}
        # A quantity missing this epoch (e.g. no validation) is written as NA, as Keras does.
        row.update({key: _text(logs[key]) if key in logs else "NA" for key in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
        self._writer = None


def _text(value):
    """A float, or for a vector result (F1Score(average=None)) "[a, b, c]" as Keras writes."""
    if np.ndim(value) == 0:
        return float(value)
    return "[" + ", ".join(str(float(x)) for x in np.ravel(value)) + "]"
