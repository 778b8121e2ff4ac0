"""`tf.data.experimental.AutoShardPolicy` and `DistributeOptions`: how a strategy splits a
dataset among its replicas (`options.experimental_distribute.auto_shard_policy`).

    >>> import numpyflow as tf
    >>> options = tf.data.Options()
    >>> options.experimental_distribute.auto_shard_policy = (
    ...     tf.data.experimental.AutoShardPolicy.DATA)
    >>> options.experimental_distribute.auto_shard_policy
    <AutoShardPolicy.DATA: 2>
"""

import enum


class AutoShardPolicy(enum.IntEnum):
    """TF's policies (and values). numpyflow supports AUTO (= DATA here), DATA and OFF."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class DistributeOptions:
    """`options.experimental_distribute`: `auto_shard_policy` (AUTO by default)."""

    def __init__(self):
        self._auto_shard_policy = AutoShardPolicy.AUTO

    @property
    def auto_shard_policy(self):
        return self._auto_shard_policy

    @auto_shard_policy.setter
    def auto_shard_policy(self, value):
        try:
            self._auto_shard_policy = AutoShardPolicy(value)
        except ValueError:
            raise ValueError(f"auto_shard_policy: expected a tf.data.experimental."
                             f"AutoShardPolicy; received {value!r}.") from None

    def __setattr__(self, name, value):
        if not name.startswith("_") and name != "auto_shard_policy":
            raise NotImplementedError(f"tf.data.Options.experimental_distribute.{name} is not "
                                      f"supported by numpyflow.")
        object.__setattr__(self, name, value)
