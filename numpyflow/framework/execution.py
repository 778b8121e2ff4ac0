"""`tf.init_scope`, `tf.get_logger` and the `tf.VariableAggregation` /
`tf.VariableSynchronization` enums: runtime names TF code uses around its ops."""

import contextlib
import enum
import logging

from numpyflow.framework import tape as tape_module


@contextlib.contextmanager
def init_scope():
    """`tf.init_scope`: code that creates state (Variables, their initial values) runs
    outside any function being built and unrecorded by gradient tapes.

    numpyflow has no graph to lift out of: ops inside still run eagerly (and a
    `tf.function` being traced still records them, once per trace); this thread's
    gradient tapes stop recording, as in TF.

    Example:
        >>> import numpyflow as tf
        >>> with tf.init_scope():
        ...     v = tf.Variable(1.)
    """
    tapes = tape_module.recording_tapes()
    for tape in tapes:
        tape._paused += 1  # The tape's own stop_recording, without requiring its `with`.
    try:
        yield
    finally:
        for tape in tapes:
            tape._paused -= 1


def get_logger():
    """The logger numpyflow writes its warnings to (`tf.get_logger`; TF's is named
    "tensorflow", numpyflow's "numpyflow").

    Example:
        >>> import numpyflow as tf
        >>> tf.get_logger().name
        'numpyflow'
    """
    return logging.getLogger("numpyflow")


class VariableAggregation(enum.Enum):
    """How a distributed Variable's per-replica updates combine (`tf.VariableAggregation`).

    numpyflow's strategies sum gradients themselves; the names exist for code that
    passes them (TF's values)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


class VariableSynchronization(enum.Enum):
    """When a distributed Variable's copies synchronize (`tf.VariableSynchronization`;
    TF's values)."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3
