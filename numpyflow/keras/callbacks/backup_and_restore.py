"""`BackupAndRestore`: an interrupted `fit` resumes where it stopped.

The backup directory holds Keras 3's two files: `latest.weights.h5` (the model's and the
optimizer's variables, Keras 3's `.weights.h5` layout, readable by `model.load_weights`)
and `training_metadata.json` (`{"epoch": ..., "batch": ...}` as Keras writes it). The JSON
file also records what a bit-identical resumption needs beyond Keras: the state of the
random streams (`numpyflow.ops.random_ops.get_state`), the number of steps of the epoch
already run, and the SHA-256 of the weights file it belongs to.

Each save is a small commit: the new weights go to `latest.weights.h5.next`, then the
JSON file naming their hash replaces the old one (the commit point), then the weights are
renamed into place; every write is atomic. A run killed at any moment leaves either the
old pair or the new one, and loading finishes an interrupted rename. Loading reads JSON
and HDF5 through the checked readers: nothing in the directory can run code.
"""

import hashlib
import json
import logging
import os
import shutil
import tempfile

import numpy as np

from numpyflow.distribute import distributed_file_utils
from numpyflow.framework import file_safety
from numpyflow.keras.callbacks.callback import Callback
from numpyflow.ops import random_ops

_log = logging.getLogger("numpyflow")

_WEIGHTS = "latest.weights.h5"
_METADATA = "training_metadata.json"
_PENDING = ".next"   # New weights, not yet committed by the metadata.
_PREVIOUS = ".bkp"   # The previous pair, kept with `double_checkpoint=True` (Keras's names).
_MAX_METADATA_BYTES = 1 << 20


class BackupError(ValueError):
    """A backup that cannot be used; the message names the file and what is wrong."""


