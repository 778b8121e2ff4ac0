"""`tf.errors`: the exception types ops raise."""

from numpyflow.framework.errors import (  # noqa: F401
    InvalidArgumentError, NotFoundError, OpError, ResourceExhaustedError, UnimplementedError)
