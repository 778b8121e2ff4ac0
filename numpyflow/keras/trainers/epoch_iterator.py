"""`EpochIterator`: the one place fit, evaluate and predict get their batches from.

Who does what, as in Keras 3:

- a data adapter (`data_adapters/`) knows a kind of data — arrays today, `tf.data`
  datasets later: how to cut it into batches, shuffling, the batch size;
- the epoch iterator knows epochs: how many steps one holds (`steps_per_epoch`), and
  where the next epoch starts when an epoch stops before the data runs out;
- the trainer knows the rest: validation, callbacks, epochs.
"""

import logging

from numpyflow.keras.trainers import data_adapters
from numpyflow.keras.trainers.data_adapters import data_adapter_utils

_log = logging.getLogger("numpyflow")


class EpochIterator:
    """Yields `(step, batch)` for each step of an epoch, epoch after epoch.

    Without `steps_per_epoch`, an epoch is one pass over the data. With it, an epoch is
    that many steps, and the next epoch goes on where the last one stopped; when the
    data runs out first, the epoch ends early with a warning and the next one starts
    over (Keras 3's behaviour).

    Args:
      x, y, sample_weight, class_weight: The data, as given to `fit`.
      batch_size: Samples per batch (None: 32, or as `steps_per_epoch` needs).
      steps_per_epoch: Steps per epoch, or None for one pass over the data.
      shuffle: Whether (True, "batch", False) the adapter shuffles each pass.
      shuffle_seed: Optional seed of the arrays' shuffling (see `ArrayDataAdapter`).

    >>> import numpy as np
    >>> iterator = EpochIterator(np.zeros((5, 2)), np.ones(5), batch_size=2)
    >>> [(step, len(batch[0])) for step, batch in iterator.enumerate_epoch()]
    [(0, 2), (1, 2), (2, 1)]
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, class_weight=None, shuffle_seed=None):
        if steps_per_epoch is not None:
            steps_per_epoch = data_adapter_utils.check_steps(steps_per_epoch, "steps")
        self.steps_per_epoch = steps_per_epoch
        self.data_adapter = data_adapters.get_data_adapter(
            x, y, sample_weight=sample_weight, batch_size=batch_size,
            steps_per_epoch=self.steps_per_epoch, shuffle=shuffle, class_weight=class_weight,
            shuffle_seed=shuffle_seed)
        self._current_iterator = None  # A pass over the data that an epoch left unfinished.
        self._steps_seen = 0           # Batches taken from that pass.

    @property
    def num_batches(self):
        """Steps in one epoch (None when the data does not say)."""
        return self.steps_per_epoch or self.data_adapter.num_batches

    def reset(self):
        """Makes the next epoch start a new pass over the data."""
        self._current_iterator = None
        self._steps_seen = 0

    def enumerate_epoch(self):
        """The `(step, batch)` pairs of one epoch."""
        if self.steps_per_epoch is None:
            # The common case, one pass per epoch: nothing to count on each step (and no
            # generator of our own, as predict(x) on one sample runs this).
            return enumerate(self.data_adapter.get_numpy_iterator())
        return self._enumerate_steps()

    def _enumerate_steps(self):
        num_batches = self.data_adapter.num_batches
        if self._current_iterator is None:
            self._current_iterator = self.data_adapter.get_numpy_iterator()
            self._steps_seen = 0
        for step in range(self.steps_per_epoch):
            if num_batches is not None and self._steps_seen >= num_batches:
                _warn_ran_out(step, self.steps_per_epoch)
                break
            try:
                batch = next(self._current_iterator)
            except StopIteration:  # A dataset of unknown length ran out.
                _warn_ran_out(step, self.steps_per_epoch)
                self.reset()
                return
            self._steps_seen += 1
            yield step, batch
        if num_batches is not None and self._steps_seen >= num_batches:
            self.reset()


def _warn_ran_out(step, steps_per_epoch):
    _log.warning("Your input ran out of data; interrupting the epoch after %d of "
                 "steps_per_epoch=%d steps. Make sure that your data can generate at least "
                 "`steps_per_epoch * epochs` batches.", step, steps_per_epoch)
