"""Exception types raised by numpyflow ops, named and shaped as `tf.errors`.

TensorFlow reports kernel-level failures (bad shapes, bad values) as subclasses of
`tf.errors.OpError`; Python-level misuse (wrong argument types) stays `TypeError` /
`ValueError`. We follow the same split so that user code catching TF's exceptions
keeps working.
"""


class OpError(Exception):
    """Base class for errors raised while running an op.

    Args:
      node_def: Unused; kept for TensorFlow signature compatibility.
      op: Unused; kept for TensorFlow signature compatibility.
      message: The error message.
    """

    def __init__(self, node_def=None, op=None, message=None, *args):
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message

    @property
    def message(self):
        return self._message

    @property
    def op(self):
        return self._op

    @property
    def node_def(self):
        return self._node_def

    def __str__(self):
        return str(self._message)


class InvalidArgumentError(OpError):
    """An op received an argument with an invalid value or shape."""


class NotFoundError(OpError):
    """A requested entity (file, op) was not found."""


class UnimplementedError(OpError):
    """The operation is not implemented."""


class ResourceExhaustedError(OpError):
    """Some resource has been exhausted."""


class DataLossError(OpError):
    """Unrecoverable data loss or corruption, e.g. a truncated or corrupt TFRecord file."""


class FailedPreconditionError(OpError):
    """The system is not in a state to run the operation (e.g. a wrong dataset cardinality)."""


class OutOfRangeError(OpError):
    """An operation iterated past the valid range (e.g. past the end of a dataset)."""


class DeadlineExceededError(OpError):
    """An operation did not complete in time (e.g. a collective whose peer died)."""


def invalid_argument(op_name, message):
    """Builds an `InvalidArgumentError` whose message ends with TF's `[Op:Name]` tag."""
    return InvalidArgumentError(None, None, f"{message} [Op:{op_name}]")
