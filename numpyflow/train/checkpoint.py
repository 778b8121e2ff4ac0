"""`tf.train.Checkpoint`: saves and restores the Variables of a graph of objects.

Objects are tracked by path, so a checkpoint restores into *new* objects built the same
way (a fresh model and optimizer in a new process), not only into the ones that saved it.
The path of a Variable is the chain of names that leads to it from the checkpoint:

  * `Checkpoint(name=obj)`: `obj` is reached as `name`;
  * a Variable is saved as itself, at its path;
  * a list or tuple: its items at `<path>/0`, `<path>/1`, ...; a dict: at `<path>/<key>`
    (string keys);
  * an object with a `_checkpoint_children()` method (a nested `Checkpoint`): each
    `(name, child)` it returns at `<path>/<name>`;
  * any other object with a `variables` attribute or property (Keras layers, models,
    optimizers and metrics; a list, or a method returning one): its variables, in that
    order, at `<path>/variables/0`, `<path>/variables/1`, ...

A Keras model's `variables` are its layers' weights in layer order, and an optimizer's
are `iterations` then its slots in the order of the variables it was built for; so a
model and optimizer built the same way restore each value into the right Variable.

Deferred restoration: values saved for an object's variables that it does not have yet
(an optimizer's slots before its first step, a layer before it is built) are kept on the
object (`_checkpoint_deferred`) and assigned when its owner calls `restore_deferred(obj)`
after creating them. Until then `assert_consumed()` names them.

The on-disk layout is numpyflow's own (one HDF5 file per checkpoint, see
`checkpoint_file`); TF's `.index`/`.data-*` files are neither read nor written.

    >>> import os, tempfile
    >>> import numpyflow as tf
    >>> v = tf.Variable([1., 2.])
    >>> ckpt = tf.train.Checkpoint(v=v)
    >>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
    >>> os.path.basename(path)
    'ckpt-1'
    >>> _ = v.assign([0., 0.])
    >>> _ = ckpt.restore(path).assert_consumed()
    >>> v.numpy()
    array([1., 2.], dtype=float32)
"""

import logging
import os

from numpyflow.framework import dtypes
from numpyflow.framework.variable import Variable
from numpyflow.train import checkpoint_file, checkpoint_management

_log = logging.getLogger("numpyflow")

# Restored when saved; a checkpoint without it (written elsewhere) is not missing anything.
_SAVE_COUNTER = "save_counter"


