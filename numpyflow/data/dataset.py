"""`tf.data.Dataset`: the base class, its iterator and the source datasets.

A dataset is a recipe: `iter(ds)` starts a fresh pass that yields elements, nested
structures (tuples, dicts, namedtuples) of Tensors. Each dataset knows its
`element_spec` (nested `tf.TensorSpec`s, computed on first use) and its cardinality
(`INFINITE_CARDINALITY == -1`, `UNKNOWN_CARDINALITY == -2`). Transformations
(`map`, `batch`, `shuffle`, ...) return new datasets; they live in `transformations.py`,
`batching.py` and `caching.py` and are attached here as methods.

    >>> import numpyflow as tf
    >>> ds = tf.data.Dataset.range(5).map(lambda x: x * 2).batch(2)
    >>> [b.numpy().tolist() for b in ds]
    [[0, 2], [4, 6], [8]]
"""

import glob as _glob
import inspect
import os
import threading
import types

import numpy as np

from numpyflow.data import slicing, structure
from numpyflow.data.errors import ElementError
from numpyflow.framework import dtypes
from numpyflow.framework.errors import OpError
from numpyflow.framework.tensor import Tensor
from numpyflow.framework.tensor_shape import TensorShape
from numpyflow.framework.tensor_spec import TensorSpec

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2

_peeking = threading.local()  # Set while an element_spec is inferred from a real element.


def peeking():
    """Whether the current thread is inferring an element_spec (shuffles then keep their epoch)."""
    return getattr(_peeking, "active", False)


class DatasetSpec:
    """The `element_spec` of a dataset-valued element (as `window` yields).

    Example:
        >>> DatasetSpec(TensorSpec([], "int64"))
        DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))
    """

    def __init__(self, element_spec, dataset_shape=()):
        self.element_spec = element_spec
        # A TensorShape, as every spec's `shape`: readers ask its `rank`.
        self.shape = TensorShape(dataset_shape)

    def __eq__(self, other):
        return isinstance(other, DatasetSpec) and other.element_spec == self.element_spec

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r}, {self.shape!r})"


class Iterator:
    """An iterator over one pass of a dataset (`iter(ds)`), as `tf.data.Iterator`.

    After an element fails (a map function raised, say), `next` raises that error and the
    next call continues with the following element, as in TF. `close()` (or dropping the
    iterator) stops the pass and any threads it started.
    """

    def __init__(self, dataset):
        self._dataset = dataset
        self._items = dataset._iterate()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._items)
        if isinstance(item, ElementError):
            raise item.exception
        return item

    def get_next(self):
        return self.__next__()

    def get_next_as_optional(self):
        raise NotImplementedError("Iterator.get_next_as_optional is not supported; use next().")

    def close(self):
        self._items.close()


