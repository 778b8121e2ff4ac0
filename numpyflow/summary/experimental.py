"""`tf.summary.experimental`: the default step of this thread.

>>> import numpyflow as tf
>>> tf.summary.experimental.set_step(5)
>>> tf.summary.experimental.get_step()
5
>>> tf.summary.experimental.set_step(None)
"""

from numpyflow.summary.writer import get_step, set_step  # noqa: F401
