"""`tf.data`: input pipelines (`Dataset`, `AUTOTUNE`, cardinality constants, `experimental`).

    >>> import numpyflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices(([1., 2., 3.], [0, 1, 0])).shuffle(3, seed=1)
    >>> ds.batch(2).cardinality().numpy()
    np.int64(2)
"""

from numpyflow.data import experimental  # noqa: F401
from numpyflow.data.dataset import (  # noqa: F401
    AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, DatasetSpec, Iterator, Options)
from numpyflow.data.tfrecord_dataset import TFRecordDataset  # noqa: F401
