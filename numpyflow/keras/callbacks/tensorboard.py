"""`TensorBoard`: logs training to event files that TensorBoard shows.

What goes where, as Keras 3 writes it:

- `log_dir/train`: the model's layer graph (tag `keras`, step 0, shown by the Graphs
  dashboard as a conceptual graph: one node per layer, edges from the functional
  connections), `epoch_<name>` scalars at step = epoch (the loss, each metric, the
  `learning_rate`, `steps_per_second` with `write_steps_per_second`), `batch_<name>`
  scalars every `update_freq` batches at step = the global batch count, and weight
  histograms `<layer>/<weight>/histogram` (images `<layer>/<weight>/image`).
- `log_dir/validation`: `epoch_<name>` for each `val_<name>` (without the prefix) and
  `evaluation_<name>_vs_iterations` at step = the optimizer's iteration count.

Unlike Keras 3, epoch summaries are always written: Keras drops those of epochs whose
last global batch is not a multiple of an integer `update_freq`.
"""

import contextlib
import os
import time
import warnings

import numpy as np

from numpyflow.distribute import distributed_file_utils
from numpyflow.keras.callbacks.callback import Callback


class TensorBoard(Callback):
    """Writes the loss, metrics, weight histograms and the model graph for TensorBoard.

    Args:
      log_dir: The directory the `train` and `validation` event files go under.
      histogram_freq: Every how many epochs to write weight histograms (0: never).
      write_graph: Whether to write the model's layer graph.
      write_images: Whether to write the weights as images too (with `histogram_freq`).
      write_steps_per_second: Whether to log the training steps per second.
      update_freq: `"epoch"`, or write `batch_*` scalars every that many batches
        (`"batch"` is 1).
      profile_batch: Only 0: numpyflow has no profiler.
      embeddings_freq: Only 0: the embedding projector is not supported.
      embeddings_metadata: Only None.

    Needs the `tensorboard` package (`pip install numpyflow[tensorboard]`); view the logs
    with `tensorboard --logdir logs`.

    >>> import numpyflow as tf
    >>> callback = tf.keras.callbacks.TensorBoard(log_dir="logs", histogram_freq=1)
    >>> # model.fit(x, y, epochs=5, callbacks=[callback])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_count("histogram_freq", histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = _check_update_freq(update_freq)
        _reject_profiling(profile_batch)
        if embeddings_freq:
            raise NotImplementedError(
                f"TensorBoard: embeddings_freq={embeddings_freq!r} is not supported (the "
                "embedding projector needs checkpoints of Embedding layers); use "
                "embeddings_freq=0.")
        if embeddings_metadata is not None:
            raise NotImplementedError(
                f"TensorBoard: embeddings_metadata={embeddings_metadata!r} is not supported "
                "(no embedding projector); leave it None.")
        self.embeddings_freq = 0
        self.embeddings_metadata = None
        self._summary = None
        self._writers = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._pushed = []
        self._epoch_start = None

    # -- writers ------------------------------------------------------------------------------
    @property
    def summary(self):
        """`numpyflow.summary`, imported on first use."""
        if self._summary is None:
            from numpyflow import summary
            self._summary = summary
        return self._summary

    def _writer(self, kind):
        """The `train` or `validation` writer, created on first use (so is its file)."""
        if kind not in self._writers:
            # Under tf.distribute, only the chief writes to `log_dir` (the others to
            # temporary dirs removed at the end of training, as in TF).
            self._writers[kind] = self.summary.create_file_writer(
                os.path.join(distributed_file_utils.write_dirpath(
                    self.log_dir, distributed_file_utils.strategy_of(self.model)), kind))
        return self._writers[kind]

    @contextlib.contextmanager
    def _writing(self, kind):
        # Our own summaries are recorded whatever `record_if` the user's code set.
        with self._writer(kind).as_default(), self.summary.record_if(True):
            yield self.summary

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _push_writer(self, kind, step):
        """Makes a writer the default for summaries the model writes itself (in a custom
        `train_step`), at the global batch `step`, recorded every `update_freq` batches."""
        if self.update_freq == "epoch":
            return
        stack = contextlib.ExitStack()
        stack.enter_context(self._writer(kind).as_default(step=step))
        stack.enter_context(self.summary.record_if(step % self.update_freq == 0))
        self._pushed.append(stack)

    def _pop_writer(self):
        if self._pushed:
            self._pushed.pop().close()

    # -- hooks --------------------------------------------------------------------------------
    def set_model(self, model):
        """Sets the model and, with `write_graph`, writes its layer graph."""
        super().set_model(model)
        self._close_writers()
        if self.write_graph:
            self._write_model_graph()

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._push_writer("train", self._global_train_batch)

    def on_train_end(self, logs=None):
        while self._pushed:
            self._pop_writer()
        self._close_writers()
        distributed_file_utils.remove_temp_dirpath(
            self.log_dir, distributed_file_utils.strategy_of(self.model))

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer("train", self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        with self._writing("train") as summary:
            if self.write_steps_per_second:
                elapsed = time.perf_counter() - self._batch_start
                summary.scalar("batch_steps_per_second", 1. / max(elapsed, 1e-9), step=step)
            for name, value in (logs or {}).items():
                summary.scalar(f"batch_{name}", _scalar(name, value), step=step)

    def on_test_begin(self, logs=None):
        self._push_writer("validation", self._global_test_batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer("validation", self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and logs:
            step = int(_scalar("iterations", optimizer.iterations))
            with self._writing("validation") as summary:
                for name, value in logs.items():
                    summary.scalar(f"evaluation_{name}_vs_iterations", _scalar(name, value),
                                   step=step)
        self._pop_writer()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = (time.perf_counter(), self._iterations())

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # -- what is written ----------------------------------------------------------------------
    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return 0 if optimizer is None else int(_scalar("iterations", optimizer.iterations))

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = _scalar("learning_rate", optimizer.learning_rate)
        if self.write_steps_per_second and self._epoch_start is not None:
            start_time, start_iterations = self._epoch_start
            elapsed = max(time.perf_counter() - start_time, 1e-9)
            train_logs["steps_per_second"] = (self._iterations() - start_iterations) / elapsed
        for kind, values in (("train", train_logs), ("validation", val_logs)):
            if values:
                with self._writing(kind) as summary:
                    for name, value in values.items():
                        summary.scalar(f"epoch_{name}", _scalar(name, value), step=epoch)

    def _log_weights(self, epoch):
        with self._writing("train") as summary:
            for layer in self.model.layers:
                for weight in layer.weights:
                    name = _weight_path(weight)
                    values = np.asarray(weight.numpy())
                    summary.histogram(f"{name}/histogram", values, step=epoch)
                    if self.write_images:
                        picture = _weight_as_image(values)
                        if picture is not None:
                            summary.image(f"{name}/image", picture, step=epoch)

    def _write_model_graph(self):
        """Writes the model's config as JSON under the tag `keras` at step 0, with the
        `graph_keras_model` plugin data, as Keras 3 does; TensorBoard's Graphs dashboard
        turns it into a graph of layers. Only Sequential and functional models have one."""
        from numpyflow.keras.models.functional import Functional
        from numpyflow.keras.models.sequential import Sequential
        if not isinstance(self.model, (Functional, Sequential)):
            return
        try:
            json_string = _model_json(self.model)
        except Exception as error:  # As Keras: a model that cannot serialize still trains.
            warnings.warn(f"TensorBoard: the model failed to serialize as JSON, so its graph "
                          f"is not written. {type(error).__name__}: {error}", stacklevel=2)
            return
        from numpyflow.summary import _tensorboard
        summary_pb2 = _tensorboard.load("compat.proto.summary_pb2")
        metadata = summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        with self._writing("train") as summary:
            summary.write("keras", np.array([json_string], dtype=object), step=0,
                          metadata=metadata)


# -- helpers ----------------------------------------------------------------------------------
def _check_count(argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"TensorBoard: {argument} must be an int >= 0; received "
                         f"{argument}={value!r}.")
    return int(value)


def _check_update_freq(update_freq):
    if update_freq == "batch":
        return 1
    if update_freq == "epoch":
        return "epoch"
    if isinstance(update_freq, bool) or not isinstance(update_freq, (int, np.integer)) \
            or update_freq < 1:
        raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                         f"number of batches; received update_freq={update_freq!r}.")
    return int(update_freq)


def _reject_profiling(profile_batch):
    """Accepts Keras's spellings of "no profiling" (0, "0", "0,0", (0, 0)); rejects others."""
    message = ("profile_batch must be a non-negative integer or 2-tuple of positive integers. "
               f"A pair of positive integers signifies a range of batches to profile. "
               f"Found: {profile_batch}")
    values = profile_batch
    if isinstance(values, str):
        try:
            values = [int(part) for part in values.split(",")]
        except ValueError:
            raise ValueError(message) from None
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if not 1 <= len(values) <= 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0
            for v in values) or values[-1] < values[0]:
        raise ValueError(message)
    if any(values):
        raise NotImplementedError(
            f"TensorBoard: profile_batch={profile_batch!r} is not supported: numpyflow has no "
            "profiler. Use profile_batch=0.")


