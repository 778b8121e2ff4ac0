"""`tf.train.CheckpointManager` and `tf.train.latest_checkpoint`.

Each checkpoint directory holds an index file named `checkpoint`, as in TF, but in
numpyflow's own format: JSON, `{"format": "numpyflow.train.CheckpointState", "version": 1,
"model_checkpoint_path": "ckpt-3", "all_model_checkpoint_paths": ["ckpt-2", "ckpt-3"]}`,
with the prefixes relative to the directory. It is replaced atomically, and a checkpoint
file is deleted only after the index stops naming it, so the index never names a
checkpoint that is gone (a kill in between leaves at worst an unlisted old file).

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> directory = tempfile.mkdtemp()
    >>> ckpt = tf.train.Checkpoint(step=tf.Variable(0))
    >>> manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=2)
    >>> for _ in range(3):
    ...     _ = manager.save()
    >>> [os.path.basename(path) for path in manager.checkpoints]
    ['ckpt-2', 'ckpt-3']
    >>> tf.train.latest_checkpoint(directory) == manager.latest_checkpoint
    True
"""

import contextlib
import json
import os

from numpyflow.framework import file_safety
from numpyflow.train import checkpoint_file

INDEX_FILE = "checkpoint"
_FORMAT = "numpyflow.train.CheckpointState"
_VERSION = 1
# The index is a few names; a larger file is not one this module wrote.
_MAX_INDEX_BYTES = 1 << 24


def _read_state(directory, latest_filename=None):
    """The index of `directory` as (latest prefix or None, [prefixes]), absolute paths;
    (None, []) when there is no index."""
    path = os.path.join(directory, latest_filename or INDEX_FILE)
    try:
        with open(path, "rb") as index:
            data = index.read(_MAX_INDEX_BYTES + 1)
    except FileNotFoundError:
        return None, []
    if len(data) > _MAX_INDEX_BYTES:
        raise ValueError(f"{path!r} is larger than {_MAX_INDEX_BYTES} bytes: not a numpyflow "
                         f"checkpoint index.")
    try:
        state = json.loads(data.decode("utf-8"))
    except ValueError as error:
        raise ValueError(f"{path!r} is not a numpyflow checkpoint index (JSON; TF's own "
                         f"checkpoint files are not supported): {error}") from error
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"{path!r} is not a numpyflow checkpoint index: expected a JSON "
                         f"object with format {_FORMAT!r}.")
    if state.get("version") != _VERSION:
        raise ValueError(f"{path!r}: checkpoint index version {state.get('version')!r} is not "
                         f"supported (expected {_VERSION}).")
    latest = state.get("model_checkpoint_path")
    paths = state.get("all_model_checkpoint_paths", [])
    if not (latest is None or isinstance(latest, str)) or not isinstance(paths, list) or \
            not all(isinstance(p, str) for p in paths):
        raise ValueError(f"{path!r}: `model_checkpoint_path` must be a string and "
                         f"`all_model_checkpoint_paths` a list of strings.")

    def absolute(prefix):
        return prefix if os.path.isabs(prefix) else os.path.join(directory, prefix)

    return (absolute(latest) if latest else None), [absolute(p) for p in paths]


def _write_state(directory, latest, paths):
    def relative(prefix):
        return (os.path.basename(prefix)
                if os.path.dirname(os.path.abspath(prefix)) == os.path.abspath(directory)
                else os.path.abspath(prefix))

    state = {"format": _FORMAT, "version": _VERSION,
             "model_checkpoint_path": relative(latest),
             "all_model_checkpoint_paths": [relative(p) for p in paths]}
    with file_safety.atomic_path(os.path.join(directory, INDEX_FILE)) as tmp:
        with open(tmp, "w", encoding="utf-8") as index:
            json.dump(state, index, indent=1)


