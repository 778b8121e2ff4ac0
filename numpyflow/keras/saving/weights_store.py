"""Keras 3's variable layout in `model.weights.h5`: where each variable of a model lives.

Keras 3 stores a model's state by walking it as a tree: each layer's own variables go to
`<path>/vars/0`, `<path>/vars/1`, ... (trainable ones first, in creation order, then the
non-trainable ones); a Sequential or functional model lists its layers under
`<path>/layers/<snake_case class name>[_<n>]` (`layers/dense`, `layers/dense_1`, ... —
names from the class, not the layer's name, numbered per container); a subclassed model's
layers are found under their attribute names, sorted (private ones last), and the
optimizer's variables are `optimizer/vars/N`: `iteration`, `learning_rate` (unless a
schedule), then each trainable variable's slots (Adam: momentum, velocity). Each `vars`
group carries the object's name in its `name` attribute.

This module maps a numpyflow model onto that layout (`model_state_paths`), writes the
arrays to an open h5py file (`write_state`), reads a file's arrays back (`read_state`)
and assigns them only once every array is present and of the right shape
(`assign_state`): a mismatch names the layer, the path and both shapes, and leaves the
model untouched. The same functions back `model.save_weights("x.weights.h5")`.

    >>> import numpyflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> sorted(model_state_paths(model))
    ['layers/dense/vars', 'vars']
"""

import re
import warnings

import numpy as np

import numpyflow as tf

_VARS = "vars"


class WeightsMismatchError(ValueError):
    """The file's variables do not fit the model (missing, extra or of another shape)."""