class Checkpoint:
    """Groups objects whose Variables are saved and restored together (see module doc).

    Args:
      root: Optional object whose own variables and children are tracked at the top
        level (its paths have no leading name).
      **kwargs: The objects to track, by name: Variables, Keras models, layers and
        optimizers, lists/tuples/dicts of them, nested Checkpoints.

    >>> import numpyflow as tf
    >>> step = tf.Variable(0, dtype=tf.int64)
    >>> ckpt = tf.train.Checkpoint(step=step)
    >>> sorted(name for name, _ in ckpt._checkpoint_children())
    ['save_counter', 'step']
    """

    def __init__(self, root=None, **kwargs):
        if _SAVE_COUNTER in kwargs:
            raise ValueError(f"`{_SAVE_COUNTER}` is a reserved name in tf.train.Checkpoint; "
                             f"received an object for it: {kwargs[_SAVE_COUNTER]!r}.")
        for name, value in kwargs.items():
            _check_trackable(value, name)
        if root is not None:
            _check_trackable(root, "root")
        self._root = root
        self._objects = dict(kwargs)
        self._save_counter = Variable(0, dtype=dtypes.int64, trainable=False,
                                      name="save_counter")

    def __getattr__(self, name):
        # `ckpt.model`, as in TF. Only reached for names not found the normal way.
        objects = self.__dict__.get("_objects")
        if objects is not None and name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    @property
    def save_counter(self):
        """An int64 Variable: how many times `save()` ran (saved and restored with it)."""
        return self._save_counter

    def _checkpoint_children(self):
        """`(name, object)` pairs: the tracking protocol (see module doc)."""
        children = list(_children(self._root, "")) if self._root is not None else []
        names = {name for name, _ in children}
        for name, value in self._objects.items():
            if name in names:
                raise ValueError(f"tf.train.Checkpoint: `{name}` names both a keyword "
                                 f"argument and a child of `root`.")
            children.append((name, value))
        children.append((_SAVE_COUNTER, self._save_counter))
        return children

    # -- saving -------------------------------------------------------------------------------
    def write(self, file_prefix, options=None):
        """Writes a checkpoint to `file_prefix` as it is, without numbering it.

        Unlike `save`, it neither increments `save_counter` nor records the checkpoint
        for `tf.train.latest_checkpoint`.

        Returns:
          `file_prefix` (pass it to `read` or `restore`).
        """
        _refuse_options(options, "write")
        prefix = os.fspath(file_prefix)
        items = [(path, variable.numpy()) for path, variable in _variables_by_path(self)]
        checkpoint_file.write_checkpoint(prefix, items)
        return prefix

    def save(self, file_prefix, options=None):
        """Saves a numbered checkpoint: `f"{file_prefix}-{n}"`, n = `save_counter` + 1.

        Increments `save_counter` first, and records the checkpoint as the latest of its
        directory (the `checkpoint` index file read by `tf.train.latest_checkpoint`).

        Returns:
          The checkpoint's prefix, e.g. `"/tmp/ckpt-1"`.
        """
        _refuse_options(options, "save")
        self._save_counter.assign_add(1)
        prefix = f"{os.fspath(file_prefix)}-{int(self._save_counter.numpy())}"
        self.write(prefix)
        checkpoint_management.record_checkpoint(prefix)
        return prefix

    # -- restoring ----------------------------------------------------------------------------
    def restore(self, save_path, options=None):
        """Restores the values saved at `save_path` into the tracked Variables.

        Values for Variables that do not exist yet are deferred (see module doc).
        Nothing is assigned unless every matched value has its Variable's shape and dtype.

        Args:
          save_path: A prefix from `save`/`write`/`CheckpointManager`, or None (then
            nothing is restored: TF's way of starting from scratch).

        Returns:
          A `CheckpointLoadStatus`: call `assert_consumed()`,
          `assert_existing_objects_matched()` or `expect_partial()` on it.

        Raises:
          FileNotFoundError: No checkpoint at `save_path`.
          ValueError: A saved value's shape or dtype differs from its Variable's (the
            message names the path and both shapes).
        """
        _refuse_options(options, "restore")
        if save_path is None:
            return InitializationOnlyStatus()
        return _restore(self, os.fspath(save_path))

    def read(self, save_path, options=None):
        """Restores a checkpoint written by `write` (as `restore`, without numbering)."""
        _refuse_options(options, "read")
        return _restore(self, os.fspath(save_path))


# -- the object graph -------------------------------------------------------------------------
def _check_trackable(value, name):
    if not _is_trackable(value):
        raise ValueError(f"`Checkpoint` was expecting {name} to be a trackable object (a "
                         f"Variable, an object with `variables` such as a Keras model, "
                         f"layer or optimizer, a Checkpoint, or a list/tuple/dict of them), "
                         f"got {value!r}.")


def _is_trackable(value):
    return (isinstance(value, (Variable, list, tuple, dict)) or
            hasattr(value, "_checkpoint_children") or hasattr(value, "variables"))


def _children(obj, path):
    """`(name, child)` pairs of `obj` (a trackable object that is not a Variable)."""
    if isinstance(obj, (list, tuple)):
        return [(str(index), item) for index, item in enumerate(obj)]
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, str):
                raise ValueError(f"Checkpoint: the dict at {path or 'the root'!r} has the key "
                                 f"{key!r}; only string keys can name checkpoint paths.")
        return list(obj.items())
    children = getattr(obj, "_checkpoint_children", None)
    if children is not None:
        return list(children())
    return [("variables", _variables_of(obj))]


def _variables_of(obj):
    variables = obj.variables
    if callable(variables) and not isinstance(variables, (list, tuple)):
        variables = variables()
    return list(variables)


