"""`tf.data.experimental`: the experimental names numpyflow supports."""

from numpyflow.data.dataset import (  # noqa: F401
    AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY)
from numpyflow.data.distribute_options import AutoShardPolicy, DistributeOptions  # noqa: F401
from numpyflow.data.transformations import assert_cardinality  # noqa: F401


def cardinality(dataset):
    """`tf.data.experimental.cardinality(ds)`: the same as `ds.cardinality()`."""
    return dataset.cardinality()
