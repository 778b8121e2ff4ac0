"""`keras.callbacks.TensorBoard`: the files read back with TensorBoard's own readers and
compared with what Keras 3's callback writes (tests/fixtures/tensorboard/)."""

import glob
import json
import os
import sys

import numpy as np
import pytest

import numpyflow as tf
from numpyflow import keras

pytest.importorskip("tensorboard", reason="the TensorBoard callback needs tensorboard")
from tensorboard.backend.event_processing import event_accumulator, event_file_loader  # noqa: E402
from tensorboard.plugins.graph import keras_util  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from numpyflow.summary import summary_ops  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures")
sys.path.insert(0, FIXTURES)
import make_tensorboard_fixtures as fixtures  # noqa: E402


def read_run(logdir, run):
    """{tag: [(step, value)]} from every event file of `logdir/run`, in order."""
    found = {}
    for path in sorted(glob.glob(os.path.join(logdir, run, "events.out.tfevents.*"))):
        for event in event_file_loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(
                    (event.step, tensor_util.make_ndarray(value.tensor)))
    return found


def layer_graph(events):
    [(step, blob)] = events["keras"]
    assert step == 0
    graph = keras_util.keras_model_to_graph_def(json.loads(blob[0]))
    return [[node.name, list(node.input), node.attr["keras_class"].s.decode()]
            for node in graph.node]


def fit_fixture_model(logdir, **tensorboard_kwargs):
    tf.random.set_seed(0)
    model = fixtures.build_model(keras)
    x, y = fixtures.training_data()
    history = model.fit(x, y, batch_size=10, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(logdir, **tensorboard_kwargs)])
    return model, history


def test_same_tags_and_steps_as_keras_3(tmp_path):
    logdir = str(tmp_path)
    model, history = fit_fixture_model(logdir, histogram_freq=1)
    with open(os.path.join(FIXTURES, "tensorboard", "keras3_tensorboard_tags.json")) as f:
        keras3 = json.load(f)
    for run in ("train", "validation"):
        ours = {tag: [step for step, _ in events] for tag, events in read_run(logdir, run).items()}
        assert ours == keras3["runs"][run], run
    assert layer_graph(read_run(logdir, "train")) == keras3["graph"]
    # The values: one epoch_loss per epoch, in each run, equal to the History.
    accumulator = event_accumulator.EventAccumulator(
        os.path.join(logdir, "validation"), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    val_loss = [float(tensor_util.make_ndarray(e.tensor_proto))
                for e in accumulator.Tensors("epoch_loss")]
    np.testing.assert_allclose(val_loss, history.history["val_loss"], rtol=1e-6)
    train = read_run(logdir, "train")
    np.testing.assert_allclose([float(v) for _, v in train["epoch_loss"]],
                               history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([float(v) for _, v in train["epoch_learning_rate"]], [0.01] * 3)
    # The last histogram is of the weights as training left them.
    step, table = train["hidden/kernel/histogram"][-1]
    np.testing.assert_array_equal(
        table, summary_ops.histogram_buckets(model.get_layer("hidden").kernel.numpy(), 30))
    assert step == 2 and table[:, 2].sum() == 12


def test_update_freq_writes_batch_scalars_every_n_batches(tmp_path):
    batch_losses = []
    model = fixtures.build_model(keras)
    x, y = fixtures.training_data()
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch_losses.append(float(logs["loss"])))
    model.fit(x, y, batch_size=10, epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), update_freq=3), record])
    train = read_run(str(tmp_path), "train")
    assert [step for step, _ in train["batch_loss"]] == [3, 6]
    assert [step for step, _ in train["batch_mae"]] == [3, 6]
    np.testing.assert_allclose([float(v) for _, v in train["batch_loss"]],
                               [batch_losses[2], batch_losses[5]], rtol=1e-6)
    assert [step for step, _ in train["epoch_loss"]] == [0, 1]  # Every epoch, unlike Keras 3.
    assert not os.path.exists(tmp_path / "validation")  # No validation: no file.


def test_epoch_update_freq_writes_no_batch_scalars(tmp_path):
    model = fixtures.build_model(keras)
    model.fit(*fixtures.training_data(), batch_size=10, epochs=1, verbose=0,
              callbacks=keras.callbacks.TensorBoard(str(tmp_path), write_graph=False))
    assert sorted(read_run(str(tmp_path), "train")) == [
        "epoch_learning_rate", "epoch_loss", "epoch_mae"]