def keras_snake_case(name):
    """Keras 3's `naming.to_snake_case`: `BatchNormalization` -> `batch_normalization`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


# -- the tree walk ------------------------------------------------------------------------------

class _Entry:
    """One `vars` group: the object it belongs to, its name, and its variables in order."""

    def __init__(self, owner, name, variables):
        self.owner = owner
        self.name = name
        self.variables = list(variables)
        # Keras 3 stores a few variables under names instead of 0, 1, ... (a lookup layer's
        # `idf_weights`): such an owner lists them in `_variable_store_keys`.
        keys = getattr(owner, "_variable_store_keys", None)
        self.keys = list(keys) if keys and len(keys) == len(self.variables) else None


def model_state_paths(model, include_optimizer=False):
    """`{group path: _Entry}` for every object of `model` in Keras 3's layout.

    Args:
      model: A built numpyflow `Model` (or `Layer`).
      include_optimizer: Whether to add `optimizer/vars` (when the model has an optimizer).
    """
    from numpyflow.keras.layers.base_layer import Layer

    entries = {}
    visited = set()
    # An explicit stack of (object, path) keeps deep models off the recursion limit; items
    # are pushed in reverse so they are visited in Keras's order.
    stack = [(model, "")]
    while stack:
        obj, path = stack.pop()
        if isinstance(obj, _Container):
            stack.extend(reversed(obj.children(path)))
            continue
        if id(obj) in visited:
            continue
        visited.add(id(obj))
        entries[_join(path, _VARS)] = _Entry(obj, obj.name, _own_variables(obj))
        stack.extend(reversed(_children(obj, path, Layer)))
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        entries["optimizer/vars"] = _Entry(model.optimizer, _optimizer_name(model.optimizer),
                                           optimizer_variables(model))
    return entries


class _Container:
    """A list of children at a path, each named by its snake_case class (Keras's rule)."""

    def __init__(self, items):
        self.items = items

    def children(self, path):
        used, result = {}, []
        for item in self.items:
            if isinstance(item, (list, tuple, dict)):
                base, item = "container", _Container(_values(item))
            else:
                base = keras_snake_case(type(item).__name__)
            count = used.get(base)
            used[base] = 0 if count is None else count + 1
            name = base if count is None else f"{base}_{count + 1}"
            result.append((item, _join(path, name)))
        return result


def _values(container):
    return list(container.values()) if isinstance(container, dict) else list(container)


def _children(obj, path, layer_class):
    """The child objects of `obj` (layers and containers of layers), with their paths."""
    if getattr(obj, "_is_graph_network", False):
        # Sequential and functional models: their layers, in order.
        return [(_Container(list(obj.layers)), _join(path, "layers"))]
    named = []
    attributes = dict(vars(obj))
    if hasattr(type(obj), "layers") and hasattr(obj, "_tracked_layers"):
        attributes["layers"] = list(obj._tracked_layers)  # A subclassed model's `layers`.
    for attribute in sorted(attributes, key=lambda a: "~" + a if a.startswith("_") else a):
        if attribute.startswith(("__", "_tracked", "_plan")) or attribute == "optimizer":
            continue
        value = attributes[attribute]
        if isinstance(value, layer_class) and value is not obj:
            named.append((value, _join(path, attribute)))
        elif isinstance(value, (list, tuple, dict)) and _holds_layers(value, layer_class):
            named.append((_Container(_values(value)), _join(path, attribute)))
    return named


def _holds_layers(container, layer_class):
    stack = [container]
    while stack:
        for item in _values(stack.pop()):
            if isinstance(item, layer_class):
                return True
            if isinstance(item, (list, tuple, dict)):
                stack.append(item)
    return False


def _own_variables(layer):
    """The layer's own variables as Keras 3 orders them: trainable ones, then the others."""
    own = list(getattr(layer, "_tracked_weights", ()))
    return [v for v in own if v.trainable] + [v for v in own if not v.trainable]


def _join(path, name):
    return f"{path}/{name}" if path else name


# -- the optimizer --------------------------------------------------------------------------

def _optimizer_name(optimizer):
    return keras_snake_case(type(optimizer).__name__)


def optimizer_variables(model):
    """The optimizer's variables in Keras 3's order: iteration, learning rate (a Variable
    only), then the slots of each of `model.trainable_variables`, or none if not built."""
    optimizer = model.optimizer
    result = [optimizer.iterations]
    if isinstance(optimizer._learning_rate, tf.Variable):
        result.append(optimizer._learning_rate)
    slots = _slots_for(optimizer, model.trainable_variables)
    return result + (slots or [])


def _optimizer_prefix_length(optimizer):
    """How many of the optimizer's variables come before the slots (iteration, rate)."""
    return 1 + isinstance(optimizer._learning_rate, tf.Variable)


# Keras 3 creates an optimizer's slots in groups, one `add_optimizer_variables` call each: a
# call with several names interleaves them per variable (Adam: momentum, velocity of the
# first variable, then of the second, ...), separate calls follow each other (RMSprop: every
# velocity, then every momentum). Each entry lists the groups as positions in numpyflow's
# per-variable slot tuple; slots that are None (unused options) are skipped, as Keras
# creates none. Optimizers not listed save each variable's slots together, in order.
_KERAS_SLOT_GROUPS = {
    "Adam": ((0, 1), (2,)),        # (momentum, velocity), then velocity_hat if amsgrad.
    "Adamax": ((0, 1),),           # (momentum, norm).
    "RMSprop": ((0,), (1,), (2,)),  # velocity, momentum, average_gradient.
    "SGD": ((0,),),                # momentum.
    "Adagrad": ((0,),),            # accumulator.
}


def _slot_groups(optimizer):
    for cls in type(optimizer).__mro__:
        if cls.__module__.startswith("numpyflow.") and cls.__name__ in _KERAS_SLOT_GROUPS:
            return _KERAS_SLOT_GROUPS[cls.__name__]
    return None


def _slots_for(optimizer, variables):
    """The optimizer's slots for `variables` in Keras 3's order, or None if not built."""
    if not all(id(v) in optimizer._slots for v in variables):
        return None
    per_variable = [optimizer._slots[id(v)] for v in variables]
    groups = _slot_groups(optimizer)
    if groups is None:
        return [slot for slots in per_variable for slot in slots if slot is not None]
    return [slots[index] for group in groups for slots in per_variable for index in group
            if index < len(slots) and slots[index] is not None]


def _build_optimizer_for(model, count):
    """Builds the optimizer's slots when the file holds them but the optimizer has none."""
    optimizer = model.optimizer
    variables = model.trainable_variables
    if count > len(optimizer_variables(model)) and _slots_for(optimizer, variables) is None:
        optimizer.build(variables)


# -- writing and reading ------------------------------------------------------------------

def write_state(h5file, entries):
    """Writes `entries` (from `model_state_paths`) into an h5py File opened for writing."""
    for path, entry in entries.items():
        group = h5file.require_group(path)
        group.attrs["name"] = entry.name
        for index, variable in enumerate(entry.variables):
            key = entry.keys[index] if entry.keys else str(index)
            group.create_dataset(key, data=np.asarray(variable.numpy()))


def read_state(h5file, read_dataset):
    """`{group path: [arrays]}` for every `vars` group of an open, checked h5py File.

    Args:
      h5file: The file, opened with `file_safety.open_h5` (links and sizes checked).
      read_dataset: `file_safety.read_dataset`.
    """
    import h5py

    state = {}
    stack = [("", h5file)]
    while stack:
        path, group = stack.pop()
        for key in group.keys():
            item = group[key]
            item_path = _join(path, key)
            if not isinstance(item, h5py.Group):
                continue
            if key == _VARS:
                state[item_path] = _read_vars(item_path, item, read_dataset)
            else:
                stack.append((item_path, item))
    return state


def _read_vars(path, group, read_dataset):
    import h5py

    keys = list(group.keys())
    if keys and not any(key.isdigit() for key in keys):
        names = sorted(keys)  # Variables stored under names (see `_Entry.keys`).
    elif sorted(keys, key=_index_key) == [str(i) for i in range(len(keys))]:
        names = [str(i) for i in range(len(keys))]
    else:
        raise WeightsMismatchError(f"The weights group '{path}' should hold datasets named "
                                   f"0..{len(keys) - 1}; found {sorted(keys)}.")
    arrays = _NamedArrays()
    for key in names:
        dataset = group[key]
        if not isinstance(dataset, h5py.Dataset):
            raise WeightsMismatchError(f"'{path}/{key}' is not a dataset.")
        arrays.append(read_dataset(dataset))
    arrays.names = names if names and not names[0].isdigit() else None
    return arrays


class _NamedArrays(list):
    """A `vars` group's arrays; `names` when they were stored under names, else None."""
    names = None


def _by_entry_keys(entry, arrays, path, source):
    """`arrays` in the order of `entry`'s variables, matched by name when the file stored
    them under names."""
    names = getattr(arrays, "names", None)
    if names is None:
        return arrays
    if entry.keys is None or sorted(entry.keys) != names:
        raise WeightsMismatchError(f"{source}: layer '{entry.name}' expects variables "
                                   f"{entry.keys or list(range(len(entry.variables)))} at "
                                   f"'{path}' but the file has {names}.")
    return [arrays[names.index(key)] for key in entry.keys]


def _index_key(key):
    return (0, int(key)) if key.isdigit() else (1, key)


# -- assigning ----------------------------------------------------------------------------

def assign_state(model, state, source, include_optimizer=False):
    """Assigns `state` (from `read_state`) to `model`, all or nothing.

    Every variable's array is found and its shape checked before any is assigned.

    Args:
      model: The model to load into.
      state: `{group path: [arrays]}`.
      source: The file's name, for error messages.
      include_optimizer: Whether to load `optimizer/vars` too (when both have one).

    Raises:
      WeightsMismatchError: naming the layer, the path and both shapes or counts.
    """
    load_optimizer = (include_optimizer and "optimizer/vars" in state and
                      getattr(model, "optimizer", None) is not None)
    if load_optimizer:
        _build_optimizer_for(model, len(state["optimizer/vars"]))
    entries = model_state_paths(model, include_optimizer=load_optimizer)
    assignments = []
    for path, entry in entries.items():
        arrays = state.get(path)
        if arrays is None:
            if entry.variables:
                raise WeightsMismatchError(
                    f"{source}: no weights for layer '{entry.name}' (expected at '{path}' with "
                    f"{len(entry.variables)} variables of shapes "
                    f"{[tuple(v.shape) for v in entry.variables]}). The file holds weights for: "
                    f"{sorted(p for p, a in state.items() if a)}.")
            continue
        if path == "optimizer/vars" and len(arrays) != len(entry.variables):
            unbuilt = _optimizer_prefix_length(model.optimizer)
            if len(arrays) != unbuilt:
                _warn_optimizer_skipped(entry, arrays, source)
                continue
            # Saved before the optimizer was built: its step counter and learning rate.
            entry = _Entry(entry.owner, entry.name, entry.variables[:unbuilt])
        arrays = _by_entry_keys(entry, arrays, path, source)
        if len(arrays) != len(entry.variables):
            raise WeightsMismatchError(
                f"{source}: layer '{entry.name}' expects {len(entry.variables)} variables "
                f"(shapes {[tuple(v.shape) for v in entry.variables]}) but the file has "
                f"{len(arrays)} at '{path}' (shapes {[a.shape for a in arrays]}).")
        for index, (variable, array) in enumerate(zip(entry.variables, arrays)):
            if tuple(variable.shape) != array.shape:
                raise WeightsMismatchError(
                    f"{source}: shape mismatch for layer '{entry.name}', variable "
                    f"'{variable.name}' ('{path}/{index}'): the model's has shape "
                    f"{tuple(variable.shape)}, the file's has shape {array.shape}.")
            assignments.append((variable, _as_dtype(array, variable, path, index, source)))
    extra = sorted(p for p, a in state.items() if a and p not in entries and
                   not p.startswith("optimizer/"))
    if extra:
        expected = sorted(p for p, e in entries.items() if e.variables)
        raise WeightsMismatchError(
            f"{source}: the file holds weights at {extra} that match no layer of model "
            f"'{model.name}' (its weights are at {expected}).")
    for variable, array in assignments:
        variable.assign(array)
    for entry in entries.values():
        _notify_loaded(entry.owner)


def _notify_loaded(owner):
    """Lets a layer that overrides `set_weights` (Normalization marks itself adapted) see
    the weights it was just given, as Keras 3's `load_own_variables` hooks do."""
    from numpyflow.keras.layers.base_layer import Layer

    set_weights = getattr(type(owner), "set_weights", None)
    if isinstance(owner, Layer) and set_weights is not Layer.set_weights and owner.weights:
        owner.set_weights(owner.get_weights())


def _warn_optimizer_skipped(entry, arrays, source):
    # As Keras 3: an optimizer of another kind or build is skipped with a warning, whole.
    warnings.warn(f"{source}: skipping the optimizer's state: optimizer '{entry.name}' has "
                  f"{len(entry.variables)} variables but the file has {len(arrays)} at "
                  f"'optimizer/vars'.", stacklevel=3)


def _as_dtype(array, variable, path, index, source):
    dtype = np.dtype(variable.dtype.as_numpy_dtype)
    if array.dtype == dtype:
        return array
    if array.dtype.kind not in "fiub" or (dtype.kind in "iub" and array.dtype.kind == "f"):
        raise WeightsMismatchError(f"{source}: '{path}/{index}' has dtype {array.dtype}, which "
                                   f"cannot be assigned to variable '{variable.name}' of dtype "
                                   f"{dtype}.")
    return array.astype(dtype)