def _join(path, name):
    if "/" in name:
        raise ValueError(f"Checkpoint: the name {name!r} under {path or 'the root'!r} "
                         f"contains '/', which separates the names of a checkpoint path.")
    return f"{path}/{name}" if path else name


def _walk(root):
    """Yields `(path, obj)` for every object below `root`, depth first in child order.

    An object reached twice is walked once (the first path names it); a cycle ends there.
    """
    seen = set()
    stack = [("", root)]
    while stack:
        path, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield path, obj
        if isinstance(obj, Variable):
            continue
        children = []
        for name, child in _children(obj, path):
            child_path = _join(path, str(name))
            if not _is_trackable(child):
                raise ValueError(f"Checkpoint: {child_path!r} is {child!r}, which is not "
                                 f"trackable (a Variable, an object with `variables`, a "
                                 f"Checkpoint, or a list/tuple/dict of them).")
            children.append((child_path, child))
        stack.extend(reversed(children))


def _variables_by_path(root):
    return [(path, obj) for path, obj in _walk(root) if isinstance(obj, Variable)]


def _deferral_owners(root):
    """`(path, obj)` of the objects tracked through their `variables` (those that can
    receive deferred values)."""
    return [(path, obj) for path, obj in _walk(root)
            if not isinstance(obj, (Variable, list, tuple, dict)) and
            not hasattr(obj, "_checkpoint_children")]


# -- restoring --------------------------------------------------------------------------------
def _restore(checkpoint, save_path):
    with checkpoint_file.CheckpointReader(save_path) as reader:
        saved = set(reader.paths)
        targets = [(path, variable) for path, variable in _variables_by_path(checkpoint)
                   if path in saved]
        # Check every shape and dtype before assigning anything: no half-restored state.
        mismatches = []
        for path, variable in targets:
            shape, dtype = reader.dataset_shape(path)
            if shape != tuple(variable.shape) or dtype != variable.dtype._np:
                mismatches.append(f"{path!r}: saved shape {shape} dtype {dtype}, variable "
                                  f"{variable.name!r} has shape {tuple(variable.shape)} "
                                  f"dtype {variable.dtype._np}")
        if mismatches:
            raise ValueError(f"Cannot restore checkpoint {reader.file!r}: "
                             f"{len(mismatches)} value(s) do not fit their variables: "
                             + "; ".join(mismatches) + ".")
        values = [(variable, reader.read(path, (tuple(variable.shape), variable.dtype._np)))
                  for path, variable in targets]
        deferred = _read_deferred(checkpoint, reader, saved)
    for variable, value in values:
        variable.assign(value)
    matched = {path for path, _ in targets}
    for obj, pending in deferred:
        _defer(obj, pending)
    unmatched_objects = [path for path, _ in _variables_by_path(checkpoint)
                         if path not in matched and path != _SAVE_COUNTER]
    deferred_paths = {path for _, pending in deferred for path, _ in pending.values()}
    unused = sorted(saved - matched - deferred_paths)
    return CheckpointLoadStatus(save_path, unmatched_objects, unused,
                                [obj for obj, _ in deferred])


def _read_deferred(checkpoint, reader, saved):
    """Values saved for variables an object does not have yet: [(obj, {index: (path,
    array)})]. Their sizes are bounded by the file (`CheckpointReader.read`)."""
    deferred = []
    for path, obj in _deferral_owners(checkpoint):
        prefix = _join(path, "variables") + "/"
        count = len(_variables_of(obj))
        pending = {}
        for name in saved:
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                index = int(name[len(prefix):])
                if index >= count:
                    pending[index] = (name, reader.read(name))
        if pending:
            deferred.append((obj, pending))
    return deferred


def _defer(obj, pending):
    try:
        existing = getattr(obj, "_checkpoint_deferred", None) or {}
        obj._checkpoint_deferred = {**existing, **pending}
    except AttributeError:
        pass  # An object that takes no attributes: its values stay unused.


