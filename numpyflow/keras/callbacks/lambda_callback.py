"""`LambdaCallback`: a callback made from plain functions."""

from numpyflow.keras.callbacks.callback import Callback, HOOKS


class LambdaCallback(Callback):
    """Calls the given functions at the matching points of training.

    Args:
      on_epoch_begin, on_epoch_end: Functions of `(epoch, logs)`.
      on_train_begin, on_train_end: Functions of `(logs)`.
      on_train_batch_begin, on_train_batch_end: Functions of `(batch, logs)`.
      **kwargs: Any other hook (`on_test_begin`, `on_predict_batch_end`, ...).

    >>> import json
    >>> print_loss = LambdaCallback(
    ...     on_epoch_end=lambda epoch, logs: print(epoch, round(logs["loss"], 2)))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, function in hooks.items():
            if name not in HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; expected one of "
                                f"{sorted(HOOKS)}.")
            if function is not None:
                setattr(self, name, function)
