"""`TensorShape`: a tuple of dimensions (ints, or None where unknown)."""


class TensorShape(tuple):
    """The shape of a tensor, as TF's `tf.TensorShape`.

    It is a tuple, so it indexes, iterates and compares with tuples and lists;
    `None` marks a dimension that is not known (such as a batch dimension).

    >>> s = TensorShape([None, 28, 28])
    >>> s.rank, s[1], s.as_list()
    (3, 28, [None, 28, 28])
    """

    __slots__ = ()

    def __new__(cls, dims=()):
        if type(dims) is cls:
            return dims  # Immutable: no copy needed.
        if dims is None:
            raise ValueError("Shapes of unknown rank are not supported.")
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
        return len(self) == len(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other))

    def __getitem__(self, key):
        result = tuple.__getitem__(self, key)
        # A slice of a TensorShape holds valid dims already: skip the conversion.
        return tuple.__new__(TensorShape, result) if isinstance(key, slice) else result

    def __add__(self, other):
        return TensorShape(tuple(self) + tuple(other))

    def __eq__(self, other):
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
