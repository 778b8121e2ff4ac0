"""`TensorShape`: a tuple of dimensions (ints, or None where unknown), or a shape of unknown
rank (`TensorShape(None)`)."""


class TensorShape(tuple):
    """The shape of a tensor, as TF's `tf.TensorShape`.

    It is a tuple, so it indexes, iterates and compares with tuples and lists;
    `None` marks a dimension that is not known (such as a batch dimension).

    `TensorShape(None)` is a shape whose rank is not known either: its `rank` is None,
    it is compatible with every shape, and, as in TF, `len()`, iteration, `in` and
    `as_list()` raise ValueError on it (`with_rank(n)` gives it n unknown dims).

    >>> s = TensorShape([None, 28, 28])
    >>> s.rank, s[1], s.as_list()
    (3, 28, [None, 28, 28])
    >>> TensorShape(None).rank, TensorShape(None).is_compatible_with([2, 3])
    (None, True)
    """

    __slots__ = ()

    def __new__(cls, dims=()):
        if type(dims) is cls:
            return dims  # Immutable: no copy needed.
        if dims is None or isinstance(dims, _UnknownRankShape):
            return UNKNOWN_RANK
        if isinstance(dims, int):
            dims = (dims,)
        return super().__new__(cls, (None if d is None else int(d) for d in dims))

    @classmethod
    def _of(cls, dims):
        """Fast path for a tuple of ints (a NumPy shape): no conversion needed."""
        return tuple.__new__(cls, dims)

    @property
    def rank(self):
        return len(self)

    @property
    def ndims(self):
        return len(self)

    @property
    def dims(self):
        return list(self)

    def as_list(self):
        return list(self)

    def num_elements(self):
        """The number of elements, or None if any dimension is unknown."""
        total = 1
        for d in self:
            if d is None:
                return None
            total *= d
        return total

    def is_fully_defined(self):
        return None not in self

    def is_compatible_with(self, other):
        other = TensorShape(other)
        if other.rank is None:
            return True
        return len(self) == len(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other))

    def assert_is_compatible_with(self, other):
        """Raises ValueError unless `other` is compatible with this shape."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {TensorShape(other)} are incompatible.")

    def merge_with(self, other):
        """The most specific shape compatible with both (each known dim from either).

        >>> TensorShape([None, 3]).merge_with([2, None])
        TensorShape([2, 3])
        """
        other = TensorShape(other)
        if other.rank is None:
            return self
        self.assert_is_compatible_with(other)
        return TensorShape(a if b is None else b for a, b in zip(self, other))

    def most_specific_compatible_shape(self, other):
        """The most specific shape both shapes are compatible with (differing dims: None)."""
        other = TensorShape(other)
        if other.rank is None or len(other) != len(self):
            return UNKNOWN_RANK
        return TensorShape(a if a == b else None for a, b in zip(self, other))

    def with_rank(self, rank):
        """This shape, or `rank` unknown dims if its rank is unknown; ValueError unless
        it can have rank `rank`."""
        if self.rank is None:
            return TensorShape([None] * rank)
        if self.rank != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self

    def with_rank_at_least(self, rank):
        """This shape; ValueError if its rank is known and below `rank`."""
        if self.rank is not None and self.rank < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank):
        """This shape; ValueError if its rank is known and above `rank`."""
        if self.rank is not None and self.rank > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def assert_has_rank(self, rank):
        """Raises ValueError if the rank is known and is not `rank`."""
        if self.rank not in (None, rank):
            raise ValueError(f"Shape {self} must have rank {rank}")

    def assert_same_rank(self, other):
        """Raises ValueError if both ranks are known and differ."""
        other = TensorShape(other)
        if self.rank is not None and other.rank is not None and self.rank != other.rank:
            raise ValueError(f"Shapes {self} and {other} must have the same rank")

    def assert_is_fully_defined(self):
        """Raises ValueError unless every dim (and so the rank) is known."""
        if not self.is_fully_defined():
            raise ValueError(f"Shape {self} is not fully defined")

    def concatenate(self, other):
        """This shape's dims followed by `other`'s (unknown rank if either rank is)."""
        return self + TensorShape(other)

    def __getitem__(self, key):
        result = tuple.__getitem__(self, key)
        # A slice of a TensorShape holds valid dims already: skip the conversion.
        return tuple.__new__(TensorShape, result) if isinstance(key, slice) else result

    def __add__(self, other):
        other = TensorShape(other)
        if other.rank is None:
            return UNKNOWN_RANK
        return TensorShape(tuple(self) + tuple(other))

    def __eq__(self, other):
        if isinstance(other, _UnknownRankShape):
            return False
        try:
            return tuple(self) == tuple(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __repr__(self):
        return f"TensorShape({list(self)})"

    def __str__(self):
        if len(self) == 1:
            return f"({self[0]},)"
        return "(" + ", ".join(str(d) for d in self) + ")"


class _UnknownRankShape(TensorShape):
    """The shape of unknown rank (`TensorShape(None)`; `UNKNOWN_RANK` is its one instance).

    It is a TensorShape (an empty tuple underneath) so that `isinstance` checks and the
    functions that take shapes accept it; every method that would need the dims answers
    as TF's unknown shape does.
    """

    __slots__ = ()

    @property
    def rank(self):
        return None

    @property
    def ndims(self):
        return None

    @property
    def dims(self):
        return None

    def as_list(self):
        raise ValueError("as_list() is not defined on an unknown TensorShape.")

    def num_elements(self):
        return None

    def is_fully_defined(self):
        return False

    def is_compatible_with(self, other):
        TensorShape(other)  # Still refuses what is not a shape.
        return True

    def merge_with(self, other):
        return TensorShape(other)

    def most_specific_compatible_shape(self, other):
        TensorShape(other)
        return self

    def __len__(self):
        raise ValueError("Cannot take the length of shape with unknown rank.")

    def __iter__(self):
        raise ValueError("Cannot iterate over a shape with unknown rank.")

    def __bool__(self):
        return False  # TF: only a shape of known rank is truthy.

    def __contains__(self, item):
        # As TF (whose `in` iterates): a silent False would tell `None in shape` that every
        # dim is known.
        raise ValueError("Cannot iterate over a shape with unknown rank.")

    def __getitem__(self, key):
        # Any dim of an unknown shape is unknown. A slice between two non-negative bounds
        # has stop - start of them, as in TF; any other slice has an unknown rank.
        if isinstance(key, slice):
            if key.step is not None:
                raise ValueError("Steps are not yet handled in slices of a TensorShape of "
                                 "unknown rank.")
            start = 0 if key.start is None else key.start
            if key.stop is None or start < 0 or key.stop < 0:
                return self
            return TensorShape([None] * max(key.stop - start, 0))
        if not isinstance(key, int):
            raise TypeError(f"TensorShape indices must be integers or slices, not "
                            f"{type(key).__name__}.")
        return None

    def __add__(self, other):
        TensorShape(other)
        return self

    def __radd__(self, other):
        TensorShape(other)
        return self

    def __eq__(self, other):
        # TF: the unknown shape equals itself and None, and no shape of known rank.
        return other is None or isinstance(other, _UnknownRankShape)

    def __hash__(self):
        return hash(_UnknownRankShape)

    def __repr__(self):
        return "TensorShape(None)"

    def __str__(self):
        return "<unknown>"

    def __reduce__(self):
        return TensorShape, (None,)


UNKNOWN_RANK = tuple.__new__(_UnknownRankShape, ())
