"""`tf.distribute.ReduceOp`: how values from the replicas are combined."""

import enum


class ReduceOp(enum.Enum):
    """How `strategy.reduce` and the all-reduce combine the replicas' values.

    >>> ReduceOp.from_string("sum")
    <ReduceOp.SUM: 'SUM'>
    """

    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_string(s):
        """`ReduceOp.SUM` or `ReduceOp.MEAN` from "sum"/"SUM" or "mean"/"MEAN"."""
        try:
            return ReduceOp(s.upper() if isinstance(s, str) else s)
        except ValueError:
            raise ValueError(f"ReduceOp: expected 'SUM' or 'MEAN'; received {s!r}.") from None


def as_reduce_op(value):
    """A ReduceOp from a ReduceOp or its name."""
    return value if isinstance(value, ReduceOp) else ReduceOp.from_string(value)