def test_own_summaries_go_to_the_train_writer_at_the_global_batch(tmp_path):
    # With update_freq set, the callback makes its writer the default during training, so
    # tf.summary calls without a writer or step (in a callback here) land in `train`.
    model = fixtures.build_model(keras)
    custom = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: tf.summary.scalar("custom", batch))
    model.fit(*fixtures.training_data(), batch_size=10, epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), update_freq=2), custom])
    assert [(step, float(v)) for step, v in read_run(str(tmp_path), "train")["custom"]] == [
        (2, 1.), (4, 3.), (6, 1.), (8, 3.)]
    assert tf.summary.scalar("after", 1., step=0) is False  # The default writer is gone.


def test_images_steps_per_second_and_a_sequential_graph(tmp_path):
    model = keras.Sequential([keras.Input((6,), name="x"), keras.layers.Dense(5, name="wide"),
                              keras.layers.Dense(2, name="out")], name="seq")
    model.compile("adam", "mse")
    x, y = np.ones((8, 6), "float32"), np.zeros((8, 2), "float32")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[keras.callbacks.TensorBoard(
        str(tmp_path), histogram_freq=2, write_images=True, write_steps_per_second=True,
        update_freq="batch")])
    train = read_run(str(tmp_path), "train")
    assert [step for step, _ in train["wide/kernel/histogram"]] == [0]  # Epochs 0, 2, ...
    # A kernel is shown wider than tall, a bias as one row, as Keras 3 lays them out.
    [(_, kernel_image)] = train["wide/kernel/image"]
    assert list(kernel_image[:2]) == [b"6", b"5"]
    [(_, bias_image)] = train["out/bias/image"]
    assert list(bias_image[:2]) == [b"1", b"2"]
    assert [step for step, _ in train["batch_steps_per_second"]] == [1, 2, 3, 4]
    assert [step for step, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert all(float(v) > 0 for _, v in train["epoch_steps_per_second"])
    # The nodes TensorBoard's graph plugin makes of Keras 3's own config of this model.
    assert layer_graph(train) == [["seq/x", [], "InputLayer"],
                                  ["seq/wide", ["seq/x"], "Dense"],
                                  ["seq/out", ["seq/wide"], "Dense"]]


def test_evaluate_logs_against_the_iteration_count(tmp_path):
    model = fixtures.build_model(keras)
    x, y = fixtures.training_data()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.evaluate(x, y, verbose=0,
                   callbacks=[keras.callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    [(step, value)] = read_run(str(tmp_path), "validation")["evaluation_loss_vs_iterations"]
    assert step == 4 and float(value) == pytest.approx(loss, rel=1e-6)


def test_subclassed_model_has_no_layer_graph(tmp_path):
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path))])
    assert "keras" not in read_run(str(tmp_path), "train")
    assert "epoch_loss" in read_run(str(tmp_path), "train")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"profile_batch": 5}, NotImplementedError, "profile_batch=5 is not supported"),
    ({"profile_batch": (2, 4)}, NotImplementedError, r"profile_batch=\(2, 4\)"),
    ({"profile_batch": "a,b"}, ValueError, "Found: a,b"),
    ({"profile_batch": (4, 2)}, ValueError, r"Found: \(4, 2\)"),
    ({"embeddings_freq": 1}, NotImplementedError, "embeddings_freq=1"),
    ({"embeddings_metadata": "meta.tsv"}, NotImplementedError, "embeddings_metadata='meta.tsv'"),
    ({"update_freq": 0}, ValueError, "update_freq=0"),
    ({"update_freq": "step"}, ValueError, "update_freq='step'"),
    ({"histogram_freq": -1}, ValueError, "histogram_freq=-1"),
])
def test_unsupported_or_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        keras.callbacks.TensorBoard("logs", **kwargs)


def test_no_profiling_spellings_are_accepted(tmp_path):
    for profile_batch in (0, "0", "0,0", (0, 0)):
        keras.callbacks.TensorBoard(str(tmp_path), profile_batch=profile_batch)
    assert not os.listdir(tmp_path)  # Nothing is written before a model is set.