def _scalar(name, value):
    """A log value as a float; a value of several numbers is an error naming the log."""
    array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    if array.size != 1:
        raise ValueError(f"TensorBoard can only log scalars; the log {name!r} has shape "
                         f"{array.shape}.")
    return float(array.reshape(()))


def _weight_path(weight):
    """Keras 3's `weight.path` ("dense/kernel"): the variable's name without ":0"."""
    path = getattr(weight, "path", None)
    if path is None:
        name = weight.name
        head, sep, tail = name.rpartition(":")
        path = head if sep and tail.isdigit() else name
    return path.replace(":", "_")


def _weight_as_image(values):
    """A weight as `[k, h, w, 1]` images, as Keras 3 lays it out, or None (3-D convs...)."""
    picture = np.squeeze(values)
    if picture.ndim == 1:  # A bias: one row.
        picture = picture.reshape(1, picture.shape[0], 1, 1)
    elif picture.ndim == 2:  # A Dense kernel, wider than tall.
        if picture.shape[0] > picture.shape[1]:
            picture = picture.T
        picture = picture.reshape(1, picture.shape[0], picture.shape[1], 1)
    elif picture.ndim == 3:  # A 1-D conv kernel: one image per output channel.
        picture = np.transpose(picture, (2, 0, 1))
        picture = picture.reshape(*picture.shape, 1)
    if picture.ndim == 4 and picture.shape[-1] in (1, 3, 4):
        return picture.astype(np.float32)
    return None


def _model_json(model):
    to_json = getattr(model, "to_json", None)
    if to_json is not None:
        return to_json()
    import json
    from numpyflow.keras.saving import serialization_lib
    return json.dumps(serialization_lib.serialize_keras_object(model), default=_json_default)


def _json_default(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
