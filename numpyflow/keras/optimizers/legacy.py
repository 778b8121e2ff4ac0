"""`keras.optimizers.legacy`: the names TF 2.11+ kept for the pre-2.11 optimizers.

They are the same classes as `keras.optimizers` here (the update rules of Keras 2.11+),
so code written against `tf.keras.optimizers.legacy.Adam` runs unchanged. Note that the
legacy RMSprop added epsilon outside the square root; this one adds it inside.
"""

from numpyflow.keras.optimizers.adagrad import Adagrad  # noqa: F401
from numpyflow.keras.optimizers.adam import Adam  # noqa: F401
from numpyflow.keras.optimizers.adamax import Adamax  # noqa: F401
from numpyflow.keras.optimizers.optimizer import Optimizer  # noqa: F401
from numpyflow.keras.optimizers.rmsprop import RMSprop  # noqa: F401
from numpyflow.keras.optimizers.sgd import SGD  # noqa: F401