class BackupAndRestore(Callback):
    """Backs up the training state so that an interrupted `fit` resumes where it stopped.

    At the end of each epoch (or every `save_freq` batches) the callback saves the model's
    weights, the optimizer's state and the epoch reached to `backup_dir`. When `fit` starts
    and a backup exists, it restores them and training goes on from that epoch, or from
    the batch after the last backup with an int `save_freq`; `fit` must be called with the
    same model, compile arguments, data and `epochs`. After a `fit` that ends normally the
    backup is deleted (`delete_checkpoint=True`).

    Beyond Keras, the state of numpyflow's random streams is saved and restored too (the
    global seed's stream and each op seed's stream: shuffling, dropout, augmentation), so a
    resumed run with `tf.random.set_seed` computes the same weights, bit for bit, as one that
    was never interrupted. Not restored: other callbacks' state (as in Keras) and the
    metrics of a partly run epoch (its logged values cover the steps after the restart).
    With a `steps_per_epoch` that spreads one pass over the data across epochs, a resumed
    run starts a new pass at the resumed epoch, as Keras does. A backup written by Keras 3's
    own callback is restored as Keras restores it: its weights, and the start of its epoch.

    Deleting the backup removes the files this callback writes and then `backup_dir` if it
    is empty, where Keras deletes the whole directory; keep the directory for this alone.

    Args:
      backup_dir: The directory for the backup (created when needed). Use a separate one
        for each training run.
      save_freq: "epoch" to back up at the end of each epoch, or an int `n` to back up
        every `n` batches (then `fit` resumes after the last batch backed up).
      double_checkpoint: Also keep the previous backup (`*.bkp`); if the latest one cannot
        be read, the previous one is restored.
      delete_checkpoint: Delete the backup at the end of a `fit` that completes.

    Example:

    >>> import numpy as np, numpyflow as tf, tempfile
    >>> model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = tf.keras.callbacks.BackupAndRestore(tempfile.mkdtemp())
    >>> history = model.fit(np.ones((4, 2)), np.ones(4), epochs=2, callbacks=[backup],
    ...                     verbose=0)
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: "
                             f"backup_dir={backup_dir!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            if save_freq is False:
                raise NotImplementedError(
                    "BackupAndRestore: save_freq=False (saving only before preemption) is not "
                    "supported; numpyflow has no preemption signal. Use 'epoch' or an int.")
            raise ValueError(f"Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq!r}. Expected either 'epoch' or a positive "
                             f"integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._weights_path = os.path.join(self.backup_dir, _WEIGHTS)
        self._metadata_path = os.path.join(self.backup_dir, _METADATA)
        self._current_epoch = 0
        self._steps_done = 0          # Steps of the current epoch run so far.
        self._batches_since_save = 0
        self._epoch_random_state = None
        self._pending_random_state = None
        self._resumed_logs = {}

    # -- restoring ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._current_epoch = 0
        self._steps_done = 0
        self._batches_since_save = 0
        self._pending_random_state = None
        # Under tf.distribute only the chief writes to `backup_dir`; the other replicas
        # write to a temporary dir of their own (outside `backup_dir`, which the chief
        # may delete at any moment), removed at the end of training.
        strategy = distributed_file_utils.strategy_of(self.model)
        chief = distributed_file_utils.write_dirpath(self.backup_dir, strategy) == self.backup_dir
        write_dir = self.backup_dir if chief else tempfile.mkdtemp(prefix="backup_workertemp_")
        self._temp_dir = None if chief else write_dir
        self._weights_path = os.path.join(write_dir, _WEIGHTS)
        self._metadata_path = os.path.join(write_dir, _METADATA)
        if not getattr(self.model, "built", True):
            raise ValueError(
                f"To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model.name!r} is unbuilt. You can build it "
                f"beforehand by calling it on a batch of data.")
        if not chief:
            return  # Only the chief restores; `fit` gives every replica the chief's state.
        try:
            self._restore()
        except (BackupError, OSError) as error:
            if not (self.double_checkpoint and os.path.exists(self._metadata_path + _PREVIOUS)):
                raise
            _log.warning("%s Restoring the previous backup instead.", error)
            self._reinstate_previous()
            self._restore()

    def _reinstate_previous(self):
        """Makes the previous backup (`*.bkp`) the latest, committed as `_save` commits."""
        previous = self._metadata_path + _PREVIOUS
        metadata = _read_metadata(previous)
        with open(self._weights_path + _PREVIOUS, "rb") as f:
            weights = f.read()
        expected = metadata["weights_sha256"]
        if expected is not None and hashlib.sha256(weights).hexdigest() != expected:
            raise BackupError(f"BackupAndRestore: {self._weights_path + _PREVIOUS} does not "
                              f"match {previous} either; no usable backup is left.")
        with open(previous, "rb") as f:
            metadata_bytes = f.read()
        _write_bytes(self._weights_path + _PENDING, weights)
        _write_bytes(self._metadata_path, metadata_bytes)
        os.replace(self._weights_path + _PENDING, self._weights_path)

    def _restore(self):
        metadata = self._read_backup()
        if metadata is None:
            return
        epoch, steps = metadata["epoch"], metadata["steps_done"]
        steps_per_epoch = self.params.get("steps")
        if steps_per_epoch is not None and steps > steps_per_epoch:
            raise ValueError(
                f"BackupAndRestore: the backup in {self.backup_dir} was made after step {steps} "
                f"of epoch {epoch + 1}, but an epoch of this fit() has {steps_per_epoch} steps. "
                f"Resume with the same data, batch_size and steps_per_epoch.")
        try:
            if steps:
                # The epoch's shuffle is drawn again from the state the epoch started with;
                # the state after the last step backed up takes over at the first step run.
                random_ops.set_state(metadata["epoch_random_state"])
                self._epoch_random_state = metadata["epoch_random_state"]
                self._pending_random_state = metadata["random_state"]
                self._resumed_logs = dict(metadata.get("logs") or {})
            elif metadata["random_state"] is not None:
                random_ops.set_state(metadata["random_state"])
        except (KeyError, ValueError) as error:
            raise BackupError(f"BackupAndRestore: {self._metadata_path} holds no "
                              f"valid random state: {error}") from error
        self.model._initial_epoch = epoch
        self.model._initial_step = steps
        self._current_epoch = epoch
        self._steps_done = steps
        _log.info("BackupAndRestore: resuming from %s at epoch %d%s.", self.backup_dir,
                  epoch + 1, f", step {steps + 1}" if steps else "")

    def _read_backup(self):
        """The metadata of a complete backup (its weights loaded), or None if there is none."""
        metadata_path, weights_path = self._metadata_path, self._weights_path
        if not os.path.exists(metadata_path):
            if os.path.exists(weights_path):
                raise BackupError(f"BackupAndRestore: {weights_path} exists but {metadata_path} "
                                  f"does not; the backup is incomplete.")
            return None
        metadata = _read_metadata(metadata_path)
        expected = metadata["weights_sha256"]
        if expected is not None and _sha256(weights_path) != expected:
            # Killed after committing the metadata, before renaming the new weights in place.
            if _sha256(weights_path + _PENDING) == expected:
                os.replace(weights_path + _PENDING, weights_path)
        if expected is not None and _sha256(weights_path) != expected:
            raise BackupError(f"BackupAndRestore: {weights_path} does not match {metadata_path} "
                              f"(its SHA-256 differs from the one recorded); the backup is "
                              f"damaged.")
        self.model.load_weights(weights_path)
        return metadata

    # -- backing up -----------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        if self._pending_random_state is None:
            self._current_epoch = epoch
            self._steps_done = 0
            if self.save_freq != "epoch":
                self._epoch_random_state = random_ops.get_state()

    def on_train_batch_begin(self, batch, logs=None):
        if self._pending_random_state is not None:
            random_ops.set_state(self._pending_random_state)
            self._pending_random_state = None

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._steps_done = batch + 1
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(epoch=self._current_epoch, steps_done=self._steps_done,
                       logs={name: np.asarray(value).tolist()  # Vector results too.
                             for name, value in (logs or {}).items()})

    def on_epoch_end(self, epoch, logs=None):
        if self._pending_random_state is not None:
            # Resumed after the epoch's last step: no step ran, so the trainer has no
            # training logs for this epoch; the ones backed up are the epoch's (for the
            # callbacks after this one, History among them).
            random_ops.set_state(self._pending_random_state)
            self._pending_random_state = None
            if logs is not None:
                for name, value in self._resumed_logs.items():
                    logs.setdefault(name, value)
        self._current_epoch = epoch + 1
        self._steps_done = 0
        if self.save_freq == "epoch":
            self._save(epoch=epoch + 1, steps_done=0)

    def _save(self, epoch, steps_done, logs=None):
        from numpyflow.keras.saving import keras_archive

        os.makedirs(os.path.dirname(self._weights_path), exist_ok=True)
        data = keras_archive.write_weights_h5_bytes(self.model, include_optimizer=True)
        metadata = {"epoch": epoch, "batch": max(steps_done - 1, 0), "steps_done": steps_done,
                    "weights_sha256": hashlib.sha256(data).hexdigest(),
                    "random_state": random_ops.get_state()}
        if steps_done:
            metadata["epoch_random_state"] = self._epoch_random_state
            metadata["logs"] = logs
        _write_bytes(self._weights_path + _PENDING, data)
        if self.double_checkpoint and os.path.exists(self._metadata_path):
            # The current pair is complete here (a pending rename was finished on restore).
            for path in (self._weights_path, self._metadata_path):
                with open(path, "rb") as f:
                    _write_bytes(path + _PREVIOUS, f.read())
        _write_bytes(self._metadata_path, json.dumps(metadata).encode("utf-8"))  # The commit.
        os.replace(self._weights_path + _PENDING, self._weights_path)

    # -- deleting -------------------------------------------------------------------------------
    def on_train_end(self, logs=None):
        if getattr(self, "_temp_dir", None) is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            return
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir):
            return
        ours = {name + suffix for name in (_WEIGHTS, _METADATA)
                for suffix in ("", _PENDING, _PREVIOUS)}
        for name in os.listdir(self.backup_dir):
            stray = name.startswith("." + _WEIGHTS) or name.startswith("." + _METADATA)
            if name in ours or (stray and name.endswith(".tmp")):  # atomic_path's temp files
                os.unlink(os.path.join(self.backup_dir, name))
        if not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)


def _write_bytes(path, data):
    with file_safety.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def _sha256(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def _read_metadata(path):
    """The backup's JSON, checked: ints where ints belong, a hash, random states."""
    with open(path, "rb") as f:
        raw = f.read(_MAX_METADATA_BYTES + 1)
    if len(raw) > _MAX_METADATA_BYTES:
        raise BackupError(f"BackupAndRestore: {path} is larger than {_MAX_METADATA_BYTES} "
                          f"bytes; expected a small JSON file.")
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BackupError(f"BackupAndRestore: {path} is not valid JSON: {error}") from error
    if not isinstance(metadata, dict):
        raise BackupError(f"BackupAndRestore: {path} holds {type(metadata).__name__}; "
                          f"expected a JSON object.")
    if set(metadata) == {"epoch", "batch"}:
        # Written by Keras 3's callback: resumed as Keras resumes, at the start of `epoch`,
        # with the weights as they are (Keras records no hash) and no random state.
        metadata = dict(metadata, steps_done=0, weights_sha256=None, random_state=None)
    for key in ("epoch", "batch", "steps_done"):
        value = metadata.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BackupError(f"BackupAndRestore: {path} has {key}={value!r}; expected an "
                              f"integer >= 0. Was this backup written by numpyflow?")
    sha256 = metadata.get("weights_sha256", False)
    if sha256 is not None and not isinstance(sha256, str):
        raise BackupError(f"BackupAndRestore: {path} records no 'weights_sha256'; expected "
                          f"the hash of {_WEIGHTS}. Was this backup written by numpyflow?")
    logs = metadata.get("logs")
    if logs is not None and not (isinstance(logs, dict) and all(
            isinstance(value, (int, float)) and not isinstance(value, bool)
            for value in logs.values())):
        raise BackupError(f"BackupAndRestore: {path} has logs={logs!r:.200}; expected a JSON "
                          f"object of numbers.")
    return metadata
