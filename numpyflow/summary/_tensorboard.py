"""The one place that imports the `tensorboard` package, on first use.

`import numpyflow` must stay light, so `tf.summary` imports TensorBoard's writer and
protocol-buffer messages only when a writer is created or a summary is built.
"""

import importlib

_INSTALL_HINT = ("tf.summary writes TensorBoard event files with the `tensorboard` package, "
                 "which is not installed. Install it with: pip install numpyflow[tensorboard]")


def load(module):
    """Imports `tensorboard.<module>`, or raises ImportError saying what to install.

    >>> load("compat.proto.summary_pb2").Summary  # doctest: +SKIP
    """
    try:
        return importlib.import_module(f"tensorboard.{module}")
    except ImportError as error:
        if getattr(error, "name", None) and not error.name.startswith("tensorboard"):
            raise  # A dependency of an installed tensorboard is broken: show the real cause.
        raise ImportError(_INSTALL_HINT) from error
