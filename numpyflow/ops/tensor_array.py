"""`tf.TensorArray`: a list of same-dtype tensors written and read by index.

TF2 code builds one in a loop (`ta = ta.write(i, x)`) and stacks it at the end. Here it
is a Python list of Tensors: `write` stores the tensor, `stack`/`concat`/`gather` are
`tf.stack`/`tf.concat` of the elements, so gradients flow through the ops that made them
and a `tf.function` traces them like any other ops (its loops run in Python, as numpyflow
traces them). As in TF's eager TensorArray, `write` returns a new TensorArray object that
shares the elements with the one it was called on; reassign it all the same
(`ta = ta.write(...)`), which is what TF's graph mode needs.

Eagerly, a read clears the element unless `clear_after_read=False` (TF's default is to
clear), so a second read of it fails and `stack` sees zeros there; inside a `tf.function`
reads never clear, as in TF's graphs. An element never written reads (and stacks) as
zeros when the element shape is known.

    >>> import numpyflow as tf
    >>> ta = TensorArray(tf.float32, size=0, dynamic_size=True)  # tf.TensorArray
    >>> for i in range(3):
    ...     ta = ta.write(i, float(i) * 2.)
    >>> ta.stack().numpy()
    array([0., 2., 4.], dtype=float32)
"""

import operator

from numpyflow.backend import xp
from numpyflow.framework import dtypes, trace_state
from numpyflow.framework.errors import InvalidArgumentError, OutOfRangeError
from numpyflow.framework.tensor import Tensor, convert_to_tensor
from numpyflow.framework.tensor_shape import TensorShape
from numpyflow.ops import array_ops, creation_ops

# An element read with clear_after_read: reading it again is an error, as in TF.
_CLEARED = object()


class _Elements:
    """What the TensorArray objects returned by one another's writes share."""

    __slots__ = ("values", "element_shape")

    def __init__(self, size, element_shape):
        self.values = [None] * size  # None: never written.
        self.element_shape = element_shape


def _integer(value, what, argument):
    """`value` as an int: a Python or NumPy integer, or an integer scalar tensor (read
    through `__index__`, which a traced function records). TF refuses 1.5 rather than
    truncating it, so a float is a TypeError here too."""
    try:
        return operator.index(value)
    except TypeError:
        where = f"TensorArray.{what}" if what else "TensorArray"
        raise TypeError(f"{where}: `{argument}` must be an integer; received "
                        f"{value!r}.") from None


def _index(index, what):
    value = _integer(index, what, "index")
    if value < 0:
        raise OutOfRangeError(None, None, f"TensorArray.{what}: negative indices (index "
                                          f"{value}) are not allowed.")
    return value


