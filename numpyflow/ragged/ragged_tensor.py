"""`tf.RaggedTensor`: rows of different lengths, as a flat values Tensor plus row splits.

A RaggedTensor with `ragged_rank` k is k nested row partitions over a dense `flat_values`
Tensor: `values` is either that Tensor (k == 1) or another RaggedTensor, and `row_splits`
(int64) says where each row starts and ends in `values`: row i is
`values[row_splits[i]:row_splits[i + 1]]`.

    >>> import numpyflow as tf
    >>> rt = tf.RaggedTensor.from_row_lengths([1, 2, 3], [2, 0, 1])
    >>> rt
    <tf.RaggedTensor [[1, 2], [], [3]]>
    >>> rt.shape, rt.row_splits.numpy().tolist()
    (TensorShape([3, None]), [0, 2, 2, 3])

numpyflow's RaggedTensors are eager values for text pipelines (`tf.strings.split`, ngrams,
`to_tensor`); they are not differentiable and do not flow through Keras layers or
`tf.function` signatures. Their methods compute with NumPy, outside the primitives, so a
`tf.function` that builds one from a traced tensor stays eager (`note_read`).
"""

import numpy as np

from numpyflow.framework import dtypes, trace_state
from numpyflow.framework.errors import InvalidArgumentError
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.framework.tensor_shape import TensorShape


def _int64_array(value, what):
    array = value._value if isinstance(value, Tensor) else np.asarray(value)
    if array.size == 0:
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise TypeError(f"RaggedTensor: `{what}` must be a 1-D integer tensor; received dtype "
                        f"{array.dtype} with shape {list(array.shape)}.")
    return array.astype(np.int64)


def _as_values(values):
    if isinstance(values, RaggedTensor):
        return values
    return values if isinstance(values, Tensor) else convert_to_tensor(values)


def _invalid(method, detail):
    return InvalidArgumentError(None, None, f"Arguments to {method} do not form a valid "
                                f"RaggedTensor: {detail}")