class Dataset:
    """A sequence of elements, each a nested structure of Tensors (`tf.data.Dataset`).

    Build one with a source (`from_tensor_slices`, `from_generator`, `range`, ...), then
    chain transformations. Iterating a dataset starts a fresh pass each time.

    Example:
        >>> ds = Dataset.from_tensor_slices(({"x": [1., 2., 3.]}, [0, 1, 0]))
        >>> len(ds), ds.element_spec[1]
        (3, TensorSpec(shape=(), dtype=tf.int32, name=None))
    """

    def __init__(self, iterate, element_spec, cardinality, inputs=()):
        # iterate(): a generator of elements (or ElementErrors) for one pass.
        # element_spec: nested TensorSpecs, or a zero-argument function computing them.
        self._iterate_fn = iterate
        self._spec = element_spec
        self._cardinality = int(cardinality)
        self._inputs = tuple(inputs)
        self._options = None
        self._plan = None  # A slicing.SlicePlan when the elements are rows of arrays.
        self._in_memory = False  # True when elements are batches gathered by a SlicePlan.

    # -- what a dataset is ---------------------------------------------------------------
    def _iterate(self):
        """A generator (closable) over one pass."""
        items = self._iterate_fn()
        return items if isinstance(items, types.GeneratorType) else _as_generator(items)

    @property
    def element_spec(self):
        """The nested `TensorSpec`s of one element."""
        if callable(self._spec):
            self._spec = self._spec()
        return self._spec

    def cardinality(self):
        """The number of elements as a scalar int64 Tensor; -1 infinite, -2 unknown."""
        return Tensor(np.array(self._cardinality, dtype=np.int64))

    def __len__(self):
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __iter__(self):
        return Iterator(self)

    def __bool__(self):
        return True  # A dataset is a recipe, not a container: never falsy, even when empty.

    def as_numpy_iterator(self):
        """Iterates the elements as NumPy values (scalars as NumPy scalars).

        Example:
            >>> list(Dataset.range(3).as_numpy_iterator())
            [np.int64(0), np.int64(1), np.int64(2)]
        """
        for element in self:
            yield structure.map_structure(structure.numpy_leaf, element)

    def as_numpy(self):
        raise NotImplementedError("Dataset.as_numpy does not exist in TF; use as_numpy_iterator().")

    def reduce(self, initial_state, reduce_func, name=None):
        """Folds the elements: `state = reduce_func(state, element)`, starting from `initial_state`.

        Example:
            >>> int(Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x))
            10
        """
        state = structure.normalize(initial_state)
        for element in self:
            state = structure.normalize(call_with_element(reduce_func, (state, element), "reduce"))
        return state

    def with_options(self, options, name=None):
        """Returns this dataset with `options` (a `tf.data.Options`) attached."""
        result = Dataset(self._iterate_fn, lambda: self.element_spec, self._cardinality, (self,))
        result._options = options
        result._plan = self._plan
        result._in_memory = self._in_memory
        return result

    def options(self):
        return self._options if self._options is not None else Options()

    def apply(self, transformation_func):
        """Returns `transformation_func(self)`, which must be a Dataset."""
        result = transformation_func(self)
        if not isinstance(result, Dataset):
            raise TypeError(f"`transformation_func` must return a Dataset; received "
                            f"{type(result).__name__}.")
        return result

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self.element_spec!r}>"

    # -- sources -------------------------------------------------------------------------
    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of exactly one element, `tensors`.

        Example:
            >>> [t.numpy().tolist() for t in Dataset.from_tensors([1, 2])]
            [[1, 2]]
        """
        element = structure.normalize(tensors)
        return Dataset(lambda: iter([element]), structure.spec_of(element), 1)

    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """A dataset of the slices of `tensors` along their first dimension.

        Example:
            >>> [int(x) for x in Dataset.from_tensor_slices([4, 5])]
            [4, 5]
        """
        element = structure.normalize(tensors)
        leaves = [structure.leaf_array(t) for t in structure.flatten(element)]
        if not leaves:
            raise ValueError("from_tensor_slices: received an empty structure; expected at "
                             "least one tensor.")
        for leaf in leaves:
            if leaf.ndim == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        count = leaves[0].shape[0]
        for leaf in leaves[1:]:
            if leaf.shape[0] != count:
                raise ValueError(f"Dimensions {count} and {leaf.shape[0]} are not compatible")
        spec = structure.pack_as(element, [
            TensorSpec(v.shape[1:], dtypes.from_numpy(v.dtype)) for v in leaves])

        def iterate():
            for i in range(count):
                yield structure.pack_as(element, [_row(v, i) for v in leaves])
        result = Dataset(iterate, spec, count)
        result._plan = slicing.from_slices(element, leaves)
        return result

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None):
        """A dataset of the values `generator()` yields, checked against a signature.

        Args:
            generator: A callable returning an iterable (called once per pass, with
                `args` as NumPy values if given).
            output_types: Deprecated: the nested dtypes (use `output_signature`).
            output_shapes: Deprecated: the nested shapes, with `output_types`.
            args: Optional tuple of arguments for `generator`.
            output_signature: Nested `tf.TensorSpec`s the yielded values must match.
            name: Unused.

        Example:
            >>> ds = Dataset.from_generator(lambda: iter([[1, 2], [3]]),
            ...     output_signature=TensorSpec([None], "int32"))
            >>> [x.numpy().tolist() for x in ds]
            [[1, 2], [3]]
        """
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        spec = _generator_signature(output_types, output_shapes, output_signature)
        call_args = () if args is None else tuple(
            structure.numpy_leaf(structure.to_tensor(a)) for a in args)

        def iterate():
            try:
                values = iter(generator(*call_args))
            except Exception as error:  # noqa: BLE001 - in-band, as TF
                yield ElementError(error)
                return
            while True:
                try:
                    value = next(values)
                except StopIteration:
                    return
                except Exception as error:  # noqa: BLE001 - the generator is finished
                    yield ElementError(error)
                    return
                try:
                    yield _conform(value, spec)
                except (TypeError, ValueError) as error:
                    yield ElementError(error)
        return Dataset(iterate, spec, UNKNOWN_CARDINALITY)

    @staticmethod
    def range(*args, output_type=dtypes.int64, name=None):
        """A dataset of `range(*args)` values as scalar Tensors (int64 by default).

        Example:
            >>> list(Dataset.range(5, 0, -2).as_numpy_iterator())
            [np.int64(5), np.int64(3), np.int64(1)]
        """
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Dataset.range takes 1 to 3 arguments (stop / start, stop[, step]); "
                             f"received {len(args)}.")
        bounds = range(*[int(a) for a in args])
        np_dtype = dtypes.as_dtype(output_type)._np

        def iterate():
            for value in bounds:
                yield Tensor(np.array(value, dtype=np_dtype))
        return Dataset(iterate, TensorSpec([], output_type), len(bounds))

    @staticmethod
    def zip(*args, datasets=None, name=None):
        """Zips datasets (given as arguments or as a nested structure) element by element.

        Stops at the end of the shortest dataset.

        Example:
            >>> a, b = Dataset.range(3), Dataset.range(10, 12)
            >>> [(int(x), int(y)) for x, y in Dataset.zip(a, b)]
            [(0, 10), (1, 11)]
        """
        if datasets is not None and args:
            raise TypeError("Dataset.zip: give datasets either as arguments or as `datasets`, "
                            "not both.")
        if datasets is None:
            datasets = args[0] if len(args) == 1 else tuple(args)
        members = structure.flatten(datasets)
        for member in members:
            if not isinstance(member, Dataset):
                raise TypeError(f"Dataset.zip: every member must be a Dataset; received "
                                f"{type(member).__name__}.")

        def run(openers, pack):
            # One pass over the iterators `openers` open (elements, or slicing's keys).
            iterators = [open_items() for open_items in openers]
            try:
                while True:
                    items = []
                    for it in iterators:
                        try:
                            items.append(next(it))
                        except StopIteration:
                            return
                    error = next((i for i in items if isinstance(i, ElementError)), None)
                    yield error if error is not None else pack(items)
            finally:
                for it in iterators:
                    it.close()
        cards = [m._cardinality for m in members]
        result = Dataset(
            lambda: run([m._iterate for m in members],
                        lambda items: structure.pack_as(datasets, items)),
            lambda: structure.map_structure(lambda d: d.element_spec, datasets),
            _zip_cardinality(cards), members)
        result._plan = slicing.zipped(datasets, members, run)
        return result

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """A dataset of the file names matching a glob pattern (or a list of patterns).

        Names are sorted, then shuffled unless `shuffle=False` (the default shuffles, as
        TF's). Elements are scalar `tf.string` Tensors.

        Raises:
            InvalidArgumentError: No file matches (TF's message: "No files matched pattern").

        Example:
            >>> import tempfile; d = tempfile.mkdtemp(); _ = open(f"{d}/a.txt", "w")
            >>> [os.path.basename(f) for f in Dataset.list_files(f"{d}/*.txt").as_numpy_iterator()]
            [b'a.txt']
        """
        patterns = [file_pattern] if isinstance(file_pattern, (str, bytes, os.PathLike)) \
            else list(file_pattern)
        names = sorted({os.fsdecode(match) for p in patterns
                        for match in _glob.glob(os.fsdecode(p))})
        if not names:
            from numpyflow.framework.errors import InvalidArgumentError
            shown = ", ".join(os.fsdecode(p) for p in patterns)
            raise InvalidArgumentError(
                None, None, "Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                f"Summarized data: b'No files matched pattern: {shown}'")
        from numpyflow.data import transformations
        ds = Dataset(lambda: (Tensor(np.array(os.fsencode(n), dtype=object)) for n in names),
                     TensorSpec([], dtypes.string), len(names))
        if shuffle is None or shuffle:
            ds = transformations.shuffle(ds, len(names), seed=seed)
        return ds

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """Yields from `datasets[i]` for each scalar int64 `i` of `choice_dataset`.

        Example:
            >>> a = Dataset.from_tensors(0).repeat(); b = Dataset.from_tensors(1).repeat()
            >>> choice = Dataset.from_tensor_slices(np.array([0, 1, 1], np.int64))
            >>> [int(x) for x in Dataset.choose_from_datasets([a, b], choice)]
            [0, 1, 1]
        """
        from numpyflow.data import sampling
        return sampling.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None):
        """Yields from randomly chosen `datasets`, with probabilities `weights`."""
        from numpyflow.data import sampling
        return sampling.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset,
                                             rerandomize_each_iteration)


class Options:
    """`tf.data.Options`: accepted and stored; numpyflow's pipelines have no tunables yet.

    Setting an option that would change results raises NotImplementedError.
    """

    def __init__(self):
        from numpyflow.data.distribute_options import DistributeOptions
        object.__setattr__(self, "deterministic", None)
        object.__setattr__(self, "experimental_deterministic", None)
        object.__setattr__(self, "experimental_distribute", DistributeOptions())

    def __setattr__(self, name, value):
        if name in ("deterministic", "experimental_deterministic"):
            if value is False:
                raise NotImplementedError("tf.data.Options: deterministic=False is not "
                                          "supported; use map(deterministic=False).")
            object.__setattr__(self, name, value)
            return
        if name == "experimental_distribute":
            raise AttributeError("tf.data.Options.experimental_distribute cannot be replaced; "
                                 "set its attributes (auto_shard_policy).")
        raise NotImplementedError(f"tf.data.Options.{name} is not supported by numpyflow.")


# -- helpers shared by the transformations -------------------------------------------------

def _row(array, i):
    """Row `i` of a source array as a leaf (`[i, ...]` keeps a string row an object array)."""
    if array.dtype.kind == "O":
        return structure.make_leaf(array[i, ...])
    return structure.make_leaf(np.asarray(array[i]))


def _as_generator(items):
    yield from items


def call_with_element(func, element, what):
    """Calls `func` on an element as tf.data does: a tuple is spread over the arguments."""
    if isinstance(element, tuple) and not hasattr(element, "_fields"):
        return func(*element)
    return func(element)


def check_arity(func, element_spec, what):
    """Raises TF's TypeError at build time when `func` cannot take the element's arguments."""
    if isinstance(element_spec, tuple) and not hasattr(element_spec, "_fields"):
        count = len(element_spec)
    else:
        count = 1
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*range(count))
    except TypeError:
        name = getattr(func, "__qualname__", type(func).__name__)
        raise TypeError(f"{what}: {name}() {_arity_text(signature, count)} (the dataset's "
                        f"elements have {count} component(s), passed as positional "
                        f"arguments)") from None


def _arity_text(signature, count):
    """Python's own wording for a call with `count` positional arguments."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in signature.parameters.values() if p.kind in kinds]
    required = [p.name for p in positional if p.default is inspect.Parameter.empty]
    if count > len(positional):
        noun = "argument" if len(positional) == 1 else "arguments"
        verb = "was" if count == 1 else "were"
        return f"takes {len(positional)} positional {noun} but {count} {verb} given"
    missing = required[count:]
    noun = "argument" if len(missing) == 1 else "arguments"
    names = ", ".join(repr(m) for m in missing)
    return f"missing {len(missing)} required positional {noun}: {names}"


def _zip_cardinality(cards):
    if not cards:
        return 0
    finite = [c for c in cards if c >= 0]
    if finite and (UNKNOWN_CARDINALITY not in cards or min(finite) == 0):
        return min(finite)
    if UNKNOWN_CARDINALITY in cards:
        return UNKNOWN_CARDINALITY
    return INFINITE_CARDINALITY


def _generator_signature(output_types, output_shapes, output_signature):
    if output_signature is not None:
        if output_types is not None or output_shapes is not None:
            raise TypeError("from_generator: `output_types` and `output_shapes` cannot be "
                            "given with `output_signature`.")
        spec = _tuples(output_signature)
        for leaf in structure.flatten(spec):
            if not isinstance(leaf, TensorSpec):
                raise TypeError(f"from_generator: every leaf of `output_signature` must be a "
                                f"tf.TensorSpec; received {leaf!r}.")
        return spec
    if output_types is None:
        raise TypeError("from_generator: `output_signature` (or the deprecated "
                        "`output_types`) must be given.")
    types = _tuples(output_types)
    if output_shapes is None:
        return structure.map_structure(lambda t: TensorSpec(None, t), types)
    shapes = _tuples(output_shapes, shape_leaves=True)
    type_leaves = structure.flatten(types)
    shape_leaves = _flatten_up_to(types, shapes)
    if len(shape_leaves) != len(type_leaves):
        raise ValueError("from_generator: `output_shapes` must be nested like `output_types`.")
    return structure.pack_as(types, [TensorSpec(s, t) for t, s in zip(type_leaves, shape_leaves)])


def _tuples(value, shape_leaves=False):
    """Lists in a signature mean tuples (TF converts them)."""
    if isinstance(value, dict):
        return type(value)((k, _tuples(v, shape_leaves)) for k, v in value.items())
    if isinstance(value, list) and not (shape_leaves and _is_shape(value)):
        return tuple(_tuples(v, shape_leaves) for v in value)
    if isinstance(value, tuple) and not (shape_leaves and _is_shape(value)):
        items = [_tuples(v, shape_leaves) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


def _is_shape(value):
    if isinstance(value, TensorShape):  # Of unknown rank too: it cannot be iterated.
        return True
    return all(d is None or isinstance(d, (int, np.integer)) for d in value)


def _flatten_up_to(types, shapes):
    if isinstance(types, dict):
        return [s for k in sorted(types) for s in _flatten_up_to(types[k], shapes[k])]
    if isinstance(types, tuple):
        return [s for t, sh in zip(types, shapes) for s in _flatten_up_to(t, sh)]
    return [shapes]


def _conform(value, spec):
    """A generator's value as Tensors matching `spec`, or TF's TypeError/ValueError."""
    if isinstance(spec, tuple) and isinstance(value, list):
        value = tuple(value)
    try:
        structure.assert_same_structure(spec, value, "from_generator")
    except TypeError:
        raise TypeError(f"`generator` yielded an element that did not match the expected "
                        f"structure. The expected structure was {structure.describe(spec)}, but "
                        f"the yielded element was {value!r}.") from None
    leaves = []
    for item, leaf_spec in zip(structure.flatten(value), structure.flatten(spec)):
        np_dtype = leaf_spec.dtype._np
        try:
            if np_dtype.kind == "O":  # tf.string: str/bytes only, UTF-8 encoded.
                array = structure.to_tensor(item, leaf_spec.dtype)._value
            else:
                array = np.asarray(item._value if isinstance(item, Tensor) else item,
                                   dtype=np_dtype)
        except (TypeError, ValueError):
            raise TypeError(f"`generator` yielded an element that could not be converted to "
                            f"the expected type. The expected type was {leaf_spec.dtype.name}, "
                            f"but the yielded element was {item!r}.") from None
        if not leaf_spec.shape.is_compatible_with(array.shape):  # Unknown rank: any shape.
            raise TypeError(f"`generator` yielded an element of shape {_shape_text(array.shape)} "
                            f"where an element of shape {leaf_spec.shape} was expected.")
        leaves.append(Tensor(array))
    return structure.pack_as(spec, leaves)


def _shape_text(shape):
    return str(tuple(shape)) if len(shape) != 1 else f"({shape[0]},)"


def is_error(item):
    return isinstance(item, ElementError)


def op_error_types():
    """The exceptions `ignore_errors` drops: every ordinary Exception (not KeyboardInterrupt)."""
    return (Exception, OpError)


# Transformations are methods; attach them last (they import this module).
from numpyflow.data import batching, caching, transformations  # noqa: E402

transformations.attach(Dataset)
batching.attach(Dataset)
caching.attach(Dataset)