class TensorArray:
    """A list of tensors of one dtype, indexed from 0 (`tf.TensorArray`).

    Args:
      dtype: The elements' dtype; Python values written are converted to it.
      size: The initial number of elements (an int or int scalar tensor; required).
      dynamic_size: Whether writes past the end grow the array (else OutOfRangeError).
      clear_after_read: Whether an eager read clears the element (default True, as TF).
      tensor_array_name, handle, flow, colocate_with_first_write_call, name: Accepted for
        TF's signature; unused.
      infer_shape: Whether the first write fixes the element shape for later writes.
      element_shape: Optional shape every element must be compatible with.

    Raises:
      ValueError: without a `size`.

    >>> import numpyflow as tf
    >>> ta = TensorArray(tf.int32, size=2).unstack([[1, 2], [3, 4]])
    >>> ta.read(1).numpy(), int(ta.size())
    (array([3, 4], dtype=int32), 2)
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        if size is None:
            raise ValueError("TensorArray: `size` must be given (size=0 with "
                             "dynamic_size=True for an array that grows as it is written).")
        size = _integer(size, None, "size")
        if size < 0:
            raise ValueError(f"TensorArray: `size` must be >= 0; received {size}.")
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = bool(infer_shape)
        self._elements = _Elements(size, TensorShape(element_shape))

    def _sharing(self):
        """A new TensorArray object over the same elements (what a write returns)."""
        twin = object.__new__(TensorArray)
        twin.__dict__.update(self.__dict__)
        return twin

    # -- properties ------------------------------------------------------------------------

    @property
    def dtype(self):
        return self._dtype

    @property
    def dynamic_size(self):
        return self._dynamic_size

    @property
    def element_shape(self):
        """The shape every element has (TensorShape(None) until known)."""
        return self._elements.element_shape

    @property
    def handle(self):
        return None  # TF's eager TensorArray has no resource handle either.

    @property
    def flow(self):
        """A scalar TF uses to order TensorArray ops; only for signature compatibility."""
        return Tensor(xp.asarray(0, xp.int32))

    def size(self, name=None):
        """The number of elements, as an int32 scalar."""
        return Tensor(xp.asarray(len(self._elements.values), xp.int32))

    # -- writing ---------------------------------------------------------------------------

    def _converted(self, value, what):
        if isinstance(value, Tensor):
            converted = value
        else:
            try:
                converted = convert_to_tensor(value, dtype=self._dtype)
            except (TypeError, ValueError):
                converted = convert_to_tensor(value)  # Reported as a dtype mismatch below.
        if converted.dtype != self._dtype:
            raise InvalidArgumentError(None, None, f"TensorArray.{what}: TensorArray dtype is "
                                                   f"{self._dtype.name} but Op is trying to "
                                                   f"write dtype {converted.dtype.name}")
        return converted

    def _merge_shape(self, shape):
        known = self._elements.element_shape
        if not known.is_compatible_with(shape):
            raise ValueError(f"TensorArray: incompatible shape for value ({shape}), expected "
                             f"({known}).")
        if self._infer_shape:
            self._elements.element_shape = known.merge_with(shape)

    def _store(self, index, value, what):
        values = self._elements.values
        if index >= len(values):
            if not self._dynamic_size:
                raise OutOfRangeError(None, None, f"TensorArray.{what}: tried to write to index "
                                                  f"{index} but array is not resizeable and "
                                                  f"size is: {len(values)}")
            values.extend([None] * (index + 1 - len(values)))
        self._merge_shape(value.shape)
        values[index] = value

    def write(self, index, value, name=None):
        """Stores `value` at `index`; returns the TensorArray to use from now on."""
        index = _index(index, "write")
        self._store(index, self._converted(value, "write"), "write")
        return self._sharing()

    def unstack(self, value, name=None):
        """Makes the elements the slices of `value` along its first axis.

        Raises:
          ValueError: for more slices than a non-dynamic array's size.
        """
        value = self._converted(value, "unstack")
        if value.shape.rank == 0:
            raise ValueError("TensorArray.unstack: the value must have rank >= 1; received a "
                             "scalar.")
        count = value.shape[0]
        if not self._dynamic_size and count > len(self._elements.values):
            raise ValueError(f"Cannot unstack {count} tensors into a TensorArray of static "
                             f"size {len(self._elements.values)}")
        self._merge_shape(value.shape[1:])
        # As TF's eager TensorArray: the array becomes exactly the slices.
        self._elements.values = list(array_ops.unstack(value)) if count else []
        return self._sharing()

    def scatter(self, indices, value, name=None):
        """Writes `value[i]` at `indices[i]` for each i."""
        value = self._converted(value, "scatter")
        positions = [_index(i, "scatter") for i in xp.asarray(
            indices.numpy() if isinstance(indices, Tensor) else indices).reshape(-1)]
        if value.shape.rank == 0 or value.shape[0] != len(positions):
            raise ValueError(f"TensorArray.scatter: the value must have one row per index "
                             f"({len(positions)}); received shape {value.shape}.")
        for position, row in zip(positions, array_ops.unstack(value) if positions else []):
            self._store(position, row, "scatter")
        return self._sharing()

    def split(self, value, lengths, name=None):
        """Makes the elements consecutive pieces of `value`'s first axis, of `lengths`."""
        value = self._converted(value, "split")
        sizes = [int(n) for n in xp.asarray(
            lengths.numpy() if isinstance(lengths, Tensor) else lengths).reshape(-1)]
        if not self._dynamic_size and len(sizes) > len(self._elements.values):
            raise ValueError(f"Cannot split into {len(sizes)} tensors a TensorArray of static "
                             f"size {len(self._elements.values)}")
        pieces = array_ops.split(value, sizes) if sizes else []
        self._elements.values = list(pieces)
        return self._sharing()

    # -- reading ---------------------------------------------------------------------------

    def _element(self, index, what, clear):
        values = self._elements.values
        if index >= len(values):
            raise OutOfRangeError(None, None, f"TensorArray.{what}: tried to read from index "
                                              f"{index} but array size is: {len(values)}")
        value = values[index]
        if value is _CLEARED and not clear:
            value = None  # stack/gather/concat see a cleared element as unwritten, as TF.
        if value is _CLEARED:
            raise InvalidArgumentError(None, None, f"TensorArray.{what}: could not read index "
                                                   f"{index} twice because it was cleared "
                                                   f"after a previous read (perhaps try "
                                                   f"setting clear_after_read = false?)")
        if value is None:
            value = self._zeros(index, what)
        # Eagerly only: a traced function's reads never clear, as in TF's graphs.
        if clear and self._clear_after_read and trace_state.current is None:
            values[index] = _CLEARED
        return value

    def _zeros(self, index, what):
        shape = self._elements.element_shape
        if not shape.is_fully_defined():
            raise InvalidArgumentError(None, None, f"TensorArray.{what}: index {index} was "
                                                   f"never written and the element shape "
                                                   f"{shape} is not fully defined, so it "
                                                   f"cannot be read as zeros.")
        return creation_ops.zeros(shape.as_list(), self._dtype)

    def read(self, index, name=None):
        """The element at `index` (zeros if never written and the shape is known).

        Raises:
          OutOfRangeError: for an index past the end.
          InvalidArgumentError: for an element already read with clear_after_read.
        """
        return self._element(_index(index, "read"), "read", clear=True)

    def _all(self, what):
        return [self._element(i, what, clear=False) for i in range(len(self._elements.values))]

    def stack(self, name=None):
        """The elements stacked along a new first axis."""
        elements = self._all("stack")
        if elements:
            return array_ops.stack(elements)
        shape = self._elements.element_shape
        inner = shape.as_list() if shape.is_fully_defined() else []
        return creation_ops.zeros([0] + inner, self._dtype)

    def gather(self, indices, name=None):
        """The elements at `indices`, stacked."""
        positions = [_index(i, "gather") for i in xp.asarray(
            indices.numpy() if isinstance(indices, Tensor) else indices).reshape(-1)]
        elements = [self._element(i, "gather", clear=False) for i in positions]
        if elements:
            return array_ops.stack(elements)
        shape = self._elements.element_shape
        inner = shape.as_list() if shape.is_fully_defined() else []
        return creation_ops.zeros([0] + inner, self._dtype)

    def concat(self, name=None):
        """The elements joined along their first axis (their lengths may differ)."""
        elements = self._all("concat")
        if elements:
            return array_ops.concat(elements, axis=0)
        shape = self._elements.element_shape
        if shape.rank is None or shape.rank == 0 or not shape[1:].is_fully_defined():
            raise InvalidArgumentError(None, None, f"TensorArray.concat: the array is empty and "
                                                   f"its element shape {shape} does not say "
                                                   f"the result's shape.")
        return creation_ops.zeros([0] + shape.as_list()[1:], self._dtype)

    # -- TF's remaining methods ------------------------------------------------------------

    def identity(self):
        """This TensorArray (TF uses it to order graph ops)."""
        return self._sharing()

    def close(self, name=None):
        """Does nothing, as TF's eager TensorArray."""

    def grad(self, source, flow=None, name=None):
        raise NotImplementedError("TensorArray.grad is not supported: gradients reach the "
                                  "written tensors through the ops that read them "
                                  "(tf.GradientTape).")

    def __repr__(self):
        return (f"<TensorArray dtype={self._dtype.name} size={len(self._elements.values)} "
                f"element_shape={self._elements.element_shape}>")