def restore_deferred(obj):
    """Assigns the values a checkpoint deferred for `obj`'s variables that now exist.

    Owners call it after creating variables (an optimizer after building its slots, a
    layer after `build`): a restored checkpoint's values then arrive as TF's deferred
    restoration does. A value whose shape or dtype does not fit raises `ValueError`
    naming the path and both shapes.

    Returns:
      How many values were assigned.
    """
    pending = getattr(obj, "_checkpoint_deferred", None)
    if not pending:
        return 0
    variables = _variables_of(obj)
    ready = {index: item for index, item in pending.items() if index < len(variables)}
    for index, (path, value) in ready.items():
        variable = variables[index]
        if value.shape != tuple(variable.shape) or value.dtype != variable.dtype._np:
            raise ValueError(f"Cannot restore the deferred checkpoint value {path!r} (shape "
                             f"{value.shape}, dtype {value.dtype}) into variable "
                             f"{variable.name!r} of shape {tuple(variable.shape)}, dtype "
                             f"{variable.dtype._np}.")
    for index, (_, value) in ready.items():
        variables[index].assign(value)
        del pending[index]
    return len(ready)


class CheckpointLoadStatus:
    """What `Checkpoint.restore` matched: assert on it, or say a partial match is meant.

    Each `assert_*` method returns the status itself, so calls chain.
    """

    def __init__(self, save_path, unmatched_objects, unused_values, deferring):
        self.save_path = save_path
        self._unmatched_objects = unmatched_objects
        self._unused_values = unused_values
        self._deferring = deferring
        self._partial_expected = False

    def _pending(self):
        """The paths of the values still deferred, in object then variable order."""
        return [pending[index][0] for obj in self._deferring
                for pending in [getattr(obj, "_checkpoint_deferred", None) or {}]
                for index in sorted(pending)]

    def assert_consumed(self):
        """Asserts that every saved value found its Variable and every Variable a value.

        Raises:
          AssertionError: naming the unused saved values, the Variables not restored and
            the values still deferred.
        """
        self.assert_existing_objects_matched()
        problems = []
        if self._unused_values:
            problems.append(f"saved values no object matched: {self._unused_values}")
        pending = self._pending()
        if pending:
            problems.append(f"values deferred until their variables are created: {pending}")
        if problems:
            raise AssertionError(f"Checkpoint {self.save_path!r} was not fully consumed: "
                                 + "; ".join(problems) + ".")
        return self

    def assert_existing_objects_matched(self):
        """Asserts that every Variable tracked now received a value.

        Raises:
          AssertionError: naming the paths of the Variables the checkpoint has no value for.
        """
        if self._unmatched_objects:
            raise AssertionError(f"Checkpoint {self.save_path!r} has no value for "
                                 f"{self._unmatched_objects}.")
        return self

    def assert_nontrivial_match(self):
        """Asserts that something besides `save_counter` was restored."""
        return self  # `restore` raises on a file that is not a checkpoint.

    def expect_partial(self):
        """Silences the warning about saved values that were not used."""
        self._partial_expected = True
        return self

    def run_restore_ops(self, session=None):
        """A no-op: values are assigned eagerly by `restore`."""

    def initialize_or_restore(self, session=None):
        """A no-op: values are assigned eagerly by `restore`."""

    def __del__(self):
        if self._partial_expected:
            return
        unused = list(self._unused_values) + self._pending()
        if unused:
            _log.warning("A checkpoint was restored (e.g. tf.train.Checkpoint.restore) but "
                         "not all its values were used: %s. If partial restoration is "
                         "intended, use `.expect_partial()` on the load status.", unused)


class InitializationOnlyStatus:
    """The status of `restore(None)`: nothing was restored."""

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    def assert_existing_objects_matched(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    def assert_nontrivial_match(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        """A no-op."""

    def initialize_or_restore(self, session=None):
        """A no-op: the variables keep their initial values."""


def _refuse_options(options, method):
    if options is not None:
        raise NotImplementedError(f"tf.train.Checkpoint.{method}: `options` "
                                  f"(tf.train.CheckpointOptions) is not supported; "
                                  f"received options={options!r}.")
