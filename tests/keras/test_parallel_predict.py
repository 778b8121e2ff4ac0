"""`predict` spreading batches over threads (keras/trainers/parallel_predict.py).

It must give the same bits as one thread, keep the samples' order, run only pure
compiled plans on other threads, and stay on one thread whenever batch order matters.
"""

import threading

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.backend import threads as backend_threads
from numpyflow.keras.trainers import parallel_predict

keras = tf.keras

pytestmark = pytest.mark.usefixtures("fresh_names")


def mlp():
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


@pytest.fixture
def two_threads(monkeypatch):
    """Two threads allowed whatever the machine's cores; records who ran each batch."""
    seen = {"calls": [], "threads": set()}
    original_count, original_run = parallel_predict.thread_count, parallel_predict.run_batches

    def run_batches(run, batches, threads):
        seen["calls"].append((len(batches), threads))

        def recorded(batch):
            seen["threads"].add(threading.current_thread().name)
            return run(batch)
        return original_run(recorded, batches, threads)

    def two_if_eligible(epoch_iterator, callback_list, replicas):
        # thread_count's own conditions, with the machine's cores taken to be two.
        real = backend_threads.cores
        backend_threads.cores = lambda: 2
        try:
            return original_count(epoch_iterator, callback_list, replicas)
        finally:
            backend_threads.cores = real

    monkeypatch.setattr(parallel_predict, "thread_count", two_if_eligible)
    monkeypatch.setattr(parallel_predict, "run_batches", run_batches)
    return seen


def test_threads_give_the_same_bits_in_order(two_threads):
    model = mlp()
    x = np.random.default_rng(0).normal(size=(330, 6)).astype(np.float32)  # 10 batches + 10
    expected = np.concatenate([model(x[i:i + 32]).numpy() for i in range(0, 330, 32)])
    result = model.predict(x, verbose=0)
    assert two_threads["calls"] and two_threads["calls"][0][1] == 2
    assert "numpyflow-predict-1" in two_threads["threads"]
    assert result.shape == (330, 3)
    np.testing.assert_array_equal(result, expected)
    # A second call runs every batch compiled, in parallel from the first batch on.
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)


def test_several_outputs_keep_their_structure(two_threads):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, {"a": keras.layers.Dense(2)(inputs),
                                 "b": keras.layers.Dense(1)(inputs)})
    x = np.random.default_rng(1).normal(size=(300, 4)).astype(np.float32)
    result = model.predict(x, batch_size=16, verbose=0)
    assert two_threads["calls"]
    expected = model(x)
    np.testing.assert_allclose(result["a"], expected["a"].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result["b"], expected["b"].numpy(), rtol=1e-6, atol=1e-6)


class Counter(keras.layers.Layer):
    """Counts its calls in a Variable: its plan assigns, so batch order matters."""

    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="count")

    def call(self, x):
        self.count.assign_add(1.)
        return x * self.count


class Noise(keras.layers.Layer):
    """Adds random numbers even at inference: its plan draws them in batch order."""

    def call(self, x):
        return x + tf.random.uniform(tf.shape(x))


def test_a_plan_that_assigns_stays_on_one_thread(two_threads):
    model = keras.Sequential([keras.Input((2,)), Counter()])
    x = np.ones((320, 2), np.float32)
    result = model.predict(x, batch_size=32, verbose=0)
    assert two_threads["calls"] == []
    # Each batch saw the count after the batches before it, in order.
    np.testing.assert_array_equal(np.diff(result[::32, 0]), np.ones(9, np.float32))


def test_a_plan_that_draws_random_numbers_stays_on_one_thread(two_threads):
    model = keras.Sequential([keras.Input((2,)), Noise()])
    model.predict(np.zeros((320, 2), np.float32), batch_size=32, verbose=0)
    assert two_threads["calls"] == []


def test_batch_callbacks_see_every_step_in_order(two_threads):
    steps = []
    callback = keras.callbacks.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: steps.append(batch))
    mlp().predict(np.zeros((320, 6), np.float32), batch_size=32, verbose=0,
                  callbacks=[callback])
    assert two_threads["calls"] == []
    assert steps == list(range(10))


def test_few_or_large_batches_stay_on_one_thread(two_threads):
    model = mlp()
    model.predict(np.zeros((64, 6), np.float32), batch_size=32, verbose=0)
    model.predict(np.zeros((4096, 6), np.float32), batch_size=256, verbose=0)
    assert two_threads["calls"] == []


def test_run_eagerly_stays_on_one_thread(two_threads):
    model = mlp()
    model.compile(loss="mse", run_eagerly=True)
    model.predict(np.zeros((320, 6), np.float32), batch_size=32, verbose=0)
    assert two_threads["calls"] == []


def test_run_batches_raises_a_workers_error_after_joining():
    finished = []

    def run(batch):
        if batch == 5:
            raise ValueError("batch 5 is bad")
        finished.append(batch)
        return batch

    with pytest.raises(ValueError, match="batch 5 is bad"):
        parallel_predict.run_batches(run, list(range(8)), threads=2)
    assert sorted(finished) == [0, 1, 2, 3, 4]  # The first thread's run finished too.
    assert parallel_predict.run_batches(lambda b: b * 2, list(range(7)), 3) == \
        [0, 2, 4, 6, 8, 10, 12]


@pytest.fixture
def own_kernel_pool(monkeypatch):
    """A backend kernel pool for this test only, shut down after it: its thread must not
    outlive the test (other tests count the Python threads alive)."""
    monkeypatch.setattr(backend_threads, "_pool", None)
    yield
    if backend_threads._pool is not None:
        backend_threads._pool.shutdown(wait=True)


def test_convolutions_that_split_themselves_run_inside_the_threads(two_threads,
                                                                    own_kernel_pool):
    # Batches of 128 images 30x30x3 into 16 filters: ~49 M multiply-adds per convolution,
    # which the backend splits over its own pool; predict's threads must not wait on it.
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(16, 3),
                              keras.layers.GlobalAveragePooling2D()])
    x = np.random.default_rng(2).random((128 * 9, 32, 32, 3), dtype=np.float32)
    expected = np.concatenate([model(x[i:i + 128]).numpy() for i in range(0, len(x), 128)])
    result = model.predict(x, batch_size=128, verbose=0)
    assert two_threads["calls"]
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
