"""`tf.errors`: the exception types ops raise."""

from numpyflow.framework.errors import (  # noqa: F401
    DataLossError, DeadlineExceededError, FailedPreconditionError, InvalidArgumentError,
    NotFoundError, OpError, OutOfRangeError, ResourceExhaustedError, UnimplementedError)
