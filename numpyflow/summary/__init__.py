"""`tf.summary`: write scalars, histograms, images and text for TensorBoard.

Event files are written with the `tensorboard` package (`pip install
numpyflow[tensorboard]`), imported only when a writer is created.

>>> import numpyflow as tf
>>> writer = tf.summary.create_file_writer("/tmp/logs")  # doctest: +SKIP
>>> with writer.as_default():  # doctest: +SKIP
...     for step in range(3):
...         tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
"""

from numpyflow.summary import experimental  # noqa: F401
from numpyflow.summary.summary_ops import histogram, image, scalar, text, write  # noqa: F401
from numpyflow.summary.writer import (  # noqa: F401
    SummaryWriter, create_file_writer, create_noop_writer, flush, record_if,
    should_record_summaries)
