"""The training loop apart from the model: epoch iterator, array adapter, compile arguments."""

import logging

import numpy as np
import pytest

import numpyflow as tf
from numpyflow.keras.trainers.data_adapters import data_adapter_utils
from numpyflow.keras.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
from numpyflow.keras.trainers.epoch_iterator import EpochIterator

keras = tf.keras

pytestmark = pytest.mark.usefixtures("fresh_names")


def rows(batch):
    """The sample numbers in a batch whose first column counts the samples."""
    x = batch[0]
    x = x[0] if isinstance(x, list) else x["a"] if isinstance(x, dict) else x
    return [int(v) for v in x[:, 0]]


def counting(n, dim=2):
    return np.repeat(np.arange(n, dtype=np.float32)[:, None], dim, axis=1)


# -- the array adapter ---------------------------------------------------------------------

def test_adapter_cuts_batches_in_order_with_a_short_last_one():
    adapter = ArrayDataAdapter(counting(7), np.arange(7), batch_size=3)
    assert (adapter.num_batches, adapter.batch_size, adapter.partial_batch_size) == (3, 3, 1)
    batches = list(adapter.get_numpy_iterator())
    assert [rows(b) for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [list(b[1]) for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_adapter_packs_inputs_alone_for_predict():
    batch, = ArrayDataAdapter(counting(2), batch_size=4).get_numpy_iterator()
    assert isinstance(batch, tuple) and len(batch) == 1 and batch[0].shape == (2, 2)


def test_adapter_shuffles_every_array_alike_each_pass():
    x = {"a": counting(20), "b": counting(20, 3) * 10}
    y = [np.arange(20), np.arange(20) * 2]
    adapter = ArrayDataAdapter(x, y, batch_size=5, shuffle=True)
    first = list(adapter.get_numpy_iterator())
    second = list(adapter.get_numpy_iterator())
    assert [rows(b) for b in first] != [rows(b) for b in second]
    for batch in first:
        (inputs, (labels, doubled)) = batch
        np.testing.assert_array_equal(inputs["b"][:, 0], inputs["a"][:, 0] * 10)
        np.testing.assert_array_equal(labels, inputs["a"][:, 0])
        np.testing.assert_array_equal(doubled, labels * 2)
    assert sorted(r for b in first for r in rows(b)) == list(range(20))


def test_adapter_shuffle_batch_keeps_batches_whole():
    adapter = ArrayDataAdapter(counting(12), np.arange(12), batch_size=4, shuffle="batch")
    batches = sorted(rows(b) for b in adapter.get_numpy_iterator())
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_adapter_takes_nested_lists_tensors_and_tuples():
    adapter = ArrayDataAdapter([[1., 2.], [3., 4.]], tf.constant([0, 1]), batch_size=1)
    assert adapter.num_samples == 2
    adapter = ArrayDataAdapter((tf.ones((3, 2)), np.zeros((3, 1))), np.zeros(3))
    (x, y), = adapter.get_numpy_iterator()
    assert isinstance(x, tuple) and x[0].shape == (3, 2) and x[1].shape == (3, 1)


def test_steps_choose_the_batch_size_when_none_is_given():
    # As Keras 3: 10 samples in 4 steps → batches of 3.
    assert ArrayDataAdapter(counting(10), steps=4).batch_size == 3
    assert ArrayDataAdapter(counting(10)).batch_size == 32


@pytest.mark.parametrize("kwargs, error, match", [
    ({"x": np.ones((4, 2)), "y": np.ones(3)}, ValueError, "x sizes: 4\n  y sizes: 3"),
    ({"x": {"a": np.ones((4, 2)), "b": np.ones((5, 2))}}, ValueError, "x sizes: 4, 5"),
    ({"x": np.float32(3.)}, ValueError, "`x` must have a batch dimension"),
    ({"x": [np.ones((2, 2)), [object(), None]]}, ValueError, r"Invalid dtype: object for `x\[1\]`"),
    ({"x": np.ones((4, 2)), "batch_size": 0}, ValueError, "batch_size=0"),
    ({"x": np.ones((4, 2)), "batch_size": 2.5}, TypeError, "batch_size=2.5"),
    ({"x": np.ones((4, 2)), "sample_weight": np.ones(4)}, ValueError,
     "`sample_weight` weighs each sample's loss, but no `y` was given"),
    ({"x": np.ones((4, 2)), "y": np.ones(4), "sample_weight": np.ones(3)}, ValueError,
     "y sizes: 4\n  sample_weight sizes: 3"),
    ({"x": np.ones((4, 2)), "y": np.ones(4), "class_weight": {0: 1.},
      "sample_weight": np.ones(4)}, ValueError, "cannot `class_weight` and `sample_weight`"),
    ({"x": np.ones((4, 2)), "y": np.ones(4), "class_weight": [1., 2.]}, TypeError,
     "`class_weight` must be a dict"),
    ({"x": np.ones((4, 2)), "y": [np.ones(4), np.ones(4)], "class_weight": {0: 1.}},
     ValueError, "only supported for Models with a single output"),
    ({"x": iter([np.ones(2)])}, NotImplementedError, "datasets and generators"),
])
def test_adapter_rejects_bad_data(kwargs, error, match):
    with pytest.raises(error, match=match):
        EpochIterator(**kwargs)


# -- the epoch iterator --------------------------------------------------------------------

def test_epoch_iterator_enumerates_one_pass_per_epoch():
    iterator = EpochIterator(counting(5), np.arange(5), batch_size=2)
    assert iterator.num_batches == 3
    for _ in range(2):
        assert [(step, rows(b)) for step, b in iterator.enumerate_epoch()] == \
            [(0, [0, 1]), (1, [2, 3]), (2, [4])]


def test_steps_per_epoch_goes_on_where_the_last_epoch_stopped(caplog):
    # Keras 3: 5 batches in epochs of 2 steps: [0 1] [2 3] [4 + out of data] [0 1] ...
    iterator = EpochIterator(counting(10), np.arange(10), batch_size=2, steps_per_epoch=2)
    assert iterator.num_batches == 2
    epochs = [[rows(b)[0] for _, b in iterator.enumerate_epoch()] for _ in range(4)]
    assert epochs == [[0, 2], [4, 6], [8], [0, 2]]
    assert any("ran out of data" in r.getMessage() for r in caplog.records)


def test_reset_starts_a_new_pass():
    iterator = EpochIterator(counting(6), batch_size=2, steps_per_epoch=1)
    assert [rows(b) for _, b in iterator.enumerate_epoch()] == [[0, 1]]
    iterator.reset()
    assert [rows(b) for _, b in iterator.enumerate_epoch()] == [[0, 1]]


@pytest.mark.parametrize("steps, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                          (True, TypeError)])
def test_steps_must_be_positive_integers(steps, error):
    with pytest.raises(error, match="steps"):
        EpochIterator(counting(4), steps_per_epoch=steps)


# -- the trainer ---------------------------------------------------------------------------

def small_model():
    return keras.Sequential([keras.layers.Dense(3, activation="softmax")])


def blobs(n=64, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(3, 4))
    labels = rng.integers(0, 3, size=n)
    return (centers[labels] + rng.normal(size=(n, 4))).astype(np.float32), labels


def test_fit_with_steps_per_epoch_runs_that_many_steps():
    x, y = blobs(n=64)
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    steps = []

    class CountSteps(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            steps.append(0)

        def on_train_batch_end(self, batch, logs=None):
            steps[-1] += 1

    model.fit(x, y, batch_size=8, steps_per_epoch=3, epochs=3, verbose=0,
              callbacks=[CountSteps()])
    assert steps == [3, 3, 2]  # 8 batches: the third epoch ran out of data.


def test_evaluate_and_predict_take_steps():
    x, y = blobs(n=64)
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    assert model.predict(x, batch_size=10, steps=2, verbose=0).shape == (20, 3)
    partial = model.evaluate(x, y, batch_size=16, steps=1, verbose=0, return_dict=True)
    first = model.evaluate(x[:16], y[:16], verbose=0, return_dict=True)
    assert partial == pytest.approx(first)


def test_validation_steps_limit_each_validation():
    x, y = blobs(n=64)
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    seen = []

    class CountValidation(keras.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            seen.append(batch)

    model.fit(x, y, validation_data=(x, y), validation_steps=2, validation_batch_size=8,
              epochs=2, verbose=0, callbacks=[CountValidation()])
    assert seen == [0, 1, 0, 1]  # Each validation starts over.


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = blobs(n=40)
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    expected = model.evaluate(x[30:], y[30:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5])
def test_validation_split_must_be_a_fraction(split):
    model = small_model()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(np.ones((8, 4)), np.ones((8, 3)), validation_split=split, verbose=0)


def test_loss_weights_scale_a_single_output_loss():
    x, y = blobs(n=16)
    plain, weighted = small_model(), small_model()
    plain.compile("sgd", "sparse_categorical_crossentropy")
    weighted.compile("sgd", "sparse_categorical_crossentropy", loss_weights=3.0)
    plain.build(x.shape)
    weighted.build(x.shape)
    weighted.set_weights(plain.get_weights())
    assert weighted.test_on_batch(x, y) == pytest.approx(3 * plain.test_on_batch(x, y))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"weighted_metrics": 3}, ValueError, "Expected `weighted_metrics` argument"),
    ({"steps_per_execution": 4}, NotImplementedError, "steps_per_execution=4"),
    ({"loss": None, "loss_weights": [1.0]}, ValueError, "no `loss`"),
    ({"metrics": 3}, ValueError, "Expected `metrics` argument"),
    ({"metrics": [["mae"], 3]}, ValueError, "received 3"),
    ({"sample_weight_mode": "temporal"}, TypeError, "sample_weight_mode"),
])
def test_compile_rejects_what_it_cannot_honour(kwargs, error, match):
    arguments = {"optimizer": "sgd", "loss": "mse", **kwargs}
    with pytest.raises(error, match=match):
        small_model().compile(**arguments)


def test_jit_compile_true_warns_and_runs_without(caplog):
    model = small_model()
    logger = logging.getLogger("numpyflow")
    logger.addHandler(caplog.handler)
    try:
        model.compile("sgd", "mse", jit_compile=True)
    finally:
        logger.removeHandler(caplog.handler)
    assert any("jit_compile" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("method, arguments", [
    ("fit", {"max_queue_size": 4}),
    ("evaluate", {"workers": 2}),
    ("predict", {"use_multiprocessing": True}),
])
def test_unknown_keyword_arguments_are_rejected(method, arguments):
    model = small_model()
    model.compile("sgd", "mse")
    data = {"x": np.ones((4, 4))} if method == "predict" else \
        {"x": np.ones((4, 4)), "y": np.ones((4, 3))}
    with pytest.raises(TypeError, match=list(arguments)[0]):
        getattr(model, method)(**data, verbose=0, **arguments)


def test_empty_data_is_rejected():
    model = small_model()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"evaluate\(\) received empty data"):
        model.evaluate(np.ones((0, 4)), np.ones((0, 3)), verbose=0)
    with pytest.raises(ValueError, match=r"fit\(\) received empty training data"):
        model.fit(np.ones((0, 4)), np.ones((0, 3)), verbose=0)


def test_model_is_a_trainer_layer():
    from numpyflow.keras.layers.base_layer import Layer
    from numpyflow.keras.trainers.trainer import Trainer
    assert keras.Model.__mro__[1:3] == (Trainer, Layer)


def test_logs_are_keyed_like_the_metrics():
    x, y = blobs(n=16)
    model = small_model()
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy", "accuracy"])
    logs = model.train_on_batch(x, y, return_dict=True)
    assert list(logs) == ["loss", "accuracy", "accuracy_1"]
    assert data_adapter_utils.is_nested([np.ones(2)]) and \
        not data_adapter_utils.is_nested([[1., 2.]])
