"""`tf.train`: checkpoints for custom training loops.

`Checkpoint` saves and restores the Variables of models, optimizers and other objects
by path; `CheckpointManager` numbers checkpoints in a directory and keeps the newest few;
`latest_checkpoint` finds the newest. The files are numpyflow's own format (see
`numpyflow.train.checkpoint_file`), not TF's.

    >>> import tempfile
    >>> import numpyflow as tf
    >>> step = tf.Variable(0)
    >>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step),
    ...                                      tempfile.mkdtemp(), max_to_keep=3)
    >>> _ = manager.save()
    >>> tf.train.latest_checkpoint(manager.directory) == manager.latest_checkpoint
    True
"""

from numpyflow.train.checkpoint import (  # noqa: F401
    Checkpoint, CheckpointLoadStatus, restore_deferred)
from numpyflow.train.checkpoint_management import (  # noqa: F401
    CheckpointManager, latest_checkpoint)

__all__ = ["Checkpoint", "CheckpointManager", "latest_checkpoint"]

# `tf.train.Example` and its parts are protobuf messages (numpyflow/io/example_proto.py):
# protobuf loads on first use, so `import numpyflow` stays light.
_EXAMPLE_NAMES = ("Example", "SequenceExample", "Features", "Feature", "FeatureList",
                  "FeatureLists", "BytesList", "FloatList", "Int64List")


def __getattr__(name):
    if name in _EXAMPLE_NAMES:
        from numpyflow.io import example_proto
        return getattr(example_proto, name)
    raise AttributeError(f"module 'numpyflow.train' has no attribute {name!r}")
