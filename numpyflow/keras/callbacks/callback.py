"""`Callback`: hooks into `fit`/`evaluate`/`predict`, and `CallbackList` to call many."""


class Callback:
    """Base class for callbacks; override the hooks you need.

    `self.model` is the model being trained and `self.params` holds `verbose`, `epochs`
    and `steps`. `logs` dicts map metric names to values (call `float()` on them).

    >>> import time
    >>> class EpochTimer(Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         self.start = time.perf_counter()
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(f"epoch {epoch} took {time.perf_counter() - self.start:.1f}s")
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras 1 names, still called by tf.keras during training.
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


HOOKS = [name for name in vars(Callback) if name.startswith("on_")]
_NO_ACTIVE_HOOKS = {hook: () for hook in HOOKS}


def as_callback_list(callbacks):
    """`callbacks` as a new list: None is none, and one callback not wrapped in a list is
    accepted, as Keras accepts it."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    return list(callbacks)


def _overrides(callback, hook):
    """Whether `callback` does something at `hook`: a subclass's method, or a function set
    on the instance (LambdaCallback)."""
    method = getattr(callback, hook)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


class CallbackList:
    """Calls a hook on every callback in order: `callbacks.on_epoch_end(epoch, logs)`."""

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = as_callback_list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"Callbacks must be instances of keras.callbacks.Callback; "
                                f"received {callback!r} of type {type(callback).__name__}.")
        if model is not None:
            for callback in self.callbacks:
                callback.set_model(model)
        if params:
            for callback in self.callbacks:
                callback.set_params(params)
        self._find_active_hooks()

    def _find_active_hooks(self):
        # Only hooks some callback overrides are dispatched: the batch hooks run per step.
        if not self.callbacks:  # predict(x) on one sample runs this: skip the 16 scans.
            self._active = _NO_ACTIVE_HOOKS
            return
        self._active = {hook: [getattr(c, hook) for c in self.callbacks
                               if _overrides(c, hook)]
                        for hook in HOOKS}

    def append(self, callback):
        self.callbacks.append(callback)
        self._find_active_hooks()

    def __iter__(self):
        return iter(self.callbacks)

    def call(self, hook, *args):
        for method in self._active[hook]:
            method(*args)

    def has(self, hook):
        return bool(self._active[hook])