def record_checkpoint(prefix):
    """Records `prefix` as the latest checkpoint of its directory (keeping the others)."""
    directory = os.path.dirname(os.path.abspath(prefix))
    _, paths = _read_state(directory)
    prefix = os.path.abspath(prefix)
    paths = [p for p in paths if os.path.abspath(p) != prefix] + [prefix]
    _write_state(directory, prefix, paths)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, or None.

    Args:
      checkpoint_dir: A directory where `Checkpoint.save` or a `CheckpointManager` saved.
      latest_filename: The index file's name, `"checkpoint"` by default.

    Returns:
      The prefix (pass it to `Checkpoint.restore`), or None if the directory has no
      index or its latest checkpoint file is missing.

    >>> import tempfile
    >>> latest_checkpoint(tempfile.mkdtemp()) is None
    True
    """
    latest, _ = _read_state(os.fspath(checkpoint_dir), latest_filename)
    if latest is None or not checkpoint_file.checkpoint_exists(latest):
        return None
    return latest


class CheckpointManager:
    """Saves numbered checkpoints in a directory and deletes all but the newest few.

    On creation it takes over the checkpoints the directory's index lists (as TF does),
    so `latest_checkpoint` is the last one saved before, e.g. by a previous run.

    Args:
      checkpoint: The `tf.train.Checkpoint` to save and restore.
      directory: Where to write; created on the first save.
      max_to_keep: How many checkpoints to keep (the oldest are deleted); None keeps all.
      keep_checkpoint_every_n_hours, step_counter, checkpoint_interval: not supported
        (NotImplementedError when given).
      checkpoint_name: The prefix of the file names: `ckpt-1`, `ckpt-2`, ...
      init_fn: Called by `restore_or_initialize()` when there is no checkpoint.

    >>> import tempfile
    >>> import numpyflow as tf
    >>> v = tf.Variable(1.)
    >>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), tempfile.mkdtemp(), 1)
    >>> path = manager.save()
    >>> _ = v.assign(5.)
    >>> _ = manager.checkpoint.restore(manager.latest_checkpoint)
    >>> float(v)
    1.0
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None,
                 init_fn=None):
        if not hasattr(checkpoint, "_checkpoint_children") or not hasattr(checkpoint, "write"):
            raise TypeError(f"CheckpointManager expects a tf.train.Checkpoint; received "
                            f"checkpoint={checkpoint!r}.")
        for name, value in (("keep_checkpoint_every_n_hours", keep_checkpoint_every_n_hours),
                            ("step_counter", step_counter),
                            ("checkpoint_interval", checkpoint_interval)):
            if value is not None:
                raise NotImplementedError(f"tf.train.CheckpointManager: `{name}` is not "
                                          f"supported yet; received {name}={value!r}.")
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep <= 0):
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep!r}.")
        if not checkpoint_name or "/" in checkpoint_name or os.sep in checkpoint_name:
            raise ValueError(f"`checkpoint_name` must be a plain file name; received "
                             f"checkpoint_name={checkpoint_name!r}.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._init_fn = init_fn
        latest, paths = _read_state(self._directory)
        self._maybe_delete = [p for p in paths if checkpoint_file.checkpoint_exists(p)]
        self._latest = latest if latest and checkpoint_file.checkpoint_exists(latest) else None

    @property
    def checkpoint(self):
        """The managed `tf.train.Checkpoint`."""
        return self._checkpoint

    @property
    def directory(self):
        return self._directory

    @property
    def latest_checkpoint(self):
        """The prefix of the newest checkpoint, or None."""
        return self._latest

    @property
    def checkpoints(self):
        """The prefixes of the kept checkpoints, oldest first."""
        return list(self._maybe_delete)

    @property
    def checkpoint_interval(self):
        return None

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Saves a checkpoint numbered `checkpoint_number` (by default the incremented
        `save_counter`), records it in the index, and deletes the oldest beyond
        `max_to_keep`.

        Returns:
          The new checkpoint's prefix, e.g. `".../ckpt-3"`.
        """
        if options is not None:
            raise NotImplementedError(f"CheckpointManager.save: `options` is not supported; "
                                      f"received options={options!r}.")
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        number = int(counter.numpy()) if checkpoint_number is None else int(checkpoint_number)
        prefix = f"{self._prefix}-{number}"
        os.makedirs(self._directory, exist_ok=True)
        self._checkpoint.write(prefix)
        prefix = os.path.join(self._directory, os.path.basename(prefix))
        kept = [p for p in self._maybe_delete if os.path.abspath(p) != os.path.abspath(prefix)]
        kept.append(prefix)
        doomed = []
        if self._max_to_keep is not None:
            doomed, kept = kept[:-self._max_to_keep], kept[-self._max_to_keep:]
        _write_state(self._directory, prefix, kept)  # Before deleting: never a dangling index.
        for old in doomed:
            with contextlib.suppress(FileNotFoundError):
                os.remove(checkpoint_file.checkpoint_file(old))
        self._maybe_delete = kept
        self._latest = prefix
        return prefix

    def restore_or_initialize(self):
        """Restores the latest checkpoint if there is one, else calls `init_fn`.

        Returns:
          The restored prefix, or None when it initialized.
        """
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None
