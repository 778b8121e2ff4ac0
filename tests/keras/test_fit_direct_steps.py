"""fit/evaluate call their compiled steps directly under the default strategy (no
`strategy.run` around each step): the same weights, History and logs as through it."""

import numpy as np

import numpyflow as tf
from numpyflow.keras.trainers.trainer import Trainer


def _trained(monkeypatch, direct):
    monkeypatch.setattr(Trainer, "_needs_no_replica_context", lambda self: direct)
    tf.random.set_seed(3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((70, 6)).astype(np.float32)
    y = rng.integers(0, 3, 70)
    model = tf.keras.Sequential([tf.keras.Input((6,)), tf.keras.layers.Dense(5, activation="relu"),
                                 tf.keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    seen = []
    record = tf.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2,
                        callbacks=[record])
    quiet_history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # No batch hooks.
    evaluated = model.evaluate(x, y, batch_size=16, verbose=0)
    return model, history.history, quiet_history.history, seen, evaluated


def test_direct_steps_train_as_strategy_run_does(monkeypatch):
    model, history, quiet, seen, evaluated = _trained(monkeypatch, direct=True)
    assert model.train_function.plan_sources()  # The direct calls ran the compiled plan.
    reference = _trained(monkeypatch, direct=False)
    for weight, expected in zip(model.get_weights(), reference[0].get_weights()):
        np.testing.assert_array_equal(weight, expected)
    assert (history, quiet, evaluated) == reference[1:3] + (reference[4],)
    assert [{k: float(v) for k, v in logs.items()} for logs in seen] == \
        [{k: float(v) for k, v in logs.items()} for logs in reference[3]]


def test_steps_go_through_the_strategy_when_one_is_current():
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert not model._needs_no_replica_context()
    plain = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    assert plain._needs_no_replica_context()
    with strategy.scope():
        assert not plain._needs_no_replica_context()