class RaggedTensor:
    """A tensor whose rows may have different lengths (`tf.RaggedTensor`).

    Build one with `tf.ragged.constant` or a `from_*` factory; do not call the
    constructor directly.

    Example:
        >>> rt = tf.ragged.constant([["a", "b"], ["c"]])
        >>> rt.to_tensor().numpy().tolist()
        [[b'a', b'b'], [b'c', b'']]
    """

    # `_uniform_row_length`: the row length when every row has it (from a uniform dimension,
    # e.g. `from_uniform_row_length`), so `shape` can say it; None for a ragged dimension.
    __slots__ = ("_values", "_row_splits", "_uniform_row_length")
    __array_priority__ = 101

    def __init__(self, values, row_splits, internal=False, uniform_row_length=None):
        if not internal:
            raise ValueError("RaggedTensor constructor is private; please use one of the "
                             "factory methods instead (e.g., RaggedTensor.from_row_lengths())")
        if trace_state.current is not None:
            note_read(values, "a RaggedTensor")
            note_read(row_splits, "a RaggedTensor")
        self._values = values
        self._row_splits = row_splits
        self._uniform_row_length = uniform_row_length

    # -- factories ----------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True):
        """Rows `values[row_splits[i]:row_splits[i + 1]]`.

        Example:
            >>> tf.RaggedTensor.from_row_splits([1, 2, 3], [0, 1, 1, 3]).to_list()
            [[1], [], [2, 3]]
        """
        values = _as_values(values)
        splits = _int64_array(row_splits, "row_splits")
        if validate:
            if splits.size == 0 or splits[0] != 0:
                raise _invalid("from_row_splits", "row_splits must start with 0, and have at "
                               f"least one element; received {splits.tolist()}.")
            if np.any(np.diff(splits) < 0):
                raise _invalid("from_row_splits", f"monotonic. row_splits must be sorted in "
                               f"ascending order; received {splits.tolist()}.")
            if splits[-1] != _nrows_of(values):
                raise _invalid("from_row_splits", f"row_splits[-1] ({splits[-1]}) must equal "
                               f"the number of values ({_nrows_of(values)}).")
        return cls(values, Tensor(splits), internal=True)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True):
        """Row i holds the next `row_lengths[i]` values.

        Example:
            >>> tf.RaggedTensor.from_row_lengths([1, 2, 3], [2, 0, 1]).to_list()
            [[1, 2], [], [3]]
        """
        lengths = _int64_array(row_lengths, "row_lengths")
        if validate and np.any(lengths < 0):
            raise _invalid("from_row_lengths", f"row_lengths must be >= 0; received "
                           f"{lengths.tolist()}.")
        splits = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values = _as_values(values)
        if validate and splits[-1] != _nrows_of(values):
            raise _invalid("from_row_lengths", f"sum(row_lengths) ({splits[-1]}) must equal "
                           f"the number of values ({_nrows_of(values)}).")
        return cls(values, Tensor(splits), internal=True)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate=True):
        """Value j goes to row `value_rowids[j]` (sorted); `nrows` adds empty trailing rows.

        Example:
            >>> tf.RaggedTensor.from_value_rowids([1, 2, 3], [0, 0, 2], nrows=4).to_list()
            [[1, 2], [], [3], []]
        """
        rowids = _int64_array(value_rowids, "value_rowids")
        if validate and (np.any(np.diff(rowids) < 0) or np.any(rowids < 0)):
            raise _invalid("from_value_rowids", f"value_rowids must be sorted and >= 0; "
                           f"received {rowids.tolist()}.")
        count = int(rowids[-1]) + 1 if rowids.size else 0
        nrows = count if nrows is None else int(nrows._value if isinstance(nrows, Tensor)
                                                else nrows)
        if validate and nrows < count:
            raise _invalid("from_value_rowids", f"nrows ({nrows}) must be greater than every "
                           f"value_rowid (max {count - 1}).")
        lengths = np.bincount(rowids, minlength=nrows).astype(np.int64)
        return cls.from_row_lengths(values, lengths, validate=validate)

    @classmethod
    def from_uniform_row_length(cls, values, uniform_row_length, nrows=None, validate=True,
                                name=None):
        """Rows of `uniform_row_length` values each (a uniform dimension in `shape`).

        Example:
            >>> tf.RaggedTensor.from_uniform_row_length([1, 2, 3, 4], 2).shape
            TensorShape([2, 2])
        """
        values = _as_values(values)
        width = int(uniform_row_length)
        count = _nrows_of(values)
        if nrows is None:
            nrows = count // width if width else 0
        nrows = int(nrows)
        if validate and (width < 0 or width * nrows != count):
            raise _invalid("from_uniform_row_length", f"uniform_row_length ({width}) times "
                           f"nrows ({nrows}) must equal the number of values ({count}).")
        splits = np.arange(nrows + 1, dtype=np.int64) * width
        return cls(values, Tensor(splits), internal=True, uniform_row_length=width)

    @property
    def uniform_row_length(self):
        """The length of every row as a scalar int64 Tensor, or None if the rows are ragged."""
        if self._uniform_row_length is None:
            return None
        return Tensor(np.asarray(self._uniform_row_length, np.int64))

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None, validate=True):
        """Applies `from_row_splits` once per splits vector, innermost last.

        Example:
            >>> tf.RaggedTensor.from_nested_row_splits([1, 2, 3], [[0, 1, 2], [0, 2, 3]]).to_list()
            [[[1, 2]], [[3]]]
        """
        result = flat_values
        for splits in reversed(list(nested_row_splits)):
            result = cls.from_row_splits(result, splits, validate=validate)
        return result

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank=1, name=None):
        """A RaggedTensor of a dense tensor's rows (cut to `lengths`, or where `padding` starts).

        Example:
            >>> tf.RaggedTensor.from_tensor([[1, 0], [2, 3]], padding=0).to_list()
            [[1], [2, 3]]
        """
        if ragged_rank != 1:
            raise NotImplementedError("RaggedTensor.from_tensor: only ragged_rank=1 is "
                                      f"supported by numpyflow; received {ragged_rank}.")
        dense = tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor)
        array = dense._value
        if array.ndim < 2:
            raise ValueError(f"RaggedTensor.from_tensor: `tensor` must have rank >= 2; "
                             f"received shape {list(array.shape)}.")
        if lengths is not None and padding is not None:
            raise ValueError("Specify `lengths` or `padding`, but not both.")
        width = array.shape[1]
        if lengths is None and padding is None:  # Every row is full: a uniform dimension.
            return cls.from_uniform_row_length(Tensor(array.reshape((-1,) + array.shape[2:])),
                                               width, nrows=array.shape[0])
        if lengths is not None:
            row_lengths = _int64_array(lengths, "lengths")
            if row_lengths.shape[0] != array.shape[0]:
                raise ValueError(f"RaggedTensor.from_tensor: `lengths` must have one entry "
                                 f"per row of `tensor` ({array.shape[0]} rows); received "
                                 f"{row_lengths.shape[0]}.")
            row_lengths = np.clip(row_lengths, 0, width)  # As TF: cut to [0, width].
        elif padding is not None:
            pad = convert_to_tensor(padding, dtype=dense.dtype)._value
            is_pad = np.equal(array, pad)
            is_pad = is_pad.reshape(is_pad.shape[:2] + (-1,)).all(axis=2)
            # A row ends after its last non-padding entry.
            not_pad = ~is_pad
            last = np.where(not_pad.any(axis=1), width - np.argmax(not_pad[:, ::-1], axis=1), 0)
            row_lengths = last.astype(np.int64)
        keep = np.arange(width)[None, :] < row_lengths[:, None]
        return cls.from_row_lengths(Tensor(array[keep]), row_lengths)

    # -- structure ------------------------------------------------------------------------
    @property
    def values(self):
        """The concatenated rows (a Tensor, or a RaggedTensor when ragged_rank > 1)."""
        return self._values

    @property
    def row_splits(self):
        """The int64 row boundaries: row i is `values[row_splits[i]:row_splits[i + 1]]`."""
        return self._row_splits

    @property
    def flat_values(self):
        """The innermost dense values Tensor."""
        values = self._values
        while isinstance(values, RaggedTensor):
            values = values._values
        return values

    @property
    def nested_row_splits(self):
        """The row_splits of every ragged dimension, outermost first."""
        splits, rt = [], self
        while isinstance(rt, RaggedTensor):
            splits.append(rt._row_splits)
            rt = rt._values
        return tuple(splits)

    @property
    def ragged_rank(self):
        values = self._values
        return values.ragged_rank + 1 if isinstance(values, RaggedTensor) else 1

    @property
    def dtype(self):
        return self.flat_values.dtype

    @property
    def row_splits_dtype(self):
        return dtypes.int64

    @property
    def shape(self):
        """The static shape: `nrows`, None for each ragged dim, then the uniform inner dims."""
        dims, rt = [self._nrows()], self
        while isinstance(rt, RaggedTensor):
            dims.append(rt._uniform_row_length)
            rt = rt._values
        return TensorShape(dims + rt.shape.as_list()[1:])

    def get_shape(self):
        return self.shape

    @property
    def ndim(self):
        return len(self.shape)

    def _nrows(self):
        return int(self._row_splits._value.shape[0] - 1)

    def nrows(self, out_type=dtypes.int64, name=None):
        """The number of rows, as a scalar int64 Tensor."""
        return Tensor(np.asarray(self._nrows(), dtype=dtypes.as_dtype(out_type)._np))

    def row_lengths(self, axis=1, name=None):
        """The length of each row at `axis` (int64), as TF: axis 0 gives `nrows()`, a
        negative axis counts from the end, a uniform axis gives its size for every row.

        Example:
            >>> tf.ragged.constant([[1, 2], [3]]).row_lengths().numpy().tolist()
            [2, 1]
        """
        ndim = self.ndim
        if not -ndim <= axis < ndim:
            raise ValueError(f"row_lengths: axis={axis} out of bounds: expected "
                             f"{-ndim}<=axis<{ndim}.")
        axis = axis + ndim if axis < 0 else axis
        if axis == 0:
            return self.nrows()
        if axis == 1:
            return Tensor(np.diff(self._row_splits._value))
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.row_lengths(axis - 1))
        shape = self._values._value.shape  # A uniform axis of the dense values.
        return self.with_values(Tensor(np.full(shape[:axis - 1], shape[axis - 1], np.int64)))

    def row_starts(self, name=None):
        return Tensor(self._row_splits._value[:-1])

    def row_limits(self, name=None):
        return Tensor(self._row_splits._value[1:])

    def value_rowids(self, name=None):
        """The row of each value, as int64."""
        lengths = np.diff(self._row_splits._value)
        return Tensor(np.repeat(np.arange(lengths.size, dtype=np.int64), lengths))

    def bounding_shape(self, axis=None, name=None, out_type=dtypes.int64):
        """The smallest dense shape that holds every row, as int64."""
        dims = list(self._bounding())
        result = np.asarray(dims if axis is None else np.asarray(dims)[axis],
                            dtype=dtypes.as_dtype(out_type)._np)
        return Tensor(result)

    def _bounding(self):
        lengths = np.diff(self._row_splits._value)
        longest = int(lengths.max()) if lengths.size else 0
        if isinstance(self._values, RaggedTensor):
            inner = self._values._bounding()[1:]
        else:
            inner = self._values._value.shape[1:]
        return (self._nrows(), longest) + tuple(int(d) for d in inner)

    def with_values(self, new_values):
        """This RaggedTensor's row partition over `new_values`."""
        new_values = _as_values(new_values)
        if _nrows_of(new_values) != _nrows_of(self._values):
            raise ValueError(f"with_values: expected {_nrows_of(self._values)} values; "
                             f"received {_nrows_of(new_values)}.")
        return RaggedTensor(new_values, self._row_splits, internal=True,
                            uniform_row_length=self._uniform_row_length)

    def with_flat_values(self, new_values):
        """The same row partitions over new flat values (as many as `flat_values` has rows)."""
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    # -- conversion -----------------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None):
        """A dense Tensor: rows padded with `default_value` (0, or b"" for strings).

        Args:
            default_value: The padding value (a scalar, or a tensor of the inner shape).
            name: Unused; kept for TF compatibility.
            shape: The output shape; None dims take the bounding shape's size. Rows or
                dims longer than `shape` are cut, as in TF.

        Example:
            >>> tf.ragged.constant([[1, 2], [3]]).to_tensor(default_value=9).numpy().tolist()
            [[1, 2], [3, 9]]
        """
        dtype = self.dtype
        if default_value is None:
            fill = np.asarray(b"" if dtype.is_string else 0, dtype=dtype._np)
        else:
            fill = convert_to_tensor(default_value, dtype=dtype)._value
        dense = self._dense(fill)
        if shape is None or (isinstance(shape, TensorShape) and shape.rank is None):
            return Tensor(dense)  # TensorShape(None) asks for no shape either, as in TF.
        dims = list(shape) if not isinstance(shape, TensorShape) else shape.as_list()
        if len(dims) != dense.ndim:
            raise ValueError(f"to_tensor: `shape` {dims} must have rank {dense.ndim} (this "
                             f"RaggedTensor's rank).")
        target = tuple(dense.shape[i] if d is None else int(d) for i, d in enumerate(dims))
        out = np.empty(target, dtype=dense.dtype)
        out[...] = np.broadcast_to(fill, target[dense.ndim - fill.ndim:]) if fill.ndim else fill
        overlap = tuple(slice(0, min(a, b)) for a, b in zip(dense.shape, target))
        out[overlap] = dense[overlap]
        return Tensor(out)

    def _dense(self, fill):
        if isinstance(self._values, RaggedTensor):
            inner = self._values._dense(fill)
        else:
            inner = self._values._value
        splits = self._row_splits._value
        lengths = np.diff(splits)
        nrows = lengths.size
        longest = int(lengths.max()) if nrows else 0
        shape = (nrows, longest) + inner.shape[1:]
        out = np.empty(shape, dtype=inner.dtype)
        out[...] = fill
        rowids = np.repeat(np.arange(nrows), lengths)
        positions = np.arange(inner.shape[0]) - splits[:-1][rowids]
        out[rowids, positions] = inner
        return out

    def to_list(self):
        """The rows as nested Python lists (strings as bytes), as TF's `to_list`.

        Example:
            >>> tf.ragged.constant([[1, 2], [3]]).to_list()
            [[1, 2], [3]]
        """
        if isinstance(self._values, RaggedTensor):
            inner = self._values.to_list()
        else:
            inner = self._values._value.tolist()
        splits = self._row_splits._value.tolist()
        return [inner[splits[i]:splits[i + 1]] for i in range(len(splits) - 1)]

    def numpy(self):
        """The rows as NumPy, as TF's eager `numpy()`: one array when all rows have the same
        length, else a 1-D object array of the row arrays."""
        values = self._values.numpy() if isinstance(self._values, RaggedTensor) \
            else self._values._value
        splits = self._row_splits._value.tolist()
        rows = [values[splits[i]:splits[i + 1]] for i in range(len(splits) - 1)]
        if not rows:
            return np.zeros((0, 0) + values.shape[1:], dtype=values.dtype)
        if any(len(row) != len(rows[0]) for row in rows):
            out = np.empty(len(rows), dtype=object)
            for i, row in enumerate(rows):
                out[i] = row
            return out
        return np.array(rows, dtype=values.dtype if values.dtype != object else object)

    # -- indexing -------------------------------------------------------------------------
    def __getitem__(self, key):
        """Row `key` (an int: a Tensor or a RaggedTensor one rank down) or rows `key` (a
        slice with step 1). Other keys raise NotImplementedError."""
        if isinstance(key, Tensor):
            key = key._value.item() if key._value.ndim == 0 else key
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            nrows = self._nrows()
            index = int(key) + nrows if key < 0 else int(key)
            if not 0 <= index < nrows:
                raise IndexError(f"RaggedTensor index {int(key)} is out of range for "
                                 f"{nrows} rows.")
            start, stop = self._row_splits._value[index:index + 2].tolist()
            return _slice_values(self._values, start, stop)
        if isinstance(key, slice) and key.step in (None, 1):
            start, stop, _ = key.indices(self._nrows())
            stop = max(stop, start)
            splits = self._row_splits._value[start:stop + 1]
            values = _slice_values(self._values, int(splits[0]), int(splits[-1]))
            return RaggedTensor(values, Tensor(splits - splits[0]), internal=True,
                                uniform_row_length=self._uniform_row_length)
        raise NotImplementedError(f"RaggedTensor indexing supports a row index or a slice of "
                                  f"rows with step 1 in numpyflow; received {key!r}.")

    # -- printing -------------------------------------------------------------------------
    def __repr__(self):
        # As TF: NumPy prints `numpy()` with ", " between items, each row array printed the
        # same way (so rows of equal length print as a multi-line 2-D array).
        with np.printoptions(formatter={"all": _formatter}):
            text = _formatter(self.numpy())
        return f"<tf.RaggedTensor {text}>"

    def __str__(self):
        return self.__repr__()

    __hash__ = None

    def __iter__(self):
        for i in range(self._nrows()):
            yield self[i]

    def __bool__(self):
        raise TypeError("RaggedTensor has no truth value; compare its flat_values instead.")


def note_read(tensor, how):
    """Tells a running `tf.function` trace that Python computes from `tensor`'s value (so the
    function stays eager rather than freezing a result computed outside the primitives)."""
    if trace_state.current is not None and isinstance(tensor, Tensor):
        trace_state.current.record_value_read(tensor, how)


def _formatter(x):
    if isinstance(x, np.ndarray):
        return np.array2string(x, separator=", ") if x.size else repr(x.tolist())
    return str(x)


def _nrows_of(values):
    if isinstance(values, RaggedTensor):
        return values._nrows()
    if values._value.ndim == 0:
        raise ValueError("RaggedTensor values must have rank >= 1; received a scalar.")
    return values._value.shape[0]


def _slice_values(values, start, stop):
    if isinstance(values, RaggedTensor):
        return values[start:stop]
    return Tensor(values._value[start:stop])


def is_ragged(value):
    return isinstance(value, RaggedTensor)
